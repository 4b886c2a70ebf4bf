/**
 * The page's CanvasAligner (src/adapters/aligner/canvas-aligner.ts) in Node: the same
 * similarity transform of the detector's eyes, nose tip and mouth centre onto the 112x112
 * ArcFace template (src/core/align.ts), and a resampler in plain TS that does what Chromium's
 * canvas drawImage does with imageSmoothingQuality 'high', measured on its output:
 * - scale >= 1/2 (LFW photos: faces up to 2x the crop; small faces, upscaled, measured to 1.9x):
 *   bilinear on the source pixels, sample points at pixel centres, edges clamped: on Chromium's
 *   decoded pixels this gives Chromium's crop to +-1 level, 99.6 % of the values identical;
 * - scale < 1/2 (a face in a camera frame is usually 2-4x the crop): bilinear on the mipmap level
 *   floor(log2(1 / scale)), each level a 2x2 box average of the one above. Chromium pre-scales
 *   images it draws smaller; this matches it best of what was tried (77 % identical, the rest
 *   mostly +-1; plain bilinear aliases). On Chromium's decoded pixels of 16 such 640x480 frames
 *   the lowest cosine to the page's embedding is 0.9987 without mipmaps and 0.99985 with them.
 * Pixels the frame does not cover stay black, with Skia's antialiased edge (coverage of a
 * half-pixel ramp). tests/browser/embedding-parity.spec.ts measures the whole pipeline against the page's.
 */
import { ALIGNED_SIZE, ARCFACE_TEMPLATE_4, estimateSimilarity, invertSimilarity, similarityScale, type Point, type Similarity } from '../../src/core/align.js';
import { VisionError } from './errors.js';
import type { RgbaImage } from './rgba-image.js';

export class RgbaAligner {
  readonly size = ALIGNED_SIZE;
  /** Mipmap levels of the frames seen lately (several faces in one frame share them). */
  private readonly mips = new WeakMap<Uint8ClampedArray, RgbaImage[]>();

  /** The 112x112 aligned crop of the face with these keypoints (the detector's first four are used). */
  align(frame: RgbaImage, keypoints: readonly Point[]): RgbaImage {
    if (keypoints.length < 4) throw new VisionError('invalid-input', 'Alignment needs the eyes, nose and mouth keypoints.');
    if (keypoints.some((p) => !Number.isFinite(p?.x) || !Number.isFinite(p?.y))) throw new VisionError('invalid-input', 'The keypoints must be finite numbers.');
    let m: Similarity;
    try {
      m = estimateSimilarity(keypoints.slice(0, 4), ARCFACE_TEMPLATE_4);
    } catch (e) {
      throw new VisionError('invalid-input', `The keypoints give no alignment: ${(e as Error).message}`, { cause: e });
    }
    return this.warp(frame, m, ALIGNED_SIZE);
  }

  /**
   * The `size` x `size` crop that `m` (frame pixels -> crop pixels) cuts from the frame, resampled
   * as the page's canvas does (the 5-point crop and the face mesh's input use it too).
   */
  warp(frame: RgbaImage, m: Similarity, size: number): RgbaImage {
    if (frame.data.length !== frame.width * frame.height * 4) throw new VisionError('invalid-input', `A ${frame.width}x${frame.height} RGBA frame needs ${frame.width * frame.height * 4} bytes, got ${frame.data.length}.`);
    if (![m.a, m.b, m.tx, m.ty].every(Number.isFinite)) throw new VisionError('invalid-input', 'The alignment is not finite.');
    const scale = similarityScale(m);
    if (!(scale > 1e-6)) throw new VisionError('invalid-input', 'The keypoints give a degenerate alignment.');
    return warp(this.level(frame, scale), frame, invertSimilarity(m), scale, size);
  }

  /** The mipmap level Chromium samples for this scale (0 = the frame itself). */
  private level(frame: RgbaImage, scale: number): RgbaImage {
    let want = scale >= 0.5 ? 0 : Math.floor(Math.log2(1 / scale));
    if (want === 0) return frame;
    let levels = this.mips.get(frame.data);
    if (!levels) {
      levels = [];
      this.mips.set(frame.data, levels);
    }
    while (levels.length < want) {
      const above = levels.length === 0 ? frame : levels[levels.length - 1]!;
      if (above.width < 2 || above.height < 2) break;
      levels.push(halve(above));
    }
    want = Math.min(want, levels.length);
    return want === 0 ? frame : levels[want - 1]!;
  }
}

/** The next mipmap level: half the size (rounded down), each pixel the rounded mean of 2x2. */
function halve(img: RgbaImage): RgbaImage {
  const w = img.width >> 1;
  const h = img.height >> 1;
  const src = img.data;
  const sw = img.width * 4;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = 2 * y * sw + 8 * x;
      const d = (y * w + x) * 4;
      for (let c = 0; c < 4; c++) out[d + c] = (src[s + c]! + src[s + 4 + c]! + src[s + sw + c]! + src[s + sw + 4 + c]! + 2) >> 2;
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * For each crop pixel centre, the frame point that the inverse similarity maps it to, sampled
 * bilinearly on `level` (whose pixels are frame.width / level.width frame pixels wide), weighted
 * by how much of the crop pixel the frame covers, over black.
 */
function warp(level: RgbaImage, frame: RgbaImage, inv: Similarity, scale: number, N: number): RgbaImage {
  const out = new Uint8ClampedArray(N * N * 4);
  const { width: lw, height: lh, data } = level;
  const kx = lw / frame.width;
  const ky = lh / frame.height;
  const W = frame.width;
  const H = frame.height;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const fx = inv.a * px - inv.b * py + inv.tx;
      const fy = inv.b * px + inv.a * py + inv.ty;
      const d = (y * N + x) * 4;
      out[d + 3] = 255;
      // Distance to the frame's edge, in crop pixels: coverage ramps over one pixel about it.
      const cover = clamp01(0.5 + Math.min(fx, W - fx) * scale) * clamp01(0.5 + Math.min(fy, H - fy) * scale);
      if (cover <= 0) continue;
      const sx = fx * kx - 0.5;
      const sy = fy * ky - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const ax = sx - x0;
      const ay = sy - y0;
      const xa = clampInt(x0, lw);
      const xb = clampInt(x0 + 1, lw);
      const ya = clampInt(y0, lh) * lw;
      const yb = clampInt(y0 + 1, lh) * lw;
      const w00 = (1 - ax) * (1 - ay) * cover;
      const w10 = ax * (1 - ay) * cover;
      const w01 = (1 - ax) * ay * cover;
      const w11 = ax * ay * cover;
      const i00 = (ya + xa) * 4, i10 = (ya + xb) * 4, i01 = (yb + xa) * 4, i11 = (yb + xb) * 4;
      for (let c = 0; c < 3; c++) {
        out[d + c] = Math.floor(data[i00 + c]! * w00 + data[i10 + c]! * w10 + data[i01 + c]! * w01 + data[i11 + c]! * w11 + 0.5);
      }
    }
  }
  return { width: N, height: N, data: out };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function clampInt(v: number, n: number): number {
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}
