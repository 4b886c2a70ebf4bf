/**
 * The frames a session uploads: the whole camera frame, downscaled so that its longer side is at
 * most `maxSide` (default 640 px, never upscaled), as a JPEG (default quality 0.85). The pixels
 * are copied onto a canvas synchronously, while the frame is current; the JPEG is made from that
 * copy afterwards. server/vision/jpeg-decoder.ts decodes what this makes (baseline or
 * progressive, within its size limits: tests/browser/session-frames.spec.ts).
 */
import { FaceLoginError } from '../../core/errors.js';
import type { FrameEncoder } from '../../core/session.js';
import type { Frame } from '../../core/types.js';

export interface JpegFrameEncoderOptions {
  /** Longest side of the uploaded frame in pixels. Default 640. */
  maxSide?: number;
  /** JPEG quality, 0..1. Default 0.85. */
  quality?: number;
}

export const DEFAULT_UPLOAD_MAX_SIDE = 640;
export const DEFAULT_UPLOAD_QUALITY = 0.85;

/** The size a `width` x `height` frame is uploaded at: scaled down (aspect kept) so that its longer side is <= maxSide. */
export function uploadSize(width: number, height: number, maxSide = DEFAULT_UPLOAD_MAX_SIDE): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new FaceLoginError('frame-failed', `A ${width}x${height} frame cannot be encoded.`);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

type Canvas2D = OffscreenCanvas | HTMLCanvasElement;

export class JpegFrameEncoder implements FrameEncoder {
  readonly maxSide: number;
  readonly quality: number;

  constructor(options: JpegFrameEncoderOptions = {}) {
    const { maxSide = DEFAULT_UPLOAD_MAX_SIDE, quality = DEFAULT_UPLOAD_QUALITY } = options;
    if (!(Number.isInteger(maxSide) && maxSide >= 16)) throw new FaceLoginError('invalid-input', `maxSide must be an integer >= 16, got ${maxSide}.`);
    if (!(quality > 0 && quality <= 1)) throw new FaceLoginError('invalid-input', `quality must be in (0, 1], got ${quality}.`);
    this.maxSide = maxSide;
    this.quality = quality;
  }

  /** Copies the frame now (synchronously); resolves with the JPEG bytes. */
  encode(frame: Frame): Promise<Uint8Array> {
    const { width, height } = uploadSize(frame.width, frame.height, this.maxSide);
    const canvas: Canvas2D =
      typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
    const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new FaceLoginError('frame-failed', 'No 2D canvas is available to encode the camera frame.');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(frame.source, 0, 0, width, height);
    return toJpeg(canvas, this.quality);
  }
}

async function toJpeg(canvas: Canvas2D, quality: number): Promise<Uint8Array> {
  const blob =
    'convertToBlob' in canvas
      ? await canvas.convertToBlob({ type: 'image/jpeg', quality })
      : await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  if (!blob || blob.type !== 'image/jpeg') throw new FaceLoginError('frame-failed', `This browser did not encode the frame as JPEG (${blob?.type || 'nothing'}).`);
  return new Uint8Array(await blob.arrayBuffer());
}
