import { expect, test } from '@playwright/test';

/**
 * The MediaPipe wasm prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." through
 * console.error at the first detect. The detector adapter drops exactly that line
 * (src/adapters/detector/mediapipe-console.ts): this test creates the real detector, runs it,
 * and checks that the line was emitted and dropped, that console.error is the page's own again
 * after creation, and that other errors (one logged while the detector is being created, one
 * after it ran) still reach the console as errors.
 */
const BLANK = '/__detector-console-test.html';

test('the XNNPACK INFO line is not a console error; every other console.error still is', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.route(`**${BLANK}`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>console</title>' }),
  );
  await page.goto(BLANK);

  const r = await page.evaluate(async () => {
    const detectorUrl = '/src/adapters/detector/mediapipe-detector.ts';
    const filesUrl = '/src/adapters/models/model-files.ts';
    const consoleUrl = '/src/adapters/detector/mediapipe-console.ts';
    const { MediaPipeDetector }: typeof import('../../src/adapters/detector/mediapipe-detector.js') = await import(/* @vite-ignore */ detectorUrl);
    const { fetchManifest }: typeof import('../../src/adapters/models/model-files.js') = await import(/* @vite-ignore */ filesUrl);
    const { droppedMediaPipeLogs }: typeof import('../../src/adapters/detector/mediapipe-console.js') = await import(/* @vite-ignore */ consoleUrl);
    const ownError = console.error;
    const manifest = await fetchManifest('/models/');
    const creating = MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE' });
    // The page logs an error of its own while the filter is installed (the wasm is being set
    // up): it must come through.
    let settled = false;
    void creating.finally(() => (settled = true));
    while (console.error === ownError && !settled) await new Promise((res) => setTimeout(res, 0));
    const whileWrapped = console.error !== ownError;
    console.error('face-login test: an error logged while the detector is created');
    const detector = await creating;
    const restored = console.error === ownError;
    const img = new Image();
    img.src = '/e2e/fixtures/Colin_Powell_0001.jpg';
    await img.decode();
    const faces = detector.detect({ source: img, width: img.width, height: img.height, timestamp: performance.now() }).length;
    console.error('face-login test: an error logged after the detector ran');
    detector.dispose();
    return { whileWrapped, restored, faces, dropped: droppedMediaPipeLogs() };
  });

  expect(r.faces).toBe(1);
  expect(r.whileWrapped, 'the first error was logged while the filter was installed').toBe(true);
  expect(r.restored, 'console.error is the page’s own again once the detector exists').toBe(true);
  expect(r.dropped, 'MediaPipe printed its INFO line (and it was dropped)').toBeGreaterThanOrEqual(1);
  expect(errors.filter((e) => /XNNPACK|TensorFlow Lite/.test(e))).toEqual([]);
  expect(errors).toContain('face-login test: an error logged while the detector is created');
  expect(errors).toContain('face-login test: an error logged after the detector ran');
  expect(pageErrors).toEqual([]);
});
