import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, DEFAULT_THRESHOLD, IMPOSTOR_TAIL, MODEL_CALIBRATIONS, calibrationFor, comparisonFmr, identifyThreshold, thresholdAtFmr } from '../../src/core/calibration.js';

describe('size-aware identify threshold', () => {
  it('per-comparison FMR: 1 - (1 - FPIR)^(1/N)', () => {
    expect(comparisonFmr(0.01, 1)).toBeCloseTo(0.01, 12);
    expect(comparisonFmr(0.01, 1000)).toBeCloseTo(1.00503e-5, 9);
    // N comparisons at that rate give back the FPIR.
    const f = comparisonFmr(0.01, 5000);
    expect(1 - (1 - f) ** 5000).toBeCloseTo(0.01, 12);
  });

  it('hits the measured rows exactly and interpolates in log(FMR) between them', () => {
    for (const [fmr, t] of IMPOSTOR_TAIL) expect(thresholdAtFmr(fmr)).toBeCloseTo(t, 10);
    const [f4, t4] = IMPOSTOR_TAIL[4]!;
    const [f5, t5] = IMPOSTOR_TAIL[5]!;
    expect(thresholdAtFmr(Math.sqrt(f4 * f5))).toBeCloseTo((t4 + t5) / 2, 10); // halfway in log10
  });

  it('is monotone in the gallery size and never below the 1:1 threshold', () => {
    const sizes = [0, 1, 5, 10, 100, 500, 1000, 5000, 10_000, 100_000, 1_000_000];
    const ts = sizes.map((n) => identifyThreshold(n));
    for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
    expect(ts[0]).toBe(DEFAULT_THRESHOLD);
    expect(identifyThreshold(1)).toBe(DEFAULT_THRESHOLD); // FMR 1e-2 per comparison: 0.348 < floor
    expect(identifyThreshold(1000)).toBeGreaterThan(0.6);
    expect(identifyThreshold(1_000_000)).toBeLessThanOrEqual(0.99);
    expect(identifyThreshold(100, { floor: 0.9 })).toBe(0.9);
    // A stricter FPIR asks for a higher threshold.
    expect(identifyThreshold(1000, { fpir: 1e-3 })).toBeGreaterThan(identifyThreshold(1000));
  });

  it('every calibrated model has a sane threshold and a falling tail; the default is the flip model', () => {
    expect(calibrationFor(DEFAULT_MODEL_ID)?.threshold).toBe(DEFAULT_THRESHOLD);
    expect(calibrationFor('constructor')).toBeUndefined();
    for (const c of Object.values(MODEL_CALIBRATIONS)) {
      expect(c.threshold > 0.3 && c.threshold < 0.6).toBe(true);
      for (let i = 1; i < c.tail.length; i++) {
        expect(c.tail[i]![0]).toBeLessThan(c.tail[i - 1]![0]);
        expect(c.tail[i]![1]).toBeGreaterThan(c.tail[i - 1]![1]);
      }
    }
  });

  it('rejects nonsense', () => {
    expect(() => identifyThreshold(-1)).toThrow(RangeError);
    expect(() => identifyThreshold(1.5)).toThrow(RangeError);
    expect(() => identifyThreshold(10, { fpir: 0 })).toThrow(RangeError);
    expect(() => thresholdAtFmr(0)).toThrow(RangeError);
  });
});
