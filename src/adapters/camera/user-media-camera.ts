import { FaceLoginError, abortError, cameraErrorFrom } from '../../core/errors.js';
import type { Camera, CameraInfo, Frame } from '../../core/types.js';

/** Where the camera picked last is remembered (localStorage), unless a camera says otherwise. */
export const CAMERA_STORAGE_KEY = 'face-login:camera';

export interface UserMediaCameraOptions {
  /** A specific camera (MediaDeviceInfo.deviceId); else the one remembered by select(), else the user-facing camera. */
  deviceId?: string;
  width?: number;
  height?: number;
  /** Video element to render into (the element's preview); one is created when omitted. */
  video?: HTMLVideoElement;
  /** localStorage key select() remembers the camera under (default CAMERA_STORAGE_KEY); null remembers nothing. */
  storageKey?: string | null;
}

/** Camera over navigator.mediaDevices.getUserMedia. Every track is stopped by stop(). */
export class UserMediaCamera implements Camera {
  private stream: MediaStream | null = null;
  private readonly videoEl: HTMLVideoElement;
  private readonly endedListeners = new Set<() => void>();
  private readonly storageKey: string | null;
  /** The device the next open() asks for (undefined: the default camera). */
  private deviceId: string | undefined;
  private lastTs = 0;
  /** Video frames presented so far (requestVideoFrameCallback), and the count last handed out. */
  private presented = 0;
  private consumed = -1;
  private lastMediaTime = -1;
  private frameCallback = 0;
  /** The open() in flight, and what cancels it (stop(), or the caller's signal). */
  private starting: Promise<HTMLVideoElement> | null = null;
  private opening: AbortController | null = null;

  constructor(private readonly options: UserMediaCameraOptions = {}) {
    this.videoEl = options.video ?? document.createElement('video');
    this.videoEl.muted = true;
    this.videoEl.playsInline = true;
    this.videoEl.autoplay = true;
    this.storageKey = options.storageKey === undefined ? CAMERA_STORAGE_KEY : options.storageKey;
    this.deviceId = options.deviceId || this.remembered();
  }

  get running(): boolean {
    return this.stream !== null && this.stream.getVideoTracks().some((t) => t.readyState === 'live');
  }

  get video(): HTMLVideoElement {
    return this.videoEl;
  }

  start(signal?: AbortSignal): Promise<HTMLVideoElement> {
    if (this.running) return Promise.resolve(this.videoEl);
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    let attempt = this.starting;
    if (!attempt) {
      const opening = new AbortController();
      const started = this.open(opening.signal);
      const settle = () => {
        if (this.starting !== started) return;
        this.starting = null;
        this.opening = null;
      };
      started.then(settle, settle);
      this.starting = attempt = started;
      this.opening = opening;
    }
    const opening = this.opening;
    signal?.addEventListener('abort', () => opening?.abort(signal.reason), { once: true });
    return attempt;
  }

  /** Opens the stream; once `signal` aborts, whatever it opened is stopped and it rejects with `aborted`. */
  private async open(signal: AbortSignal): Promise<HTMLVideoElement> {
    if (!globalThis.navigator?.mediaDevices?.getUserMedia) {
      throw new FaceLoginError('camera-unsupported', 'This browser cannot open a camera (getUserMedia is unavailable; the page must be served over HTTPS or from localhost).');
    }
    const { width = 640, height = 480 } = this.options;
    const deviceId = this.deviceId;
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
        if (!deviceId || signal.aborted || (name !== 'OverconstrainedError' && name !== 'NotFoundError')) throw e;
        stream = await open(undefined);
      }
    } catch (e) {
      if (signal.aborted) throw abortError(signal.reason);
      throw cameraErrorFrom(e);
    }
    // Stopped (or aborted) while getUserMedia was pending, or later on the way: end this stream's tracks now.
    const abandon = () => {
      if (this.stream === stream) this.stop();
      else for (const t of stream.getTracks()) t.stop();
      return abortError(signal.reason);
    };
    if (signal.aborted) throw abandon();
    this.stream = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', () => this.handleEnded(stream), { once: true });
    }
    this.videoEl.srcObject = stream;
    try {
      await this.videoEl.play();
    } catch (e) {
      if (signal.aborted) throw abandon();
      // Autoplay of a muted inline video is allowed everywhere we support; a failure here means no frames.
      this.stop();
      throw new FaceLoginError('camera-busy', 'The camera stream could not be played.', { cause: e });
    }
    if (this.videoEl.videoWidth === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        this.videoEl.addEventListener('loadedmetadata', () => resolve(), { once: true });
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (signal.aborted) throw abandon();
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
    this.opening?.abort(abortError());
    this.opening = null;
    this.starting = null;
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

  /** The video inputs; `current` marks the one streaming now (else the one the next start() asks for). */
  async list(): Promise<CameraInfo[]> {
    const inUse = this.stream?.getVideoTracks()[0]?.getSettings().deviceId ?? this.deviceId;
    return (await listCameras()).map((d) => ({ deviceId: d.deviceId, label: d.label, current: d.deviceId === inUse }));
  }

  /** Opens `deviceId` from the next start() on, and remembers it (storageKey) for the next visit. */
  select(deviceId: string): void {
    this.deviceId = deviceId || undefined;
    if (!this.storageKey) return;
    try {
      if (deviceId) localStorage.setItem(this.storageKey, deviceId);
      else localStorage.removeItem(this.storageKey);
    } catch {
      // Storage blocked: the choice lasts as long as this camera.
    }
  }

  private remembered(): string | undefined {
    if (!this.storageKey) return undefined;
    try {
      return globalThis.localStorage?.getItem(this.storageKey) ?? undefined;
    } catch {
      return undefined;
    }
  }
}

/** Lists video inputs (labels are empty until the page has camera permission). */
export async function listCameras(): Promise<MediaDeviceInfo[]> {
  if (!globalThis.navigator?.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === 'videoinput');
}
