/**
 * Accuracy baseline page: @vladmandic/face-api 1.7.15 used the way its docs use it,
 *   faceapi.detectSingleFace(img, new faceapi.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor()
 * (SSD MobileNet v1 at its default minConfidence 0.5, 68-point landmarks, its 128-d recognition
 * net; compared by euclidean distance in the driver). Its ESM build (with its own bundled TF.js)
 * and its models are served from our origin (/__faceapi/ -> node_modules/@vladmandic/face-api),
 * the TF.js WASM binaries from /wasm/tfjs/. Driven by bench/accuracy.mjs; photos come from the
 * /__faces/ route like the product's page, framed the same way.
 */
import type * as FaceApi from '@vladmandic/face-api';

/** The part of face-api's bundled TF.js we use (its typings list only a subset). */
interface BundledTf {
  setWasmPaths(prefix: string): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  memory(): { numTensors: number };
  env(): { getAsync(flag: string): Promise<unknown> };
  version: Record<string, string>;
}

type FrameMode = { kind: 'image'; maxSide: number } | { kind: 'letterbox'; width: number; height: number };

export interface FaceApiAccInfo {
  backend: string;
  wasmSimd: boolean | null;
  version: unknown;
  tfVersion: unknown;
  loadMs: number;
  minConfidence: number;
}

export interface FaceApiAccResult {
  key: string;
  status: 'ok' | 'no-face' | 'load-error';
  error?: string;
  /** SSD detection score of the face detectSingleFace returned. */
  faceScore?: number;
  faceWidth?: number;
  /** base64 float32 descriptor (128-d). */
  desc?: string;
  /** Whole documented chain, ms. */
  ms: number;
}

declare global {
  interface Window {
    faceApiAcc: {
      ready: boolean;
      init(o: { backend: 'wasm' | 'webgl' }): Promise<FaceApiAccInfo>;
      process(o: { items: { key: string; url: string }[]; frame: FrameMode }): Promise<FaceApiAccResult[]>;
      numTensors(): number;
    };
  }
}

let faceapi: typeof FaceApi | null = null;

async function init(o: { backend: 'wasm' | 'webgl' }): Promise<FaceApiAccInfo> {
  const url = '/__faceapi/dist/face-api.esm.js';
  const api = (await import(/* @vite-ignore */ url)) as typeof FaceApi;
  faceapi = api;
  const tf = api.tf as unknown as BundledTf;
  if (o.backend === 'wasm') tf.setWasmPaths('/wasm/tfjs/');
  if (!(await tf.setBackend(o.backend))) throw new Error(`face-api: backend ${o.backend} failed`);
  await tf.ready();
  let wasmSimd: boolean | null = null;
  if (o.backend === 'wasm') {
    try {
      wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    } catch {
      wasmSimd = null;
    }
  }
  const t = performance.now();
  await api.nets.ssdMobilenetv1.loadFromUri('/__faceapi/model');
  await api.nets.faceLandmark68Net.loadFromUri('/__faceapi/model');
  await api.nets.faceRecognitionNet.loadFromUri('/__faceapi/model');
  const loadMs = performance.now() - t;
  return { backend: tf.getBackend(), wasmSimd, version: api.version, tfVersion: tf.version, loadMs, minConfidence: new api.SsdMobilenetv1Options().minConfidence };
}

function loadImage(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  return img.decode().then(() => img);
}

/** Same framing as bench/pages/accuracy.ts. */
function toInput(img: HTMLImageElement, mode: FrameMode): HTMLImageElement | HTMLCanvasElement {
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  if (mode.kind === 'image' && Math.max(w, h) <= mode.maxSide) return img;
  let fw: number, fh: number, dx = 0, dy = 0, dw: number, dh: number;
  if (mode.kind === 'image') {
    const s = mode.maxSide / Math.max(w, h);
    fw = dw = Math.round(w * s);
    fh = dh = Math.round(h * s);
  } else {
    fw = mode.width;
    fh = mode.height;
    const s = Math.min(fw / w, fh / h);
    dw = Math.round(w * s);
    dh = Math.round(h * s);
    dx = Math.round((fw - dw) / 2);
    dy = Math.round((fh - dh) / 2);
  }
  const canvas = document.createElement('canvas');
  canvas.width = fw;
  canvas.height = fh;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, fw, fh);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, dx, dy, dw, dh);
  return canvas;
}

function toBase64(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

async function processItems(o: { items: { key: string; url: string }[]; frame: FrameMode }): Promise<FaceApiAccResult[]> {
  const api = faceapi;
  if (!api) throw new Error('faceApiAcc.init() first');
  const loads = o.items.map((it) => loadImage(it.url).then((img) => ({ img }), (e: unknown) => ({ error: String((e as Error)?.message ?? e) })));
  const out: FaceApiAccResult[] = [];
  for (let i = 0; i < o.items.length; i++) {
    const { key } = o.items[i]!;
    const loaded = await loads[i]!;
    if ('error' in loaded) {
      out.push({ key, status: 'load-error', error: loaded.error, ms: 0 });
      continue;
    }
    const input = toInput(loaded.img, o.frame);
    const t = performance.now();
    const r = await api.detectSingleFace(input, new api.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor();
    const ms = performance.now() - t;
    if (!r) {
      out.push({ key, status: 'no-face', ms });
      continue;
    }
    out.push({ key, status: 'ok', faceScore: r.detection.score, faceWidth: r.detection.box.width, desc: toBase64(r.descriptor), ms });
  }
  return out;
}

window.faceApiAcc = { ready: true, init, process: processItems, numTensors: () => (faceapi!.tf as unknown as BundledTf).memory().numTensors };
document.querySelector('#status')!.textContent = 'ready';
