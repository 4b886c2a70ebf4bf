/**
 * Alignment math: a least-squares similarity transform (rotation, uniform scale, translation;
 * no reflection, no shear) that maps the detector's eye, nose and mouth keypoints onto the
 * standard 112x112 ArcFace landmark template. Pure functions, no DOM.
 *
 * Measured on LFW with this MobileFaceNet: aligned crops 98.9 % vs 69-74 % for a plain box
 * crop (RECIPES.md), so alignment is part of the model's contract, not an option.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** 2D similarity as x' = a*x - b*y + tx, y' = b*x + a*y + ty (a = s*cos t, b = s*sin t). */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

export const ALIGNED_SIZE = 112;

/**
 * ArcFace 112x112 template in image coordinates: the subject's right eye (image left), left eye,
 * nose tip and mouth centre (the midpoint of the template's two mouth corners, because the
 * MediaPipe detector gives one mouth point).
 */
export const ARCFACE_TEMPLATE_4: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: (41.5493 + 70.7299) / 2, y: (92.3655 + 92.2041) / 2 },
];

/**
 * The full five-point ArcFace template (insightface's `arcface_dst`): the subject's right eye
 * (image left), left eye, nose tip, right mouth corner (image left), left mouth corner. Used with
 * the face mesh's five points (src/core/face-mesh.ts), which has the two mouth corners the
 * detector lacks.
 */
export const ARCFACE_TEMPLATE_5: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/**
 * The template scaled about the crop centre: scale > 1 puts the landmarks further apart
 * (tighter crop), scale < 1 shows more context.
 */
export function scaledTemplate(scale: number, template: readonly Point[] = ARCFACE_TEMPLATE_4): Point[] {
  const c = ALIGNED_SIZE / 2;
  return template.map((p) => ({ x: c + (p.x - c) * scale, y: c + (p.y - c) * scale }));
}

/**
 * Least-squares similarity from `src` to `dst` (Umeyama 1991, 2D case written with complex
 * numbers: the optimal a + ib = sum (d_i conj s_i) / sum |s_i|^2 over centred points).
 *
 * `weights` (optional, one per point, >= 0) gives a weighted least-squares fit: the centroids are
 * weighted and each point's residual counts `w_i` times. A weight of 0 drops the point (e.g.
 * [1, 1, 1, 0] aligns on the eyes and nose only). Without weights every point counts once.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[], weights?: readonly number[]): Similarity {
  if (src.length !== dst.length || src.length < 2) {
    throw new RangeError(`estimateSimilarity needs two equally long lists of >= 2 points (got ${src.length}, ${dst.length}).`);
  }
  const n = src.length;
  if (weights !== undefined) {
    if (weights.length !== n) throw new RangeError(`estimateSimilarity: ${weights.length} weights for ${n} points.`);
    if (weights.some((w) => !(w >= 0 && Number.isFinite(w)))) throw new RangeError('estimateSimilarity: weights must be finite and >= 0.');
    if (weights.filter((w) => w > 0).length < 2) throw new RangeError('estimateSimilarity: at least two points need a positive weight.');
  }
  const w = (i: number): number => (weights === undefined ? 1 : weights[i]!);
  let sw = 0, sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    const wi = w(i);
    sw += wi;
    sx += wi * src[i]!.x; sy += wi * src[i]!.y; dx += wi * dst[i]!.x; dy += wi * dst[i]!.y;
  }
  sx /= sw; sy /= sw; dx /= sw; dy /= sw;
  let num_re = 0, num_im = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const wi = w(i);
    if (wi === 0) continue;
    const px = src[i]!.x - sx, py = src[i]!.y - sy;
    const qx = dst[i]!.x - dx, qy = dst[i]!.y - dy;
    // (qx + i qy) * (px - i py)
    num_re += wi * (qx * px + qy * py);
    num_im += wi * (qy * px - qx * py);
    den += wi * (px * px + py * py);
  }
  if (!(den > 1e-12)) throw new RangeError('estimateSimilarity: source points are degenerate (all equal).');
  const a = num_re / den;
  const b = num_im / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(m: Similarity, p: Point): Point {
  return { x: m.a * p.x - m.b * p.y + m.tx, y: m.b * p.x + m.a * p.y + m.ty };
}

export function invertSimilarity(m: Similarity): Similarity {
  const d = m.a * m.a + m.b * m.b;
  if (!(d > 0)) throw new RangeError('invertSimilarity: singular transform.');
  const a = m.a / d;
  const b = -m.b / d;
  return { a, b, tx: -(a * m.tx - b * m.ty), ty: -(b * m.tx + a * m.ty) };
}

export function similarityScale(m: Similarity): number {
  return Math.hypot(m.a, m.b);
}

/** Rotation in radians (positive = counter-clockwise in image coordinates with y down). */
export function similarityAngle(m: Similarity): number {
  return Math.atan2(m.b, m.a);
}

/** Arguments for CanvasRenderingContext2D.setTransform(a, b, c, d, e, f). */
export function toCanvasMatrix(m: Similarity): [number, number, number, number, number, number] {
  return [m.a, m.b, -m.b, m.a, m.tx, m.ty];
}

/** Root-mean-square distance between mapped `src` and `dst`: how well the face fits the template. */
export function alignmentResidual(m: Similarity, src: readonly Point[], dst: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < src.length; i++) {
    const p = applySimilarity(m, src[i]!);
    s += (p.x - dst[i]!.x) ** 2 + (p.y - dst[i]!.y) ** 2;
  }
  return Math.sqrt(s / src.length);
}
