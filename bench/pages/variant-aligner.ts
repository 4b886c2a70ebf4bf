import { estimateSimilarity, scaledTemplate, type Point, type Similarity } from '../../src/core/align.js';
import { CanvasAligner, mirrorImageData } from '../../src/adapters/aligner/canvas-aligner.js';
import type { Detection, Frame } from '../../src/core/types.js';

/** One alignment variant of the accuracy experiments (bench/runners/accuracy.mjs recipes). */
export interface VariantAlignerOptions {
  /** Template scale about the crop centre (1 = the ArcFace template the model was trained on). */
  templateScale: number;
  /** Mirror the crop horizontally after alignment (flip test-time augmentation from cached crops). */
  mirror: boolean;
  /**
   * Weight of each keypoint (right eye, left eye, nose tip, mouth centre) in the least-squares
   * fit. 0 drops a point: [1, 1, 1, 0] aligns on the eyes and nose only.
   */
  keypointWeights: readonly [number, number, number, number];
  /** The four target points in 112x112 crop pixels (right eye, left eye, nose tip, mouth centre), before `templateScale`. */
  template: readonly Point[];
}

/**
 * The product's CanvasAligner (same canvas warp) with the knobs only the benchmark turns: template
 * scale, keypoint weights, another template, a mirrored crop. The product aligns with
 * `new CanvasAligner()` alone.
 */
export class VariantAligner extends CanvasAligner {
  private readonly template: Point[];
  private readonly weights: readonly number[];
  private readonly mirror: boolean;

  constructor(options: VariantAlignerOptions) {
    super();
    if (options.template.length !== 4) throw new RangeError(`VariantAligner: template needs 4 points, got ${options.template.length}.`);
    this.template = scaledTemplate(options.templateScale, options.template);
    this.weights = options.keypointWeights;
    this.mirror = options.mirror;
    estimateSimilarity(this.template, this.template, this.weights); // validates the weights now
  }

  override align(frame: Frame, face: Detection): ImageData {
    const crop = super.align(frame, face);
    return this.mirror ? mirrorImageData(crop) : crop;
  }

  protected override fit(keypoints: readonly Point[]): Similarity {
    return estimateSimilarity(keypoints, this.template, this.weights);
  }
}
