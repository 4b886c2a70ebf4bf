import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test, type Page } from '@playwright/test';

/**
 * The NOT SHIPPED FaceAntiSpoofing adapter (bench/liveness/) in real Chromium on TF.js WASM: the
 * converted graph model against the original TFLite graph (float64 reference interpreter in
 * Node) on a real face crop, scores in 0..1, no tensor leak, clean dispose, and load failures.
 * This is the converter's browser parity test for a float16 model and the plumbing under
 * bench/liveness/run.mjs; face-login ships no passive-liveness model (README, "Liveness").
 * A bench check, not part of `npm test`: `npm run bench:liveness:check`
 * (bench/liveness/playwright.config.ts).
 *
 * The model comes from .cache/models-experimental/ (bench/liveness/prepare-model.mjs; this
 * config's global setup runs it) and is served to the page by a route at EXPERIMENTAL_MODELS_URL.
 *
 * Photos: the committed LFW fixtures (e2e/fixtures/), and the four Silent-Face anti-spoofing
 * samples when /work/shared/faces is present (served by a Playwright route, never copied).
 * These tests check the plumbing, not the model's accuracy: see bench/results/liveness-passive.md
 * for what the model does (and does not) separate.
 */
import type {} from './harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAD_DIR = process.env.PAD_DIR ?? '/work/shared/faces/antispoof-silentface-samples';
const PAD_SAMPLES = ['real/image_T1.jpg', 'real/image_T2.jpg', 'spoof_print/image_F1.jpg', 'spoof_screen/image_F2.jpg'];
const FIXTURES = ['Colin_Powell_0001.jpg', 'Tony_Blair_0001.jpg'];
const INPUT = 256;
const EXPERIMENTAL_DIR = join(ROOT, '.cache/models-experimental');
/** Same as EXPERIMENTAL_MODELS_URL in bench/liveness/face-antispoofing.ts (not imported: that module needs a DOM). */
const EXP_URL = '/__experimental-models/';

type RunReferenceOutputs = (bytes: Uint8Array, input: Float32Array, batch: number) => { shape: number[]; data: Float64Array }[];
type RunOnnxReference = (model: Uint8Array, input: Float32Array, batch: number) => { name: string; shape: number[]; data: Float64Array }[];
const FR_INPUT = 128;
type PinnedFile = (name: string, file: string, options?: { sha256?: string }) => Uint8Array;

/** Serves .cache/models-experimental/ at EXP_URL (it is never under public/, so Vite does not serve it). */
async function routeExperimental(page: Page): Promise<void> {
  const root = EXPERIMENTAL_DIR + sep;
  await page.route(`**${EXP_URL}**`, async (route) => {
    const file = resolve(EXPERIMENTAL_DIR, decodeURIComponent(new URL(route.request().url()).pathname.slice(EXP_URL.length)));
    if (!file.startsWith(root)) return route.fulfill({ status: 403, body: 'forbidden' });
    if (!existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream', body: await readFile(file) });
  });
}

async function boot(page: Page): Promise<void> {
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await routeExperimental(page);
  await page.goto('/bench/liveness/harness.html');
  await page.waitForFunction(() => window.livenessApiReady === true);
}

/** Serves the Silent-Face samples at /__pad/ from disk. */
async function routePad(page: Page): Promise<void> {
  const root = PAD_DIR.endsWith(sep) ? PAD_DIR : PAD_DIR + sep;
  await page.route('**/__pad/**', async (route) => {
    const file = resolve(PAD_DIR, decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/__pad\//, '')));
    if (!file.startsWith(root) || !file.endsWith('.jpg')) return route.fulfill({ status: 403, body: 'forbidden' });
    return route.fulfill({ status: 200, contentType: 'image/jpeg', body: await readFile(file) });
  });
}

/** The pinned FaceAntiSpoofing.tflite, from the tarball in .cache/npm, checked against bench/liveness/model.lock.json. */
async function pinnedTflite(): Promise<Uint8Array> {
  const { source } = JSON.parse(readFileSync(join(ROOT, 'bench/liveness/model.lock.json'), 'utf8'));
  const { pinnedFile } = (await import(pathToFileURL(join(ROOT, 'scripts/lib/pinned-packages.mjs')).href)) as { pinnedFile: PinnedFile };
  return pinnedFile(source.package, source.file, { sha256: source.sha256 });
}

/** The pinned fr_liveness.onnx (faceplugin-face-recognition-js), checked against bench/liveness/model.lock.json. */
async function pinnedFrOnnx(): Promise<Uint8Array> {
  const { frLivenessSource: source } = JSON.parse(readFileSync(join(ROOT, 'bench/liveness/model.lock.json'), 'utf8'));
  const { pinnedFile } = (await import(pathToFileURL(join(ROOT, 'scripts/lib/pinned-packages.mjs')).href)) as { pinnedFile: PinnedFile };
  return pinnedFile(source.package, source.file, { sha256: source.sha256 });
}

test.describe.configure({ mode: 'serial' });

test('the served model equals the TFLite graph on a real face crop, on TF.js WASM', async ({ page }) => {
  test.setTimeout(300_000);
  await boot(page);
  const r = await page.evaluate(async (photo) => {
    const { det, be, files, liveness, tf } = window.livenessApi;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    const detector = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: 0.5 });
    const model = await liveness.FaceAntiSpoofingLiveness.create({ modelsUrl: liveness.EXPERIMENTAL_MODELS_URL, manifest: await files.fetchManifest(liveness.EXPERIMENTAL_MODELS_URL), backend: choice.backend });
    const img = new Image();
    img.src = `/e2e/fixtures/${photo}`;
    await img.decode();
    const frame = { source: img, width: img.naturalWidth, height: img.naturalHeight, timestamp: 0 };
    const faces = detector.detect(frame);
    const crop = model.crop(frame, faces[0]!);
    const a = await model.analyzeCrop(crop);
    const rgb: number[] = [];
    for (let i = 0; i < crop.data.length; i += 4) rgb.push(crop.data[i]!, crop.data[i + 1]!, crop.data[i + 2]!);
    detector.dispose();
    model.dispose();
    return { backend: tf.getBackend(), faces: faces.length, rgb, analysis: a, modelId: model.modelId };
  }, FIXTURES[0]!);
  expect(r.backend).toBe('wasm');
  expect(r.faces).toBe(1);
  expect(r.modelId).toBe('face-antispoofing-expo-1.0.24+box1.00');
  expect(r.rgb).toHaveLength(INPUT * INPUT * 3);
  const range = r.rgb.reduce((m, v) => [Math.min(m[0]!, v), Math.max(m[1]!, v)], [255, 0]);
  expect(range[1]! - range[0]!).toBeGreaterThan(100); // a real image, not a blank crop

  const refModule = pathToFileURL(join(ROOT, 'scripts/models/tflite-reference.mjs')).href;
  const { runTfliteReferenceOutputs } = (await import(refModule)) as { runTfliteReferenceOutputs: RunReferenceOutputs };
  const input = Float32Array.from(r.rgb, (v) => v / 255);
  const t0 = performance.now();
  const [cls, mask] = runTfliteReferenceOutputs(await pinnedTflite(), input, 1);
  const refMs = performance.now() - t0;
  const refLeaf = Array.from(mask!.data).indexOf(1);
  let maxAbs = 0;
  for (let i = 0; i < 8; i++) maxAbs = Math.max(maxAbs, Math.abs(r.analysis.leafScores[i]! - cls!.data[i]!));
  const refSpoof = Math.abs(cls!.data[refLeaf]!);
  test.info().annotations.push({
    type: 'parity',
    description: `leaf ${r.analysis.leaf} (reference ${refLeaf}); spoof score ${r.analysis.spoofScore.toFixed(6)} (reference ${refSpoof.toFixed(6)}); clss_pred max abs diff ${maxAbs.toExponential(2)}; reference ${(refMs / 1000).toFixed(1)} s`,
  });
  expect(r.analysis.leaf).toBe(refLeaf);
  expect(maxAbs).toBeLessThan(1e-3);
  expect(Math.abs(r.analysis.spoofScore - refSpoof)).toBeLessThan(1e-3);
});

test('crop() then score(crops): numbers in 0..1, batch = one by one, no tensor leak over 20 calls, dispose frees the model', async ({ page }) => {
  test.setTimeout(240_000);
  const havePad = existsSync(PAD_DIR);
  if (havePad) await routePad(page);
  await boot(page);
  const urls = [...FIXTURES.map((f) => `/e2e/fixtures/${f}`), ...(havePad ? PAD_SAMPLES.map((f) => `/__pad/${f}`) : [])];
  const r = await page.evaluate(async (urls) => {
    const { det, be, files, liveness, tf } = window.livenessApi;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    const detector = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: 0.5 });
    const baseline = tf.memory().numTensors;
    const model = await liveness.FaceAntiSpoofingLiveness.create({ modelsUrl: liveness.EXPERIMENTAL_MODELS_URL, manifest: await files.fetchManifest(liveness.EXPERIMENTAL_MODELS_URL), backend: choice.backend });
    const loaded = tf.memory().numTensors;
    const scores: { url: string; faces: number; live: number; again: number; spoof: number; leaf: number }[] = [];
    const crops: ImageData[] = [];
    for (const url of urls) {
      const img = new Image();
      img.src = url;
      await img.decode();
      // What a 640x480 camera gives: longer side <= 640 px.
      const s = Math.min(1, 640 / Math.max(img.naturalWidth, img.naturalHeight));
      const c = document.createElement('canvas');
      c.width = Math.round(img.naturalWidth * s);
      c.height = Math.round(img.naturalHeight * s);
      c.getContext('2d')!.drawImage(img, 0, 0, c.width, c.height);
      const frame = { source: c, width: c.width, height: c.height, timestamp: performance.now() };
      const faces = detector.detect(frame);
      const crop = model.crop(frame, faces[0]!);
      crops.push(crop);
      const a = await model.analyzeCrop(crop);
      const [live] = await model.score([crop]);
      scores.push({ url, faces: faces.length, live: live!, again: a.live, spoof: a.spoofScore, leaf: a.leaf });
    }
    // One batch gives what one-by-one gives (the engine scores its kept frames in one batch).
    const batch = await model.score(crops);
    const maxBatchDiff = Math.max(...batch.map((v, i) => Math.abs(v - scores[i]!.live)));
    const empty = await model.score([]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await model.score([crops[i % crops.length]!]);
    const after = tf.memory().numTensors;
    const wrongSize = await model.score([new ImageData(100, 100)]).then(() => 'ok', (e: { code: string }) => e.code);
    model.dispose();
    model.dispose(); // idempotent
    const afterDispose = tf.memory().numTensors;
    const disposedCall = await model.score([crops[0]!]).then(() => 'ok', (e: { code: string }) => e.code);
    detector.dispose();
    return { backend: tf.getBackend(), threshold: model.threshold, baseline, loaded, scores, batchLength: batch.length, maxBatchDiff, empty, before, after, wrongSize, afterDispose, disposedCall };
  }, urls);
  test.info().annotations.push({
    type: 'scores',
    description: r.scores.map((s) => `${s.url.split('/').slice(-2).join('/')}: live ${s.live.toFixed(3)} (spoof ${s.spoof.toFixed(3)}, leaf ${s.leaf})`).join('; '),
  });
  expect(r.backend).toBe('wasm');
  expect(r.threshold).toBeCloseTo(0.8, 10);
  // The model's weights live in the product's TF.js instance (the same tf.memory()).
  expect(r.loaded - r.baseline).toBeGreaterThan(200);
  for (const s of r.scores) {
    expect(s.faces).toBeGreaterThanOrEqual(1);
    expect(s.live).toBeGreaterThanOrEqual(0);
    expect(s.live).toBeLessThanOrEqual(1);
    expect(s.live).toBe(s.again); // deterministic on the same frame
    expect(s.leaf).toBeGreaterThanOrEqual(0);
    expect(s.leaf).toBeLessThan(8);
    expect(Number.isFinite(s.spoof)).toBe(true);
  }
  expect(r.batchLength).toBe(r.scores.length);
  expect(r.maxBatchDiff).toBeLessThan(1e-4);
  expect(r.empty).toEqual([]);
  expect(r.after).toBe(r.before);
  expect(r.wrongSize).toBe('invalid-input');
  expect(r.afterDispose).toBe(r.baseline);
  expect(r.disposedCall).toBe('disposed');
});

test('a corrupt or missing liveness model fails with model-load-failed, naming the file', async ({ page }) => {
  await boot(page);
  // Registered after boot's route, so it answers first: the real weights with one byte flipped.
  await page.route(`**${EXP_URL}face-antispoofing/weights.bin`, async (route) => {
    const body = await readFile(join(EXPERIMENTAL_DIR, 'face-antispoofing/weights.bin'));
    body[4096] = body[4096]! ^ 0xff;
    await route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
  });
  const corrupt = await page.evaluate(async () => {
    const { be, files, liveness } = window.livenessApi;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const url = liveness.EXPERIMENTAL_MODELS_URL;
    const manifest = await files.fetchManifest(url);
    return liveness.FaceAntiSpoofingLiveness.create({ modelsUrl: url, manifest, backend: choice.backend }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(corrupt).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/face-antispoofing\/weights\.bin is corrupt/) });

  const unlisted = await page.evaluate(async () => {
    const { liveness } = window.livenessApi;
    return liveness.FaceAntiSpoofingLiveness.create({ modelsUrl: liveness.EXPERIMENTAL_MODELS_URL, manifest: { files: {} }, backend: 'wasm' }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(unlisted).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/does not list face-antispoofing\/model\.json/) });
});

test('fr-liveness: the served graph equals the ONNX graph (float64 reference) on real face crops and random pixels, on TF.js WASM; no leak; clean dispose', async ({ page }) => {
  test.setTimeout(300_000);
  const havePad = existsSync(PAD_DIR);
  if (havePad) await routePad(page);
  await boot(page);
  const urls = [...FIXTURES.map((f) => `/e2e/fixtures/${f}`), ...(havePad ? PAD_SAMPLES.map((f) => `/__pad/${f}`) : [])];
  // Random pixels (seeded), as RGBA bytes: what the adapter takes, covering the whole 0..255 range.
  let seed = 12345;
  const random = Array.from({ length: FR_INPUT * FR_INPUT * 4 }, (_, i) => {
    seed = (seed * 16807) % 2147483647;
    return i % 4 === 3 ? 255 : seed % 256;
  });
  const r = await page.evaluate(async ({ urls, random }) => {
    const { det, be, files, frLiveness, liveness, tf } = window.livenessApi;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    const detector = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: 0.5 });
    const baseline = tf.memory().numTensors;
    const model = await frLiveness.FrLiveness.create({ modelsUrl: liveness.EXPERIMENTAL_MODELS_URL, manifest: await files.fetchManifest(liveness.EXPERIMENTAL_MODELS_URL), backend: choice.backend });
    const loaded = tf.memory().numTensors;
    const crops: ImageData[] = [];
    const faces: number[] = [];
    for (const url of urls) {
      const img = new Image();
      img.src = url;
      await img.decode();
      const s = Math.min(1, 640 / Math.max(img.naturalWidth, img.naturalHeight));
      const c = document.createElement('canvas');
      c.width = Math.round(img.naturalWidth * s);
      c.height = Math.round(img.naturalHeight * s);
      c.getContext('2d')!.drawImage(img, 0, 0, c.width, c.height);
      const frame = { source: c, width: c.width, height: c.height, timestamp: performance.now() };
      const found = detector.detect(frame);
      faces.push(found.length);
      crops.push(model.crop(frame, found[0]!));
    }
    crops.push(new ImageData(Uint8ClampedArray.from(random), 128, 128));
    const one = [];
    for (const c of crops) one.push((await model.analyzeCrops([c]))[0]!);
    const batch = await model.score(crops);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await model.score([crops[i % crops.length]!]);
    const after = tf.memory().numTensors;
    const wrongSize = await model.score([new ImageData(100, 100)]).then(() => 'ok', (e: { code: string }) => e.code);
    const empty = await model.score([]);
    model.dispose();
    model.dispose(); // idempotent
    const afterDispose = tf.memory().numTensors;
    const disposedCall = await model.score([crops[0]!]).then(() => 'ok', (e: { code: string }) => e.code);
    const disposedCrop = (() => { try { model.crop({ source: document.createElement('canvas'), width: 10, height: 10, timestamp: 0 }, { box: { x: 0, y: 0, width: 5, height: 5 }, keypoints: [], score: 1 } as never); return 'ok'; } catch (e) { return (e as { code: string }).code; } })();
    detector.dispose();
    return {
      backend: tf.getBackend(), modelId: model.modelId, threshold: model.threshold, faces,
      crops: crops.map((c) => Array.from(c.data)), one: one.map((a) => ({ live: a.live, logits: [...a.logits], probabilities: [...a.probabilities] })),
      batch, baseline, loaded, before, after, wrongSize, empty, afterDispose, disposedCall, disposedCrop,
    };
  }, { urls, random });
  expect(r.backend).toBe('wasm');
  expect(r.modelId).toBe('fr-liveness-faceplugin-0.0.1+box2.70+bgr');
  expect(r.threshold).toBe(0.5);
  for (const f of r.faces) expect(f).toBeGreaterThanOrEqual(1);

  const { runOnnxReference } = (await import(pathToFileURL(join(ROOT, 'scripts/models/onnx-reference.mjs')).href)) as { runOnnxReference: RunOnnxReference };
  const onnx = await pinnedFrOnnx();
  const P = FR_INPUT * FR_INPUT;
  let maxLogit = 0;
  let maxProb = 0;
  const notes: string[] = [];
  r.crops.forEach((rgba, k) => {
    // The model's input: NCHW, channels B, G, R, values 0..255 (what FrLiveness feeds the NHWC graph).
    const x = new Float32Array(3 * P);
    for (let i = 0; i < P; i++) {
      x[i] = rgba[4 * i + 2]!;
      x[P + i] = rgba[4 * i + 1]!;
      x[2 * P + i] = rgba[4 * i]!;
    }
    const [ref] = runOnnxReference(onnx, x, 1);
    const logits = Array.from(ref!.data);
    const mx = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - mx));
    const probs = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const got = r.one[k]!;
    const dl = Math.max(...logits.map((v, i) => Math.abs(v - got.logits[i]!)));
    const dp = Math.max(...probs.map((v, i) => Math.abs(v - got.probabilities[i]!)));
    maxLogit = Math.max(maxLogit, dl);
    maxProb = Math.max(maxProb, dp);
    notes.push(`${k < urls.length ? urls[k]!.split('/').slice(-2).join('/') : 'random pixels'}: P(live) ${got.live.toFixed(4)} (reference ${probs[0]!.toFixed(4)})`);
    expect(Math.abs(got.live - probs[0]!)).toBeLessThan(1e-5);
  });
  test.info().annotations.push({ type: 'parity', description: `logits max abs diff ${maxLogit.toExponential(2)}, probabilities max abs diff ${maxProb.toExponential(2)}; ${notes.join('; ')}` });
  expect(maxLogit).toBeLessThan(1e-4);
  expect(maxProb).toBeLessThan(1e-5);
  // One batch gives what one-by-one gives.
  expect(Math.max(...r.batch.map((v, i) => Math.abs(v - r.one[i]!.live)))).toBeLessThan(1e-5);
  expect(r.loaded - r.baseline).toBeGreaterThan(50);
  expect(r.after).toBe(r.before);
  expect(r.wrongSize).toBe('invalid-input');
  expect(r.empty).toEqual([]);
  expect(r.afterDispose).toBe(r.baseline);
  expect(r.disposedCall).toBe('disposed');
  expect(r.disposedCrop).toBe('disposed');
});
