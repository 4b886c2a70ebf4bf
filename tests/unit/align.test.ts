import { describe, expect, it } from 'vitest';
import {
  ARCFACE_TEMPLATE_4,
  alignmentResidual,
  applySimilarity,
  estimateSimilarity,
  invertSimilarity,
  scaledTemplate,
  similarityAngle,
  similarityScale,
  toCanvasMatrix,
  type Point,
  type Similarity,
} from '../../src/core/align.js';

function transform(points: readonly Point[], s: number, angle: number, tx: number, ty: number): Point[] {
  const m: Similarity = { a: s * Math.cos(angle), b: s * Math.sin(angle), tx, ty };
  return points.map((p) => applySimilarity(m, p));
}

describe('estimateSimilarity', () => {
  it('recovers a known rotation, scale and translation exactly', () => {
    const src = transform(ARCFACE_TEMPLATE_4, 2.3, 0.35, 140, 90); // a face in a camera frame
    const m = estimateSimilarity(src, ARCFACE_TEMPLATE_4);
    expect(similarityScale(m)).toBeCloseTo(1 / 2.3, 9);
    expect(similarityAngle(m)).toBeCloseTo(-0.35, 9);
    expect(alignmentResidual(m, src, ARCFACE_TEMPLATE_4)).toBeLessThan(1e-9);
    for (let i = 0; i < src.length; i++) {
      const p = applySimilarity(m, src[i]!);
      expect(p.x).toBeCloseTo(ARCFACE_TEMPLATE_4[i]!.x, 9);
      expect(p.y).toBeCloseTo(ARCFACE_TEMPLATE_4[i]!.y, 9);
    }
  });

  it('is the least-squares fit for noisy points (residual no worse than the true transform)', () => {
    const truth = transform(ARCFACE_TEMPLATE_4, 1.7, -0.2, 50, 60);
    const noisy = truth.map((p, i) => ({ x: p.x + [1.2, -0.8, 0.5, -1.1][i]!, y: p.y + [-0.4, 0.9, -1.3, 0.6][i]! }));
    const fit = estimateSimilarity(noisy, ARCFACE_TEMPLATE_4);
    const trueInverse = invertSimilarity({ a: 1.7 * Math.cos(-0.2), b: 1.7 * Math.sin(-0.2), tx: 50, ty: 60 });
    expect(alignmentResidual(fit, noisy, ARCFACE_TEMPLATE_4)).toBeLessThanOrEqual(alignmentResidual(trueInverse, noisy, ARCFACE_TEMPLATE_4) + 1e-12);
    expect(similarityAngle(fit)).toBeCloseTo(0.2, 1);
  });

  it('never reflects: a mirrored face maps with a rotation, not a flip', () => {
    const mirrored = ARCFACE_TEMPLATE_4.map((p) => ({ x: 112 - p.x, y: p.y }));
    const m = estimateSimilarity(mirrored, ARCFACE_TEMPLATE_4);
    // A similarity has determinant a^2 + b^2 > 0 by construction; the fit is then imperfect.
    expect(m.a * m.a + m.b * m.b).toBeGreaterThan(0);
    expect(alignmentResidual(m, mirrored, ARCFACE_TEMPLATE_4)).toBeGreaterThan(1);
  });

  it('rejects degenerate input', () => {
    const p = { x: 3, y: 3 };
    expect(() => estimateSimilarity([p, p, p], ARCFACE_TEMPLATE_4.slice(0, 3))).toThrow(RangeError);
    expect(() => estimateSimilarity([p], [p])).toThrow(RangeError);
    expect(() => estimateSimilarity([p, p], ARCFACE_TEMPLATE_4)).toThrow(RangeError);
  });
});

describe('helpers', () => {
  it('invertSimilarity undoes the transform', () => {
    const m: Similarity = { a: 0.8, b: -0.3, tx: 12, ty: -7 };
    const inv = invertSimilarity(m);
    const p = { x: 33, y: 71 };
    const q = applySimilarity(inv, applySimilarity(m, p));
    expect(q.x).toBeCloseTo(p.x, 10);
    expect(q.y).toBeCloseTo(p.y, 10);
  });

  it('toCanvasMatrix matches DOMMatrix semantics (x\' = a x + c y + e)', () => {
    const m: Similarity = { a: 0.8, b: -0.3, tx: 12, ty: -7 };
    const [a, b, c, d, e, f] = toCanvasMatrix(m);
    const p = { x: 5, y: 9 };
    const q = applySimilarity(m, p);
    expect(a * p.x + c * p.y + e).toBeCloseTo(q.x, 12);
    expect(b * p.x + d * p.y + f).toBeCloseTo(q.y, 12);
  });

  it('scaledTemplate scales about the crop centre; 1 is the template itself', () => {
    expect(scaledTemplate(1)).toEqual(ARCFACE_TEMPLATE_4.map((p) => ({ x: p.x, y: p.y })));
    const t = scaledTemplate(0.5);
    expect(t[0]!.x).toBeCloseTo(56 + (38.2946 - 56) / 2, 9);
    // The mouth point is the midpoint of the ArcFace mouth corners.
    expect(ARCFACE_TEMPLATE_4[3]!.x).toBeCloseTo(56.1396, 4);
    expect(ARCFACE_TEMPLATE_4[3]!.y).toBeCloseTo(92.2848, 4);
  });
});

describe('estimateSimilarity with weights', () => {
  const truth = transform(ARCFACE_TEMPLATE_4, 1.7, -0.2, 50, 60);
  const noisy = truth.map((p, i) => ({ x: p.x + [1.2, -0.8, 0.5, -1.1][i]!, y: p.y + [-0.4, 0.9, -1.3, 0.6][i]! }));

  it('all-ones weights give exactly the unweighted fit', () => {
    expect(estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, 1, 1, 1])).toEqual(estimateSimilarity(noisy, ARCFACE_TEMPLATE_4));
  });

  it('a zero weight drops the point (same as fitting the other three)', () => {
    const w = estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, 1, 1, 0]);
    const three = estimateSimilarity(noisy.slice(0, 3), ARCFACE_TEMPLATE_4.slice(0, 3));
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(w[k]).toBeCloseTo(three[k], 12);
  });

  it('integer weights equal repeating the points', () => {
    const w = estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [2, 1, 1, 3]);
    const rep = (xs: readonly Point[]) => [xs[0]!, xs[0]!, xs[1]!, xs[2]!, xs[3]!, xs[3]!, xs[3]!];
    const r = estimateSimilarity(rep(noisy), rep(ARCFACE_TEMPLATE_4));
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(w[k]).toBeCloseTo(r[k], 12);
  });

  it('still recovers an exact transform whatever the weights', () => {
    const m = estimateSimilarity(truth, ARCFACE_TEMPLATE_4, [1, 1, 0.5, 0.25]);
    expect(alignmentResidual(m, truth, ARCFACE_TEMPLATE_4)).toBeLessThan(1e-9);
  });

  it('rejects bad weights', () => {
    expect(() => estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, 1, 1])).toThrow(RangeError);
    expect(() => estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, -1, 1, 1])).toThrow(RangeError);
    expect(() => estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, 0, 0, 0])).toThrow(RangeError);
    expect(() => estimateSimilarity(noisy, ARCFACE_TEMPLATE_4, [1, Number.NaN, 1, 1])).toThrow(RangeError);
  });
});
