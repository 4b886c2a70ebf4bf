import { FaceLoginError, abortError, cameraErrorFrom } from '../../core/errors.js';
import type { Camera, Frame } from '../../core/types.js';

export interface UserMediaCameraOptions {
  /** A specific camera (MediaDeviceInfo.deviceId); the default is the user-facing camera. */
  deviceId?: string;
  width?: number;
  height?: number;
  /** Video element to render into (the element's preview); one is created when omitted. */
  video?: HTMLVideoElement;
}

/** Camera over navigator.mediaDevices.getUserMedia. Every track is stopped by stop(). */
export class UserMediaCamera implements Camera {
  private stream: MediaStream | null = null;
  private readonly videoEl: HTMLVideoElement;
  private readonly endedListeners = new Set<() => void>();
  private lastTs = 0;
  /** Video frames presented so far (requestVideoFrameCallback), and the count last handed out. */
  private presented = 0;
  private consumed = -1;
  private lastMediaTime = -1;
  private frameCallback = 0;
  private starting: Promise<HTMLVideoElement> | null = null;

  constructor(private readonly options: UserMediaCameraOptions = {}) {
    this.videoEl = options.video ?? document.createElement('video');
    this.videoEl.muted = true;
    this.videoEl.playsInline = true;
    this.videoEl.autoplay = true;
  }

  get running(): boolean {
    return this.stream !== null && this.stream.getVideoTracks().some((t) => t.readyState === 'live');
  }

  get video(): HTMLVideoElement {
    return this.videoEl;
  }

  start(signal?: AbortSignal): Promise<HTMLVideoElement> {
    if (this.running) return Promise.resolve(this.videoEl);
    this.starting ??= this.open(signal).finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async open(signal?: AbortSignal): Promise<HTMLVideoElement> {
    if (!globalThis.navigator?.mediaDevices?.getUserMedia) {
      throw new FaceLoginError('camera-unsupported', 'This browser cannot open a camera (getUserMedia is unavailable; the page must be served over HTTPS or from localhost).');
    }
    const { deviceId, width = 640, height = 480 } = this.options;
    const open = (id: string | undefined) =>
      navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { ...(id ? { deviceId: { exact: id } } : { facingMode: 'user' }), width: { ideal: width }, height: { ideal: height } },
      });
    let stream: MediaStream;
    try {
      try {
        stream = await open(deviceId);
      } catch (e) {
        // A remembered camera that is gone (unplugged, another machine): fall back to the default one.
        const name = (e as { name?: string }).name;
        if (!deviceId || (name !== 'OverconstrainedError' && name !== 'NotFoundError')) throw e;
        stream = await open(undefined);
      }
    } catch (e) {
      throw cameraErrorFrom(e);
    }
    if (signal?.aborted) {
      stream.getTracks().forEach((t) => t.stop());
      throw abortError(signal.reason);
    }
    this.stream = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', () => this.handleEnded(stream), { once: true });
    }
    this.videoEl.srcObject = stream;
    try {
      await this.videoEl.play();
    } catch (e) {
      // Autoplay of a muted inline video is allowed everywhere we support; a failure here means no frames.
      this.stop();
      throw new FaceLoginError('camera-busy', 'The camera stream could not be played.', { cause: e });
    }
    if (this.videoEl.videoWidth === 0) {
      await new Promise<void>((resolve) => this.videoEl.addEventListener('loadedmetadata', () => resolve(), { once: true }));
    }
    this.watchFrames();
    return this.videoEl;
  }

  private handleEnded(stream: MediaStream): void {
    if (this.stream !== stream) return;
    this.stop();
    for (const l of [...this.endedListeners]) l();
  }

  /** Counts presented video frames, so the same frame is never processed twice. */
  private watchFrames(): void {
    const v = this.videoEl;
    if (typeof v.requestVideoFrameCallback !== 'function') return;
    const onFrame = () => {
      this.presented++;
      if (this.stream) this.frameCallback = v.requestVideoFrameCallback(onFrame);
    };
    this.frameCallback = v.requestVideoFrameCallback(onFrame);
  }

  /** The current frame if it is new since the last call, else null (nothing new to look at). */
  frame(): Frame | null {
    const v = this.videoEl;
    if (!this.running || v.readyState < 2 || v.videoWidth === 0) return null;
    if (typeof v.requestVideoFrameCallback === 'function') {
      if (this.presented === this.consumed) return null;
      this.consumed = this.presented;
    } else {
      if (v.currentTime === this.lastMediaTime) return null;
      this.lastMediaTime = v.currentTime;
    }
    // Strictly increasing timestamps, as MediaPipe's VIDEO mode requires.
    const now = performance.now();
    this.lastTs = now > this.lastTs ? now : this.lastTs + 0.001;
    return { source: v, width: v.videoWidth, height: v.videoHeight, timestamp: this.lastTs };
  }

  onEnded(listener: () => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  stop(): void {
    const s = this.stream;
    this.stream = null;
    if (this.frameCallback && typeof this.videoEl.cancelVideoFrameCallback === 'function') this.videoEl.cancelVideoFrameCallback(this.frameCallback);
    this.frameCallback = 0;
    if (s) for (const t of s.getTracks()) t.stop();
    if (this.videoEl.srcObject) {
      this.videoEl.pause();
      this.videoEl.srcObject = null;
    }
  }
}

/** Lists video inputs (labels are empty until the page has camera permission). */
export async function listCameras(): Promise<MediaDeviceInfo[]> {
  if (!globalThis.navigator?.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === 'videoinput');
}
