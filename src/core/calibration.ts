/**
 * The default decision threshold, from a measured operating point: the lowest cosine at which
 * the false-match rate over LFW's 3,000 impostor pairs is <= 1e-3, with this exact pipeline
 * (MediaPipe detection -> ArcFace 4-point alignment -> MobileFaceNet, score = cosine).
 * Measured by `node bench/lfw.mjs` (bench/results/lfw-wasm-s1.0.md); re-measure whenever the
 * model or the preprocessing changes.
 *
 * LFW pairs compare single photos. The element compares a 3-frame probe with the best of a
 * user's templates, which raises genuine and impostor scores alike; the e2e tests check the
 * accept / reject outcomes at this threshold.
 */
export const DEFAULT_THRESHOLD = 0.4332;

/** Where DEFAULT_THRESHOLD comes from, for the README and for pages that log it. */
export const DEFAULT_THRESHOLD_SOURCE = {
  dataset: 'LFW deep-funneled, pairs.txt (View 2), all 10 folds',
  pairs: 6000,
  impostorPairs: 3000,
  falseMatchRate: 3 / 3000,
  trueMatchRate: 2931 / 3000,
  measured: '2026-11-28, headless Chromium 156, TF.js WASM',
} as const;
