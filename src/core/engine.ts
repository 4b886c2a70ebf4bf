/**
 * FaceAuth: the headless engine. It owns no DOM element and knows nothing of Lit; it wires a
 * Camera, a FaceDetector, an Aligner, an Embedder, a TemplateStore and a Verifier, runs the
 * per-frame detection loop while the camera is on, and turns good frames into enrolments,
 * 1:1 verifications and open-set 1:N identifications.
 */
import { FaceLoginError, abortError, isFaceLoginError } from './errors.js';
import { assertThreshold, meanEmbedding } from './match.js';
import { estimateHeadPose, poseHint, type HeadPose, type PoseName } from './pose.js';
import { ENROLL_QUALITY, VERIFY_QUALITY, assessQuality, cropStats, type QualityIssue, type QualityThresholds } from './quality.js';
import type {
  Aligner,
  Camera,
  Detection,
  Embedder,
  FaceDetector,
  Frame,
  IdentifyResult,
  Pose,
  TemplateStore,
  Verifier,
  VerifyResult,
  PassiveLiveness,
} from './types.js';

export type EnginePhase = 'ready' | 'starting-camera' | 'scanning' | 'processing' | 'stopped' | 'disposed';

/** What the current frame shows, for guidance and the preview overlay. */
export type FaceStatus = 'no-face' | 'multiple-faces' | 'too-small' | 'ok';

export interface FrameObservation {
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly Detection[];
  readonly status: FaceStatus;
  /** Head pose of the single face in view (null otherwise). */
  readonly pose: HeadPose | null;
}

/** What the person should do next, as one short code (the element localizes and speaks it). */
export type Hint =
  | 'no-face'
  | 'multiple-faces'
  | QualityIssue
  | 'turn-left'
  | 'turn-right'
  | 'look-up'
  | 'look-down'
  | 'face-forward'
  | 'hold-still';

/** A capture step: a pose of guided enrolment, a liveness turn, or a plain probe ('probe'). */
export type CaptureStep = PoseName | 'probe' | 'liveness-left' | 'liveness-right';

export interface Guidance {
  readonly step: CaptureStep;
  readonly hint: Hint;
  /** Steps completed and total in the current operation (e.g. 2 of 5 poses). */
  readonly done: number;
  readonly total: number;
}

/**
 * Liveness (presentation-attack detection) for verify / identify:
 * - 'off': none.
 * - 'active': the person turns left and right in a random order (what ships; measured in README).
 * - 'passive': a PassiveLiveness model you supply scores the kept probe frames. face-login ships
 *   no such model (the one we measured does not work: bench/results/liveness-passive.md).
 * - 'both': the active challenge, then the passive check.
 * 'passive' and 'both' without a `passiveLiveness` are refused with `invalid-input`.
 */
export type LivenessMode = 'off' | 'active' | 'passive' | 'both';

export const LIVENESS_MODES: readonly LivenessMode[] = ['off', 'active', 'passive', 'both'];

/**
 * Checks a liveness mode against what is configured: an unknown mode, or 'passive' / 'both'
 * without a PassiveLiveness, throws FaceLoginError('invalid-input') naming the fix.
 */
export function assertLivenessMode(mode: string, passive: PassiveLiveness | null | undefined): LivenessMode {
  if (!(LIVENESS_MODES as readonly string[]).includes(mode)) {
    throw new FaceLoginError('invalid-input', `Unknown liveness mode "${mode}": use off, active, passive or both.`);
  }
  if ((mode === 'passive' || mode === 'both') && !passive) {
    throw new FaceLoginError(
      'invalid-input',
      `Liveness "${mode}" needs a passive liveness model, and face-login ships none: pass your own PassiveLiveness as \`passiveLiveness\` ` +
        '(createFaceAuth({ engine: { passiveLiveness } }), or the element\'s createEngine), or use liveness "active".',
    );
  }
  return mode as LivenessMode;
}

export interface FaceAuthEventMap {
  /** Every processed camera frame (for the preview overlay and hints). */
  frame: CustomEvent<FrameObservation>;
  /** The engine phase changed. */
  phase: CustomEvent<{ phase: EnginePhase }>;
  /** The camera stopped by itself (unplugged, permission revoked). */
  cameraended: CustomEvent<{ error: FaceLoginError }>;
  /** While an operation waits for a face: what to do next. Fired when the hint or step changes. */
  guidance: CustomEvent<Guidance>;
}

export interface CaptureOptions {
  signal?: AbortSignal;
  /** Give up (with no-face, or multiple-faces if that was the last state) after this long. Default 30 s. */
  timeoutMs?: number;
}

export interface VerifyOptions extends CaptureOptions {
  /** Overrides the engine's liveness mode for this call. */
  liveness?: LivenessMode;
}

export interface EnrollOptions extends CaptureOptions {
  /**
   * Guided enrolment: one good frame per pose, in this order (true = centre, left, right, up,
   * down), each gated by quality and by the head pose. Default: not guided.
   */
  guided?: boolean | readonly PoseName[];
  /** Not guided: good frames to keep, one template each. Default 3. */
  samples?: number;
  /** Pose label stored with the templates. Default 'center'. */
  pose?: Pose;
  /** Replace the user's existing templates for this model (default) or add to them. */
  replace?: boolean;
  displayName?: string;
}

export interface EnrollResult {
  readonly userId: string;
  readonly templates: number;
  readonly modelId: string;
}

export interface FaceAuthOptions {
  camera: Camera;
  detector: FaceDetector;
  aligner: Aligner;
  embedder: Embedder;
  store: TemplateStore;
  verifier: Verifier;
  /** Cosine threshold for accept / identify. */
  threshold: number;
  /** Faces narrower than this (frame pixels) are "too small". Default 64. */
  minFaceSize?: number;
  /** Frames averaged into one probe for verify / identify. Default 3. */
  probeFrames?: number;
  /** Consecutive frames with several faces before an operation is refused. Default 5. */
  multipleFacesFrames?: number;
  /** Minimum spacing between two kept frames of one capture, in ms. Default 120. */
  sampleIntervalMs?: number;
  /** Quality gates for enrolment and for verify / identify. */
  enrollQuality?: QualityThresholds;
  verifyQuality?: QualityThresholds;
  /**
   * Liveness for verify / identify. Default 'off'. 'passive' and 'both' need `passiveLiveness`:
   * without one the constructor (and the `liveness` setter) throws `invalid-input`.
   */
  liveness?: LivenessMode;
  /**
   * Your own passive presentation-attack detector (none ships with face-login). Used when the
   * liveness mode is 'passive' or 'both': crop() on each kept probe frame, then score() on those
   * crops; the mean must reach its `threshold` or the call fails with `liveness-failed`. The
   * engine owns it from here on: dispose() disposes it.
   */
  passiveLiveness?: PassiveLiveness;
  /** Active challenge: total time for the random turn sequence. Default 10 s. */
  challengeTimeoutMs?: number;
  /** Random source for the challenge order (tests inject one). */
  random?: () => number;
}

export const FULL_POSE_SEQUENCE: readonly PoseName[] = ['center', 'left', 'right', 'up', 'down'];

/** One kept frame: the aligned crop, and the passive-liveness crop when asked for. */
export interface CapturedFace {
  readonly crop: ImageData;
  readonly livenessCrop?: ImageData;
  readonly pose: HeadPose;
}

interface CaptureRequest {
  readonly count: number;
  readonly kept: CapturedFace[];
  readonly step: CaptureStep;
  readonly quality: QualityThresholds | null;
  /** Null to keep the frame, or what to do instead. */
  readonly accept: (pose: HeadPose) => Hint | null;
  readonly progress: { done: number; total: number };
  readonly wantLivenessCrop: boolean;
  lastKept: number;
  multiRun: number;
  lastStatus: FaceStatus;
  lastHint: Hint | null;
  resolve(kept: CapturedFace[]): void;
  reject(e: FaceLoginError): void;
}

interface CaptureSpec extends CaptureOptions {
  step?: CaptureStep;
  quality?: QualityThresholds | null;
  accept?: (pose: HeadPose) => Hint | null;
  progress?: { done: number; total: number };
  wantLivenessCrop?: boolean;
  /** The error when the time runs out with a face in view (default: no-face). */
  timeoutError?: () => FaceLoginError;
}

export class FaceAuth extends EventTarget {
  readonly camera: Camera;
  readonly detector: FaceDetector;
  readonly aligner: Aligner;
  readonly embedder: Embedder;
  readonly store: TemplateStore;
  readonly verifier: Verifier;
  private _threshold: number;
  private _phase: EnginePhase = 'ready';
  private readonly minFaceSize: number;
  private readonly probeFrames: number;
  private readonly multipleFacesFrames: number;
  private readonly sampleIntervalMs: number;
  private readonly enrollQuality: QualityThresholds;
  private readonly verifyQuality: QualityThresholds;
  private readonly passive: PassiveLiveness | null;
  private readonly challengeTimeoutMs: number;
  private readonly random: () => number;
  private _liveness: LivenessMode = 'off';
  private loopHandle: { cancel(): void } | null = null;
  private requests = new Set<CaptureRequest>();
  private unsubscribeEnded: (() => void) | null = null;
  private busy = false;
  private _lastObservation: FrameObservation | null = null;

  constructor(options: FaceAuthOptions) {
    super();
    this.camera = options.camera;
    this.detector = options.detector;
    this.aligner = options.aligner;
    this.embedder = options.embedder;
    this.store = options.store;
    this.verifier = options.verifier;
    this._threshold = assertThreshold(options.threshold);
    this.minFaceSize = options.minFaceSize ?? 64;
    this.probeFrames = options.probeFrames ?? 3;
    this.multipleFacesFrames = options.multipleFacesFrames ?? 5;
    this.sampleIntervalMs = options.sampleIntervalMs ?? 120;
    this.enrollQuality = options.enrollQuality ?? ENROLL_QUALITY;
    this.verifyQuality = options.verifyQuality ?? VERIFY_QUALITY;
    this.passive = options.passiveLiveness ?? null;
    this.liveness = options.liveness ?? 'off';
    this.challengeTimeoutMs = options.challengeTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  get phase(): EnginePhase {
    return this._phase;
  }

  get threshold(): number {
    return this._threshold;
  }

  /** Default liveness for verify / identify. Setting 'passive' or 'both' without a passiveLiveness throws invalid-input. */
  get liveness(): LivenessMode {
    return this._liveness;
  }

  set liveness(mode: LivenessMode) {
    this._liveness = assertLivenessMode(mode, this.passive);
  }

  set threshold(t: number) {
    this._threshold = assertThreshold(t);
  }

  get modelId(): string {
    return this.embedder.modelId;
  }

  get lastObservation(): FrameObservation | null {
    return this._lastObservation;
  }

  override addEventListener<K extends keyof FaceAuthEventMap>(
    type: K,
    listener: (ev: FaceAuthEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  private emit<K extends keyof FaceAuthEventMap>(type: K, detail: FaceAuthEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private setPhase(phase: EnginePhase): void {
    if (this._phase === phase || this._phase === 'disposed') return;
    this._phase = phase;
    this.emit('phase', { phase });
  }

  private assertLive(): void {
    if (this._phase === 'disposed') throw new FaceLoginError('disposed', 'This FaceAuth instance has been disposed.');
  }

  /** Opens the camera and starts the per-frame detection loop. */
  async startCamera(signal?: AbortSignal): Promise<void> {
    this.assertLive();
    if (this.loopHandle) return;
    this.setPhase('starting-camera');
    try {
      await this.camera.start(signal);
    } catch (e) {
      this.setPhase('stopped');
      throw e;
    }
    this.unsubscribeEnded?.();
    this.unsubscribeEnded = this.camera.onEnded(() => {
      const error = new FaceLoginError('camera-ended', 'The camera stopped (it was unplugged or its permission was revoked).');
      this.stopLoop();
      this.failRequests(error);
      this.setPhase('stopped');
      this.emit('cameraended', { error });
    });
    this.startLoop();
    this.setPhase('scanning');
  }

  /** Stops the loop and every camera track. Pending captures fail with `aborted`. */
  stopCamera(): void {
    this.stopLoop();
    this.unsubscribeEnded?.();
    this.unsubscribeEnded = null;
    this.camera.stop();
    this.failRequests(abortError());
    if (this._phase !== 'disposed') this.setPhase('stopped');
  }

  private startLoop(): void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frameInterval = 1000 / 30;
    const tick = () => {
      if (stopped) return;
      const started = performance.now();
      try {
        this.processFrame();
      } catch (e) {
        this.failRequests(isFaceLoginError(e) ? e : new FaceLoginError('invalid-input', `Frame processing failed: ${(e as Error).message}`, { cause: e }));
      }
      // Never faster than ~30 fps, and always yield so the page stays responsive.
      const spent = performance.now() - started;
      timer = setTimeout(tick, Math.max(4, frameInterval - spent));
    };
    timer = setTimeout(tick, 0);
    this.loopHandle = {
      cancel: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  private stopLoop(): void {
    this.loopHandle?.cancel();
    this.loopHandle = null;
  }

  /** Detects on the current camera frame and feeds pending captures. Exposed for tests and custom loops. */
  processFrame(): FrameObservation | null {
    const frame = this.camera.frame();
    if (!frame) return null;
    if (frame.timestamp === this._lastObservation?.timestamp) return this._lastObservation;
    const faces = this.detector.detect(frame);
    const status = this.classify(faces);
    const pose = faces.length === 1 && faces[0]!.keypoints.length >= 6 ? estimateHeadPose(faces[0]!.keypoints) : null;
    const obs: FrameObservation = { timestamp: frame.timestamp, width: frame.width, height: frame.height, faces, status, pose };
    this._lastObservation = obs;
    this.emit('frame', obs);
    if (this.requests.size > 0) this.feed(frame, obs);
    return obs;
  }

  private classify(faces: readonly Detection[]): FaceStatus {
    if (faces.length === 0) return 'no-face';
    if (faces.length > 1) return 'multiple-faces';
    if (faces[0]!.box.width < this.minFaceSize) return 'too-small';
    return 'ok';
  }

  private guide(req: CaptureRequest, hint: Hint): void {
    if (req.lastHint === hint) return;
    req.lastHint = hint;
    this.emit('guidance', { step: req.step, hint, done: req.progress.done + req.kept.length, total: req.progress.total });
  }

  private feed(frame: Frame, obs: FrameObservation): void {
    // Computed at most once per frame, shared by every pending request.
    let crop: ImageData | null = null;
    let stats: ReturnType<typeof cropStats> | null = null;
    let livenessCrop: ImageData | undefined;
    for (const req of [...this.requests]) {
      req.lastStatus = obs.status;
      if (obs.status === 'multiple-faces') {
        this.guide(req, 'multiple-faces');
        req.multiRun++;
        if (req.multiRun >= this.multipleFacesFrames) {
          this.requests.delete(req);
          req.reject(new FaceLoginError('multiple-faces', 'More than one face is in view; only one person may be in front of the camera.'));
        }
        continue;
      }
      req.multiRun = 0;
      if (obs.status === 'no-face') {
        this.guide(req, 'no-face');
        continue;
      }
      if (obs.status === 'too-small') {
        this.guide(req, 'too-far');
        continue;
      }
      const face = obs.faces[0]!;
      crop ??= this.aligner.align(frame, face);
      if (req.quality) {
        stats ??= cropStats(crop);
        const issue = assessQuality(face, frame, stats, req.quality);
        if (issue) {
          this.guide(req, issue);
          continue;
        }
      }
      const want = req.accept(obs.pose!);
      if (want) {
        this.guide(req, want);
        continue;
      }
      this.guide(req, 'hold-still');
      if (frame.timestamp - req.lastKept < this.sampleIntervalMs) continue;
      if (req.wantLivenessCrop && this.passive) livenessCrop ??= this.passive.crop(frame, face);
      req.kept.push({ crop, pose: obs.pose!, ...(req.wantLivenessCrop && livenessCrop ? { livenessCrop } : {}) });
      req.lastKept = frame.timestamp;
      if (req.kept.length >= req.count) {
        this.requests.delete(req);
        req.resolve(req.kept);
      }
    }
  }

  private failRequests(error: FaceLoginError): void {
    const reqs = [...this.requests];
    this.requests.clear();
    for (const r of reqs) r.reject(error);
  }

  /**
   * Resolves with `count` kept frames of exactly one face that pass the step's gates (quality,
   * pose), from distinct frames. Emits `guidance` while waiting. Rejects with multiple-faces,
   * no-face (timeout), camera-ended or aborted.
   */
  capture(count: number, spec: CaptureSpec = {}): Promise<CapturedFace[]> {
    this.assertLive();
    const { signal, timeoutMs = 30_000 } = spec;
    if (!this.loopHandle) return Promise.reject(new FaceLoginError('camera-not-found', 'The camera is not running; call startCamera() first.'));
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    return new Promise<CapturedFace[]>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => settle(() => reject(abortError(signal?.reason)));
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.requests.delete(req);
        fn();
      };
      const req: CaptureRequest = {
        count,
        kept: [],
        step: spec.step ?? 'probe',
        quality: spec.quality === undefined ? this.verifyQuality : spec.quality,
        accept: spec.accept ?? (() => null),
        progress: spec.progress ?? { done: 0, total: count },
        wantLivenessCrop: spec.wantLivenessCrop ?? false,
        lastKept: -Infinity,
        multiRun: 0,
        lastStatus: 'no-face',
        lastHint: null,
        resolve: (kept) => settle(() => resolve(kept)),
        reject: (e) => settle(() => reject(e)),
      };
      timer = setTimeout(() => {
        const e = req.lastStatus === 'multiple-faces'
          ? new FaceLoginError('multiple-faces', 'More than one face stayed in view; only one person may be in front of the camera.')
          : req.lastStatus === 'ok' && spec.timeoutError
            ? spec.timeoutError()
            : new FaceLoginError('no-face', `No single, clear face was seen within ${Math.round(timeoutMs / 1000)} s.`);
        req.reject(e);
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.requests.add(req);
    });
  }

  /** Aligned crops only (see capture). */
  async captureCrops(count: number, options: CaptureOptions = {}): Promise<ImageData[]> {
    return (await this.capture(count, options)).map((k) => k.crop);
  }

  /**
   * Probe and unguided-enrolment frames should show the face roughly frontal. Generous limits:
   * near-frontal LFW photos read up to ~30 degrees with the keypoint pose estimate.
   */
  private static readonly probePose = (p: HeadPose): Hint | null =>
    Math.abs(p.yaw) > 40 || Math.abs(p.pitch) > 35 ? 'face-forward' : null;

  /** One probe embedding from `probeFrames` good frames (mean of unit vectors, renormalised). */
  async captureEmbedding(options: CaptureOptions = {}): Promise<Float32Array> {
    return (await this.captureProbe(options, false)).probe;
  }

  private async captureProbe(options: CaptureOptions, withLiveness: boolean): Promise<{ probe: Float32Array; kept: CapturedFace[] }> {
    const kept = await this.capture(this.probeFrames, { ...options, accept: FaceAuth.probePose, wantLivenessCrop: withLiveness });
    return { probe: meanEmbedding(await this.embedder.embed(kept.map((k) => k.crop))), kept };
  }

  /**
   * Active liveness: the person turns left and right in a random order within the time limit.
   * A still photo never changes pose, so it times out with liveness-failed.
   */
  async challenge(options: CaptureOptions = {}): Promise<void> {
    const steps: ('left' | 'right')[] = this.random() < 0.5 ? ['left', 'right'] : ['right', 'left'];
    const deadline = performance.now() + this.challengeTimeoutMs;
    for (let i = 0; i < steps.length; i++) {
      const target = steps[i]!;
      const left = deadline - performance.now();
      const failed = () => new FaceLoginError('liveness-failed', 'The liveness check was not completed in time: follow the turn-your-head prompts.');
      if (left <= 0) throw failed();
      await this.capture(1, {
        signal: options.signal,
        timeoutMs: left,
        step: `liveness-${target}`,
        // Framing only: a turning head is briefly blurred, and sharpness is not what is checked here.
        quality: { ...this.verifyQuality, minSharpness: 0 },
        accept: (p) => poseHint(p, target),
        progress: { done: i, total: steps.length },
        timeoutError: failed,
      }).catch((e: unknown) => {
        throw isFaceLoginError(e) && e.code === 'no-face' ? failed() : e;
      });
    }
  }

  private async checkLiveness(mode: LivenessMode, options: CaptureOptions): Promise<{ probe: Float32Array; kept: CapturedFace[] }> {
    assertLivenessMode(mode, this.passive);
    if (mode === 'active' || mode === 'both') await this.challenge(options);
    const usePassive = mode === 'passive' || mode === 'both';
    const result = await this.captureProbe(options, usePassive);
    if (usePassive && this.passive) {
      const crops = result.kept.flatMap((k) => (k.livenessCrop ? [k.livenessCrop] : []));
      const scores = await this.passive.score(crops);
      const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
      if (!(mean >= this.passive.threshold)) {
        throw new FaceLoginError('liveness-failed', 'The face did not look live to the camera (a photo or a screen?).');
      }
    }
    return result;
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.assertLive();
    if (this.busy) throw new FaceLoginError('invalid-input', 'Another enroll / verify / identify is already running.');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
      if (this._phase === 'processing') this.setPhase(this.loopHandle ? 'scanning' : 'stopped');
    }
  }

  /**
   * Enrols `userId`: guided (one good frame per pose, each gated by quality and head pose) or
   * from `samples` good frames. One template per kept frame.
   */
  enroll(userId: string, options: EnrollOptions = {}): Promise<EnrollResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to enroll.');
      const { samples = 3, pose = 'center', replace = true, displayName, guided } = options;
      const kept: { crop: ImageData; pose: Pose }[] = [];
      if (guided) {
        const poses = guided === true ? FULL_POSE_SEQUENCE : guided;
        for (let i = 0; i < poses.length; i++) {
          const target = poses[i]!;
          const [k] = await this.capture(1, {
            ...options,
            step: target,
            quality: this.enrollQuality,
            accept: (p) => poseHint(p, target),
            progress: { done: i, total: poses.length },
          });
          kept.push({ crop: k!.crop, pose: target });
        }
      } else {
        const ks = await this.capture(samples, { ...options, quality: this.enrollQuality, accept: FaceAuth.probePose });
        for (const k of ks) kept.push({ crop: k.crop, pose });
      }
      this.setPhase('processing');
      const embeddings = await this.embedder.embed(kept.map((k) => k.crop));
      const templates = embeddings.map((embedding, i) => ({ embedding, pose: kept[i]!.pose }));
      // The server (if any) decides first: a refused enrolment leaves nothing on the device.
      await this.verifier.enroll?.(userId, this.embedder.modelId, templates, { replace });
      const saved = await this.store.saveTemplates(userId, this.embedder.modelId, templates, {
        replace,
        ...(displayName ? { displayName } : {}),
      });
      return { userId, templates: saved.length, modelId: this.embedder.modelId };
    });
  }

  /** 1:1: is the person in front of the camera `userId`? */
  verify(userId: string, options: VerifyOptions = {}): Promise<VerifyResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to verify.');
      if (this.verifier.kind === 'local' && (await this.store.templatesOf(userId, this.embedder.modelId)).length === 0) {
        throw new FaceLoginError('not-enrolled', `"${userId}" is not enrolled on this device.`);
      }
      const { probe } = await this.checkLiveness(options.liveness ?? this.liveness, options);
      this.setPhase('processing');
      return this.verifier.verify(userId, probe, this.embedder.modelId);
    });
  }

  /** 1:N open set: who is in front of the camera, or null (unknown). */
  identify(options: VerifyOptions = {}): Promise<IdentifyResult> {
    return this.exclusive(async () => {
      const { probe } = await this.checkLiveness(options.liveness ?? this.liveness, options);
      this.setPhase('processing');
      return this.verifier.identify(probe, this.embedder.modelId);
    });
  }

  /** Stops the camera, closes the detector, frees the model and closes the store. Idempotent. */
  dispose(): void {
    if (this._phase === 'disposed') return;
    this.stopCamera();
    this._phase = 'disposed';
    this.emit('phase', { phase: 'disposed' });
    this.detector.dispose();
    this.embedder.dispose();
    this.passive?.dispose();
    this.verifier.dispose?.();
    this.store.close();
  }
}
