/**
 * Helpers shared by the benchmark pages (bench/runners/speed.mjs and accuracy.mjs, and
 * bench/liveness/run.mjs, drive them through Playwright).
 * Photos come from /e2e/fixtures/ (served by Vite) or /__faces/ (a Playwright route reading the
 * LFW folder from disk); nothing is copied.
 */
import type * as FaceApi from '@vladmandic/face-api';
import type { Detection, Frame } from '../../src/core/types.js';
import { gauss } from '../../scripts/lib/seeded-random.mjs';

export const FRAME_W = 640;
export const FRAME_H = 480;

export function loadImage(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  return img.decode().then(() => img);
}

/** The photo letterboxed into a black 640x480 canvas, as the fake camera clips show it (ffmpeg scale + pad). */
export function letterbox(img: HTMLImageElement, w = FRAME_W, h = FRAME_H): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  const s = Math.min(w / img.naturalWidth, h / img.naturalHeight);
  const dw = Math.round(img.naturalWidth * s);
  const dh = Math.round(img.naturalHeight * s);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, Math.round((w - dw) / 2), Math.round((h - dh) / 2), dw, dh);
  return canvas;
}

export function frameOf(canvas: HTMLCanvasElement, timestamp: number): Frame {
  return { source: canvas, width: canvas.width, height: canvas.height, timestamp };
}

/** Strictly increasing millisecond timestamps for MediaPipe VIDEO mode. */
export function videoClock(): () => number {
  let last = 0;
  return () => (last = Math.max(last + 1, performance.now()));
}

/** The detection with the highest score. */
export function best(faces: readonly Detection[]): Detection | null {
  let b: Detection | null = null;
  for (const f of faces) if (!b || f.score > b.score) b = f;
  return b;
}

/** Deterministic PRNG (mulberry32) so galleries and probes are the same in every run. */
export { rng } from '../../scripts/lib/seeded-random.mjs';

/** Fills `out[off .. off+dim)` with a random unit vector (isotropic: normalised Gaussians). */
export function randomUnit(out: Float32Array, off: number, dim: number, u: () => number): void {
  let ss = 0;
  for (let k = 0; k < dim; k++) {
    const g = gauss(u);
    out[off + k] = g;
    ss += g * g;
  }
  const inv = 1 / Math.sqrt(ss);
  for (let k = 0; k < dim; k++) out[off + k]! *= inv;
}

/** Times `fn` `warmup + iters` times and returns the last `iters` durations in ms. */
export async function timeLoop(warmup: number, iters: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const t = performance.now();
    await fn(i);
    const dt = performance.now() - t;
    if (i >= warmup) out.push(dt);
  }
  return out;
}

export const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

/** How a photo becomes a camera-like frame: as is (downscaled when its longer side > maxSide), or letterboxed. */
export type FrameMode = { kind: 'image'; maxSide: number } | { kind: 'letterbox'; width: number; height: number };

/** The photo framed by `mode`: the image itself when it already fits, else a new canvas. */
export function frameCanvas(img: HTMLImageElement, mode: FrameMode): HTMLImageElement | HTMLCanvasElement {
  if (mode.kind === 'letterbox') return letterbox(img, mode.width, mode.height);
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  if (Math.max(w, h) <= mode.maxSide) return img;
  const s = mode.maxSide / Math.max(w, h);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * s);
  canvas.height = Math.round(h * s);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** Several faces: the one whose box centre is nearest the frame centre. */
export function nearestCentre(faces: readonly Detection[], width: number, height: number): Detection {
  let nearest = faces[0]!;
  let bestD = Infinity;
  for (const f of faces) {
    const d = Math.hypot(f.box.x + f.box.width / 2 - width / 2, f.box.y + f.box.height / 2 - height / 2);
    if (d < bestD) {
      bestD = d;
      nearest = f;
    }
  }
  return nearest;
}

/** A Float32Array as base64 (how pages hand embeddings to the Node driver). */
export function toBase64(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

/** Whether a TF.js instance runs WASM with SIMD; null when it is not on WASM or cannot tell. */
export async function wasmSimdOf(tf: { getBackend(): string; env(): { getAsync(flag: string): Promise<unknown> } }): Promise<boolean | null> {
  if (tf.getBackend() !== 'wasm') return null;
  try {
    return Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  } catch {
    return null;
  }
}

/** The part of face-api's bundled TF.js we use (its typings list only a subset). */
export interface BundledTf {
  setWasmPaths(prefix: string): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  memory(): { numTensors: number };
  env(): { getAsync(flag: string): Promise<unknown> };
  version: Record<string, string>;
}

/**
 * face-api.js as its docs set it up: its ESM build and models served from our origin
 * (/__faceapi/), its bundled TF.js on `backend`, SSD MobileNet v1 + 68 landmarks + recognition net.
 */
export async function loadFaceApi(backend: 'wasm' | 'webgl'): Promise<{ api: typeof FaceApi; tf: BundledTf; wasmSimd: boolean | null; loadMs: number }> {
  const url = '/__faceapi/dist/face-api.esm.js';
  const api = (await import(/* @vite-ignore */ url)) as typeof FaceApi;
  const tf = api.tf as unknown as BundledTf;
  if (backend === 'wasm') tf.setWasmPaths('/wasm/tfjs/');
  if (!(await tf.setBackend(backend))) throw new Error(`face-api: backend ${backend} failed`);
  await tf.ready();
  const wasmSimd = await wasmSimdOf(tf);
  const t = performance.now();
  await api.nets.ssdMobilenetv1.loadFromUri('/__faceapi/model');
  await api.nets.faceLandmark68Net.loadFromUri('/__faceapi/model');
  await api.nets.faceRecognitionNet.loadFromUri('/__faceapi/model');
  return { api, tf, wasmSimd, loadMs: performance.now() - t };
}
