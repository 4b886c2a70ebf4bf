// Pure metric code of the benchmarks (bench/lib/metrics.mjs, bench/lib/openset.mjs): the numbers the
// README quotes come from these functions, so they are checked against hand-computed cases.
import { describe, expect, it } from 'vitest';
import * as M from '../../bench/lib/metrics.mjs';
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
