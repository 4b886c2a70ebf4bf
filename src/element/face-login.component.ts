import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { DEFAULT_CAPTURE_TIMEOUT_MS } from '../core/capture.js';
import { assertActionMode, runAction, type ActionMode, type ActionOutcome } from '../core/actions.js';
import type { FrameObservation, Guidance, Hint, LivenessMode } from '../core/engine.js';
import { FaceLoginError, isFaceLoginError } from '../core/errors.js';
import { DEFAULT_THRESHOLD } from '../core/calibration.js';
import type { PoseName } from '../core/pose.js';
import type { CameraInfo } from '../core/types.js';
import type { FaceAuth } from '../core/engine.js';
import type { SessionAction } from '../core/session.js';
import { ServerRefusal } from '../adapters/verifier/http-call.js';
import { runSession, sessionSpent, type SessionInfo } from '../adapters/verifier/session-client.js';
import { CAPTURE_REFUSALS, type CaptureRefusal } from '../protocol/routes/sessions.js';
import { createFaceAuth, type BackupEvent, type CreateFaceAuthOptions, type DetectorChoice, type FaceAuthReady, type LoadProgress } from '../face-auth.js';
import { FaceAuthController } from './face-auth-controller.js';
import { parseBackendAttributes } from './backend-attribute.js';
import { announcementFor, emit, type FaceLoginMode } from './events.js';
import { checkAttributes, type CheckedAttributes } from './attribute-check.js';
import { messagesFor, type FaceLoginStatus, type Messages } from './i18n.js';
import { styles } from './face-login.styles.js';
import { POSES as POSE_NAMES } from '../protocol/constants.js';

const OK_STATUSES: ReadonlySet<FaceLoginStatus> = new Set(['enrolled', 'verified', 'identified']);
const BAD_STATUSES: ReadonlySet<FaceLoginStatus> = new Set(['rejected', 'unknown', 'no-face', 'multiple-faces']);
const ARROWS: Partial<Record<Hint, string>> = { 'turn-left': '←', 'turn-right': '→', 'look-up': '↑', 'look-down': '↓' };
const POSES: ReadonlySet<string> = new Set(POSE_NAMES);
/** How long enrol / verify / identify wait for a face (the engine's default, which the element does not override): shown on the status line. */
const CAPTURE_TIMEOUT_S = DEFAULT_CAPTURE_TIMEOUT_MS / 1000;
/** The abort reason of a cancel the person (or the page) asked for, told apart from a reload or a disconnect. */
const CANCELLED = Symbol('cancelled');
const isCaptureRefusal = (code: string): code is CaptureRefusal => (CAPTURE_REFUSALS as readonly string[]).includes(code);

/**
 * A face login box: live camera preview with the face outlined and a hint drawn over it, a
 * spoken status line, and one action (enroll, verify, identify, or continuous identify for an
 * attendance kiosk). Runs on the device (MediaPipe detection, ArcFace alignment, MobileFaceNet on
 * TF.js, templates in IndexedDB) or lets a face-login server decide (`server="https://…"`).
 *
 * Changing `server`, `backend`, `offline`, `asset-base`, `models-url`, `wasm-url`, `db-name` or `camera` after
 * the element is connected reloads the engine (once for changes made together: a new
 * face-login-ready follows); `threshold` and `liveness` apply to the running engine; `mode`,
 * `user-id`, `guided`, `continuous` and `cooldown` apply from the next action.
 *
 * Sessions (the server decides from the pictures, the main mode with a server): the site's
 * backend opens a session for one action and puts its id in `session`; the element reads what the
 * server asks (the five poses, or the head turns in the server's order), guides the person through
 * it, uploads the frames and fires face-login-submitted. It never learns or shows the decision:
 * the site's backend reads it. `mode`, `user-id`, `guided` and `continuous` are ignored then.
 *
 * @summary Face enrolment, 1:1 verification and 1:N identification in one tag.
 *
 * @attr mode - enroll | verify | identify (anything else: face-login-error with code invalid-input, naming the allowed values, when it is set and again when the action runs). Ignored with `session` (the session's action counts; a console warning when they differ).
 * @attr session - A session id from the site's backend (POST /v1/sessions on the `server`, which needs `server` set): run that session (its action and challenge are the server's), upload the frames, fire face-login-submitted. Changing it starts over with the new session; removing it returns to `mode`.
 * @attr user-id - The user to enroll or verify.
 * @attr threshold - Cosine similarity needed to accept (default: the calibrated DEFAULT_THRESHOLD).
 * @attr server - URL of a face-login verification server: the server decides (default: none, the device decides).
 * @attr backend - The TF.js backend: auto (default) | webgl | wasm | cpu. Deprecated, for one release: a server URL here is taken as `server` (with a console warning).
 * @attr detector - mediapipe (default: MediaPipe's tasks-vision, 3.9 MB gzip of wasm) | tfjs (the same BlazeFace model on TF.js: a lighter first visit, the detector the server runs) | tfjs-full (BlazeFace full range on TF.js: smaller, more distant faces, for kiosks; about 3x the detection time). Anything else: face-login-error invalid-input (the engine does not load).
 * @attr compute - Deprecated alias of `backend` (with a console warning); goes in the next release.
 * @attr offline - allow | deny (default): with a server, may the device decide while it is unreachable? Anything else: face-login-error invalid-input (the engine does not load). With allow, the device trusts only templates it sealed itself (see IdbTemplateStore).
 * @attr guided - Enroll from five guided poses (centre, left, right, up, down) instead of three frontal frames.
 * @attr liveness - off (default) | active (turn left/right in a random order) | passive | both. passive and both need your own PassiveLiveness model, given through createEngine (none ships: see the README); without one the element reports face-login-error with code invalid-input.
 * @attr continuous - With mode="identify": kiosk mode, identify everyone who steps in front, one event per person per cooldown.
 * @attr cooldown - Kiosk: seconds before the same person is announced again (default 10).
 * @attr autostart - Open the camera as soon as the models are loaded and run the action (the kiosk loop, the session) at once. Setting it is the page's statement that the person has agreed to the camera; without it the camera opens only when the person presses the button or the page calls start().
 * @attr camera - deviceId of the camera to use (else the last one picked in the camera picker on this site, else the default).
 * @attr asset-base - Where the package's assets/ folder is served (e.g. /face-login/): models from `<asset-base>models/`, wasm from `<asset-base>wasm/`. Default: setBasePath()'s, else the page's `<meta name="face-login-asset-base">` (face-login/vite writes it), else /models/ and /wasm/. `models-url` / `wasm-url` win when set.
 * @attr models-url - Where the models (assets/models) are served (default `<asset-base>models/`, else /models/).
 * @attr wasm-url - Where the wasm (assets/wasm) is served (default `<asset-base>wasm/`, else /wasm/).
 * @attr db-name - IndexedDB database name (default face-login).
 * @attr lang - Message language: en, zh-CN (default: the page's language). Another language tag (e.g. fr) shows English; a value that is no language tag (e.g. __proto__) shows English and fires face-login-error invalid-input.
 * @attr expose-scores - Put the device's similarity score and threshold into face-login-verified / -identified / -rejected (default off). For calibration UIs only: a score tells whoever reads the events how close a face came. Server decisions never carry one.
 *
 * @event face-login-ready - Models loaded (and, with autostart, the camera running; otherwise it opens with the first action). detail: { backend, backendReason, loadMs, modelId, threshold }
 * @event face-login-progress - Model bytes arriving. detail: { loaded, total }
 * @event face-login-enrolled - Templates were saved. detail: { userId, templates, modelId }
 * @event face-login-verified - The claimed user was accepted. detail: { userId, score?, threshold?, assertion?, decidedBy } (score and threshold only with expose-scores, on the device)
 * @event face-login-identified - Someone enrolled was recognised. detail: { userId, score?, threshold?, assertion?, decidedBy } (score and threshold only with expose-scores, on the device)
 * @event face-login-rejected - Verify failed, or identify found nobody (userId null = unknown). detail: { mode, userId, score?, threshold?, decidedBy } (score and threshold only with expose-scores, on the device)
 * @event face-login-error - Something went wrong. detail: { code, message, sessionId?, retryable?, serverCode? } (code is stable, see FaceLoginErrorCode; message is for developers, also sent to console.warn; the status line shows a sentence for the person instead). With a session: retryable false = the session is used up or expired (the server refused the capture, or invalid-session): open a new one; true = the same session may be tried again.
 * @event face-login-submitted - With a session: the frames reached the server, which has decided (the page is not told what: the site's backend reads the result). detail: { sessionId, action }
 * @event face-login-cancelled - A running action was cancelled (the Cancel button, Escape, or cancel()); no face-login-error follows and the camera keeps running. detail: { mode, sessionId? } (a cancelled session sent nothing and stays open)
 * @event face-login-status - The status line changed. detail: { status, message }
 * @event face-login-synced - With offline="allow": an enrolment made offline reached the server (enrolled there, or backed up when the server already had the user) or was refused by it. detail: { userId, modelId, outcome, code?, message? }
 *
 * @csspart preview - The box holding the video, the overlay and the hint.
 * @csspart video - The camera video (mirrored).
 * @csspart overlay - The canvas the face box is drawn on.
 * @csspart hint - The hint drawn over the preview (arrow and text).
 * @csspart progress - The model download progress bar.
 * @csspart status - The aria-live status line.
 * @csspart action - The action button (it reads Cancel while an action runs; Escape on the element cancels too).
 * @csspart camera-select - The camera picker (shown when there are several cameras).
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
    // Own accessor (below): the element must know whether the page set a mode (see session).
    mode: { type: String, reflect: true, noAccessor: true },
    userId: { type: String, attribute: 'user-id' },
    threshold: { type: Number },
    server: { type: String },
    session: { type: String },
    backend: { type: String },
    compute: { type: String },
    detector: { type: String },
    offline: { type: String },
    guided: { type: Boolean },
    liveness: { type: String },
    continuous: { type: Boolean },
    cooldown: { type: Number },
    autostart: { type: Boolean },
    camera: { type: String },
    assetBase: { type: String, attribute: 'asset-base' },
    modelsUrl: { type: String, attribute: 'models-url' },
    wasmUrl: { type: String, attribute: 'wasm-url' },
    dbName: { type: String, attribute: 'db-name' },
    lang: { type: String },
    exposeScores: { type: Boolean, attribute: 'expose-scores' },
    status: { state: true },
    busy: { state: true },
    hint: { state: true },
    progress: { state: true },
    cameras: { state: true },
    sessionInfo: { state: true },
    spentSession: { state: true },
  };

  private _mode: FaceLoginMode = 'verify';
  /** Whether the page set `mode` (attribute or property): only then does a session that differs warn. */
  private modeGiven = false;

  /**
   * enroll | verify | identify (default verify; anything else: face-login-error with code
   * invalid-input when the action runs). Ignored while `session` is set: the session's action
   * counts (a console warning, once, when the page set a different mode).
   */
  get mode(): FaceLoginMode {
    return this._mode;
  }

  set mode(value: FaceLoginMode) {
    const old = this._mode;
    this._mode = value;
    this.modeGiven = true;
    this.requestUpdate('mode', old);
  }
  userId = '';
  threshold: number = DEFAULT_THRESHOLD;
  server = '';
  /**
   * A session id the site's backend got from POST /v1/sessions on `server` ('' = none: `mode`
   * runs on the device or through the server's device routes). With one, the action and challenge
   * are the session's; the element uploads the frames and fires face-login-submitted, never a
   * decision. Setting another id starts over with it (a running capture is dropped, not cancelled).
   */
  session = '';
  /** auto | webgl | wasm | cpu ('' = auto). */
  backend = '';
  /** @deprecated Use `backend`. */
  compute = '';
  offline: 'allow' | 'deny' = 'deny';
  guided = false;
  liveness: LivenessMode = 'off';
  continuous = false;
  cooldown = 10;
  autostart = false;
  camera = '';
  /** Where the package's assets/ are served ('' = setBasePath()'s, else /models/ and /wasm/). */
  assetBase = '';
  /** Where the models are served ('' = `<assetBase>models/`). */
  modelsUrl = '';
  /** Where the wasm is served ('' = `<assetBase>wasm/`). */
  wasmUrl = '';
  dbName = 'face-login';
  /** The face detector: 'mediapipe' ('' = default), 'tfjs' or 'tfjs-full'. */
  detector: DetectorChoice | '' = '';
  override lang = '';
  /**
   * Put the device's similarity `score` and `threshold` into face-login-verified / -identified /
   * -rejected (default off: they tell whoever reads the events how close a face came). For
   * calibration UIs; a server's decisions never carry them either way.
   */
  exposeScores = false;

  protected status: FaceLoginStatus = 'loading';
  protected busy = false;
  protected hint: Guidance | null = null;
  protected progress: { loaded: number; total: number } | null = null;
  protected cameras: CameraInfo[] = [];
  /** The running action's time limit in seconds (0: none shown, e.g. the kiosk). */
  private waitLimitS = 0;
  private statusMessage = '';
  private action: AbortController | null = null;
  /** Settles when the running action (if any) has finished, errors and events included. */
  private actionDone: Promise<void> = Promise.resolve();
  /** The running (or last) session as the server described it. */
  protected sessionInfo: SessionInfo | null = null;
  /** A session id the server has used up (submitted, refused, or invalid): the button stays off until `session` changes. */
  protected spentSession: string | null = null;
  private sessionGeneration = 0;
  /** The session the running action is for ('' for a `mode` action), or null when none runs. */
  private runningSession: string | null = null;
  private warnedMode = false;
  private readonly loaded = new Map<string, LoadProgress>();

  constructor() {
    super();
    // Reflect the default mode too (the accessor is the element's own: see `mode`).
    this.requestUpdate('mode', undefined);
    // Escape cancels a running action (keydown from inside the shadow root reaches the host: composed).
    this.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || !this.busy) return;
      e.preventDefault();
      this.cancel();
    });
  }

  /** Factory used to build the engine; replaceable before connect (tests, custom adapters). */
  createEngine: (options: CreateFaceAuthOptions) => Promise<FaceAuthReady> = createFaceAuth;

  private readonly controller = new FaceAuthController(this, {
    create: (o) => this.createEngine(o),
    options: () => {
      this.loaded.clear();
      this.progress = null;
      return {
        modelsUrl: this.modelsUrl || undefined,
        wasmUrl: this.wasmUrl || undefined,
        assetBase: this.assetBase || undefined,
        ...this.backendOptions(),
        ...(this.detector ? { detector: this.detector } : {}),
        threshold: this.threshold,
        dbName: this.dbName,
        video: this.renderRoot.querySelector('video') ?? undefined,
        deviceId: this.camera || undefined,
        engine: { liveness: this.liveness },
        onProgress: (p) => this.onProgress(p),
      };
    },
    reloadOn: () => [this.server, this.backend, this.compute, this.detector, this.offline, this.assetBase, this.modelsUrl, this.wasmUrl, this.dbName, this.camera],
    // The camera opens on an action (the button, start()), or at once when the page says autostart.
    cameraOnLoad: () => this.autostart,
    onReady: (ready, connectedAt) => this.onReady(ready, connectedAt),
    onError: (e) => this.onError(e),
    onFrame: (obs) => this.drawOverlay(obs),
    onGuidance: (g) => this.onGuidance(g),
  });

  private backendOptions(): Pick<CreateFaceAuthOptions, 'backend' | 'server'> {
    const parsed = parseBackendAttributes(this);
    if (!parsed.server) return parsed;
    const onBackup = (e: BackupEvent) => {
      const err = isFaceLoginError(e.error) ? e.error : null;
      emit(this, 'face-login-synced', {
        userId: e.userId,
        modelId: e.modelId,
        outcome: e.outcome,
        ...(e.error !== undefined ? { code: err?.code ?? 'backend-error', message: err?.message ?? String(e.error) } : {}),
      });
    };
    return { ...parsed, server: { ...parsed.server, onBackup } };
  }

  /** The headless engine, once ready (null before and after). */
  get engine() {
    return this.controller.auth;
  }

  get messages(): Messages {
    return messagesFor(this.lang || this.closest('[lang]')?.getAttribute('lang') || globalThis.navigator?.language);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A value outside the allowed set is reported once, when it is set (the first update too):
    // face-login-error invalid-input naming the allowed values; the texts stay English for a bad lang.
    const check: CheckedAttributes = {};
    if (changed.has('mode') && !this.session) check.mode = this.mode;
    if (changed.has('lang')) check.lang = this.lang;
    for (const e of checkAttributes(check)) this.onError(e);
    const auth = this.controller.auth;
    if (!auth) return;
    try {
      if (changed.has('threshold')) auth.threshold = this.threshold;
      if (changed.has('liveness')) auth.liveness = this.liveness;
    } catch (e) {
      this.onError(e);
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The first value (before connect) is no change of session.
    if (changed.has('session') && changed.get('session') !== undefined) void this.sessionChanged();
  }

  /** A new session (or none): drop the running one (not a cancel) and start over. */
  private async sessionChanged(): Promise<void> {
    const gen = ++this.sessionGeneration;
    // start() may already run the new session (a page that set `session` and called start()).
    if (this.busy && this.runningSession === this.session) return;
    await this.dropStaleAction();
    if (gen !== this.sessionGeneration || this.busy) return;
    this.sessionInfo = null;
    this.spentSession = null;
    this.hint = null;
    if (this.controller.state !== 'ready' || !this.controller.auth) return;
    this.setStatus(this.continuous && this.mode === 'identify' && !this.session ? 'watching' : 'ready');
    if (this.autostart && this.session) void this.start();
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

  private onProgress(p: LoadProgress): void {
    this.loaded.set(p.file, p);
    let loaded = 0;
    let total = 0;
    for (const f of this.loaded.values()) {
      loaded += f.loaded;
      total += f.total;
    }
    this.progress = { loaded, total };
    const mb = (n: number) => (n / 1e6).toFixed(1);
    this.setStatus('loading', this.messages.loadingBytes(mb(loaded), mb(total)));
    emit(this, 'face-login-progress', { loaded, total });
  }

  private onReady(ready: FaceAuthReady, connectedAt: number): void {
    this.progress = null;
    this.setStatus(this.continuous && this.mode === 'identify' && !this.session ? 'watching' : 'ready');
    emit(this, 'face-login-ready', {
      backend: ready.backend.backend,
      backendReason: ready.backend.reason,
      loadMs: performance.now() - connectedAt,
      modelId: ready.auth.modelId,
      threshold: ready.auth.threshold,
    });
    void ready.auth.camera.list?.().then((c) => (this.cameras = c)).catch(() => undefined);
    if (this.autostart) void this.start();
  }

  private onError(e: unknown, sessionId?: string): void {
    const err = isFaceLoginError(e) ? e : new FaceLoginError('invalid-input', String((e as Error)?.message ?? e));
    this.hint = null;
    // The person reads a sentence; the code and the technical message are for developers.
    console.warn(`<face-login> ${err.code}: ${err.message}`);
    const serverCode = err instanceof ServerRefusal ? err.serverCode : undefined;
    this.setStatus(err.code, sessionId !== undefined ? this.sessionErrorText(err) : this.errorText(err));
    emit(this, 'face-login-error', {
      code: err.code,
      message: err.message,
      ...(sessionId !== undefined ? { sessionId, retryable: !sessionSpent(err) } : {}),
      ...(serverCode !== undefined ? { serverCode } : {}),
    });
  }

  /** A session's error: a used-up session says the site must start again; anything else as usual. */
  private sessionErrorText(err: FaceLoginError): string {
    const m = this.messages;
    if (err instanceof ServerRefusal) {
      if (err.serverCode === 'invalid-session') return m.sessionInvalid;
      if (isCaptureRefusal(err.serverCode)) return `${m.sessionRefused[err.serverCode]} ${m.sessionEnded}`;
    }
    return this.errorText(err);
  }

  /** The status sentence for an error: how long to wait when the server said so, else the code's sentence. */
  private errorText(err: FaceLoginError): string {
    const m = this.messages;
    const after = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if ((err.code === 'locked-out' || err.code === 'rate-limited') && typeof after === 'number' && after > 0) return m.waitFor(Math.ceil(after));
    if ((err.code === 'backend-unavailable' || err.code === 'backend-overloaded') && typeof after === 'number' && after > 0) return m.serverBusy(Math.ceil(after));
    return m[err.code];
  }

  private onGuidance(g: Guidance): void {
    if (!this.busy) return;
    this.hint = g;
    const m = this.messages;
    let text = m[g.hint];
    if (POSES.has(g.step) && g.total > 1) text = `${m.step(g.done, g.total, m.poses[g.step as PoseName])} ${text}`;
    else if (g.step.startsWith('liveness-')) text = `${m.livenessStep(g.done, g.total)} ${text}`;
    // The liveness turns run under the engine's own (shorter, private) limit: no number shown for them.
    if (this.waitLimitS && !g.step.startsWith('liveness-')) text = `${text} ${m.upTo(this.waitLimitS)}`;
    this.setStatus(g.hint, text);
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

  /**
   * Runs the current mode's action (or the kiosk loop), or with `session` that session. Resolves
   * when it has an outcome (events carry it).
   */
  async start(): Promise<void> {
    // An action for another session than the one set now is dropped first (not a cancel).
    if (this.busy && this.runningSession !== this.session) await this.dropStaleAction();
    if (!this.controller.auth || this.busy) return;
    if (this.controller.state === 'error') {
      await this.controller.retry();
      if ((this.controller.state as string) !== 'ready') return;
    }
    const auth = this.controller.auth;
    if (!auth || this.busy) return;
    if (this.session && this.spentSession === this.session) return;
    this.action?.abort();
    const action = new AbortController();
    this.action = action;
    this.busy = true;
    this.hint = null;
    let done!: () => void;
    this.actionDone = new Promise<void>((resolve) => (done = resolve));
    this.runningSession = this.session;
    try {
      if (!(await this.openCamera(auth, action.signal))) return;
      if (this.session) await this.runSessionAction(auth, action.signal);
      else await this.runModeAction(auth, action.signal);
    } finally {
      if (this.action === action) this.action = null;
      this.waitLimitS = 0;
      this.busy = false;
      this.hint = null;
      this.runningSession = null;
      done();
    }
  }

  /**
   * The camera, opened for this action when it is not running yet: it never opens on connect
   * (only on an action, or at load with `autostart`). False when it did not open: a failure was
   * reported (face-login-error, Retry), a cancel says Cancelled, a reload or disconnect says nothing.
   */
  private async openCamera(auth: FaceAuth, signal: AbortSignal): Promise<boolean> {
    if (auth.camera.running) return true;
    this.setStatus('starting-camera');
    try {
      await this.controller.startCamera(signal);
      return true;
    } catch {
      if (signal.aborted && signal.reason === CANCELLED) this.cancelled(this.fallbackMode(), this.session || undefined);
      return false;
    }
  }

  /** Aborts the running action, if any, as a reload would (no cancel event), and waits until it has finished. */
  private async dropStaleAction(): Promise<void> {
    const running = this.actionDone;
    this.action?.abort();
    await running;
  }

  private async runModeAction(auth: FaceAuth, signal: AbortSignal): Promise<void> {
    let mode: ActionMode | null = null;
    try {
      mode = assertActionMode(this.mode, this.continuous);
      if (mode === 'kiosk') this.setStatus('watching');
      else {
        this.waitLimitS = CAPTURE_TIMEOUT_S;
        this.setStatus('looking', this.messages.lookUpTo(CAPTURE_TIMEOUT_S));
      }
      const outcome = await runAction(
        auth,
        { mode, userId: this.userId, guided: this.guided, cooldownMs: this.cooldown * 1000, onOutcome: (o) => this.announce(o) },
        { signal }, // liveness: the engine's, kept in step with the attribute (willUpdate)
      );
      this.waitLimitS = 0;
      if (outcome) this.announce(outcome);
      else if (signal.reason === CANCELLED) this.cancelled(mode);
    } catch (e) {
      this.waitLimitS = 0;
      // Cancelled by the person: say so. The engine was replaced (an attribute changed) or the
      // element left the page: nothing to report.
      if (signal.aborted && signal.reason === CANCELLED && mode) this.cancelled(mode);
      else if (!signal.aborted && this.controller.auth === auth) this.onError(e);
    }
  }

  /**
   * One session: read it, guide the person through the server's challenge, upload, say "sent".
   * Cancel works until the frames are being sent; the upload itself is only dropped by a new
   * session, a reload or a disconnect (a cancel then could not say whether the session was used).
   */
  private async runSessionAction(auth: FaceAuth, signal: AbortSignal): Promise<void> {
    const sessionId = this.session;
    let action: SessionAction | null = null;
    const upload = new AbortController();
    const onAbort = () => {
      if (signal.reason !== CANCELLED || this.status !== 'sending') upload.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const server = parseBackendAttributes(this).server?.url;
      if (!server) throw new FaceLoginError('invalid-input', 'session="…" needs server="…": the face-login server the site opened the session on.');
      this.setStatus('preparing');
      const outcome = await runSession(
        auth,
        { server, sessionId },
        {
          signal: upload.signal,
          onInfo: (info) => {
            action = info.action;
            this.sessionInfo = info;
            this.warnIfModeDiffers(info.action);
            this.waitLimitS = CAPTURE_TIMEOUT_S;
            this.setStatus('looking', this.messages.lookUpTo(CAPTURE_TIMEOUT_S));
          },
          onUpload: () => {
            this.waitLimitS = 0;
            this.hint = null;
            this.setStatus('sending');
          },
        },
      );
      this.spentSession = sessionId;
      this.announce(outcome);
    } catch (e) {
      this.waitLimitS = 0;
      if (signal.aborted && signal.reason === CANCELLED) this.cancelled(action ?? this.fallbackMode(), sessionId);
      else if (!signal.aborted && this.controller.auth === auth && this.session === sessionId) {
        if (sessionSpent(e)) this.spentSession = sessionId;
        this.onError(e, sessionId);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The mode a cancelled session reports before it was read. */
  private fallbackMode(): ActionMode {
    try {
      return assertActionMode(this.mode);
    } catch {
      return 'verify';
    }
  }

  private warnIfModeDiffers(action: SessionAction): void {
    if (this.warnedMode || !this.modeGiven || this.mode === action) return;
    this.warnedMode = true;
    console.warn(`<face-login>: mode="${this.mode}" is ignored while session is set: this session is for ${action} (the site's backend chose it).`);
  }

  private cancelled(mode: ActionMode, sessionId?: string): void {
    this.hint = null;
    this.setStatus('cancelled');
    emit(this, 'face-login-cancelled', { mode, ...(sessionId !== undefined ? { sessionId } : {}) });
  }

  private announce(outcome: ActionOutcome): void {
    const { status, message, event } = announcementFor(outcome, this.messages, { exposeScores: this.exposeScores });
    this.setStatus(status, message);
    emit(this, event.name, event.detail);
  }

  /** Cancels a running action (or stops the kiosk loop): status "Cancelled", face-login-cancelled, no error; the camera keeps running. */
  cancel(): void {
    this.action?.abort(CANCELLED);
  }

  /** The camera picker: the camera remembers the choice; the changed `camera` reloads the engine. */
  private pickCamera(deviceId: string): void {
    this.controller.auth?.camera.select?.(deviceId);
    this.action?.abort(); // not a cancel: the engine reloads with the new camera
    this.camera = deviceId;
  }

  protected override render() {
    const m = this.messages;
    const state = this.controller.state;
    const session = this.session ? (this.sessionInfo?.sessionId === this.session ? this.sessionInfo : null) : undefined;
    const mode = session === undefined ? this.mode : session?.action;
    const kiosk = session === undefined && this.mode === 'identify' && this.continuous;
    const label =
      mode === undefined ? m.actionSession : mode === 'enroll' ? m.actionEnroll : kiosk ? m.actionKiosk : mode === 'identify' ? m.actionIdentify : m.actionVerify;
    // A session the server used up cannot run again; and a cancel while the frames go out could not say whether it was used.
    const spent = !!this.session && this.spentSession === this.session;
    const text = this.statusMessage || m[this.status];
    const tone = OK_STATUSES.has(this.status) ? 'ok' : BAD_STATUSES.has(this.status) || state === 'error' ? 'bad' : 'info';
    const hint = this.busy ? this.hint : null;
    // One action button, so focus stays on it when it turns into Cancel (and Escape reaches the element).
    return html`
      <div class="frame" part="preview" role="img" aria-label=${m.previewLabel}>
        <video part="video" muted playsinline autoplay></video>
        <canvas part="overlay" aria-hidden="true"></canvas>
        ${hint && hint.hint !== 'hold-still'
          ? html`<div class="hint" part="hint" aria-hidden="true" data-hint=${hint.hint}>
              ${ARROWS[hint.hint] ? html`<span class="arrow">${ARROWS[hint.hint]}</span>` : nothing}<span>${m[hint.hint]}</span>
            </div>`
          : nothing}
        ${this.progress
          ? html`<progress part="progress" max=${this.progress.total || 1} value=${this.progress.loaded} aria-label=${m.loading}></progress>`
          : nothing}
      </div>
      <p class="status" part="status" role="status" aria-live="polite" data-status=${this.status} data-tone=${tone}>${text}</p>
      ${this.cameras.length > 1
        ? html`<label class="camera">${m.cameraLabel}
            <select part="camera-select" @change=${(e: Event) => this.pickCamera((e.target as HTMLSelectElement).value)}>
              ${this.cameras.map((c, i) => html`<option value=${c.deviceId} ?selected=${c.current}>${c.label || `${m.cameraLabel} ${i + 1}`}</option>`)}
            </select>
          </label>`
        : nothing}
      <button
        part="action"
        type="button"
        ?disabled=${this.busy ? this.status === 'sending' : state === 'loading' || state === 'disposed' || spent}
        @click=${() => (this.busy ? this.cancel() : void this.start())}
      >
        ${this.busy ? m.actionCancel : state === 'error' ? m.actionRetry : label}
      </button>
    `;
  }
}

