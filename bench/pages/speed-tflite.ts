/**
 * TF.js (the product's MobileFaceNetEmbedder on the WASM backend) vs the TFLite runtime
 * (@tensorflow/tfjs-tflite, XNNPACK) running the original MobileFaceNet.tflite, on the same
 * aligned crops in the same page. Driven by bench/runners/speed.mjs.
 *
 * The .tflite file has a fixed input batch of 2 ([2,112,112,3]), so both sides embed 2 crops per
 * call and the driver reports per face. Everything from our own origin: the runtime loads its
 * wasm eagerly, at import, from the page's own folder (its default path), so the driver serves
 * node_modules/@tensorflow/tfjs-tflite/wasm/* at /bench/pages/tflite_web_api_cc*; the model comes
 * from /__tflite/model/. Threads need cross-origin isolation: the driver serves this page with
 * COOP/COEP for the threaded configurations (?coi=1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tflite from '@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js';
import { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { CanvasAligner } from '../../src/adapters/aligner/canvas-aligner.js';
import { MobileFaceNetEmbedder } from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import { selectBackend } from '../../src/adapters/embedder/tf-backend.js';
import { fetchManifest } from '../../src/adapters/models/model-files.js';
import { cosine, l2normalize } from '../../src/core/match.js';
import { best, frameOf, letterbox, loadImage, nextTask, timeLoop } from './speed-common.js';

export interface TfliteInit {
  /** Threads for both runtimes (needs cross-origin isolation above 1); null = each runtime's default without isolation. */
  threads: number | null;
  photos: string[];
}

export interface TfliteInfo {
  crossOriginIsolated: boolean;
  tfBackend: string;
  tfjsWasmThreads: number;
  tfjsWasmMultithread: boolean | null;
  tfliteFeatures: unknown;
  tfliteThreadsAsked: number;
  tfliteInputs: unknown;
  tfliteOutputs: unknown;
  crops: number;
  createMs: { embedder: number; tflite: number };
}

export interface TfliteRaw {
  /** ms per call of 2 crops. */
  ours: number[];
  /** Whole call from ImageData: fromPixels, normalise, predict, read back. */
  tflite: number[];
  /** predict() + readback only, on a ready input tensor. */
  tflitePredictOnly: number[];
  /** Our embedder on 1 crop (ms per call). */
  ours1: number[];
  /** Cosine between our and the TFLite runtime's embedding of the same crop. */
  parity: number[];
  /** Rounds actually run (the time budget may cut them short). */
  rounds: number;
}

declare global {
  interface Window {
    speedTflite: {
      ready: boolean;
      init(o: TfliteInit): Promise<TfliteInfo>;
      bench(o: { warmup: number; iters: number; rounds: number; budgetMs: number }): Promise<TfliteRaw>;
    };
  }
}

const status = (s: string) => {
  document.querySelector('#status')!.textContent = s;
};

let embedder: MobileFaceNetEmbedder | null = null;
let model: tflite.TFLiteModel | null = null;
let crops: ImageData[] = [];

/** (x - 127.5) / 128 on RGB, as the product's embedder does. */
function toInput(batch: readonly ImageData[]): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.stack(batch.map((c) => tf.browser.fromPixels(c, 3)));
    return tf.div(tf.sub(tf.cast(x, 'float32'), 127.5), 128) as tf.Tensor4D;
  });
}

async function runTflite(input: tf.Tensor4D): Promise<Float32Array> {
  const out = model!.predict(input) as tf.Tensor;
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

async function init(o: TfliteInit): Promise<TfliteInfo> {
  if (o.threads !== null) setThreadsCount(o.threads);
  await selectBackend('wasm', '/wasm/tfjs/');
  let multithread: boolean | null = null;
  try {
    multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  } catch {
    multithread = null;
  }
  const manifest = await fetchManifest('/models/');
  const detector = await MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE', minScore: 0.5 });
  const aligner = new CanvasAligner();
  crops = [];
  for (const url of o.photos) {
    const canvas = letterbox(await loadImage(url));
    const frame = frameOf(canvas, performance.now());
    const face = best(detector.detect(frame));
    if (face) crops.push(aligner.align(frame, face));
  }
  detector.dispose();
  if (crops.length < 2) throw new Error('need at least 2 crops');
  let t = performance.now();
  embedder = await MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: 'wasm' });
  const embedderMs = performance.now() - t;
  // No setWasmPath: a different path would load a second copy of the runtime (and its threads)
  // next to the one the package already started at import from the default path.
  const tfliteThreads = o.threads ?? -1;
  t = performance.now();
  model = await tflite.loadTFLiteModel('/__tflite/model/MobileFaceNet.tflite', { numThreads: tfliteThreads });
  const tfliteMs = performance.now() - t;
  status('ready');
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    tfBackend: tf.getBackend(),
    tfjsWasmThreads: getThreadsCount(),
    tfjsWasmMultithread: multithread,
    tfliteFeatures: await tflite.getWasmFeatures(),
    tfliteThreadsAsked: tfliteThreads,
    tfliteInputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype })),
    tfliteOutputs: model.outputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype })),
    crops: crops.length,
    createMs: { embedder: embedderMs, tflite: tfliteMs },
  };
}

/** Up to `rounds` interleaved rounds, fewer when the time budget is spent (at least one). */
async function bench(o: { warmup: number; iters: number; rounds: number; budgetMs: number }): Promise<TfliteRaw> {
  if (!embedder || !model) throw new Error('init() first');
  const emb = embedder;
  const pair = (i: number): ImageData[] => [crops[(2 * i) % crops.length]!, crops[(2 * i + 1) % crops.length]!];

  // Parity first: the same crops through both runtimes.
  const parity: number[] = [];
  for (let i = 0; i + 1 < crops.length; i += 2) {
    const two = [crops[i]!, crops[i + 1]!];
    const ours = await emb.embed(two);
    const input = toInput(two);
    const theirs = await runTflite(input);
    input.dispose();
    for (let k = 0; k < 2; k++) parity.push(cosine(ours[k]!, l2normalize(theirs.subarray(k * 192, (k + 1) * 192))));
  }

  // Interleaved rounds (ours, then TFLite) so that noise on the shared cores hits both alike.
  const ours: number[] = [];
  const tfl: number[] = [];
  const predictOnly: number[] = [];
  const ours1: number[] = [];
  const t0 = performance.now();
  let rounds = 0;
  for (let r = 0; r < o.rounds && (r === 0 || performance.now() - t0 < o.budgetMs); r++) {
    rounds++;
    const w = r === 0 ? o.warmup : 2;
    status(`round ${r + 1}/${o.rounds}: ours`);
    ours.push(...(await timeLoop(w, o.iters, (i) => emb.embed(pair(i)))));
    await nextTask();
    status(`round ${r + 1}/${o.rounds}: tflite`);
    tfl.push(...(await timeLoop(w, o.iters, async (i) => {
      const input = toInput(pair(i));
      try {
        await runTflite(input);
      } finally {
        input.dispose();
      }
    })));
    await nextTask();
    const inputs = Array.from({ length: 4 }, (_, i) => toInput(pair(i)));
    predictOnly.push(...(await timeLoop(w, o.iters, (i) => runTflite(inputs[i % inputs.length]!))));
    inputs.forEach((x) => x.dispose());
    await nextTask();
    ours1.push(...(await timeLoop(w, o.iters, (i) => emb.embed([crops[i % crops.length]!]))));
    await nextTask();
  }
  status('done');
  return { ours, tflite: tfl, tflitePredictOnly: predictOnly, ours1, parity, rounds };
}

window.speedTflite = { ready: true, init, bench };
status('loaded');
