/**
 * Helpers shared by the speed benchmark pages (bench/speed.mjs drives them through Playwright).
 * Photos come from /e2e/fixtures/ (served by Vite) or /__faces/ (a Playwright route reading the
 * LFW folder from disk); nothing is copied.
 */
import type { Detection, Frame } from '../../src/core/types.js';

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
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sample (Box-Muller) from a uniform source. */
export function gauss(u: () => number): number {
  return Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}

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
