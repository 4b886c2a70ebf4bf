/**
 * server/vision on the committed fixtures: JPEG decode -> RgbaAligner -> MobileFaceNet on TF.js
 * WASM in Node. The keypoints are the page's detector's (server/test/fixtures/keypoints.json;
 * tests/browser/embedding-parity.spec.ts checks them and compares the embeddings with the page's).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encode as encodeJpeg } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL_ID, DEFAULT_THRESHOLD } from '../../src/core/calibration.js';
import type { Point } from '../../src/core/align.js';
import { decodeJpeg } from '../vision/jpeg-decoder.js';
import { JpegFaceEmbedder } from '../vision/jpeg-face-embedder.js';
import { MobileFaceNetNodeEmbedder } from '../vision/mobilefacenet-embedder.js';
import { RgbaAligner } from '../vision/rgba-aligner.js';
import { blackImage } from '../vision/rgba-image.js';
import { initTfRuntime } from '../vision/tf-runtime.js';
import { VisionError, type VisionErrorCode } from '../vision/errors.js';

const ROOT = resolve(import.meta.dirname, '../..');
// A plain Uint8Array, not a Buffer: Buffer's slice() shares its bytes.
const photo = (name: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'e2e/fixtures', name)));
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/keypoints.json'), 'utf8')) as {
  frames: Record<string, { width: number; height: number; keypoints: [number, number][] }>;
};
const keypoints = (name: string): Point[] => fixture.frames[name]!.keypoints.map(([x, y]) => ({ x, y }));

function dot(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

/** The VisionError code a call throws (or 'none'); any other error fails the test. */
function codeOf(fn: () => unknown): VisionErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (!(e instanceof VisionError)) throw e;
    return e.code;
  }
}

/** A JPEG of a header only (SOI, SOFn, one SOS, EOI): enough for the header checks. */
function headerOnlyJpeg(sof: number, width: number, height: number, { precision = 8, components = 3 } = {}): Uint8Array {
  const comps = Array.from({ length: components }, (_, i) => [i + 1, i === 0 ? 0x22 : 0x11, i === 0 ? 0 : 1]).flat();
  const frame = [precision, height >> 8, height & 255, width >> 8, width & 255, components, ...comps];
  const scan = [components, ...Array.from({ length: components }, (_, i) => [i + 1, 0]).flat(), 0, 63, 0];
  return new Uint8Array([0xff, 0xd8, 0xff, sof, 0, frame.length + 2, ...frame, 0xff, 0xda, 0, scan.length + 2, ...scan, 0x12, 0x34, 0xff, 0xd9]);
}

function solidJpeg(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return new Uint8Array(encodeJpeg({ width, height, data }, 95).data);
}

function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, payload.length + 2, ...payload, ...jpeg.subarray(2)]);
}

let pipeline: JpegFaceEmbedder;
const embedOne = async (name: string): Promise<Float32Array> => (await pipeline.embed(photo(name), [keypoints(name)]))[0]!;

beforeAll(async () => {
  pipeline = await JpegFaceEmbedder.create();
}, 60_000);
afterAll(() => pipeline?.dispose());

describe('TF.js runtime in Node', () => {
  it('runs the WASM backend with the SIMD binary, one thread, the same bytes the page is served', async () => {
    const info = await initTfRuntime();
    expect(info).toMatchObject({ backend: 'wasm', simd: true, threads: 1 });
    expect(info.wasmFile).toMatch(/tfjs-backend-wasm-simd\.wasm$/);
    expect(tf.getBackend()).toBe('wasm');
    const manifest = JSON.parse(readFileSync(join(ROOT, 'public/models/manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    const served = manifest.files.find((f) => f.path === 'wasm/tfjs/tfjs-backend-wasm-simd.wasm')!;
    expect(createHash('sha256').update(readFileSync(info.wasmFile)).digest('hex')).toBe(served.sha256);
    expect(await initTfRuntime()).toBe(info);
  });
});

describe('TF.js runtime that cannot start', () => {
  it('fails with runtime-unavailable, and the next call tries again', async () => {
    vi.resetModules();
    const setBackend = vi.fn<(name: string) => Promise<boolean>>().mockRejectedValueOnce(new Error('no wasm here')).mockResolvedValue(true);
    vi.doMock('@tensorflow/tfjs-core', () => ({ getBackend: () => 'cpu', setBackend, ready: async () => {}, env: () => ({ getAsync: async () => false }), version_core: '0' }));
    vi.doMock('@tensorflow/tfjs-backend-wasm', () => ({ setWasmPaths: vi.fn(), getThreadsCount: () => 1 }));
    try {
      const { initTfRuntime: freshInit } = await import('../vision/tf-runtime.js');
      await expect(freshInit()).rejects.toMatchObject({ name: 'VisionError', code: 'runtime-unavailable', message: expect.stringMatching(/no wasm here/) });
      await expect(freshInit()).resolves.toMatchObject({ backend: 'wasm', simd: false, wasmFile: expect.stringMatching(/tfjs-backend-wasm\.wasm$/) });
      expect(setBackend.mock.calls).toEqual([['wasm'], ['wasm']]);
    } finally {
      vi.doUnmock('@tensorflow/tfjs-core');
      vi.doUnmock('@tensorflow/tfjs-backend-wasm');
      vi.resetModules();
    }
  });
});

describe('MobileFaceNet in Node on the committed fixtures', () => {
  it('has the model id of float16 weights without flip on 4-point crops, and gives unit vectors', async () => {
    // The detector's four keypoints: the page's pipeline with alignment 'keypoints' (the default adds '+mesh5').
    expect(pipeline.modelId).toBe('mobilefacenet-expo-1.0.24-f16');
    expect(`${pipeline.modelId}+mesh5`).toBe(DEFAULT_MODEL_ID);
    const e = await embedOne('Colin_Powell_0001.jpg');
    expect(e).toHaveLength(192);
    expect(Math.hypot(...e)).toBeCloseTo(1, 5);
  });

  it('scores the same person above DEFAULT_THRESHOLD and different people below', async () => {
    const e = new Map(await Promise.all(Object.keys(fixture.frames).map(async (name) => [name, await embedOne(name)] as const)));
    const score = ([a, b]: readonly [string, string]): number => dot(e.get(a)!, e.get(b)!);
    const powell = (n: number) => `Colin_Powell_000${n}.jpg`;
    const blair = (n: number) => `Tony_Blair_000${n}.jpg`;
    for (const pair of [[powell(1), powell(2)], [powell(1), powell(3)], [blair(1), blair(2)]] as const) expect(score(pair)).toBeGreaterThan(DEFAULT_THRESHOLD);
    for (const pair of [[powell(1), blair(1)], [powell(2), blair(2)], [powell(3), blair(1)]] as const) expect(score(pair)).toBeLessThan(DEFAULT_THRESHOLD);
  });

  it('embeds a batch as it embeds one face at a time', async () => {
    const names = ['Colin_Powell_0001.jpg', 'Tony_Blair_0001.jpg'];
    const aligner = new RgbaAligner();
    const crops = names.map((n) => aligner.align(decodeJpeg(photo(n)), keypoints(n)));
    const embedder = await MobileFaceNetNodeEmbedder.create();
    try {
      const batch = await embedder.embed(crops);
      for (let i = 0; i < names.length; i++) expect(dot(batch[i]!, (await embedder.embed([crops[i]!]))[0]!)).toBeGreaterThan(0.99999);
    } finally {
      embedder.dispose();
    }
  });

  it('leaks no tensors over many calls, failures included; dispose is idempotent and frees the model', async () => {
    const embedder = await MobileFaceNetNodeEmbedder.create({ flip: true });
    const crop = new RgbaAligner().align(decodeJpeg(photo('Tony_Blair_0002.jpg')), keypoints('Tony_Blair_0002.jpg'));
    await embedder.embed([crop]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await embedder.embed([crop, crop]);
    await expect(embedder.embed([blackImage(100, 100)])).rejects.toMatchObject({ code: 'invalid-input' });
    expect(tf.memory().numTensors).toBe(before);
    embedder.dispose();
    embedder.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    await expect(embedder.embed([crop])).rejects.toMatchObject({ name: 'VisionError', code: 'disposed' });
  });

  it('refuses model files that do not match the manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'face-login-models-'));
    try {
      cpSync(join(ROOT, 'public/models/manifest.json'), join(dir, 'manifest.json'));
      cpSync(join(ROOT, 'public/models/mobilefacenet-f16'), join(dir, 'mobilefacenet-f16'), { recursive: true });
      const weights = readFileSync(join(dir, 'mobilefacenet-f16/weights.bin'));
      weights[1000] = weights[1000]! ^ 1;
      writeFileSync(join(dir, 'mobilefacenet-f16/weights.bin'), weights);
      await expect(MobileFaceNetNodeEmbedder.create({ modelsDir: dir })).rejects.toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/weights\.bin is corrupt/) });
      rmSync(join(dir, 'manifest.json'));
      await expect(MobileFaceNetNodeEmbedder.create({ modelsDir: dir })).rejects.toMatchObject({ code: 'model-load-failed' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JPEG input is bounded and every refusal is typed', () => {
  const good = photo('Colin_Powell_0001.jpg');

  it('decodes the fixtures to RGBA at their size', () => {
    const img = decodeJpeg(good);
    expect([img.width, img.height, img.data.length]).toEqual([250, 250, 250 * 250 * 4]);
  });

  it('refuses corrupt input: not a JPEG, truncated, garbage after the header', () => {
    expect(codeOf(() => decodeJpeg(new Uint8Array(0)))).toBe('image-corrupt');
    expect(codeOf(() => decodeJpeg(new TextEncoder().encode('definitely not a jpeg')))).toBe('image-corrupt');
    expect(codeOf(() => decodeJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])))).toBe('image-corrupt');
    expect(codeOf(() => decodeJpeg(good.subarray(0, good.length - 2000)))).toBe('image-corrupt');
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc0, 640, 480)))).toBe('image-corrupt');
  });

  it('refuses a 1x1 image as too small, and oversized ones as too large before decoding them', () => {
    expect(codeOf(() => decodeJpeg(solidJpeg(1, 1, () => [128, 128, 128])))).toBe('image-too-small');
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc0, 20_000, 20_000)))).toBe('image-too-large');
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc2, 4000, 4000)))).toBe('image-too-large');
    expect(codeOf(() => decodeJpeg(good, { maxBytes: 1000 }))).toBe('image-too-large');
    expect(codeOf(() => decodeJpeg(good, { maxSide: 200 }))).toBe('image-too-large');
    expect(codeOf(() => decodeJpeg(good, { maxBytes: -1 }))).toBe('invalid-input');
  });

  it('refuses JPEG kinds it does not decode', () => {
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc3, 640, 480)))).toBe('image-unsupported'); // lossless
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc9, 640, 480)))).toBe('image-unsupported'); // arithmetic
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc1, 640, 480, { precision: 12 })))).toBe('image-unsupported');
    expect(codeOf(() => decodeJpeg(headerOnlyJpeg(0xc0, 640, 480, { components: 4 })))).toBe('image-unsupported'); // CMYK
  });

  it('never throws anything but a VisionError, and returns quickly, on mangled fixtures', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const t0 = Date.now();
    const codes = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const bytes = good.slice(0, i % 3 === 0 ? rand(good.length) : good.length);
      for (let k = 0; k < 1 + rand(8); k++) bytes[rand(bytes.length)] = rand(256);
      codes.add(codeOf(() => decodeJpeg(bytes)));
    }
    expect([...codes].every((c) => ['none', 'image-corrupt', 'image-too-large', 'image-too-small', 'image-unsupported'].includes(c))).toBe(true);
    expect(codes.has('image-corrupt')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('turns EXIF-rotated frames upright, as Chromium draws them', () => {
    // 64x32: red left half, blue right half. Orientation 6 (turn 90 degrees clockwise): 32x64, red on top.
    const jpeg = withExifOrientation(solidJpeg(64, 32, (x) => (x < 32 ? [220, 20, 20] : [20, 20, 220])), 6);
    const img = decodeJpeg(jpeg);
    expect([img.width, img.height]).toEqual([32, 64]);
    const at = (x: number, y: number) => Array.from(img.data.subarray((y * 32 + x) * 4, (y * 32 + x) * 4 + 3));
    expect(at(16, 8)[0]).toBeGreaterThan(180);
    expect(at(16, 56)[2]).toBeGreaterThan(180);
  });

  it('decodes an Adobe-marked YCbCr JPEG as the same picture, without touching the caller\'s bytes', () => {
    const adobe = [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 1]; // "Adobe", version 100, flags, transform 1 (YCbCr)
    const marked = Buffer.from([0xff, 0xd8, 0xff, 0xee, 0, adobe.length + 2, ...adobe, ...good.subarray(2)]);
    const copy = Buffer.from(marked);
    expect(Buffer.from(decodeJpeg(marked).data).equals(Buffer.from(decodeJpeg(good).data))).toBe(true);
    expect(marked.equals(copy)).toBe(true);
  });

  it('the pipeline passes the same typed errors on, and refuses bad keypoints', async () => {
    const kp = keypoints('Colin_Powell_0001.jpg');
    await expect(pipeline.embed(good.subarray(0, 100), [kp])).rejects.toMatchObject({ name: 'VisionError', code: 'image-corrupt' });
    await expect(pipeline.embed(solidJpeg(1, 1, () => [0, 0, 0]), [kp])).rejects.toMatchObject({ code: 'image-too-small' });
    await expect(pipeline.embed(good, [kp.slice(0, 3)])).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(pipeline.embed(good, [kp.map(() => ({ x: 10, y: 10 }))])).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(pipeline.embed(good, [])).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('RgbaAligner', () => {
  it('maps the keypoints onto the template: a flat frame gives a flat crop, the frame outside it stays black', () => {
    const aligner = new RgbaAligner();
    const frame = { width: 200, height: 250, data: new Uint8ClampedArray(200 * 250 * 4).fill(200) };
    const kp = keypoints('Colin_Powell_0001.jpg');
    const crop = aligner.align(frame, kp);
    expect(crop.width).toBe(112);
    expect(new Set(crop.data.filter((_, i) => i % 4 !== 3))).toEqual(new Set([200]));
    // The same face moved right by 60 px: the right part of its crop falls outside the 200 px frame.
    const cut = aligner.align(frame, kp.map((p) => ({ x: p.x + 60, y: p.y })));
    expect(cut.data[(56 * 112 + 2) * 4]).toBe(200);
    expect(cut.data[(56 * 112 + 110) * 4]).toBe(0);
  });
});
