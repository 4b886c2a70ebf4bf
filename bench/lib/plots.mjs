/**
 * ROC and DET curves of several systems as SVG (no plotting package), and a helper that renders
 * an SVG to PNG with the benchmark's own Chromium page (setContent + element screenshot).
 *
 * Series: { label, color, points: [{ fmr, tmr }] } from metrics.rocPoints (strictest first).
 */

const PALETTE = ['#0050b3', '#d4380d', '#389e0d', '#722ed1', '#d48806', '#08979c'];

function axisFrame({ W, H, L, R, T, B, title, xLabel, yLabel, xTicks, yTicks, X, Y }) {
  const g = [];
  for (const [v, label] of xTicks) g.push(`<line x1="${X(v)}" y1="${T}" x2="${X(v)}" y2="${H - B}" stroke="#e3e3e3"/><text x="${X(v)}" y="${H - B + 18}" text-anchor="middle">${label}</text>`);
  for (const [v, label] of yTicks) g.push(`<line x1="${L}" y1="${Y(v)}" x2="${W - R}" y2="${Y(v)}" stroke="#e3e3e3"/><text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${label}</text>`);
  return `<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>
${g.join('\n')}
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>
<text x="${(L + W - R) / 2}" y="${H - 16}" text-anchor="middle">${xLabel}</text>
<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`;
}

function legend(series, x, y) {
  return series
    .map((s, i) => `<line x1="${x}" y1="${y + i * 18}" x2="${x + 24}" y2="${y + i * 18}" stroke="${s.color ?? PALETTE[i]}" stroke-width="2.5"/><text x="${x + 30}" y="${y + i * 18 + 4}">${s.label}</text>`)
    .join('\n');
}

/** ROC: x = FMR (log), y = TMR (linear, [ymin, 1]). */
export function rocSvg(series, { title, nImpostors, ymin = 0.8, W = 720, H = 520 } = {}) {
  const L = 70, R = 20, T = 40, B = 60;
  const xmin = Math.log10(Math.min(1e-4, 1 / nImpostors)), xmax = 0;
  const X = (f) => (L + ((Math.log10(Math.max(f, 10 ** xmin)) - xmin) / (xmax - xmin)) * (W - L - R)).toFixed(1);
  const Y = (t) => (T + (1 - (Math.min(1, Math.max(t, ymin)) - ymin) / (1 - ymin)) * (H - T - B)).toFixed(1);
  const xTicks = [];
  for (let e = Math.ceil(xmin); e <= 0; e++) xTicks.push([10 ** e, `1e${e}`]);
  const yTicks = [];
  const step = (1 - ymin) / 4;
  for (let k = 0; k <= 4; k++) yTicks.push([ymin + k * step, (ymin + k * step).toFixed(2)]);
  const paths = series.map((s, i) => {
    let d = '';
    s.points.forEach((p, j) => (d += j === 0 ? `M${X(p.fmr)},${Y(p.tmr)}` : `H${X(p.fmr)}V${Y(p.tmr)}`));
    return `<path d="${d}" fill="none" stroke="${s.color ?? PALETTE[i]}" stroke-width="2"/>`;
  });
  const res = `<line x1="${X(1 / nImpostors)}" y1="${T}" x2="${X(1 / nImpostors)}" y2="${H - B}" stroke="#999" stroke-dasharray="4 3"/><text x="${Number(X(1 / nImpostors)) + 4}" y="${H - B - 8}" fill="#777">1/${nImpostors} impostors</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
${axisFrame({ W, H, L, R, T, B, title, xLabel: 'false match rate (log; FMR 0 drawn at the left edge)', yLabel: 'true match rate', xTicks, yTicks, X, Y })}
${res}
${paths.join('\n')}
${legend(series, W - R - 330, H - B - 18 * series.length - 20)}
</svg>`;
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function probit(p) {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** DET: x = FMR, y = FNMR, both on normal-deviate (probit) scales, as in ISO/IEC 19795-1. */
export function detSvg(series, { title, nImpostors, nGenuine, W = 720, H = 520 } = {}) {
  const L = 70, R = 20, T = 40, B = 60;
  const pmin = Math.min(1e-4, 0.5 / nImpostors);
  const fmin = Math.min(1e-3, 0.5 / (nGenuine ?? 1000));
  const xa = probit(pmin), xb = probit(0.5);
  const ya = probit(fmin), yb = probit(0.5);
  const X = (f) => (L + ((probit(Math.min(0.5, Math.max(f, pmin))) - xa) / (xb - xa)) * (W - L - R)).toFixed(1);
  const Y = (f) => (T + (1 - (probit(Math.min(0.5, Math.max(f, fmin))) - ya) / (yb - ya)) * (H - T - B)).toFixed(1);
  const ticks = (min) => [1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5].filter((v) => v >= min).map((v) => [v, v >= 0.01 ? `${+(v * 100).toFixed(0)} %` : `${+(v * 100).toPrecision(1)} %`]);
  const paths = series.map((s, i) => {
    const pts = s.points.filter((p) => p.fmr <= 0.5 && 1 - p.tmr <= 0.5);
    let d = '';
    pts.forEach((p, j) => (d += `${j === 0 ? 'M' : 'L'}${X(p.fmr)},${Y(1 - p.tmr)}`));
    return `<path d="${d}" fill="none" stroke="${s.color ?? PALETTE[i]}" stroke-width="2"/>`;
  });
  const diag = `<line x1="${X(Math.max(pmin, fmin))}" y1="${Y(Math.max(pmin, fmin))}" x2="${X(0.5)}" y2="${Y(0.5)}" stroke="#bbb" stroke-dasharray="3 3"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
${axisFrame({ W, H, L, R, T, B, title, xLabel: 'false match rate (normal deviate scale; 0 drawn at the left edge)', yLabel: 'false non-match rate (normal deviate scale)', xTicks: ticks(pmin), yTicks: ticks(fmin), X, Y })}
${diag}
${paths.join('\n')}
${legend(series, W - R - 330, T + 20)}
</svg>`;
}

/** Renders an SVG string to a PNG file with a Playwright page (which is navigated away). */
export async function svgToPng(page, svg, path) {
  await page.goto('about:blank');
  await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
  await page.locator('svg').screenshot({ path });
}
