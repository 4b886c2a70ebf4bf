import { expect, test, type Page } from '@playwright/test';

/**
 * The product's pipeline on stills in real Chromium: MediaPipe detection -> ArcFace alignment
 * -> MobileFaceNet on TF.js, through the same adapters the element uses. Photos are the
 * committed LFW fixtures (e2e/fixtures/SOURCE.md).
 */

import type {} from './harness.js';

async function boot(page: Page): Promise<void> {
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
}

/** Embeds each fixture photo through detect -> align -> embed; returns embeddings as arrays. */
async function embedPhotos(page: Page, backend: 'wasm' | 'webgl' | 'auto', photos: string[]) {
  return page.evaluate(
    async ({ backend, photos }) => {
      const { det, emb, be, files, align } = window.api;
      const choice = await be.selectBackend(backend, '/wasm/tfjs/');
      const manifest = await files.fetchManifest('/models/');
      const detector = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE' });
      const embedder = await emb.MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: choice.backend });
      const aligner = new align.CanvasAligner();
      const out: { photo: string; faces: number; embedding: number[]; norm: number }[] = [];
      for (const photo of photos) {
        const img = new Image();
        img.src = `/e2e/fixtures/${photo}`;
        await img.decode();
        const frame = { source: img, width: img.naturalWidth, height: img.naturalHeight, timestamp: performance.now() };
        const faces = detector.detect(frame);
        const crop = aligner.align(frame, faces[0]!);
        const [e] = await embedder.embed([crop]);
        out.push({ photo, faces: faces.length, embedding: Array.from(e!), norm: Math.hypot(...e!) });
      }
      detector.dispose();
      embedder.dispose();
      return { choice, out };
    },
    { backend, photos },
  );
}

const PHOTOS = ['Colin_Powell_0001.jpg', 'Colin_Powell_0002.jpg', 'Colin_Powell_0003.jpg', 'Tony_Blair_0001.jpg', 'Tony_Blair_0002.jpg'];

function cos(a: number[], b: number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

test('auto picks WASM on a software GL renderer, and same-person pairs score above the threshold, different people below', async ({ page }) => {
  await boot(page);
  const threshold = await page.evaluate(() => window.api.cal.DEFAULT_THRESHOLD);
  const { choice, out } = await embedPhotos(page, 'auto', PHOTOS);
  // Headless Chromium here renders WebGL with SwiftShader: auto must not pick it.
  expect(choice).toMatchObject({ backend: 'wasm', reason: 'software-gl' });
  for (const o of out) {
    expect(o.faces).toBe(1);
    expect(o.embedding).toHaveLength(192);
    expect(o.norm).toBeCloseTo(1, 5);
    expect(o.embedding.every(Number.isFinite)).toBe(true);
  }
  const e = Object.fromEntries(out.map((o) => [o.photo, o.embedding]));
  const same = [
    cos(e['Colin_Powell_0001.jpg']!, e['Colin_Powell_0002.jpg']!),
    cos(e['Colin_Powell_0001.jpg']!, e['Colin_Powell_0003.jpg']!),
    cos(e['Tony_Blair_0001.jpg']!, e['Tony_Blair_0002.jpg']!),
  ];
  const diff = [
    cos(e['Colin_Powell_0001.jpg']!, e['Tony_Blair_0001.jpg']!),
    cos(e['Colin_Powell_0002.jpg']!, e['Tony_Blair_0002.jpg']!),
    cos(e['Colin_Powell_0003.jpg']!, e['Tony_Blair_0001.jpg']!),
  ];
  test.info().annotations.push({ type: 'scores', description: `same ${same.map((s) => s.toFixed(3))} diff ${diff.map((s) => s.toFixed(3))} threshold ${threshold}` });
  for (const s of same) expect(s).toBeGreaterThanOrEqual(threshold);
  for (const s of diff) expect(s).toBeLessThan(threshold);
});

test('WebGL, when forced, gives the same embeddings as WASM', async ({ context }) => {
  test.setTimeout(180_000);
  // One page per backend: a page chooses its TF.js backend once (tests/browser/backend.spec.ts).
  const photos = ['Colin_Powell_0001.jpg', 'Tony_Blair_0001.jpg'];
  const glPage = await context.newPage();
  await boot(glPage);
  const gl = await embedPhotos(glPage, 'webgl', photos);
  expect(gl.choice).toMatchObject({ backend: 'webgl', reason: 'forced' });
  await glPage.close();
  const wasmPage = await context.newPage();
  await boot(wasmPage);
  const wasm = await embedPhotos(wasmPage, 'wasm', photos);
  expect(wasm.choice).toMatchObject({ backend: 'wasm', reason: 'forced' });
  for (let i = 0; i < photos.length; i++) {
    expect(cos(gl.out[i]!.embedding, wasm.out[i]!.embedding)).toBeGreaterThan(0.9999);
  }
});

test('embedding leaks no tensors over many calls and batches', async ({ page }) => {
  await boot(page);
  const r = await page.evaluate(async () => {
    const { emb, be, files, tf } = window.api;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    const embedder = await emb.MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: choice.backend });
    const crop = new ImageData(112, 112);
    for (let i = 0; i < crop.data.length; i++) crop.data[i] = (i * 37) % 256;
    await embedder.embed([crop]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await embedder.embed([crop, crop, crop]);
    const after = tf.memory().numTensors;
    const wrongSize = await embedder.embed([new ImageData(100, 100)]).then(() => 'ok', (e: { code: string }) => e.code);
    embedder.dispose();
    return { before, after, wrongSize, final: tf.memory().numTensors };
  });
  expect(r.before).toBeGreaterThan(100); // the model's weights live in this TF.js instance
  expect(r.after).toBe(r.before);
  expect(r.wrongSize).toBe('invalid-input');
  expect(r.final).toBe(0);
});

test('a corrupt or missing model file fails with model-load-failed, naming the file', async ({ page }) => {
  await boot(page);
  await page.route('**/models/mobilefacenet-f16/weights.bin', async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[1000] = body[1000]! ^ 0xff; // one flipped byte
    await route.fulfill({ response: res, body });
  });
  const corrupt = await page.evaluate(async () => {
    const { emb, be, files } = window.api;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    return emb.MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: choice.backend }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(corrupt).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/weights\.bin is corrupt/) });

  const missing = await page.evaluate(async () => {
    const { det, files } = window.api;
    const manifest = await files.fetchManifest('/models/');
    return det.MediaPipeDetector.create({ modelsUrl: '/nowhere/', wasmUrl: '/wasm/mediapipe', manifest }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(missing).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/HTTP 404/) });
});
