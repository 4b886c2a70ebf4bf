/**
 * Speed benchmark page (driven by bench/runners/speed.mjs): the product's own adapters, imported from
 * /src, timed stage by stage on 640x480 frames (LFW photos letterboxed as the fake camera shows
 * them), plus the 1:N search comparison (the product's decideIdentify vs a packed gallery).
 *
 * One page load = one TF.js backend (`init`); the search runs in a page of its own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FaceDetector as MpFaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import { DETECTOR_FILE, MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { disableUsageLogging } from '../../src/adapters/detector/mediapipe-telemetry.js';
import { CanvasAligner } from '../../src/adapters/aligner/canvas-aligner.js';
import { MeshAligner } from '../../src/adapters/aligner/mesh-aligner.js';
import { MobileFaceNetEmbedder } from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import { probeWebGl, selectBackend, type BackendChoice } from '../../src/adapters/embedder/tf-backend.js';
import { fetchManifest, fetchModelFile, manifestEntry, type ModelManifest } from '../../src/adapters/models/model-files.js';
import { IdbTemplateStore } from '../../src/adapters/store/idb-template-store.js';
import { toTemplateExport } from '../../src/adapters/store/template-export.js';
import { decideIdentify, type TemplateLike } from '../../src/core/match.js';
import { DEFAULT_THRESHOLD } from '../../src/core/calibration.js';
import type { Detection, Template, UserRecord } from '../../src/core/types.js';
import { best, frameOf, letterbox, loadImage, nextTask, randomUnit, rng, timeLoop, videoClock, wasmSimdOf } from './speed-common.js';

export interface StagesInit {
  backend: 'wasm' | 'webgl';
}

export interface StagesInfo {
  backend: BackendChoice;
  tfBackend: string;
  wasmSimd: boolean | null;
  webglRenderer: string;
  modelId: string;
  detectorId: string;
  usageLoggersDisabled: number;
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** ms: selectBackend, fetchManifest, MediaPipeDetector.create, MobileFaceNetEmbedder.create (incl. its warm-up run). */
  createMs: { backend: number; manifest: number; detector: number; embedder: number };
}

export interface PhotoInfo {
  url: string;
  width: number;
  height: number;
  faces: number;
  score: number | null;
}

export type StageName = 'detect' | 'align' | 'mesh' | 'embed1' | 'embedFlip' | 'embedBatch' | 'match' | 'pipeline' | 'pipelineV010';

export interface StagesOptions {
  warmup: number;
  iters: number;
  /** Fewer iterations for stages that are very slow on a backend (WebGL on SwiftShader). */
  overrides?: Partial<Record<StageName, { warmup: number; iters: number }>>;
  /** Templates for the match stage. */
  matchTemplates: number;
  /** decideIdentify calls per match sample (the timer is coarsened to 0.1 ms without cross-origin isolation). */
  matchRepeat: number;
  batch: number;
}

export interface StagesRaw {
  /** ms per call, one entry per timed iteration. */
  detect: number[];
  align: number[];
  /** ms per call of MeshAligner.alignForEmbedding: mesh crop + face mesh + five-point crop (the product's, on kept frames). */
  mesh: number[];
  /** ms per call, batch 1, no flip, float16 weights (the product's default). */
  embed1: number[];
  /** ms per call, batch 1, flip TTA, float32 weights (0.1.0's default: crop + mirror in one batch of 2). */
  embedFlip: number[];
  /** ms per call of `batch` crops. */
  embedBatch: number[];
  /** ms per decideIdentify call (mean over matchRepeat calls). */
  match: number[];
  /** ms per kept frame: detect + 4-point crop (the gates') + five-point crop + embed (no flip), as the product does. */
  pipeline: number[];
  /** ms per frame, 0.1.0's pipeline: detect + 4-point crop + embed with flip (float32). */
  pipelineV010: number[];
  facesPerFrame: number[];
  liveTensors: number;
}

export interface SearchOptions {
  sizes: number[];
  reps: number;
  dim: number;
  seed: number;
  /** Minimum wall time of one sample (small galleries repeat the search inside a sample). */
  minSampleMs: number;
  /** Skip decideIdentify above this gallery size (memory / time). */
  maxTemplatesProduct: number;
  /** Also time the product's IndexedDB read (IdbTemplateStore.allTemplates, what LocalVerifier.identify does first) up to this size. */
  idbMax: number;
  idbReps: number;
  /** Galleries up to this size go in through the product's importAll (timed); larger ones in one raw transaction. */
  importAllMax: number;
}

export interface SearchSizeResult {
  n: number;
  dim: number;
  product: { ms: number[]; repeat: number; buildMs: number; heapDeltaBytes: number | null; skipped?: string };
  packed: { ms: number[]; repeat: number; buildMs: number; galleryBytes: number };
  packedUnrolled: { ms: number[]; repeat: number };
  /** IdbTemplateStore: the gallery written once (importAll or raw, see idbRead), then allTemplates(modelId) idbReps times (ms). */
  idb: { importMs: number; importVia: 'importAll' | 'raw'; readMs: number[] } | null;
  /** Do the product and the packed search name the same user with the same score (first probes)? */
  agree: boolean | null;
  maxScoreDiff: number | null;
  /** Probes were noisy copies of gallery vectors: was the source user found? */
  packedFoundSource: number;
  heapBytesAfter: number | null;
}

declare global {
  interface Window {
    speed: {
      ready: boolean;
      init(o: StagesInit): Promise<StagesInfo>;
      loadPhotos(urls: string[]): Promise<PhotoInfo[]>;
      stages(o: StagesOptions): Promise<StagesRaw>;
      pipeline(o: { warmup: number; iters: number }): Promise<number[]>;
      visibility(): string;
      mpGpu(o: { warmup: number; iters: number }): Promise<{ ok: boolean; error?: string; createMs?: number; detect?: number[]; faces?: number[] }>;
      search(o: SearchOptions): Promise<SearchSizeResult[]>;
      numTensors(): number;
    };
  }
}

const status = (s: string) => {
  document.querySelector('#status')!.textContent = s;
};

let manifest: ModelManifest | null = null;
let detector: MediaPipeDetector | null = null;
let embedder: MobileFaceNetEmbedder | null = null;
/** 0.1.0's embedder (float32, flip on), sharing nothing with `embedder` (the product's: float16, no flip). */
let flipEmbedder: MobileFaceNetEmbedder | null = null;
let aligner: CanvasAligner | null = null;
let meshAligner: MeshAligner | null = null;
const clock = videoClock();

interface Photo {
  info: PhotoInfo;
  canvas: HTMLCanvasElement;
  face: Detection | null;
  crop: ImageData | null;
}
let photos: Photo[] = [];

async function init(o: StagesInit): Promise<StagesInfo> {
  let t = performance.now();
  const backend = await selectBackend(o.backend, '/wasm/tfjs/');
  const backendMs = performance.now() - t;
  t = performance.now();
  manifest = await fetchManifest('/models/');
  const manifestMs = performance.now() - t;
  t = performance.now();
  // The product's detector exactly as createFaceAuth makes it (VIDEO mode, CPU delegate, minScore 0.6).
  detector = await MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'VIDEO' });
  const detectorMs = performance.now() - t;
  t = performance.now();
  embedder = await MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: backend.backend, weights: 'float16' });
  const embedderMs = performance.now() - t;
  flipEmbedder = await MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: backend.backend, flip: true, weights: 'float32' });
  aligner = new CanvasAligner();
  meshAligner = await MeshAligner.create({ modelsUrl: '/models/', manifest });
  const wasmSimd = await wasmSimdOf(tf);
  status(`ready: ${tf.getBackend()}`);
  return {
    backend,
    tfBackend: tf.getBackend(),
    wasmSimd,
    webglRenderer: probeWebGl().renderer,
    modelId: embedder.modelId,
    detectorId: detector.id,
    usageLoggersDisabled: detector.usageLoggersDisabled,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated,
    createMs: { backend: backendMs, manifest: manifestMs, detector: detectorMs, embedder: embedderMs },
  };
}

async function loadPhotos(urls: string[]): Promise<PhotoInfo[]> {
  if (!detector || !aligner) throw new Error('init() first');
  const imgs = await Promise.all(urls.map((u) => loadImage(u)));
  photos = imgs.map((img, i) => {
    const canvas = letterbox(img);
    const faces = detector!.detect(frameOf(canvas, clock()));
    const face = best(faces);
    const crop = face ? aligner!.align(frameOf(canvas, clock()), face) : null;
    return { info: { url: urls[i]!, width: img.naturalWidth, height: img.naturalHeight, faces: faces.length, score: face?.score ?? null }, canvas, face, crop };
  });
  return photos.map((p) => p.info);
}

function randomTemplates(n: number, dim: number, seed: number): TemplateLike[] {
  const u = rng(seed);
  const out: TemplateLike[] = [];
  for (let i = 0; i < n; i++) {
    const e = new Float32Array(dim);
    randomUnit(e, 0, dim, u);
    out.push({ userId: String(i), embedding: e });
  }
  return out;
}

async function stages(o: StagesOptions): Promise<StagesRaw> {
  if (!detector || !aligner || !embedder || !flipEmbedder) throw new Error('init() first');
  const det = detector;
  const al = aligner;
  const emb = embedder;
  const embF = flipEmbedder;
  const withFace = photos.filter((p) => p.face && p.crop);
  if (withFace.length === 0) throw new Error('no photo with a face');
  const n = photos.length;
  const facesPerFrame: number[] = [];
  const W = (s: StageName) => o.overrides?.[s]?.warmup ?? o.warmup;
  const I = (s: StageName) => o.overrides?.[s]?.iters ?? o.iters;

  status('detect');
  const detect = await timeLoop(W('detect'), I('detect'), (i) => {
    const p = photos[i % n]!;
    const faces = det.detect(frameOf(p.canvas, clock()));
    if (i >= W('detect')) facesPerFrame.push(faces.length);
  });
  await nextTask();

  status('align');
  const align = await timeLoop(W('align'), I('align'), (i) => {
    const p = withFace[i % withFace.length]!;
    al.align(frameOf(p.canvas, clock()), p.face!);
  });
  await nextTask();

  status('mesh');
  const ma = meshAligner!;
  const mesh = await timeLoop(W('mesh'), I('mesh'), (i) => {
    const p = withFace[i % withFace.length]!;
    ma.alignForEmbedding(frameOf(p.canvas, clock()), p.face!);
  });
  await nextTask();

  status('embed batch 1');
  const embed1 = await timeLoop(W('embed1'), I('embed1'), (i) => emb.embed([withFace[i % withFace.length]!.crop!]));

  status('embed batch 1, flip');
  const embedFlip = await timeLoop(W('embedFlip'), I('embedFlip'), (i) => embF.embed([withFace[i % withFace.length]!.crop!]));

  status(`embed batch ${o.batch}`);
  const embedBatch = await timeLoop(W('embedBatch'), I('embedBatch'), (i) => {
    const crops: ImageData[] = [];
    for (let k = 0; k < o.batch; k++) crops.push(withFace[(i * o.batch + k) % withFace.length]!.crop!);
    return emb.embed(crops);
  });

  status('match');
  const templates = randomTemplates(o.matchTemplates, embedder.size, 1234);
  const probes = randomTemplates(16, embedder.size, 99).map((t) => t.embedding);
  let sink = 0;
  const matchTotals = await timeLoop(W('match'), I('match'), (i) => {
    for (let r = 0; r < o.matchRepeat; r++) sink += decideIdentify(probes[(i + r) % probes.length]!, templates, DEFAULT_THRESHOLD).score;
  });
  const match = matchTotals.map((x) => x / o.matchRepeat);
  if (sink === 42) console.log(sink);

  status('pipeline');
  const pipeline = await timeLoop(W('pipeline'), I('pipeline'), async (i) => {
    const p = withFace[i % withFace.length]!;
    const frame = frameOf(p.canvas, clock());
    const face = best(det.detect(frame));
    if (!face) return;
    al.align(frame, face); // the quality gates' crop
    await emb.embed([ma.alignForEmbedding(frame, face)]);
  });
  status('pipeline 0.1.0');
  const pipelineV010 = await timeLoop(W('pipeline'), I('pipeline'), async (i) => {
    const p = withFace[i % withFace.length]!;
    const frame = frameOf(p.canvas, clock());
    const face = best(det.detect(frame));
    if (!face) return;
    await embF.embed([al.align(frame, face)]);
  });
  status('done');
  return { detect, align, mesh, embed1, embedFlip, embedBatch, match, pipeline, pipelineV010, facesPerFrame, liveTensors: tf.memory().numTensors };
}

/** detect + align + embed (batch 1, flip as the product) per frame, end to end (the face-api comparison runs it in rounds). */
async function pipeline(o: { warmup: number; iters: number }): Promise<number[]> {
  if (!detector || !aligner || !embedder || !flipEmbedder) throw new Error('init() first');
  const det = detector;
  const al = aligner;
  const embF = flipEmbedder;
  const withFace = photos.filter((p) => p.face && p.crop);
  return timeLoop(o.warmup, o.iters, async (i) => {
    const p = withFace[i % withFace.length]!;
    const frame = frameOf(p.canvas, clock());
    const face = best(det.detect(frame));
    if (!face) return;
    await embF.embed([al.align(frame, face)]);
  });
}

/** MediaPipe's GPU delegate, for the record (the product uses the CPU delegate). Same model, VIDEO mode. */
async function mpGpu(o: { warmup: number; iters: number }) {
  if (!manifest) throw new Error('init() first');
  let task: MpFaceDetector | null = null;
  try {
    const entry = manifestEntry(manifest, DETECTOR_FILE);
    const bytes = await fetchModelFile(`/models/${DETECTOR_FILE}`, { sha256: entry.sha256 });
    const t = performance.now();
    const fileset = await FilesetResolver.forVisionTasks('/wasm/mediapipe');
    task = await MpFaceDetector.createFromOptions(fileset, {
      baseOptions: { modelAssetBuffer: bytes, delegate: 'GPU' },
      runningMode: 'VIDEO',
      minDetectionConfidence: 0.6,
      minSuppressionThreshold: 0.3,
    });
    const createMs = performance.now() - t;
    if (disableUsageLogging(task) !== 1) throw new Error('could not switch off the tasks-vision usage logger');
    const faces: number[] = [];
    const gpuTask = task;
    const detect = await timeLoop(o.warmup, o.iters, (i) => {
      const p = photos[i % photos.length]!;
      const r = gpuTask.detectForVideo(p.canvas, clock());
      if (i >= o.warmup) faces.push(r.detections.length);
    });
    return { ok: true, createMs, detect, faces };
  } catch (e) {
    return { ok: false, error: String((e as Error)?.message ?? e) };
  } finally {
    task?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 1:N search

interface PackedGallery {
  dim: number;
  n: number;
  vectors: Float32Array;
  /** Template -> user index. */
  userOf: Int32Array;
  userIds: string[];
  /** Scratch: best score per user. */
  best: Float32Array;
}

interface PackedResult {
  userId: string | null;
  score: number;
  candidates: { userId: string; score: number }[];
}

/** Top-k users of the per-user best scores, best first (k small: insertion into a short sorted list). */
function topUsers(g: PackedGallery, k: number): { userId: string; score: number }[] {
  const idx: number[] = [];
  const sc: number[] = [];
  const b = g.best;
  for (let u = 0; u < b.length; u++) {
    const s = b[u]!;
    if (sc.length === k && !(s > sc[k - 1]!)) continue;
    let j = sc.length < k ? sc.length : k - 1;
    while (j > 0 && sc[j - 1]! < s) {
      sc[j] = sc[j - 1]!;
      idx[j] = idx[j - 1]!;
      j--;
    }
    sc[j] = s;
    idx[j] = u;
  }
  return idx.map((u, i) => ({ userId: g.userIds[u]!, score: sc[i]! }));
}

function decide(g: PackedGallery, threshold: number): PackedResult {
  const candidates = topUsers(g, 5);
  const top = candidates[0];
  if (!top || top.score < threshold) return { userId: null, score: top?.score ?? -1, candidates };
  return { userId: top.userId, score: top.score, candidates };
}

/** Packed search, plain loop: one contiguous Float32Array, dot product (unit vectors), best per user. */
function packedSearch(g: PackedGallery, probe: Float32Array, threshold: number): PackedResult {
  const { dim, n, vectors, userOf, best: bestU } = g;
  bestU.fill(-Infinity);
  for (let t = 0, off = 0; t < n; t++, off += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += probe[k]! * vectors[off + k]!;
    const u = userOf[t]!;
    if (s > bestU[u]!) bestU[u] = s;
  }
  return decide(g, threshold);
}

/** Same, with the dot product unrolled by 4 into 4 accumulators (dim must be a multiple of 4). */
function packedSearchUnrolled(g: PackedGallery, probe: Float32Array, threshold: number): PackedResult {
  const { dim, n, vectors, userOf, best: bestU } = g;
  bestU.fill(-Infinity);
  for (let t = 0, off = 0; t < n; t++, off += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < dim; k += 4) {
      s0 += probe[k]! * vectors[off + k]!;
      s1 += probe[k + 1]! * vectors[off + k + 1]!;
      s2 += probe[k + 2]! * vectors[off + k + 2]!;
      s3 += probe[k + 3]! * vectors[off + k + 3]!;
    }
    const s = s0 + s1 + s2 + s3;
    const u = userOf[t]!;
    if (s > bestU[u]!) bestU[u] = s;
  }
  return decide(g, threshold);
}

/** Used JS heap after a full GC when the page has gc() (--js-flags=--expose-gc), else as it is. */
const heap = (): number | null => {
  (globalThis as unknown as { gc?: () => void }).gc?.();
  return (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
};

/** Samples of `fn`: each sample repeats it `repeat` times (so that a sample lasts >= minSampleMs) and reports ms per call. */
async function sampleLoop(reps: number, minSampleMs: number, fn: (i: number) => void): Promise<{ ms: number[]; repeat: number }> {
  let t = performance.now();
  fn(0); // warm-up (JIT) and calibration
  let once = performance.now() - t;
  if (once < minSampleMs) {
    t = performance.now();
    fn(1);
    once = performance.now() - t;
  }
  const repeat = Math.max(1, Math.ceil(minSampleMs / Math.max(once, 0.001)));
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    t = performance.now();
    for (let j = 0; j < repeat; j++) fn(r * repeat + j);
    ms.push((performance.now() - t) / repeat);
    await nextTask();
  }
  return { ms, repeat };
}

/**
 * The product's 1:N path starts with IdbTemplateStore.allTemplates(modelId) (LocalVerifier.identify
 * reads the whole gallery from IndexedDB on every call). The gallery goes into a scratch database
 * once: through the product's importAll up to `importAllMax` templates (that time is reported too),
 * above it in one raw transaction of rows shaped like the store's (the product creates the schema
 * first), since importAll takes ~1 ms per template. Then that read is timed.
 */
async function idbRead(g: PackedGallery, reps: number, importAllMax: number): Promise<{ importMs: number; importVia: 'importAll' | 'raw'; readMs: number[] }> {
  const dbName = `face-login-speed-${g.n}`;
  const modelId = 'speed-bench-model';
  const now = Date.now();
  const users: UserRecord[] = g.userIds.map((userId) => ({ userId, createdAt: now, updatedAt: now }));
  // slice(): structured clone of a subarray would store its whole underlying buffer.
  const embeddingOf = (i: number) => g.vectors.slice(i * g.dim, (i + 1) * g.dim);
  const store = new IdbTemplateStore({ dbName });
  try {
    status(`idb import ${g.n}`);
    let t = performance.now();
    let importVia: 'importAll' | 'raw';
    if (g.n <= importAllMax) {
      const templates: Template[] = g.userIds.map((userId, i) => ({ id: i + 1, userId, modelId, size: g.dim, embedding: embeddingOf(i), pose: 'center', createdAt: now }));
      await store.importAll(toTemplateExport(users, templates));
      importVia = 'importAll';
    } else {
      await store.hasUser('-'); // opens the database: the product's schema and migrations
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(dbName);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const tx = db.transaction(['users', 'templates'], 'readwrite');
      const us = tx.objectStore('users');
      const ts = tx.objectStore('templates');
      for (let i = 0; i < g.n; i++) {
        us.put(users[i]!);
        ts.add({ userId: g.userIds[i]!, modelId, size: g.dim, embedding: embeddingOf(i), pose: 'center', createdAt: now });
      }
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
      db.close();
      importVia = 'raw';
    }
    const importMs = performance.now() - t;
    const readMs: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      status(`idb read ${g.n} (${r + 1}/${reps + 1})`);
      t = performance.now();
      const all = await store.allTemplates(modelId);
      const dt = performance.now() - t;
      if (all.length !== g.n) throw new Error(`allTemplates returned ${all.length} of ${g.n}`);
      if (r > 0) readMs.push(dt); // the first read warms the database up
      await nextTask();
    }
    return { importMs, importVia, readMs };
  } finally {
    store.close();
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((resolve) => {
      const req = indexedDB.deleteDatabase(dbName);
      req.onsuccess = req.onerror = req.onblocked = () => resolve();
    });
  }
}

async function search(o: SearchOptions): Promise<SearchSizeResult[]> {
  const results: SearchSizeResult[] = [];
  for (const n of o.sizes) {
    status(`search ${n}`);
    const dim = o.dim;
    // Packed gallery: random unit vectors; user i owns template i.
    let t = performance.now();
    const u = rng(o.seed + n);
    const vectors = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) randomUnit(vectors, i * dim, dim, u);
    const userOf = new Int32Array(n);
    for (let i = 0; i < n; i++) userOf[i] = i;
    const userIds = Array.from({ length: n }, (_, i) => String(i));
    const g: PackedGallery = { dim, n, vectors, userOf, userIds, best: new Float32Array(n) };
    const packedBuildMs = performance.now() - t;
    // Probes: noisy copies of gallery vectors (cosine ~0.7 to their source), so a user is found.
    const pu = rng(o.seed * 7 + n);
    const probes: Float32Array[] = [];
    const sources: number[] = [];
    for (let p = 0; p < 16; p++) {
      const src = Math.floor(pu() * n);
      const v = new Float32Array(dim);
      randomUnit(v, 0, dim, pu);
      let ss = 0;
      for (let k = 0; k < dim; k++) {
        v[k] = vectors[src * dim + k]! + 0.9 * v[k]!;
        ss += v[k]! * v[k]!;
      }
      for (let k = 0; k < dim; k++) v[k]! /= Math.sqrt(ss);
      probes.push(v);
      sources.push(src);
    }
    await nextTask();
    const packed = await sampleLoop(o.reps, o.minSampleMs, (i) => packedSearch(g, probes[i % probes.length]!, DEFAULT_THRESHOLD));
    const packedUnrolled = await sampleLoop(o.reps, o.minSampleMs, (i) => packedSearchUnrolled(g, probes[i % probes.length]!, DEFAULT_THRESHOLD));
    let packedFoundSource = 0;
    const packedFirst = probes.map((p, i) => {
      const r = packedSearch(g, p, DEFAULT_THRESHOLD);
      if (r.userId === String(sources[i])) packedFoundSource++;
      return r;
    });

    // The product: Template-like objects (one Float32Array per template, as IndexedDB returns them).
    let product: SearchSizeResult['product'];
    let agree: boolean | null = null;
    let maxScoreDiff: number | null = null;
    if (n > o.maxTemplatesProduct) {
      product = { ms: [], repeat: 0, buildMs: 0, heapDeltaBytes: null, skipped: `n > ${o.maxTemplatesProduct}` };
    } else {
      await nextTask();
      const h0 = heap();
      t = performance.now();
      let templates: TemplateLike[] | null = [];
      for (let i = 0; i < n; i++) templates.push({ userId: userIds[i]!, embedding: vectors.slice(i * dim, (i + 1) * dim) });
      const buildMs = performance.now() - t;
      const h1 = heap();
      const tl = templates;
      const s = await sampleLoop(o.reps, o.minSampleMs, (i) => decideIdentify(probes[i % probes.length]!, tl, DEFAULT_THRESHOLD));
      agree = true;
      maxScoreDiff = 0;
      for (let i = 0; i < Math.min(4, probes.length); i++) {
        const a = decideIdentify(probes[i]!, tl, DEFAULT_THRESHOLD);
        const b = packedFirst[i]!;
        const d = Math.abs(a.score - b.score);
        maxScoreDiff = Math.max(maxScoreDiff, d);
        if (a.userId !== b.userId || a.candidates[0]?.userId !== b.candidates[0]?.userId || d > 1e-5) agree = false;
      }
      templates = null;
      product = { ...s, buildMs, heapDeltaBytes: h0 !== null && h1 !== null ? h1 - h0 : null };
    }
    const idb = n <= o.idbMax ? await idbRead(g, o.idbReps, o.importAllMax) : null;
    results.push({
      n,
      dim,
      product,
      packed: { ...packed, buildMs: packedBuildMs, galleryBytes: vectors.byteLength + userOf.byteLength },
      packedUnrolled,
      agree,
      maxScoreDiff,
      packedFoundSource,
      idb,
      heapBytesAfter: heap(),
    });
    await nextTask();
  }
  status('done');
  return results;
}

window.speed = { ready: true, init, loadPhotos, stages, pipeline, visibility: () => document.visibilityState, mpGpu, search, numTensors: () => tf.memory().numTensors };
status('ready');
