/**
 * Scoring helpers for the accuracy benchmarks: the product's cosine (src/core/match.ts, same
 * arithmetic), embedding fusion, and 1:N open-set identification metrics (NIST FRVT 1:N terms).
 *
 * Open set, rank 1 (what the product's identify does): a search returns the best gallery identity
 * if its score >= T, else "unknown".
 *   FPIR(T) = non-mated searches that return anyone / non-mated searches
 *   FNIR(T) = mated searches that do not return the right identity (wrong top-1, or top-1 score < T,
 *             or no face in the probe) / mated searches
 * Rank-1 identification rate (closed set) = mated searches whose top-1 is the mate, no threshold.
 */

/** Cosine similarity exactly as src/core/match.ts computes it. */
export function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (!(na > 0 && nb > 0)) return 0;
  return dot / Math.sqrt(na * nb);
}

export function euclidean(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

export function l2normalize(v) {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const inv = 1 / Math.sqrt(ss);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** L2-normalised sum of (already normalised) vectors; null if any is missing. */
export function fuse(vs) {
  if (vs.some((v) => !v)) return null;
  if (vs.length === 1) return vs[0];
  const out = new Float32Array(vs[0].length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i] += v[i];
  return l2normalize(out);
}

/**
 * Top-1 search of every probe against a gallery.
 * gallery: [{ id, emb }] (emb unit vectors); probes: [{ id | null, emb | null }].
 * Returns per probe { topId, topScore, mateScore, mateRank } (mate* only for mated probes; a probe
 * without an embedding gets topScore -Infinity and mateRank Infinity).
 */
export function search(gallery, probes) {
  const dim = gallery[0]?.emb.length ?? 0;
  const G = new Float32Array(gallery.length * dim);
  gallery.forEach((g, i) => G.set(g.emb, i * dim));
  const idx = new Map(gallery.map((g, i) => [g.id, i]));
  const scores = new Float64Array(gallery.length);
  return probes.map((p) => {
    if (!p.emb) return { topId: null, topScore: -Infinity, mateScore: p.id !== null ? -Infinity : undefined, mateRank: p.id !== null ? Infinity : undefined };
    const e = p.emb;
    let best = -Infinity;
    let bestI = -1;
    for (let g = 0; g < gallery.length; g++) {
      let dot = 0;
      const o = g * dim;
      for (let k = 0; k < dim; k++) dot += e[k] * G[o + k];
      scores[g] = dot;
      if (dot > best) {
        best = dot;
        bestI = g;
      }
    }
    // An empty gallery (e.g. a system that found no face in any enrolment photo) returns nobody.
    const r = bestI < 0 ? { topId: null, topScore: -Infinity } : { topId: gallery[bestI].id, topScore: best };
    if (p.id !== null && p.id !== undefined) {
      const mi = idx.get(p.id);
      const ms = mi === undefined ? -Infinity : scores[mi];
      let rank = 1;
      for (let g = 0; g < gallery.length; g++) if (scores[g] > ms) rank++;
      r.mateScore = ms;
      r.mateRank = mi === undefined ? Infinity : rank;
    }
    return r;
  });
}

/** Smallest number with 4 decimals strictly above x. */
function above4(x) {
  let r = Math.ceil(x * 1e4 - 1e-9) / 1e4;
  if (r <= x) r = Math.round(r * 1e4 + 1) / 1e4;
  return Number(r.toFixed(4));
}

/** FPIR and FNIR at a threshold (accept when top score >= t). */
export function ratesAtT(mated, nonMated, ids, t) {
  let fp = 0;
  for (const r of nonMated) if (r.topScore >= t) fp++;
  let hit = 0;
  mated.forEach((r, i) => {
    if (r.topId === ids[i] && r.topScore >= t) hit++;
  });
  return { threshold: t, fpir: fp / nonMated.length, falsePositives: fp, nonMated: nonMated.length, fnir: 1 - hit / mated.length, misses: mated.length - hit, mated: mated.length };
}

/**
 * Open-set metrics. mated: search() results of mated probes, ids: their true identities;
 * nonMated: search() results of non-mated probes. fpirTargets: e.g. [1e-2, 3e-3]. fixed: extra
 * thresholds to report (e.g. the product's default).
 */
export function opensetMetrics(mated, ids, nonMated, { fpirTargets = [1e-2, 3e-3], fixed = [] } = {}) {
  const n = mated.length;
  let r1 = 0;
  let r5 = 0;
  mated.forEach((r) => {
    if (r.mateRank === 1) r1++;
    if (r.mateRank <= 5) r5++;
  });
  // Rank-1 counted by top-1 identity (ties cannot change it: a tie with the mate ranks the mate 1).
  const nm = nonMated.map((r) => r.topScore).sort((a, b) => b - a);
  const atFpir = fpirTargets.map((target) => {
    const k = Math.floor(target * nm.length + 1e-9); // false positives allowed
    const boundary = k < nm.length ? nm[k] : -Infinity; // (k+1)-th highest non-mated top score
    const t = Number.isFinite(boundary) ? above4(boundary) : -1;
    return { target, allowedFalsePositives: k, boundary, ...ratesAtT(mated, nonMated, ids, t) };
  });
  return {
    mated: n,
    nonMated: nonMated.length,
    rank1: r1 / n,
    rank5: r5 / n,
    matedNoFace: mated.filter((r) => r.topScore === -Infinity).length,
    nonMatedNoFace: nonMated.filter((r) => r.topScore === -Infinity).length,
    atFpir,
    atThreshold: fixed.map((t) => ratesAtT(mated, nonMated, ids, t)),
  };
}
