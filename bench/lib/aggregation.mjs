// @ts-check
/**
 * Template aggregation and score normalisation (issue 13), pure computation on embeddings: does a
 * user with several enrolled templates verify better by the best single template (what ships:
 * src/core/match.ts takes the best cosine over a user's templates), by the mean of the scores, by
 * the mean template, a quality-weighted mean template, or with the score normalised against a
 * cohort of strangers (Z-norm per template, T-norm per probe, S-norm = their mean)?
 *
 * Protocol (bench/runners/accuracy.mjs, section `agg`): each identity enrols E templates and probes
 * with (up to P of) its other images. Genuine = a probe against its own identity's enrolment;
 * impostor = a probe against every other identity's enrolment (every pair, so millions).
 * The operating point is set on impostors: threshold t at FMR f = the (floor(f m) + 1)-th highest
 * impostor score, accept when score > t (so at most floor(f m) impostors pass). "Pooled": t from
 * every impostor comparison, TAR over every genuine one. "10-fold": identities split in 10 seeded
 * folds; t from the comparisons among the 9 other folds only (probes and enrolments both outside the
 * test fold), then TAR and the FMR actually reached measured on the test fold's probes (against
 * every enrolment): out of sample, as a deployment meets its users.
 * The cohort (for the normalisations) is a disjoint set of images of people in neither role.
 */

/** @typedef {Float32Array | number[]} Vec */
/**
 * @typedef {{ id: string, gallery: Vec[], quality: number[], probes: Vec[] }} Identity
 * @typedef {{ name: string, description: string }} ScorerInfo
 */

export const SCORERS = /** @type {const} */ ([
  { name: 'best', description: 'best cosine over the E templates (what ships)' },
  { name: 'meanScore', description: 'mean of the E cosines' },
  { name: 'meanTemplate', description: 'cosine to the normalised mean of the E templates' },
  { name: 'qualityMean', description: 'cosine to the normalised detector-score-weighted mean template' },
  { name: 'bestZ', description: 'best over templates of the Z-normalised cosine (each template\'s mean / sd against the cohort)' },
  { name: 'bestT', description: 'best cosine, T-normalised (the probe\'s mean / sd against the cohort)' },
  { name: 'bestS', description: 'S-norm: mean of the Z- and T-normalised best scores' },
  { name: 'meanTemplateT', description: 'mean template, T-normalised' },
]);

/** @param {Vec} a @param {Vec} b */
export function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** @param {Vec} v */
export function unit(v) {
  const n = Math.sqrt(dot(v, v));
  if (!(n > 0)) throw new RangeError('cannot normalise a zero vector');
  return Float32Array.from(v, (x) => x / n);
}

/** Normalised weighted mean of unit vectors. @param {Vec[]} vs @param {number[]} [w] */
export function meanTemplate(vs, w) {
  if (!vs.length) throw new RangeError('no templates');
  const out = new Float64Array(vs[0].length);
  vs.forEach((v, k) => {
    const wk = w ? w[k] : 1;
    if (!(wk >= 0)) throw new RangeError(`weight ${wk} must be >= 0`);
    for (let i = 0; i < v.length; i++) out[i] += wk * v[i];
  });
  return unit(out);
}

/** Mean and standard deviation of a vector's cosines against a cohort. @param {Vec} v @param {Vec[]} cohort */
export function cohortStats(v, cohort) {
  if (cohort.length < 2) throw new RangeError('the cohort needs at least 2 vectors');
  let s = 0;
  let s2 = 0;
  for (const c of cohort) {
    const x = dot(v, c);
    s += x;
    s2 += x * x;
  }
  const mean = s / cohort.length;
  const sd = Math.sqrt(Math.max(1e-12, s2 / cohort.length - mean * mean));
  return { mean, sd };
}

/**
 * Per enrolment, what every scorer needs: its templates, the mean / quality-weighted mean templates,
 * each template's cohort statistics.
 * @param {Identity} idn @param {Vec[]} cohort
 */
export function prepareEnrolment(idn, cohort) {
  const mean = meanTemplate(idn.gallery);
  const qmean = meanTemplate(idn.gallery, idn.quality);
  return { id: idn.id, gallery: idn.gallery, mean, qmean, z: idn.gallery.map((g) => cohortStats(g, cohort)) };
}

/**
 * Every scorer's score of one probe against one enrolment. `t` = the probe's cohort statistics.
 * @param {Vec} p @param {{ mean: { mean: number, sd: number } }} probe
 * @param {ReturnType<typeof prepareEnrolment>} e
 * @returns {Record<(typeof SCORERS)[number]['name'], number>}
 */
export function scoreAll(p, probe, e) {
  let best = -Infinity;
  let sum = 0;
  let bestZ = -Infinity;
  for (let k = 0; k < e.gallery.length; k++) {
    const c = dot(p, e.gallery[k]);
    if (c > best) best = c;
    sum += c;
    const z = (c - e.z[k].mean) / e.z[k].sd;
    if (z > bestZ) bestZ = z;
  }
  const t = probe.mean;
  const bestT = (best - t.mean) / t.sd;
  const mt = dot(p, e.mean);
  return {
    best,
    meanScore: sum / e.gallery.length,
    meanTemplate: mt,
    qualityMean: dot(p, e.qmean),
    bestZ,
    bestT,
    bestS: (bestZ + bestT) / 2,
    meanTemplateT: (mt - t.mean) / t.sd,
  };
}

/**
 * Threshold at FMR `far` over impostor scores: accept when score > t; at most floor(far m) pass.
 * @param {Float64Array | Float32Array | number[]} impostors @param {number} far
 */
export function thresholdAtFar(impostors, far) {
  const m = impostors.length;
  if (!m) throw new RangeError('no impostor scores');
  const k = Math.floor(far * m);
  const s = Float64Array.from(impostors).sort();
  // The (k+1)-th highest; with ties, everything equal to it is refused too (still <= k pass).
  return { threshold: s[m - 1 - Math.min(k, m - 1)], allowed: k, comparisons: m };
}

/** Share of `xs` strictly above t. @param {ArrayLike<number>} xs @param {number} t */
export function shareAbove(xs, t) {
  let a = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] > t) a++;
  return { count: a, total: xs.length, rate: xs.length ? a / xs.length : NaN };
}

/** Seeded Fisher-Yates (mulberry32). @template T @param {T[]} xs @param {number} seed */
export function shuffledBy(xs, seed) {
  let a = seed >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Runs the experiment. Returns per scorer: pooled TAR at each FAR, the 10-fold mean / sd of TAR and
 * of the FMR reached out of sample, and McNemar's exact test of each scorer against `best` on the
 * genuine decisions at the pooled threshold of each FAR (`vsBest[j]` for `fars[j]`).
 * @param {{ identities: Identity[], cohort: Vec[], fars?: number[], folds?: number, seed?: number }} o
 */
export function runAggregation({ identities, cohort, fars = [1e-3, 1e-4], folds = 10, seed = 13 }) {
  if (identities.length < folds) throw new RangeError(`need at least ${folds} identities, got ${identities.length}`);
  const names = SCORERS.map((s) => s.name);
  const enrol = identities.map((i) => prepareEnrolment(i, cohort));
  const probes = identities.flatMap((idn, owner) => idn.probes.map((p) => ({ p, owner, t: { mean: cohortStats(p, cohort) } })));
  const foldOf = new Int32Array(identities.length);
  shuffledBy(identities.map((_, i) => i), seed).forEach((idx, k) => (foldOf[idx] = k % folds));
  const nI = identities.length;
  // scores[name][probe * nI + enrolment]
  /** @type {Record<string, Float32Array>} */
  const scores = Object.fromEntries(names.map((n) => [n, new Float32Array(probes.length * nI)]));
  probes.forEach((q, pi) => {
    for (let e = 0; e < nI; e++) {
      const s = scoreAll(q.p, q.t, enrol[e]);
      for (const n of names) scores[n][pi * nI + e] = s[n];
    }
  });
  const genuineOf = (/** @type {string} */ n, /** @type {(pi: number) => boolean} */ keep) => {
    const out = [];
    for (let pi = 0; pi < probes.length; pi++) if (keep(pi)) out.push(scores[n][pi * nI + probes[pi].owner]);
    return out;
  };
  const impostorsOf = (/** @type {string} */ n, /** @type {(pi: number) => boolean} */ keepProbe, /** @type {(e: number) => boolean} */ keepEnrol) => {
    const out = [];
    for (let pi = 0; pi < probes.length; pi++) {
      if (!keepProbe(pi)) continue;
      const row = pi * nI;
      for (let e = 0; e < nI; e++) if (e !== probes[pi].owner && keepEnrol(e)) out.push(scores[n][row + e]);
    }
    return Float32Array.from(out);
  };
  const all = () => true;
  /** @type {Record<string, any>} */
  const result = {};
  /** @type {Record<string, boolean[][]>} */
  const acceptedAt = {};
  for (const n of names) {
    const gen = genuineOf(n, all);
    const imp = impostorsOf(n, all, all);
    const pooled = fars.map((far) => {
      const t = thresholdAtFar(imp, far);
      const tar = shareAbove(gen, t.threshold);
      return { far, threshold: +t.threshold.toFixed(6), falseMatches: shareAbove(imp, t.threshold).count, comparisons: imp.length, tar: tar.rate, accepted: tar.count, genuine: tar.total };
    });
    acceptedAt[n] = pooled.map((p) => gen.map((g) => g > p.threshold));
    const perFold = [];
    for (let k = 0; k < folds; k++) {
      const inTest = (/** @type {number} */ pi) => foldOf[probes[pi].owner] === k;
      const train = impostorsOf(n, (pi) => !inTest(pi), (e) => foldOf[e] !== k);
      const testGen = genuineOf(n, inTest);
      const testImp = impostorsOf(n, inTest, all);
      perFold.push(fars.map((far) => {
        const t = thresholdAtFar(train, far).threshold;
        return { far, tar: shareAbove(testGen, t).rate, fmr: shareAbove(testImp, t).rate };
      }));
    }
    const tenFold = fars.map((far, j) => {
      const tars = perFold.map((f) => f[j].tar);
      const fmrs = perFold.map((f) => f[j].fmr);
      const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = (/** @type {number[]} */ xs) => { const m = mean(xs); return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)); };
      return { far, tarMean: mean(tars), tarSd: sd(tars), fmrMean: mean(fmrs), fmrMax: Math.max(...fmrs) };
    });
    result[n] = { pooled, tenFold, perFoldTar: fars.map((_, j) => perFold.map((f) => f[j].tar)) };
  }
  for (const n of names) {
    result[n].vsBest = fars.map((far, j) => {
      let b = 0;
      let c = 0;
      acceptedAt[n][j].forEach((acc, i) => {
        const base = acceptedAt.best[j][i];
        if (acc && !base) b++;
        if (!acc && base) c++;
      });
      // Paired over the folds: the same test identities, each scorer with its own out-of-sample threshold.
      const d = result[n].perFoldTar[j].map((/** @type {number} */ t, /** @type {number} */ k) => t - result.best.perFoldTar[j][k]);
      const meanDiff = d.reduce((a, x) => a + x, 0) / d.length;
      const sdDiff = Math.sqrt(d.reduce((a, x) => a + (x - meanDiff) ** 2, 0) / Math.max(1, d.length - 1));
      return { far, fixed: b, broken: c, pExact: mcnemarExact(b, c), tenFoldDiff: { mean: meanDiff, sd: sdDiff, better: d.filter((x) => x > 1e-12).length, worse: d.filter((x) => x < -1e-12).length } };
    });
  }
  return {
    scorers: SCORERS,
    counts: {
      identities: nI,
      templatesPerIdentity: identities[0]?.gallery.length ?? 0,
      genuine: probes.length,
      impostorComparisons: probes.length * (nI - 1),
      cohort: cohort.length,
      folds,
    },
    results: result,
  };
}

/** Two-sided exact McNemar p (binomial, p = 0.5 on the b + c discordant pairs). @param {number} b @param {number} c */
export function mcnemarExact(b, c) {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let lp = -n * Math.LN2; // log P(X = 0)
  let tail = 0;
  let logC = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC + lp);
  }
  return Math.min(1, 2 * tail);
}
