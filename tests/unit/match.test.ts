import { describe, expect, it } from 'vitest';
import { FaceLoginError } from '../../src/core/errors.js';
import { NEAR_DUPLICATE_COSINE, assertThreshold, cosine, decideIdentify, decideVerify, distinctTemplates, l2normalize, meanEmbedding, scoreUsers } from '../../src/core/match.js';

const v = (...xs: number[]) => l2normalize(xs);

describe('l2normalize / cosine', () => {
  it('normalises to unit length and keeps direction', () => {
    const u = l2normalize([3, 4]);
    expect(u[0]).toBeCloseTo(0.6, 6);
    expect(u[1]).toBeCloseTo(0.8, 6);
  });
  it('rejects zero and non-finite vectors with a typed error', () => {
    expect(() => l2normalize([0, 0])).toThrow(FaceLoginError);
    expect(() => l2normalize([NaN, 1])).toThrow(/non-finite/);
    expect(() => l2normalize([Infinity, 1])).toThrow(FaceLoginError);
  });
  it('cosine is 1 for the same direction, -1 opposite, 0 orthogonal, scale-free', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-3, 0])).toBeCloseTo(-1, 12);
    expect(cosine([1, 0], [0, 5])).toBeCloseTo(0, 12);
  });
  it('refuses vectors of different sizes (incompatible models)', () => {
    expect(() => cosine([1, 0], [1, 0, 0])).toThrow(/sizes differ/);
  });
  it('meanEmbedding renormalises the mean', () => {
    const m = meanEmbedding([v(1, 0), v(0, 1)]);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Math.hypot(...m)).toBeCloseTo(1, 6);
  });
});

describe('scoring users', () => {
  const templates = [
    { userId: 'ann', embedding: v(1, 0, 0) }, // frontal
    { userId: 'ann', embedding: v(0, 0, 1) }, // profile
    { userId: 'bob', embedding: v(0.6, 0.8, 0) },
  ];

  it('scores a user by the best template, never the mean', () => {
    const probe = v(1, 0, 0);
    const [top] = scoreUsers(probe, templates);
    expect(top).toEqual({ userId: 'ann', score: expect.closeTo(1, 6) });
    // The mean of ann's templates would score 0.707 and lose to nobody, but must not be used.
    expect(scoreUsers(probe, templates).find((s) => s.userId === 'ann')!.score).toBeCloseTo(1, 6);
  });

  it('verify accepts at or above the threshold and rejects below', () => {
    expect(decideVerify(v(1, 0, 0), 'ann', templates, 0.9).accepted).toBe(true);
    const r = decideVerify(v(0, 1, 0), 'ann', templates, 0.3);
    expect(r).toMatchObject({ accepted: false, userId: 'ann', threshold: 0.3 });
    expect(r.score).toBeCloseTo(0, 6);
    // Exactly at the threshold is an accept; a hair above it is a reject.
    const probe = v(0.8, 0.6, 0);
    const s = decideVerify(probe, 'bob', templates, 0).score;
    expect(s).toBeCloseTo(0.96, 6);
    expect(decideVerify(probe, 'bob', templates, s).accepted).toBe(true);
    expect(decideVerify(probe, 'bob', templates, s + 1e-6).accepted).toBe(false);
  });

  it('verify only looks at the claimed user', () => {
    // The probe is bob, but claims ann: ann's best template decides.
    const r = decideVerify(v(0.6, 0.8, 0), 'ann', templates, 0.7);
    expect(r.accepted).toBe(false);
    expect(r.score).toBeCloseTo(0.6, 6);
  });

  it('verify of an unknown user is a not-enrolled error, not a reject', () => {
    expect(() => decideVerify(v(1, 0, 0), 'zoe', templates, 0.5)).toThrow(expect.objectContaining({ code: 'not-enrolled' }));
  });

  it('identify is open set: a stranger is unknown even though someone is nearest', () => {
    const stranger = v(0, 1, 0.05);
    const r = decideIdentify(stranger, templates, 0.9);
    expect(r.userId).toBeNull();
    expect(r.candidates[0]!.userId).toBe('bob'); // nearest, but below threshold
    expect(r.score).toBeLessThan(0.9);
  });

  it('identify returns the best user at or above the threshold', () => {
    const r = decideIdentify(v(0.62, 0.78, 0), templates, 0.9);
    expect(r.userId).toBe('bob');
    expect(decideIdentify(v(0.99, 0.01, 0.1), templates, 0.9).userId).toBe('ann');
  });

  it('identify on an empty gallery is unknown', () => {
    expect(decideIdentify(v(1, 0), [], 0.5)).toMatchObject({ userId: null, score: -1 });
  });

  it('thresholds must be a finite cosine', () => {
    expect(assertThreshold(0.42)).toBe(0.42);
    for (const bad of [NaN, 1.5, -2, Infinity]) expect(() => assertThreshold(bad)).toThrow(FaceLoginError);
  });
});

describe('distinctTemplates', () => {
  const unit = (...v: number[]) => l2normalize(v);
  it('keeps the first of near-identical templates, in order, and every distinct one', () => {
    const a = { id: 'a', embedding: unit(1, 0, 0) };
    const a2 = { id: 'a2', embedding: unit(1, 0.05, 0) }; // cosine 0.9988 to a
    const b = { id: 'b', embedding: unit(1, 0.3, 0) }; // cosine 0.958 to a
    const c = { id: 'c', embedding: unit(0, 0, 1) };
    expect(distinctTemplates([a, a2, b, c, a]).map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(distinctTemplates([])).toEqual([]);
  });
  it('the bound is a parameter, NEAR_DUPLICATE_COSINE by default', () => {
    const a = { embedding: unit(1, 0, 0) };
    const b = { embedding: unit(1, 0.3, 0) };
    expect(distinctTemplates([a, b])).toHaveLength(2);
    expect(distinctTemplates([a, b], 0.95)).toHaveLength(1);
    expect(NEAR_DUPLICATE_COSINE).toBe(0.99);
  });
});
