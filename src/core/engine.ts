/**
 * FaceAuth: the headless engine. It owns no DOM element and knows nothing of Lit; it wires a
 * Camera, a FaceDetector, an Aligner, an Embedder, a TemplateStore and a Verifier, runs the
 * per-frame detection loop while the camera is on, and turns good frames into enrolments,
 * 1:1 verifications and open-set 1:N identifications.
 */
import { FaceLoginError, abortError, isFaceLoginError } from './errors.js';
import { assertThreshold, meanEmbedding } from './match.js';
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
}

export interface FaceAuthEventMap {
  /** Every processed camera frame (for the preview overlay and hints). */
  frame: CustomEvent<FrameObservation>;
  /** The engine phase changed. */
  phase: CustomEvent<{ phase: EnginePhase }>;
  /** The camera stopped by itself (unplugged, permission revoked). */
  cameraended: CustomEvent<{ error: FaceLoginError }>;
}

export interface CaptureOptions {
  signal?: AbortSignal;
  /** Give up (with no-face, or multiple-faces if that was the last state) after this long. Default 30 s. */
  timeoutMs?: number;
}

export interface EnrollOptions extends CaptureOptions {
  /** Good frames to keep, one template each. Default 3. */
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
}

interface CaptureRequest {
  readonly count: number;
  readonly crops: ImageData[];
  lastKept: number;
  multiRun: number;
  lastStatus: FaceStatus;
  resolve(crops: ImageData[]): void;
  reject(e: FaceLoginError): void;
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
    const obs: FrameObservation = { timestamp: frame.timestamp, width: frame.width, height: frame.height, faces, status };
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

  private feed(frame: Frame, obs: FrameObservation): void {
    let crop: ImageData | null = null;
    for (const req of [...this.requests]) {
      req.lastStatus = obs.status;
      if (obs.status === 'multiple-faces') {
        req.multiRun++;
        if (req.multiRun >= this.multipleFacesFrames) {
          this.requests.delete(req);
          req.reject(new FaceLoginError('multiple-faces', 'More than one face is in view; only one person may be in front of the camera.'));
        }
        continue;
      }
      req.multiRun = 0;
      if (obs.status !== 'ok' || frame.timestamp - req.lastKept < this.sampleIntervalMs) continue;
      crop ??= this.aligner.align(frame, obs.faces[0]!);
      req.crops.push(crop);
      req.lastKept = frame.timestamp;
      if (req.crops.length >= req.count) {
        this.requests.delete(req);
        req.resolve(req.crops);
      }
    }
  }

  private failRequests(error: FaceLoginError): void {
    const reqs = [...this.requests];
    this.requests.clear();
    for (const r of reqs) r.reject(error);
  }

  /**
   * Resolves with `count` aligned crops of exactly one face, taken from distinct frames.
   * Rejects with multiple-faces, no-face (timeout), camera-ended or aborted.
   */
  captureCrops(count: number, options: CaptureOptions = {}): Promise<ImageData[]> {
    this.assertLive();
    const { signal, timeoutMs = 30_000 } = options;
    if (!this.loopHandle) return Promise.reject(new FaceLoginError('camera-not-found', 'The camera is not running; call startCamera() first.'));
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    return new Promise<ImageData[]>((resolve, reject) => {
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
        crops: [],
        lastKept: -Infinity,
        multiRun: 0,
        lastStatus: 'no-face',
        resolve: (crops) => settle(() => resolve(crops)),
        reject: (e) => settle(() => reject(e)),
      };
      timer = setTimeout(() => {
        const e = req.lastStatus === 'multiple-faces'
          ? new FaceLoginError('multiple-faces', 'More than one face stayed in view; only one person may be in front of the camera.')
          : new FaceLoginError('no-face', `No single, clear face was seen within ${Math.round(timeoutMs / 1000)} s.`);
        req.reject(e);
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.requests.add(req);
    });
  }

  /** One probe embedding from `probeFrames` good frames (mean of unit vectors, renormalised). */
  async captureEmbedding(options: CaptureOptions = {}): Promise<Float32Array> {
    const crops = await this.captureCrops(this.probeFrames, options);
    return meanEmbedding(await this.embedder.embed(crops));
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

  /** Enrols `userId` from `samples` good frames, one template per frame. */
  enroll(userId: string, options: EnrollOptions = {}): Promise<EnrollResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to enroll.');
      const { samples = 3, pose = 'center', replace = true, displayName } = options;
      const crops = await this.captureCrops(samples, options);
      this.setPhase('processing');
      const embeddings = await this.embedder.embed(crops);
      const templates = embeddings.map((embedding) => ({ embedding, pose }));
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
  verify(userId: string, options: CaptureOptions = {}): Promise<VerifyResult> {
    return this.exclusive(async () => {
      if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required to verify.');
      if (this.verifier.kind === 'local' && (await this.store.templatesOf(userId, this.embedder.modelId)).length === 0) {
        throw new FaceLoginError('not-enrolled', `"${userId}" is not enrolled on this device.`);
      }
      const probe = await this.captureEmbedding(options);
      this.setPhase('processing');
      return this.verifier.verify(userId, probe, this.embedder.modelId);
    });
  }

  /** 1:N open set: who is in front of the camera, or null (unknown). */
  identify(options: CaptureOptions = {}): Promise<IdentifyResult> {
    return this.exclusive(async () => {
      const probe = await this.captureEmbedding(options);
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
    this.verifier.dispose?.();
    this.store.close();
  }
}
