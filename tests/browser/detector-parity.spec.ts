import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BlazeFaceTfjsDetector, type DetectedFace } from '../../src/adapters/detector/blazeface-tfjs.js';
import { loadBlazeFaceDetector } from '../../server/vision/model-files.js';
import type { Detection } from '../../src/core/types.js';
import type {} from './harness.js';

/**
 * The TF.js BlazeFace (src/adapters/detector/blazeface-tfjs.ts) gives the browser's MediaPipe
 * detections. Three detectors see the same RGBA pixels (decoded and drawn by the page):
 *  - MediaPipe tasks-vision through the product's adapter (the reference),
 *  - BlazeFaceTfjsDetector in the page (TF.js WASM, model over fetch),
 *  - BlazeFaceTfjsDetector in Node, this test process (TF.js WASM, model from public/models by fs),
 * all at the product's default minimum score (0.6).
 *
 * Frames: the committed fixtures (e2e/fixtures, 11 LFW photos) as they are; letterboxing cases
 * built from them (a face off-centre in 640x480, one in 480x640, two faces in 640x480), and two
 * face-free frames; with the datasets (FACES_DIR, default ../shared/faces, served by a route,
 * never copied): 50 LFW photos (15 with several faces) and the 5 group shots of face-api-js-bbt.
 *
 * Tolerances, per face MediaPipe finds (best first), against the not yet matched TF.js face that
 * overlaps it most:
 *  - the same number of faces; a face missing on one side only counts as a mismatch if its
 *    score is more than BORDERLINE from the minimum score (a 0.599 / 0.601 pair is the same face);
 *  - box IoU >= 0.9 (MediaPipe's pixel boxes are whole pixels: a 1-px shift of a 50-px box is 0.96);
 *  - every keypoint within 2 % of MediaPipe's box width, or 2 px for small faces;
 *  - score within 0.02.
 * The page's TF.js and Node's TF.js run the same code and WASM kernels on the same pixels: they must
 * agree to 1e-3 px. Measured figures are printed and attached as an annotation.
 */
/** The TF.js detector's DOM-free face type is the engine's Detection, both ways (a compile-time check). */
const sameShape: [DetectedFace extends Detection ? true : false, Detection extends DetectedFace ? true : false] = [true, true];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FACES = process.env.FACES_DIR ?? resolve(ROOT, '../shared/faces');
const LFW = join(FACES, 'lfw-deepfunneled');
const MIN_SCORE = 0.6;
const BORDERLINE = 0.02;
const MIN_IOU = 0.9;
const KP_FRACTION = 0.02;
const KP_PIXELS = 2;
const MAX_SCORE_DIFF = 0.02;

/** LFW photos where MediaPipe finds 2-4 faces at 0.6 (a scan of the first photo of 1,500 people). */
const LFW_MULTI = [
  'Abdel_Nasser_Assidi_0001', 'Ahmet_Demir_0001', 'Arminio_Fraga_0001', 'Baburam_Bhattari_0001', 'Beatrice_Dalle_0001',
  'Bertrand_Bonello_0001', 'Cho_Myung-kyun_0001', 'Denis_Fassou-Nguesso_0001', 'Abdel_Aziz_Al-Hakim_0001', 'Andrew_Weissmann_0001',
  'Boris_Becker_0001', 'Cheryl_Hines_0001', 'David_Chase_0001', 'Douglas_Faneuil_0001', 'Elvis_Costello_0001',
];
const FIXTURES = [
  'Colin_Powell_0001', 'Colin_Powell_0002', 'Colin_Powell_0003', 'Tony_Blair_0001', 'Tony_Blair_0002',
  'poses/center', 'poses/center-2', 'poses/left', 'poses/right', 'poses/up', 'poses/down',
].map((f) => `/e2e/fixtures/${f}.jpg`);

/** What the page draws: a photo as it is, or photos placed on a grey canvas, or nothing (a face-free frame). */
type FrameSpec =
  | { name: string; kind: 'photo'; url: string }
  | { name: string; kind: 'compose'; width: number; height: number; items: { url: string; x: number; y: number; size: number }[] }
  | { name: string; kind: 'gradient' | 'grey'; width: number; height: number };

function frameSpecs(): { specs: FrameSpec[]; datasets: boolean } {
  const specs: FrameSpec[] = FIXTURES.map((url) => ({ name: url.replace('/e2e/fixtures/', ''), kind: 'photo', url }));
  const [cp1, , cp3, tb1, tb2] = FIXTURES as [string, string, string, string, string];
  specs.push(
    { name: 'wide: one face off-centre, 640x480', kind: 'compose', width: 640, height: 480, items: [{ url: cp1, x: 40, y: 150, size: 300 }] },
    { name: 'tall: one face low, 480x640', kind: 'compose', width: 480, height: 640, items: [{ url: tb1, x: 180, y: 360, size: 250 }] },
    { name: 'two faces, 640x480', kind: 'compose', width: 640, height: 480, items: [{ url: cp3, x: 40, y: 115, size: 250 }, { url: tb2, x: 350, y: 115, size: 250 }] },
    { name: 'gradient, 320x240', kind: 'gradient', width: 320, height: 240 },
    { name: 'grey, 640x480', kind: 'grey', width: 640, height: 480 },
  );
  const datasets = existsSync(LFW);
  if (datasets) {
    // 35 people spread over the alphabet (their first photo), and the multi-face photos above.
    const people = readdirSync(LFW).filter((d) => !d.includes('.')).sort();
    const spread = people.filter((_, i) => i % 124 === 0).map((p) => `${p}_0001`);
    for (const f of [...spread, ...LFW_MULTI]) {
      const person = f.replace(/_\d{4}$/, '');
      specs.push({ name: `lfw ${f}`, kind: 'photo', url: `/__faces/lfw-deepfunneled/${person}/${f}.jpg` });
    }
    for (let i = 1; i <= 5; i++) specs.push({ name: `bbt${i}`, kind: 'photo', url: `/__faces/face-api-js-bbt/_multi_face/bbt${i}.jpg` });
  }
  return { specs, datasets };
}

interface PageFrame {
  name: string;
  width: number;
  height: number;
  /** The RGBA pixels both page detectors saw, base64. */
  rgba: string;
  mediapipe: Detection[];
  tfjs: Detection[];
}
interface PageRun { frames: PageFrame[]; tensorsAtStart: number; tensorsBefore: number; tensorsAfter: number; tensorsAtEnd: number; mediapipeMs: number; tfjsMs: number }

async function runInPage(page: Page, specs: FrameSpec[], minScore: number): Promise<PageRun> {
  await page.route('**/__faces/**', (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.slice('/__faces/'.length));
    const path = resolve(FACES, rel);
    return path.startsWith(FACES + '/') && existsSync(path) ? route.fulfill({ path }) : route.fulfill({ status: 404 });
  });
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
  return page.evaluate(
    async ({ specs, minScore }) => {
      const { tf, det, bf, be, files } = window.api;
      await be.selectBackend('wasm', '/wasm/tfjs/');
      const manifest = await files.fetchManifest('/models/');
      const tensorsAtStart = tf.memory().numTensors;
      const mediapipe = await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore });
      const tfjs = await bf.BlazeFaceTfjsDetector.create({ source: { modelsUrl: '/models/', manifest }, minScore });
      const load = async (url: string) => {
        const img = new Image();
        img.src = url;
        await img.decode();
        return img;
      };
      const tensorsBefore = tf.memory().numTensors;
      let mediapipeMs = 0;
      let tfjsMs = 0;
      const frames = [];
      for (const s of specs) {
        const canvas = document.createElement('canvas');
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (!ctx) throw new Error('no 2d context');
        if (s.kind === 'photo') {
          const img = await load(s.url);
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          ctx.drawImage(img, 0, 0);
        } else {
          canvas.width = s.width;
          canvas.height = s.height;
          if (s.kind === 'gradient') {
            const g = ctx.createLinearGradient(0, 0, s.width, s.height);
            g.addColorStop(0, '#203040');
            g.addColorStop(0.5, '#c08060');
            g.addColorStop(1, '#f0f0d0');
            ctx.fillStyle = g;
          } else {
            ctx.fillStyle = '#808080';
          }
          ctx.fillRect(0, 0, s.width, s.height);
          if (s.kind === 'compose') for (const it of s.items) ctx.drawImage(await load(it.url), it.x, it.y, it.size, it.size);
        }
        const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let t = performance.now();
        const mp = mediapipe.detect({ source: canvas, width: canvas.width, height: canvas.height, timestamp: performance.now() });
        mediapipeMs += performance.now() - t;
        t = performance.now();
        const ours = tfjs.detect(pixels);
        tfjsMs += performance.now() - t;
        let bin = '';
        for (let i = 0; i < pixels.data.length; i += 8192) bin += String.fromCharCode(...pixels.data.subarray(i, i + 8192));
        frames.push({ name: s.name, width: canvas.width, height: canvas.height, rgba: btoa(bin), mediapipe: mp, tfjs: ours });
      }
      const tensorsAfter = tf.memory().numTensors;
      mediapipe.dispose();
      tfjs.dispose();
      tfjs.dispose(); // idempotent
      const tensorsAtEnd = tf.memory().numTensors;
      return { frames, tensorsAtStart, tensorsBefore, tensorsAfter, tensorsAtEnd, mediapipeMs: mediapipeMs / specs.length, tfjsMs: tfjsMs / specs.length };
    },
    { specs, minScore },
  );
}

function iou(a: Detection['box'], b: Detection['box']): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/** Largest keypoint distance, in pixels. */
function keypointDeviation(a: Detection, b: Detection): number {
  return Math.max(...a.keypoints.map((k, i) => Math.hypot(k.x - b.keypoints[i]!.x, k.y - b.keypoints[i]!.y)));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

interface Comparison { faces: number; ious: number[]; kpFractions: number[]; kpPixels: number[]; scoreDiffs: number[]; borderline: string[]; failures: string[] }

/** Compares `other` with the reference, frame by frame, by the tolerances above. */
function compare(frames: { name: string; reference: Detection[]; other: Detection[] }[], minScore: number): Comparison {
  const c: Comparison = { faces: 0, ious: [], kpFractions: [], kpPixels: [], scoreDiffs: [], borderline: [], failures: [] };
  const isBorderline = (d: Detection) => Math.abs(d.score - minScore) <= BORDERLINE;
  for (const f of frames) {
    const matched = new Set<Detection>();
    for (const ref of f.reference) {
      const free = f.other.filter((d) => !matched.has(d));
      const best = free.reduce<Detection | null>((m, d) => (!m || iou(ref.box, d.box) > iou(ref.box, m.box) ? d : m), null);
      if (!best || iou(ref.box, best.box) === 0) {
        (isBorderline(ref) ? c.borderline : c.failures).push(`${f.name}: face at score ${ref.score.toFixed(3)} missing`);
        continue;
      }
      matched.add(best);
      c.faces++;
      const o = iou(ref.box, best.box);
      const kp = keypointDeviation(ref, best);
      const ds = Math.abs(ref.score - best.score);
      c.ious.push(o);
      c.kpPixels.push(kp);
      c.kpFractions.push(kp / ref.box.width);
      c.scoreDiffs.push(ds);
      if (o < MIN_IOU) c.failures.push(`${f.name}: IoU ${o.toFixed(3)}`);
      if (kp > Math.max(KP_FRACTION * ref.box.width, KP_PIXELS)) c.failures.push(`${f.name}: keypoint off by ${kp.toFixed(1)} px (box ${ref.box.width} px)`);
      if (ds > MAX_SCORE_DIFF) c.failures.push(`${f.name}: score ${ref.score.toFixed(3)} vs ${best.score.toFixed(3)}`);
    }
    for (const d of f.other) {
      if (!matched.has(d)) (isBorderline(d) ? c.borderline : c.failures).push(`${f.name}: extra face at score ${d.score.toFixed(3)}`);
    }
  }
  return c;
}

const summary = (label: string, c: Comparison) =>
  `${label}: ${c.faces} faces; box IoU min ${Math.min(...c.ious).toFixed(3)} median ${median(c.ious).toFixed(3)}; ` +
  `keypoints max ${(100 * Math.max(...c.kpFractions)).toFixed(2)} % (${Math.max(...c.kpPixels).toFixed(2)} px) median ${(100 * median(c.kpFractions)).toFixed(2)} % of the box width; ` +
  `score |diff| max ${Math.max(...c.scoreDiffs).toFixed(4)}; borderline ${c.borderline.length ? c.borderline.join(', ') : 'none'}`;

test('TF.js BlazeFace (page and Node) gives the browser MediaPipe detector\'s faces, boxes and keypoints', async ({ page }) => {
  test.setTimeout(90_000);
  const { specs, datasets } = frameSpecs();
  const run = await runInPage(page, specs, MIN_SCORE);

  // Node: the same detector on the same pixels, TF.js WASM, model files read from public/models.
  setWasmPaths(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  expect(await tf.setBackend('wasm')).toBe(true);
  const node = await loadBlazeFaceDetector(join(ROOT, 'public/models'), { minScore: MIN_SCORE });
  const nodeFaces = run.frames.map((f) => node.detect({ data: new Uint8Array(Buffer.from(f.rgba, 'base64')), width: f.width, height: f.height }));
  node.dispose();

  const vsPage = compare(run.frames.map((f) => ({ name: f.name, reference: f.mediapipe, other: f.tfjs })), MIN_SCORE);
  const vsNode = compare(run.frames.map((f, i) => ({ name: f.name, reference: f.mediapipe, other: nodeFaces[i]! })), MIN_SCORE);
  const mediapipeFaces = run.frames.reduce((n, f) => n + f.mediapipe.length, 0);
  const lines = [
    `${run.frames.length} frames (${datasets ? 'fixtures, compositions, 50 LFW photos, 5 group shots' : 'fixtures and compositions only: no datasets at ' + FACES}), ` +
      `MediaPipe found ${mediapipeFaces} faces at >= ${MIN_SCORE}; per frame MediaPipe ${run.mediapipeMs.toFixed(1)} ms, TF.js page ${run.tfjsMs.toFixed(1)} ms`,
    summary('page TF.js vs MediaPipe', vsPage),
    summary('Node TF.js vs MediaPipe', vsNode),
  ];
  console.log(lines.join('\n'));
  test.info().annotations.push({ type: 'parity', description: lines.join(' | ') });

  expect(vsPage.failures).toEqual([]);
  expect(vsNode.failures).toEqual([]);
  // The face-free frames stay empty everywhere; the compositions find (at least) the faces drawn.
  const byName = new Map(run.frames.map((f, i) => [f.name, { ...f, node: nodeFaces[i]! }]));
  for (const name of ['gradient, 320x240', 'grey, 640x480']) {
    const f = byName.get(name)!;
    expect([f.mediapipe.length, f.tfjs.length, f.node.length], name).toEqual([0, 0, 0]);
  }
  // (Tony_Blair_0001 has a second, smaller face behind him.)
  expect(byName.get('two faces, 640x480')!.node.length).toBeGreaterThanOrEqual(2);
  expect(byName.get('wide: one face off-centre, 640x480')!.node.length).toBeGreaterThanOrEqual(1);
  expect(byName.get('tall: one face low, 480x640')!.node.length).toBeGreaterThanOrEqual(1);
  if (datasets) expect(run.frames.filter((f) => f.mediapipe.length >= 2).length).toBeGreaterThanOrEqual(15);

  // Same code, same kernels, same pixels: page and Node agree (to float noise).
  run.frames.forEach((f, i) => {
    const n = nodeFaces[i]!;
    expect(n.length, f.name).toBe(f.tfjs.length);
    n.forEach((d, k) => {
      expect(d.box, f.name).toEqual(f.tfjs[k]!.box);
      expect(keypointDeviation(d, f.tfjs[k]!), f.name).toBeLessThan(1e-3);
    });
  });
  // No tensor left behind by the detections in the page, none by the model once disposed.
  expect(run.tensorsAfter).toBe(run.tensorsBefore);
  expect(run.tensorsAtEnd).toBe(run.tensorsAtStart);
  expect(sameShape).toEqual([true, true]);
});
