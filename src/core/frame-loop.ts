/**
 * The frame loop: camera -> detector -> FrameObservation, about 30 times a second while the
 * camera runs. It knows nothing of captures or events: each observation goes to `sink.frame`,
 * a frame that cannot be processed to `sink.error`, a camera that ends by itself to `sink.ended`.
 */
import { FaceLoginError, abortError, disposedError, isFaceLoginError } from './errors.js';
import { facesByMesh } from './face-mesh.js';
import { estimateHeadPose, type HeadPose } from './pose.js';
import type { Camera, Detection, FaceDetector, Frame } from './types.js';

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

export interface FrameSink {
  frame(frame: Frame, observation: FrameObservation): void;
  error(error: FaceLoginError): void;
  ended(error: FaceLoginError): void;
}

/** Never faster than ~30 fps, and always yield so the page stays responsive. */
const FRAME_INTERVAL_MS = 1000 / 30;
const MIN_YIELD_MS = 4;

export class FrameLoop {
  private running = false;
  private closed = false;
  /** Bumped by stop() and close(): an open still in flight then undoes itself. */
  private session = 0;
  /** The current session's open, which a second start() joins. */
  private opening: Promise<void> | null = null;
  /** The last open, current or not: a new one begins only once it has settled. */
  private settled: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribeEnded: (() => void) | null = null;
  private lastTimestamp = Number.NaN;

  constructor(
    private readonly camera: Camera,
    private readonly detector: FaceDetector,
    /** Faces narrower than this (frame pixels) are 'too-small'. */
    private readonly minFaceSize: number,
    private readonly sink: FrameSink,
    /**
     * The landmark model's face-presence probability (Aligner.facePresence): when the detector
     * reports several faces, only those it calls faces count (facesByMesh). Absent: all count.
     */
    private readonly facePresence?: (frame: Frame, face: Detection) => number,
  ) {}

  /** 'opening' from start() until the camera runs (or the open fails). */
  get state(): 'stopped' | 'opening' | 'running' {
    return this.running ? 'running' : this.opening ? 'opening' : 'stopped';
  }

  /**
   * Opens the camera, then runs the loop. A call while the camera is opening joins that open.
   * Rejects with `disposed` when close() came first or while the camera opened, with `aborted`
   * when the signal aborted or stop() came meanwhile; either way a camera this call opened is
   * stopped again (one that was already running is left running).
   */
  start(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(disposedError());
    if (this.running) return Promise.resolve();
    if (this.opening) return this.opening;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    const session = this.session;
    const open = this.settled.then(() => this.open(session, signal));
    this.settled = open.catch(() => undefined);
    this.opening = open;
    const done = () => {
      if (this.opening === open) this.opening = null;
    };
    open.then(done, done);
    return open;
  }

  private async open(session: number, signal: AbortSignal | undefined): Promise<void> {
    if (session !== this.session) throw this.interrupted(signal);
    const wasRunning = this.camera.running;
    try {
      await this.camera.start(signal);
    } catch (e) {
      if (this.closed || signal?.aborted) throw this.interrupted(signal);
      throw e;
    }
    if (session !== this.session || signal?.aborted) {
      if (!wasRunning) this.camera.stop();
      throw this.interrupted(signal);
    }
    this.unsubscribeEnded = this.camera.onEnded(() => {
      this.halt();
      this.sink.ended(new FaceLoginError('camera-ended', 'The camera stopped (it was unplugged or its permission was revoked).'));
    });
    this.running = true;
    this.schedule(session, 0);
  }

  private interrupted(signal: AbortSignal | undefined): FaceLoginError {
    if (this.closed) return disposedError();
    if (signal?.aborted) return abortError(signal.reason);
    return new FaceLoginError('aborted', 'The camera was stopped while it was starting.');
  }

  /** Stops the loop and every camera track; an open in flight rejects with `aborted`. */
  stop(): void {
    this.halt();
    this.camera.stop();
  }

  /**
   * Stops the loop for good (idempotent): no frame reaches the detector afterwards, and an open
   * in flight rejects with `disposed`. Stops the camera only with `stopCamera` (the camera is
   * the caller's when they passed it in).
   */
  close(stopCamera: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.halt();
    if (stopCamera) this.camera.stop();
  }

  private halt(): void {
    this.session++;
    this.opening = null;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribeEnded?.();
    this.unsubscribeEnded = null;
  }

  private schedule(session: number, delay: number): void {
    this.timer = setTimeout(() => this.tick(session), delay);
  }

  private tick(session: number): void {
    if (session !== this.session) return;
    const started = performance.now();
    try {
      this.observe();
    } catch (e) {
      this.sink.error(isFaceLoginError(e) ? e : new FaceLoginError('frame-failed', `A camera frame could not be processed: ${(e as Error)?.message ?? e}`, { cause: e }));
    }
    // A sink may have stopped the loop (a capture that failed, a listener that disposed).
    if (session !== this.session) return;
    this.schedule(session, Math.max(MIN_YIELD_MS, FRAME_INTERVAL_MS - (performance.now() - started)));
  }

  /** Detects on the current camera frame (once per frame) and hands the observation on. */
  private observe(): void {
    const frame = this.camera.frame();
    if (!frame || frame.timestamp === this.lastTimestamp) return;
    this.lastTimestamp = frame.timestamp;
    const detected = this.detector.detect(frame);
    const presence = this.facePresence;
    const faces = presence && detected.length > 1 ? facesByMesh(detected, (f) => presence(frame, f)) : detected;
    const pose = faces.length === 1 && faces[0]!.keypoints.length >= 6 ? estimateHeadPose(faces[0]!.keypoints) : null;
    const observation: FrameObservation = {
      timestamp: frame.timestamp,
      width: frame.width,
      height: frame.height,
      faces,
      status: this.classify(faces),
      pose,
    };
    this.sink.frame(frame, observation);
  }

  private classify(faces: readonly Detection[]): FaceStatus {
    if (faces.length === 0) return 'no-face';
    if (faces.length > 1) return 'multiple-faces';
    if (faces[0]!.box.width < this.minFaceSize) return 'too-small';
    return 'ok';
  }
}
