import { estimateSimilarity, toCanvasMatrix } from '../../src/core/align.js';
import { FaceLoginError } from '../../src/core/errors.js';
import type { Detection, Frame } from '../../src/core/types.js';

export interface SquareCropOptions {
  /** Output side in pixels. */
  size: number;
  /**
   * Side of the square, as a multiple of the detector box's longer side, about the box centre.
   * 1 = the BlazeFace box itself (about eyebrows to chin, cheek to cheek).
   */
  boxScale: number;
  /** Rotate so that the eyes are level (the crop is upright even when the head is tilted). Default true. */
  upright?: boolean;
}

/**
 * A square face crop around the detector box, drawn by a 2D canvas (bilinear): centred on the
 * box centre, side = boxScale x the box's longer side, turned so the eye line is horizontal.
 * Parts of the square outside the frame are black.
 */
export class SquareFaceCropper {
  readonly size: number;
  readonly boxScale: number;
  readonly upright: boolean;
  private readonly ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  constructor(options: SquareCropOptions) {
    const { size, boxScale, upright = true } = options;
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`crop size must be a positive integer, got ${size}`);
    if (!(boxScale > 0)) throw new RangeError(`boxScale must be > 0, got ${boxScale}`);
    this.size = size;
    this.boxScale = boxScale;
    this.upright = upright;
    const canvas = typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(size, size)
      : Object.assign(document.createElement('canvas'), { width: size, height: size });
    const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new FaceLoginError('invalid-input', 'A 2D canvas is not available for the liveness crop.');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    this.ctx = ctx;
  }

  crop(frame: Frame, face: Detection): ImageData {
    const { box, keypoints } = face;
    if (!(box.width > 0 && box.height > 0)) throw new FaceLoginError('invalid-input', 'The face box is empty.');
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const half = (Math.max(box.width, box.height) * this.boxScale) / 2;
    let angle = 0;
    if (this.upright && keypoints.length >= 2) {
      // keypoints[0] is the subject's right eye (image left), keypoints[1] the left eye.
      angle = Math.atan2(keypoints[1]!.y - keypoints[0]!.y, keypoints[1]!.x - keypoints[0]!.x);
    }
    const ux = Math.cos(angle) * half;
    const uy = Math.sin(angle) * half;
    // Two points on the square's horizontal mid-line fix the similarity: left edge -> x = 0, right edge -> x = size.
    const m = estimateSimilarity(
      [{ x: cx - ux, y: cy - uy }, { x: cx + ux, y: cy + uy }],
      [{ x: 0, y: this.size / 2 }, { x: this.size, y: this.size / 2 }],
    );
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.size, this.size);
    ctx.setTransform(...toCanvasMatrix(m));
    ctx.drawImage(frame.source, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    return ctx.getImageData(0, 0, this.size, this.size);
  }
}
