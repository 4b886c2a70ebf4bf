import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { FaceAuth, FrameObservation, Guidance } from '../core/engine.js';
import { FaceLoginError, isFaceLoginError } from '../core/errors.js';
import type { BackendChoice, CreateFaceAuthOptions, FaceAuthReady } from '../face-auth.js';

export type ControllerState = 'idle' | 'loading' | 'ready' | 'error' | 'disposed';

export interface FaceAuthControllerOptions {
  /** Builds the engine (createFaceAuth by default); called on every connect. */
  create: (options: CreateFaceAuthOptions) => Promise<FaceAuthReady>;
  /** Options read at connect time (attributes may have changed). */
  options: () => CreateFaceAuthOptions;
  /**
   * The host values the options are built from: when one of them differs, after an update, from
   * what the running (or loading) engine was built with, the engine is reloaded, once per update.
   */
  reloadOn: () => readonly unknown[];
  /**
   * Whether the camera opens as soon as the engine is loaded (the element's `autostart`: the
   * page's statement that it has the person's consent). Otherwise it opens only through
   * startCamera(), on an action (the person's click, or the page's start()).
   */
  cameraOnLoad: () => boolean;
  onReady: (ready: FaceAuthReady, connectedAt: number) => void;
  onError: (error: FaceLoginError) => void;
  onFrame: (obs: FrameObservation) => void;
  onGuidance: (g: Guidance) => void;
}

/**
 * Bridges the headless engine to the element's lifecycle: creates it on connect, starts the
 * camera when asked to (an action, or at once with `cameraOnLoad`), forwards frames, reloads it when an option it was built from changes, and on
 * disconnect aborts a pending load, stops every camera track and frees the models. A reconnect
 * starts afresh.
 */
export class FaceAuthController implements ReactiveController {
  state: ControllerState = 'idle';
  auth: FaceAuth | null = null;
  backend: BackendChoice | null = null;
  private abort: AbortController | null = null;
  private generation = 0;
  /** reloadOn() when the current engine's options were read; null while none were. */
  private builtFrom: readonly unknown[] | null = null;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly opts: FaceAuthControllerOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.load();
  }

  hostDisconnected(): void {
    this.teardown();
    this.state = 'disposed';
  }

  hostUpdated(): void {
    const built = this.builtFrom;
    if (!built || this.state === 'disposed') return;
    const now = this.opts.reloadOn();
    if (now.length !== built.length || now.some((v, i) => !Object.is(v, built[i]))) void this.reload();
  }

  /**
   * Reloads the engine (e.g. after the backend attribute changed or a failed load). A camera
   * that was open stays open: the new engine opens it again (the person already started it).
   */
  async reload(): Promise<void> {
    const cameraWasOpen = !!this.auth?.camera.running;
    this.teardown();
    await this.load(cameraWasOpen);
  }

  /**
   * Opens the loaded engine's camera (idempotent: a running camera is left as it is). A failure
   * other than the caller's own abort puts the controller in 'error' and is reported (onError)
   * before the promise rejects with it. The signal, or a reload / disconnect, aborts the opening.
   */
  async startCamera(signal?: AbortSignal): Promise<void> {
    const auth = this.auth;
    if (!auth) throw new FaceLoginError('camera-not-started', 'The engine is not loaded yet.');
    const signals = [this.abort?.signal, signal].filter((s): s is AbortSignal => !!s);
    try {
      await auth.startCamera(signals.length > 1 ? AbortSignal.any(signals) : signals[0]);
    } catch (e) {
      if (this.auth === auth && !signal?.aborted && !this.abort?.signal.aborted) this.fail(e);
      throw e;
    }
  }

  /** After an error: restarts only the camera when the models are loaded, else reloads everything. */
  async retry(): Promise<void> {
    const auth = this.auth;
    if (!auth || this.state === 'loading') return this.reload();
    try {
      await auth.startCamera(this.abort?.signal);
      this.state = 'ready';
      this.host.requestUpdate();
    } catch (e) {
      this.fail(e);
    }
  }

  private teardown(): void {
    this.generation++;
    this.abort?.abort();
    this.abort = null;
    this.auth?.dispose();
    this.auth = null;
    this.backend = null;
    this.builtFrom = null;
  }

  private async load(reopenCamera = false): Promise<void> {
    const gen = ++this.generation;
    const abort = new AbortController();
    this.abort = abort;
    const connectedAt = performance.now();
    this.state = 'loading';
    this.host.requestUpdate();
    let ready: FaceAuthReady;
    try {
      await this.host.updateComplete;
      if (gen !== this.generation) return;
      this.builtFrom = this.opts.reloadOn();
      ready = await this.opts.create({ ...this.opts.options(), signal: abort.signal });
    } catch (e) {
      if (gen !== this.generation) return;
      this.fail(e);
      return;
    }
    if (gen !== this.generation) {
      ready.auth.dispose();
      return;
    }
    this.auth = ready.auth;
    this.backend = ready.backend;
    ready.auth.addEventListener('frame', (ev) => this.opts.onFrame(ev.detail));
    ready.auth.addEventListener('guidance', (ev) => this.opts.onGuidance(ev.detail));
    ready.auth.addEventListener('cameraended', (ev) => {
      this.state = 'error';
      this.host.requestUpdate();
      this.opts.onError(ev.detail.error);
    });
    // No camera without an action or the page's autostart: the models load, the camera waits.
    if (reopenCamera || this.opts.cameraOnLoad()) {
      try {
        await ready.auth.startCamera(abort.signal);
      } catch (e) {
        if (gen !== this.generation) return;
        this.fail(e);
        return;
      }
    }
    if (gen !== this.generation) return;
    this.state = 'ready';
    this.host.requestUpdate();
    this.opts.onReady(ready, connectedAt);
  }

  private fail(e: unknown): void {
    this.state = 'error';
    this.host.requestUpdate();
    this.opts.onError(
      isFaceLoginError(e) ? e : new FaceLoginError('model-load-failed', `Face login could not start: ${(e as Error)?.message ?? e}`, { cause: e }),
    );
  }
}
