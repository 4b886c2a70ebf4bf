/**
 * The page's MeshAligner (src/adapters/aligner/mesh-aligner.ts) in Node: the same face mesh model
 * (public/models/facemesh, SHA-256-checked), the same geometry (src/core/face-mesh.ts) and the
 * same resampler as RgbaAligner, so a frame gives the server the crop it gives the page.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Point, Similarity } from '../../src/core/align.js';
import { ALIGNED_SIZE } from '../../src/core/align.js';
import { FACE_MESH_INPUT, fivePointAlignment, fivePointsFromMesh, meshCropSimilarity, type MeshBox } from '../../src/core/face-mesh.js';
import { FACE_MESH_DIR, runFaceMesh } from '../../src/adapters/landmarks/face-mesh-model.js';
import { VisionError, messageOf } from './errors.js';
import { DEFAULT_MODELS_DIR, loadCheckedGraphModel, readModelManifest } from './model-files.js';
import { RgbaAligner } from './rgba-aligner.js';
import type { RgbaImage } from './rgba-image.js';
import { initTfRuntime } from './tf-runtime.js';

export class NodeMeshAligner {
  /** The model id suffix of vectors made from these crops (pipelineModelId). */
  readonly id = 'mesh5';
  readonly size = ALIGNED_SIZE;
  private readonly warper = new RgbaAligner();
  private model: GraphModel | null;

  private constructor(model: GraphModel) {
    this.model = model;
  }

  /** Starts TF.js (once per process), loads and checks the mesh, runs it once. */
  static async create(options: { modelsDir?: string } = {}): Promise<NodeMeshAligner> {
    const { modelsDir = DEFAULT_MODELS_DIR } = options;
    await initTfRuntime();
    let model: GraphModel;
    try {
      model = await loadCheckedGraphModel(modelsDir, FACE_MESH_DIR, await readModelManifest(modelsDir));
    } catch (e) {
      if (e instanceof VisionError) throw e;
      throw new VisionError('model-load-failed', `The face mesh model could not be loaded: ${messageOf(e)}`, { cause: e });
    }
    try {
      runFaceMesh(model, () => tf.zeros([1, FACE_MESH_INPUT, FACE_MESH_INPUT, 3]) as tf.Tensor4D);
    } catch (e) {
      model.dispose();
      throw new VisionError('model-load-failed', `The face mesh model failed its first run: ${messageOf(e)}`, { cause: e });
    }
    return new NodeMeshAligner(model);
  }

  /** The mesh of the face with this box and keypoints: its crop from the frame and the model's output. */
  private runMesh(frame: RgbaImage, box: MeshBox, keypoints: readonly Point[]): { toCrop: Similarity; mesh: Float32Array; presence: number } {
    const model = this.model;
    if (!model) throw new VisionError('disposed', 'The face aligner has been disposed.');
    if (keypoints.length < 2) throw new VisionError('invalid-input', 'Alignment needs the eye keypoints.');
    let toCrop;
    try {
      toCrop = meshCropSimilarity(box, keypoints[0]!, keypoints[1]!);
    } catch (e) {
      throw new VisionError('invalid-input', `The face gives no mesh crop: ${messageOf(e)}`, { cause: e });
    }
    const input = this.warper.warp(frame, toCrop, FACE_MESH_INPUT);
    try {
      const out = runFaceMesh(model, () => tf.expandDims(tf.browser.fromPixels({ data: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.length), width: input.width, height: input.height }, 3), 0) as tf.Tensor4D);
      return { toCrop, mesh: out.mesh, presence: out.presence[0]! };
    } catch (e) {
      throw new VisionError('model-load-failed', `The face mesh model failed: ${messageOf(e)}`, { cause: e });
    }
  }

  /**
   * The mesh's face-presence probability (0..1) for this detection, as the page's MeshAligner
   * reads it; 0 for a box that gives no mesh crop. For the multiple-faces rule (facesByMesh).
   */
  presence(frame: RgbaImage, box: MeshBox, keypoints: readonly Point[]): number {
    try {
      return this.runMesh(frame, box, keypoints).presence;
    } catch (e) {
      if (e instanceof VisionError && e.code === 'invalid-input') return 0;
      throw e;
    }
  }

  /** The 112x112 crop aligned on five mesh points of the face with this box and keypoints (the eyes first). */
  align(frame: RgbaImage, box: MeshBox, keypoints: readonly Point[]): RgbaImage {
    const { toCrop, mesh } = this.runMesh(frame, box, keypoints);
    let fit;
    try {
      fit = fivePointAlignment(fivePointsFromMesh(mesh, toCrop));
    } catch (e) {
      throw new VisionError('invalid-input', `The mesh gives no alignment: ${messageOf(e)}`, { cause: e });
    }
    return this.warper.warp(frame, fit, ALIGNED_SIZE);
  }

  /** Frees the model's tensors; idempotent. */
  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
