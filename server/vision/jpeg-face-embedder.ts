/**
 * The server's half of the pipeline, for a camera frame and its detections: JPEG -> RGBA
 * (jpeg-decoder.ts) -> one aligned 112x112 crop per face (rgba-aligner.ts) -> MobileFaceNet
 * (mobilefacenet-embedder.ts). The keypoints come from a detector (the page's today; a Node
 * detector is being built separately).
 */
import type { Point } from '../../src/core/align.js';
import { VisionError } from './errors.js';
import { decodeJpeg, type JpegLimits } from './jpeg-decoder.js';
import { MobileFaceNetNodeEmbedder, type NodeEmbedderOptions } from './mobilefacenet-embedder.js';
import { RgbaAligner } from './rgba-aligner.js';

export interface JpegFaceEmbedderOptions extends NodeEmbedderOptions {
  /** Bounds on the frames accepted (DEFAULT_JPEG_LIMITS field by field). */
  limits?: Partial<JpegLimits>;
}

export class JpegFaceEmbedder {
  private readonly aligner = new RgbaAligner();

  private constructor(
    private readonly embedder: MobileFaceNetNodeEmbedder,
    private readonly limits: Partial<JpegLimits>,
  ) {}

  static async create(options: JpegFaceEmbedderOptions = {}): Promise<JpegFaceEmbedder> {
    const { limits = {}, ...embedderOptions } = options;
    return new JpegFaceEmbedder(await MobileFaceNetNodeEmbedder.create(embedderOptions), limits);
  }

  get modelId(): string {
    return this.embedder.modelId;
  }

  /** One L2-normalised embedding per face, in the order of `faces` (each the detector's keypoints in frame pixels). */
  async embed(jpeg: Uint8Array, faces: readonly (readonly Point[])[]): Promise<Float32Array[]> {
    if (faces.length === 0) throw new VisionError('invalid-input', 'No face to embed: give the keypoints of at least one.');
    const frame = decodeJpeg(jpeg, this.limits);
    return this.embedder.embed(faces.map((keypoints) => this.aligner.align(frame, keypoints)));
  }

  dispose(): void {
    this.embedder.dispose();
  }
}
