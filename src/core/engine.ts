/**
 * FaceAuth: the headless engine. It owns no DOM element and knows nothing of Lit; it wires a
 * Camera, a FaceDetector, an Aligner, an Embedder, a TemplateStore and a Verifier, and turns good
 * frames into enrolments, 1:1 verifications and open-set 1:N identifications.
 *
 * This file is the facade: phases, events, one enroll / verify / identify at a time, dispose.
 * Data flows one way through its parts: frame-loop.ts (camera -> detector -> FrameObservation)
 * -> capture.ts (which frames an operation keeps) -> liveness.ts (turn challenge, passive check)
 * -> embedder -> store / verifier.
 */
import { pipelineModelId } from './calibration.js';
import { CaptureRequests, probePose, type CaptureOptions, type CaptureSpec, type CapturedFace, type Guidance } from './capture.js';
import { FaceLoginError, abortError, disposedError } from './errors.js';
import { FrameLoop, type FrameObservation } from './frame-loop.js';
import { assertLivenessMode, passiveCheck, turnChallenge, usesActiveLiveness, usesPassiveLiveness, type LivenessMode } from './liveness.js';
import { assertThreshold, distinctTemplates, meanEmbedding } from './match.js';
import { poseHint, type PoseName } from './pose.js';
import { captureChallenge, type ChallengeCaptureOptions, type ChallengeFrame, type SessionChallenge } from './session.js';
import { ENROLL_QUALITY, VERIFY_QUALITY, type QualityThresholds } from './quality.js';
import type { Aligner, Camera, Embedder, FaceDetector, IdentifyResult, PassiveLiveness, Pose, TemplateStore, Verifier, VerifyResult } from './types.js';

// The parts' types, where pages and the element have always imported them from.
export type { FaceStatus, FrameObservation } from './frame-loop.js';
export type { CaptureOptions, CaptureStep, CapturedFace, Guidance, Hint } from './capture.js';
export { LIVENESS_MODES, assertLivenessMode, type LivenessMode } from './liveness.js';
export type { ChallengeCaptureOptions, ChallengeFrame, FrameEncoder, SessionAction, SessionChallenge } from './session.js';

export type EnginePhase = 'ready' | 'starting-camera' | 'scanning' | 'processing' | 'stopped' | 'disposed';

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
  /** Active challenge: total time for the random turn sequence (and for a session's turns). Default 10 s. */
  challengeTimeoutMs?: number;
  /** Random source for the challenge order (tests inject one). */
  random?: () => number;
  /**
   * Which of `camera`, `store` and `verifier` are the engine's to close: dispose() stops an owned
   * camera, closes an owned store and disposes an owned verifier, and leaves the others to you.
   * Default: all three (a FaceAuth you construct is handed its parts). createFaceAuth fills it in:
   * what it creates the engine closes; a `store` or `camera` you pass to createFaceAuth is yours.
   * The detector, the aligner, the embedder and a `passiveLiveness` are always the engine's.
   * A camera the engine does not own keeps running after dispose() if it was running (the engine
   * only stops reading it): call stopCamera() first, or stop it yourself.
   */
  owns?: { camera?: boolean; store?: boolean; verifier?: boolean };
}

export const FULL_POSE_SEQUENCE: readonly PoseName[] = ['center', 'left', 'right', 'up', 'down'];

export class FaceAuth extends EventTarget {
  readonly camera: Camera;
  readonly detector: FaceDetector;
  readonly aligner: Aligner;
  readonly embedder: Embedder;
  readonly store: TemplateStore;
  readonly verifier: Verifier;
  private _threshold: number;
  private _phase: EnginePhase = 'ready';
  private _liveness: LivenessMode = 'off';
  private readonly probeFrames: number;
  private readonly enrollQuality: QualityThresholds;
  private readonly verifyQuality: QualityThresholds;
  private readonly passive: PassiveLiveness | null;
  private readonly challengeTimeoutMs: number;
  private readonly random: () => number;
  private readonly owns: { camera: boolean; store: boolean; verifier: boolean };
  private readonly frames: FrameLoop;
  private readonly captures: CaptureRequests;
  private busy = false;

  constructor(options: FaceAuthOptions) {
    super();
    this.camera = options.camera;
    this.detector = options.detector;
    this.aligner = options.aligner;
    this.embedder = options.embedder;
    this.store = options.store;
    this.verifier = options.verifier;
    this._threshold = assertThreshold(options.threshold);
    this.probeFrames = options.probeFrames ?? 3;
    this.enrollQuality = options.enrollQuality ?? ENROLL_QUALITY;
    this.verifyQuality = options.verifyQuality ?? VERIFY_QUALITY;
    const passive = options.passiveLiveness ?? null;
    this.passive = passive;
    this.liveness = options.liveness ?? 'off';
    this.challengeTimeoutMs = options.challengeTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.owns = { camera: true, store: true, verifier: true, ...options.owns };
    this.captures = new CaptureRequests({
      aligner: this.aligner,
      multipleFacesFrames: options.multipleFacesFrames ?? 5,
      sampleIntervalMs: options.sampleIntervalMs ?? 120,
      livenessCrop: passive ? (frame, face) => passive.crop(frame, face) : null,
      onGuidance: (g) => this.emit('guidance', g),
    });
    this.frames = new FrameLoop(this.camera, this.detector, options.minFaceSize ?? 64, {
      frame: (frame, obs) => {
        this.emit('frame', obs);
        this.captures.feed(frame, obs);
      },
      error: (e) => this.captures.failAll(e),
      ended: (error) => {
        this.captures.failAll(error);
        this.setPhase('stopped');
        this.emit('cameraended', { error });
      },
    }, this.aligner.facePresence?.bind(this.aligner));
  }

  get phase(): EnginePhase {
    return this._phase;
  }

  get threshold(): number {
    return this._threshold;
  }

  set threshold(t: number) {
    this._threshold = assertThreshold(t);
  }

  /** Default liveness for verify / identify. Setting 'passive' or 'both' without a passiveLiveness throws invalid-input. */
  get liveness(): LivenessMode {
    return this._liveness;
  }

  set liveness(mode: LivenessMode) {
    this._liveness = assertLivenessMode(mode, this.passive);
  }

  /** The id stored with every template: the embedder's model id and the aligner's suffix (pipelineModelId). */
  get modelId(): string {
    return pipelineModelId(this.embedder.modelId, this.aligner.id);
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
    if (this._phase === 'disposed') throw disposedError();
  }

  /**
   * Opens the camera and starts the per-frame detection loop. A call while the camera is opening
   * joins that call. Rejects with `disposed` when dispose() came meanwhile and with `aborted` when
   * the signal aborted or stopCamera() came meanwhile; then a camera this call opened is stopped
   * again, and no frame reaches the detector.
   */
  async startCamera(signal?: AbortSignal): Promise<void> {
    this.assertLive();
    if (this.frames.state === 'running') return;
    this.setPhase('starting-camera');
    try {
      await this.frames.start(signal);
    } catch (e) {
      // A newer startCamera() may be opening the camera by now: the phase is its to set.
      if (this.frames.state === 'stopped') this.setPhase('stopped');
      throw e;
    }
    this.setPhase('scanning');
  }

  /** Stops the loop and every camera track. Pending captures fail with `aborted`. */
  stopCamera(): void {
    this.frames.stop();
    this.captures.failAll(abortError());
    this.setPhase('stopped');
  }

  /** One capture, once the camera runs (see CaptureRequests.add). */
  private capture(count: number, spec: CaptureSpec): Promise<CapturedFace[]> {
    this.assertLive();
    if (this.frames.state !== 'running') {
      return Promise.reject(new FaceLoginError('camera-not-started', 'The camera is not running; call startCamera() first.'));
    }
    return this.captures.add(count, spec);
  }

  /** Embeds the kept crops; an engine disposed meanwhile rejects with `disposed`. */
  private async embed(kept: readonly { crop: ImageData }[]): Promise<Float32Array[]> {
    const embeddings = await this.embedder.embed(kept.map((k) => k.crop));
    this.assertLive();
    return embeddings;
  }

  /**
   * Active liveness: the person turns left and right in a random order within
   * `challengeTimeoutMs`. A still photo never changes pose, so it fails with liveness-failed.
   */
  challenge(options: CaptureOptions = {}): Promise<void> {
    return turnChallenge((count, spec) => this.capture(count, spec), {
      signal: options.signal,
      challengeTimeoutMs: this.challengeTimeoutMs,
      quality: this.verifyQuality,
      random: this.random,
    });
  }

  /** The probe embedding of verify / identify: liveness as `mode` asks, then `probeFrames` frames averaged. */
  private async probe(mode: LivenessMode, options: CaptureOptions): Promise<Float32Array> {
    if (usesActiveLiveness(mode)) await this.challenge(options);
    const passive = usesPassiveLiveness(mode) ? this.passive : null;
    const kept = await this.capture(this.probeFrames, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      quality: this.verifyQuality,
      accept: probePose,
      wantLivenessCrop: passive !== null,
    });
    if (passive) await passiveCheck(passive, kept);
    return meanEmbedding(await this.embed(kept));
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.assertLive();
    if (this.busy) throw new FaceLoginError('busy', 'Another enroll / verify / identify of this FaceAuth is still running.');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
      if (this._phase === 'processing') this.setPhase(this.frames.state === 'running' ? 'scanning' : 'stopped');
    }
  }

  /**
   * Enrols `userId`: guided (one good frame per pose, each gated by quality and head pose) or
   * from `samples` good frames. One template per kept frame, less near-duplicates (distinctTemplates).
   */
  enroll(userId: string, options: EnrollOptions = {}): Promise<EnrollResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to enroll.');
      const { samples = 3, pose = 'center', replace = true, displayName, guided, signal, timeoutMs } = options;
      const kept: { crop: ImageData; pose: Pose }[] = [];
      if (guided) {
        const poses = guided === true ? FULL_POSE_SEQUENCE : guided;
        for (let i = 0; i < poses.length; i++) {
          const target = poses[i]!;
          const [k] = await this.capture(1, {
            signal,
            timeoutMs,
            step: target,
            quality: this.enrollQuality,
            accept: (p) => poseHint(p, target),
            progress: { done: i, total: poses.length },
          });
          kept.push({ crop: k!.crop, pose: target });
        }
      } else {
        const ks = await this.capture(samples, { signal, timeoutMs, quality: this.enrollQuality, accept: probePose });
        for (const k of ks) kept.push({ crop: k.crop, pose });
      }
      this.setPhase('processing');
      const embeddings = await this.embed(kept);
      // A still photo (or a face that did not move) gives near-identical frames: stored once.
      const templates = distinctTemplates(embeddings.map((embedding, i) => ({ embedding, pose: kept[i]!.pose })));
      // The server (if any) decides first: a refused enrolment leaves nothing on the device.
      await this.verifier.enroll?.(userId, this.modelId, templates, { replace });
      this.assertLive();
      const saved = await this.store.saveTemplates(userId, this.modelId, templates, {
        replace,
        ...(displayName ? { displayName } : {}),
      });
      return { userId, templates: saved.length, modelId: this.modelId };
    });
  }

  /** 1:1: is the person in front of the camera `userId`? */
  verify(userId: string, options: VerifyOptions = {}): Promise<VerifyResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to verify.');
      const mode = assertLivenessMode(options.liveness ?? this.liveness, this.passive);
      if (this.verifier.kind === 'local' && (await this.store.templatesOf(userId, this.modelId)).length === 0) {
        throw new FaceLoginError('not-enrolled', `"${userId}" is not enrolled on this device.`);
      }
      const probe = await this.probe(mode, options);
      this.setPhase('processing');
      return this.verifier.verify(userId, probe, this.modelId);
    });
  }

  /** 1:N open set: who is in front of the camera, or null (unknown). */
  identify(options: VerifyOptions = {}): Promise<IdentifyResult> {
    return this.exclusive(async () => {
      const probe = await this.probe(assertLivenessMode(options.liveness ?? this.liveness, this.passive), options);
      this.setPhase('processing');
      return this.verifier.identify(probe, this.modelId);
    });
  }

  /**
   * Sessions (the server decides): films the person doing the challenge a server chose, in its
   * order, and returns the kept frames, each the whole camera frame encoded by `options.encoder`
   * while it was current, with its timestamp. Enrolment's poses under the enrolment gates
   * (`perPose` frames each); turns: `frontal` frontal frames, then `perTurn` frames of each turn
   * within `challengeTimeoutMs` (else liveness-failed), under the verify gates with sharpness.
   * Nothing is embedded, stored or decided here: the frames are for the server (see runSession).
   * One at a time with enroll / verify / identify (busy).
   */
  captureChallenge(challenge: SessionChallenge, options: ChallengeCaptureOptions): Promise<ChallengeFrame[]> {
    return this.exclusive(() =>
      captureChallenge(
        {
          capture: (count, spec) => this.capture(count, spec),
          enrollQuality: this.enrollQuality,
          verifyQuality: this.verifyQuality,
          turnTimeoutMs: this.challengeTimeoutMs,
        },
        challenge,
        options,
      ),
    );
  }

  /**
   * Ends the engine, idempotently: stops the frame loop (no frame reaches the detector after
   * it), fails pending operations and a pending startCamera() with `disposed`, closes the
   * detector and frees the model (and a passiveLiveness); stops the camera, closes the store and
   * disposes the verifier where the engine owns them (FaceAuthOptions.owns).
   */
  dispose(): void {
    if (this._phase === 'disposed') return;
    this.frames.close(this.owns.camera);
    this.captures.failAll(disposedError());
    this._phase = 'disposed';
    this.emit('phase', { phase: 'disposed' });
    this.detector.dispose();
    this.embedder.dispose();
    this.aligner.dispose?.();
    this.passive?.dispose();
    if (this.owns.verifier) this.verifier.dispose?.();
    if (this.owns.store) this.store.close();
  }
}
