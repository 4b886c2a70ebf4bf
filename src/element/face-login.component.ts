import { LitElement, html, type PropertyValues } from 'lit';
import type { FrameObservation } from '../core/engine.js';
import { FaceLoginError, isFaceLoginError } from '../core/errors.js';
import { DEFAULT_THRESHOLD } from '../core/calibration.js';
import { createFaceAuth, type CreateFaceAuthOptions, type FaceAuthReady } from '../face-auth.js';
import type { BackendPreference } from '../adapters/embedder/tf-backend.js';
import { FaceAuthController } from './face-auth-controller.js';
import { parseBackend } from './backend-attribute.js';
import { emit, type FaceLoginMode } from './events.js';
import { messagesFor, type FaceLoginStatus } from './i18n.js';
import { styles } from './face-login.styles.js';

const OK_STATUSES: ReadonlySet<FaceLoginStatus> = new Set(['enrolled', 'verified', 'identified']);
const BAD_STATUSES: ReadonlySet<FaceLoginStatus> = new Set(['rejected', 'unknown', 'no-face', 'multiple-faces']);

/**
 * A face login box: live camera preview with the face outlined, a spoken status line, and one
 * action (enroll, verify or identify). Runs fully on the device: MediaPipe face detection,
 * ArcFace alignment, MobileFaceNet embeddings on TF.js, templates in IndexedDB.
 *
 * @summary Face enrolment, 1:1 verification and 1:N identification in one tag.
 *
 * @event face-login-ready - Models loaded and camera running. detail: { backend, backendReason, loadMs, modelId, threshold }
 * @event face-login-enrolled - Templates were saved. detail: { userId, templates, modelId }
 * @event face-login-verified - The claimed user was accepted. detail: { userId, score?, threshold? }
 * @event face-login-identified - Someone enrolled was recognised. detail: { userId, score?, threshold? }
 * @event face-login-rejected - Verify failed, or identify found nobody (userId null). detail: { mode, userId, score?, threshold? }
 * @event face-login-error - Something went wrong. detail: { code, message } (code is stable, see FaceLoginErrorCode)
 * @event face-login-status - The status line changed. detail: { status, message }
 *
 * @csspart preview - The box holding the video and the overlay.
 * @csspart video - The camera video.
 * @csspart overlay - The canvas the face box is drawn on.
 * @csspart status - The aria-live status line.
 * @csspart action - The action button.
 *
 * @cssproperty --face-login-width - Width of the element (default 320px).
 * @cssproperty --face-login-radius - Corner radius of the preview.
 * @cssproperty --face-login-accent - Button and focus colour.
 * @cssproperty --face-login-ok - Colour of a success message and an accepted face box.
 * @cssproperty --face-login-bad - Colour of a failure message.
 * @cssproperty --face-login-fg - Text colour.
 * @cssproperty --face-login-bg - Status line background.
 * @cssproperty --face-login-font - Font family.
 */
export class FaceLoginElement extends LitElement {
  static override styles = styles;

  static override properties = {
    mode: { type: String, reflect: true },
    userId: { type: String, attribute: 'user-id' },
    threshold: { type: Number },
    backend: { type: String },
    compute: { type: String },
    offline: { type: String },
    autostart: { type: Boolean },
    modelsUrl: { type: String, attribute: 'models-url' },
    wasmUrl: { type: String, attribute: 'wasm-url' },
    dbName: { type: String, attribute: 'db-name' },
    lang: { type: String },
    status: { state: true },
    busy: { state: true },
  };

  /** enroll | verify | identify */
  mode: FaceLoginMode = 'verify';
  /** The user to enroll or verify (not used by identify). */
  userId = '';
  /** Cosine threshold; defaults to the calibrated DEFAULT_THRESHOLD. */
  threshold: number = DEFAULT_THRESHOLD;
  /**
   * Either a verification server URL (https://… or a same-origin path like /api): the server
   * decides; or a TF.js backend name (auto | webgl | wasm | cpu) for the on-device model.
   * Read when the element connects.
   */
  backend = '';
  /** TF.js backend for the model: auto (WebGL on a real GPU, else WASM) | webgl | wasm | cpu. */
  compute: BackendPreference | '' = '';
  /** With a server backend: "allow" lets the device decide when the server is unreachable. */
  offline: 'allow' | 'deny' = 'deny';
  /** Run the action as soon as the camera is ready instead of waiting for the button. */
  autostart = false;
  modelsUrl = '/models/';
  wasmUrl = '/wasm/';
  dbName = 'face-login';
  override lang = '';

  protected status: FaceLoginStatus = 'loading';
  protected busy = false;
  private statusMessage = '';
  private action: AbortController | null = null;
  private lastFaceStatus: FrameObservation['status'] | null = null;

  /** Factory used to build the engine; replaceable before connect (tests, custom adapters). */
  createEngine: (options: CreateFaceAuthOptions) => Promise<FaceAuthReady> = createFaceAuth;

  private readonly controller = new FaceAuthController(this, {
    create: (o) => this.createEngine(o),
    options: () => ({
      modelsUrl: this.modelsUrl,
      wasmUrl: this.wasmUrl,
      ...parseBackend(this.backend, this.compute, this.offline),
      threshold: this.threshold,
      dbName: this.dbName,
      video: this.renderRoot.querySelector('video') ?? undefined,
    }),
    onReady: (ready, connectedAt) => this.onReady(ready, connectedAt),
    onError: (e) => this.onError(e),
    onFrame: (obs) => this.onFrame(obs),
  });

  /** The headless engine, once ready (null before and after). */
  get engine() {
    return this.controller.auth;
  }

  get messages() {
    return messagesFor(this.lang || this.closest('[lang]')?.getAttribute('lang') || globalThis.navigator?.language);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('threshold') && this.controller.auth) {
      try {
        this.controller.auth.threshold = this.threshold;
      } catch (e) {
        this.onError(e);
      }
    }
  }

  override disconnectedCallback(): void {
    this.action?.abort();
    this.action = null;
    super.disconnectedCallback();
  }

  private setStatus(status: FaceLoginStatus, message?: string): void {
    const text = message ?? this.messages[status];
    if (status === this.status && text === this.statusMessage) return;
    this.status = status;
    this.statusMessage = text;
    emit(this, 'face-login-status', { status, message: text });
  }

  private onReady(ready: FaceAuthReady, connectedAt: number): void {
    this.setStatus('ready');
    emit(this, 'face-login-ready', {
      backend: ready.backend.backend,
      backendReason: ready.backend.reason,
      loadMs: performance.now() - connectedAt,
      modelId: ready.auth.modelId,
      threshold: ready.auth.threshold,
    });
    if (this.autostart) void this.start();
  }

  private onError(e: unknown): void {
    const err = isFaceLoginError(e) ? e : new FaceLoginError('invalid-input', String((e as Error)?.message ?? e));
    this.setStatus(err.code);
    emit(this, 'face-login-error', { code: err.code, message: err.message });
  }

  private onFrame(obs: FrameObservation): void {
    this.drawOverlay(obs);
    // Guidance only while an action waits for a face; otherwise keep the last outcome visible.
    if (!this.busy || obs.status === this.lastFaceStatus) return;
    this.lastFaceStatus = obs.status;
    this.setStatus(obs.status === 'ok' ? 'hold-still' : obs.status);
  }

  private drawOverlay(obs: FrameObservation): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    if (canvas.width !== obs.width || canvas.height !== obs.height) {
      canvas.width = obs.width;
      canvas.height = obs.height;
    }
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const style = getComputedStyle(this);
    ctx.lineWidth = Math.max(2, obs.width / 160);
    for (const f of obs.faces) {
      ctx.strokeStyle = obs.status === 'ok'
        ? style.getPropertyValue('--face-login-ok').trim() || '#16a34a'
        : style.getPropertyValue('--face-login-bad').trim() || '#dc2626';
      ctx.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    }
  }

  /** Runs the current mode's action once. Resolves when it has an outcome (events carry it). */
  async start(): Promise<void> {
    const auth = this.controller.auth;
    if (!auth || this.busy) return;
    if (this.controller.state === 'error') {
      await this.controller.retry();
      if ((this.controller.state as string) !== 'ready') return;
    }
    this.action?.abort();
    const action = new AbortController();
    this.action = action;
    this.busy = true;
    this.lastFaceStatus = null;
    this.setStatus('hold-still');
    const signal = action.signal;
    try {
      if (this.mode === 'enroll') {
        const r = await auth.enroll(this.userId, { signal });
        this.setStatus('enrolled');
        emit(this, 'face-login-enrolled', { ...r });
      } else if (this.mode === 'verify') {
        const r = await auth.verify(this.userId, { signal });
        if (r.accepted) {
          this.setStatus('verified');
          emit(this, 'face-login-verified', { userId: r.userId, score: r.score, threshold: r.threshold, assertion: r.assertion, decidedBy: r.decidedBy ?? 'device' });
        } else {
          this.setStatus('rejected');
          emit(this, 'face-login-rejected', { mode: 'verify', userId: r.userId, score: r.score, threshold: r.threshold, decidedBy: r.decidedBy ?? 'device' });
        }
      } else {
        const r = await auth.identify({ signal });
        if (r.userId !== null) {
          this.setStatus('identified', `${this.messages.identified} ${r.userId}`);
          emit(this, 'face-login-identified', { userId: r.userId, score: r.score, threshold: r.threshold, assertion: r.assertion, decidedBy: r.decidedBy ?? 'device' });
        } else {
          this.setStatus('unknown');
          emit(this, 'face-login-rejected', { mode: 'identify', userId: null, score: r.score, threshold: r.threshold, decidedBy: r.decidedBy ?? 'device' });
        }
      }
    } catch (e) {
      if (!signal.aborted) this.onError(e);
    } finally {
      if (this.action === action) this.action = null;
      this.busy = false;
    }
  }

  /** Cancels a running action. */
  cancel(): void {
    this.action?.abort();
  }

  protected override render() {
    const m = this.messages;
    const state = this.controller.state;
    const label = this.mode === 'enroll' ? m.actionEnroll : this.mode === 'identify' ? m.actionIdentify : m.actionVerify;
    const text = this.statusMessage || m[this.status];
    const tone = OK_STATUSES.has(this.status) ? 'ok' : BAD_STATUSES.has(this.status) || state === 'error' ? 'bad' : 'info';
    return html`
      <div class="frame" part="preview" role="img" aria-label=${m.previewLabel}>
        <video part="video" muted playsinline autoplay></video>
        <canvas part="overlay" aria-hidden="true"></canvas>
      </div>
      <p class="status" part="status" role="status" aria-live="polite" data-status=${this.status} data-tone=${tone}>${text}</p>
      <button part="action" type="button" ?disabled=${this.busy || state === 'loading' || state === 'disposed'} @click=${() => void this.start()}>
        ${state === 'error' ? m.actionRetry : label}
      </button>
    `;
  }
}
