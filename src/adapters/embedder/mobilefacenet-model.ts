/**
 * MobileFaceNet's contract, shared by the page's embedder (mobilefacenet-embedder.ts) and the
 * server's (server/vision/mobilefacenet-embedder.ts): identity, sizes, input normalisation and
 * the flip test-time augmentation. No DOM here (not even DOM types), so Node can run the very same
 * graph of TF.js ops as the page and both sides give the same embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../core/errors.js';
import { l2normalize } from '../../core/match.js';

/** The float32 weights as converted (bench and parity checks; not in the npm package). */
export const MOBILEFACENET_DIR = 'mobilefacenet';
/** The same graph with float16 weights: half the download, embeddings within cosine 0.99999 of float32 (bench/results). */
export const MOBILEFACENET_F16_DIR = 'mobilefacenet-f16';
/** Model + preprocessing identity, stored with every template so incompatible vectors are never compared. */
export const MOBILEFACENET_ID = 'mobilefacenet-expo-1.0.24';
export const MOBILEFACENET_SIZE = 192;
export const MOBILEFACENET_INPUT = 112;

/** How the weights are stored: float16 is the default (the package ships only it). */
export type MobileFaceNetWeights = 'float16' | 'float32';

/** The folder of `weights` under the models URL. */
export function mobileFaceNetDir(weights: MobileFaceNetWeights): string {
  return weights === 'float16' ? MOBILEFACENET_F16_DIR : MOBILEFACENET_DIR;
}

/**
 * The model id of an embedder with or without flip TTA and with float16 or float32 weights (each
 * has its own calibration). The aligner adds its own suffix (pipelineModelId in core/calibration).
 */
export function mobileFaceNetModelId(flip: boolean, weights: MobileFaceNetWeights = 'float32'): string {
  const base = weights === 'float16' ? `${MOBILEFACENET_ID}-f16` : MOBILEFACENET_ID;
  return flip ? `${base}+flip` : base;
}

/**
 * The model on a batch of aligned crops: `pixels` is [n, 112, 112, 3] RGB in 0..255, normalised
 * here to (x - 127.5) / 128. With `flip`, the crop and its mirror run in one batch and their two
 * L2-normalised embeddings are added (bench recipe s1.00+s1.00-m: +0.13 pt LFW accuracy, TAR @
 * FAR 1e-3 97.70 % -> 98.10 %, bench/results/lfw-compare.md). Returns [n, 192], not yet
 * normalised. Synchronous and allocating: call it inside tf.tidy.
 */
export function mobileFaceNetForward(model: GraphModel, pixels: tf.Tensor4D, flip: boolean): tf.Tensor2D {
  const input = tf.div(tf.sub(tf.cast(pixels, 'float32'), 127.5), 128);
  if (!flip) return model.execute(input) as tf.Tensor2D;
  const n = pixels.shape[0];
  const both = model.execute(tf.concat([input, tf.reverse(input, 2)], 0)) as tf.Tensor2D;
  const unit = tf.div(both, tf.maximum(tf.norm(both, 'euclidean', 1, true), 1e-12));
  const [a, b] = tf.split(unit, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
  return tf.add(a, b);
}

/**
 * Reads mobileFaceNetForward's output (and disposes it): one L2-normalised Float32Array per
 * crop. A model that gives another size than `size` is reported as model-load-failed.
 */
export async function readEmbeddings(output: tf.Tensor2D, n: number, size: number): Promise<Float32Array[]> {
  let data: Float32Array;
  try {
    data = (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
  const got = data.length / n;
  if (got !== size) throw new FaceLoginError('model-load-failed', `The embedding model returned ${got} values per face, expected ${size}.`);
  const result: Float32Array[] = [];
  for (let i = 0; i < n; i++) result.push(l2normalize(data.subarray(i * size, (i + 1) * size)));
  return result;
}
