/**
 * Calibrated operating points of this pipeline (MediaPipe detection -> ArcFace 4-point alignment
 * -> MobileFaceNet, score = cosine), one per model id, measured in headless Chromium (TF.js WASM)
 * by `npm run bench:accuracy` (bench/runners/accuracy.mjs; results in bench/results/lfw-ours-*.md and
 * lfw-1n-*.md). Re-measure whenever the model or the preprocessing changes.
 *
 * threshold: the lowest cosine at which the false-match rate over LFW's 3,000 impostor pairs
 * (pairs.txt, all 10 folds) is <= 1e-3. tail: see IMPOSTOR_TAIL.
 *
 * LFW pairs compare single photos. The element compares a 3-frame probe with the best of a
 * user's templates, which raises genuine and impostor scores alike; the e2e tests check the
 * accept / reject outcomes at these thresholds.
 */
export interface ModelCalibration {
  readonly threshold: number;
  /** Per-comparison impostor tail: [false-match rate, lowest cosine with FMR <= it]. */
  readonly tail: readonly (readonly [fmr: number, cosine: number])[];
  readonly source: {
    readonly recipe: string;
    readonly dataset: string;
    readonly pairs: number;
    readonly impostorPairs: number;
    readonly falseMatchRate: number;
    readonly trueMatchRate: number;
    readonly tailComparisons: number;
    readonly measured: string;
  };
}

const LFW = 'LFW deep-funneled, pairs.txt (View 2), all 10 folds; tail: LFW 1:N, 1,326 never-enrolled identities x 1,680 gallery identities';

export const MODEL_CALIBRATIONS: Readonly<Record<string, ModelCalibration>> = {
  /** The product's default: flip test-time augmentation (crop + mirror, L2-normalised, added). */
  'mobilefacenet-expo-1.0.24+flip': {
    threshold: 0.424,
    tail: [
      [1e-2, 0.3488],
      [3e-3, 0.4072],
      [1e-3, 0.4539],
      [3e-4, 0.4999],
      [1e-4, 0.5366],
      [3e-5, 0.5757],
      [1e-5, 0.6133],
    ],
    source: { recipe: 's1.00+s1.00-m', dataset: LFW, pairs: 6000, impostorPairs: 3000, falseMatchRate: 3 / 3000, trueMatchRate: 0.981, tailComparisons: 2_227_680, measured: '2026-11-28, headless Chromium 156, TF.js WASM' },
  },
  /** One embedding per crop (MobileFaceNetEmbedder without flip). */
  'mobilefacenet-expo-1.0.24': {
    threshold: 0.4332,
    tail: [
      [1e-2, 0.3479],
      [3e-3, 0.4053],
      [1e-3, 0.452],
      [3e-4, 0.4979],
      [1e-4, 0.5343],
      [3e-5, 0.5763],
      [1e-5, 0.6098],
    ],
    source: { recipe: 's1.00', dataset: LFW, pairs: 6000, impostorPairs: 3000, falseMatchRate: 3 / 3000, trueMatchRate: 2931 / 3000, tailComparisons: 2_227_680, measured: '2026-11-28, headless Chromium 156, TF.js WASM' },
  },
};

/** The default model (createFaceAuth and the element): MobileFaceNet with flip TTA. */
export const DEFAULT_MODEL_ID = 'mobilefacenet-expo-1.0.24+flip';

/** Calibration of a model id, or undefined for a model this repo has not measured. */
export function calibrationFor(modelId: string): ModelCalibration | undefined {
  return Object.prototype.hasOwnProperty.call(MODEL_CALIBRATIONS, modelId) ? MODEL_CALIBRATIONS[modelId] : undefined;
}

/** The default 1:1 threshold: the default model's (cosine 0.4240, FMR 3/3000 on LFW, TMR 98.10 %). */
export const DEFAULT_THRESHOLD = MODEL_CALIBRATIONS[DEFAULT_MODEL_ID]!.threshold;

/** Where DEFAULT_THRESHOLD comes from, for the README and for pages that log it. */
export const DEFAULT_THRESHOLD_SOURCE = MODEL_CALIBRATIONS[DEFAULT_MODEL_ID]!.source;

/**
 * Open-set identification (1:N, kiosk). A probe that is compared with N templates has N chances
 * to false-match: at a fixed threshold the false-positive identification rate (FPIR: a stranger
 * returned as someone) grows like N x FMR. On LFW, the 1:1 default threshold above lets 14 % of
 * strangers through against 100 enrolled people and 88 % against 1,680
 * (bench/results/lfw-1n-s1.00.md). So identify raises its threshold with the gallery size, to
 * keep FPIR at DEFAULT_IDENTIFY_FPIR.
 */
export const DEFAULT_IDENTIFY_FPIR = 1e-2;

/**
 * Per-comparison impostor tail of the default model: [false-match rate, lowest cosine with FMR <=
 * it] for one probe against one template of another person. Fitted by `npm run bench:accuracy`
 * (section ident) on 2,227,680 comparisons: 1,326 never-enrolled LFW identities x 1,680 gallery
 * identities; the other 1,327 never-enrolled identities are held out to check the rule
 * (bench/results/lfw-1n-*.md).
 */
export const IMPOSTOR_TAIL = MODEL_CALIBRATIONS[DEFAULT_MODEL_ID]!.tail;

/** Per-comparison FMR that keeps the FPIR of a search over `comparisons` templates at `fpir`. */
export function comparisonFmr(fpir: number, comparisons: number): number {
  return -Math.expm1(Math.log1p(-fpir) / comparisons);
}

/**
 * Cosine at which one comparison false-matches with probability `fmr`, interpolated in log10(fmr)
 * between the rows of IMPOSTOR_TAIL. Beyond the measured rows the end segment is extended
 * (the tail falls about linearly in log(FMR) over the measured range); the result is clamped to
 * [-1, 0.99].
 */
export function thresholdAtFmr(fmr: number, tail: readonly (readonly [number, number])[] = IMPOSTOR_TAIL): number {
  if (!(fmr > 0 && fmr < 1)) throw new RangeError(`thresholdAtFmr: fmr must be in (0, 1), got ${fmr}.`);
  if (tail.length < 2) throw new RangeError('thresholdAtFmr: the tail needs at least two rows.');
  const x = Math.log10(fmr);
  let i = 0;
  while (i < tail.length - 2 && fmr < tail[i + 1]![0]) i++;
  const [f0, t0] = tail[i]!;
  const [f1, t1] = tail[i + 1]!;
  const t = t0 + ((t1 - t0) * (x - Math.log10(f0))) / (Math.log10(f1) - Math.log10(f0));
  return Math.min(0.99, Math.max(-1, t));
}

/**
 * The identify threshold for a search over `comparisons` templates (all templates of all enrolled
 * users: a user with five pose templates counts five). Never below `floor` (the 1:1 threshold).
 * Rounded up to 4 decimals. `tail` is IMPOSTOR_TAIL, this pipeline's; another model needs its own.
 */
export function identifyThreshold(
  comparisons: number,
  {
    fpir = DEFAULT_IDENTIFY_FPIR,
    floor = DEFAULT_THRESHOLD,
    tail = IMPOSTOR_TAIL,
  }: { fpir?: number; floor?: number; tail?: readonly (readonly [number, number])[] } = {},
): number {
  if (!(Number.isInteger(comparisons) && comparisons >= 0)) throw new RangeError(`identifyThreshold: comparisons must be an integer >= 0, got ${comparisons}.`);
  if (!(fpir > 0 && fpir < 1)) throw new RangeError(`identifyThreshold: fpir must be in (0, 1), got ${fpir}.`);
  if (comparisons === 0) return floor;
  const t = Math.ceil(thresholdAtFmr(comparisonFmr(fpir, comparisons), tail) * 1e4 - 1e-9) / 1e4;
  return Math.max(floor, t);
}
