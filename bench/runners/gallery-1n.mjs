#!/usr/bin/env node
/**
 * Browser-side 1:N: today's rule over Template[] (decideIdentify, what LocalVerifier did on every
 * identify) vs the PackedGallery (src/core/gallery.ts) that replaced it, in Node AND in headless
 * Chromium, one command:
 *
 *   node bench/runners/gallery-1n.mjs [--sizes 1000,10000,100000,1000000] [--reps 9] [--only node,chromium]
 *                                     [--no-kernels] [--quick] [--out DIR]
 *
 * The same code runs in both: src/core/gallery.ts and src/core/match.ts bundled by esbuild (from
 * Vite's dependencies) with the measuring code below, imported by Node and added to an about:blank
 * page of /usr/bin/chromium (bench/lib/harness.mjs launchChromium; no server, nothing off-origin).
 *
 * Per size n: n random unit 192-d templates, one user each (as bench/runners/speed.mjs's search
 * section): float32 components from a seeded normal (mulberry32 + Box-Muller, scripts/lib/
 * seeded-random.mjs), L2-normalised. Old: a Template[]-like list with one Float32Array per
 * template (as the stores return them), decideIdentify(probe, list, threshold). New: PackedGallery
 * .identify (kernel 'auto' = WebAssembly SIMD here, and kernel 'js' = the plain-JS fallback), each
 * timed interleaved with the old rule on the same probes. 16 probes: 8 noisy copies of gallery
 * templates (cosine ~0.7 to their source), 8 fresh random vectors (strangers); threshold
 * identifyThreshold(n). One sample = the mean over enough calls to last >= 20 ms; reported:
 * median and p95 of the samples (5 samples at 1M). Every timed decision of new and old is compared
 * (user, score, candidates, exactly).
 * Kernels (n = 100k, --no-kernels to skip): the raw dot-product loop in its variants, to show what
 * helped (float64 vs float32 accumulation, 1 / 4 / 8 accumulators, rows interleaved, WASM SIMD).
 *
 * Writes DIR/gallery-1n.json and DIR/gallery-1n.md (DIR = bench/results), prints the tables.
 * --quick: 1k and 10k, 3 samples, no 1M (a smoke run: exits 1 when a decision differs or the page fails).
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT, makeLog, fmtDur, summarize, roundDeep, machineInfo, launchChromium, mdTable, writeResultFile } from '../lib/harness.mjs';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    reps: { type: 'string' },
    only: { type: 'string', default: 'node,chromium' },
    kernels: { type: 'boolean', default: true },
    'no-kernels': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/runners/gallery-1n.mjs [--sizes 1000,10000,100000,1000000] [--reps 9] [--only node,chromium] [--no-kernels] [--quick] [--out DIR]');
  process.exit(0);
}
const log = makeLog('gallery-1n');
const Q = args.quick;
const CFG = {
  sizes: args.sizes ? args.sizes.split(',').map(Number) : Q ? [1e3, 1e4] : [1e3, 1e4, 1e5, 1e6],
  reps: args.reps ? Number(args.reps) : Q ? 3 : 9,
  dim: 192,
  seed: 14,
  probes: 16,
  minSampleMs: Q ? 5 : 20,
  kernels: !Q && !args['no-kernels'],
  kernelN: 1e5,
};
const envs = args.only.split(',').map((s) => s.trim()).filter(Boolean);
for (const e of envs) if (!['node', 'chromium'].includes(e)) throw new Error(`--only: unknown "${e}" (node, chromium)`);

// ---------------------------------------------------------------------------------------------
// The measuring code (runs in Node and in the page; bundled with the product's modules)

const ENTRY = `
import { PackedGallery } from './src/core/gallery.ts';
import { decideIdentify } from './src/core/match.ts';
import { identifyThreshold } from './src/core/calibration.ts';
import { rng, gauss } from './scripts/lib/seeded-random.mjs';

const now = () => performance.now();
const nextTask = () => new Promise((r) => setTimeout(r, 0));

function randomUnits(n, dim, u) {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < dim; k++) { const x = gauss(u); v[i * dim + k] = x; ss += x * x; }
    const inv = 1 / Math.sqrt(ss);
    for (let k = 0; k < dim; k++) v[i * dim + k] *= inv;
  }
  return v;
}

/** Samples of fn: each sample repeats it until it lasts >= minSampleMs; ms per call. */
function calibrate(fn, minSampleMs) {
  let t = now(); fn(0); let once = now() - t;
  if (once < minSampleMs) { t = now(); fn(1); once = now() - t; }
  return Math.max(1, Math.ceil(minSampleMs / Math.max(once, 0.001)));
}
function sample(fn, repeat, i0) {
  const t = now();
  for (let j = 0; j < repeat; j++) fn(i0 + j);
  return (now() - t) / repeat;
}

const same = (a, b) => a.userId === b.userId && a.score === b.score && a.threshold === b.threshold &&
  a.candidates.length === b.candidates.length && a.candidates.every((c, i) => c.userId === b.candidates[i].userId && c.score === b.candidates[i].score);

export async function runSize(o) {
  const { n, dim, seed, reps, minSampleMs } = o;
  const u = rng(seed + n);
  let t = now();
  const vectors = randomUnits(n, dim, u);
  const genMs = now() - t;
  // Old: one Float32Array per template, as the stores return them.
  t = now();
  let templates = [];
  for (let i = 0; i < n; i++) templates.push({ userId: 'user-' + i, embedding: vectors.slice(i * dim, (i + 1) * dim) });
  const listMs = now() - t;
  const pu = rng(seed * 7 + n);
  const probes = [];
  const sources = [];
  for (let p = 0; p < o.probes; p++) {
    const v = randomUnits(1, dim, pu);
    if (p % 2 === 0) {
      const src = Math.floor(pu() * n);
      let ss = 0;
      for (let k = 0; k < dim; k++) { v[k] = vectors[src * dim + k] + 0.9 * v[k]; ss += v[k] * v[k]; }
      for (let k = 0; k < dim; k++) v[k] /= Math.sqrt(ss);
      sources.push(src);
    } else sources.push(-1);
    probes.push(v);
  }
  const threshold = identifyThreshold(n);
  const out = { n, dim, threshold, genMs, listMs, kernels: {} };
  // Both galleries at once, timed interleaved with the old rule (rotating the order per sample).
  const galleries = {};
  for (const kernel of ['auto', 'js']) {
    await nextTask();
    t = now();
    galleries[kernel] = PackedGallery.from(templates, { kernel });
    out.kernels[kernel] = { kernel: galleries[kernel].kernel, buildMs: now() - t, bytes: galleries[kernel].bytes, newMs: [] };
  }
  const fns = {
    old: (i) => decideIdentify(probes[i % probes.length], templates, threshold),
    auto: (i) => galleries.auto.identify(probes[i % probes.length], { threshold }),
    js: (i) => galleries.js.identify(probes[i % probes.length], { threshold }),
  };
  const names = Object.keys(fns);
  const repeat = Object.fromEntries(names.map((k) => [k, calibrate(fns[k], minSampleMs)]));
  const ms = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < names.length; j++) {
      const k = names[(r + j) % names.length];
      ms[k].push(sample(fns[k], repeat[k], r * repeat[k]));
    }
    await nextTask();
  }
  // Every probe's decision, old vs new, compared exactly.
  const oldDecisions = probes.map((p) => decideIdentify(p, templates, threshold));
  for (const kernel of ['auto', 'js']) {
    const g = galleries[kernel];
    let agree = 0;
    let found = 0;
    for (let p = 0; p < probes.length; p++) {
      const b = g.identify(probes[p], { threshold });
      if (same(oldDecisions[p], b)) agree++;
      if (sources[p] >= 0 && b.userId === 'user-' + sources[p]) found++;
    }
    // Incremental updates: enrol one user with 5 templates, then delete them (swap-remove), 50 times.
    const extra = randomUnits(5, dim, pu);
    const five = [0, 1, 2, 3, 4].map((i) => extra.subarray(i * dim, (i + 1) * dim));
    t = now();
    for (let i = 0; i < 50; i++) g.add('enrol-' + i, five);
    const addMs = (now() - t) / 50;
    t = now();
    for (let i = 0; i < 50; i++) g.remove('enrol-' + i);
    const removeMs = (now() - t) / 50;
    Object.assign(out.kernels[kernel], { repeat: { old: repeat.old, new: repeat[kernel] }, oldMs: ms.old, newMs: ms[kernel], agree, probes: probes.length, found, addMs, removeMs });
    g.dispose();
  }
  out.acceptedByOld = oldDecisions.filter((d) => d.userId !== null).length;
  templates = null;
  return out;
}

// Kernel study: the bare dot-product loop over n packed rows, one probe, in its variants.
const DOTS = 'AGFzbQEAAAABCQFgBX9/f39/AAIKAQFtA21lbQIAAQMCAQAHCAEEZG90cwAACq0CAaoCAgR/BHsCQANAIAUgAU8NAf0MAAAAAAAAAAAAAAAAAAAAACEJ/QwAAAAAAAAAAAAAAAAAAAAAIQr9DAAAAAAAAAAAAAAAAAAAAAAhC/0MAAAAAAAAAAAAAAAAAAAAACEMIAAhBiADIQcgACACQQJ0aiEIA0AgCSAG/QAEACAH/QAEAP3mAf3kASEJIAogBv0ABBAgB/0ABBD95gH95AEhCiALIAb9AAQgIAf9AAQg/eYB/eQBIQsgDCAG/QAEMCAH/QAEMP3mAf3kASEMIAZBwABqIQYgB0HAAGohByAGIAhJDQALIAkgCv3kASALIAz95AH95AEhCSAEIAn9HwAgCf0fAZIgCf0fAiAJ/R8DkpI4AgAgBEEEaiEEIAghACAFQQFqIQUMAAsLCw==';
export async function runKernels(o) {
  const { n, dim, reps } = o;
  const u = rng(o.seed);
  const mem = new WebAssembly.Memory({ initial: Math.ceil(((n * dim + n + dim) * 4) / 65536) });
  const bytes = Uint8Array.from(atob(DOTS), (c) => c.charCodeAt(0));
  const dotsFn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem } }).exports.dots;
  const v = new Float32Array(mem.buffer, 0, n * dim);
  v.set(randomUnits(n, dim, u));
  const wout = new Float32Array(mem.buffer, n * dim * 4, n);
  const wprobe = new Float32Array(mem.buffer, (n * dim + n) * 4, dim);
  const probe = randomUnits(1, dim, u);
  wprobe.set(probe);
  const out = new Float64Array(n);
  const f = Math.fround;
  const K = {
    'float64, 1 accumulator (= match.ts cosine order)': () => { for (let r = 0, o = 0; r < n; r++, o += dim) { let s = 0; for (let k = 0; k < dim; k++) s += probe[k] * v[o + k]; out[r] = s; } },
    'float32 (Math.fround), 1 accumulator': () => { for (let r = 0, o = 0; r < n; r++, o += dim) { let s = 0; for (let k = 0; k < dim; k++) s = f(s + f(probe[k] * v[o + k])); out[r] = s; } },
    'float64, 4 accumulators (product JS kernel)': () => { for (let r = 0, o = 0; r < n; r++, o += dim) { let s0 = 0, s1 = 0, s2 = 0, s3 = 0; for (let k = 0; k < dim; k += 4) { s0 += probe[k] * v[o + k]; s1 += probe[k + 1] * v[o + k + 1]; s2 += probe[k + 2] * v[o + k + 2]; s3 += probe[k + 3] * v[o + k + 3]; } out[r] = s0 + s1 + (s2 + s3); } },
    'float64, 8 accumulators': () => { for (let r = 0, o = 0; r < n; r++, o += dim) { let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; for (let k = 0; k < dim; k += 8) { s0 += probe[k] * v[o + k]; s1 += probe[k + 1] * v[o + k + 1]; s2 += probe[k + 2] * v[o + k + 2]; s3 += probe[k + 3] * v[o + k + 3]; s4 += probe[k + 4] * v[o + k + 4]; s5 += probe[k + 5] * v[o + k + 5]; s6 += probe[k + 6] * v[o + k + 6]; s7 += probe[k + 7] * v[o + k + 7]; } out[r] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7; } },
    'float64, 4 rows at once (1 accumulator each, exact order)': () => { for (let r = 0; r + 4 <= n; r += 4) { const o0 = r * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim; let s0 = 0, s1 = 0, s2 = 0, s3 = 0; for (let k = 0; k < dim; k++) { const p = probe[k]; s0 += p * v[o0 + k]; s1 += p * v[o1 + k]; s2 += p * v[o2 + k]; s3 += p * v[o3 + k]; } out[r] = s0; out[r + 1] = s1; out[r + 2] = s2; out[r + 3] = s3; } },
    'float64, 8 rows at once (1 accumulator each, exact order)': () => { for (let r = 0; r + 8 <= n; r += 8) { const o0 = r * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim, o4 = o3 + dim, o5 = o4 + dim, o6 = o5 + dim, o7 = o6 + dim; let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; for (let k = 0; k < dim; k++) { const p = probe[k]; s0 += p * v[o0 + k]; s1 += p * v[o1 + k]; s2 += p * v[o2 + k]; s3 += p * v[o3 + k]; s4 += p * v[o4 + k]; s5 += p * v[o5 + k]; s6 += p * v[o6 + k]; s7 += p * v[o7 + k]; } out[r] = s0; out[r + 1] = s1; out[r + 2] = s2; out[r + 3] = s3; out[r + 4] = s4; out[r + 5] = s5; out[r + 6] = s6; out[r + 7] = s7; } },
    'WASM SIMD f32x4, 4 accumulators (product kernel)': () => dotsFn(0, n, dim, wprobe.byteOffset, wout.byteOffset),
  };
  const res = {};
  for (const [name, fn] of Object.entries(K)) { fn(); fn(); res[name] = []; }
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of Object.entries(K)) { const t = now(); fn(); res[name].push(now() - t); }
    await nextTask();
  }
  return { n, dim, ms: res };
}
`;

async function bundle(format) {
  const r = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js', sourcefile: 'gallery-1n-entry.js' },
    bundle: true,
    format,
    globalName: format === 'iife' ? 'galleryBench' : undefined,
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return r.outputFiles[0].text;
}

function summarizeSize(r) {
  const k = {};
  for (const [name, x] of Object.entries(r.kernels)) {
    const old = summarize(x.oldMs);
    const neu = summarize(x.newMs);
    k[name] = { ...x, old, new: neu, ratioNewOverOld: neu.median / old.median };
  }
  return { ...r, kernels: k };
}

async function runEnv(env, call) {
  const sizes = [];
  for (const n of CFG.sizes) {
    const t0 = Date.now();
    const load = os.loadavg()[0];
    const raw = await call('runSize', { n, dim: CFG.dim, seed: CFG.seed, reps: n >= 1e6 ? Math.min(CFG.reps, 5) : CFG.reps, minSampleMs: CFG.minSampleMs, probes: CFG.probes });
    const r = summarizeSize(raw);
    r.loadavg1 = [Number(load.toFixed(2)), Number(os.loadavg()[0].toFixed(2))];
    r.seconds = (Date.now() - t0) / 1000;
    sizes.push(r);
    const a = r.kernels.auto;
    const j = r.kernels.js;
    log(
      `${env} n=${n.toLocaleString('en')}: old ${fm(a.old.median)} ms, packed ${a.kernel} ${fm(a.new.median)} ms (${ratio(a.ratioNewOverOld)}), packed js ${fm(j.new.median)} ms (${ratio(j.ratioNewOverOld)}); agree ${a.agree}/${a.probes} + ${j.agree}/${j.probes}; load ${r.loadavg1.join('->')} (${fmtDur(r.seconds)})`,
    );
  }
  let kernels = null;
  if (CFG.kernels) {
    const raw = await call('runKernels', { n: CFG.kernelN, dim: CFG.dim, seed: CFG.seed, reps: CFG.reps });
    kernels = { n: raw.n, dim: raw.dim, variants: Object.fromEntries(Object.entries(raw.ms).map(([name, ms]) => [name, { ms, ...summarize(ms) }])) };
    for (const [name, s] of Object.entries(kernels.variants)) log(`${env} kernel ${name}: ${fm(s.median)} ms at ${CFG.kernelN.toLocaleString('en')} rows`);
  }
  return { sizes, kernels };
}

const fm = (x) => (x == null ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const ratio = (x) => `${x < 0.1 ? x.toFixed(3) : x.toFixed(2)}×`;

function markdown(R) {
  const L = [];
  L.push('# Browser 1:N: Template[] scan (decideIdentify) vs PackedGallery');
  L.push('');
  L.push(`Command: \`${R.command}\` (${fmtDur(R.seconds)}).`);
  L.push('');
  const m = R.machine;
  L.push(`Machine: ${m.cpu}, ${m.cpus} CPUs (shared with other jobs: 1-min load average per size in the tables), ${m.memGiB} GiB; ${m.os}; Node ${m.node}; ${m.chromium ?? 'chromium ?'}; commit ${m.gitCommit ?? '?'}${m.gitDirty?.length ? ` + uncommitted changes (${m.gitDirty.length} paths)` : ''}.`);
  L.push('');
  L.push(
    `Templates: n random unit ${CFG.dim}-d vectors, one user each (float32 components drawn from a seeded normal, mulberry32 + Box-Muller, L2-normalised). ` +
      `Old = \`decideIdentify(probe, Template[], t)\` of src/core/match.ts over one Float32Array per template, as LocalVerifier scanned on every identify. ` +
      `New = \`PackedGallery.identify\` (src/core/gallery.ts), kernel 'auto' (WebAssembly SIMD here) and kernel 'js' (the fallback where WebAssembly is missing or forbidden). ` +
      `${CFG.probes} probes (half noisy copies of gallery templates at cosine ~0.7, half strangers), threshold identifyThreshold(n). ` +
      `${CFG.reps} samples per cell (${Math.min(CFG.reps, 5)} at 1M), old, WASM and JS interleaved (order rotating) in the same process on the same probes; a sample repeats the search until it lasts ≥ ${CFG.minSampleMs} ms (ms per search). Cells: median / p95 ms; ratio = median new / median old.`,
  );
  for (const env of Object.keys(R.envs)) {
    const E = R.envs[env];
    L.push('');
    L.push(`## ${env === 'node' ? `Node ${m.node}` : `Headless Chromium (${m.chromium ?? '?'}), about:blank page`}`);
    L.push('');
    L.push(
      mdTable(
        ['templates', 'old: Template[] scan', 'packed, WASM SIMD', 'new / old', 'packed, JS fallback', 'JS / old', 'same decision (user, score, candidates)', 'noisy copies named / strangers named', 'build from Template[]', 'enrol 5 / delete (ms)', 'packed bytes', 'load avg'],
        E.sizes.map((r) => {
          const a = r.kernels.auto;
          const j = r.kernels.js;
          return [
            r.n.toLocaleString('en'),
            `${fm(a.old.median)} / ${fm(a.old.p95)}`,
            `${fm(a.new.median)} / ${fm(a.new.p95)}${a.kernel === 'wasm-simd' ? '' : ` (${a.kernel})`}`,
            ratio(a.ratioNewOverOld),
            `${fm(j.new.median)} / ${fm(j.new.p95)}`,
            ratio(j.ratioNewOverOld),
            `${a.agree}/${a.probes} + ${j.agree}/${j.probes}`,
            `${a.found}/${CFG.probes / 2} / ${r.acceptedByOld - a.found}/${CFG.probes / 2}`,
            `${fm(a.buildMs)} ms`,
            `${fm(a.addMs)} / ${fm(a.removeMs)}`,
            `${(a.bytes / 2 ** 20).toFixed(1)} MiB`,
            r.loadavg1.join(' → '),
          ];
        }),
        ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    if (E.kernels) {
      L.push('');
      L.push(`Kernels, ${E.kernels.n.toLocaleString('en')} rows × ${E.kernels.dim}, the bare dot-product loop (no per-user best, no ranking), median / p95 ms of ${CFG.reps}, interleaved:`);
      L.push('');
      L.push(mdTable(['variant', 'ms'], Object.entries(E.kernels.variants).map(([name, s]) => [name, `${fm(s.median)} / ${fm(s.p95)}`]), ['', 'r']));
    }
  }
  L.push('');
  L.push(
    'Both kernels give decideIdentify\'s decision bit for bit: the fast scan only picks candidates (every user within twice its error bound of the 5th best), whose scores are then computed with cosine()\'s own arithmetic ' +
      '(tests/unit/gallery.test.ts checks it on ~18,000 random probes). The fast score is the dot product times 1/|row| and 1/|probe| (stored per row / computed per probe).',
  );
  return L.join('\n');
}

async function main() {
  const started = Date.now();
  const outDir = resolve(ROOT, args.out);
  const R = { command: `node bench/runners/gallery-1n.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`, config: CFG, envs: {} };
  let browser = null;
  const tmp = mkdtempSync(join(os.tmpdir(), 'face-login-gallery-1n-'));
  try {
    if (envs.includes('node')) {
      const file = join(tmp, 'bench.mjs');
      writeFileSync(file, await bundle('esm'));
      const mod = await import(pathToFileURL(file).href);
      log('— Node');
      R.envs.node = await runEnv('node', (fn, o) => mod[fn](o));
    }
    if (envs.includes('chromium')) {
      browser = await launchChromium({ args: ['--js-flags=--max-old-space-size=8192'] });
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('about:blank');
      await page.addScriptTag({ content: await bundle('iife') });
      log('— Chromium');
      R.envs.chromium = await runEnv('chromium', async (fn, o) => {
        const r = await page.evaluate(([f, x]) => globalThis.galleryBench[f](x), [fn, o]);
        if (errors.length) throw new Error(`page error: ${errors.join('; ')}`);
        return r;
      });
    }
    R.machine = machineInfo({ browser, dirtyPaths: ['src', 'bench'] });
  } finally {
    await browser?.close().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
  R.seconds = (Date.now() - started) / 1000;
  const md = markdown(R);
  const base = Q ? 'gallery-1n-quick' : 'gallery-1n';
  writeResultFile(join(outDir, `${base}.json`), JSON.stringify(roundDeep(R, 4), null, 1) + '\n');
  writeResultFile(join(outDir, `${base}.md`), md + '\n');
  console.log('\n' + md + '\n');
  log(`wrote ${relative(ROOT, join(outDir, base))}.{json,md} in ${fmtDur(R.seconds)}`);
  const bad = Object.values(R.envs).flatMap((E) => E.sizes.flatMap((r) => Object.values(r.kernels).filter((k) => k.agree !== k.probes)));
  if (bad.length) {
    log(`FAILED: the packed gallery's decision differed from decideIdentify's (${bad.length} cells)`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
