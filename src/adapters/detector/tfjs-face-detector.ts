import { FaceLoginError } from '../../core/errors.js';
import type { Detection, FaceDetector, Frame } from '../../core/types.js';
import type { FetchModelOptions, ModelManifest } from '../models/model-files.js';
import { BlazeFaceTfjsDetector, type BlazeFaceRange } from './blazeface-tfjs.js';

export interface TfjsFaceDetectorOptions {
  /** Base URL of public/models (the manifest's `blazeface/` graph). */
  modelsUrl: string;
  manifest: ModelManifest;
  /** 'short' (default, the manifest's `blazeface/`) or 'full' (`blazeface-full/`: smaller, more distant faces). */
  range?: BlazeFaceRange;
  /** Faces below this score are ignored; 0.6 as the MediaPipe adapter. */
  minScore?: number;
  signal?: AbortSignal | undefined;
  onProgress?: FetchModelOptions['onProgress'] | undefined;
}

/**
 * The page's lighter detector (issue 14): the same BlazeFace graph the server runs
 * (BlazeFaceTfjsDetector, 0.2 MB gzip), on the page's TF.js backend, instead of MediaPipe's
 * tasks-vision runtime (a 3.9 MB gzip wasm). Same model, so the same faces; the detector parity
 * spec measures how close its boxes and keypoints are to MediaPipe's. The frame is read as RGBA
 * from a canvas of the frame's size (one getImageData per frame), which is what the graph's
 * letterbox step samples from, exactly as on the server.
 */
export class TfjsFaceDetector implements FaceDetector {
  readonly id: string;
  private inner: BlazeFaceTfjsDetector | null;
  private canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  private ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;

  private constructor(inner: BlazeFaceTfjsDetector) {
    this.inner = inner;
    this.id = inner.id;
  }

  /** Loads the graph (every file checked against the manifest) and warms it up. */
  static async create(options: TfjsFaceDetectorOptions): Promise<TfjsFaceDetector> {
    const { modelsUrl, manifest, range, minScore, signal } = options;
    const inner = await BlazeFaceTfjsDetector.create({ source: { modelsUrl, manifest }, signal, ...(range !== undefined ? { range } : {}), ...(minScore !== undefined ? { minScore } : {}) });
    return new TfjsFaceDetector(inner);
  }

  detect(frame: Frame): Detection[] {
    const inner = this.inner;
    if (!inner) throw new FaceLoginError('disposed', 'The face detector has been closed.');
    const { width, height } = frame;
    if (!(width > 0 && height > 0)) return [];
    return inner.detect(this.pixels(frame));
  }

  /** Frees the graph and the canvas. Idempotent. */
  dispose(): void {
    this.inner?.dispose();
    this.inner = null;
    this.ctx = null;
    this.canvas = null;
  }

  private pixels(frame: Frame): ImageData {
    const { width, height } = frame;
    if (!this.canvas || this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas = typeof OffscreenCanvas !== 'undefined'
        ? new OffscreenCanvas(width, height)
        : Object.assign(document.createElement('canvas'), { width, height });
      const ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
      if (!ctx) throw new FaceLoginError('invalid-input', 'A 2D canvas is not available for face detection.');
      this.ctx = ctx;
    }
    const ctx = this.ctx!;
    ctx.drawImage(frame.source, 0, 0, width, height);
    return ctx.getImageData(0, 0, width, height);
  }
}
