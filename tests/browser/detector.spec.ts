import { expect, test } from '@playwright/test';

/**
 * The patched BlazeFace short-range model (scripts/prepare-models.mjs) loads in MediaPipe
 * tasks-vision's FaceDetector from locally served files and finds the one face in an LFW
 * photo with plausible keypoints, and nothing in a face-free gradient.
 *
 * The page is a blank same-origin document (fulfilled by the test) carrying the app's
 * CSP connect-src 'self'. tasks-vision's usage logger (POSTs to a Google endpoint every 60 s
 * and on close()) is switched off right after creation; the test fails on any off-origin
 * request and on any CSP violation (a CSP-blocked fetch is not reported as a request).
 */
const BLANK = '/__detector-test.html';
const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:";

interface Kp { x: number; y: number }
interface Det { score: number; box: { x: number; y: number; w: number; h: number }; keypoints: Kp[] }
interface Result { loggersDisabled: number; cspViolations: string[]; width: number; height: number; createMs: number; firstDetectMs: number; detectMs: number; face: Det[]; gradient: Det[] }

test('FaceDetector finds exactly one face with ordered keypoints, and none in a gradient', async ({ page, baseURL }) => {
  const origin = new URL(baseURL ?? 'http://127.0.0.1').origin;
  const offOrigin: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol.startsWith('http') && u.origin !== origin) offOrigin.push(r.url());
  });
  const consoleCsp: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.route(`**${BLANK}`, (route) =>
    route.fulfill({ contentType: 'text/html', headers: { 'Content-Security-Policy': CSP }, body: '<!doctype html><meta charset="utf-8"><title>detector</title>' }),
  );
  await page.goto(BLANK);

  const result: Result = await page.evaluate(async () => {
    // The product's own adapter: fetches the model, checks its SHA-256 against the manifest,
    // creates the tasks-vision detector from our wasm and switches its usage logger off.
    const detectorUrl = '/src/adapters/detector/mediapipe-detector.ts';
    const filesUrl = '/src/adapters/models/model-files.ts';
    const { MediaPipeDetector }: typeof import('../../src/adapters/detector/mediapipe-detector.js') = await import(/* @vite-ignore */ detectorUrl);
    const { fetchManifest }: typeof import('../../src/adapters/models/model-files.js') = await import(/* @vite-ignore */ filesUrl);
    const t0 = performance.now();
    const detector = await MediaPipeDetector.create({
      modelsUrl: '/models/',
      wasmUrl: '/wasm/mediapipe',
      manifest: await fetchManifest('/models/'),
      runningMode: 'IMAGE',
      minScore: 0.5,
    });
    const createMs = performance.now() - t0;
    const loggersDisabled = detector.usageLoggersDisabled;
    const img = new Image();
    img.src = '/e2e/fixtures/Colin_Powell_0001.jpg';
    await img.decode();
    type D = { score: number; box: { x: number; y: number; width: number; height: number }; keypoints: readonly Kp[] };
    const frameOf = (source: HTMLImageElement | HTMLCanvasElement) => ({
      source, width: source.width, height: source.height, timestamp: performance.now(),
    });
    // Keypoints come back in pixels; the assertions below use normalised coordinates.
    const simplify = (r: D[], w: number, h: number): Det[] =>
      r.map((d) => ({
        score: d.score,
        box: { x: d.box.x, y: d.box.y, w: d.box.width, h: d.box.height },
        keypoints: d.keypoints.map((k) => ({ x: k.x / w, y: k.y / h })),
      }));
    let t = performance.now();
    const face = simplify(detector.detect(frameOf(img)), img.width, img.height);
    const firstDetectMs = performance.now() - t;
    const runs = 10;
    t = performance.now();
    for (let i = 0; i < runs; i++) detector.detect(frameOf(img));
    const detectMs = (performance.now() - t) / runs;

    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    const g = ctx.createLinearGradient(0, 0, 320, 240);
    g.addColorStop(0, '#203040');
    g.addColorStop(0.5, '#c08060');
    g.addColorStop(1, '#f0f0d0');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, 320, 240);
    const gradient = simplify(detector.detect(frameOf(canvas)), 320, 240);
    detector.dispose(); // would POST the usage log at once if the logger were still on
    await new Promise((r) => setTimeout(r, 300));
    const cspViolations = (window as unknown as { __csp: string[] }).__csp;
    return { loggersDisabled, cspViolations, width: img.naturalWidth, height: img.naturalHeight, createMs, firstDetectMs, detectMs, face, gradient };
  });

  test.info().annotations.push({
    type: 'timing',
    description: `create ${result.createMs.toFixed(0)} ms, first detect ${result.firstDetectMs.toFixed(1)} ms, detect ${result.detectMs.toFixed(1)} ms (${result.width}x${result.height})`,
  });
  console.log(JSON.stringify({ ...result, face: result.face.map((d) => ({ ...d, keypoints: d.keypoints.map((k) => [+k.x.toFixed(3), +k.y.toFixed(3)]) })) }));

  expect(result.width).toBe(250);
  expect(result.face).toHaveLength(1);
  const [d] = result.face as [Det];
  expect(d.score).toBeGreaterThanOrEqual(0.6);
  // square-ish pixel box around the middle of the 250x250 LFW crop
  const cx = d.box.x + d.box.w / 2;
  const cy = d.box.y + d.box.h / 2;
  expect(Math.abs(cx - 125)).toBeLessThan(30);
  expect(Math.abs(cy - 125)).toBeLessThan(40);
  expect(d.box.w).toBeGreaterThan(60);
  expect(d.box.w).toBeLessThan(200);
  // keypoints (normalised): right eye, left eye, nose tip, mouth centre, right ear, left ear
  expect(d.keypoints).toHaveLength(6);
  const [rEye, lEye, nose, mouth, rEar, lEar] = d.keypoints as [Kp, Kp, Kp, Kp, Kp, Kp];
  for (const k of d.keypoints) {
    expect(k.x).toBeGreaterThan(0);
    expect(k.x).toBeLessThan(1);
    expect(k.y).toBeGreaterThan(0);
    expect(k.y).toBeLessThan(1);
  }
  expect(rEye.x).toBeLessThan(lEye.x); // the person's right eye is on the image's left
  expect(nose.x).toBeGreaterThan(rEye.x);
  expect(nose.x).toBeLessThan(lEye.x);
  expect(nose.y).toBeGreaterThan(Math.max(rEye.y, lEye.y));
  expect(mouth.y).toBeGreaterThan(nose.y);
  expect(rEar.x).toBeLessThan(rEye.x);
  expect(lEar.x).toBeGreaterThan(lEye.x);

  expect(result.gradient).toHaveLength(0);
  expect(result.loggersDisabled).toBe(1);
  expect(offOrigin).toEqual([]);
  expect(result.cspViolations).toEqual([]);
  expect(consoleCsp).toEqual([]);
});
