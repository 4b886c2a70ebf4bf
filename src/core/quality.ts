/**
 * Capture quality: is this frame good enough to enrol (or to verify) from? Pure functions over
 * the detection and the aligned crop, so every gate is unit-tested and the numbers are in one
 * place. Each failed gate is one short reason, which the element turns into a spoken hint.
 */
import type { Detection } from './types.js';

export type QualityIssue =
  | 'too-far'
  | 'too-close'
  | 'off-center'
  | 'low-score'
  | 'too-dark'
  | 'too-bright'
  | 'blurry';

export interface QualityThresholds {
  /** Face box width / frame width. Below: too far. Default 0.10 (~64 px of 640; ~80 cm on a laptop camera). */
  minFaceRatio: number;
  /** Above: too close. Default 0.75. */
  maxFaceRatio: number;
  /** Face centre must be within this fraction of the frame from its centre (each axis). Default 0.30. */
  maxCenterOffset: number;
  /** Detector confidence. Default 0.7. */
  minScore: number;
  /** Mean luma of the aligned crop's centre, 0-255. Defaults 50 and 215. */
  minLuma: number;
  maxLuma: number;
  /** Share of the crop's centre that is blown out (luma >= 250). Above: too bright. Default 0.2. */
  maxClipped: number;
  /**
   * Variance of the Laplacian of the crop's luma. Default 40: sharp LFW faces in a 640x480 frame
   * measure 87-148, the same blurred by 3 px 12-30 (tests/browser/quality.spec.ts).
   */
  minSharpness: number;
}

export const ENROLL_QUALITY: QualityThresholds = {
  minFaceRatio: 0.1,
  maxFaceRatio: 0.75,
  maxCenterOffset: 0.3,
  minScore: 0.7,
  minLuma: 50,
  maxLuma: 215,
  maxClipped: 0.2,
  minSharpness: 40,
};

/** Verification is more forgiving on framing (kiosks, people at 40-80 cm), same on image quality. */
export const VERIFY_QUALITY: QualityThresholds = { ...ENROLL_QUALITY, minFaceRatio: 0.08, maxCenterOffset: 0.4, minScore: 0.6 };

export interface CropStats {
  readonly luma: number;
  /** Share of pixels with luma >= 250. */
  readonly clipped: number;
  readonly sharpness: number;
}

interface Pixels {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/**
 * Mean luma of the crop's central half, its blown-out share, and the variance of its 4-neighbour Laplacian: a
 * standard, cheap focus measure (it falls sharply with blur and motion).
 */
export function cropStats(img: Pixels): CropStats {
  const { data, width: w, height: h } = img;
  const y = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) y[i] = 0.299 * data[i * 4]! + 0.587 * data[i * 4 + 1]! + 0.114 * data[i * 4 + 2]!;
  const x0 = Math.floor(w / 4), x1 = Math.ceil((3 * w) / 4), y0 = Math.floor(h / 4), y1 = Math.ceil((3 * h) / 4);
  let sum = 0, n = 0, lsum = 0, lsq = 0, clipped = 0;
  for (let r = y0; r < y1; r++) {
    for (let c = x0; c < x1; c++) {
      const i = r * w + c;
      sum += y[i]!;
      if (y[i]! >= 250) clipped++;
      const lap = y[i - 1]! + y[i + 1]! + y[i - w]! + y[i + w]! - 4 * y[i]!;
      lsum += lap;
      lsq += lap * lap;
      n++;
    }
  }
  const mean = lsum / n;
  return { luma: sum / n, clipped: clipped / n, sharpness: lsq / n - mean * mean };
}

/** The first failed gate (most actionable first), or null when the capture is good. */
export function assessQuality(
  face: Detection,
  frame: { width: number; height: number },
  stats: CropStats | null,
  t: QualityThresholds,
): QualityIssue | null {
  const ratio = face.box.width / frame.width;
  if (ratio < t.minFaceRatio) return 'too-far';
  if (ratio > t.maxFaceRatio) return 'too-close';
  const cx = (face.box.x + face.box.width / 2) / frame.width - 0.5;
  const cy = (face.box.y + face.box.height / 2) / frame.height - 0.5;
  if (Math.abs(cx) > t.maxCenterOffset || Math.abs(cy) > t.maxCenterOffset) return 'off-center';
  if (face.score < t.minScore) return 'low-score';
  if (stats) {
    if (stats.luma < t.minLuma) return 'too-dark';
    if (stats.luma > t.maxLuma || stats.clipped > t.maxClipped) return 'too-bright';
    if (stats.sharpness < t.minSharpness) return 'blurry';
  }
  return null;
}
