/**
 * Passive-liveness benchmark page, driven by bench/liveness/run.mjs through Playwright.
 *
 * Runs the product's adapters: MediaPipeDetector (IMAGE mode) -> face nearest the frame centre
 * -> the experimental PAD models asked for (bench/liveness/, NOT SHIPPED; TF.js on the product's TF.js
 * instance; models from .cache/models-experimental/, routed by the driver to /__experimental-models/):
 * FaceAntiSpoofingLiveness ('face-antispoofing') and FrLiveness ('fr-liveness', scored on BGR as
 * the model expects and, for comparison, on RGB as faceplugin's own JS feeds it),
 * plus, for comparison only, Human's antispoof / liveness graph models (served by the driver
 * from the pinned @vladmandic/human tarball; never part of the product).
 *
 * Photos come from Playwright routes that read the datasets from disk (/__faces/ = LFW,
 * /__pad/ = the Silent-Face anti-spoofing samples): nothing here imports or copies a photo.
 * Synthetic attacks are made here, in the page, from LFW photos: a simulated screen replay
 * (RGB sub-pixel mask, re-sampled at an angle so it aliases into moire, emissive tint, bezel,
 * glare, defocus, noise, JPEG) and a simulated print (CMYK halftone, ink spread, paper white and
 * shading, margin, noise, JPEG). They are labelled synthetic everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { selectBackend, type BackendChoice } from '../../src/adapters/embedder/tf-backend.js';
import { fetchManifest } from '../../src/adapters/models/model-files.js';
import { FaceAntiSpoofingLiveness, ANTISPOOF_INPUT, EXPERIMENTAL_MODELS_URL } from './face-antispoofing.js';
import { SquareFaceCropper } from './face-crop.js';
import { FrLiveness, type ChannelOrder } from './fr-liveness.js';
import type { Detection, Frame } from '../../src/core/types.js';
import { loadImage, nearestCentre, rng, wasmSimdOf } from '../pages/speed-common.js';

export type LivenessModelName = 'face-antispoofing' | 'fr-liveness';

export interface LivenessInit {
  backend: 'wasm' | 'webgl';
  /** Which experimental models to run. */
  models: LivenessModelName[];
  /** FaceAntiSpoofing crop scales to score (the first is the product default). */
  scales: number[];
  /** Also run Human's antispoof.json / liveness.json (served at /__human/). */
  human: boolean;
  minScore: number;
  /** Frames whose longer side exceeds this are downscaled first (what a 640x480 camera gives). */
  maxSide: number;
}

export interface LivenessInfo {
  backend: BackendChoice;
  tfBackend: string;
  wasmSimd: boolean | null;
  /** Ids of the models run, in the order of `models`. */
  modelIds: string[];
  detectorId: string;
  createMs: { detector: number; liveness: number; human: number | null };
  userAgent: string;
  hardwareConcurrency: number;
}

export interface LivenessItem {
  id: string;
  url: string;
  label: 'bona-fide' | 'attack';
  /** Presentation attack instrument species ('live' for bona fide). */
  species: 'live' | 'print' | 'screen';
  source: 'silentface' | 'lfw' | 'synthetic';
  /** Transform the photo into a synthetic attack first. */
  synth?: 'screen' | 'print';
  seed?: number;
}

export interface FrScore {
  live: number;
  p: number[];
}

export interface FasScore {
  live: number;
  spoof: number;
  leaf: number;
}

export interface LivenessResult {
  id: string;
  label: LivenessItem['label'];
  species: LivenessItem['species'];
  source: LivenessItem['source'];
  status: 'ok' | 'no-face' | 'load-error';
  error?: string;
  frameWidth: number;
  frameHeight: number;
  faces: number;
  faceScore?: number;
  faceWidth?: number;
  detectMs: number;
  /** FaceAntiSpoofing per crop scale (key: scale with 2 decimals). */
  fas?: Record<string, FasScore>;
  /** ms of the default-scale crop + model + readback. */
  fasMs?: number;
  /** FrLiveness per channel order: P(live) and the 3 softmax probabilities. */
  fr?: Partial<Record<ChannelOrder, FrScore>>;
  /** ms of the BGR crop + model + readback. */
  frMs?: number;
  /** Human antispoof.json output (sigmoid, Human reports it as `real`). */
  humanAntispoof?: number;
  /** Human liveness.json softmax output [p0, p1] (Human reports p0 as `live`). */
  humanLiveness?: [number, number];
  /** Data URL of the default-scale crop (the whole frame when no face was found), when asked for (debugging only; never written to the repo). */
  crop?: string;
}

declare global {
  interface Window {
    liveness: {
      ready: boolean;
      init(options: LivenessInit): Promise<LivenessInfo>;
      process(items: LivenessItem[], debugCrops?: boolean): Promise<LivenessResult[]>;
      timing(o: { url: string; iters: number; leakCalls: number; model: LivenessModelName }): Promise<TimingResult>;
      numTensors(): number;
    };
  }
}

export interface TimingResult {
  /** score([crop(frame, face)]): crop + fromPixels + model + readback, ms per call. */
  score: number[];
  /** score(3 crops): what the engine does per verify / identify (3 kept frames), ms per call. */
  score3: number[];
  /** analyzeCrop(crop) on a ready crop: the model + readback, ms per call. */
  model: number[];
  /** The crop alone (canvas draw + getImageData), ms per call. */
  crop: number[];
  tensorsBefore: number;
  tensorsAfter: number;
  leakCalls: number;
  tensorsAfterDispose: number | null;
}

let detector: MediaPipeDetector | null = null;
let liveness: FaceAntiSpoofingLiveness | null = null;
let fr: Partial<Record<ChannelOrder, FrLiveness>> = {};
let croppers: { key: string; cropper: SquareFaceCropper }[] = [];
let human: { antispoof: GraphModel; liveness: GraphModel; crop128: SquareFaceCropper; crop32: SquareFaceCropper } | null = null;
let settings: LivenessInit | null = null;

const status = (s: string) => {
  document.querySelector('#status')!.textContent = s;
};

async function init(options: LivenessInit): Promise<LivenessInfo> {
  settings = options;
  const manifest = await fetchManifest('/models/');
  const backend = await selectBackend(options.backend, '/wasm/tfjs/');
  let t = performance.now();
  detector = await MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: options.minScore });
  const detectorMs = performance.now() - t;
  t = performance.now();
  const experimental = await fetchManifest(EXPERIMENTAL_MODELS_URL);
  const modelIds: string[] = [];
  if (options.models.includes('face-antispoofing')) {
    liveness = await FaceAntiSpoofingLiveness.create({ modelsUrl: EXPERIMENTAL_MODELS_URL, manifest: experimental, backend: backend.backend, boxScale: options.scales[0] });
    modelIds.push(liveness.modelId);
  }
  if (options.models.includes('fr-liveness')) {
    for (const channels of ['bgr', 'rgb'] as const) fr[channels] = await FrLiveness.create({ modelsUrl: EXPERIMENTAL_MODELS_URL, manifest: experimental, backend: backend.backend, channels });
    modelIds.push(fr.bgr!.modelId, fr.rgb!.modelId);
  }
  const livenessMs = performance.now() - t;
  croppers = options.scales.map((s) => ({ key: s.toFixed(2), cropper: new SquareFaceCropper({ size: ANTISPOOF_INPUT, boxScale: s }) }));
  let humanMs: number | null = null;
  if (options.human) {
    t = performance.now();
    // Human crops the face with its detector box enlarged 1.4x (config.face.detector.scale), scaled to 0..1.
    human = {
      antispoof: await loadGraphModel('/__human/antispoof.json'),
      liveness: await loadGraphModel('/__human/liveness.json'),
      crop128: new SquareFaceCropper({ size: 128, boxScale: 1.4 }),
      crop32: new SquareFaceCropper({ size: 32, boxScale: 1.4 }),
    };
    humanMs = performance.now() - t;
  }
  const wasmSimd = await wasmSimdOf(tf);
  status('ready');
  return {
    backend,
    tfBackend: tf.getBackend(),
    wasmSimd,
    modelIds,
    detectorId: detector.id,
    createMs: { detector: detectorMs, liveness: livenessMs, human: humanMs },
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

function canvas(w: number, h: number): [HTMLCanvasElement, CanvasRenderingContext2D] {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  return [c, ctx];
}

/** The camera frame: the photo (EXIF-rotated by the browser), downscaled so the longer side is <= maxSide. */
function toCanvasFrame(src: CanvasImageSource & { width: number; height: number }, w: number, h: number, maxSide: number): HTMLCanvasElement {
  const s = Math.min(1, maxSide / Math.max(w, h));
  const [c, ctx] = canvas(Math.round(w * s), Math.round(h * s));
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, c.width, c.height);
  return c;
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Camera side of a re-capture: defocus, sensor noise, JPEG. */
async function cameraCapture(c: HTMLCanvasElement, r: () => number, blurPx: number, noise: number): Promise<HTMLCanvasElement> {
  const [out, ctx] = canvas(c.width, c.height);
  ctx.filter = `blur(${blurPx.toFixed(2)}px)`;
  ctx.drawImage(c, 0, 0);
  ctx.filter = 'none';
  const im = ctx.getImageData(0, 0, out.width, out.height);
  const d = im.data;
  for (let i = 0; i < d.length; i += 4) {
    const n = gauss(r) * noise;
    d[i] = d[i]! + n + gauss(r) * noise * 0.5;
    d[i + 1] = d[i + 1]! + n + gauss(r) * noise * 0.5;
    d[i + 2] = d[i + 2]! + n + gauss(r) * noise * 0.5;
  }
  ctx.putImageData(im, 0, 0);
  const blob = await new Promise<Blob>((res, rej) => out.toBlob((b) => (b ? res(b) : rej(new Error('toBlob failed'))), 'image/jpeg', 0.9));
  const bmp = await createImageBitmap(blob);
  const [fin, fctx] = canvas(out.width, out.height);
  fctx.drawImage(bmp, 0, 0);
  bmp.close();
  return fin;
}

/**
 * SYNTHETIC screen replay: the photo shown on an LCD (each pixel drawn as R, G, B sub-pixel
 * stripes with a dark gap row, brightened as a backlight would), photographed at a small angle
 * and a scale that does not match the sub-pixel pitch (so the mask aliases into moire), with a
 * black bezel, a dim room, a glare spot, defocus, sensor noise and JPEG.
 */
async function syntheticScreen(img: HTMLImageElement, seed: number): Promise<HTMLCanvasElement> {
  const r = rng(seed);
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  const S = 3;
  const [panel, pctx] = canvas(w * S, h * S);
  pctx.imageSmoothingEnabled = false;
  pctx.drawImage(img, 0, 0, w * S, h * S);
  const im = pctx.getImageData(0, 0, panel.width, panel.height);
  const d = im.data;
  const gain = 1.45 + 0.2 * r();
  const tint = [0.95, 1.0, 1.07]; // cool LCD white point
  for (let y = 0; y < panel.height; y++) {
    const rowGap = y % S === S - 1 ? 0.75 : 1;
    for (let x = 0; x < panel.width; x++) {
      const i = (y * panel.width + x) * 4;
      const sub = x % S;
      for (let ch = 0; ch < 3; ch++) {
        const m = ch === sub ? 1 : 0.4;
        d[i + ch] = Math.min(255, d[i + ch]! * m * gain * rowGap * tint[ch]!);
      }
    }
  }
  pctx.putImageData(im, 0, 0);
  const [frame, ctx] = canvas(640, 480);
  const bg = ctx.createLinearGradient(0, 0, 640, 480);
  bg.addColorStop(0, `rgb(${60 + 30 * r()},${55 + 25 * r()},${50 + 20 * r()})`);
  bg.addColorStop(1, `rgb(${20 + 20 * r()},${20 + 20 * r()},${25 + 20 * r()})`);
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, 640, 480);
  const side = 360 + 60 * r(); // panel width on the camera frame: ~0.5 camera px per sub-pixel
  const angle = ((r() < 0.5 ? -1 : 1) * (1.5 + 4 * r()) * Math.PI) / 180;
  ctx.save();
  ctx.translate(320 + (r() - 0.5) * 40, 240 + (r() - 0.5) * 30);
  ctx.rotate(angle);
  ctx.fillStyle = '#0b0b0d'; // bezel
  const bez = 0.08 * side;
  ctx.fillRect(-side / 2 - bez, -side / 2 - bez, side + 2 * bez, side + 2 * bez * 1.6);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'low';
  ctx.drawImage(panel, -side / 2, -side / 2, side, (side * h) / w);
  const gx = (r() - 0.5) * side * 0.8;
  const gy = (r() - 0.5) * side * 0.8;
  const glare = ctx.createRadialGradient(gx, gy, 0, gx, gy, side * (0.25 + 0.2 * r()));
  glare.addColorStop(0, `rgba(255,255,255,${0.18 + 0.17 * r()})`);
  glare.addColorStop(1, 'rgba(255,255,255,0)');
  ctx.globalCompositeOperation = 'lighter';
  ctx.fillStyle = glare;
  ctx.fillRect(-side / 2, -side / 2, side, side);
  ctx.restore();
  return cameraCapture(frame, r, 0.5 + 0.4 * r(), 3 + 3 * r());
}

/**
 * SYNTHETIC print attack: the photo printed as a CMYK halftone (rotated screens, 50 % under-colour
 * removal), ink spread, on off-white paper with a margin, held in front of the camera at a small
 * angle under uneven light, with defocus, sensor noise and JPEG.
 */
async function syntheticPrint(img: HTMLImageElement, seed: number): Promise<HTMLCanvasElement> {
  const r = rng(seed);
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  const S = 4; // print resolution relative to the photo
  const [src, sctx] = canvas(w * S, h * S);
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(img, 0, 0, w * S, h * S);
  const im = sctx.getImageData(0, 0, src.width, src.height);
  const d = im.data;
  const paper = [244 + 6 * r(), 238 + 6 * r(), 224 + 8 * r()];
  const cell = 5 + 2 * r();
  const angles = [15, 75, 0, 45].map((a) => (a * Math.PI) / 180); // C, M, Y, K screens
  const cs = angles.map(Math.cos);
  const sn = angles.map(Math.sin);
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < src.width; x++) {
      const i = (y * src.width + x) * 4;
      const c0 = 1 - d[i]! / 255;
      const m0 = 1 - d[i + 1]! / 255;
      const y0 = 1 - d[i + 2]! / 255;
      const k = 0.5 * Math.min(c0, m0, y0);
      const ink = [c0 - k, m0 - k, y0 - k, k];
      const dots = ink.map((v, s) => {
        const u = (x * cs[s]! + y * sn[s]!) / cell;
        const t = (-x * sn[s]! + y * cs[s]!) / cell;
        const screen = (Math.cos(2 * Math.PI * u) + Math.cos(2 * Math.PI * t)) / 4 + 0.5; // 0..1
        return v * 1.05 > screen ? 1 : 0;
      });
      // Each ink absorbs its complementary channel; K absorbs all.
      d[i] = paper[0]! * (1 - 0.85 * dots[0]!) * (1 - 0.85 * dots[3]!);
      d[i + 1] = paper[1]! * (1 - 0.85 * dots[1]!) * (1 - 0.85 * dots[3]!);
      d[i + 2] = paper[2]! * (1 - 0.85 * dots[2]!) * (1 - 0.85 * dots[3]!);
    }
  }
  sctx.putImageData(im, 0, 0);
  const [spread, spctx] = canvas(src.width, src.height);
  spctx.filter = 'blur(1.2px)'; // ink spread / dot gain
  spctx.drawImage(src, 0, 0);
  const [frame, ctx] = canvas(640, 480);
  const bg = ctx.createLinearGradient(0, 0, 0, 480);
  bg.addColorStop(0, `rgb(${150 + 60 * r()},${140 + 60 * r()},${120 + 60 * r()})`);
  bg.addColorStop(1, `rgb(${90 + 50 * r()},${80 + 50 * r()},${70 + 50 * r()})`);
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, 640, 480);
  const side = 340 + 60 * r();
  const margin = 0.06 * side;
  ctx.save();
  ctx.translate(320 + (r() - 0.5) * 40, 240 + (r() - 0.5) * 30);
  ctx.rotate(((r() - 0.5) * 8 * Math.PI) / 180);
  ctx.fillStyle = `rgb(${paper[0]},${paper[1]},${paper[2]})`;
  ctx.fillRect(-side / 2 - margin, -side / 2 - margin, side + 2 * margin, (side * h) / w + 2 * margin);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(spread, -side / 2, -side / 2, side, (side * h) / w);
  // Uneven light across the page (paper is not emissive: multiply).
  const shade = ctx.createLinearGradient(-side / 2, -side / 2, side / 2, side / 2);
  const a = 0.7 + 0.2 * r();
  shade.addColorStop(r() < 0.5 ? 0 : 1, `rgb(255,${Math.round(250 * a)},${Math.round(235 * a)})`);
  shade.addColorStop(r() < 0.5 ? 1 : 0, 'rgb(255,255,250)');
  ctx.globalCompositeOperation = 'multiply';
  ctx.fillStyle = shade;
  ctx.fillRect(-side / 2 - margin, -side / 2 - margin, side + 2 * margin, (side * h) / w + 2 * margin);
  ctx.restore();
  return cameraCapture(frame, r, 0.6 + 0.5 * r(), 3 + 3 * r());
}

function cropToDataUrl(crop: ImageData): string {
  const [c, ctx] = canvas(crop.width, crop.height);
  ctx.putImageData(crop, 0, 0);
  return c.toDataURL('image/png');
}

async function humanScores(frame: Frame, face: Detection): Promise<{ antispoof: number; liveness: [number, number] }> {
  const h = human!;
  const run = async (model: GraphModel, crop: ImageData): Promise<Float32Array> => {
    const y = tf.tidy(() => model.execute(tf.div(tf.cast(tf.expandDims(tf.browser.fromPixels(crop, 3), 0), 'float32'), 255)) as tf.Tensor);
    try {
      return (await y.data()) as Float32Array;
    } finally {
      y.dispose();
    }
  };
  const a = await run(h.antispoof, h.crop128.crop(frame, face));
  const l = await run(h.liveness, h.crop32.crop(frame, face));
  return { antispoof: a[0]!, liveness: [l[0]!, l[1]!] };
}

async function processItems(items: LivenessItem[], debugCrops = false): Promise<LivenessResult[]> {
  if (!detector || !settings) throw new Error('liveness.init() first');
  const out: LivenessResult[] = [];
  const loads = items.map((it) => loadImage(it.url).then((img) => ({ img }), (e: unknown) => ({ error: String((e as Error)?.message ?? e) })));
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    const base = { id: it.id, label: it.label, species: it.species, source: it.source };
    const loaded = await loads[k]!;
    if ('error' in loaded) {
      out.push({ ...base, status: 'load-error', error: loaded.error, frameWidth: 0, frameHeight: 0, faces: 0, detectMs: 0 });
      continue;
    }
    const img = loaded.img;
    let src: HTMLCanvasElement;
    if (it.synth === 'screen') src = await syntheticScreen(img, it.seed ?? k);
    else if (it.synth === 'print') src = await syntheticPrint(img, it.seed ?? k);
    else src = toCanvasFrame(img, img.naturalWidth, img.naturalHeight, settings.maxSide);
    const frame: Frame = { source: src, width: src.width, height: src.height, timestamp: performance.now() };
    let t = performance.now();
    const faces = detector.detect(frame);
    const detectMs = performance.now() - t;
    const res: LivenessResult = { ...base, status: 'ok', frameWidth: frame.width, frameHeight: frame.height, faces: faces.length, detectMs };
    out.push(res);
    if (faces.length === 0) {
      res.status = 'no-face';
      if (debugCrops) res.crop = src.toDataURL('image/png');
      continue;
    }
    const face = nearestCentre(faces, frame.width, frame.height);
    res.faceScore = face.score;
    res.faceWidth = face.box.width;
    if (liveness) {
      res.fas = {};
      for (const [i, { key, cropper }] of croppers.entries()) {
        t = performance.now();
        const a = i === 0 ? await liveness.analyze(frame, face) : await liveness.analyzeCrop(cropper.crop(frame, face));
        if (i === 0) res.fasMs = performance.now() - t;
        res.fas[key] = { live: a.live, spoof: a.spoofScore, leaf: a.leaf };
        if (i === 0 && debugCrops) res.crop = cropToDataUrl(liveness.crop(frame, face));
      }
    }
    if (fr.bgr) {
      res.fr = {};
      for (const ch of ['bgr', 'rgb'] as const) {
        const m = fr[ch]!;
        t = performance.now();
        const [a] = await m.analyzeCrops([m.crop(frame, face)]);
        if (ch === 'bgr') res.frMs = performance.now() - t;
        res.fr[ch] = { live: a!.live, p: [...a!.probabilities] };
      }
      if (debugCrops && !res.crop) res.crop = cropToDataUrl(fr.bgr.crop(frame, face));
    }
    if (human) {
      const hs = await humanScores(frame, face);
      res.humanAntispoof = hs.antispoof;
      res.humanLiveness = hs.liveness;
    }
    status(`${k + 1}/${items.length}`);
  }
  return out;
}

/** What timing() needs of an adapter. */
interface TimedLiveness {
  crop(frame: Frame, face: Detection): ImageData;
  score(crops: readonly ImageData[]): Promise<number[]>;
  analyzeCrop(crop: ImageData): Promise<unknown>;
}

async function timing(o: { url: string; iters: number; leakCalls: number; model: LivenessModelName }): Promise<TimingResult> {
  if (!detector || !settings) throw new Error('liveness.init() first');
  const frBgr = fr.bgr;
  let target: TimedLiveness | null = o.model === 'face-antispoofing' ? liveness : null;
  if (o.model === 'fr-liveness' && frBgr) target = { crop: (f, d) => frBgr.crop(f, d), score: (c) => frBgr.score(c), analyzeCrop: (c) => frBgr.analyzeCrops([c]) };
  if (!target) throw new Error(`timing: ${o.model} was not loaded by init()`);
  const img = await loadImage(o.url);
  const src = toCanvasFrame(img, img.naturalWidth, img.naturalHeight, settings.maxSide);
  const frame: Frame = { source: src, width: src.width, height: src.height, timestamp: performance.now() };
  const face = nearestCentre(detector.detect(frame), frame.width, frame.height);
  const lv = target;
  const scoreOne = () => lv.score([lv.crop(frame, face)]);
  for (let i = 0; i < 3; i++) await scoreOne();
  const score: number[] = [];
  const score3: number[] = [];
  const model: number[] = [];
  const crop: number[] = [];
  const ready = lv.crop(frame, face);
  for (let i = 0; i < o.iters; i++) {
    let t = performance.now();
    await scoreOne();
    score.push(performance.now() - t);
    if (i < Math.ceil(o.iters / 5)) {
      t = performance.now();
      await lv.score([ready, ready, ready]);
      score3.push(performance.now() - t);
    }
    t = performance.now();
    await lv.analyzeCrop(ready);
    model.push(performance.now() - t);
    t = performance.now();
    lv.crop(frame, face);
    crop.push(performance.now() - t);
  }
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < o.leakCalls; i++) await scoreOne();
  const tensorsAfter = tf.memory().numTensors;
  return { score, score3, model, crop, tensorsBefore, tensorsAfter, leakCalls: o.leakCalls, tensorsAfterDispose: null };
}

window.liveness = { ready: true, init, process: processItems, timing, numTensors: () => tf.memory().numTensors };
status('ready');
