import { ALIGNED_SIZE, ARCFACE_TEMPLATE_4, estimateSimilarity, toCanvasMatrix, type Point, type Similarity } from '../../core/align.js';
import { FaceLoginError } from '../../core/errors.js';
import type { Aligner, Detection, Frame } from '../../core/types.js';

/**
 * Warps the face onto the 112x112 ArcFace template with a similarity transform fitted to the
 * detector's eyes, nose tip and mouth centre, drawn by the 2D canvas (bilinear resampling).
 */
export class CanvasAligner implements Aligner {
  readonly size = ALIGNED_SIZE;
  private readonly canvas: OffscreenCanvas | HTMLCanvasElement;
  private readonly ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  constructor() {
    this.canvas = typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(ALIGNED_SIZE, ALIGNED_SIZE)
      : Object.assign(document.createElement('canvas'), { width: ALIGNED_SIZE, height: ALIGNED_SIZE });
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true }) as
      | OffscreenCanvasRenderingContext2D
      | CanvasRenderingContext2D
      | null;
    if (!ctx) throw new FaceLoginError('invalid-input', 'A 2D canvas is not available for face alignment.');
    this.ctx = ctx;
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.imageSmoothingQuality = 'high';
  }

  align(frame: Frame, face: Detection): ImageData {
    if (face.keypoints.length < 4) {
      throw new FaceLoginError('invalid-input', 'Alignment needs the eyes, nose and mouth keypoints.');
    }
    return this.cut(frame, this.fit(face.keypoints.slice(0, 4)));
  }

  /** The 112x112 crop that `m` (frame pixels -> crop pixels) cuts from the frame, black outside it. */
  protected cut(frame: Frame, m: Similarity): ImageData {
    return warpOnto(this.ctx, ALIGNED_SIZE, frame, m);
  }

  /** The similarity taking the eyes, nose tip and mouth centre onto the ArcFace template. */
  protected fit(keypoints: readonly Point[]): Similarity {
    return estimateSimilarity(keypoints, ARCFACE_TEMPLATE_4);
  }
}

/** The `size` x `size` image that `m` (frame pixels -> canvas pixels) cuts from the frame on `ctx`, black outside it. */
export function warpOnto(ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D, size: number, frame: Frame, m: Similarity): ImageData {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, size, size);
  ctx.setTransform(...toCanvasMatrix(m));
  ctx.drawImage(frame.source, 0, 0);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return ctx.getImageData(0, 0, size, size);
}

/** Mirrors an RGBA crop left-right (the flipped face for test-time augmentation). */
export function mirrorImageData(img: ImageData): ImageData {
  const { width: w, height: h, data } = img;
  const out = new ImageData(w, h);
  const o = out.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 4;
      const d = (y * w + (w - 1 - x)) * 4;
      o[d] = data[s]!; o[d + 1] = data[s + 1]!; o[d + 2] = data[s + 2]!; o[d + 3] = data[s + 3]!;
    }
  }
  return out;
}
