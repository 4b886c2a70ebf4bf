#!/usr/bin/env node
/**
 * Accuracy benchmark: the product's pipeline and the face-api.js baseline, same run, same images.
 *
 *   node bench/runners/accuracy.mjs              LFW 6,000 pairs (ours + face-api), 1:N on LFW, ORL, ACCURACY.md
 *   node bench/runners/accuracy.mjs --only exp   alignment / TTA experiments on LFW pairs
 *   node bench/runners/accuracy.mjs --smoke      CI smoke (< 2 min): 100 LFW pairs both systems, 1:N with
 *                                                20 identities, ORL 5 people, calib on those images (all their
 *                                                pairs, 50 bootstrap replicates); writes to a temp dir; exit 1 if
 *                                                our 100-pair accuracy < --min-accuracy (0.90) or anything breaks
 *
 * Sections (--only a,b,...): lfw (ours on LFW pairs), faceapi (face-api.js on the same pairs),
 * ident (1:N open-set on LFW), orl (ORL verification + 1:N, both systems), calib (thresholds at FMR
 * 1e-3 / 1e-4 over ALL cross-identity pairs of every LFW image (~69.6 M) and of ORL, pooled too, with
 * bootstrap-over-identities intervals: lfw-calibration.json/.md; --calib-recipes, --calib-boot N),
 * agg (template aggregation and score normalisation: E enrolled templates per LFW identity, best-of
 * vs mean vs quality-weighted mean vs Z/T/S-norm, every probe against every enrolment, pooled and
 * 10-fold over identities: lfw-aggregation-<recipe>.json/.md; --agg-templates E, --agg-probes P,
 * --agg-cohort N, --agg-identities K (the first K only); bench/lib/aggregation.mjs), exp (experiments), summary (bench/results/ACCURACY.md
 * from the result files).
 * Default: lfw,faceapi,ident,orl,calib,agg,summary.
 *
 * Ours = the product's default (flip TTA: recipe s1.00+s1.00-m; beside it s1.00, no flip) unless
 * given: --scale S (template scale), --weights w1,w2,w3,w4 (keypoint weights; bench/pages/variant-aligner.ts),
 * --no-flip (one embedding per crop), or --recipe R (any experiment recipe).
 *
 * Embeddings are cached under $BENCH_CACHE_DIR or <os tmp>/face-login-bench-cache (never in the
 * repo), keyed by the model files, the pipeline's source files and the framing; a stored result
 * file whose fingerprint matches what would be computed is reused as it is (--fresh recomputes).
 * Per-pair results are written gzipped (lfw-ours-*.json.gz, lfw-faceapi.json.gz), summaries as text.
 * Datasets: <repo>/../shared/faces (FACES_DIR, LFW_DIR, ORL_DIR, --lfw, --orl override).
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { chromium } from '@playwright/test';
import * as M from '../lib/metrics.mjs';
import * as C from '../lib/calibration.mjs';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, fmtDur, machineInfo, makeLog, mdTable, readResultJson, serveDirPlugin, startVite, summarize, watchPage, writeResultFile } from '../lib/harness.mjs';
import { lfwDir, orlDir, requireDir, readLfwPairs, selectLfwPairs, listLfwIdentities, listOrl, shuffled, routeFaceSets } from '../lib/datasets.mjs';
import { EmbedCache, DEFAULT_CACHE_ROOT, hashFiles, fromBase64 } from '../lib/embed-cache.mjs';
import { cosine, euclidean, fuse, search, opensetMetrics, ratesAtT } from '../lib/openset.mjs';
import { rocSvg, detSvg, svgToPng } from '../lib/plots.mjs';
import { verification, cells, pct, num, thr } from '../lib/verify-report.mjs';
import { runAggregation } from '../lib/aggregation.mjs';

const log = makeLog('accuracy');
const SECTIONS = ['lfw', 'faceapi', 'ident', 'orl', 'calib', 'agg', 'exp', 'summary'];
/** Bump when the pages' framing / face choice / output semantics change (invalidates caches and stored results). */
const PAGE_VERSION = 1;
const BATCH = 8;
const CHUNK = 48;
const FACEAPI_CHUNK = 16;
/** Parallel face-api.js pages (--faceapi-workers; default: one per core). */
let FACEAPI_WORKERS = 1;
const PRODUCT_THRESHOLD_FILE = 'src/core/calibration.ts';
/** Files whose content defines our pipeline's output. */
const OUR_SOURCES = [
  'public/models/manifest.json',
  'src/adapters/detector/mediapipe-detector.ts',
  'src/adapters/aligner/canvas-aligner.ts',
  'src/adapters/aligner/mesh-aligner.ts',
  'src/adapters/landmarks/face-mesh-model.ts',
  'src/core/face-mesh.ts',
  'src/adapters/embedder/mobilefacenet-model.ts',
  'bench/pages/variant-aligner.ts',
  'src/core/align.ts',
  'src/adapters/embedder/mobilefacenet-embedder.ts',
  'src/adapters/embedder/tf-backend.ts',
  'src/core/match.ts',
];
const FACEAPI_SOURCES = [
  'node_modules/@vladmandic/face-api/package.json',
  'node_modules/@vladmandic/face-api/dist/face-api.esm.js',
  'node_modules/@vladmandic/face-api/model/ssd_mobilenetv1_model.bin',
  'node_modules/@vladmandic/face-api/model/face_landmark_68_model.bin',
  'node_modules/@vladmandic/face-api/model/face_recognition_model.bin',
];
const DEFAULT_EXP = [
  's1.00', 's1.00+s1.00-m', 's0.95', 's0.95+s0.95-m', 's1.05', 's1.05+s1.05-m', 's1.10', 's1.10+s1.10-m', 's1.15', 's1.15+s1.15-m',
  's1.00-w1_1_1_0', 's1.00-w1_1_1_0+s1.00-w1_1_1_0-m', 's1.00-w1_1_1_0.5', 's1.00-w1_1_1_0.5+s1.00-w1_1_1_0.5-m',
  's1.00+s1.10', 's1.00+s1.00-m+s1.10+s1.10-m', 's1.05+s1.15', 's1.00+s1.05+s1.10',
].join(',');

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    cache: { type: 'string', default: DEFAULT_CACHE_ROOT },
    'no-cache': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    scale: { type: 'string', default: '1' },
    'no-flip': { type: 'boolean', default: false },
    weights: { type: 'string' },
    recipe: { type: 'string' },
    also: { type: 'string' },
    pairs: { type: 'string', default: '6000' },
    'faceapi-pairs': { type: 'string' },
    'ident-sizes': { type: 'string', default: '100,1000,all' },
    'ident-seed': { type: 'string', default: '20261128' },
    'ident-recipes': { type: 'string' },
    'orl-people': { type: 'string', default: '40' },
    'orl-faceapi': { type: 'boolean', default: true },
    'faceapi-workers': { type: 'string' },
    'calib-recipes': { type: 'string' },
    'calib-boot': { type: 'string', default: '200' },
    'agg-templates': { type: 'string', default: '3' },
    'agg-probes': { type: 'string', default: '10' },
    'agg-cohort': { type: 'string', default: '500' },
    'agg-identities': { type: 'string' },
    'exp-recipes': { type: 'string', default: DEFAULT_EXP },
    'exp-folds': { type: 'string', default: 'all' },
    'exp-baseline': { type: 'string', default: 's1.00' },
    'min-accuracy': { type: 'string', default: '0.9' },
    'min-score': { type: 'string', default: '0.5' },
    backend: { type: 'string', default: 'wasm' },
    lfw: { type: 'string' },
    orl: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  const head = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  console.log(head.slice(1, head.findIndex((l) => l.startsWith(' */')) + 1).map((l) => l.replace(/^ \*\/?\s?/, '')).join('\n'));
  process.exit(0);
}

const SMOKE = args.smoke;
const only = new Set((args.only ?? 'lfw,faceapi,ident,orl,calib,agg,summary').split(',').map((s) => s.trim()).filter(Boolean));
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s} (known: ${SECTIONS.join(', ')})`);
const outDir = args.out ? resolve(args.out) : SMOKE ? mkdtempSync(join(os.tmpdir(), 'face-login-accuracy-smoke-')) : join(ROOT, 'bench/results');
const cacheDisabled = args['no-cache'] || SMOKE;
const nPairs = SMOKE ? 100 : Number(args.pairs);
// face-api costs ~0.6 s per image on 2 cores: the smoke run gives it 20 of the 100 pairs (2 per fold).
const nFaceApiPairs = Math.min(nPairs, args['faceapi-pairs'] ? Number(args['faceapi-pairs']) : SMOKE ? 20 : nPairs);
const minScore = Number(args['min-score']);
FACEAPI_WORKERS = args['faceapi-workers'] ? Number(args['faceapi-workers']) : SMOKE ? 1 : Math.max(1, os.cpus().length);
if (!(Number.isInteger(FACEAPI_WORKERS) && FACEAPI_WORKERS >= 1)) throw new Error(`--faceapi-workers must be a positive integer, got ${args['faceapi-workers']}`);
const LFW = lfwDir(args.lfw);
const ORL = orlDir(args.orl);
const FRAME_IMAGE = { kind: 'image', maxSide: 640 };
const FRAME_LETTERBOX = { kind: 'letterbox', width: 640, height: 480 };
const frameTag = (f) => (f.kind === 'image' ? `img${f.maxSide}` : `lb${f.width}x${f.height}`);

// ---------------------------------------------------------------------------------------------
// Variants and recipes

/** ARCFACE_TEMPLATE_4 of src/core/align.ts (right eye, left eye, nose tip, mouth centre), for -tm variants. */
const ARCFACE_4 = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, (41.5493 + 70.7299) / 2, (92.3655 + 92.2041) / 2];

/**
 * 's1.10-w1_1_1_0.5-tm90.3-m' -> { id, scale: 1.1, weights: [1,1,1,0.5], template: ARCFACE_4 with the
 * mouth's y = 90.3, mirror: true }; suffix -F = the product's flip TTA instead of -m; -L = five-point
 * alignment from the face mesh (the product's MeshAligner; s1.00 only); -h = float16 weights.
 */
function parseVariant(id) {
  const m = /^s(\d+(?:\.\d+)?)(?:-w([\d._]+))?(?:-tm(\d+(?:\.\d+)?))?(-L)?(-h)?(?:-(m|F))?$/.exec(id);
  if (!m) throw new Error(`bad variant id ${id} (expected s<scale>[-w<w1>_<w2>_<w3>_<w4>][-tm<mouth y>][-L][-h][-m|-F])`);
  const spec = { id, scale: Number(m[1]) };
  if (m[2]) {
    spec.weights = m[2].split('_').map(Number);
    if (spec.weights.length !== 4 || spec.weights.some((w) => !(w >= 0))) throw new Error(`bad weights in ${id}`);
  }
  if (m[3]) spec.template = [...ARCFACE_4.slice(0, 7), Number(m[3])];
  if (m[4]) {
    if (spec.scale !== 1 || spec.weights || spec.template) throw new Error(`bad variant ${id}: -L takes no scale, weights or template`);
    spec.mesh = true;
  }
  if (m[5]) spec.f16 = true;
  if (m[6] === 'm') spec.mirror = true;
  if (m[6] === 'F') spec.flip = true;
  return spec;
}
const variantId = ({ scale, weights, flip }) => `s${scale.toFixed(2)}${weights && weights.some((w) => w !== 1) ? `-w${weights.join('_')}` : ''}${flip ? '-F' : ''}`;
/** A recipe = variant ids whose embeddings are added and renormalised ('s1.00+s1.00-m' = flip TTA on normalised embeddings). */
const parseRecipe = (r) => r.split('+').map((s) => parseVariant(s.trim()));
const recipeLabel = (r) => r;

// Default = the product's pipeline as createFaceAuth builds it (src/face-auth.ts: new CanvasAligner(),
// flip on: the crop's and the mirrored crop's L2-normalised embeddings added = recipe s1.00+s1.00-m).
// --scale/--weights/--no-flip give another single configuration; --recipe any recipe.
const custom = args.scale !== '1' || args.weights !== undefined || args['no-flip'];
const baseVariant = variantId({ scale: Number(args.scale), weights: args.weights?.split(',').map(Number) });
/** Our main configuration (the product's by default). */
const OURS = args.recipe ?? (args['no-flip'] ? baseVariant : `${baseVariant}+${baseVariant}-m`);
/**
 * Reported beside it (LFW, 1:N, ORL): by default the same pipeline without flip (one embedding per
 * crop), unless this is the smoke run. --also '' for none.
 */
const ALSO = (args.also ?? (SMOKE || args.recipe || custom ? '' : baseVariant)).split(',').map((x) => x.trim()).filter(Boolean);
const OURS_ALL = [OURS, ...ALSO];

function describeRecipe(recipe) {
  return parseRecipe(recipe).map((v) => {
    const parts = [`template scale ${v.scale}`];
    if (v.weights) parts.push(`keypoint weights [${v.weights.join(', ')}]`);
    if (v.template) parts.push(`template mouth y ${v.template[7]} (ArcFace: ${ARCFACE_4[7].toFixed(2)})`);
    if (v.mesh) parts.push('five points from the face mesh (MeshAligner)');
    if (v.f16) parts.push('float16 weights');
    if (v.mirror) parts.push('mirrored crop');
    if (v.flip) parts.push("product flip TTA (raw outputs of crop + mirror added)");
    return parts.join(', ');
  }).join(' + ');
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

// Only the detector and embedder entries of the model manifest (ids, files, checksums) define our
// output; another model added to or removed from the manifest must not invalidate the caches.
const modelEntries = (buf) => {
  const m = JSON.parse(buf.toString('utf8'));
  const embedderDir = m.embedder.path.slice(0, m.embedder.path.lastIndexOf('/') + 1);
  const dirOf = (e) => (e ? e.path.slice(0, e.path.lastIndexOf('/') + 1) : null);
  const dirs = [embedderDir, dirOf(m.embedderF16), dirOf(m.faceMesh)].filter(Boolean);
  const ours = (p) => p === m.detector.path || dirs.some((d) => p.startsWith(d)) || Object.values(m.wasm ?? {}).some((d) => p.startsWith(d));
  const files = (m.files ?? []).filter((f) => ours(String(f.path)));
  return JSON.stringify({ detector: m.detector, embedder: m.embedder, embedderF16: m.embedderF16, faceMesh: m.faceMesh, wasm: m.wasm, files });
};
const ourSrc = hashFiles(OUR_SOURCES, { views: { 'public/models/manifest.json': modelEntries } });
const faceapiSrc = hashFiles(FACEAPI_SOURCES);
const fp = (...parts) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
const ourCacheName = (frame) => `ours-${frameTag(frame)}-ms${minScore}-${fp(PAGE_VERSION, ourSrc.digest, args.backend)}`;
const faceapiCacheName = (frame) => `faceapi-${frameTag(frame)}-${fp(PAGE_VERSION, faceapiSrc.digest)}`;

function loadStored(file, fingerprint) {
  if (args.fresh || SMOKE || !existsSync(file)) return null;
  try {
    const r = readResultJson(file);
    return r.fingerprint === fingerprint ? r : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Browser plumbing

const ctx = { vite: null, browser: null, oursPage: null, faceapiPage: null, offOrigin: [], oursInfo: null, faceapiInfo: null, served: null };

let started = null;
/** Vite + Chromium, started once even when sections ask concurrently. */
function startBrowser() {
  started ??= (async () => {
    ctx.vite ??= await startVite({
      cacheDir: 'node_modules/.vite-accuracy',
      log,
      plugins: [serveDirPlugin('/__faceapi/', join(ROOT, 'node_modules/@vladmandic/face-api'))],
    });
    ctx.browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  })();
  return started;
}

async function newPage(html, readyFn) {
  await startBrowser();
  const page = await ctx.browser.newPage();
  watchPage(page, { origin: ctx.vite.origin, log, offOrigin: ctx.offOrigin });
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  const sets = {};
  if (existsSync(LFW)) sets.lfw = LFW;
  if (existsSync(ORL)) sets.orl = ORL;
  ctx.served = await routeFaceSets(page, sets);
  await page.goto(`${ctx.vite.origin}/bench/pages/${html}`);
  await page.waitForFunction(readyFn, null, { timeout: 180_000 });
  page.navigations = () => navigations;
  return page;
}

let oursPageP = null;
function oursPage() {
  oursPageP ??= openOursPage();
  return oursPageP;
}
async function openOursPage() {
  const page = await newPage('accuracy.html', () => window.acc?.ready === true);
  ctx.oursInfo = await page.evaluate((o) => window.acc.init(o), { backend: args.backend, minScore, batch: BATCH });
  log(`ours: tf ${ctx.oursInfo.tfBackend}${ctx.oursInfo.wasmSimd ? ' (SIMD)' : ''}, ${ctx.oursInfo.modelId}, ${ctx.oursInfo.detectorId}`);
  if (ctx.oursInfo.tfBackend !== args.backend) throw new Error(`asked for ${args.backend}, page runs ${ctx.oursInfo.tfBackend}`);
  ctx.oursPage = page;
  return page;
}

/**
 * face-api.js pages: FACEAPI_WORKERS of them, each single-threaded WASM like ours, so that the
 * slow baseline (~0.5 s per image) uses every core while our pipeline runs beside it.
 */
let faceapiPagesP = null;
function faceapiPages() {
  faceapiPagesP ??= Promise.all(Array.from({ length: FACEAPI_WORKERS }, async (_, i) => {
    const page = await newPage('faceapi-accuracy.html', () => window.faceApiAcc?.ready === true);
    const info = await page.evaluate((o) => window.faceApiAcc.init(o), { backend: args.backend });
    if (i === 0) {
      ctx.faceapiInfo = info;
      log(`face-api ${info.version}: tf ${info.backend}${info.wasmSimd ? ' (SIMD)' : ''}, models ${info.loadMs.toFixed(0)} ms, minConfidence ${info.minConfidence}, ${FACEAPI_WORKERS} page(s)`);
    }
    return page;
  }));
  return faceapiPagesP;
}

function progress(tag, total) {
  const t0 = Date.now();
  let next = 0;
  return (done, extra = '') => {
    if (done < next && done !== total) return;
    next = done + Math.max(50, Math.round(total / 20));
    const el = (Date.now() - t0) / 1000;
    const rate = done / Math.max(el, 1e-3);
    log(`${tag}: ${done}/${total}  ${rate.toFixed(2)}/s  elapsed ${fmtDur(el)}  ETA ${fmtDur((total - done) / Math.max(rate, 1e-6))}${extra ? '  ' + extra : ''}`);
  };
}

/** One EmbedCache per folder for the whole run (with --no-cache it lives in memory only). */
const caches = new Map();
function openCache(name, dim, meta) {
  if (!caches.has(name)) caches.set(name, new EmbedCache({ root: args.cache, name, dim, disabled: cacheDisabled, meta }));
  return caches.get(name);
}

/**
 * Detection records and embeddings of `keys` for every variant of `variantIds`, computed for
 * whatever the cache lacks. Returns the cache.
 */
async function ensureOurs(keys, variantIds, frame, tag) {
  const cache = openCache(ourCacheName(frame), 192, { system: 'ours', frame, minScore, pageVersion: PAGE_VERSION, sources: ourSrc.per });
  const specs = variantIds.map(parseVariant);
  const todo = [];
  for (const key of keys) {
    const det = cache.getDet(key);
    if (det && det.status !== 'ok') continue;
    const need = det ? specs.filter((s) => !cache.getEmb(s.id, key)) : specs;
    if (need.length) todo.push({ key, need });
  }
  const embedsNeeded = todo.reduce((n, t) => n + t.need.length, 0);
  log(`${tag}: ${keys.length} images x ${specs.length} variant(s) [${variantIds.join(', ')}], ${frameTag(frame)}: ${todo.length} images / ${embedsNeeded} embeddings to compute${cacheDisabled ? ' (cache off)' : `, cache ${cache.dir}`}`);
  if (!todo.length) return cache;
  const page = await oursPage();
  const nav0 = page.navigations();
  const tick = progress(tag, todo.length);
  let noFace = 0;
  const timing = { detect: [], align: [], embed: [] };
  for (let i = 0; i < todo.length; i += CHUNK) {
    const chunk = todo.slice(i, i + CHUNK);
    const res = await page.evaluate((o) => window.acc.process(o), {
      items: chunk.map((t) => ({ key: t.key, url: `/__faces/${t.key}` })),
      variants: chunk.map((t) => t.need),
      frame,
    });
    if (page.navigations() !== nav0) throw new Error('the benchmark page navigated during the run');
    const dets = [];
    const byVariant = new Map();
    for (const r of res) {
      const { emb, embedMs, ...det } = r;
      for (const k of ['detectMs', 'alignMs', 'faceScore', 'faceWidth']) if (typeof det[k] === 'number') det[k] = Number(det[k].toFixed(k === 'faceScore' ? 4 : 2));
      dets.push(det);
      if (r.status === 'load-error') throw new Error(`could not load ${r.key}: ${r.error}`);
      if (r.status !== 'ok') noFace++;
      timing.detect.push(r.detectMs);
      if (r.alignMs !== undefined) timing.align.push(r.alignMs);
      for (const [vid, b64] of Object.entries(emb)) {
        if (!byVariant.has(vid)) byVariant.set(vid, []);
        byVariant.get(vid).push([r.key, fromBase64(b64)]);
        timing.embed.push(embedMs[vid]);
      }
    }
    cache.putDet(dets);
    for (const [vid, entries] of byVariant) cache.putEmb(vid, entries);
    tick(Math.min(i + CHUNK, todo.length), `no face ${noFace}`);
  }
  cache.lastTiming = { detect: summarize(timing.detect), align: summarize(timing.align), embed: summarize(timing.embed) };
  return cache;
}

async function ensureFaceApi(keys, frame, tag) {
  const cache = openCache(faceapiCacheName(frame), 128, { system: 'faceapi', frame, pageVersion: PAGE_VERSION, sources: faceapiSrc.per });
  const todo = keys.filter((k) => {
    const d = cache.getDet(k);
    return !d || (d.status === 'ok' && !cache.getEmb('desc', k));
  });
  log(`${tag}: ${keys.length} images, ${frameTag(frame)}: ${todo.length} to compute${cacheDisabled ? ' (cache off)' : `, cache ${cache.dir}`}`);
  if (!todo.length) return cache;
  const pages = await faceapiPages();
  const tick = progress(tag, todo.length);
  let noFace = 0;
  let done = 0;
  let next = 0;
  const ms = [];
  await Promise.all(pages.map(async (page) => {
    const nav0 = page.navigations();
    while (next < todo.length) {
      const chunk = todo.slice(next, next + FACEAPI_CHUNK);
      next += chunk.length;
      const res = await page.evaluate((o) => window.faceApiAcc.process(o), { items: chunk.map((key) => ({ key, url: `/__faces/${key}` })), frame });
      if (page.navigations() !== nav0) throw new Error('the face-api page navigated during the run');
      const dets = [];
      const embs = [];
      for (const r of res) {
        if (r.status === 'load-error') throw new Error(`could not load ${r.key}: ${r.error}`);
        const { desc, ...det } = r;
        det.ms = Number(det.ms.toFixed(1));
        if (typeof det.faceScore === 'number') det.faceScore = Number(det.faceScore.toFixed(4));
        dets.push(det);
        ms.push(r.ms);
        if (r.status === 'ok') embs.push([r.key, fromBase64(desc)]);
        else noFace++;
      }
      cache.putDet(dets);
      cache.putEmb('desc', embs);
      done += chunk.length;
      tick(done, `no face ${noFace}`);
    }
  }));
  cache.lastTiming = { perImage: summarize(ms) };
  return cache;
}

/** Embedding of `key` under `recipe` from the cache (null when no face / missing). */
function recipeEmb(cache, recipe, key) {
  const d = cache.getDet(key);
  if (!d || d.status !== 'ok') return null;
  return fuse(parseRecipe(recipe).map((v) => cache.getEmb(v.id, key) ?? null));
}
const allVariantIds = (recipes) => [...new Set(recipes.flatMap((r) => parseRecipe(r).map((v) => v.id)))];

// ---------------------------------------------------------------------------------------------
// Result files

/** A result JSON; one with per-pair scores (`pairs`) goes to a `.json.gz` file (see README, "Results"). */
function writeJson(file, obj) {
  const { pairs, ...rest } = obj;
  if (!pairs) return writeResultFile(file, JSON.stringify(obj, null, 1) + '\n');
  const head = JSON.stringify(rest, null, 1).replace(/\n}$/, '');
  writeResultFile(file, `${head},\n "pairs": [\n${pairs.map((p) => '  ' + JSON.stringify(p)).join(',\n')}\n ]\n}\n`);
}
const writeMd = (file, md) => writeResultFile(file, md.endsWith('\n') ? md : md + '\n');
/** `<name>.md` beside `<name>.json` or `<name>.json.gz`. */
const mdBeside = (file) => file.replace(/\.json(\.gz)?$/, '.md');
/** The product's calibration module (src/core/calibration.ts), loaded once through tsx. */
let calibration = null;
async function loadCalibration() {
  const { tsImport } = await import('tsx/esm/api');
  calibration ??= await tsImport(join(ROOT, PRODUCT_THRESHOLD_FILE), import.meta.url);
  return calibration;
}
const productThreshold = () => calibration?.DEFAULT_THRESHOLD ?? null;
const detSummary = (cache, keys) => {
  const recs = keys.map((k) => cache.getDet(k));
  const noFace = recs.filter((r) => r?.status !== 'ok').map((r, i) => r?.key ?? keys[i]);
  return { images: keys.length, noFace: noFace.length, noFacePaths: noFace.slice(0, 200), multiFace: recs.filter((r) => r?.faces > 1).length };
};

// ---------------------------------------------------------------------------------------------
// LFW verification

function lfwSelection(n = nPairs) {
  requireDir(LFW, 'LFW');
  const { pairs: all, folds, perHalf } = readLfwPairs(LFW);
  const pairs = selectLfwPairs(all, n);
  return { pairs, folds, perHalf, images: [...new Set(pairs.flatMap((p) => [p.a, p.b]))] };
}

async function lfwOurs(sel, recipe = OURS) {
  const name = `lfw-ours-${recipe.replace(/\+/g, '_')}${sel.pairs.length < 6000 ? `-p${sel.pairs.length}` : ''}`;
  const fingerprint = fp('lfw-ours', PAGE_VERSION, ourSrc.digest, recipe, sel.pairs.length, minScore, args.backend);
  const file = join(outDir, `${name}.json.gz`);
  const stored = loadStored(file, fingerprint);
  if (stored) {
    log(`lfw ours ${recipe}: reusing ${file} (same models, pipeline source and config)`);
    return stored;
  }
  const t0 = Date.now();
  // One detection + embedding pass for every variant of every recipe we report.
  if (OURS_ALL.includes(recipe)) await ensureOurs(sel.images.map((p) => `lfw/${p}`), allVariantIds(OURS_ALL), FRAME_IMAGE, `lfw ours ${OURS_ALL.join(', ')}`);
  const keys = sel.images.map((p) => `lfw/${p}`);
  const cache = await ensureOurs(keys, allVariantIds([recipe]), FRAME_IMAGE, `lfw ours ${recipe}`);
  const emb = new Map(keys.map((k) => [k, recipeEmb(cache, recipe, k)]));
  const scored = sel.pairs.map((p) => {
    const a = emb.get(`lfw/${p.a}`);
    const b = emb.get(`lfw/${p.b}`);
    return { fold: p.fold, same: p.same, a: p.a, b: p.b, score: a && b ? Number(cosine(a, b).toFixed(6)) : null };
  });
  const report = {
    benchmark: 'LFW verification, ours',
    date: new Date().toISOString(),
    fingerprint,
    system: 'ours',
    config: { recipe, description: describeRecipe(recipe), detector: 'MediaPipe BlazeFace short-range, IMAGE mode', minScore, faceChoice: 'nearest the image centre', frame: FRAME_IMAGE, backend: args.backend, batch: BATCH, score: 'cosine (src/core/match.ts)', lfwDir: LFW },
    sources: ourSrc.per,
    detection: detSummary(cache, keys),
    metrics: verification(scored),
    timing: { ...cache.lastTiming, seconds: (Date.now() - t0) / 1000, note: cache.lastTiming ? 'this run' : 'all embeddings came from the cache' },
    pairs: scored,
  };
  writeJson(file, report);
  writeMd(mdBeside(file), systemMd(report));
  log(`lfw ours ${recipe}: 10-fold ${pct(report.metrics.tenFold.mean)} ± ${pct(report.metrics.tenFold.std)}, AUC ${num(report.metrics.auc, 5)}, TAR@1e-3 ${pct(report.metrics.tarAtFar[1].rounded.tmr)}; wrote ${file}`);
  return report;
}

async function lfwFaceApi(sel) {
  const name = `lfw-faceapi${sel.pairs.length < 6000 ? `-p${sel.pairs.length}` : ''}`;
  const fingerprint = fp('lfw-faceapi', PAGE_VERSION, faceapiSrc.digest, sel.pairs.length, args.backend);
  const file = join(outDir, `${name}.json.gz`);
  const stored = loadStored(file, fingerprint);
  if (stored) {
    log(`lfw face-api: reusing ${file}`);
    return stored;
  }
  const t0 = Date.now();
  const keys = sel.images.map((p) => `lfw/${p}`);
  const cache = await ensureFaceApi(keys, FRAME_IMAGE, 'lfw face-api');
  const desc = (p) => (cache.getDet(`lfw/${p}`)?.status === 'ok' ? cache.getEmb('desc', `lfw/${p}`) : null);
  const scored = sel.pairs.map((p) => {
    const a = desc(p.a);
    const b = desc(p.b);
    const d = a && b ? euclidean(a, b) : null;
    return { fold: p.fold, same: p.same, a: p.a, b: p.b, distance: d === null ? null : Number(d.toFixed(6)), score: d === null ? null : -Number(d.toFixed(6)) };
  });
  const both = scored.filter((p) => p.score !== null);
  const msAll = keys.map((k) => cache.getDet(k)?.ms).filter((x) => typeof x === 'number');
  const report = {
    benchmark: 'LFW verification, face-api.js baseline',
    date: new Date().toISOString(),
    fingerprint,
    system: 'faceapi',
    config: {
      package: '@vladmandic/face-api', version: ctx.faceapiInfo?.version ?? null,
      call: 'faceapi.detectSingleFace(img, new faceapi.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor()',
      minConfidence: 0.5, faceChoice: 'detectSingleFace: the highest-scoring face', score: 'euclidean distance of the 128-d descriptors (accept when distance <= threshold)',
      backend: args.backend, frame: FRAME_IMAGE, lfwDir: LFW,
      failurePolicy: 'a pair with no face found in either image has no score: an error in 10-fold accuracy, rejected at every threshold (what a product would do)',
    },
    sources: faceapiSrc.per,
    detection: detSummary(cache, keys),
    metrics: verification(scored),
    bothFound: { pairs: both.length, genuine: both.filter((p) => p.same).length, impostors: both.filter((p) => !p.same).length, metrics: verification(both) },
    timing: { perImageMs: summarize(msAll), seconds: (Date.now() - t0) / 1000 },
    pairs: scored,
  };
  writeJson(file, report);
  writeMd(mdBeside(file), systemMd(report));
  log(`lfw face-api: no face in ${report.detection.noFace}/${keys.length} images; 10-fold ${pct(report.metrics.tenFold.mean)} ± ${pct(report.metrics.tenFold.std)}; pairs with both faces ${both.length}: ${pct(report.bothFound.metrics.tenFold.mean)}; wrote ${file}`);
  return report;
}

/** One system's LFW table (written beside its JSON). */
function systemMd(r) {
  const distance = r.system === 'faceapi';
  const c = cells(r.metrics, { distance });
  const rows = [
    ['images with no face found', `${r.detection.noFace} of ${r.detection.images}`],
    ['pairs without a score (failures)', `${r.metrics.unscored} of ${r.pairs.length}`],
    ['10-fold accuracy (mean ± std)', c.acc],
    ['ROC AUC', c.auc],
    ['EER', c.eer],
    ...['1e-2', '1e-3', '1e-4'].map((t, i) => [`TAR @ FAR ${t}`, c.tar[i]]),
    ['lowest threshold with FMR <= 1e-3', c.rec],
  ];
  if (r.bothFound) {
    const b = cells(r.bothFound.metrics, { distance });
    rows.push([`pairs with both faces found (${r.bothFound.pairs}): 10-fold / AUC / TAR @ FAR 1e-3`, `${b.acc} / ${b.auc} / ${b.tar[1]}`]);
  }
  return [
    `### LFW, ${distance ? 'face-api.js' : `ours (${r.config.recipe})`}: ${r.pairs.length.toLocaleString('en')} pairs, ${r.detection.images} images`,
    '',
    distance ? `\`${r.config.call}\`, euclidean distance; ${r.config.backend}.` : `${r.config.description}; MediaPipe minScore ${r.config.minScore}; TF.js ${r.config.backend}; cosine.`,
    '',
    mdTable(['metric', 'value'], rows),
    '',
  ].join('\n');
}

/** The side-by-side table + ROC/DET PNGs. oursList[0] is our main configuration, the rest are shown beside it. */
async function lfwCompare(oursList, fa) {
  const faPairs = new Set(fa.pairs.map((p) => `${p.a}|${p.b}`));
  const restrict = (ours) => {
    if (ours.pairs.length === fa.pairs.length) return ours;
    // The smoke run gives face-api fewer pairs: compare on those.
    const pairs = ours.pairs.filter((p) => faPairs.has(`${p.a}|${p.b}`));
    const imgs = new Set(pairs.flatMap((p) => [p.a, p.b]));
    return { ...ours, pairs, metrics: verification(pairs), detection: { ...ours.detection, images: imgs.size, noFace: ours.detection.noFacePaths.filter((k) => imgs.has(k.slice(4))).length } };
  };
  const list = oursList.map(restrict);
  const ours = list[0];
  const base = join(outDir, `lfw-compare${ours.pairs.length < 6000 ? `-p${ours.pairs.length}` : ''}`);
  const os = list.map((o) => cells(o.metrics));
  const f = cells(fa.metrics, { distance: true });
  // Ours on the pairs where face-api found both faces (same subset, fair comparison).
  const keep = new Set(fa.pairs.filter((p) => p.score !== null).map((p) => `${p.a}|${p.b}`));
  const oursSub = verification(ours.pairs.filter((p) => keep.has(`${p.a}|${p.b}`)));
  const os2 = cells(oursSub);
  const fs2 = cells(fa.bothFound.metrics, { distance: true });
  const row = (label, pick) => [label, ...os.map(pick), pick(f), pick(os2), pick(fs2)];
  const rows = [
    ['images with no face found', ...list.map((o) => `${o.detection.noFace} of ${o.detection.images}`), `${fa.detection.noFace} of ${fa.detection.images}`, '', ''],
    ['pairs scored (both faces found)', ...list.map((o) => `${o.pairs.length - o.metrics.unscored} of ${o.pairs.length}`), `${fa.pairs.length - fa.metrics.unscored} of ${fa.pairs.length}`, `${keep.size}`, `${keep.size}`],
    row('10-fold accuracy (mean ± std)', (c) => c.acc),
    row('ROC AUC', (c) => c.auc),
    row('EER', (c) => c.eer),
    ...['1e-2', '1e-3', '1e-4'].map((t, i) => row(`TAR @ FAR ${t}`, (c) => c.tar[i])),
    row('threshold at FMR <= 1e-3 (lowest)', (c) => c.rec),
  ];
  const md = [
    `### LFW verification, ours vs face-api.js: ${ours.pairs.length.toLocaleString('en')} pairs (${ours.metrics.genuine} genuine, ${ours.metrics.impostors} impostor), ${ours.detection.images} images, same run and images`,
    '',
    ...list.map((o) => `- **ours \`${o.config.recipe}\`**: ${describeRecipe(o.config.recipe)}.`),
    `- ours = MediaPipe BlazeFace short-range (IMAGE, minScore ${ours.config.minScore}), face nearest the centre, ArcFace 112x112 similarity alignment (CanvasAligner), MobileFaceNet (192-d) on TF.js ${ours.config.backend}, cosine.`,
    `- **face-api.js**: @vladmandic/face-api ${fa.config.version ?? ''} as documented: \`${fa.config.call}\` (SSD MobileNet v1, minConfidence ${fa.config.minConfidence}; 68-point landmarks; 128-d recognition net), euclidean distance; its bundled TF.js on ${fa.config.backend}; ESM build and models served from our origin.`,
    `- A pair with no face found in one of its images is a **failure**: an error in 10-fold accuracy and rejected at every threshold (a false non-match for a genuine pair). The two right-hand columns restrict \`${ours.config.recipe}\` and face-api.js to the pairs where face-api found both faces.`,
    '- 10-fold: standard LFW protocol (threshold chosen on 9 folds, tested on the 10th; population std). TAR @ FAR 1e-4: 3,000 impostors cannot resolve 1e-4; the strictest measurable point (zero false matches) is given.',
    '',
    mdTable(['metric', ...list.map((o) => `ours \`${o.config.recipe}\` (all pairs)`), 'face-api.js (all pairs, failures count)', `ours \`${ours.config.recipe}\` (pairs face-api scored)`, 'face-api.js (pairs it scored)'], rows),
    '',
    `face-api.js whole-chain time per image: median ${num(fa.timing?.perImageMs?.median, 0)} ms (its TF.js ${fa.config.backend}, this shared machine). ROC: \`${base.split('/').pop()}-roc.png\`, DET: \`${base.split('/').pop()}-det.png\`.`,
    '',
  ].join('\n');
  writeMd(`${base}.md`, md);
  const series = [
    ...list.map((o) => ({ label: `ours ${o.config.recipe}`, points: M.rocPoints(o.pairs) })),
    { label: 'face-api.js (failures rejected)', points: M.rocPoints(fa.pairs) },
    { label: `face-api.js, ${keep.size} pairs it scored`, points: M.rocPoints(fa.pairs.filter((p) => p.score !== null)) },
  ];
  try {
    if (!ctx.browser) ctx.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await ctx.browser.newPage();
    // y axis from a little below the lowest TMR at FMR 1e-3 of the series.
    const low = Math.min(...series.map((x) => x.points.filter((p) => p.fmr <= 1e-3).reduce((m, p) => Math.max(m, p.tmr), 0)));
    const ymin = Math.max(0, Math.min(0.9, Math.floor((low - 0.05) * 20) / 20));
    await svgToPng(page, rocSvg(series, { title: `LFW ${ours.pairs.length} pairs: ROC`, nImpostors: ours.metrics.impostors, ymin }), `${base}-roc.png`);
    await svgToPng(page, detSvg(series, { title: `LFW ${ours.pairs.length} pairs: DET`, nImpostors: ours.metrics.impostors, nGenuine: ours.metrics.genuine }), `${base}-det.png`);
    await page.close();
  } catch (e) {
    log('plots not drawn:', e.message);
  }
  log(`wrote ${base}.md, -roc.png, -det.png`);
  return { md, oursSubset: oursSub };
}

// ---------------------------------------------------------------------------------------------
// 1:N open-set identification on LFW

/** The identities of the 1:N section: those with >= 2 images (the pool) and the single-image ones (smoke: a seeded few). */
function identSelection() {
  const seed = Number(args['ident-seed']);
  const ids = listLfwIdentities(LFW);
  const multi = ids.filter((i) => i.images.length >= 2);
  let singles = ids.filter((i) => i.images.length === 1);
  let sizes = args['ident-sizes'].split(',').map((s) => (s === 'all' ? multi.length : Number(s)));
  let pool = multi;
  if (SMOKE) {
    pool = shuffled(multi, seed).slice(0, 20).map((i) => ({ ...i, images: i.images.slice(0, 3) }));
    singles = shuffled(singles, seed).slice(0, 40);
    sizes = [20];
  }
  return { seed, pool, singles, sizes };
}

async function ident() {
  requireDir(LFW, 'LFW');
  const recipes = args['ident-recipes'] ? args['ident-recipes'].split(',').map((s) => s.trim()) : OURS_ALL;
  const { seed, pool, singles, sizes } = identSelection();
  const keys = [...pool.flatMap((i) => i.images), ...singles.flatMap((i) => i.images)].map((p) => `lfw/${p}`);
  const identFingerprint = (recipe) => fp('lfw-1n', 3, PAGE_VERSION, ourSrc.digest, recipe, seed, sizes, keys.length, minScore, args.backend, hashFiles([PRODUCT_THRESHOLD_FILE]).digest);
  const results = [];
  const todo = recipes.filter((recipe) => !loadStored(join(outDir, `lfw-1n-${recipe.replace(/\+/g, '_')}.json`), identFingerprint(recipe)));
  if (todo.length) await ensureOurs(keys, allVariantIds(todo), FRAME_IMAGE, `1:N ${todo.join(', ')}`);
  for (const recipe of recipes) {
    const name = `lfw-1n-${recipe.replace(/\+/g, '_')}`;
    const fingerprint = identFingerprint(recipe);
    const file = join(outDir, `${name}.json`);
    const stored = loadStored(file, fingerprint);
    if (stored) {
      log(`1:N ${recipe}: reusing ${file}`);
      results.push(stored);
      continue;
    }
    const cache = await ensureOurs(keys, allVariantIds([recipe]), FRAME_IMAGE, `1:N ${recipe}`);
    const emb = (p) => recipeEmb(cache, recipe, `lfw/${p}`);
    // Gallery: the first image (sorted) of each identity in which a face is found; the rest are probes.
    const enrol = new Map();
    const noEnrol = [];
    for (const i of pool) {
      const g = i.images.find((p) => emb(p));
      if (g) enrol.set(i.name, { gallery: g, probes: i.images.filter((p) => p !== g) });
      else noEnrol.push(i.name);
    }
    const nonMated = singles.flatMap((i) => i.images);
    const nmEmb = nonMated.map((p) => ({ id: null, emb: emb(p) }));
    const order = shuffled([...enrol.keys()].sort(), seed);
    // Size-aware open-set threshold (src/core/calibration.ts): the per-comparison impostor tail is
    // fitted on half of the never-enrolled identities (A) against the whole gallery, and the
    // product's rule is evaluated on the other half (B) only.
    const half = new Set(shuffled(nonMated.map((_, i) => i), seed + 1).slice(0, nonMated.length >> 1));
    const nmA = nmEmb.filter((_, i) => half.has(i));
    const nmB = nmEmb.filter((_, i) => !half.has(i));
    const fullGallery = [...enrol.keys()].sort().map((id) => emb(enrol.get(id).gallery));
    const impostorTail = fitImpostorTail(fullGallery, nmA);
    const rule = await productIdentifyRule(recipe);
    const rows = [];
    for (const n of sizes) {
      const kept = n >= order.length ? [...enrol.keys()].sort() : order.slice(0, n);
      const gallery = kept.map((id) => ({ id, emb: emb(enrol.get(id).gallery) }));
      const matedIds = kept.flatMap((id) => enrol.get(id).probes.map(() => id));
      const mated = kept.flatMap((id) => enrol.get(id).probes.map((p) => ({ id, emb: emb(p) })));
      const t = Date.now();
      const mr = search(gallery, mated);
      const nr = search(gallery, nmEmb);
      const m = opensetMetrics(mr, matedIds, nr, { fpirTargets: [1e-2, 3e-3], fixed: [productThreshold()].filter((x) => x !== null) });
      const nrB = nr.filter((_, i) => !half.has(i));
      const productRule = rule ? { ...ratesAtT(mr, nrB, matedIds, rule.threshold(kept.length)), fpirTarget: rule.fpir, half: 'B' } : null;
      rows.push({ gallery: kept.length, ...m, productRule, searchSeconds: (Date.now() - t) / 1000 });
      log(`1:N ${recipe}, gallery ${kept.length}: rank-1 ${pct(m.rank1)}, FNIR@FPIR1e-2 ${pct(m.atFpir[0].fnir)} (T ${num(m.atFpir[0].threshold)}), FNIR@FPIR3e-3 ${pct(m.atFpir[1].fnir)} (T ${num(m.atFpir[1].threshold)})`);
    }
    const r = {
      benchmark: 'LFW 1:N open-set identification, ours',
      date: new Date().toISOString(),
      fingerprint,
      config: {
        recipe, description: describeRecipe(recipe), minScore, frame: FRAME_IMAGE, backend: args.backend, seed,
        protocol: 'gallery = one image (the first, in file order, in which a face is found) of each identity with >= 2 images; mated probes = their other images; non-mated probes = every image of the identities with one image (never enrolled). Smaller galleries: identities sampled with a seeded shuffle; only their probes are kept, the non-mated set is the same. Rank-1 open-set decision: best gallery identity if its cosine >= T else unknown. FPIR = non-mated searches returning anyone; FNIR = mated searches not returning the mate (wrong top-1, top-1 below T, or no face in the probe). Thresholds set on the non-mated top scores (lowest 4-decimal T with FPIR <= target).',
        smoke: SMOKE,
      },
      sources: ourSrc.per,
      detection: { ...detSummary(cache, keys), identitiesWithoutEnrolableImage: noEnrol },
      counts: { identitiesWith2Plus: pool.length, enrolled: enrol.size, nonMatedProbes: nonMated.length, images: keys.length },
      productThreshold: productThreshold(),
      impostorTail,
      productRule: rule ? { source: `identifyThreshold() of src/core/calibration.ts for ${rule.modelId}`, fpir: rule.fpir, evaluatedOn: `non-mated half B (${nmB.length} probes; the tail was fitted on half A, ${nmA.length} probes)` } : null,
      rows,
    };
    log(`1:N ${recipe}: impostor tail (fitted on ${impostorTail.comparisons.toLocaleString('en')} comparisons) ${impostorTail.table.map(([f, t]) => `${f}:${t}`).join(' ')}`);
    writeJson(file, r);
    writeMd(join(outDir, `${name}.md`), identMd(r));
    results.push(r);
  }
  return results;
}

/**
 * Per-comparison impostor score tail: every non-mated probe against every gallery entry. Returns
 * [fmr, threshold] rows (threshold = lowest 4-decimal cosine with FMR <= fmr) for the rates that
 * at least 10 comparisons resolve.
 */
function fitImpostorTail(gallery, probes) {
  const dim = gallery[0].length;
  const scores = new Float32Array(gallery.length * probes.filter((p) => p.emb).length);
  let n = 0;
  for (const p of probes) {
    if (!p.emb) continue;
    for (const g of gallery) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += p.emb[k] * g[k];
      scores[n++] = dot;
    }
  }
  const sorted = scores.subarray(0, n).sort().reverse(); // descending
  const table = [];
  for (const fmr of [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]) {
    const k = Math.floor(fmr * n + 1e-9); // false matches allowed
    if (k < 10) break;
    table.push([fmr, M.roundUpAbove(sorted[k], 4)]);
  }
  return { comparisons: n, gallery: gallery.length, probes: probes.length, table };
}

/**
 * The product's size-aware identify threshold (src/core/calibration.ts, loaded through tsx) for the
 * model id a recipe stands for: s1.00+s1.00-m = the flip model, s1.00 = the plain one; other
 * recipes have no calibration (null).
 */
const RECIPE_MODEL_ID = {
  's1.00+s1.00-m': 'mobilefacenet-expo-1.0.24+flip', 's1.00-F': 'mobilefacenet-expo-1.0.24+flip', 's1.00': 'mobilefacenet-expo-1.0.24',
  's1.00-L-h': 'mobilefacenet-expo-1.0.24-f16+mesh5', 's1.00-L-h+s1.00-L-h-m': 'mobilefacenet-expo-1.0.24-f16+flip+mesh5', 's1.00-L-h-F': 'mobilefacenet-expo-1.0.24-f16+flip+mesh5',
  's1.00-L': 'mobilefacenet-expo-1.0.24+mesh5', 's1.00-h': 'mobilefacenet-expo-1.0.24-f16',
};
async function productIdentifyRule(recipe) {
  const modelId = RECIPE_MODEL_ID[recipe];
  if (!modelId) return null;
  try {
    const cal = await loadCalibration();
    const c = cal.calibrationFor?.(modelId);
    if (!c) return null;
    return { fpir: cal.DEFAULT_IDENTIFY_FPIR, modelId, threshold: (n) => cal.identifyThreshold(n, { floor: c.threshold, tail: c.tail }) };
  } catch (e) {
    log(`could not load src/core/calibration.ts: ${e.message}`);
    return null;
  }
}

function identMd(r) {
  const pt = r.productThreshold;
  return [
    `### LFW 1:N open-set identification, ours (${r.config.recipe})`,
    '',
    `${r.counts.images.toLocaleString('en')} images; ${r.counts.enrolled.toLocaleString('en')} enrolled identities (1 image each), ${r.counts.nonMatedProbes.toLocaleString('en')} non-mated probes (identities never enrolled). No face: ${r.detection.noFace} images${r.detection.identitiesWithoutEnrolableImage.length ? `; ${r.detection.identitiesWithoutEnrolableImage.length} identities could not be enrolled` : ''}. Seed ${r.config.seed}.`,
    '',
    mdTable(
      ['gallery', 'mated probes', 'rank-1 (closed set)', 'rank-5', 'FNIR @ FPIR 1e-2', 'T (cosine)', 'FNIR @ FPIR 3e-3', 'T (cosine)', ...(pt ? [`fixed T ${pt} (1:1 default): FNIR / FPIR`] : []), ...(r.productRule ? ['product rule T(n): FNIR / FPIR (half B)'] : [])],
      r.rows.map((x) => [
        x.gallery.toLocaleString('en'), x.mated.toLocaleString('en'), pct(x.rank1), pct(x.rank5),
        `${pct(x.atFpir[0].fnir)} (FPIR ${x.atFpir[0].falsePositives}/${x.nonMated})`, num(x.atFpir[0].threshold),
        `${pct(x.atFpir[1].fnir)} (FPIR ${x.atFpir[1].falsePositives}/${x.nonMated})`, num(x.atFpir[1].threshold),
        ...(pt ? [`${pct(x.atThreshold[0].fnir)} / ${pct(x.atThreshold[0].fpir, 3)} (${x.atThreshold[0].falsePositives}/${x.nonMated})`] : []),
        ...(r.productRule ? [x.productRule ? `${num(x.productRule.threshold)}: ${pct(x.productRule.fnir)} / ${pct(x.productRule.fpir, 2)} (${x.productRule.falsePositives}/${x.productRule.nonMated})` : 'n/a'] : []),
      ]),
    ),
    '',
    ...(r.productRule ? [`Product rule: \`identifyThreshold(gallery size)\` (${r.productRule.source}, target FPIR ${r.productRule.fpir}), evaluated on ${r.productRule.evaluatedOn}.`, ''] : []),
    ...(r.impostorTail ? [`Per-comparison impostor tail (fitted on non-mated half A: ${r.impostorTail.comparisons.toLocaleString('en')} probe x gallery comparisons), FMR -> lowest cosine: ${r.impostorTail.table.map(([f, t]) => `${f} -> ${t}`).join(', ')}.`, ''] : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// ORL

function orlPairs(people, scoreOf) {
  // All genuine and all impostor pairs (ROC metrics), plus a balanced, subject-disjoint 10-fold
  // protocol (LFW-like) for accuracy: folds of people, all genuine pairs within the fold and as many
  // impostor pairs within the fold, sampled with a seed.
  const all = [];
  const imgs = people.flatMap((p) => p.images.map((im) => ({ person: p.name, im })));
  for (let i = 0; i < imgs.length; i++) {
    for (let j = i + 1; j < imgs.length; j++) {
      all.push({ same: imgs[i].person === imgs[j].person, a: imgs[i].im, b: imgs[j].im, fold: 0, score: scoreOf(imgs[i].im, imgs[j].im) });
    }
  }
  const nf = Math.max(1, Math.min(10, Math.floor(people.length / 2))); // >= 2 people per fold, so a fold has impostor pairs
  const foldOf = new Map(people.map((p, i) => [p.name, i % nf]));
  const balanced = [];
  for (let f = 0; f < nf; f++) {
    const inFold = all.filter((p) => foldOf.get(p.a.split('/')[0]) === f && foldOf.get(p.b.split('/')[0]) === f);
    const gen = inFold.filter((p) => p.same);
    const imp = shuffled(inFold.filter((p) => !p.same), 1000 + f).slice(0, gen.length);
    for (const p of [...gen, ...imp]) balanced.push({ ...p, fold: f });
  }
  return { all, balanced };
}

function orlIdent(people, embOf) {
  // 1 enrolment image per person; every choice of enrolment index, rank-1 over the other images.
  const nImg = Math.min(...people.map((p) => p.images.length));
  const perIndex = [];
  for (let e = 0; e < nImg; e++) {
    const gallery = people.map((p) => ({ id: p.name, emb: embOf(p.images[e]) })).filter((g) => g.emb);
    const probes = people.flatMap((p) => p.images.filter((_, k) => k !== e).map((im) => ({ id: p.name, emb: embOf(im) })));
    const res = search(gallery, probes);
    const hits = res.filter((r, i) => r.topId === probes[i].id).length;
    perIndex.push({ enrolIndex: e + 1, gallery: gallery.length, probes: probes.length, rank1: hits / probes.length });
  }
  const r1 = perIndex.map((x) => x.rank1);
  return { perIndex, rank1Mean: M.mean(r1), rank1Std: M.std(r1), rank1Enrol01: perIndex[0]?.rank1 ?? null };
}

async function orl() {
  requireDir(ORL, 'ORL');
  let people = listOrl(ORL);
  const nPeople = SMOKE ? 5 : Number(args['orl-people']);
  people = people.slice(0, nPeople);
  const keys = people.flatMap((p) => p.images).map((p) => `orl/${p}`);
  const withFaceApi = !SMOKE && args['orl-faceapi'];
  const name = `orl-${OURS}`;
  const fingerprint = fp('orl', PAGE_VERSION, ourSrc.digest, withFaceApi ? faceapiSrc.digest : null, OURS_ALL, keys.length, minScore, args.backend, productThreshold());
  const file = join(outDir, `${name}.json`);
  const stored = loadStored(file, fingerprint);
  if (stored) {
    log(`ORL: reusing ${file}`);
    return stored;
  }
  const systems = [];
  for (const frame of [FRAME_LETTERBOX, FRAME_IMAGE]) {
    const cache = await ensureOurs(keys, allVariantIds(OURS_ALL), frame, `ORL ours ${frameTag(frame)}`);
    for (const recipe of OURS_ALL) systems.push({ system: 'ours', recipe, frame, cache, embOf: (im) => recipeEmb(cache, recipe, `orl/${im}`), score: (a, b) => cosine(a, b), distance: false });
    if (withFaceApi) {
      const fc = await ensureFaceApi(keys, frame, `ORL face-api ${frameTag(frame)}`);
      const embOf = (im) => (fc.getDet(`orl/${im}`)?.status === 'ok' ? fc.getEmb('desc', `orl/${im}`) : null);
      systems.push({ system: 'faceapi', frame, cache: fc, embOf, score: (a, b) => -euclidean(a, b), distance: true });
    }
  }
  const pt = productThreshold();
  const out = systems.map((s) => {
    const embs = new Map(keys.map((k) => [k.slice(4), s.embOf(k.slice(4))]));
    const scoreOf = (a, b) => {
      const ea = embs.get(a);
      const eb = embs.get(b);
      return ea && eb ? Number(s.score(ea, eb).toFixed(6)) : null;
    };
    const { all, balanced } = orlPairs(people, scoreOf);
    const vAll = verification(all, { withTenFold: false });
    const vBal = verification(balanced);
    const atProduct = !s.distance && pt !== null ? M.ratesAt(all, pt) : null;
    return {
      system: s.system,
      recipe: s.recipe ?? null,
      frame: s.frame,
      detection: detSummary(s.cache, keys),
      verificationAllPairs: vAll,
      tenFoldBalanced: { pairs: balanced.length, ...vBal.tenFold },
      atProductThreshold: atProduct,
      ident: orlIdent(people, (im) => embs.get(im)),
      distance: s.distance,
    };
  });
  const r = {
    benchmark: 'ORL (AT&T) faces: verification and 1:N',
    date: new Date().toISOString(),
    fingerprint,
    config: {
      recipe: OURS, description: describeRecipe(OURS), people: people.length, images: keys.length, orlDir: ORL,
      frames: 'letterbox640x480: each 92x112 grayscale photo scaled into a black 640x480 frame (as a fake-camera clip made with ffmpeg scale+pad shows it, ~4.3x upscale); img640: the 92x112 photo as it is',
      protocol: 'verification: all genuine pairs (C(10,2) per person) and all impostor pairs; accuracy: balanced subject-disjoint 10-fold (people i mod 10 in fold i; all genuine pairs in the fold + as many seeded impostor pairs in the fold; threshold from the other 9 folds). 1:N: 1 enrolment image per person, rank-1 over the other 9 images of everyone; mean ± std over the 10 choices of enrolment image.',
      smoke: SMOKE,
    },
    productThreshold: pt,
    systems: out,
  };
  writeJson(file, r);
  writeMd(join(outDir, `${name}.md`), orlMd(r));
  for (const s of out) log(`ORL ${s.system}${s.recipe ? ' ' + s.recipe : ''} ${frameTag(s.frame)}: no face ${s.detection.noFace}/${s.detection.images}, AUC ${num(s.verificationAllPairs.auc, 5)}, 10-fold ${pct(s.tenFoldBalanced.mean)}, rank-1 ${pct(s.ident.rank1Mean)}`);
  return r;
}

function orlMd(r) {
  const rows = r.systems.map((s) => {
    const v = s.verificationAllPairs;
    const c = cells(v, { distance: s.distance });
    return [
      s.system === 'ours' ? `ours (\`${s.recipe ?? r.config.recipe}\`)` : 'face-api.js',
      frameTag(s.frame),
      `${s.detection.noFace} / ${s.detection.images}`,
      `${pct(s.tenFoldBalanced.mean)} ± ${pct(s.tenFoldBalanced.std)}`,
      c.auc, c.eer, c.tar[0], c.tar[1], c.tar[2],
      s.atProductThreshold ? `TMR ${pct(s.atProductThreshold.tmr)}, FMR ${pct(s.atProductThreshold.fmr, 3)}` : '—',
      `${pct(s.ident.rank1Mean)} ± ${pct(s.ident.rank1Std)} (enrol #1: ${pct(s.ident.rank1Enrol01)})`,
    ];
  });
  const v0 = r.systems[0].verificationAllPairs;
  return [
    `### ORL (AT&T): ${r.config.people} people x 10 grayscale 92x112 photos`,
    '',
    `Verification on all ${v0.genuine.toLocaleString('en')} genuine and ${v0.impostors.toLocaleString('en')} impostor pairs (a pair with a missing face = rejected); accuracy on a balanced subject-disjoint 10-fold split; 1:N rank-1 with 1 enrolment photo per person (mean ± std over the 10 choices of that photo). Frames: \`lb640x480\` = letterboxed into a 640x480 camera frame (what the product sees), \`img640\` = the 92x112 photo as is.`,
    '',
    mdTable(['system', 'frame', 'no face', '10-fold acc (balanced)', 'AUC', 'EER', 'TAR @ FAR 1e-2', 'TAR @ FAR 1e-3', 'TAR @ FAR 1e-4', `at product threshold ${r.productThreshold}`, '1:N rank-1'], rows),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Calibration over all pairs (LFW, ORL, both pooled)

const CALIB_FARS = [1e-3, 1e-4];
const calibName = () => (OURS === 's1.00+s1.00-m' && !ALSO.some((r) => r !== 's1.00') ? 'lfw-calibration' : `lfw-calibration-${OURS.replace(/\+/g, '_')}`);

/**
 * The images of the calibration: full run = every LFW image (all 4,333 identities, 11,817 images)
 * and the ORL people of the orl section (40 x 10); smoke = the images the smoke's lfw and ident
 * sections embed anyway (a few hundred) and its 5 ORL people, so the section costs no extra embedding.
 */
function calibSelection() {
  requireDir(LFW, 'LFW');
  let lfwImages;
  if (SMOKE) {
    const { pool, singles } = identSelection();
    lfwImages = [...new Set([...lfwSelection().images, ...pool.flatMap((i) => i.images), ...singles.flatMap((i) => i.images)])].sort();
  } else lfwImages = listLfwIdentities(LFW).flatMap((i) => i.images);
  const orlPeople = existsSync(ORL) ? listOrl(ORL).slice(0, SMOKE ? 5 : Number(args['orl-people'])) : [];
  return { lfwImages, orlImages: orlPeople.flatMap((p) => p.images) };
}

/** Summary of one population (a PairAccumulator) with its bootstrap. */
function calibPopulation(acc, { label, identities, genuineSets, shipped, images, noFace, seed, replicates }) {
  const impSuf = C.suffixSums(acc.impostor);
  const genSuf = C.suffixSums(acc.genuine);
  const m = acc.impostorCount;
  // Keep for the bootstrap only the tail a replicate's quantile can reach (FMR <= 1e-2, and the shipped thresholds).
  const floorAt = C.thresholdAtFmr(impSuf, m, 1e-2);
  const floor = Math.min(floorAt ? floorAt.bin : C.NBINS, ...shipped.map((x) => C.binOfThreshold(x.threshold))) - 1;
  if (floor > acc.tailBin) acc.raiseTailFloor(floor);
  const t0 = Date.now();
  const gsets = Object.fromEntries(Object.entries(genuineSets).map(([k, g]) => [k, g]));
  const boot = C.bootstrapIdentities(acc, { identities, genuineSets: gsets, targets: CALIB_FARS, fixed: shipped.map((x) => x.threshold), replicates, seed });
  const bootSeconds = (Date.now() - t0) / 1000;
  const genTar = (name, bin) => {
    const g = genuineSets[name];
    let a = 0;
    for (let i = 0; i < g.bins.length; i++) if (g.bins[i] >= bin) a++;
    return { accepted: a, total: g.bins.length, tar: g.bins.length ? a / g.bins.length : null };
  };
  const ci = (xs) => {
    const r = C.percentileInterval(xs);
    return r.n ? { lower: Number(r.lower.toFixed(6)), upper: Number(r.upper.toFixed(6)), level: r.level, replicates: r.n } : null;
  };
  const tarAtFar = CALIB_FARS.map((far) => {
    const p = C.thresholdAtFmr(impSuf, m, far);
    const tars = Object.fromEntries(Object.keys(genuineSets).map((k) => [k, genTar(k, p.bin)]));
    return {
      far,
      target: far,
      // floor(far x comparisons) < 10: the point rests on fewer than 10 false matches (0 = not resolvable).
      belowResolution: p.allowed < 1,
      fewFalseMatches: p.allowed < 10,
      threshold: p.threshold,
      thresholdCi95: ci(boot.fmr[far].threshold),
      falseMatches: p.accepted,
      allowedFalseMatches: p.allowed,
      fmr: p.fmr,
      impostorComparisons: m,
      tar: tars.pairsTxt?.tar ?? tars.allGenuine.tar,
      tarOver: tars.pairsTxt ? 'pairsTxt' : 'allGenuine',
      tarCi95: ci(boot.fmr[far].tar[tars.pairsTxt ? 'pairsTxt' : 'allGenuine']),
      tars: Object.fromEntries(Object.entries(tars).map(([k, v]) => [k, { ...v, ci95: ci(boot.fmr[far].tar[k]) }])),
    };
  });
  const atShipped = shipped.map((x) => {
    const r = C.rateAt(impSuf, m, x.threshold);
    const j = C.binOfThreshold(x.threshold);
    return {
      ...x, falseMatches: r.accepted, impostorComparisons: m, fmr: r.rate, fmrCi95: ci(boot.fixed[x.threshold]),
      tars: Object.fromEntries(Object.keys(genuineSets).map((k) => [k, genTar(k, j)])),
    };
  });
  return {
    population: label,
    images,
    noFace,
    identities: identities.length,
    impostorComparisons: m,
    genuineComparisons: acc.genuineCount,
    pairsTxtGenuine: genuineSets.pairsTxt ? { pairs: genuineSets.pairsTxt.bins.length, unscored: genuineSets.pairsTxt.bins.filter((b) => b < 0).length } : null,
    tarAtFar,
    atShipped,
    impostorTail: C.tailTable(impSuf, m),
    genuineScoreQuantiles: Object.fromEntries([0.01, 0.05, 0.5].map((q) => [q, C.edgeOf(C.thresholdAtFmr(genSuf, acc.genuineCount, 1 - q).bin)])),
    topImpostors: acc.top,
    bootstrap: { method: `identities resampled with replacement within each data set, ${replicates} replicates (seed ${seed}); impostor pair (a, b) weighted w_a w_b, genuine pair of a weighted w_a; threshold = exact weighted quantile of the kept impostor tail (cosine >= ${C.edgeOf(acc.tailBin)}); 95 % percentile intervals`, replicates, tailKept: acc.tail.n, seconds: bootSeconds, uncovered: boot.uncovered },
  };
}

async function calib(lfwReports = new Map()) {
  const t0 = Date.now();
  const { lfwImages, orlImages } = calibSelection();
  const recipes = args['calib-recipes'] ? args['calib-recipes'].split(',').map((s) => s.trim()).filter(Boolean) : OURS_ALL;
  const replicates = SMOKE ? 50 : Number(args['calib-boot']);
  const seed = 20261202;
  const lfwKeys = lfwImages.map((p) => `lfw/${p}`);
  const orlKeys = orlImages.map((p) => `orl/${p}`);
  const variants = allVariantIds([...new Set([...OURS_ALL, ...recipes])]);
  const lfwCache = await ensureOurs(lfwKeys, variants, FRAME_IMAGE, `calib LFW (${lfwKeys.length} images)`);
  const orlCache = orlKeys.length ? await ensureOurs(orlKeys, variants, FRAME_LETTERBOX, `calib ORL (${orlKeys.length} images)`) : null;
  const sel = lfwSelection();
  const lfwNames = [...new Set(lfwImages.map((p) => p.split('/')[0]))].sort();
  const orlNames = [...new Set(orlImages.map((p) => p.split('/')[0]))].sort();
  const identOf = new Map([...lfwNames.map((n, i) => [`lfw/${n}`, i]), ...orlNames.map((n, i) => [`orl/${n}`, lfwNames.length + i])]);
  const idOfKey = (key) => identOf.get(key.slice(0, key.indexOf('/', 4)));
  const cal = await loadCalibration().catch(() => null);
  const out = [];
  for (const recipe of recipes) {
    const tr = Date.now();
    const modelId = RECIPE_MODEL_ID[recipe] ?? null;
    const shipped = [];
    const c = modelId ? cal?.calibrationFor?.(modelId) : null;
    if (c) shipped.push({ name: `${modelId} threshold (src/core/calibration.ts)`, threshold: c.threshold });
    if (c) for (const [f, t] of c.tail) if (f === 1e-3 || f === 1e-4) shipped.push({ name: `${modelId} IMPOSTOR_TAIL row FMR ${f}`, threshold: t });
    if (productThreshold() !== null && !shipped.some((x) => x.threshold === productThreshold())) shipped.push({ name: 'DEFAULT_THRESHOLD', threshold: productThreshold() });
    const embed = (cache, keys) => keys.map((key) => ({ key, ident: idOfKey(key), emb: recipeEmb(cache, recipe, key) }));
    const lfwItems = embed(lfwCache, lfwKeys);
    const orlItems = orlCache ? embed(orlCache, orlKeys) : [];
    const PL = C.packEmbeddings(lfwItems, 192);
    const PO = C.packEmbeddings(orlItems, 192);
    const ts = Date.now();
    const accL = new C.PairAccumulator().addBlock(PL, PL, { tagA: 'L', tagB: 'L' });
    const accO = new C.PairAccumulator().addBlock(PO, PO, { tagA: 'O', tagB: 'O' });
    const accX = new C.PairAccumulator().addBlock(PL, PO, { tagA: 'L', tagB: 'O' });
    const scoreSeconds = (Date.now() - ts) / 1000;
    const accP = accL.merge(accO, accX);
    const keyOfTag = (tag) => {
      const [set, i] = tag.split(':');
      return (set === 'L' ? lfwItems : orlItems).filter((x) => x.emb)[Number(i)].key;
    };
    for (const a of [accL, accO, accP]) a.top = a.top.map((x) => ({ score: Number(x.score.toFixed(4)), a: keyOfTag(x.a), b: keyOfTag(x.b) }));
    // Genuine sets: all same-identity pairs (images with a face), and pairs.txt's positives (a missing face = rejected).
    const genAll = (acc) => ({ bins: Int32Array.from(acc.gen.view(0)), ident: Int32Array.from(acc.gen.view(1)) });
    const embOf = new Map(lfwItems.map((x) => [x.key, x.emb]));
    const pos = sel.pairs.filter((p) => p.same);
    const pairsTxt = {
      bins: Int32Array.from(pos.map((p) => {
        const a = embOf.get(`lfw/${p.a}`) ?? recipeEmb(lfwCache, recipe, `lfw/${p.a}`);
        const b = embOf.get(`lfw/${p.b}`) ?? recipeEmb(lfwCache, recipe, `lfw/${p.b}`);
        return a && b ? C.binOf(cosine(a, b)) : -1;
      })),
      ident: Int32Array.from(pos.map((p) => idOfKey(`lfw/${p.a}`) ?? -1)),
    };
    if (pairsTxt.ident.some((i) => i < 0)) throw new Error('calib: a pairs.txt identity is not among the calibration images');
    const countIds = (items, group) => {
      const n = new Map();
      for (const x of items) if (x.emb) n.set(x.ident, (n.get(x.ident) ?? 0) + 1);
      return [...n].map(([ident, k]) => ({ ident, n: k, group }));
    };
    const idsL = countIds(lfwItems, 'lfw');
    const idsO = countIds(orlItems, 'orl');
    // Exact pair counts from the per-identity image counts: the loop must have made exactly these comparisons.
    const expectL = C.countPairs(idsL.map((x) => x.n));
    const expectO = C.countPairs(idsO.map((x) => x.n));
    if (accL.impostorCount !== expectL.impostor || accL.genuineCount !== expectL.genuine) throw new Error(`calib: LFW pair count ${accL.impostorCount}/${accL.genuineCount}, expected ${expectL.impostor}/${expectL.genuine}`);
    if (accP.impostorCount !== expectL.impostor + expectO.impostor + PL.n * PO.n) throw new Error('calib: pooled pair count mismatch');
    const common = { shipped, seed, replicates };
    const populations = {
      lfw: calibPopulation(accL, { ...common, label: 'LFW deep-funneled, every image: all cross-identity pairs', identities: idsL, genuineSets: { pairsTxt, allGenuine: genAll(accL) }, images: lfwKeys.length, noFace: PL.skipped }),
    };
    if (PO.n) {
      populations.orl = calibPopulation(accO, { ...common, label: 'ORL / AT&T (letterboxed 640x480): all cross-identity pairs', identities: idsO, genuineSets: { allGenuine: genAll(accO) }, images: orlKeys.length, noFace: PO.skipped });
      populations.pooled = calibPopulation(accP, { ...common, label: 'LFW + ORL pooled: all cross-identity pairs (LFW-LFW, ORL-ORL, LFW-ORL)', identities: [...idsL, ...idsO], genuineSets: { pairsTxt, allGenuine: genAll(accP) }, images: lfwKeys.length + orlKeys.length, noFace: PL.skipped + PO.skipped });
    }
    const lfwReport = lfwReports.get(recipe) ?? (await lfwOurs(sel, recipe));
    out.push({
      recipe, modelId, description: describeRecipe(recipe),
      tenFold: { mean: lfwReport.metrics.tenFold.mean, std: lfwReport.metrics.tenFold.std, pairs: lfwReport.pairs?.length ?? lfwReport.metrics.pairs, source: `lfw section (pairs.txt, ${lfwReport.metrics.pairs} pairs)` },
      pairsTxtTarAtFar: lfwReport.metrics.tarAtFar.filter((t) => CALIB_FARS.includes(t.target)).map((t) => ({ far: t.target, threshold: t.rounded.threshold, tar: t.rounded.tmr, impostors: t.rounded.impostors, belowResolution: t.belowResolution })),
      noFaceImages: [...lfwItems, ...orlItems].filter((x) => !x.emb).map((x) => x.key),
      populations,
      seconds: { scoring: scoreSeconds, total: (Date.now() - tr) / 1000 },
    });
    const L = populations.lfw;
    log(`calib ${recipe}: LFW ${L.impostorComparisons.toLocaleString('en')} impostor / ${L.genuineComparisons.toLocaleString('en')} genuine comparisons (${PL.skipped} images without a face) in ${scoreSeconds.toFixed(1)} s; ${L.tarAtFar.map((t) => `FMR ${t.far}: T ${t.threshold} [${t.thresholdCi95?.lower}, ${t.thresholdCi95?.upper}], TAR pairs.txt ${pct(t.tars.pairsTxt.tar)}, all genuine ${pct(t.tars.allGenuine.tar)}`).join('; ')}; ${L.atShipped.map((x) => `FMR at ${x.threshold}: ${x.fmr.toExponential(2)}`).join(', ')}`);
  }
  const main = out[0];
  const L = main.populations.lfw;
  const r = {
    benchmark: 'Threshold calibration over all pairs: LFW (every image), ORL, pooled; ours',
    date: new Date().toISOString(),
    config: {
      recipe: main.recipe, recipes: out.map((x) => x.recipe), minScore, backend: args.backend, lfwDir: LFW, orlDir: ORL, smoke: SMOKE,
      frames: { lfw: FRAME_IMAGE, orl: FRAME_LETTERBOX },
      images: SMOKE ? 'smoke: the images of the smoke lfw and ident sections, ORL 5 people' : 'every LFW deep-funneled image (all identities, incl. those with one image) and every ORL image',
      protocol: 'impostor = every unordered pair of images of two different identities, genuine = every unordered pair of images of one identity; images where no face is found are left out (listed, and counted in `noFace`); pairs.txt positives keep the lfw section\'s rule (a missing face = rejected). Scores = cosine of the recipe\'s embeddings, in histograms of 1e-4 bins; threshold at FMR f = the lowest 4-decimal cosine t with #(impostor scores >= t) <= floor(f x comparisons) (exact, accept when score >= t). TAR = share of genuine pairs with score >= t.',
      bootstrap: L.bootstrap.method,
    },
    sources: ourSrc.per,
    metrics: {
      tenFold: main.tenFold,
      impostorComparisons: L.impostorComparisons,
      genuineComparisons: L.genuineComparisons,
      population: L.population,
      tarAtFar: L.tarAtFar.map((t) => ({ far: t.far, target: t.far, threshold: t.threshold, thresholdCi95: t.thresholdCi95, tar: t.tar, tarOver: `pairs.txt positives (${L.pairsTxtGenuine.pairs.toLocaleString('en')}; a missing face = rejected)`, tarCi95: t.tarCi95, tarAllGenuine: t.tars.allGenuine.tar, tarAllGenuineCi95: t.tars.allGenuine.ci95, falseMatches: t.falseMatches, impostorComparisons: t.impostorComparisons })),
      atShipped: L.atShipped.map((x) => ({ name: x.name, threshold: x.threshold, fmr: x.fmr, fmrCi95: x.fmrCi95, falseMatches: x.falseMatches, impostorComparisons: x.impostorComparisons })),
    },
    recipes: out,
    seconds: (Date.now() - t0) / 1000,
  };
  const file = join(outDir, `${calibName()}.json`);
  writeJson(file, r);
  writeMd(mdBeside(file), calibMd(r));
  log(`wrote ${file} and .md`);
  return r;
}

function calibMd(r) {
  const ciT = (c) => (c ? `[${num(c.lower)}, ${num(c.upper)}]` : 'n/a');
  const ciP = (c) => (c ? `[${pct(c.lower)}, ${pct(c.upper)}]` : 'n/a');
  const ciE = (c) => (c ? `[${c.lower.toExponential(2)}, ${c.upper.toExponential(2)}]` : 'n/a');
  const parts = [
    `### Threshold calibration over all impostor pairs${r.config.smoke ? ' (SMOKE subset)' : ''}`,
    '',
    `${r.config.images}. ${r.config.protocol}`,
    '',
    `Confidence intervals: ${r.config.bootstrap}. Pairs that share an identity are not independent, so a binomial interval over the comparisons would be far too narrow.`,
    '',
  ];
  for (const x of r.recipes) {
    parts.push(`#### \`${x.recipe}\`${x.modelId ? ` (model id \`${x.modelId}\`)` : ''}: ${x.description}`, '');
    parts.push(`LFW 10-fold accuracy (pairs.txt, lfw section): ${pct(x.tenFold.mean)} ± ${pct(x.tenFold.std)}. Images without a face: ${x.noFaceImages.length}${x.noFaceImages.length ? ` (${x.noFaceImages.slice(0, 10).join(', ')}${x.noFaceImages.length > 10 ? ', …' : ''})` : ''}.`, '');
    const pops = Object.values(x.populations);
    parts.push(mdTable(
      ['population', 'images (no face)', 'identities', 'impostor comparisons', 'genuine comparisons', ...CALIB_FARS.flatMap((f) => [`T @ FMR ${f} [95 % CI]`, `TAR pairs.txt [CI]`, `TAR all genuine [CI]`])],
      pops.map((p) => [
        p.population, `${p.images.toLocaleString('en')} (${p.noFace})`, p.identities.toLocaleString('en'), p.impostorComparisons.toLocaleString('en'), p.genuineComparisons.toLocaleString('en'),
        ...p.tarAtFar.flatMap((t) => [`${num(t.threshold)} ${ciT(t.thresholdCi95)} (${t.falseMatches.toLocaleString('en')} false matches${t.belowResolution ? '; not resolvable: 0 allowed' : t.fewFalseMatches ? `; only ${t.allowedFalseMatches} allowed` : ''})`, t.tars.pairsTxt ? `${pct(t.tars.pairsTxt.tar)} ${ciP(t.tars.pairsTxt.ci95)}` : '—', `${pct(t.tars.allGenuine.tar)} ${ciP(t.tars.allGenuine.ci95)}`]),
      ]),
    ), '');
    const shipped = pops[0].atShipped;
    if (shipped.length) {
      parts.push('Shipped thresholds (src/core/calibration.ts) over all impostor pairs:', '');
      parts.push(mdTable(
        ['threshold', ...pops.map((p) => `FMR ${p.population.split(':')[0]} [95 % CI]`), 'TAR pairs.txt (LFW)', 'TAR all genuine (LFW)'],
        shipped.map((s, i) => [
          `${num(s.threshold)} (${s.name})`,
          ...pops.map((p) => `${p.atShipped[i].fmr.toExponential(2)} (${p.atShipped[i].falseMatches.toLocaleString('en')} of ${p.impostorComparisons.toLocaleString('en')}) ${ciE(p.atShipped[i].fmrCi95)}`),
          pct(s.tars.pairsTxt?.tar), pct(s.tars.allGenuine.tar),
        ]),
      ), '');
    }
    if (x.pairsTxtTarAtFar.length) parts.push(`For comparison, over pairs.txt's ${x.pairsTxtTarAtFar[0].impostors.toLocaleString('en')} impostor pairs only: ${x.pairsTxtTarAtFar.map((t) => `FAR ${t.far}: T ${num(t.threshold)}, TAR ${pct(t.tar)}${t.belowResolution ? ' (not resolvable: zero false matches)' : ''}`).join('; ')}.`, '');
    parts.push(`Impostor tail over all LFW cross-identity pairs, FMR -> lowest cosine (the shape of IMPOSTOR_TAIL): ${pops[0].impostorTail.map(([f, t]) => `${f} -> ${t}`).join(', ')}.`, '');
    parts.push(`Highest LFW impostor scores: ${pops[0].topImpostors.slice(0, 5).map((t) => `${t.score} (${t.a.split('/')[1]} vs ${t.b.split('/')[1]})`).join('; ')}.`, '');
    parts.push(`Scoring ${x.seconds.scoring.toFixed(1)} s (Node, one core), bootstrap ${pops.map((p) => p.bootstrap.seconds.toFixed(1)).join(' / ')} s.`, '');
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Experiments

/**
 * Template aggregation / score normalisation (issue 13): identities with >= E + 1 images where a
 * face is found enrol their first E (file order) and probe with up to P of the rest; the cohort for
 * the normalisations = N seeded images of identities with one image (never enrolled, never probed).
 */
async function aggregation() {
  requireDir(LFW, 'LFW');
  const E = SMOKE ? 2 : Number(args['agg-templates']);
  const P = SMOKE ? 1 : Number(args['agg-probes']);
  const N = SMOKE ? 30 : Number(args['agg-cohort']);
  const seed = Number(args['ident-seed']);
  const { pool, singles } = identSelection();
  let candidates = pool.filter((i) => i.images.length >= E + 1);
  if (args['agg-identities']) candidates = candidates.slice(0, Number(args['agg-identities']));
  const cohortImages = shuffled(singles.flatMap((i) => i.images), seed + 2).slice(0, N);
  // A few spare images per identity in case no face is found in some (LFW: almost never).
  const keys = [...candidates.flatMap((i) => i.images.slice(0, E + P + 3)), ...cohortImages].map((p) => `lfw/${p}`);
  const t0 = Date.now();
  const cache = await ensureOurs(keys, allVariantIds([OURS]), FRAME_IMAGE, `aggregation ${OURS}`);
  const emb = (p) => recipeEmb(cache, OURS, `lfw/${p}`);
  const identities = [];
  const skipped = [];
  for (const i of candidates) {
    const withFace = i.images.slice(0, E + P + 3).filter((p) => emb(p));
    if (withFace.length < E + 1) {
      skipped.push(i.name);
      continue;
    }
    const g = withFace.slice(0, E);
    identities.push({ id: i.name, gallery: g.map(emb), quality: g.map((p) => cache.getDet(`lfw/${p}`).faceScore), probes: withFace.slice(E, E + P).map(emb) });
  }
  const cohort = cohortImages.map(emb).filter(Boolean);
  const out = runAggregation({ identities, cohort, folds: 10, seed });
  const name = `lfw-aggregation-${OURS.replace(/\+/g, '_')}`;
  const r = {
    benchmark: 'LFW template aggregation and score normalisation, ours',
    date: new Date().toISOString(),
    config: {
      recipe: OURS, description: describeRecipe(OURS), templatesPerIdentity: E, probesPerIdentity: P, cohortImages: N, seed, minScore, frame: FRAME_IMAGE, backend: args.backend, smoke: SMOKE,
      protocol: `identities of LFW with >= ${E + 1} images in which a face is found enrol their first ${E} (file order); up to ${P} of their other images are genuine probes; every probe is compared with every other identity's enrolment (impostors). Cohort (Z/T-norm) = ${N} seeded images of identities with one image. Threshold at FMR f = the (floor(f m)+1)-th highest impostor score, accept when above. 10-fold: identities in 10 seeded folds, the threshold from the comparisons among the other 9 folds only, TAR and FMR measured on the test fold's probes. McNemar: genuine decisions of each scorer vs best at the pooled thresholds of each FMR (fixed = accepted only by the scorer, broken = only by best; exact two-sided p). Not a pose set: LFW images of a person come from different days, while the product enrols five poses in one sitting.`,
    },
    sources: ourSrc.per,
    detection: { ...detSummary(cache, keys), identitiesSkipped: skipped.length },
    seconds: (Date.now() - t0) / 1000,
    ...out,
  };
  writeJson(join(outDir, `${name}.json`), r);
  writeMd(join(outDir, `${name}.md`), aggregationMd(r));
  log(`wrote ${name}.json/.md`);
  console.log(aggregationMd(r));
  return r;
}

function aggregationMd(r) {
  const c = r.config;
  const k = r.counts;
  const at = (x, far) => x.find((y) => y.far === far);
  const rows = r.scorers.map(({ name, description }) => {
    const x = r.results[name];
    const p3 = at(x.pooled, 1e-3);
    const p4 = at(x.pooled, 1e-4);
    const f3 = at(x.tenFold, 1e-3);
    const f4 = at(x.tenFold, 1e-4);
    return [
      `${name}${name === 'best' ? ' (ships)' : ''}`, description,
      `${pct(p3.tar)} (T ${num(p3.threshold)})`, `${pct(p4.tar)}`,
      `${pct(f3.tarMean)} ± ${pct(f3.tarSd)} (FMR ${f3.fmrMean.toExponential(1)})`, `${pct(f4.tarMean)} ± ${pct(f4.tarSd)} (FMR ${f4.fmrMean.toExponential(1)})`,
      ...[1e-3, 1e-4].map((far) => {
        const v = at(x.vsBest, far);
        const f = v.tenFoldDiff;
        return name === 'best' ? '' : `+${v.fixed} / -${v.broken} (p ${v.pExact < 1e-4 ? v.pExact.toExponential(1) : v.pExact.toFixed(4)}); folds ${f.mean >= 0 ? '+' : ''}${(100 * f.mean).toFixed(2)} ± ${(100 * f.sd).toFixed(2)} pp, ${f.better} better / ${f.worse} worse`;
      }),
    ];
  });
  return [
    `### Template aggregation and score normalisation on LFW (${c.recipe}${c.smoke ? ', SMOKE' : ''})`,
    '',
    `\`node bench/runners/accuracy.mjs --only agg --recipe ${c.recipe}\` (${r.date.slice(0, 10)}). ${k.identities} identities x ${k.templatesPerIdentity} enrolled templates, ${k.genuine.toLocaleString('en')} genuine probes, ${k.impostorComparisons.toLocaleString('en')} impostor comparisons (every probe against every other enrolment), cohort ${k.cohort} images.`,
    '',
    c.protocol,
    '',
    mdTable(['scorer', 'what', 'TAR @ FMR 1e-3, pooled', 'TAR @ 1e-4, pooled', 'TAR @ 1e-3, 10-fold (FMR reached)', 'TAR @ 1e-4, 10-fold (FMR reached)', 'vs best at 1e-3: fixed / broken (McNemar); 10-fold TAR difference', 'vs best at 1e-4'], rows),
    '',
  ].join('\n');
}

async function experiments() {
  const sel = lfwSelection();
  const folds = args['exp-folds'] === 'all' ? null : new Set(args['exp-folds'].split(',').map(Number));
  const pairs = folds ? sel.pairs.filter((p) => folds.has(p.fold)) : sel.pairs;
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const recipes = args['exp-recipes'].split(',').map((s) => s.trim()).filter(Boolean);
  const baseline = args['exp-baseline'];
  if (!recipes.includes(baseline)) recipes.unshift(baseline);
  const keys = images.map((p) => `lfw/${p}`);
  const t0 = Date.now();
  const cache = await ensureOurs(keys, allVariantIds(recipes), FRAME_IMAGE, 'experiments');
  const foldIds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  const rows = [];
  let basePerFold = null;
  for (const recipe of recipes) {
    const emb = new Map(keys.map((k) => [k, recipeEmb(cache, recipe, k)]));
    const scored = pairs.map((p) => {
      const a = emb.get(`lfw/${p.a}`);
      const b = emb.get(`lfw/${p.b}`);
      return { fold: p.fold, same: p.same, score: a && b ? cosine(a, b) : null };
    });
    const m = verification(scored);
    const perFold = m.tenFold.folds.map((f) => f.accuracy);
    if (recipe === baseline) basePerFold = perFold;
    const passes = parseRecipe(recipe).reduce((n, v) => n + (v.flip ? 2 : 1), 0);
    rows.push({ recipe, description: describeRecipe(recipe), embedPasses: passes, perFold, metrics: m });
  }
  for (const r of rows) {
    const d = r.perFold.map((a, i) => a - basePerFold[i]);
    r.vsBaseline = { meanDiff: M.mean(d), stdDiff: M.std(d), foldsBetter: d.filter((x) => x > 1e-12).length, foldsWorse: d.filter((x) => x < -1e-12).length, folds: d.length };
    const bt = rows.find((x) => x.recipe === baseline).metrics;
    r.vsBaseline.tar1e3Diff = r.metrics.tarAtFar[1].rounded.tmr - bt.tarAtFar[1].rounded.tmr;
  }
  const tag = folds ? `-folds${[...folds].map((f) => f + 1).join('_')}` : '';
  const file = join(outDir, `lfw-experiments${tag}${sel.pairs.length < 6000 ? `-p${sel.pairs.length}` : ''}`);
  const r = {
    benchmark: 'LFW verification experiments (alignment, TTA, multi-crop), ours',
    date: new Date().toISOString(),
    config: {
      folds: foldIds.map((f) => f + 1), pairs: pairs.length, images: images.length, baseline, minScore, backend: args.backend,
      note: "recipes with '+' add the L2-normalised embeddings of their variants and renormalise (so 's1.00+s1.00-m' is flip TTA on normalised embeddings; the product's flip (MobileFaceNetEmbedder flip: true) computes the same sum in one batch: recipe s1.00-F). -m = mirrored crop; -w = keypoint weights (right eye, left eye, nose, mouth).",
    },
    sources: ourSrc.per,
    detection: detSummary(cache, keys),
    timing: { seconds: (Date.now() - t0) / 1000, ...cache.lastTiming },
    rows: rows.map(({ metrics, ...x }) => ({ ...x, metrics: { tenFold: { mean: metrics.tenFold.mean, std: metrics.tenFold.std }, auc: metrics.auc, eer: metrics.eer, tarAtFar: metrics.tarAtFar.map((t) => ({ target: t.target, tmr: t.rounded.tmr, threshold: t.rounded.threshold, impostorsAccepted: t.rounded.impostorsAccepted })), recommended: metrics.recommended } })),
  };
  writeJson(`${file}.json`, r);
  writeMd(`${file}.md`, experimentsMd(r));
  log(`wrote ${file}.json/.md`);
  console.log(experimentsMd(r));
  return r;
}

function experimentsMd(r) {
  const c = r.config;
  return [
    `### LFW experiments: ${c.pairs.toLocaleString('en')} pairs (folds ${c.folds.length === 10 ? '1-10' : c.folds.join(', ')}), ${c.images.toLocaleString('en')} images, baseline ${c.baseline}`,
    '',
    `${c.note} "vs baseline": per-fold accuracy difference, mean ± std over the folds, and how many folds got better / worse (paired: same pairs, same thresholding). ${c.folds.length < 10 ? `Cross-validation over ${c.folds.length} folds only (threshold from the other ${c.folds.length - 1}).` : ''}`,
    '',
    mdTable(
      ['recipe', 'embed passes', `${c.folds.length}-fold accuracy`, 'vs baseline (pt)', 'folds +/−', 'AUC', 'EER', 'TAR @ 1e-2', 'TAR @ 1e-3', 'threshold @ FMR ≤ 1e-3'],
      r.rows.map((x) => [
        `\`${x.recipe}\``, x.embedPasses,
        `${pct(x.metrics.tenFold.mean)} ± ${pct(x.metrics.tenFold.std)}`,
        x.recipe === c.baseline ? '—' : `${(100 * x.vsBaseline.meanDiff).toFixed(2)} ± ${(100 * x.vsBaseline.stdDiff).toFixed(2)}`,
        x.recipe === c.baseline ? '—' : `${x.vsBaseline.foldsBetter}/${x.vsBaseline.foldsWorse}`,
        num(x.metrics.auc, 5), pct(x.metrics.eer.eer), pct(x.metrics.tarAtFar[0].tmr), pct(x.metrics.tarAtFar[1].tmr),
        `${num(x.metrics.recommended.threshold)} (TMR ${pct(x.metrics.recommended.tmr)})`,
      ]),
    ),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Summary

function readIf(file) {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

function summary(extra) {
  const parts = [`# Accuracy of face-login (${SMOKE ? 'SMOKE RUN, not for publication' : 'bench/runners/accuracy.mjs'})`, ''];
  const m = extra.machine;
  parts.push(`Generated ${new Date().toISOString().slice(0, 10)} by \`node bench/runners/accuracy.mjs\`${SMOKE ? ' --smoke' : ''}; ${m.cpu}, ${m.cpus} cores, ${m.memGiB} GiB; ${m.os}; node ${m.node}; Chromium ${m.chromium ?? 'n/a'}; git ${m.gitCommit?.slice(0, 10) ?? 'n/a'}${m.gitDirty?.length ? ' (+ uncommitted changes in src/bench)' : ''}. Datasets: LFW deep-funneled and ORL/AT&T from \`../shared/faces\`. Each section's own file has the per-pair scores, configuration and timings.`);
  parts.push('');
  for (const [title, file] of [
    ['LFW verification: ours vs face-api.js', `lfw-compare${nFaceApiPairs < 6000 ? `-p${nFaceApiPairs}` : ''}.md`],
    ['Threshold calibration over all impostor pairs', `${calibName()}.md`],
    ['LFW 1:N open-set identification', null],
    ['ORL', `orl-${OURS}.md`],
    ['Improvement experiments', null],
  ]) {
    if (file) {
      const t = readIf(join(outDir, file));
      if (t) parts.push(`## ${title}`, '', t.replace(/^### /, '#### '), '');
      if (t && file.startsWith('lfw-compare')) parts.push(`![ROC](${file.replace('.md', '-roc.png')}) ![DET](${file.replace('.md', '-det.png')})`, '');
      if (file.startsWith('lfw-compare') && SMOKE) parts.push(readIf(join(outDir, `lfw-ours-${OURS}-p${nPairs}.md`)) ?? '', '');
    } else if (title.startsWith('LFW 1:N')) {
      const recipes = args['ident-recipes'] ? args['ident-recipes'].split(',') : OURS_ALL;
      const ts = recipes.map((r) => readIf(join(outDir, `lfw-1n-${r.trim().replace(/\+/g, '_')}.md`))).filter(Boolean);
      if (ts.length) parts.push(`## ${title}`, '', ...ts.map((t) => t.replace(/^### /, '#### ')), '');
    } else {
      const ts = ['lfw-experiments-folds1_2_3.md', 'lfw-experiments.md'].map((f) => readIf(join(outDir, f))).filter(Boolean);
      if (ts.length) parts.push(`## ${title}`, '', ...ts.map((t) => t.replace(/^### /, '#### ')), '');
    }
  }
  const notes = readIf(join(outDir, 'ACCURACY.notes.md'));
  if (notes) parts.push(notes, '');
  const file = join(outDir, 'ACCURACY.md');
  writeMd(file, parts.join('\n'));
  log(`wrote ${file}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  if (SMOKE && !existsSync(LFW)) {
    // A fresh clone without the shared datasets (e.g. a user's machine) cannot run the smoke; say so
    // loudly instead of failing `npm test`. FACE_LOGIN_REQUIRE_DATASETS=1 makes it an error.
    const msg = `bench smoke SKIPPED: no LFW at ${LFW} (set FACES_DIR or LFW_DIR)`;
    if (process.env.FACE_LOGIN_REQUIRE_DATASETS === '1') {
      log(`FAIL: ${msg}`);
      process.exit(1);
    }
    log(msg);
    process.exit(0);
  }
  mkdirSync(outDir, { recursive: true });
  log(`sections ${[...only].join(', ')}; ours = ${OURS}; out ${outDir}; LFW ${LFW}; ORL ${ORL}${SMOKE ? '; SMOKE' : ''}`);
  const failures = [];
  let exitCode = 0;
  await loadCalibration();
  const report = { machine: null };
  try {
    let ours = null;
    let fa = null;
    // Our sections and the face-api.js baseline run side by side: every page is single-threaded
    // WASM, so together they use the cores (face-api.js, ~0.5 s per image, is the long pole).
    const sel = only.has('lfw') || only.has('faceapi') ? lfwSelection() : null;
    const oursList = [];
    const oursChain = (async () => {
      if (only.has('lfw')) for (const recipe of OURS_ALL) oursList.push(await lfwOurs(sel, recipe));
      if (only.has('ident')) {
        const rs = await ident();
        if (SMOKE) for (const r of rs) for (const row of r.rows) if (!Number.isFinite(row.rank1)) failures.push('1:N produced no rank-1 rate');
      }
    })();
    const faP = only.has('faceapi') ? lfwFaceApi(nFaceApiPairs === nPairs ? sel : lfwSelection(nFaceApiPairs)) : Promise.resolve(null);
    [, fa] = await Promise.all([oursChain, faP]);
    ours = oursList[0] ?? null;
    if (ours && fa) await lfwCompare(oursList, fa);
    if (SMOKE && ours) {
      const acc = ours.metrics.tenFold.mean;
      const min = Number(args['min-accuracy']);
      if (!(acc >= min)) failures.push(`our LFW ${ours.pairs.length}-pair 10-fold accuracy ${pct(acc)} < ${pct(min)}`);
      else log(`smoke: our ${ours.pairs.length}-pair accuracy ${pct(acc)} >= ${pct(min)}: ok`);
    }
    if (SMOKE && fa && fa.detection.noFace === fa.detection.images) failures.push('face-api found no face at all');
    if (only.has('orl')) {
      const r = await orl();
      if (SMOKE && !r.systems.every((s) => Number.isFinite(s.verificationAllPairs.auc))) failures.push('ORL produced no AUC');
    }
    if (only.has('calib')) {
      const r = await calib(new Map(oursList.map((o) => [o.config.recipe, o])));
      if (SMOKE) {
        const bad = r.metrics.tarAtFar.filter((t) => !(Number.isFinite(t.threshold) && Number.isFinite(t.tar) && t.thresholdCi95));
        if (!(r.metrics.impostorComparisons > 1000) || bad.length) failures.push(`calib: ${r.metrics.impostorComparisons} impostor comparisons, ${bad.length} bad tarAtFar entries`);
        else log(`smoke: calib over ${r.metrics.impostorComparisons.toLocaleString('en')} impostor comparisons: ok`);
      }
    }
    if (only.has('agg')) {
      const r = await aggregation();
      if (SMOKE && !Object.values(r.results).every((x) => x.pooled.every((p) => Number.isFinite(p.tar)))) failures.push('agg: a scorer produced no TAR');
    }
    if (only.has('exp')) await experiments();
    if (ctx.offOrigin.length) failures.push(`${ctx.offOrigin.length} off-origin requests, e.g. ${ctx.offOrigin[0]}`);
    report.machine = machineInfo({ browser: ctx.browser, packages: ['vite', '@playwright/test', '@tensorflow/tfjs-core', '@mediapipe/tasks-vision', '@vladmandic/face-api'] });
    if (only.has('summary')) summary(report);
  } catch (e) {
    console.error(e);
    failures.push(`error: ${e.message}`);
  } finally {
    await ctx.browser?.close().catch(() => {});
    await ctx.vite?.close().catch(() => {});
  }
  if (failures.length) {
    exitCode = 1;
    for (const f of failures) log(`FAIL: ${f}`);
  }
  log(`${exitCode ? 'FAILED' : 'done'} in ${fmtDur((Date.now() - t0) / 1000)}; results in ${outDir}`);
  process.exit(exitCode);
}

main();
