/**
 * Pure matching math. Embeddings are L2-normalised Float32Arrays, the score is cosine
 * similarity (= dot product of unit vectors), higher is more similar. Open set: a probe is
 * only ever attributed to a user when its best score reaches the threshold.
 */
import { FaceLoginError } from './errors.js';

export interface TemplateLike {
  readonly userId: string;
  readonly embedding: Float32Array;
}

export function l2normalize(v: ArrayLike<number>): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (!(ss > 0) || !Number.isFinite(ss)) {
    throw new FaceLoginError('invalid-input', 'Cannot normalise a zero or non-finite embedding.');
  }
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

/** Cosine similarity of two vectors (normalises on the fly; exact for unit vectors). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new FaceLoginError('invalid-input', `Embedding sizes differ (${a.length} vs ${b.length}).`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (!(na > 0 && nb > 0)) return 0;
  return dot / Math.sqrt(na * nb);
}

/** Mean of several unit embeddings, renormalised: a steadier probe from consecutive frames. */
export function meanEmbedding(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0];
  if (!first) throw new FaceLoginError('invalid-input', 'meanEmbedding needs at least one vector.');
  const sum = new Float32Array(first.length);
  for (const v of vectors) {
    if (v.length !== sum.length) throw new FaceLoginError('invalid-input', 'Embedding sizes differ.');
    for (let i = 0; i < v.length; i++) sum[i]! += v[i]!;
  }
  return l2normalize(sum);
}

/**
 * Templates at or above this cosine to an earlier one of the same enrolment are near-duplicates: the
 * same still photo, or a face that did not move between two kept frames. Two different photos of
 * one person score below it: none of LFW pairs.txt's 3,000 same-person pairs reaches it (median 0.761,
 * 99th percentile 0.937, highest 0.9835; five-point pipeline, bench/results/lfw-ours-s1.00-L-h.json.gz).
 */
export const NEAR_DUPLICATE_COSINE = 0.99;

/**
 * The templates of one enrolment without near-duplicates, in order: each is kept unless it scores
 * >= `maxCosine` against one already kept. A duplicate adds no new view of the face, but it does
 * add a chance to false-match (identify's threshold grows with the number of templates), so it is
 * never stored.
 */
export function distinctTemplates<T extends { readonly embedding: Float32Array }>(templates: readonly T[], maxCosine = NEAR_DUPLICATE_COSINE): T[] {
  const kept: T[] = [];
  for (const t of templates) if (!kept.some((k) => cosine(k.embedding, t.embedding) >= maxCosine)) kept.push(t);
  return kept;
}

export interface UserScore {
  readonly userId: string;
  /** Best cosine over the user's templates (never the mean: a frontal probe must not be penalised by profile templates). */
  readonly score: number;
}

/** Best score per user, sorted best first. */
export function scoreUsers(probe: Float32Array, templates: Iterable<TemplateLike>): UserScore[] {
  const best = new Map<string, number>();
  for (const t of templates) {
    const s = cosine(probe, t.embedding);
    const prev = best.get(t.userId);
    if (prev === undefined || s > prev) best.set(t.userId, s);
  }
  return [...best.entries()]
    .map(([userId, score]) => ({ userId, score }))
    .sort((a, b) => b.score - a.score || (a.userId < b.userId ? -1 : 1));
}

export interface VerifyDecision {
  readonly accepted: boolean;
  readonly userId: string;
  readonly score: number;
  readonly threshold: number;
}

/** 1:1: does the probe match the claimed user's best template at the threshold? */
export function decideVerify(
  probe: Float32Array,
  userId: string,
  templates: readonly TemplateLike[],
  threshold: number,
): VerifyDecision {
  const own = templates.filter((t) => t.userId === userId);
  if (own.length === 0) {
    throw new FaceLoginError('not-enrolled', `No templates are enrolled for user "${userId}".`);
  }
  const score = scoreUsers(probe, own)[0]!.score;
  return { accepted: score >= threshold, userId, score, threshold };
}

export interface IdentifyDecision {
  /** The identified user, or null for "unknown" (open set: best score below threshold). */
  readonly userId: string | null;
  readonly score: number;
  readonly threshold: number;
  /** Best candidates (at most 5), for logging and UI; never used to pick a user below threshold. */
  readonly candidates: readonly UserScore[];
}

/** 1:N open-set identification: best user only when at or above the threshold, else unknown. */
export function decideIdentify(
  probe: Float32Array,
  templates: Iterable<TemplateLike>,
  threshold: number,
): IdentifyDecision {
  const ranked = scoreUsers(probe, templates);
  const top = ranked[0];
  if (!top || top.score < threshold) {
    return { userId: null, score: top?.score ?? -1, threshold, candidates: ranked.slice(0, 5) };
  }
  return { userId: top.userId, score: top.score, threshold, candidates: ranked.slice(0, 5) };
}

export function assertThreshold(t: number): number {
  if (!Number.isFinite(t) || t < -1 || t > 1) {
    throw new FaceLoginError('invalid-input', `Threshold must be a cosine in [-1, 1], got ${t}.`);
  }
  return t;
}
