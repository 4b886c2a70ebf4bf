/**
 * Capture requests: which frames an operation keeps. Each request waits for `count` frames of
 * exactly one face that pass its gates (size, quality, pose), spaced by `sampleIntervalMs`,
 * says what to do meanwhile (guidance), and gives up on a timeout, an abort or several faces.
 * Fed one FrameObservation at a time by the frame loop; it never touches the camera.
 */
import { FaceLoginError, abortError } from './errors.js';
import type { FaceStatus, FrameObservation } from './frame-loop.js';
import type { HeadPose, PoseName } from './pose.js';
import { assessQuality, cropStats, type QualityIssue, type QualityThresholds } from './quality.js';
import type { Aligner, Detection, Frame } from './types.js';

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

/** How long a capture waits for a good face by default (CaptureOptions.timeoutMs). */
export const DEFAULT_CAPTURE_TIMEOUT_MS = 30_000;

export interface CaptureOptions {
  signal?: AbortSignal;
  /** Give up (with no-face, or multiple-faces if that was the last state) after this long. Default DEFAULT_CAPTURE_TIMEOUT_MS (30 s). */
  timeoutMs?: number;
}

/** One kept frame: the aligned crop, and the passive-liveness crop or the encoded camera frame when asked for. */
export interface CapturedFace {
  readonly crop: ImageData;
  readonly livenessCrop?: ImageData;
  readonly pose: HeadPose;
  /** The camera frame's timestamp (monotonic ms, Frame.timestamp). */
  readonly timestamp: number;
  /** The whole camera frame as the spec's `encodeFrame` encoded it (sessions: the upload's JPEG). */
  readonly encoded?: Promise<Uint8Array>;
}

/** What one capture asks for. */
export interface CaptureSpec extends CaptureOptions {
  /** The quality gates, or null for none. */
  quality: QualityThresholds | null;
  /** Null to keep the frame, or what to do instead. */
  accept: (pose: HeadPose) => Hint | null;
  step?: CaptureStep;
  /**
   * Steps done and total, as the guidance reports them. Given: fixed for the whole request (one
   * step, however many frames it keeps). Default: frames kept so far of `count`.
   */
  progress?: { done: number; total: number };
  wantLivenessCrop?: boolean;
  /**
   * Encodes the whole camera frame of each kept frame (CapturedFace.encoded). Called synchronously
   * while the frame is current (its source changes right after): it must copy the pixels before
   * its first await. A throw becomes a rejected `encoded`, never a failed frame.
   */
  encodeFrame?: (frame: Frame) => Promise<Uint8Array>;
  /** The error when the time runs out with a face in view (default: no-face). */
  timeoutError?: () => FaceLoginError;
}

export interface CaptureSettings {
  readonly aligner: Aligner;
  /** Consecutive frames with several faces before a capture is refused. */
  readonly multipleFacesFrames: number;
  /** Minimum spacing between two kept frames of one capture, in ms. */
  readonly sampleIntervalMs: number;
  /** The passive-liveness crop of a kept frame (when a capture wants one), taken while the frame is current. */
  readonly livenessCrop: ((frame: Frame, face: Detection) => ImageData) | null;
  readonly onGuidance: (guidance: Guidance) => void;
}

/**
 * Probe and unguided-enrolment frames should show the face roughly frontal. Generous limits:
 * near-frontal LFW photos read up to ~30 degrees with the keypoint pose estimate.
 */
export const probePose = (p: HeadPose): Hint | null => (Math.abs(p.yaw) > 40 || Math.abs(p.pitch) > 35 ? 'face-forward' : null);

interface Request {
  readonly count: number;
  readonly kept: CapturedFace[];
  readonly spec: CaptureSpec;
  readonly step: CaptureStep;
  /** Fixed progress (CaptureSpec.progress), or null: frames kept of count. */
  readonly progress: { done: number; total: number } | null;
  lastKept: number;
  multiRun: number;
  lastStatus: FaceStatus;
  lastHint: Hint | null;
  resolve(kept: CapturedFace[]): void;
  reject(e: FaceLoginError): void;
}

/** The captures waiting for frames; every frame is offered to each of them. */
export class CaptureRequests {
  private readonly requests = new Set<Request>();

  constructor(private readonly settings: CaptureSettings) {}

  /**
   * Resolves with `count` kept frames of exactly one face that pass the spec's gates, from
   * distinct frames. Emits guidance while waiting. Rejects with multiple-faces, no-face (or the
   * spec's timeoutError) on timeout, aborted, or whatever failAll() is given.
   */
  add(count: number, spec: CaptureSpec): Promise<CapturedFace[]> {
    const { signal, timeoutMs = DEFAULT_CAPTURE_TIMEOUT_MS } = spec;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    return new Promise<CapturedFace[]>((resolve, reject) => {
      const onAbort = () => req.reject(abortError(signal?.reason));
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.requests.delete(req);
      };
      const req: Request = {
        count,
        kept: [],
        spec,
        step: spec.step ?? 'probe',
        progress: spec.progress ?? null,
        lastKept: -Infinity,
        multiRun: 0,
        lastStatus: 'no-face',
        lastHint: null,
        resolve: (kept) => {
          settle();
          resolve(kept);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      };
      const timer = setTimeout(() => req.reject(this.timedOut(req, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.requests.add(req);
    });
  }

  private timedOut(req: Request, timeoutMs: number): FaceLoginError {
    if (req.lastStatus === 'multiple-faces') {
      return new FaceLoginError('multiple-faces', 'More than one face stayed in view; only one person may be in front of the camera.');
    }
    if (req.lastStatus === 'ok' && req.spec.timeoutError) return req.spec.timeoutError();
    return new FaceLoginError('no-face', `No single, clear face was seen within ${Math.round(timeoutMs / 1000)} s.`);
  }

  /** Fails every pending capture with `error`. */
  failAll(error: FaceLoginError): void {
    for (const req of [...this.requests]) req.reject(error);
  }

  /** Offers one frame to every pending capture. */
  feed(frame: Frame, obs: FrameObservation): void {
    if (this.requests.size === 0) return;
    // Computed at most once per frame, shared by every pending request.
    let crop: ImageData | null = null;
    /** The crop that is embedded (the aligner's alignForEmbedding), cut once, for a frame some request keeps. */
    let embedCrop: ImageData | null = null;
    let stats: ReturnType<typeof cropStats> | null = null;
    let livenessCrop: ImageData | undefined;
    let encodedFrame: Promise<Uint8Array> | undefined;
    for (const req of [...this.requests]) {
      req.lastStatus = obs.status;
      if (obs.status === 'multiple-faces') {
        this.guide(req, 'multiple-faces');
        if (++req.multiRun >= this.settings.multipleFacesFrames) {
          req.reject(new FaceLoginError('multiple-faces', 'More than one face is in view; only one person may be in front of the camera.'));
        }
        continue;
      }
      req.multiRun = 0;
      if (obs.status === 'no-face' || obs.status === 'too-small') {
        this.guide(req, obs.status === 'no-face' ? 'no-face' : 'too-far');
        continue;
      }
      const face = obs.faces[0]!;
      crop ??= this.settings.aligner.align(frame, face);
      const { quality, accept, wantLivenessCrop } = req.spec;
      if (quality) {
        stats ??= cropStats(crop);
        const issue = assessQuality(face, frame, stats, quality);
        if (issue) {
          this.guide(req, issue);
          continue;
        }
      }
      const want = accept(obs.pose!);
      if (want) {
        this.guide(req, want);
        continue;
      }
      this.guide(req, 'hold-still');
      if (frame.timestamp - req.lastKept < this.settings.sampleIntervalMs) continue;
      const cropLiveness = wantLivenessCrop ? this.settings.livenessCrop : null;
      if (cropLiveness) livenessCrop ??= cropLiveness(frame, face);
      const encoded = req.spec.encodeFrame ? (encodedFrame ??= encodeNow(req.spec.encodeFrame, frame)) : undefined;
      const aligner = this.settings.aligner;
      embedCrop ??= aligner.alignForEmbedding ? aligner.alignForEmbedding(frame, face) : crop;
      req.kept.push({
        crop: embedCrop,
        pose: obs.pose!,
        timestamp: frame.timestamp,
        ...(cropLiveness && livenessCrop ? { livenessCrop } : {}),
        ...(encoded ? { encoded } : {}),
      });
      req.lastKept = frame.timestamp;
      if (req.kept.length >= req.count) req.resolve(req.kept);
    }
  }

  private guide(req: Request, hint: Hint): void {
    if (req.lastHint === hint) return;
    req.lastHint = hint;
    const { done, total } = req.progress ?? { done: req.kept.length, total: req.count };
    this.settings.onGuidance({ step: req.step, hint, done, total });
  }
}

/** Starts encoding the current frame; a throw or a rejection is kept in the promise (handled, so never "unhandled" while it waits). */
function encodeNow(encode: (frame: Frame) => Promise<Uint8Array>, frame: Frame): Promise<Uint8Array> {
  let p: Promise<Uint8Array>;
  try {
    p = encode(frame);
  } catch (e) {
    p = Promise.reject(e);
  }
  p.catch(() => undefined);
  return p;
}
