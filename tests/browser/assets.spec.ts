import { expect, test, type Page } from '@playwright/test';

/**
 * A missing or wrong asset in real Chromium: model-load-failed whose message names the URL that
 * failed, what was expected, and the fix (face-login/vite, `npx face-login assets`, asset-base).
 * The dev server serves public/ at /models/ and /wasm/; /nowhere/ has nothing (and a route below
 * answers like an SPA fallback where the case needs it). The same messages without a browser:
 * tests/unit/asset-files.test.ts.
 */

import type {} from './harness.js';

const FIX = /face-login\/vite.*npx face-login assets <dir>.*asset-base=/s;

async function boot(page: Page): Promise<void> {
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
}

type Failure = { code: string; message: string } | null;

test('manifest missing or an HTML fallback page, model file missing', async ({ page }) => {
  await boot(page);
  await page.route('**/spa/models/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body>app</body></html>' }));
  const [missing, html] = await page.evaluate(async () => {
    const { files } = window.api;
    const fail = (p: Promise<unknown>) => p.then(() => null, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    return [await fail(files.fetchManifest('/nowhere/models/')), await fail(files.fetchManifest('/spa/models/'))] as Failure[];
  });
  expect(missing).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/\/nowhere\/models\/manifest\.json is missing \(HTTP 404\): expected face-login's models\/manifest\.json/) });
  expect(missing!.message).toMatch(FIX);
  expect(html).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/\/spa\/models\/manifest\.json is missing: the server answered with an HTML page/) });

  const model = await page.evaluate(async () => {
    const { det, files } = window.api;
    const manifest = await files.fetchManifest('/models/');
    return det.MediaPipeDetector.create({ modelsUrl: '/spa/models/', wasmUrl: '/wasm/mediapipe', manifest }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(model).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/\/spa\/models\/face_detection_short_range\.tflite is missing: the server answered with an HTML page.*sha256 [0-9a-f]{12}…/s) });
});

test('the MediaPipe wasm and the TF.js wasm missing: the message names the file', async ({ page }) => {
  await boot(page);
  const mediapipe = await page.evaluate(async () => {
    const { det, files } = window.api;
    const manifest = await files.fetchManifest('/models/');
    return det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/nowhere/wasm/mediapipe', manifest }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(mediapipe).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/MediaPipe wasm could not be loaded: .*\/nowhere\/wasm\/mediapipe\/vision_wasm(_nosimd)?_internal\.(js|wasm) answered HTTP 404/) });
  expect(mediapipe!.message).toMatch(FIX);

  const tfjs = await page.evaluate(async () =>
    window.api.be.selectBackend('wasm', '/nowhere/wasm/tfjs/').then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    ),
  );
  expect(tfjs).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/TF\.js WASM backend \(wasm\) could not be initialised: .*\/nowhere\/wasm\/tfjs\/tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm answered HTTP 404/) });
  expect(tfjs!.message).toMatch(FIX);
});

test('the element: asset-base finds the assets; a wrong one fails with the specific message in the event', async ({ page }) => {
  const events = async () => page.evaluate(() => window.faceLoginEvents.filter((e) => e.type === 'ready' || e.type === 'error'));
  await page.goto('/e2e/pages/element.html?asset-base=/');
  await expect.poll(async () => (await events()).map((e) => e.type), { timeout: 60_000 }).toEqual(['ready']);

  await page.goto('/e2e/pages/element.html?asset-base=/nowhere/&backend=wasm');
  await expect.poll(async () => (await events()).length, { timeout: 60_000 }).toBe(1);
  const [error] = await events();
  expect(error).toMatchObject({ type: 'error', detail: { code: 'model-load-failed', message: expect.stringMatching(/\/nowhere\/wasm\/tfjs\/tfjs-backend-wasm.*\.wasm answered HTTP 404/) } });
  expect((error!.detail as { message: string }).message).toMatch(FIX);
});
