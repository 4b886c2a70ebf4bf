/**
 * Baseline: @vladmandic/face-api 1.7.15 used as its docs do,
 *   detectSingleFace(img, new SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor(),
 * on the same 640x480 frames as the product's pipeline. Its ESM build bundles its own TF.js
 * (4.22.0, like ours), so it runs in a page of its own; the bundle and its models are served from
 * our origin (/__faceapi/ -> node_modules/@vladmandic/face-api), its WASM binary from /wasm/tfjs/
 * (the same tfjs-backend-wasm 4.22.0 files the product ships). Driven by bench/runners/speed.mjs.
 */
import type * as FaceApi from '@vladmandic/face-api';
import { letterbox, loadFaceApi, loadImage, nextTask, timeLoop, type BundledTf } from './speed-common.js';


export interface FaceApiInfo {
  backend: string;
  wasmSimd: boolean | null;
  version: unknown;
  tfVersion: unknown;
  loadMs: number;
  photos: { url: string; found: boolean; score: number | null }[];
}

export interface FaceApiRaw {
  /** Whole documented chain, ms per image. */
  full: number[];
  /** detectSingleFace alone (SSD MobileNet v1). */
  detect: number[];
  /** computeFaceDescriptor on the aligned 150x150 face (ResNet-34-like recognition net). */
  descriptor: number[];
  liveTensors: number;
}

declare global {
  interface Window {
    speedFaceApi: {
      ready: boolean;
      init(o: { backend: 'wasm' | 'webgl'; photos: string[] }): Promise<FaceApiInfo>;
      bench(o: { warmup: number; iters: number; parts: ('full' | 'detect' | 'descriptor')[] }): Promise<FaceApiRaw>;
      visibility(): string;
    };
  }
}

const status = (s: string) => {
  document.querySelector('#status')!.textContent = s;
};

let faceapi: typeof FaceApi | null = null;
let frames: HTMLCanvasElement[] = [];
let alignedFaces: HTMLCanvasElement[] = [];

async function init(o: { backend: 'wasm' | 'webgl'; photos: string[] }): Promise<FaceApiInfo> {
  const { api, tf, wasmSimd, loadMs } = await loadFaceApi(o.backend);
  faceapi = api;
  frames = [];
  alignedFaces = [];
  const photos: FaceApiInfo['photos'] = [];
  for (const u of o.photos) {
    const canvas = letterbox(await loadImage(u));
    const r = await api.detectSingleFace(canvas, new api.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor();
    photos.push({ url: u, found: !!r, score: r?.detection.score ?? null });
    if (r) {
      frames.push(canvas);
      const [face] = await api.extractFaces(canvas, [r.alignedRect]);
      if (face) alignedFaces.push(face);
    }
  }
  status('ready');
  return { backend: tf.getBackend(), wasmSimd, version: api.version, tfVersion: tf.version, loadMs, photos };
}

/** The parts asked for (the driver interleaves 'full' with our pipeline in rounds). */
async function bench(o: { warmup: number; iters: number; parts: ('full' | 'detect' | 'descriptor')[] }): Promise<FaceApiRaw> {
  const api = faceapi;
  if (!api || frames.length === 0) throw new Error('init() first (and at least one face found)');
  const opts = new api.SsdMobilenetv1Options();
  const want = new Set(o.parts);
  let full: number[] = [];
  let detect: number[] = [];
  let descriptor: number[] = [];
  if (want.has('full')) {
    status('full');
    full = await timeLoop(o.warmup, o.iters, (i) => api.detectSingleFace(frames[i % frames.length]!, opts).withFaceLandmarks().withFaceDescriptor());
    await nextTask();
  }
  if (want.has('detect')) {
    status('detect');
    detect = await timeLoop(o.warmup, o.iters, (i) => api.detectSingleFace(frames[i % frames.length]!, opts));
    await nextTask();
  }
  if (want.has('descriptor')) {
    status('descriptor');
    descriptor = await timeLoop(o.warmup, o.iters, (i) => api.computeFaceDescriptor(alignedFaces[i % alignedFaces.length]!));
  }
  status('done');
  return { full, detect, descriptor, liveTensors: (api.tf as unknown as BundledTf).memory().numTensors };
}

window.speedFaceApi = { ready: true, init, bench, visibility: () => document.visibilityState };
status('loaded');
