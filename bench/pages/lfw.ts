/**
 * LFW benchmark page, driven by bench/lfw.mjs through Playwright. It runs exactly the
 * product's adapters: MediaPipeDetector (IMAGE mode) -> face nearest the image centre ->
 * CanvasAligner (ArcFace 112x112 template) -> MobileFaceNetEmbedder (batches of 8) -> cosine.
 *
 * Photos are requested from /__faces/<Name>/<Name>_NNNN.jpg, which only exists as a Playwright
 * route reading the dataset from disk: nothing here imports or copies a photo. Embeddings stay in
 * this page (scores are computed here with the product's `cosine`); only scores leave it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { CanvasAligner } from '../../src/adapters/aligner/canvas-aligner.js';
import { MobileFaceNetEmbedder } from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import { selectBackend, type BackendChoice } from '../../src/adapters/embedder/tf-backend.js';
import { fetchManifest } from '../../src/adapters/models/model-files.js';
import { cosine } from '../../src/core/match.js';
import type { Detection, Frame, FrameSource } from '../../src/core/types.js';

export interface BenchInit {
  backend: 'wasm' | 'webgl';
  flip: boolean;
  /** CanvasAligner templateScale. */
  scale: number;
  /** Detector minimum score (0.5 for stills). */
  minScore: number;
  /** Images whose longer side exceeds this are downscaled before detection (and alignment). */
  maxSide: number;
  batch: number;
}

export interface BenchInfo {
  backend: BackendChoice;
  tfBackend: string;
  wasmSimd: boolean | null;
  modelId: string;
  detectorId: string;
  usageLoggersDisabled: number;
  userAgent: string;
  hardwareConcurrency: number;
  detectorCreateMs: number;
  embedderCreateMs: number;
}

export interface ImageResult {
  path: string;
  width: number;
  height: number;
  /** 'ok', 'no-face' (detector found nothing at minScore) or 'load-error'. */
  status: 'ok' | 'no-face' | 'load-error';
  error?: string;
  faces: number;
  /** Detector score of the chosen face. */
  faceScore?: number;
  /** Chosen face box width in frame pixels. */
  faceWidth?: number;
  downscaled: boolean;
  detectMs: number;
  alignMs?: number;
  /** Embedding time per face: the batch's wall time divided by its size. */
  embedMs?: number;
  batchSize?: number;
}

declare global {
  interface Window {
    bench: {
      ready: boolean;
      init(options: BenchInit): Promise<BenchInfo>;
      process(paths: string[]): Promise<ImageResult[]>;
      score(pairs: [string, string][]): (number | null)[];
      numTensors(): number;
    };
  }
}

let detector: MediaPipeDetector | null = null;
let embedder: MobileFaceNetEmbedder | null = null;
let aligner: CanvasAligner | null = null;
let settings: BenchInit | null = null;
const embeddings = new Map<string, Float32Array>();

async function init(options: BenchInit): Promise<BenchInfo> {
  settings = options;
  const manifest = await fetchManifest('/models/');
  const backend = await selectBackend(options.backend, '/wasm/tfjs/');
  let t = performance.now();
  detector = await MediaPipeDetector.create({
    modelsUrl: '/models/',
    wasmUrl: '/wasm/mediapipe',
    manifest,
    runningMode: 'IMAGE',
    minScore: options.minScore,
  });
  const detectorCreateMs = performance.now() - t;
  t = performance.now();
  embedder = await MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: backend.backend, flip: options.flip });
  const embedderCreateMs = performance.now() - t;
  aligner = new CanvasAligner({ templateScale: options.scale });
  let wasmSimd: boolean | null = null;
  if (tf.getBackend() === 'wasm') {
    try {
      wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    } catch {
      wasmSimd = null;
    }
  }
  return {
    backend,
    tfBackend: tf.getBackend(),
    wasmSimd,
    modelId: embedder.modelId,
    detectorId: detector.id,
    usageLoggersDisabled: detector.usageLoggersDisabled,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    detectorCreateMs,
    embedderCreateMs,
  };
}

function loadImage(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  return img.decode().then(() => img);
}

/** The frame the detector sees: the image itself, or a canvas copy whose longer side is maxSide. */
function toFrame(img: HTMLImageElement, maxSide: number): { frame: Frame; downscaled: boolean } {
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  let source: FrameSource = img;
  let fw = w;
  let fh = h;
  let downscaled = false;
  if (Math.max(w, h) > maxSide) {
    const s = maxSide / Math.max(w, h);
    fw = Math.round(w * s);
    fh = Math.round(h * s);
    const canvas = document.createElement('canvas');
    canvas.width = fw;
    canvas.height = fh;
    const ctx = canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(img, 0, 0, fw, fh);
    source = canvas;
    downscaled = true;
  }
  return { frame: { source, width: fw, height: fh, timestamp: performance.now() }, downscaled };
}

/** Several faces (778 LFW images): the one whose box centre is nearest the image centre. */
function nearestCentre(faces: readonly Detection[], width: number, height: number): Detection {
  let best = faces[0]!;
  let bestD = Infinity;
  for (const f of faces) {
    const d = Math.hypot(f.box.x + f.box.width / 2 - width / 2, f.box.y + f.box.height / 2 - height / 2);
    if (d < bestD) {
      bestD = d;
      best = f;
    }
  }
  return best;
}

async function processImages(paths: string[]): Promise<ImageResult[]> {
  if (!detector || !embedder || !aligner || !settings) throw new Error('bench.init() first');
  const { maxSide, batch } = settings;
  // Fetch + decode the whole chunk concurrently; detection and embedding stay sequential.
  const loads = paths.map((p) => loadImage(`/__faces/${p}`).then((img) => ({ img }), (e: unknown) => ({ error: String((e as Error)?.message ?? e) })));
  const results: ImageResult[] = [];
  let pending: { result: ImageResult; crop: ImageData }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const group = pending;
    pending = [];
    const t = performance.now();
    const vecs = await embedder!.embed(group.map((g) => g.crop));
    const per = (performance.now() - t) / group.length;
    group.forEach((g, i) => {
      embeddings.set(g.result.path, vecs[i]!);
      g.result.embedMs = per;
      g.result.batchSize = group.length;
    });
  };
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const loaded = await loads[i]!;
    if ('error' in loaded) {
      results.push({ path, width: 0, height: 0, status: 'load-error', error: loaded.error, faces: 0, downscaled: false, detectMs: 0 });
      continue;
    }
    const { img } = loaded;
    const { frame, downscaled } = toFrame(img, maxSide);
    let t = performance.now();
    const faces = detector.detect(frame);
    const detectMs = performance.now() - t;
    const result: ImageResult = { path, width: img.naturalWidth, height: img.naturalHeight, status: 'ok', faces: faces.length, downscaled, detectMs };
    results.push(result);
    if (faces.length === 0) {
      result.status = 'no-face';
      continue;
    }
    const face = nearestCentre(faces, frame.width, frame.height);
    result.faceScore = face.score;
    result.faceWidth = face.box.width;
    t = performance.now();
    const crop = aligner.align(frame, face);
    result.alignMs = performance.now() - t;
    pending.push({ result, crop });
    if (pending.length >= batch) await flush();
  }
  await flush();
  return results;
}

function score(pairs: [string, string][]): (number | null)[] {
  return pairs.map(([a, b]) => {
    const ea = embeddings.get(a);
    const eb = embeddings.get(b);
    return ea && eb ? cosine(ea, eb) : null;
  });
}

window.bench = { ready: true, init, process: processImages, score, numTensors: () => tf.memory().numTensors };
document.querySelector('#status')!.textContent = 'ready';
