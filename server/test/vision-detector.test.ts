import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLAZEFACE_FULL_TFJS_ID, BLAZEFACE_TFJS_ID, BlazeFaceTfjsDetector, blazeFaceInput, blazeFaceModelDir, type BlazeFaceRange, type DetectedFace as Detection, type RgbaImage } from '../../src/adapters/detector/blazeface-tfjs.js';
import { loadBlazeFaceDetector, loadCheckedGraphModel, readModelManifest } from '../vision/model-files.js';

/**
 * BlazeFace short range on TF.js WASM in Node (src/adapters/detector/blazeface-tfjs.ts), the
 * groundwork for detecting faces on the server: the model prepared into public/models/blazeface/
 * loads from disk (SHA-256 checked), finds the one face in a committed LFW fixture where the
 * browser's MediaPipe detector finds it, nothing in blank frames, leaks no tensor, and its graph
 * computes what the pinned .tflite computes (the float64 reference interpreter).
 * Full parity with MediaPipe, on the same pixels: tests/browser/detector-parity.spec.ts.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const MODELS = join(ROOT, 'public/models');
const FIXTURES = join(ROOT, 'e2e/fixtures');

/**
 * The browser's MediaPipe detector (the product's adapter in Chromium) on the committed fixtures:
 * box in pixels, keypoints (right eye, left eye, nose tip, mouth centre, right ear, left ear).
 * The page decodes with libjpeg-turbo, this test with jpeg-js (chroma upsampling differs), so the
 * comparison uses the parity spec's tolerances.
 */
const MEDIAPIPE: Record<string, { box: Detection['box']; keypoints: [number, number][] }> = {
  Colin_Powell_0001: { box: { x: 70, y: 94, width: 92, height: 92 }, keypoints: [[105.3, 116.3], [144.7, 115.9], [132.0, 135.3], [129.3, 157.4], [72.6, 129.8], [155.8, 128.1]] },
  Colin_Powell_0002: { box: { x: 69, y: 89, width: 98, height: 98 }, keypoints: [[103.9, 114.5], [144.3, 116.3], [126.8, 139.2], [124.1, 159.7], [75.2, 123.0], [160.1, 126.6]] },
  Colin_Powell_0003: { box: { x: 85, y: 84, width: 108, height: 108 }, keypoints: [[109.4, 111.4], [153.4, 113.8], [123.4, 138.6], [125.4, 161.7], [95.6, 121.4], [188.0, 126.5]] },
  Tony_Blair_0001: { box: { x: 95, y: 86, width: 105, height: 105 }, keypoints: [[110.2, 114.4], [150.9, 112.3], [116.4, 135.4], [123.2, 159.6], [109.7, 128.0], [198.9, 126.3]] },
  Tony_Blair_0002: { box: { x: 76, y: 91, width: 105, height: 105 }, keypoints: [[103.1, 115.3], [149.0, 115.0], [124.5, 136.9], [125.5, 162.8], [81.7, 132.3], [176.5, 131.7]] },
};

function fixture(name: string): RgbaImage {
  return jpeg.decode(readFileSync(join(FIXTURES, `${name}.jpg`)), { useTArray: true, formatAsRGBA: true });
}

function solid(width: number, height: number, value: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4).fill(value) };
}

/** `photo` pasted at (x, y) into a mid-grey 640x480 frame. */
function inFrame(photo: RgbaImage, x: number, y: number): RgbaImage {
  const frame = solid(640, 480, 128);
  const data = frame.data as Uint8Array;
  for (let row = 0; row < photo.height; row++) {
    data.set(photo.data.subarray(row * photo.width * 4, (row + 1) * photo.width * 4), ((y + row) * 640 + x) * 4);
  }
  return frame;
}

function iou(a: Detection['box'], b: Detection['box']): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? (w * h) / (a.width * a.height + b.width * b.height - w * h) : 0;
}

let detector: BlazeFaceTfjsDetector;
let tensorsAtStart = 0;

beforeAll(async () => {
  if (!existsSync(join(MODELS, 'blazeface/model.json'))) throw new Error('public/models/blazeface/ is missing: run "npm run models".');
  setWasmPaths(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
  tensorsAtStart = tf.memory().numTensors;
  detector = await loadBlazeFaceDetector(MODELS);
}, 60_000);

afterAll(() => {
  detector?.dispose();
});

describe('BlazeFace on TF.js WASM in Node', () => {
  it('finds exactly the face the browser\'s MediaPipe detector finds in each committed fixture', () => {
    expect(tf.getBackend()).toBe('wasm');
    for (const [name, ref] of Object.entries(MEDIAPIPE)) {
      const faces = detector.detect(fixture(name));
      expect(faces, name).toHaveLength(1);
      const [face] = faces as [Detection];
      expect(face.score, name).toBeGreaterThanOrEqual(0.6);
      expect(iou(face.box, ref.box), name).toBeGreaterThanOrEqual(0.9);
      const tolerance = Math.max(0.02 * ref.box.width, 2);
      face.keypoints.forEach((k, i) => {
        const [x, y] = ref.keypoints[i]!;
        expect(Math.hypot(k.x - x, k.y - y), `${name} keypoint ${i}`).toBeLessThanOrEqual(tolerance);
      });
    }
  });

  it('finds nothing in blank frames', () => {
    for (const img of [solid(640, 480, 128), solid(640, 480, 0), solid(320, 240, 255)]) {
      expect(detector.detect(img), `${img.width}x${img.height}`).toEqual([]);
    }
  });

  it('maps letterboxed detections back to frame pixels: a face moved by 80 px is found 80 px further', () => {
    // In a 640x480 frame one model input pixel is 5 frame pixels, so an 80-px move shifts the
    // input by exactly one 16-px cell of the model's coarser grid: the detections move with it.
    const photo = fixture('Colin_Powell_0001');
    const at = (x: number, y: number) => detector.detect(inFrame(photo, x, y));
    const [base] = at(100, 100) as [Detection];
    for (const [dx, dy] of [[80, 0], [0, 80], [160, 80]] as const) {
      const faces = at(100 + dx, 100 + dy);
      expect(faces, `moved by ${dx}, ${dy}`).toHaveLength(1);
      const [moved] = faces as [Detection];
      expect(iou(moved.box, { ...base.box, x: base.box.x + dx, y: base.box.y + dy })).toBeGreaterThanOrEqual(0.9);
      moved.keypoints.forEach((k, i) => {
        const b = base.keypoints[i]!;
        expect(Math.hypot(k.x - b.x - dx, k.y - b.y - dy)).toBeLessThanOrEqual(Math.max(0.02 * base.box.width, 2));
      });
    }
  });

  it('leaks no tensor per frame, and none once disposed (dispose is idempotent)', async () => {
    const frame = inFrame(fixture('Tony_Blair_0001'), 100, 100);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) detector.detect(frame);
    expect(tf.memory().numTensors).toBe(before);
    const other = await loadBlazeFaceDetector(MODELS);
    other.detect(frame);
    other.dispose();
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => other.detect(frame)).toThrow(expect.objectContaining({ code: 'disposed' }));
    expect(before - tensorsAtStart).toBeGreaterThan(0); // the open detector holds its weights
  });

  it('refuses model files that do not match the manifest, and a folder without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blazeface-'));
    try {
      mkdirSync(join(dir, 'blazeface'));
      copyFileSync(join(MODELS, 'manifest.json'), join(dir, 'manifest.json'));
      copyFileSync(join(MODELS, 'blazeface/model.json'), join(dir, 'blazeface/model.json'));
      const weights = readFileSync(join(MODELS, 'blazeface/weights.bin'));
      weights.writeUInt8(weights.readUInt8(1000) ^ 1, 1000);
      writeFileSync(join(dir, 'blazeface/weights.bin'), weights);
      await expect(loadBlazeFaceDetector(dir)).rejects.toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/weights\.bin is corrupt/) });
      rmSync(join(dir, 'manifest.json'));
      await expect(loadBlazeFaceDetector(dir)).rejects.toMatchObject({ code: 'model-load-failed' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a 640x480 frame in tens of milliseconds (median of 20, informational)', () => {
    const frame = inFrame(fixture('Colin_Powell_0002'), 200, 120);
    const times: number[] = [];
    for (let i = 0; i < 22; i++) {
      const t = performance.now();
      expect(detector.detect(frame)).toHaveLength(1);
      times.push(performance.now() - t);
    }
    times.splice(0, 2); // warm
    times.sort((a, b) => a - b);
    const median = (times[9]! + times[10]!) / 2;
    console.log(`BlazeFace TF.js WASM (Node, simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}): median ${median.toFixed(1)} ms per 640x480 frame, min ${times[0]!.toFixed(1)}, max ${times[19]!.toFixed(1)}`);
    expect(median).toBeLessThan(1000);
  });
});

/**
 * The converted graph of `range` (public/models/<its folder>/) against the float64 interpreter of the
 * pinned .tflite, on a fixture photo placed in a 640x480 frame: the same shapes, and every output
 * within 1e-5 of the largest reference magnitude (float32 kernels vs float64).
 */
async function expectGraphMatchesReference(range: BlazeFaceRange, tfliteName: string, photo: string): Promise<void> {
  const load = async (path: string) => (await import(pathToFileURL(join(ROOT, path)).href)) as Record<string, (...args: never[]) => unknown>;
  const { pinnedFile } = await load('scripts/lib/pinned-packages.mjs');
  const { runTfliteReferenceOutputs } = await load('scripts/models/tflite-reference.mjs');
  const { loadConverted } = await load('scripts/models/load-converted.mjs');
  const tflite = (pinnedFile as (name: string, file: string) => Uint8Array)('@mediapipe/face_detection', tfliteName);
  const dir = join(MODELS, blazeFaceModelDir(range));
  const conv = {
    modelJson: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')),
    weightData: new Uint8Array(readFileSync(join(dir, 'weights.bin'))),
  };
  const model = await (loadConverted as (c: typeof conv) => Promise<GraphModel>)(conv);
  const input = blazeFaceInput(inFrame(fixture(photo), 150, 60), range);
  const n = Math.round(Math.sqrt(input.length / 3));
  const got = tf.tidy(() => (model.execute(tf.tensor4d(input, [1, n, n, 3]), ['regressors', 'classificators']) as tf.Tensor[]).map((t) => t.dataSync()));
  model.dispose();
  const ref = (runTfliteReferenceOutputs as (b: Uint8Array, x: Float32Array, n: number) => { shape: number[]; data: Float64Array }[])(tflite, input, 1);
  const rows = range === 'short' ? 896 : 2304;
  expect(ref.map((r) => r.shape)).toEqual([[1, rows, 16], [1, rows, 1]]);
  ref.forEach((r, k) => {
    let maxDiff = 0;
    let maxMag = 0;
    r.data.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - got[k]![i]!));
      maxMag = Math.max(maxMag, Math.abs(v));
    });
    console.log(`${range} range ${['regressors', 'classificators'][k]}: max |TF.js - reference| ${maxDiff.toExponential(2)} (|reference| max ${maxMag.toFixed(1)})`);
    expect(maxMag).toBeGreaterThan(1);
    expect(maxDiff / maxMag).toBeLessThan(1e-5);
  });
}

describe('the converted graph in public/models/blazeface/', () => {
  it('computes what the pinned face_detection_short_range.tflite computes (float64 reference), on a real photo', async () => {
    await expectGraphMatchesReference('short', 'face_detection_short_range.tflite', 'Tony_Blair_0002'); // measured ~1e-6
  }, 60_000);
});

describe('BlazeFace full range (range: \'full\', public/models/blazeface-full/)', () => {
  let full: BlazeFaceTfjsDetector;
  beforeAll(async () => {
    if (!existsSync(join(MODELS, 'blazeface-full/model.json'))) throw new Error('public/models/blazeface-full/ is missing: run "npm run models".');
    full = await loadBlazeFaceDetector(MODELS, { range: 'full' });
  }, 60_000);
  afterAll(() => full?.dispose());

  it('has its own id, input size and folder; short range keeps its id', () => {
    expect([full.id, full.range, full.inputSize]).toEqual([BLAZEFACE_FULL_TFJS_ID, 'full', 192]);
    expect([detector.id, detector.range, detector.inputSize]).toEqual([BLAZEFACE_TFJS_ID, 'short', 128]);
    expect([blazeFaceModelDir(), blazeFaceModelDir('short'), blazeFaceModelDir('full')]).toEqual(['blazeface', 'blazeface', 'blazeface-full']);
  });

  it('finds the one face in each committed fixture, its keypoints and box near short range\'s', () => {
    // Measured: eyes, nose and mouth within ~3 % of the box width of short range's, boxes IoU 0.64
    // and up (full range draws the box of a close-up face larger and higher), scores 0.73..0.88.
    for (const name of Object.keys(MEDIAPIPE)) {
      const img = fixture(name);
      const faces = full.detect(img);
      expect(faces, name).toHaveLength(1);
      const [face] = faces as [Detection];
      const [ref] = detector.detect(img) as [Detection];
      expect(face.score, name).toBeGreaterThanOrEqual(0.6);
      expect(iou(face.box, ref.box), name).toBeGreaterThanOrEqual(0.6);
      // the four central keypoints (eyes, nose, mouth); the ears are the least stable
      for (let i = 0; i < 4; i++) {
        const d = Math.hypot(face.keypoints[i]!.x - ref.keypoints[i]!.x, face.keypoints[i]!.y - ref.keypoints[i]!.y);
        expect(d, `${name} keypoint ${i}`).toBeLessThanOrEqual(0.06 * ref.box.width);
      }
    }
  });

  it('finds a ~60-px face in a 640x480 frame that short range misses, and nothing in blank frames', () => {
    // Tony_Blair_0002 (face box ~106 px of the 250-px photo) area-averaged to 138 px: a ~58-px face,
    // ~17 px of full range's 192-px input (~12 px of short range's 128: too small for it).
    const photo = fixture('Tony_Blair_0002');
    const n = 138;
    const k = 250 / n;
    const small = { width: n, height: n, data: new Uint8Array(n * n * 4) };
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const sum: [number, number, number] = [0, 0, 0];
        let count = 0;
        for (let sy = Math.floor(y * k); sy < Math.min(250, Math.ceil((y + 1) * k)); sy++) {
          for (let sx = Math.floor(x * k); sx < Math.min(250, Math.ceil((x + 1) * k)); sx++, count++) for (let c = 0; c < 3; c++) sum[c as 0 | 1 | 2] += photo.data[(sy * 250 + sx) * 4 + c]!;
        }
        small.data.set([...sum.map((v) => Math.round(v / count)), 255], (y * n + x) * 4);
      }
    }
    const frame = inFrame(small, 350, 190);
    const faces = full.detect(frame);
    expect(faces).toHaveLength(1);
    const [face] = faces as [Detection];
    expect(face.score).toBeGreaterThanOrEqual(0.6);
    expect(face.box.width).toBeGreaterThan(45);
    expect(face.box.width).toBeLessThan(75);
    expect(face.box.x).toBeGreaterThanOrEqual(350);
    expect(face.box.y).toBeGreaterThanOrEqual(190);
    expect(face.box.x + face.box.width).toBeLessThanOrEqual(350 + n);
    expect(face.box.y + face.box.height).toBeLessThanOrEqual(190 + n);
    expect(detector.detect(frame)).toEqual([]); // measured: short range finds no face this small (bench/results/detector.md)
    for (const img of [solid(640, 480, 128), solid(640, 480, 0), solid(320, 240, 255)]) expect(full.detect(img)).toEqual([]);
  });

  it('refuses an unknown range (invalid-input) before reading a file, and a graph of the other range (model-load-failed)', async () => {
    const bad = 'medium' as unknown as BlazeFaceRange;
    await expect(loadBlazeFaceDetector(join(tmpdir(), 'no-such-models-dir'), { range: bad })).rejects.toMatchObject({ name: 'FaceLoginError', code: 'invalid-input', message: expect.stringMatching(/'short' or 'full'/) });
    expect(() => blazeFaceModelDir(bad)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(() => blazeFaceInput(solid(4, 4, 0), bad)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    const before = tf.memory().numTensors;
    const manifest = await readModelManifest(MODELS);
    const shortGraph = await loadCheckedGraphModel(MODELS, 'blazeface', manifest);
    await expect(BlazeFaceTfjsDetector.create({ source: { model: shortGraph }, range: bad })).rejects.toMatchObject({ code: 'invalid-input' });
    const shortGraph2 = await loadCheckedGraphModel(MODELS, 'blazeface', manifest);
    await expect(BlazeFaceTfjsDetector.create({ source: { model: shortGraph2 }, range: 'full' })).rejects.toMatchObject({ code: 'model-load-failed' });
    expect(tf.memory().numTensors).toBe(before); // both refused graphs were freed
  });

  it('the converted graph computes what the pinned face_detection_full_range.tflite computes (float64 reference), on a real photo', async () => {
    await expectGraphMatchesReference('full', 'face_detection_full_range.tflite', 'Colin_Powell_0003'); // measured ~7e-7 on LFW photos
  }, 60_000);
});
