#!/usr/bin/env node
/**
 * LFW verification benchmark of the product's real pipeline in headless Chromium.
 *
 *   node bench/lfw.mjs [--pairs N] [--backend wasm|webgl] [--flip] [--scale S] [--out DIR]
 *
 * Starts Vite (vite.config.ts) on a free port, opens bench/pages/lfw.html in one Chromium page
 * and runs MediaPipeDetector (IMAGE, minScore 0.5) -> face nearest the centre -> CanvasAligner ->
 * MobileFaceNetEmbedder (batches of 8) -> cosine on every image of the selected pairs of
 * pairs.txt. Photos are served to the page only through a Playwright route reading from
 * the LFW folder (--lfw, LFW_DIR, or <repo>/../shared/faces/lfw-deepfunneled); they are never copied.
 *
 * Writes DIR/lfw-<config>.json (metrics, per-pair scores, config, machine), DIR/lfw-<config>.md
 * and DIR/lfw-<config>-roc.png, and prints the markdown table.
 */
import { createServer } from 'vite';
import { chromium } from '@playwright/test';
import { parseArgs } from 'node:util';
import { createServer as createNetServer } from 'node:net';
import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { dirname, resolve, sep, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import * as M from './metrics.mjs';
import { lfwDir } from './lib/datasets.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const BATCH = 8;
const CHUNK = 48; // images per page.evaluate call (a multiple of BATCH)
const LOG_EVERY = 200;
const TARGETS = [1e-2, 1e-3, 1e-4];
const RECOMMENDED_FMR = 1e-3;

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '6000' },
    backend: { type: 'string', default: 'wasm' },
    flip: { type: 'boolean', default: false },
    scale: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results' },
    'min-score': { type: 'string', default: '0.5' },
    'max-side': { type: 'string', default: '640' },
    rescore: { type: 'string' },
    lfw: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/lfw.mjs [--pairs N] [--backend wasm|webgl] [--flip] [--scale S] [--out DIR] [--min-score 0.5] [--max-side 640] [--lfw DIR]');
  console.log('       node bench/lfw.mjs --rescore bench/results/lfw-<config>.json   (recompute metrics + .md from the stored pair scores)');
  process.exit(0);
}
const nPairs = Number(args.pairs);
const scale = Number(args.scale);
const minScore = Number(args['min-score']);
const maxSide = Number(args['max-side']);
if (!['wasm', 'webgl'].includes(args.backend)) throw new Error(`--backend must be wasm or webgl, got ${args.backend}`);
if (!(Number.isInteger(nPairs) && nPairs >= 20)) throw new Error(`--pairs must be an integer >= 20, got ${args.pairs}`);
if (!(scale > 0.5 && scale < 2)) throw new Error(`--scale must be in (0.5, 2), got ${args.scale}`);
const LFW = lfwDir(args.lfw); // --lfw, else LFW_DIR, else <FACES_DIR or <repo>/../shared/faces>/lfw-deepfunneled
const outDir = resolve(process.cwd(), args.out);

const scaleTag = scale.toFixed(2).replace(/0$/, '');
const configName = `${args.backend}-s${scaleTag}${args.flip ? '-flip' : ''}${nPairs < 6000 ? `-p${nPairs}` : ''}`;
const log = (...a) => console.log(`[lfw ${new Date().toISOString().slice(11, 19)}]`, ...a);
const fmtDur = (s) => {
  if (s < 60) return `${s.toFixed(1)}s`;
  const r = Math.round(s);
  return `${Math.floor(r / 60)}m ${String(r % 60).padStart(2, '0')}s`;
};

// ---------------------------------------------------------------------------------------------
// Pairs

function imagePath(name, n) {
  return `${name}/${name}_${String(n).padStart(4, '0')}.jpg`;
}

/** All 6,000 pairs: 10 folds x (300 matched, then 300 mismatched). */
function readPairs() {
  const lines = readFileSync(join(LFW, 'pairs.txt'), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const [folds, perHalf] = lines[0].trim().split(/\s+/).map(Number);
  const body = lines.slice(1);
  if (body.length !== folds * perHalf * 2) throw new Error(`pairs.txt: expected ${folds * perHalf * 2} pair lines, got ${body.length}`);
  const pairs = [];
  for (let f = 0; f < folds; f++) {
    for (let i = 0; i < 2 * perHalf; i++) {
      const line = body[f * 2 * perHalf + i];
      const p = line.trim().split(/\s+/);
      const same = i < perHalf;
      if (same && p.length !== 3) throw new Error(`pairs.txt: bad matched line "${line}"`);
      if (!same && p.length !== 4) throw new Error(`pairs.txt: bad mismatched line "${line}"`);
      const a = imagePath(p[0], Number(p[1]));
      const b = same ? imagePath(p[0], Number(p[2])) : imagePath(p[2], Number(p[3]));
      pairs.push({ fold: f, same, a, b });
    }
  }
  return { pairs, folds, perHalf };
}

/** The first N pairs spread evenly over the folds, half matched and half mismatched in each. */
function selectPairs(all, folds, perHalf, n) {
  if (n >= all.length) return all;
  const out = [];
  for (let f = 0; f < folds; f++) {
    const inFold = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    const matched = Math.ceil(inFold / 2);
    const mismatched = inFold - matched;
    const fold = all.filter((p) => p.fold === f);
    out.push(...fold.filter((p) => p.same).slice(0, Math.min(matched, perHalf)));
    out.push(...fold.filter((p) => !p.same).slice(0, Math.min(mismatched, perHalf)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Machine info

function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    return m ? m[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function git(...a) {
  try {
    return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Metrics and report

function withCi(r) {
  return {
    ...r,
    fmrCi95: M.clopperPearson(r.impostorsAccepted, r.impostors),
    tmrCi95: M.clopperPearson(r.genuineAccepted, r.genuine),
  };
}

/** Everything computed from the pair scores alone (also used by --rescore). */
function computeMetrics(scored) {
  const rec = M.tarAtFar(scored, RECOMMENDED_FMR);
  const sweep = [];
  for (let k = 0; k <= 10; k++) sweep.push(M.ratesAt(scored, Number((0.2 + 0.05 * k).toFixed(2))));
  return {
    tenFold: M.tenFold(scored),
    auc: M.auc(scored),
    eer: M.eer(scored),
    tarAtFar: TARGETS.map((t) => M.tarAtFar(scored, t)),
    recommended: {
      targetFmr: RECOMMENDED_FMR,
      ...withCi(rec.rounded),
      exactBoundary: rec.boundary,
      note: `lowest cosine (4 decimals, accept when score >= threshold) whose FMR over all ${rec.rounded.impostors} impostor pairs is <= ${RECOMMENDED_FMR}: at most ${rec.allowedFalseMatches} false matches; CIs are exact Clopper-Pearson 95 %`,
    },
    thresholdSweep: sweep.map(withCi),
    scoreStats: M.scoreStats(scored),
  };
}

const pct = (x, d = 2) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(d)} %`);
const num = (x, d = 4) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(d));
const ms = (x) => (x === null || x === undefined ? 'n/a' : `${x.toFixed(1)} ms`);
const sci = (x) => x.toExponential(0);

function markdown(r) {
  const m = r.metrics;
  const rows = [];
  rows.push(['10-fold accuracy (mean ± std, population std)', `${pct(m.tenFold.mean)} ± ${pct(m.tenFold.std)} (fold thresholds ${num(Math.min(...m.tenFold.folds.map((f) => f.threshold)), 3)} to ${num(Math.max(...m.tenFold.folds.map((f) => f.threshold)), 3)})`]);
  rows.push(['ROC AUC', num(m.auc, 5)]);
  rows.push(['EER', `${pct(m.eer.eer)} (cosine ${num(m.eer.threshold)})`]);
  for (const t of m.tarAtFar) {
    const label = `TAR @ FAR ${sci(t.target)}`;
    if (t.belowResolution) {
      rows.push([label, `below the resolution of ${r.counts.impostorPairs.toLocaleString('en')} impostor pairs (1 / ${r.counts.impostorPairs} = ${t.resolution.toExponential(1)}); strictest measurable point, zero false matches: TAR ${pct(t.rounded.tmr)} at cosine >= ${num(t.rounded.threshold)} (just above the highest impostor score ${num(t.boundary, 5)})`]);
    } else {
      rows.push([label, `${pct(t.rounded.tmr)} at cosine >= ${num(t.rounded.threshold)} (FAR ${t.rounded.impostorsAccepted}/${t.rounded.impostors} = ${pct(t.rounded.fmr, 3)})`]);
    }
  }
  const rec = m.recommended;
  rows.push([`**Recommended threshold (lowest cosine with FMR <= ${sci(RECOMMENDED_FMR)})**`, `**${num(rec.threshold)}**: FMR ${rec.impostorsAccepted}/${rec.impostors} = ${pct(rec.fmr, 3)} (95 % CI ${pct(rec.fmrCi95.lower, 3)} to ${pct(rec.fmrCi95.upper, 3)}), TMR ${rec.genuineAccepted}/${rec.genuine} = ${pct(rec.tmr)} (95 % CI ${pct(rec.tmrCi95.lower)} to ${pct(rec.tmrCi95.upper)})`]);
  const d = r.detection;
  rows.push(['Images with no face found (minScore ' + r.config.minScore + ')', `${d.noFace} of ${d.images}${d.noFace ? ` (${d.noFacePaths.slice(0, 10).join(', ')}${d.noFacePaths.length > 10 ? ', …' : ''}); ${d.pairsWithoutFace} pairs without a score: counted as errors in the 10-fold accuracy and rejected at every threshold in the ROC metrics` : ''}`]);
  if (d.loadErrors) rows.push(['Images that failed to load', `${d.loadErrors}`]);
  rows.push(['Images with more than one face (nearest the centre taken)', `${d.multiFace}`]);
  const t = r.timing;
  rows.push([`Median ms per image/face (${r.machine.tfBackend}${r.machine.wasmSimd ? ' SIMD' : ''}): detect / align / embed (batch ${BATCH}${r.config.flip ? ', flip: 2 passes' : ''})`, `${ms(t.detect.median)} / ${ms(t.align.median)} / ${ms(t.embed.median)}`]);
  rows.push(['Throughput, run time', `${t.imagesPerSecond.toFixed(2)} images/s over ${t.images} images; embedding phase ${fmtDur(t.phaseSeconds)}, whole run ${fmtDur(t.totalSeconds)}`]);
  const head = [
    `### LFW, ${r.config.name}: ${r.counts.pairs.toLocaleString('en')} pairs (${r.counts.genuinePairs} genuine, ${r.counts.impostorPairs} impostor), ${r.counts.images} images`,
    '',
    `Pipeline: MediaPipe BlazeFace short-range (IMAGE, minScore ${r.config.minScore}) -> face nearest the centre -> CanvasAligner (ArcFace 112x112, templateScale ${r.config.scale}) -> ${r.source.modelId} on TF.js ${r.machine.tfBackend}${r.config.flip ? ' (flip TTA)' : ''}, batch ${BATCH} -> cosine. ${r.date}; ${r.machine.cpu}, ${r.machine.cpus} cores; Chromium ${r.machine.chromium}; node ${r.machine.node}.`,
    '',
    '| metric | value |',
    '|---|---|',
  ];
  const sweep = [
    '',
    'Threshold sweep over all pairs (accept when cosine >= threshold; 95 % Clopper-Pearson CI for FMR):',
    '',
    '| cosine threshold | FMR (false matches) | FMR 95 % CI | TMR (genuine accepted) |',
    '|---|---|---|---|',
    ...m.thresholdSweep
      .filter((x) => x.threshold >= 0.3 && x.threshold <= 0.6)
      .map((x) => `| ${x.threshold.toFixed(2)} | ${pct(x.fmr, 3)} (${x.impostorsAccepted}/${x.impostors}) | ${pct(x.fmrCi95.lower, 3)} to ${pct(x.fmrCi95.upper, 3)} | ${pct(x.tmr)} (${x.genuineAccepted}/${x.genuine}) |`),
  ];
  return [...head, ...rows.map(([a, b]) => `| ${a} | ${b} |`), ...sweep, ''].join('\n');
}

function rocSvg(points, nImp, title) {
  const W = 640, H = 480, L = 70, R = 20, T = 40, B = 60;
  const xmin = Math.log10(Math.min(1e-4, 1 / nImp)), xmax = 0, ymin = 0.8, ymax = 1;
  const X = (f) => L + ((Math.log10(Math.max(f, 10 ** xmin)) - xmin) / (xmax - xmin)) * (W - L - R);
  const Y = (t) => T + (1 - (Math.max(t, ymin) - ymin) / (ymax - ymin)) * (H - T - B);
  // Staircase through the ROC points.
  let d = '';
  let prev = null;
  for (const p of points) {
    if (!prev) d += `M${X(p.fmr).toFixed(1)},${Y(p.tmr).toFixed(1)}`;
    else d += `H${X(p.fmr).toFixed(1)}V${Y(p.tmr).toFixed(1)}`;
    prev = p;
  }
  const grid = [];
  for (let e = Math.ceil(xmin); e <= 0; e++) {
    grid.push(`<line x1="${X(10 ** e)}" y1="${T}" x2="${X(10 ** e)}" y2="${H - B}" stroke="#ddd"/><text x="${X(10 ** e)}" y="${H - B + 18}" text-anchor="middle">1e${e}</text>`);
  }
  for (let v = ymin; v <= ymax + 1e-9; v += 0.05) {
    grid.push(`<line x1="${L}" y1="${Y(v)}" x2="${W - R}" y2="${Y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  const res = `<line x1="${X(1 / nImp)}" y1="${T}" x2="${X(1 / nImp)}" y2="${H - B}" stroke="#c00" stroke-dasharray="4 3"/><text x="${X(1 / nImp) + 4}" y="${T + 12}" fill="#c00">1/${nImp} impostors</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>
${grid.join('\n')}
${res}
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>
<path d="${d}" fill="none" stroke="#0050b3" stroke-width="2"/>
<text x="${(L + W - R) / 2}" y="${H - 20}" text-anchor="middle">false match rate (log; FMR 0 drawn at the left edge)</text>
<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">true match rate</text>
</svg>`;
}

/** Pretty JSON with one line per pair and per image (keeps the file diffable and small). */
function toJson(report) {
  const { pairs, images, ...rest } = report;
  const head = JSON.stringify(rest, null, 1).replace(/\n}$/, '');
  const list = (xs) => `[\n${xs.map((x) => '  ' + JSON.stringify(x)).join(',\n')}\n ]`;
  return `${head},\n "pairs": ${list(pairs)},\n "images": ${list(images)}\n}\n`;
}

// ---------------------------------------------------------------------------------------------
// Main

/** --rescore: metrics and markdown again from a result file's per-pair scores (no browser). */
function rescore(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  report.metrics = computeMetrics(report.pairs);
  report.rescoredAt = new Date().toISOString();
  writeFileSync(file, toJson(report));
  const md = markdown(report);
  writeFileSync(file.replace(/\.json$/, '.md'), md);
  console.log(md);
}

async function main() {
  if (args.rescore) return rescore(resolve(args.rescore));
  const started = Date.now();
  process.chdir(ROOT);
  const { pairs: allPairs, folds, perHalf } = readPairs();
  const pairs = selectPairs(allPairs, folds, perHalf, nPairs);
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  for (const img of images.slice(0, 3)) if (!existsSync(join(LFW, img))) throw new Error(`missing ${join(LFW, img)}`);
  log(`config ${configName}: ${pairs.length} pairs, ${images.length} unique images, backend ${args.backend}, flip ${args.flip}, scale ${scale}`);

  const port = await freePort();
  const server = await createServer({
    configFile: join(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'warn',
    clearScreen: false,
    cacheDir: join(ROOT, 'node_modules/.vite-bench'),
    // No file watching / HMR: an edit elsewhere in the repo must not reload the page mid-run.
    server: { host: '127.0.0.1', port, strictPort: true, open: false, hmr: false, watch: null },
  });
  await server.listen();
  const origin = `http://127.0.0.1:${port}`;
  log(`vite at ${origin}`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let exitCode = 0;
  try {
    const page = await browser.newPage();
    const offOrigin = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol.startsWith('http') && u.origin !== origin) offOrigin.push(r.url());
    });
    page.on('pageerror', (e) => log('page error:', e.message));
    // MediaPipe's wasm prints its own GL/XNNPACK notes on stderr (shown as console errors): not ours.
    const noise = /GL Driver Message|OpenGL error checking|XNNPACK delegate|Feedback manager requires/;
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && !noise.test(m.text())) log(`page ${m.type()}:`, m.text().slice(0, 300));
    });
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    const lfwRoot = LFW.endsWith(sep) ? LFW : LFW + sep;
    let served = 0;
    await page.route('**/__faces/**', async (route) => {
      const rel = decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/__faces\//, ''));
      const file = resolve(LFW, rel);
      if (!file.startsWith(lfwRoot) || !file.endsWith('.jpg')) return route.fulfill({ status: 403, body: 'forbidden' });
      try {
        const body = await readFile(file);
        served++;
        return route.fulfill({ status: 200, contentType: 'image/jpeg', body });
      } catch {
        return route.fulfill({ status: 404, body: 'not found' });
      }
    });

    await page.goto(`${origin}/bench/pages/lfw.html`);
    await page.waitForFunction(() => window.bench?.ready === true, null, { timeout: 120_000 });
    const navBefore = navigations;
    const info = await page.evaluate(
      (o) => window.bench.init(o),
      { backend: args.backend, flip: args.flip, scale, minScore, maxSide, batch: BATCH },
    );
    log(`page ready: tf ${info.tfBackend}${info.wasmSimd ? ' (SIMD)' : ''}, ${info.modelId}, detector ${info.detectorCreateMs.toFixed(0)} ms, embedder ${info.embedderCreateMs.toFixed(0)} ms, usage loggers disabled ${info.usageLoggersDisabled}`);
    if (info.tfBackend !== args.backend) throw new Error(`asked for ${args.backend}, page runs ${info.tfBackend}`);

    // Embeddings for every unique image.
    const results = [];
    const phaseStart = Date.now();
    let nextLog = LOG_EVERY;
    for (let i = 0; i < images.length; i += CHUNK) {
      const chunk = images.slice(i, i + CHUNK);
      const res = await page.evaluate((p) => window.bench.process(p), chunk);
      if (navigations !== navBefore) throw new Error('the bench page navigated/reloaded during the run');
      results.push(...res);
      const done = results.length;
      if (done >= nextLog || done === images.length) {
        const el = (Date.now() - phaseStart) / 1000;
        const rate = done / el;
        const noFace = results.filter((r) => r.status !== 'ok').length;
        log(`${done}/${images.length} images  ${rate.toFixed(2)} img/s  elapsed ${fmtDur(el)}  ETA ${fmtDur((images.length - done) / rate)}  no face ${noFace}`);
        while (nextLog <= done) nextLog += LOG_EVERY;
      }
    }
    const phaseSeconds = (Date.now() - phaseStart) / 1000;
    const tensors = await page.evaluate(() => window.bench.numTensors());

    // Scores with the product's cosine, in the page.
    const scores = await page.evaluate((p) => window.bench.score(p), pairs.map((p) => [p.a, p.b]));
    const scored = pairs.map((p, i) => ({ fold: p.fold, same: p.same, a: p.a, b: p.b, score: scores[i] }));

    // Metrics.
    const byPath = new Map(results.map((r) => [r.path, r]));
    const noFacePaths = results.filter((r) => r.status === 'no-face').map((r) => r.path);
    const loadErrors = results.filter((r) => r.status === 'load-error');
    const ok = results.filter((r) => r.status === 'ok');
    const full = ok.filter((r) => r.batchSize === BATCH);
    const stat = (xs) => ({ n: xs.length, median: M.median(xs), mean: xs.length ? M.mean(xs) : null, p90: M.percentile(xs, 90) });
    const totalSeconds = (Date.now() - started) / 1000;
    const report = {
      benchmark: 'LFW verification (deep-funneled, pairs.txt, 10 folds)',
      date: new Date().toISOString(),
      command: `node bench/lfw.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      config: {
        name: configName,
        pairs: pairs.length,
        backend: args.backend,
        flip: args.flip,
        scale,
        minScore,
        maxSide,
        batch: BATCH,
        detector: { id: info.detectorId, runningMode: 'IMAGE', delegate: 'CPU' },
        faceChoice: 'nearest the image centre (box centre) when several are found',
        noFacePolicy: 'pair has no score: counted as an error in 10-fold accuracy (whatever its label); rejected at every threshold in ROC/AUC/EER/TAR (false non-match if genuine, correct rejection if impostor)',
        decisionRule: 'accept when cosine >= threshold',
        tenFoldThreshold: 'per fold, the accuracy-maximising threshold on the other 9 folds (midpoints between consecutive scores; middle of ties)',
        lfwDir: LFW,
      },
      machine: {
        cpu: cpuModel(),
        cpus: os.cpus().length,
        memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
        chromium: browser.version(),
        userAgent: info.userAgent,
        hardwareConcurrency: info.hardwareConcurrency,
        tfBackend: info.tfBackend,
        backendChoice: info.backend,
        wasmSimd: info.wasmSimd,
        versions: {
          '@playwright/test': pkgVersion('@playwright/test'),
          vite: pkgVersion('vite'),
          '@tensorflow/tfjs-core': pkgVersion('@tensorflow/tfjs-core'),
          '@mediapipe/tasks-vision': pkgVersion('@mediapipe/tasks-vision'),
        },
      },
      source: {
        gitCommit: git('rev-parse', 'HEAD'),
        uncommittedInSrcOrBench: git('status', '--porcelain', '--', 'src', 'bench', 'vite.config.ts')?.split('\n').filter(Boolean) ?? null,
        modelManifestSha256: createHash('sha256').update(readFileSync(join(ROOT, 'public/models/manifest.json'))).digest('hex'),
        modelId: info.modelId,
      },
      counts: {
        pairs: scored.length,
        genuinePairs: scored.filter((p) => p.same).length,
        impostorPairs: scored.filter((p) => !p.same).length,
        images: images.length,
      },
      detection: {
        images: results.length,
        noFace: noFacePaths.length,
        noFacePaths,
        loadErrors: loadErrors.length,
        loadErrorPaths: loadErrors.map((r) => `${r.path}: ${r.error}`),
        pairsWithoutFace: scored.filter((p) => p.score === null).length,
        multiFace: results.filter((r) => r.faces > 1).length,
        facesHistogram: results.reduce((h, r) => ((h[r.faces] = (h[r.faces] ?? 0) + 1), h), {}),
        downscaled: results.filter((r) => r.downscaled).length,
        chosenFaceScore: stat(ok.map((r) => r.faceScore)),
      },
      metrics: computeMetrics(scored),
      timing: {
        images: results.length,
        phaseSeconds,
        totalSeconds,
        imagesPerSecond: results.length / phaseSeconds,
        detect: stat(results.filter((r) => r.status !== 'load-error').map((r) => r.detectMs)),
        align: stat(ok.map((r) => r.alignMs)),
        embed: stat(full.map((r) => r.embedMs)),
        embedNote: `per face = wall time of a batch of ${BATCH} (${args.flip ? 'two passes: crop and mirrored crop, ' : ''}including upload and readback) / ${BATCH}; only full batches`,
        detectorCreateMs: info.detectorCreateMs,
        embedderCreateMs: info.embedderCreateMs,
      },
      checks: {
        offOriginRequests: offOrigin.length,
        offOriginSample: offOrigin.slice(0, 5),
        facesServedByRoute: served,
        liveTensorsAfterRun: tensors,
      },
      pairs: scored.map((p) => ({ fold: p.fold, same: p.same, a: p.a, b: p.b, score: p.score })),
    };
    // Per-image detail without the pair list duplication (small): faces found and timings.
    report.images = images.map((p) => {
      const r = byPath.get(p);
      return { path: p, status: r.status, faces: r.faces, faceScore: r.faceScore === undefined ? null : Number(r.faceScore.toFixed(4)), detectMs: Number(r.detectMs.toFixed(2)), alignMs: r.alignMs === undefined ? null : Number(r.alignMs.toFixed(2)), embedMs: r.embedMs === undefined ? null : Number(r.embedMs.toFixed(2)) };
    });

    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `lfw-${configName}`);
    // ROC curve: an SVG rendered by the same Chromium and screenshotted.
    try {
      const svg = rocSvg(M.rocPoints(scored), report.counts.impostorPairs, `LFW ROC, ${configName} (AUC ${report.metrics.auc.toFixed(4)})`);
      await page.goto('about:blank');
      await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
      await page.locator('svg').screenshot({ path: `${base}-roc.png` });
      report.rocPng = `lfw-${configName}-roc.png`;
    } catch (e) {
      log('ROC PNG not drawn:', e.message);
    }
    writeFileSync(`${base}.json`, toJson(report));
    const md = markdown(report);
    writeFileSync(`${base}.md`, md);

    console.log('\n' + md);
    log(`wrote ${base}.json, ${base}.md${report.rocPng ? `, ${base}-roc.png` : ''}`);
    if (offOrigin.length) log(`WARNING: ${offOrigin.length} off-origin requests, e.g. ${offOrigin[0]}`);
    log(`done in ${fmtDur(totalSeconds)}`);
  } catch (e) {
    console.error(e);
    exitCode = 1;
  } finally {
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
  }
  process.exit(exitCode);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
