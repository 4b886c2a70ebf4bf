/**
 * Verification metrics of one system on a list of scored pairs, and their markdown cells.
 * Scores: higher = more similar (cosine for ours; minus the euclidean distance for face-api, so
 * thresholds of a distance system are reported as distances). A null score (no face in one of
 * the two images) is a failure: an error in 10-fold accuracy, rejected at every ROC threshold.
 */
import * as M from './metrics.mjs';

export const FAR_TARGETS = [1e-2, 1e-3, 1e-4];

/** metrics of `pairs` ([{ fold, same, score }]). */
export function verification(pairs, { recommendedFmr = 1e-3, withTenFold = true } = {}) {
  const rec = M.tarAtFar(pairs, recommendedFmr);
  const gen = pairs.filter((p) => p.same).length;
  return {
    pairs: pairs.length,
    genuine: gen,
    impostors: pairs.length - gen,
    unscored: pairs.filter((p) => p.score === null).length,
    tenFold: withTenFold ? M.tenFold(pairs) : null,
    auc: M.auc(pairs),
    eer: M.eer(pairs),
    tarAtFar: FAR_TARGETS.map((t) => M.tarAtFar(pairs, t)),
    recommended: {
      targetFmr: recommendedFmr,
      ...rec.rounded,
      fmrCi95: M.clopperPearson(rec.rounded.impostorsAccepted, rec.rounded.impostors),
      tmrCi95: M.clopperPearson(rec.rounded.genuineAccepted, rec.rounded.genuine),
    },
    scoreStats: M.scoreStats(pairs),
  };
}

export const pct = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(d)} %`);
export const num = (x, d = 4) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Number(x).toFixed(d));

/** "cosine >= 0.4332" or "distance <= 0.5123". */
export function thr(t, distance) {
  if (t === null || t === undefined || !Number.isFinite(t)) return 'n/a';
  return distance ? `distance <= ${num(-t)}` : `cosine >= ${num(t)}`;
}

/** Short markdown cells for a comparison table: { acc, auc, eer, tar: [..], rec }. */
export function cells(m, { distance = false } = {}) {
  const tar = m.tarAtFar.map((t) => {
    const base = `${pct(t.rounded.tmr)}`;
    if (t.belowResolution) return `${base} at 0 false matches of ${t.rounded.impostors} (FAR ${t.target.toExponential(0)} not resolvable; ${thr(t.rounded.threshold, distance)})`;
    return `${base} (${thr(t.rounded.threshold, distance)})`;
  });
  return {
    acc: m.tenFold ? `${pct(m.tenFold.mean)} ± ${pct(m.tenFold.std)}` : 'n/a',
    auc: num(m.auc, 5),
    eer: `${pct(m.eer.eer)} (${thr(m.eer.threshold, distance)})`,
    tar,
    rec: `${thr(m.recommended.threshold, distance)}: FMR ${m.recommended.impostorsAccepted}/${m.recommended.impostors}, TMR ${pct(m.recommended.tmr)}`,
  };
}
