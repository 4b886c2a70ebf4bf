/**
 * Calibrated operating points of this pipeline (MediaPipe detection -> alignment -> MobileFaceNet,
 * score = cosine), one per model id, measured in headless Chromium (TF.js WASM) by
 * `npm run bench:accuracy` (bench/runners/accuracy.mjs, section calib; bench/results/
 * lfw-calibration-*.md). Re-measure whenever the model or the preprocessing changes.
 *
 * threshold: the lowest cosine at which the false-match rate over ALL cross-identity pairs of
 * LFW deep-funneled (every image of all 4,333 identities: 69,572,579 impostor comparisons) is
 * <= 1e-3. `atFmr1e4` is the same for 1e-4. tail: IMPOSTOR_TAIL's rows, from the same pairs.
 * The intervals (bootstrap over identities, 95 %) are in the result files: for the default,
 * 0.4580 [0.4516, 0.4746] and 0.5442 [0.5295, 0.5796].
 *
 * LFW pairs compare single photos. The element compares a 3-frame probe with the best of a
 * user's templates, which raises genuine and impostor scores alike; the e2e tests check the
 * accept / reject outcomes at these thresholds.
 */
export interface ModelCalibration {
  readonly threshold: number;
  /** The lowest cosine with FMR <= 1e-4 over the same impostor pairs. */
  readonly atFmr1e4: number;
  /** Per-comparison impostor tail: [false-match rate, lowest cosine with FMR <= it]. */
  readonly tail: readonly (readonly [fmr: number, cosine: number])[];
  readonly source: {
    readonly recipe: string;
    readonly dataset: string;
    /** LFW pairs.txt pairs the true-match rate is measured on. */
    readonly pairs: number;
    /** Impostor comparisons behind the threshold and the tail. */
    readonly impostorPairs: number;
    readonly falseMatchRate: number;
    /** TAR over pairs.txt's 3,000 genuine pairs at `threshold`. */
    readonly trueMatchRate: number;
    readonly measured: string;
    readonly note?: string;
  };
}

const LFW = 'LFW deep-funneled, all cross-identity pairs of all 11,817 images (4,333 identities); TAR on pairs.txt (View 2)';
const IMPOSTORS = 69_572_579;
const MEASURED = '2026-12-03, headless Chromium 156, TF.js WASM';
const F16_NOTE = 'measured with the float32 weights; the float16 weights give the same thresholds with five-point alignment (s1.00-L vs s1.00-L-h: 0.4580 and 0.5442 both) and embeddings within cosine 0.99999';

/** The five-point (face mesh) pipeline without flip: the product's default. */
const MESH5 = {
  threshold: 0.458,
  atFmr1e4: 0.5442,
  tail: [[1e-2, 0.3542], [3e-3, 0.4118], [1e-3, 0.458], [3e-4, 0.5044], [1e-4, 0.5442], [3e-5, 0.5839], [1e-5, 0.6172], [3e-6, 0.6516], [1e-6, 0.6906]],
} as const;
const MESH5_FLIP = {
  threshold: 0.459,
  atFmr1e4: 0.5467,
  tail: [[1e-2, 0.355], [3e-3, 0.4129], [1e-3, 0.459], [3e-4, 0.5059], [1e-4, 0.5467], [3e-5, 0.5869], [1e-5, 0.6201], [3e-6, 0.6551], [1e-6, 0.6962]],
} as const;
/** The detector's four keypoints (0.1.0's pipeline). */
const KEYPOINTS4 = {
  threshold: 0.4616,
  atFmr1e4: 0.545,
  tail: [[1e-2, 0.3576], [3e-3, 0.4155], [1e-3, 0.4616], [3e-4, 0.5071], [1e-4, 0.545], [3e-5, 0.5828], [1e-5, 0.6126], [3e-6, 0.6436], [1e-6, 0.6728]],
} as const;
const KEYPOINTS4_FLIP = {
  threshold: 0.463,
  atFmr1e4: 0.5483,
  tail: [[1e-2, 0.3588], [3e-3, 0.4169], [1e-3, 0.463], [3e-4, 0.5093], [1e-4, 0.5483], [3e-5, 0.5859], [1e-5, 0.6165]],
} as const;

const src = (recipe: string, trueMatchRate: number, note?: string, measured = MEASURED) => ({
  recipe, dataset: LFW, pairs: 6000, impostorPairs: IMPOSTORS, falseMatchRate: 1e-3, trueMatchRate, measured, ...(note ? { note } : {}),
});

export const MODEL_CALIBRATIONS: Readonly<Record<string, ModelCalibration>> = {
  /** The default: float16 weights, five points from the face mesh, one embedding per crop. */
  'mobilefacenet-expo-1.0.24-f16+mesh5': { ...MESH5, source: src('s1.00-L-h', 0.978) },
  'mobilefacenet-expo-1.0.24+mesh5': { ...MESH5, source: src('s1.00-L', 0.978) },
  /** Five points and flip test-time augmentation (crop + mirror): +0.27 pt TAR for twice the embedding. */
  'mobilefacenet-expo-1.0.24-f16+flip+mesh5': { ...MESH5_FLIP, source: src('s1.00-L-h+s1.00-L-h-m', 0.9807) },
  /** The detector's four keypoints (alignment: 'keypoints'). */
  'mobilefacenet-expo-1.0.24-f16': { ...KEYPOINTS4, source: src('s1.00', 0.966, F16_NOTE) },
  'mobilefacenet-expo-1.0.24': { ...KEYPOINTS4, source: src('s1.00', 0.966) },
  /** 0.1.0's default: four keypoints and flip (FMR 1e-3 over all pairs; it shipped at 0.4240, FMR 2.55e-3). */
  'mobilefacenet-expo-1.0.24-f16+flip': { ...KEYPOINTS4_FLIP, source: src('s1.00+s1.00-m', 0.9693, F16_NOTE, '2026-12-02, headless Chromium 156, TF.js WASM') },
  'mobilefacenet-expo-1.0.24+flip': { ...KEYPOINTS4_FLIP, source: src('s1.00+s1.00-m', 0.9693, undefined, '2026-12-02, headless Chromium 156, TF.js WASM') },
};

/** The default model (createFaceAuth, the element and the server): float16 MobileFaceNet on five-point crops, no flip. */
export const DEFAULT_MODEL_ID = 'mobilefacenet-expo-1.0.24-f16+mesh5';

/**
 * The model id of a pipeline: the embedder's (weights, flip) and the aligner's suffix ('mesh5' for
 * the face mesh's five points; none for the detector's four): vectors made with different
 * alignments are not comparable, so they never share an id.
 */
export function pipelineModelId(embedderModelId: string, alignerId?: string): string {
  return alignerId ? `${embedderModelId}+${alignerId}` : embedderModelId;
}

/** Calibration of a model id, or undefined for a model this repo has not measured. */
export function calibrationFor(modelId: string): ModelCalibration | undefined {
  return Object.prototype.hasOwnProperty.call(MODEL_CALIBRATIONS, modelId) ? MODEL_CALIBRATIONS[modelId] : undefined;
}

/** The default 1:1 threshold: the default model's (cosine 0.4580: FMR 1e-3 over 69.6 M LFW impostor pairs, TAR 97.80 % on pairs.txt). */
export const DEFAULT_THRESHOLD = MODEL_CALIBRATIONS[DEFAULT_MODEL_ID]!.threshold;

/** Where DEFAULT_THRESHOLD comes from, for the README and for pages that log it. */
export const DEFAULT_THRESHOLD_SOURCE = MODEL_CALIBRATIONS[DEFAULT_MODEL_ID]!.source;

/**
 * Open-set identification (1:N, kiosk). A probe that is compared with N templates has N chances
 * to false-match: at a fixed threshold the false-positive identification rate (FPIR: a stranger
 * returned as someone) grows like N x FMR. On LFW, a fixed cosine of 0.424 lets 16 % of strangers
 * through against 100 enrolled people and 91 % against 1,680 (bench/results/lfw-1n-s1.00-L-h.md).
 * So identify raises its threshold with the gallery size, to keep FPIR at DEFAULT_IDENTIFY_FPIR.
 */
export const DEFAULT_IDENTIFY_FPIR = 1e-2;

/**
 * Per-comparison impostor tail of the default model: [false-match rate, lowest cosine with FMR <=
 * it] for one probe against one template of another person. Measured by `npm run bench:accuracy`
 * (section calib) over all 69,572,579 cross-identity pairs of LFW; the 1:N section checks the rule
 * on never-enrolled identities (bench/results/lfw-1n-*.md).
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
