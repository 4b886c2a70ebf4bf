// Template aggregation / score normalisation experiment (bench/lib/aggregation.mjs): the scorers,
// the operating point and McNemar's test on hand-computed cases, and the whole experiment on a
// synthetic population where the answer is known.
import { describe, expect, it } from 'vitest';
import * as A from '../../bench/lib/aggregation.mjs';

const u = (...xs) => A.unit(xs);

describe('aggregation scorers', () => {
  it('best, mean score, mean template and quality-weighted mean of three templates', () => {
    const e = A.prepareEnrolment({ id: 'a', gallery: [u(1, 0, 0), u(0, 1, 0), u(0, 0, 1)], quality: [1, 0, 0], probes: [] }, [u(1, 1, 0), u(0, 1, 1), u(1, 0, 1)]);
    const p = u(1, 0, 0);
    const s = A.scoreAll(p, { mean: A.cohortStats(p, [u(1, 1, 0), u(0, 1, 1), u(1, 0, 1)]) }, e);
    expect(s.best).toBeCloseTo(1, 6);
    expect(s.meanScore).toBeCloseTo(1 / 3, 6);
    expect(s.meanTemplate).toBeCloseTo(1 / Math.sqrt(3), 6); // mean of the axes = (1,1,1)/sqrt 3
    expect(s.qualityMean).toBeCloseTo(1, 6); // all the weight on the first template
    // T-norm: the probe against the cohort scores 1/sqrt2, 0, 1/sqrt2.
    const c = [Math.SQRT1_2, 0, Math.SQRT1_2];
    const mean = c.reduce((a, b) => a + b) / 3;
    const sd = Math.sqrt(c.reduce((a, b) => a + b * b, 0) / 3 - mean * mean);
    expect(s.bestT).toBeCloseTo((1 - mean) / sd, 5);
    expect(s.bestS).toBeCloseTo((s.bestZ + s.bestT) / 2, 12);
  });

  it('refuses a zero vector, an empty enrolment and a negative weight', () => {
    expect(() => A.unit([0, 0])).toThrow(RangeError);
    expect(() => A.meanTemplate([])).toThrow(RangeError);
    expect(() => A.meanTemplate([u(1, 0)], [-1])).toThrow(RangeError);
    expect(() => A.cohortStats(u(1, 0), [u(1, 0)])).toThrow(RangeError);
  });
});

describe('operating point and McNemar', () => {
  it('threshold at FMR: at most floor(f m) impostors strictly above it', () => {
    const imp = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const t = A.thresholdAtFar(imp, 1e-2); // 10 allowed: the 11th highest is 0.989
    expect(t.allowed).toBe(10);
    expect(t.threshold).toBeCloseTo(0.989, 12);
    expect(A.shareAbove(imp, t.threshold).count).toBe(10);
    // Ties at the boundary are refused, never over the allowance.
    const tied = [...Array(5).fill(0.5), 0.1, 0.2];
    const tt = A.thresholdAtFar(tied, 0.3); // 2 allowed, but five tie at 0.5
    expect(A.shareAbove(tied, tt.threshold).count).toBeLessThanOrEqual(2);
  });

  it('exact McNemar matches the binomial by hand', () => {
    expect(A.mcnemarExact(0, 0)).toBe(1);
    // b = 0, c = 5: 2 * 0.5^5 = 0.0625
    expect(A.mcnemarExact(0, 5)).toBeCloseTo(0.0625, 12);
    // b = 1, c = 9: 2 * (1 + 10) / 1024
    expect(A.mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 12);
    expect(A.mcnemarExact(9, 1)).toBeCloseTo(22 / 1024, 12);
  });
});

describe('the experiment on a synthetic population', () => {
  // 60 identities in 24-d; each has a centre; templates / probes = centre + noise. One of each
  // identity's three templates is a bad capture (heavy noise, low quality): the quality-weighted
  // mean must beat the plain mean, and averaging must beat nothing for a clean population.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const D = 24;
  const around = (c, s) => A.unit(c.map((x) => x + s * gauss()));
  const identities = Array.from({ length: 60 }, (_, i) => {
    const c = A.unit(Array.from({ length: D }, gauss));
    return { id: `p${i}`, gallery: [around(c, 0.15), around(c, 0.15), around(c, 0.9)], quality: [1, 1, 0.05], probes: [around(c, 0.15), around(c, 0.15)] };
  });
  const cohort = Array.from({ length: 40 }, () => A.unit(Array.from({ length: D }, gauss)));
  const r = A.runAggregation({ identities, cohort, fars: [1e-2], folds: 10, seed: 3 });

  it('counts every probe against every other enrolment', () => {
    expect(r.counts).toMatchObject({ identities: 60, templatesPerIdentity: 3, genuine: 120, impostorComparisons: 120 * 59, cohort: 40, folds: 10 });
    expect(r.results.best.pooled[0].comparisons).toBe(120 * 59);
    expect(r.results.best.pooled[0].falseMatches).toBeLessThanOrEqual(Math.floor(1e-2 * 120 * 59));
  });

  it('weights by quality where a bad capture drags the plain mean down', () => {
    const q = r.results.qualityMean.pooled[0];
    const m = r.results.meanTemplate.pooled[0];
    expect(q.tar).toBeGreaterThan(m.tar);
    // and the scores differ: the two scorers are not the same function
    expect(q.threshold).not.toBe(m.threshold);
  });

  it('10-fold thresholds come from the other folds: FMR out of sample stays near the target', () => {
    for (const s of A.SCORERS) {
      const f = r.results[s.name].tenFold[0];
      expect(f.tarMean).toBeGreaterThan(0.5);
      expect(f.fmrMean).toBeLessThan(0.05);
    }
  });
});
