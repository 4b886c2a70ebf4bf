import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Similarity } from '../../core/align.js';
import { FaceLoginError } from '../../core/errors.js';
import { FACE_MESH_INPUT, fivePointAlignment, fivePointsFromMesh, meshCropSimilarity } from '../../core/face-mesh.js';
import type { Aligner, Detection, Frame } from '../../core/types.js';
import { FACE_MESH_DIR, runFaceMesh } from '../landmarks/face-mesh-model.js';
import { loadManifestGraphModel } from '../models/graph-model.js';
import type { FetchModelOptions, ModelManifest } from '../models/model-files.js';
import { CanvasAligner, warpOnto } from './canvas-aligner.js';

export interface MeshAlignerOptions {
  modelsUrl: string;
  manifest: ModelManifest;
  signal?: AbortSignal | undefined;
  onProgress?: FetchModelOptions['onProgress'] | undefined;
}

/**
 * Five-point alignment (issue 13): the quality gates read the detector's 4-point crop
 * (CanvasAligner, every frame), and each frame kept for a decision is aligned again on five
 * points from MediaPipe's face mesh (src/core/face-mesh.ts): eye centres, nose tip and both mouth
 * corners onto the full ArcFace template. The mesh runs on the active TF.js backend, synchronously,
 * only on kept frames (~3 a verify, 5 an enrolment). Model id suffix: 'mesh5'.
 */
export class MeshAligner extends CanvasAligner implements Aligner {
  readonly id = 'mesh5';
  private model: GraphModel | null;
  private readonly meshCanvas: OffscreenCanvas | HTMLCanvasElement;
  private readonly meshCtx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  private constructor(model: GraphModel) {
    super();
    this.model = model;
    this.meshCanvas = typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(FACE_MESH_INPUT, FACE_MESH_INPUT)
      : Object.assign(document.createElement('canvas'), { width: FACE_MESH_INPUT, height: FACE_MESH_INPUT });
    const ctx = this.meshCanvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new FaceLoginError('invalid-input', 'A 2D canvas is not available for face alignment.');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    this.meshCtx = ctx;
  }

  /** Loads the face mesh (checked against the manifest) and runs it once. */
  static async create(options: MeshAlignerOptions): Promise<MeshAligner> {
    const model = await loadManifestGraphModel(options.modelsUrl, FACE_MESH_DIR, options.manifest, 'face mesh', { signal: options.signal, onProgress: options.onProgress });
    try {
      runFaceMesh(model, () => tf.zeros([1, FACE_MESH_INPUT, FACE_MESH_INPUT, 3]) as tf.Tensor4D);
    } catch (e) {
      model.dispose();
      throw new FaceLoginError('model-load-failed', `The face mesh model failed its first run: ${(e as Error).message ?? e}`, { cause: e });
    }
    return new MeshAligner(model);
  }

  /** The mesh of this face (its crop from the frame, the model's output). */
  private runMesh(frame: Frame, face: Detection): { toCrop: Similarity; mesh: Float32Array; presence: number } {
    const model = this.model;
    if (!model) throw new FaceLoginError('disposed', 'The face aligner has been disposed.');
    if (face.keypoints.length < 2) throw new FaceLoginError('invalid-input', 'Alignment needs the eye keypoints.');
    const toCrop = meshCropSimilarity(face.box, face.keypoints[0]!, face.keypoints[1]!);
    const pixels = warpOnto(this.meshCtx, FACE_MESH_INPUT, frame, toCrop);
    const { mesh, presence } = runFaceMesh(model, () => tf.expandDims(tf.browser.fromPixels(pixels, 3), 0) as tf.Tensor4D);
    return { toCrop, mesh, presence: presence[0]! };
  }

  /** The similarity from the frame onto the 5-point template, from the mesh of this face. */
  fivePointFit(frame: Frame, face: Detection): Similarity {
    const { toCrop, mesh } = this.runMesh(frame, face);
    return fivePointAlignment(fivePointsFromMesh(mesh, toCrop));
  }

  /** The mesh's face-presence probability for this detection; 0 for a box that gives no mesh crop. */
  facePresence(frame: Frame, face: Detection): number {
    try {
      return this.runMesh(frame, face).presence;
    } catch (e) {
      if (e instanceof RangeError || (e instanceof FaceLoginError && e.code === 'invalid-input')) return 0; // an empty or non-finite box
      throw e;
    }
  }

  alignForEmbedding(frame: Frame, face: Detection): ImageData {
    return this.cut(frame, this.fivePointFit(frame, face));
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
