import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../core/errors.js';
import type { Point } from '../../core/align.js';
import { loadManifestGraphModel } from '../models/graph-model.js';
import type { ModelManifest } from '../models/model-files.js';
import { BLAZEFACE_FULL_RANGE_GRID, BLAZEFACE_SHORT_RANGE_GRID, anchorCentres, type AnchorGrid } from './blazeface-anchors.js';

/**
 * BlazeFace short range on TF.js: the same model as the MediaPipe adapter (the pinned
 * face_detection_short_range.tflite, converted by scripts/models/tflite-to-tfjs.mjs into
 * public/models/blazeface/), with MediaPipe's pre- and post-processing written out, so it
 * runs wherever TF.js does (its WASM backend in Node, any backend in a page) and gives the
 * browser's detections (tests/browser/detector-parity.spec.ts measures how close).
 *
 * `range: 'full'` runs BlazeFace full range instead (face_detection_full_range.tflite from the same
 * pinned package, converted into public/models/blazeface-full/): a 192x192 input and 2304 anchors
 * (one per cell of a 48x48 grid, blazeface-anchors.ts), for faces far from the camera; the same
 * pre- and post-processing otherwise, as MediaPipe's face_detection_full_range.pbtxt configures it.
 *
 * What it does, as MediaPipe's FaceDetectorGraph does for this model:
 * 1. letterbox: the frame, centred in a square of its longer side (black around it), sampled
 *    bilinearly to 128x128 RGB (192x192 for full range) as MediaPipe's CPU path samples (see
 *    letterbox()), (v - 127.5) / 127.5;
 * 2. the graph: 896 (2304) rows of [x, y, w, h, 6 x (x, y)] in input pixels relative to the row's
 *    anchor, and 896 (2304) logits;
 * 3. score = sigmoid(logit clipped to +-100); rows under `minScore` and boxes with a negative
 *    size are dropped;
 * 4. weighted non-maximum suppression at IoU > `minSuppressionThreshold`: the best box takes
 *    the score-weighted mean of the boxes and keypoints it overlaps, and keeps its own score;
 * 5. back to frame pixels: the box as MediaPipe's pixel box (each of x, y, width, height
 *    truncated to an integer and clamped to the frame), keypoints as floats.
 *
 * The backend is the caller's (choose it once, before loading: `tf.setBackend` frees the
 * models of the previous one). No DOM: frames come in as RGBA bytes.
 */

/** Frame pixels, 4 bytes (R, G, B, A) per pixel, row-major: ImageData and decoded JPEGs both fit. */
export interface RgbaImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/**
 * One face in frame pixels: the shape of the engine's `Detection` (src/core/types.ts), declared
 * here because that file also declares DOM types, which server code cannot compile against
 * (tests/browser/detector-parity.spec.ts checks that the two stay assignable both ways).
 * Keypoints: the subject's right eye (image left), left eye, nose tip, mouth centre, right ear, left ear.
 */
export interface DetectedFace {
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly score: number;
  readonly keypoints: readonly Point[];
}

/** The folder of public/models that scripts/prepare-models.mjs writes the graph to. */
export const BLAZEFACE_TFJS_DIR = 'blazeface';
/** Model id, after the MediaPipe adapter's DETECTOR_ID: same model, another runtime. */
export const BLAZEFACE_TFJS_ID = 'blazeface-short-range-0.4.1657300184+tfjs';
export const BLAZEFACE_INPUT = 128;
/** The full-range graph's folder of public/models, its id and input size. */
export const BLAZEFACE_FULL_TFJS_DIR = 'blazeface-full';
export const BLAZEFACE_FULL_TFJS_ID = 'blazeface-full-range-0.4.1657300184+tfjs';
export const BLAZEFACE_FULL_INPUT = 192;

/** Which BlazeFace: short range (faces within ~2 m, the default) or full range (up to ~5 m). */
export type BlazeFaceRange = 'short' | 'full';
export const BLAZEFACE_RANGES: readonly BlazeFaceRange[] = ['short', 'full'];

interface RangeConfig {
  readonly id: string;
  readonly dir: string;
  readonly inputSize: number;
  readonly grid: AnchorGrid;
}

const RANGES: Readonly<Record<BlazeFaceRange, RangeConfig>> = {
  short: { id: BLAZEFACE_TFJS_ID, dir: BLAZEFACE_TFJS_DIR, inputSize: BLAZEFACE_INPUT, grid: BLAZEFACE_SHORT_RANGE_GRID },
  full: { id: BLAZEFACE_FULL_TFJS_ID, dir: BLAZEFACE_FULL_TFJS_DIR, inputSize: BLAZEFACE_FULL_INPUT, grid: BLAZEFACE_FULL_RANGE_GRID },
};

/** The range's settings; an unknown range (from untyped callers) is refused as invalid-input. */
function rangeConfig(range: unknown): RangeConfig {
  if (typeof range === 'string' && Object.prototype.hasOwnProperty.call(RANGES, range)) return RANGES[range as BlazeFaceRange];
  throw new FaceLoginError('invalid-input', `Unknown BlazeFace range ${JSON.stringify(range)}: use ${BLAZEFACE_RANGES.map((r) => `'${r}'`).join(' or ')}.`);
}

/** The folder of public/models holding the graph of `range` (throws invalid-input for an unknown range). */
export function blazeFaceModelDir(range: BlazeFaceRange = 'short'): string {
  return rangeConfig(range).dir;
}
const OUTPUTS = ['regressors', 'classificators'];
const NUM_KEYPOINTS = 6;
const COORDS = 4 + 2 * NUM_KEYPOINTS;
const SCORE_CLIP = 100;

/**
 * Where the model comes from: over fetch from public/models in a page (`modelsUrl` + the fetched
 * manifest, every file checked against its SHA-256), or a graph the caller already loaded and
 * checked (`model`: the server reads `public/models/blazeface` from disk with
 * server/vision/model-files.ts). Either way the detector owns the graph: dispose() frees it.
 */
export type BlazeFaceModelSource =
  | { readonly modelsUrl: string; readonly manifest: ModelManifest }
  | { readonly model: GraphModel };

export interface BlazeFaceTfjsOptions {
  readonly source: BlazeFaceModelSource;
  /** 'short' (default: the 128x128 model, BLAZEFACE_TFJS_ID) or 'full' (192x192, BLAZEFACE_FULL_TFJS_ID); a `model` source must be that range's graph. */
  readonly range?: BlazeFaceRange;
  /** Faces below this score are dropped; 0.6 as in the MediaPipe adapter (0.5 fires on Chromium's fake camera pattern). */
  readonly minScore?: number;
  /** Weighted NMS merges boxes overlapping the best one by more than this IoU (MediaPipe's default 0.3). */
  readonly minSuppressionThreshold?: number;
  /** Cancels the download (the `modelsUrl` source). */
  readonly signal?: AbortSignal;
}

interface Candidate {
  readonly score: number;
  /** xmin, ymin, xmax, ymax, then 6 x (x, y); normalised to the model input. */
  readonly coords: Float64Array;
}

export class BlazeFaceTfjsDetector {
  readonly id: string;
  readonly range: BlazeFaceRange;
  /** The model's square input size in pixels (128 short range, 192 full range). */
  readonly inputSize: number;
  private model: GraphModel | null;
  private readonly anchors: Float32Array;
  private readonly input: Float32Array;

  private constructor(
    model: GraphModel,
    range: BlazeFaceRange,
    readonly minScore: number,
    readonly minSuppressionThreshold: number,
  ) {
    const config = RANGES[range];
    this.model = model;
    this.range = range;
    this.id = config.id;
    this.inputSize = config.inputSize;
    this.anchors = anchorCentres(config.grid);
    this.input = new Float32Array(config.inputSize * config.inputSize * 3);
  }

  static async create(options: BlazeFaceTfjsOptions): Promise<BlazeFaceTfjsDetector> {
    const { source, range = 'short', minScore = 0.6, minSuppressionThreshold = 0.3, signal } = options;
    let config: RangeConfig;
    try {
      config = rangeConfig(range);
    } catch (e) {
      if ('model' in source) source.model.dispose(); // the detector owns a given graph, even when refused
      throw e;
    }
    const model = 'model' in source
      ? source.model
      : await loadManifestGraphModel(source.modelsUrl, config.dir, source.manifest, 'face detection', { signal });
    const detector = new BlazeFaceTfjsDetector(model, range, minScore, minSuppressionThreshold);
    try {
      // Warm-up: allocates the kernels once, so the first frame is not slow; and checks the graph's outputs.
      detector.detect({ data: new Uint8Array(4 * 4 * 4), width: 4, height: 4 });
    } catch (e) {
      detector.dispose();
      throw new FaceLoginError('model-load-failed', `The face detection model failed its first run: ${(e as Error).message ?? e}`, { cause: e });
    }
    return detector;
  }

  /** Faces at or above `minScore`, best first, in frame pixels. */
  detect(image: RgbaImage): DetectedFace[] {
    const model = this.model;
    if (!model) throw new FaceLoginError('disposed', 'The face detector has been closed.');
    const { width, height, data } = image;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || data.length < width * height * 4) {
      throw new FaceLoginError('invalid-input', `Expected ${width}x${height} RGBA pixels (${width * height * 4} bytes), got ${data.length} bytes.`);
    }
    const n = this.inputSize;
    letterbox(image, this.input, n);
    const raw = tf.tidy(() => {
      const x = tf.tensor4d(this.input, [1, n, n, 3]);
      const [boxes, logits] = model.execute(x, OUTPUTS) as tf.Tensor[];
      return { boxes: boxes!.dataSync() as Float32Array, logits: logits!.dataSync() as Float32Array };
    });
    const rows = this.anchors.length / 2;
    if (raw.logits.length !== rows || raw.boxes.length !== rows * COORDS) {
      throw new FaceLoginError('model-load-failed', `The ${this.range}-range face detection model returned ${raw.logits.length} rows, expected ${rows} (is it the ${this.range}-range graph?).`);
    }
    const faces = weightedNms(this.decode(raw.boxes, raw.logits), this.minSuppressionThreshold);
    return faces.map((c) => toFrame(c, width, height));
  }

  /** Frees the model. Idempotent. */
  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }

  private decode(boxes: Float32Array, logits: Float32Array): Candidate[] {
    const out: Candidate[] = [];
    const a = this.anchors;
    const N = this.inputSize;
    for (let i = 0; i < logits.length; i++) {
      const logit = Math.max(-SCORE_CLIP, Math.min(SCORE_CLIP, logits[i]!));
      const score = 1 / (1 + Math.exp(-logit));
      if (score < this.minScore) continue;
      const r = i * COORDS;
      const ax = a[2 * i]!;
      const ay = a[2 * i + 1]!;
      const cx = boxes[r]! / N + ax;
      const cy = boxes[r + 1]! / N + ay;
      const w = boxes[r + 2]! / N;
      const h = boxes[r + 3]! / N;
      if (!(w >= 0 && h >= 0)) continue; // negative or NaN size
      const coords = new Float64Array(4 + 2 * NUM_KEYPOINTS);
      coords.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]);
      for (let k = 0; k < NUM_KEYPOINTS; k++) {
        coords[4 + 2 * k] = boxes[r + 4 + 2 * k]! / N + ax;
        coords[5 + 2 * k] = boxes[r + 5 + 2 * k]! / N + ay;
      }
      out.push({ score, coords });
    }
    return out;
  }
}

/**
 * The model's input for a frame: 128x128x3 (full range: 192x192x3) floats in [-1, 1], letterboxed
 * (for checks against the TFLite graph).
 */
export function blazeFaceInput(image: RgbaImage, range: BlazeFaceRange = 'short'): Float32Array {
  const n = rangeConfig(range).inputSize;
  const out = new Float32Array(n * n * 3);
  letterbox(image, out, n);
  return out;
}

/**
 * The frame centred in a square of its longer side, sampled bilinearly to the N x N input and
 * normalised to [-1, 1], the way MediaPipe's CPU image-to-tensor step does it (an OpenCV
 * perspective warp): output pixel (u, v) reads the frame at (u, v) * side / N from the square's
 * corner, with pixel centres at integer coordinates, the position rounded to 1/32 pixel; taps
 * outside the frame are black; the sample is rounded to a byte before normalising. Measured
 * against the browser's MediaPipe: this convention, rather than sampling at output pixel centres,
 * is what makes the scores and keypoints agree (median keypoint deviation 1.7 % -> 0.1 % of the
 * box width).
 */
function letterbox(image: RgbaImage, out: Float32Array, N: number): void {
  const { data, width: W, height: H } = image;
  const side = Math.max(W, H);
  const scale = side / N;
  /** Integer tap and its weight for each output column / row, and whether each tap is inside. */
  const taps = (size: number, offset: number) => {
    const i0 = new Int32Array(N);
    const w = new Float64Array(N);
    for (let k = 0; k < N; k++) {
      const pos = Math.round((k * scale + offset) * 32) / 32;
      i0[k] = Math.floor(pos);
      w[k] = pos - i0[k]!;
    }
    const inside = (i: number) => i >= 0 && i < size;
    return { i0, w, inside };
  };
  const xs = taps(W, (W - side) / 2);
  const ys = taps(H, (H - side) / 2);
  const at = (x: number, y: number, c: number) => (xs.inside(x) && ys.inside(y) ? data[(y * W + x) * 4 + c]! : 0);
  let o = 0;
  for (let v = 0; v < N; v++) {
    const y0 = ys.i0[v]!;
    const wy = ys.w[v]!;
    for (let u = 0; u < N; u++, o += 3) {
      const x0 = xs.i0[u]!;
      const wx = xs.w[u]!;
      for (let c = 0; c < 3; c++) {
        const upper = at(x0, y0, c) * (1 - wx) + at(x0 + 1, y0, c) * wx;
        const lower = at(x0, y0 + 1, c) * (1 - wx) + at(x0 + 1, y0 + 1, c) * wx;
        out[o + c] = Math.round(upper * (1 - wy) + lower * wy) / 127.5 - 1;
      }
    }
  }
}

function iou(a: Float64Array, b: Float64Array): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's weighted NMS: take the best remaining box, merge every remaining box that
 * overlaps it by more than `threshold` (itself included) into a score-weighted mean of their
 * corners and keypoints, keep the best box's score, repeat with the rest.
 */
function weightedNms(candidates: Candidate[], threshold: number): Candidate[] {
  let remaining = [...candidates].sort((p, q) => q.score - p.score);
  const kept: Candidate[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const cluster: Candidate[] = [];
    const rest: Candidate[] = [];
    for (const c of remaining) (iou(c.coords, best.coords) > threshold ? cluster : rest).push(c);
    if (cluster.length === 0) {
      kept.push(best); // a degenerate (zero-area) best box overlaps nothing, not even itself
      break;
    }
    const coords = new Float64Array(best.coords.length);
    let total = 0;
    for (const c of cluster) {
      total += c.score;
      for (let i = 0; i < coords.length; i++) coords[i] = coords[i]! + c.coords[i]! * c.score;
    }
    for (let i = 0; i < coords.length; i++) coords[i] = coords[i]! / total;
    kept.push({ score: best.score, coords });
    remaining = rest;
  }
  return kept;
}

/** From the letterboxed input back to the frame: MediaPipe's integer pixel box, float keypoints. */
function toFrame(c: Candidate, W: number, H: number): DetectedFace {
  const side = Math.max(W, H);
  const px = (u: number) => (u - 0.5) * side + W / 2;
  const py = (v: number) => (v - 0.5) * side + H / 2;
  const k = c.coords;
  const x0 = px(k[0]!);
  const y0 = py(k[1]!);
  const clamp = (v: number, max: number) => Math.min(Math.max(Math.trunc(v), 0), max);
  const keypoints = [];
  for (let i = 0; i < NUM_KEYPOINTS; i++) keypoints.push({ x: px(k[4 + 2 * i]!), y: py(k[5 + 2 * i]!) });
  return {
    box: { x: clamp(x0, W), y: clamp(y0, H), width: clamp(px(k[2]!) - x0, W), height: clamp(py(k[3]!) - y0, H) },
    score: c.score,
    keypoints,
  };
}
