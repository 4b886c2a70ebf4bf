/**
 * Verification metrics for bench/runners/accuracy.mjs. Pure functions over pair scores (cosine, higher =
 * more similar), labels (true = same person) and fold indices. Decision rule everywhere:
 * accept when score >= threshold (as decideVerify in src/core/match.ts).
 *
 * A pair whose score is null (a face was not found in one of its images) is treated as the product
 * would treat it: never accepted. In 10-fold accuracy it counts as an error whatever its label
 * (the pessimistic convention); in ROC metrics it is a genuine pair that is rejected at every
 * threshold, or an impostor pair that is rejected at every threshold.
 */

/** @typedef {{ score: number | null, same: boolean, fold: number }} Pair */

const NEG = -Infinity;
const effective = (s) => (s === null || s === undefined || Number.isNaN(s) ? NEG : s);

export function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Population standard deviation (ddof = 0, numpy's default, as in the usual LFW protocol code). */
export function std(xs) {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

export function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function percentile(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/**
 * Threshold with the best accuracy on `pairs` (null scores excluded: they are errors at any
 * threshold). Candidates are midpoints between consecutive distinct scores (plus one below the
 * lowest and one above the highest); when several give the same best accuracy the middle one is
 * taken.
 */
export function bestAccuracyThreshold(pairs) {
  const valid = pairs.filter((p) => p.score !== null).sort((a, b) => a.score - b.score);
  const n = valid.length;
  if (n === 0) return { threshold: 0, accuracy: 0 };
  // k = index of the first accepted pair: accepted = valid[k..n-1].
  let impBelow = 0;
  let genTotal = 0;
  for (const p of valid) if (p.same) genTotal++;
  let genBelow = 0;
  let best = -1;
  let bestKs = [];
  for (let k = 0; k <= n; k++) {
    if (k > 0) {
      if (valid[k - 1].same) genBelow++;
      else impBelow++;
    }
    if (k > 0 && k < n && valid[k - 1].score === valid[k].score) continue; // no threshold splits a tie
    const correct = impBelow + (genTotal - genBelow);
    if (correct > best) {
      best = correct;
      bestKs = [k];
    } else if (correct === best) bestKs.push(k);
  }
  const k = bestKs[(bestKs.length - 1) >> 1];
  let threshold;
  if (k === 0) threshold = valid[0].score - 1e-6;
  else if (k === n) threshold = valid[n - 1].score + 1e-6;
  else threshold = (valid[k - 1].score + valid[k].score) / 2;
  return { threshold, accuracy: best / pairs.length };
}

export function accuracyAt(pairs, threshold) {
  let correct = 0;
  for (const p of pairs) {
    if (p.score === null) continue; // error whatever the label
    if ((p.score >= threshold) === p.same) correct++;
  }
  return correct / pairs.length;
}

/** Standard LFW protocol: for each fold, threshold chosen on the other nine, accuracy on it. */
export function tenFold(pairs) {
  const foldIds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  const folds = foldIds.map((f) => {
    const train = pairs.filter((p) => p.fold !== f);
    const test = pairs.filter((p) => p.fold === f);
    const { threshold, accuracy: trainAccuracy } = bestAccuracyThreshold(train);
    return { fold: f, threshold, trainAccuracy, accuracy: accuracyAt(test, threshold), pairs: test.length };
  });
  const accs = folds.map((f) => f.accuracy);
  return { folds, mean: mean(accs), std: std(accs), thresholdMean: mean(folds.map((f) => f.threshold)) };
}

/** ROC AUC = P(genuine score > impostor score) + 0.5 P(equal) (Mann-Whitney, ties averaged). */
export function auc(pairs) {
  const all = pairs.map((p) => ({ s: effective(p.score), same: p.same })).sort((a, b) => a.s - b.s);
  let rankSumGen = 0;
  let nGen = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1..j
    for (let k = i; k < j; k++) if (all[k].same) {
      rankSumGen += avgRank;
      nGen++;
    }
    i = j;
  }
  const nImp = all.length - nGen;
  return (rankSumGen - (nGen * (nGen + 1)) / 2) / (nGen * nImp);
}

function split(pairs) {
  const gen = pairs.filter((p) => p.same).map((p) => effective(p.score)).sort((a, b) => a - b);
  const imp = pairs.filter((p) => !p.same).map((p) => effective(p.score)).sort((a, b) => a - b);
  return { gen, imp };
}

/** Number of values in an ascending array that are >= t. */
function countAtLeast(asc, t) {
  let lo = 0;
  let hi = asc.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (asc[mid] >= t) hi = mid;
    else lo = mid + 1;
  }
  return asc.length - lo;
}

/** Rates at a threshold (accept when score >= t). */
export function ratesAt(pairs, t) {
  const { gen, imp } = split(pairs);
  const ga = countAtLeast(gen, t);
  const ia = countAtLeast(imp, t);
  return { threshold: t, tmr: ga / gen.length, fmr: ia / imp.length, genuineAccepted: ga, genuine: gen.length, impostorsAccepted: ia, impostors: imp.length };
}

/**
 * Equal error rate: over all thresholds at distinct scores, the one where FMR and FNMR are
 * closest; EER = their mean there.
 */
export function eer(pairs) {
  const { gen, imp } = split(pairs);
  const cands = [...new Set([...gen, ...imp].filter(Number.isFinite))].sort((a, b) => a - b);
  let best = null;
  for (const t of cands) {
    const fnmr = 1 - countAtLeast(gen, t) / gen.length;
    const fmr = countAtLeast(imp, t) / imp.length;
    const gap = Math.abs(fnmr - fmr);
    if (!best || gap < best.gap) best = { gap, threshold: t, fmr, fnmr, eer: (fmr + fnmr) / 2 };
  }
  return best;
}

/** Smallest number with `decimals` decimals strictly greater than x. */
export function roundUpAbove(x, decimals) {
  const f = 10 ** decimals;
  let r = Math.ceil(x * f - 1e-9) / f;
  if (r <= x) r = Math.round(r * f + 1) / f;
  return Number(r.toFixed(decimals));
}

/**
 * The lowest threshold whose false-match rate over all impostor pairs is <= target, with the
 * true-match rate there. With m impostors at most k = floor(target * m) may be accepted, so the
 * threshold lies just above the (k+1)-th highest impostor score (`boundary`: accept when
 * score > boundary). When target < 1 / m the rate cannot be resolved: k = 0, i.e. the strictest
 * measurable point, zero false matches (FMR < 1/m), which is reported as such.
 * `rounded` is the same point as a `score >= t` threshold with `decimals` decimals (the smallest
 * such t above the boundary), with its own rates.
 */
export function tarAtFar(pairs, target, decimals = 4) {
  const { gen, imp } = split(pairs);
  const m = imp.length;
  const k = Math.floor(target * m + 1e-9);
  const belowResolution = target < 1 / m;
  if (k >= m) {
    return { target, belowResolution, allowedFalseMatches: k, boundary: null, tmr: 1, fmr: 1, rounded: ratesAt(pairs, -1) };
  }
  const boundary = imp[m - 1 - k]; // (k+1)-th highest impostor score
  const tmr = (gen.length - countAtMost(gen, boundary)) / gen.length;
  const fmr = (m - countAtMost(imp, boundary)) / m;
  const t = Number.isFinite(boundary) ? roundUpAbove(boundary, decimals) : -1;
  return { target, belowResolution, resolution: 1 / m, allowedFalseMatches: k, boundary, tmr, fmr, rounded: ratesAt(pairs, t) };
}

/** Number of values in an ascending array that are <= t. */
function countAtMost(asc, t) {
  let lo = 0;
  let hi = asc.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (asc[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** ROC points (FMR, TMR) at every distinct score, from strictest to loosest. */
export function rocPoints(pairs) {
  const { gen, imp } = split(pairs);
  const cands = [...new Set([...gen, ...imp].filter(Number.isFinite))].sort((a, b) => b - a);
  const pts = [{ fmr: 0, tmr: 0, t: Infinity }];
  for (const t of cands) pts.push({ t, fmr: countAtLeast(imp, t) / imp.length, tmr: countAtLeast(gen, t) / gen.length });
  pts.push({ t: -Infinity, fmr: 1, tmr: 1 });
  return pts;
}

export function scoreStats(pairs) {
  const { gen, imp } = split(pairs);
  const f = (xs) => {
    const v = xs.filter(Number.isFinite);
    return { n: xs.length, min: v[0] ?? null, p1: percentile(v, 1), median: median(v), p99: percentile(v, 99), max: v[v.length - 1] ?? null, mean: v.length ? mean(v) : null };
  };
  return { genuine: f(gen), impostor: f(imp) };
}

function logGamma(x) {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X <= k) for X ~ Binomial(n, p). */
function binomCdf(k, n, p) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  const lc = logGamma(n + 1);
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(lc - logGamma(i + 1) - logGamma(n - i + 1) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, s);
}

/** Exact (Clopper-Pearson) two-sided confidence interval for x successes in n trials. */
export function clopperPearson(x, n, level = 0.95) {
  const a = (1 - level) / 2;
  const solve = (f) => {
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid)) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  };
  // lower: P(X >= x | p) = a  <=>  1 - cdf(x - 1) = a ; upper: cdf(x | p) = a
  const lower = x === 0 ? 0 : solve((p) => 1 - binomCdf(x - 1, n, p) >= a);
  const upper = x === n ? 1 : solve((p) => binomCdf(x, n, p) <= a);
  return { lower, upper, level };
}
