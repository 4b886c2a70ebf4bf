// Pure metric code of the benchmarks (bench/lib/metrics.mjs, bench/lib/openset.mjs): the numbers the
// README quotes come from these functions, so they are checked against hand-computed cases.
import { describe, expect, it } from 'vitest';
import * as M from '../../bench/lib/metrics.mjs';
import * as C from '../../bench/lib/calibration.mjs';
import { cosine, fuse, search, opensetMetrics, ratesAtT } from '../../bench/lib/openset.mjs';

const pair = (score, same, fold = 0) => ({ score, same, fold });

describe('verification metrics', () => {
  it('tarAtFar: threshold just above the (k+1)-th highest impostor, TAR counted above it', () => {
    // 10 impostors 0.00..0.45 step 0.05, 4 genuine.
    const imp = Array.from({ length: 10 }, (_, i) => pair(i * 0.05, false));
    const gen = [0.3, 0.41, 0.5, 0.9].map((s) => pair(s, true));
    const r = M.tarAtFar([...imp, ...gen], 0.1); // one false match allowed -> boundary = 2nd highest impostor 0.40
    expect(r.allowedFalseMatches).toBe(1);
    expect(r.boundary).toBeCloseTo(0.4, 12);
    expect(r.tmr).toBe(3 / 4); // 0.41, 0.5, 0.9
    expect(r.fmr).toBe(1 / 10); // 0.45
    expect(r.rounded.threshold).toBe(0.4001);
    const strict = M.tarAtFar([...imp, ...gen], 1e-3); // below resolution: zero false matches
    expect(strict.belowResolution).toBe(true);
    expect(strict.tmr).toBe(2 / 4);
  });

  it('AUC is the Mann-Whitney statistic with ties averaged; EER where FMR = FNMR', () => {
    expect(M.auc([pair(1, true), pair(0, false)])).toBe(1);
    expect(M.auc([pair(0, true), pair(1, false)])).toBe(0);
    expect(M.auc([pair(0.5, true), pair(0.5, false)])).toBe(0.5);
    const perfect = [pair(0.9, true), pair(0.8, true), pair(0.2, false), pair(0.1, false)];
    expect(M.eer(perfect).eer).toBe(0);
  });

  it('10-fold: the threshold comes from the other nine folds and an unscored pair is an error', () => {
    const pairs = [];
    for (let f = 0; f < 10; f++) {
      pairs.push(pair(0.8, true, f), pair(0.2, false, f));
    }
    pairs[0] = pair(null, true, 0); // fold 0's genuine pair has no face
    const r = M.tenFold(pairs);
    expect(r.folds).toHaveLength(10);
    expect(r.folds[0].accuracy).toBe(0.5);
    expect(r.folds.slice(1).every((f) => f.accuracy === 1)).toBe(true);
    expect(r.mean).toBeCloseTo(0.95, 12);
    for (const f of r.folds) expect(f.threshold > 0.2 && f.threshold < 0.8).toBe(true);
  });
});

describe('1:N open set', () => {
  const e = (...v) => Float32Array.from(v);
  const gallery = [
    { id: 'a', emb: e(1, 0, 0) },
    { id: 'b', emb: e(0, 1, 0) },
  ];

  it('an empty gallery returns nobody for every probe', () => {
    const r = search([], [{ id: 'a', emb: e(1, 0, 0) }, { id: null, emb: e(0, 1, 0) }]);
    expect(r.map((x) => [x.topId, x.topScore])).toEqual([[null, -Infinity], [null, -Infinity]]);
    expect(r[0].mateRank).toBe(Infinity);
  });

  it('fuse renormalises the sum; cosine of unit vectors', () => {
    const f = fuse([e(1, 0, 0), e(0, 1, 0)]);
    expect(cosine(f, f)).toBeCloseTo(1, 6);
    expect(f[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(fuse([e(1, 0, 0), null])).toBeNull();
  });

  it('rank, FNIR and FPIR: a stranger above T is a false positive, a mate below T or wrong is a miss', () => {
    const mated = search(gallery, [
      { id: 'a', emb: e(0.9, 0.1, 0) }, // right, high
      { id: 'b', emb: e(0.2, 0.5, 0) }, // right, low score
      { id: 'b', emb: e(0.7, 0.6, 0) }, // wrong top-1 (a)
      { id: 'a', emb: null }, // no face
    ]);
    expect(mated.map((r) => r.mateRank)).toEqual([1, 1, 2, Infinity]);
    const nonMated = search(gallery, [{ id: null, emb: e(0, 0, 1) }, { id: null, emb: e(0.3, 0, 0.95) }]);
    const ids = ['a', 'b', 'b', 'a'];
    const at = ratesAtT(mated, nonMated, ids, 0.45);
    expect(at.fnir).toBe(0.5); // probe 3 wrong, probe 4 no face; probe 2 (0.5) passes
    expect(at.fpir).toBe(0);
    const m = opensetMetrics(mated, ids, nonMated, { fpirTargets: [0.5], fixed: [0.25] });
    expect(m.rank1).toBe(0.5);
    // FPIR 0.5 over 2 strangers allows one: T just above the 2nd highest stranger score (0).
    expect(m.atFpir[0].threshold).toBe(0.0001);
    expect(m.atFpir[0].falsePositives).toBe(1);
    expect(m.atThreshold[0].falsePositives).toBe(1); // 0.3 >= 0.25
  });
});

describe('calibration over all pairs (bench/lib/calibration.mjs)', () => {
  const unit = (...v) => {
    const n = Math.hypot(...v);
    return Float32Array.from(v.map((x) => x / n));
  };

  it('countPairs: cross-identity = (N^2 - sum n^2) / 2, genuine = sum C(n, 2)', () => {
    expect(C.countPairs([3, 1, 2])).toEqual({ images: 6, impostor: 11, genuine: 4 });
    expect(C.countPairs([1, 1, 1, 1])).toEqual({ images: 4, impostor: 6, genuine: 0 });
    // LFW deep-funneled: 4,333 identities, 11,817 images (checked against the set in the calib section).
    expect(C.countPairs([])).toEqual({ images: 0, impostor: 0, genuine: 0 });
  });

  it('binOf / edgeOf: 1e-4 bins on the 4-decimal grid, accept when score >= edge', () => {
    expect(C.edgeOf(C.binOf(0.42405))).toBe(0.424);
    expect(C.edgeOf(C.binOf(-0.00005))).toBe(-0.0001);
    expect(C.binOf(1)).toBe(C.NBINS - 1);
    expect(C.binOf(-1.5)).toBe(0);
    expect(C.binOfThreshold(0.424)).toBe(C.binOf(0.42405));
  });

  it('PairAccumulator visits every unordered pair once and splits genuine from impostor', () => {
    const items = [
      { ident: 0, emb: unit(1, 0, 0) },
      { ident: 0, emb: unit(1, 0.1, 0) },
      { ident: 1, emb: unit(0, 1, 0) },
      { ident: 2, emb: null }, // no face: left out
      { ident: 2, emb: unit(0, 0, 1) },
    ];
    const P = C.packEmbeddings(items, 3);
    expect(P.n).toBe(4);
    expect(P.skipped).toBe(1);
    const acc = new C.PairAccumulator({ tailFloor: -1 }).addBlock(P);
    expect(acc.impostorCount).toBe(C.countPairs([2, 1, 1]).impostor); // 5
    expect(acc.genuineCount).toBe(1);
    expect(acc.impostor.reduce((a, b) => a + b, 0)).toBe(5);
    expect(C.edgeOf(acc.gen.view(0)[0])).toBe(Math.floor(1e4 * (1 / Math.hypot(1, 0.1))) / 1e4);
    // The top impostor: image 1 (1, 0.1, 0) vs image 2 (0, 1, 0).
    expect(acc.top[0].score).toBeCloseTo(0.1 / Math.hypot(1, 0.1), 6);
    // A cross block A x B = |A| |B| pairs, merged counts add up.
    const Q = C.packEmbeddings([{ ident: 5, emb: unit(1, 1, 0) }], 3);
    const x = new C.PairAccumulator({ tailFloor: -1 }).addBlock(P, Q);
    expect(x.impostorCount).toBe(4);
    const m = acc.merge(x);
    expect(m.impostorCount).toBe(9);
    expect(m.tail.n).toBe(9);
  });

  it('thresholdAtFmr is exact on the histogram and agrees with metrics.tarAtFar', () => {
    // 2,000 impostor scores and 300 genuine ones, on a coarse grid with ties.
    const rnd = C.mulberry32(3);
    const impScores = Array.from({ length: 2000 }, () => Math.round((rnd() * 0.8 - 0.3) * 1e3) / 1e3 + 0.00003);
    const genScores = Array.from({ length: 300 }, () => Math.round((0.3 + rnd() * 0.6) * 1e3) / 1e3 + 0.00003);
    const h = new Float64Array(C.NBINS);
    for (const s of impScores) h[C.binOf(s)]++;
    const g = new Float64Array(C.NBINS);
    for (const s of genScores) g[C.binOf(s)]++;
    const suf = C.suffixSums(h);
    const pairs = [...impScores.map((s) => ({ score: s, same: false, fold: 0 })), ...genScores.map((s) => ({ score: s, same: true, fold: 0 }))];
    for (const far of [1e-2, 3e-3, 1e-3]) {
      const p = C.thresholdAtFmr(suf, 2000, far);
      const ref = M.tarAtFar(pairs, far);
      expect(p.threshold).toBe(ref.rounded.threshold);
      expect(p.accepted).toBe(ref.rounded.impostorsAccepted);
      expect(p.accepted).toBeLessThanOrEqual(Math.floor(far * 2000));
      // One step lower would accept too many.
      expect(suf[p.bin - 1]).toBeGreaterThan(Math.floor(far * 2000));
      expect(C.rateAt(C.suffixSums(g), 300, p.threshold).accepted).toBe(ref.rounded.genuineAccepted);
    }
    // Exactly as many false matches as allowed is still <= the target: 998 impostors at 0, one at 0.4, one at 0.5.
    const h2 = new Float64Array(C.NBINS);
    h2[C.binOf(0.00001)] += 998;
    h2[C.binOf(0.40001)]++;
    h2[C.binOf(0.50001)]++;
    const s2 = C.suffixSums(h2);
    expect(C.thresholdAtFmr(s2, 1000, 2e-3)).toMatchObject({ threshold: 0.0001, accepted: 2, allowed: 2 });
    expect(C.thresholdAtFmr(s2, 1000, 1e-3)).toMatchObject({ threshold: 0.4001, accepted: 1 });
    expect(C.rateAt(s2, 1000, 0.4).accepted).toBe(2);
    // Nothing may be accepted at 1e-4 of 2,000: above the highest impostor.
    expect(C.thresholdAtFmr(suf, 2000, 1e-4).accepted).toBe(0);
    expect(C.tailTable(suf, 2000, [1e-2, 1e-3], 10).map((r) => r[0])).toEqual([1e-2]); // 1e-3 allows 2 < 10
  });

  it('bootstrap over identities: all-ones weights reproduce the point estimate, the interval brackets it, and it is seeded', () => {
    // 60 identities x 4 images on random directions with an identity offset.
    const rnd = C.mulberry32(11);
    const dim = 16;
    const items = [];
    for (let id = 0; id < 60; id++) {
      const centre = Array.from({ length: dim }, () => rnd() - 0.5);
      for (let k = 0; k < 4; k++) items.push({ ident: id, emb: unit(...centre.map((c) => c + 0.35 * (rnd() - 0.5))) });
    }
    const P = C.packEmbeddings(items, dim);
    const acc = new C.PairAccumulator({ tailFloor: -1 }).addBlock(P);
    const total = C.countPairs(Array(60).fill(4));
    expect(acc.impostorCount).toBe(total.impostor);
    const identities = Array.from({ length: 60 }, (_, id) => ({ ident: id, n: 4, group: 'x' }));
    const genuineSets = { all: { bins: Int32Array.from(acc.gen.view(0)), ident: Int32Array.from(acc.gen.view(1)) } };
    const point = C.thresholdAtFmr(C.suffixSums(acc.impostor), acc.impostorCount, 1e-2);
    const args = { identities, genuineSets, targets: [1e-2], fixed: [point.threshold], replicates: 60, seed: 5 };
    const b = C.bootstrapIdentities(acc, args);
    const ci = C.percentileInterval(b.fmr[1e-2].threshold);
    expect(ci.n).toBe(60);
    expect(ci.lower).toBeLessThanOrEqual(point.threshold);
    expect(ci.upper).toBeGreaterThanOrEqual(point.threshold);
    expect(ci.upper).toBeGreaterThan(ci.lower); // resampling identities moves the quantile
    expect(b.fmr[1e-2].tar.all.every((t) => t >= 0 && t <= 1)).toBe(true);
    expect(C.bootstrapIdentities(acc, args).fmr[1e-2].threshold).toEqual(b.fmr[1e-2].threshold);
    // A "replicate" that draws every identity once is the full data: same threshold as the point estimate.
    const once = C.bootstrapIdentities(acc, { ...args, identities: [{ ident: 0, n: 4, group: 0 }, ...identities.slice(1).map((x, i) => ({ ...x, group: i + 1 }))], replicates: 1 });
    expect(once.fmr[1e-2].threshold[0]).toBe(point.threshold);
    expect(once.fixed[point.threshold][0]).toBeCloseTo(point.fmr, 12);
  });

  it('percentileInterval interpolates and drops nulls', () => {
    const r = C.percentileInterval([null, 0, 1, 2, 3, 4], 0.5);
    expect(r).toEqual({ lower: 1, upper: 3, level: 0.5, n: 5 });
  });
});
