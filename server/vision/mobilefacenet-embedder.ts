/**
 * The page's MobileFaceNetEmbedder in Node: the same model files (public/models/mobilefacenet,
 * SHA-256-checked against the manifest), the same TF.js ops (mobileFaceNetForward, shared with
 * the page through src/adapters/embedder/mobilefacenet-model.ts), the same WASM kernels
 * (tf-runtime.ts), hence the same model id and the same embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import {
  MOBILEFACENET_INPUT,
  MOBILEFACENET_SIZE,
  mobileFaceNetDir,
  mobileFaceNetForward,
  mobileFaceNetModelId,
  readEmbeddings,
  type MobileFaceNetWeights,
} from '../../src/adapters/embedder/mobilefacenet-model.js';
import { VisionError, messageOf } from './errors.js';
import { DEFAULT_MODELS_DIR, loadCheckedGraphModel, readModelManifest } from './model-files.js';
import { blackImage, type RgbaImage } from './rgba-image.js';
import { initTfRuntime } from './tf-runtime.js';

export interface NodeEmbedderOptions {
  /** The folder holding manifest.json and mobilefacenet/ (default: this checkout's public/models). */
  modelsDir?: string;
  /**
   * Flip test-time augmentation, as the page's embedder with `flip` (model id `...+flip`).
   * Default false, as createFaceAuth's default, so the server's vectors compare with the page's.
   */
  flip?: boolean;
  /** 'float16' (default, as the page) or 'float32' weights. */
  weights?: MobileFaceNetWeights;
}

export class MobileFaceNetNodeEmbedder {
  readonly modelId: string;
  readonly size = MOBILEFACENET_SIZE;
  readonly inputSize = MOBILEFACENET_INPUT;
  readonly backend = 'wasm';
  private model: GraphModel | null;

  private constructor(model: GraphModel, private readonly flip: boolean, weights: MobileFaceNetWeights) {
    this.model = model;
    this.modelId = mobileFaceNetModelId(flip, weights);
  }

  /** Starts TF.js (once per process), loads and checks the model, runs it once. */
  static async create(options: NodeEmbedderOptions = {}): Promise<MobileFaceNetNodeEmbedder> {
    const { modelsDir = DEFAULT_MODELS_DIR, flip = false, weights = 'float16' } = options;
    await initTfRuntime();
    const manifest = await readModelManifest(modelsDir);
    const embedder = new MobileFaceNetNodeEmbedder(await loadCheckedGraphModel(modelsDir, mobileFaceNetDir(weights), manifest), flip, weights);
    try {
      await embedder.embed([blackImage(MOBILEFACENET_INPUT, MOBILEFACENET_INPUT)]);
    } catch (e) {
      embedder.dispose();
      throw new VisionError('model-load-failed', `The embedding model failed its first run: ${messageOf(e)}`, { cause: e });
    }
    return embedder;
  }

  /** One L2-normalised embedding per 112x112 aligned crop (RgbaAligner's output), in one batch. */
  async embed(crops: readonly RgbaImage[]): Promise<Float32Array[]> {
    const model = this.model;
    if (!model) throw new VisionError('disposed', 'The embedder has been disposed.');
    if (crops.length === 0) return [];
    const side = MOBILEFACENET_INPUT;
    const wrong = crops.find((c) => c.width !== side || c.height !== side || c.data.length !== side * side * 4);
    if (wrong) throw new VisionError('invalid-input', `Crops must be ${side}x${side} RGBA, got ${wrong.width}x${wrong.height} (${wrong.data.length} bytes).`);
    try {
      // fromPixels takes {data: Uint8Array, width, height} outside the DOM: the same RGB values as the page's ImageData.
      const output = tf.tidy(() => {
        const pixels = crops.map((c) => tf.browser.fromPixels({ data: new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.length), width: c.width, height: c.height }, 3));
        return mobileFaceNetForward(model, tf.stack(pixels) as tf.Tensor4D, this.flip);
      });
      return await readEmbeddings(output, crops.length, this.size);
    } catch (e) {
      if (e instanceof VisionError) throw e;
      throw new VisionError('model-load-failed', `The embedding model failed: ${messageOf(e)}`, { cause: e });
    }
  }

  /** Frees the model's tensors; idempotent. */
  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
