/**
 * Accuracy baseline page: @vladmandic/face-api 1.7.15 used the way its docs use it,
 *   faceapi.detectSingleFace(img, new faceapi.SsdMobilenetv1Options()).withFaceLandmarks().withFaceDescriptor()
 * (SSD MobileNet v1 at its default minConfidence 0.5, 68-point landmarks, its 128-d recognition
 * net; compared by euclidean distance in the driver). Its ESM build (with its own bundled TF.js)
 * and its models are served from our origin (/__faceapi/ -> node_modules/@vladmandic/face-api),
 * the TF.js WASM binaries from /wasm/tfjs/. Driven by bench/runners/accuracy.mjs; photos come from the
 * /__faces/ route like the product's page, framed the same way.
 */
import type * as FaceApi from '@vladmandic/face-api';
import { frameCanvas, loadFaceApi, loadImage, toBase64, type BundledTf, type FrameMode } from './speed-common.js';

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
  const { api, tf, wasmSimd, loadMs } = await loadFaceApi(o.backend);
  faceapi = api;
  return { backend: tf.getBackend(), wasmSimd, version: api.version, tfVersion: tf.version, loadMs, minConfidence: new api.SsdMobilenetv1Options().minConfidence };
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
    const input = frameCanvas(loaded.img, o.frame);
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
