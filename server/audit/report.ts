/**
 * Threshold tuning from labeled attempts (pure; the CLI is server/report.ts). An attempt labeled
 * `genuine` was the claimed / matched person, `impostor` was not. At a threshold t (accept when
 * score >= t):
 *   FMR(t)  = impostor attempts with score >= t / impostor attempts   (false matches)
 *   FNMR(t) = genuine attempts with score <  t / genuine attempts     (false non-matches)
 * The recommended threshold is the lowest t on a 1e-4 grid with FMR(t) <= the target (1e-3 for a
 * login, NIST SP 800-63B), i.e. the best FNMR that keeps the false-match rate at the target.
 */
import type { LabeledScore } from '../store/types.js';

export interface RateRow {
  readonly threshold: number;
  readonly fmr: number;
  readonly fnmr: number;
  readonly falseMatches: number;
  readonly falseNonMatches: number;
}

export interface Recommendation {
  readonly targetFmr: number;
  /** null when there are no impostor scores to bound the FMR with. */
  readonly threshold: number | null;
  readonly fmr: number | null;
  readonly fnmr: number | null;
  /** Enough impostors to observe the target (rule of three: >= 3 / targetFmr). */
  readonly reliable: boolean;
  readonly note: string;
}

export interface Report {
  readonly genuine: number;
  readonly impostor: number;
  readonly rows: readonly RateRow[];
  readonly recommendations: readonly Recommendation[];
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export function rateAt(genuine: readonly number[], impostor: readonly number[], t: number): RateRow {
  const falseMatches = impostor.filter((s) => s >= t).length;
  const falseNonMatches = genuine.filter((s) => s < t).length;
  return {
    threshold: t,
    fmr: impostor.length ? falseMatches / impostor.length : NaN,
    fnmr: genuine.length ? falseNonMatches / genuine.length : NaN,
    falseMatches,
    falseNonMatches,
  };
}

export function recommend(genuine: readonly number[], impostor: readonly number[], targetFmr: number): Recommendation {
  const reliable = impostor.length >= Math.ceil(3 / targetFmr);
  if (impostor.length === 0) {
    return { targetFmr, threshold: null, fmr: null, fnmr: null, reliable: false, note: 'No impostor-labeled attempts: the FMR cannot be bounded.' };
  }
  const desc = [...impostor].sort((a, b) => b - a);
  const allowed = Math.floor(targetFmr * desc.length);
  // The (allowed+1)-th highest impostor score must fall below t.
  const bar = allowed < desc.length ? desc[allowed]! : -1;
  let t = round4(Math.floor(bar * 1e4) / 1e4 + 1e-4);
  if (t <= bar) t = round4(t + 1e-4);
  const row = rateAt(genuine, impostor, t);
  const note = reliable
    ? `FMR <= ${targetFmr} over ${impostor.length} impostor attempts.`
    : `Only ${impostor.length} impostor attempts (< ${Math.ceil(3 / targetFmr)} needed to show FMR <= ${targetFmr}): ` +
      `this is the lowest threshold with at most ${allowed} observed false match(es); collect more labels.`;
  return { targetFmr, threshold: t, fmr: row.fmr, fnmr: genuine.length ? row.fnmr : null, reliable, note };
}

export function buildReport(
  scores: readonly LabeledScore[],
  options: { targets?: readonly number[]; grid?: readonly number[]; extra?: readonly number[] } = {},
): Report {
  const genuine = scores.filter((s) => s.label === 'genuine').map((s) => s.score);
  const impostor = scores.filter((s) => s.label === 'impostor').map((s) => s.score);
  const grid = options.grid ?? Array.from({ length: 31 }, (_, i) => round4(0.2 + i * 0.02));
  const recommendations = (options.targets ?? [1e-3, 1e-4]).map((t) => recommend(genuine, impostor, t));
  const thresholds = [
    ...new Set([...grid, ...(options.extra ?? []), ...recommendations.flatMap((r) => (r.threshold === null ? [] : [r.threshold]))]),
  ].sort((a, b) => a - b);
  return { genuine: genuine.length, impostor: impostor.length, rows: thresholds.map((t) => rateAt(genuine, impostor, t)), recommendations };
}

function pct(x: number | null): string {
  return x === null || Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(3)} %`;
}

export function formatReport(r: Report, context: { model: string; current?: number }): string {
  const lines = [
    `Threshold report for ${context.model}: ${r.genuine} genuine, ${r.impostor} impostor labeled attempts.`,
    '',
    '| threshold | FMR | FNMR | false matches | false non-matches |',
    '|---|---|---|---|---|',
    ...r.rows.map((x) => {
      const mark = [
        ...r.recommendations.filter((c) => c.threshold === x.threshold).map((c) => `recommended @ FMR<=${c.targetFmr}`),
        ...(context.current !== undefined && Math.abs(context.current - x.threshold) < 1e-9 ? ['current'] : []),
      ];
      return `| ${x.threshold.toFixed(4)}${mark.length ? ` (${mark.join(', ')})` : ''} | ${pct(x.fmr)} | ${pct(x.fnmr)} | ${x.falseMatches} | ${x.falseNonMatches} |`;
    }),
    '',
  ];
  for (const c of r.recommendations) {
    lines.push(
      c.threshold === null
        ? `Target FMR ${c.targetFmr}: no recommendation. ${c.note}`
        : `Target FMR ${c.targetFmr}: recommended threshold ${c.threshold.toFixed(4)} (FMR ${pct(c.fmr)}, FNMR ${pct(c.fnmr)}). ${c.note}`,
    );
  }
  if (context.current !== undefined) lines.push(`Current threshold: ${context.current.toFixed(4)}.`);
  return lines.join('\n');
}
