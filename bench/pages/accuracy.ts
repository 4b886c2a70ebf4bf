/**
 * Accuracy benchmark page for the product's pipeline, driven by bench/runners/accuracy.mjs through
 * Playwright: MediaPipeDetector (IMAGE mode) -> face nearest the frame centre -> VariantAligner
 * (the product's CanvasAligner, one per alignment variant: template scale, keypoint weights,
 * mirrored crop; or the product's MeshAligner, five points from the face mesh) ->
 * MobileFaceNetEmbedder.embed (batches of 8; a second embedder with flip: true for the product's
 * flip TTA when asked) -> L2-normalised embeddings.
 *
 * Photos come from /__faces/<set>/<path>, a Playwright route reading the dataset folder on disk.
 * Embeddings go back to the driver (base64 float32), which keeps them in a cache under the OS temp
 * folder only (never in the repo).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { ARCFACE_TEMPLATE_4 } from '../../src/core/align.js';
import { MobileFaceNetEmbedder } from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import { MeshAligner } from '../../src/adapters/aligner/mesh-aligner.js';
import { mirrorImageData } from '../../src/adapters/aligner/canvas-aligner.js';
import { selectBackend, type BackendChoice } from '../../src/adapters/embedder/tf-backend.js';
import { fetchManifest } from '../../src/adapters/models/model-files.js';
import type { Detection, Frame, FrameSource } from '../../src/core/types.js';
import { frameCanvas, loadImage, nearestCentre, toBase64, wasmSimdOf, type FrameMode } from './speed-common.js';
import { VariantAligner } from './variant-aligner.js';

/** One alignment / embedding variant. */
export interface VariantSpec {
  id: string;
  scale: number;
  /** Keypoint weights (right eye, left eye, nose, mouth); absent = all 1. */
  weights?: [number, number, number, number];
  /** Target points (right eye, left eye, nose, mouth) as [x0, y0, ... x3, y3]; absent = ARCFACE_TEMPLATE_4. */
  template?: number[];
  /** Embed the mirrored crop (VariantAligner mirror: true). */
  mirror?: boolean;
  /** The product's flip TTA (MobileFaceNetEmbedder flip: true: raw outputs of crop + mirror added). */
  flip?: boolean;
  /** Five-point alignment from the face mesh (the product's MeshAligner.alignForEmbedding); scale 1 and no weights/template only. */
  mesh?: boolean;
  /** MobileFaceNet's float16 weights (the package's) instead of float32. */
  f16?: boolean;
}

export interface AccInit {
  backend: 'wasm' | 'webgl';
  minScore: number;
  batch: number;
}

export interface AccInfo {
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

/** 'image': the photo itself (downscaled when its longer side > maxSide); 'letterbox': scaled into a black W x H frame, as a camera clip made with ffmpeg scale+pad shows it. */
export type { FrameMode };

export interface AccItem {
  key: string;
  url: string;
}

export interface AccResult {
  key: string;
  status: 'ok' | 'no-face' | 'load-error';
  error?: string;
  width: number;
  height: number;
  frameWidth: number;
  frameHeight: number;
  faces: number;
  faceScore?: number;
  faceWidth?: number;
  /** The chosen face's first four keypoints (right eye, left eye, nose, mouth) in frame pixels. */
  keypoints?: number[];
  detectMs: number;
  /** Align time of the first variant. */
  alignMs?: number;
  /** Per variant id: base64 of the float32 embedding. */
  emb: Record<string, string>;
  /** Per variant id: embed ms per face (batch wall time / batch size). */
  embedMs: Record<string, number>;
}

declare global {
  interface Window {
    acc: {
      ready: boolean;
      init(options: AccInit): Promise<AccInfo>;
      process(o: { items: AccItem[]; variants: VariantSpec[][]; frame: FrameMode }): Promise<AccResult[]>;
      numTensors(): number;
    };
  }
}

let detector: MediaPipeDetector | null = null;
let embedder: MobileFaceNetEmbedder | null = null;
/** Embedders by [flip, f16]. */
const embedders = new Map<string, Promise<MobileFaceNetEmbedder>>();
let meshAligner: Promise<MeshAligner> | null = null;
let settings: AccInit | null = null;
let manifestP: ReturnType<typeof fetchManifest> | null = null;
let backendName: BackendChoice['backend'] | null = null;
const aligners = new Map<string, VariantAligner>();

async function init(options: AccInit): Promise<AccInfo> {
  settings = options;
  manifestP = fetchManifest('/models/');
  const manifest = await manifestP;
  const backend = await selectBackend(options.backend, '/wasm/tfjs/');
  backendName = backend.backend;
  let t = performance.now();
  detector = await MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: options.minScore });
  const detectorCreateMs = performance.now() - t;
  t = performance.now();
  embedder = await MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: backend.backend, flip: false, weights: 'float32' });
  const embedderCreateMs = performance.now() - t;
  const wasmSimd = await wasmSimdOf(tf);
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

function alignerFor(v: VariantSpec): VariantAligner {
  const key = JSON.stringify([v.scale, v.weights ?? null, v.template ?? null, !!v.mirror]);
  let a = aligners.get(key);
  if (!a) {
    const t = v.template;
    a = new VariantAligner({
      templateScale: v.scale,
      mirror: !!v.mirror,
      // Always explicit, so that a variant id means the same crop whatever the product's defaults become.
      keypointWeights: v.weights ?? [1, 1, 1, 1],
      template: t ? [0, 1, 2, 3].map((i) => ({ x: t[2 * i]!, y: t[2 * i + 1]! })) : ARCFACE_TEMPLATE_4,
    });
    aligners.set(key, a);
  }
  return a;
}

async function embedderFor(v: VariantSpec): Promise<MobileFaceNetEmbedder> {
  if (!v.flip && !v.f16) return embedder!;
  const key = `${!!v.flip}/${!!v.f16}`;
  let e = embedders.get(key);
  if (!e) {
    e = manifestP!.then((manifest) => MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: backendName!, flip: !!v.flip, weights: v.f16 ? 'float16' : 'float32' }));
    embedders.set(key, e);
  }
  return e;
}

/** The variant's crop: the product's MeshAligner for mesh variants, else the VariantAligner. */
async function cropFor(v: VariantSpec, frame: Frame, face: Detection): Promise<ImageData> {
  if (!v.mesh) return alignerFor(v).align(frame, face);
  if (v.scale !== 1 || v.weights || v.template) throw new Error(`variant ${v.id}: mesh alignment takes no scale, weights or template`);
  meshAligner ??= manifestP!.then((manifest) => MeshAligner.create({ modelsUrl: '/models/', manifest }));
  const crop = (await meshAligner).alignForEmbedding(frame, face);
  return v.mirror ? mirrorImageData(crop) : crop;
}

function toFrame(img: HTMLImageElement, mode: FrameMode): Frame {
  const c = frameCanvas(img, mode);
  const [width, height] = c instanceof HTMLImageElement ? [c.naturalWidth, c.naturalHeight] : [c.width, c.height];
  return { source: c as FrameSource, width, height, timestamp: performance.now() };
}

async function processItems(o: { items: AccItem[]; variants: VariantSpec[][]; frame: FrameMode }): Promise<AccResult[]> {
  if (!detector || !embedder || !settings) throw new Error('acc.init() first');
  const { batch } = settings;
  const loads = o.items.map((it) => loadImage(it.url).then((img) => ({ img }), (e: unknown) => ({ error: String((e as Error)?.message ?? e) })));
  const results: AccResult[] = [];
  const pending = new Map<string, { spec: VariantSpec; group: { result: AccResult; crop: ImageData }[] }>();
  const flush = async (id: string) => {
    const p = pending.get(id);
    if (!p || p.group.length === 0) return;
    const group = p.group;
    p.group = [];
    const emb = await embedderFor(p.spec);
    const t = performance.now();
    const vecs = await emb.embed(group.map((g) => g.crop));
    const per = (performance.now() - t) / group.length;
    group.forEach((g, i) => {
      g.result.emb[id] = toBase64(vecs[i]!);
      g.result.embedMs[id] = per;
    });
  };
  for (let i = 0; i < o.items.length; i++) {
    const item = o.items[i]!;
    const loaded = await loads[i]!;
    const base = { key: item.key, emb: {}, embedMs: {}, faces: 0, detectMs: 0 };
    if ('error' in loaded) {
      results.push({ ...base, status: 'load-error', error: loaded.error, width: 0, height: 0, frameWidth: 0, frameHeight: 0 });
      continue;
    }
    const { img } = loaded;
    const frame = toFrame(img, o.frame);
    let t = performance.now();
    const faces = detector.detect(frame);
    const detectMs = performance.now() - t;
    const result: AccResult = { ...base, status: 'ok', width: img.naturalWidth, height: img.naturalHeight, frameWidth: frame.width, frameHeight: frame.height, faces: faces.length, detectMs };
    results.push(result);
    if (faces.length === 0) {
      result.status = 'no-face';
      continue;
    }
    const face = nearestCentre(faces, frame.width, frame.height);
    result.faceScore = face.score;
    result.faceWidth = face.box.width;
    result.keypoints = face.keypoints.slice(0, 4).flatMap((k) => [Number(k.x.toFixed(2)), Number(k.y.toFixed(2))]);
    for (const spec of o.variants[i] ?? []) {
      t = performance.now();
      const crop = await cropFor(spec, frame, face);
      if (result.alignMs === undefined) result.alignMs = performance.now() - t;
      let p = pending.get(spec.id);
      if (!p) pending.set(spec.id, (p = { spec, group: [] }));
      p.group.push({ result, crop });
      if (p.group.length >= batch) await flush(spec.id);
    }
  }
  for (const id of pending.keys()) await flush(id);
  return results;
}

window.acc = { ready: true, init, process: processItems, numTensors: () => tf.memory().numTensors };
document.querySelector('#status')!.textContent = 'ready';
