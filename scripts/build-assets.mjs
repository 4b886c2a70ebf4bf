#!/usr/bin/env node
// Builds assets/ at the package root (shipped in the npm package; never run on a consumer's
// install: `npm run build` and `prepack` run it) from public/, which scripts/prepare-models.mjs
// prepares:
//   assets/models/manifest.json   public/models/manifest.json, less what the browser never fetches
//   assets/models/**              the detector (.tflite for MediaPipe, and the same model as a TF.js graph for
//                                 detector: 'tfjs'), BlazeFace full range as a TF.js graph (blazeface-full/, the
//                                 TF.js detector's range: 'full'), MobileFaceNet with float16 weights and the face
//                                 mesh (model.json + weights.bin each)
//   assets/wasm/mediapipe/*       vision_wasm_internal.{js,wasm} and vision_wasm_nosimd_internal.{js,wasm}
//   assets/wasm/tfjs/*.wasm       tfjs-backend-wasm{,-simd,-threaded-simd}.wasm
// Every file is checked against the manifest's bytes and sha256 before it is copied.
//
// Left out, because no page ever fetches them:
//   models/mobilefacenet/**        MobileFaceNet's float32 weights: the page loads the float16 ones
//                                  (the same graph, embeddings within cosine 0.99999; bench and parity checks only)
//   wasm/mediapipe/vision_wasm_module_internal.*  FilesetResolver.forVisionTasks(url) without its
//                                  second (module) argument asks for vision_wasm{,_nosimd}_internal only
//
// Usage: node scripts/build-assets.mjs [--quiet]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = join(ROOT, 'public');
const ASSETS = join(ROOT, 'assets');
const QUIET = process.argv.includes('--quiet');

/** Files the browser never fetches (see above), by path in the manifest. */
export const NOT_SHIPPED = [/^models\/mobilefacenet\//, /^wasm\/mediapipe\/vision_wasm_module_internal\./];

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const log = (s) => { if (!QUIET) console.log(s); };
const fail = (s) => { console.error(`build-assets: ${s}`); process.exit(1); };

const manifestPath = join(PUBLIC, 'models/manifest.json');
if (!existsSync(manifestPath)) fail(`${relative(ROOT, manifestPath)} is missing: run \`npm run models\` (scripts/prepare-models.mjs) first`);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
if (!manifest.embedder) fail('public/models has no embedder (prepared with --skip-embedder?): run `npm run models` without it');

const shipped = manifest.files.filter((f) => !NOT_SHIPPED.some((re) => re.test(f.path)));
const sources = new Map();
for (const f of shipped) {
  const abs = join(PUBLIC, f.path);
  if (!existsSync(abs)) fail(`public/${f.path} is missing: run \`npm run models\``);
  const bytes = readFileSync(abs);
  if (bytes.length !== f.bytes || sha256(bytes) !== f.sha256) fail(`public/${f.path} does not match public/models/manifest.json (bytes or sha256): run \`npm run models\``);
  sources.set(f.path, bytes);
}
for (const want of ['models/face_detection_short_range.tflite', 'models/mobilefacenet-f16/model.json', 'models/mobilefacenet-f16/weights.bin', 'models/facemesh/model.json', 'models/facemesh/weights.bin', 'models/blazeface/model.json', 'models/blazeface/weights.bin', 'wasm/mediapipe/vision_wasm_internal.wasm', 'wasm/mediapipe/vision_wasm_nosimd_internal.wasm', 'wasm/tfjs/tfjs-backend-wasm.wasm']) {
  if (!sources.has(want)) fail(`the manifest does not list ${want}`);
}

const { embedder: _float32, ...rest } = manifest;
const packaged = {
  ...rest,
  $comment: 'face-login package assets, written by scripts/build-assets.mjs from public/models/manifest.json. Paths are relative to the asset base: <base>/models/..., <base>/wasm/... (setBasePath(), the asset-base attribute, face-login/vite, `npx face-login assets <dir>`).',
  files: shipped,
};

rmSync(ASSETS, { recursive: true, force: true });
let total = 0;
for (const [path, bytes] of sources) {
  const out = join(ASSETS, path);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  total += bytes.length;
  log(`copied  assets/${path} (${bytes.length} bytes)`);
}
writeFileSync(join(ASSETS, 'models/manifest.json'), JSON.stringify(packaged, null, 2) + '\n');
log(`wrote   assets/models/manifest.json (${shipped.length} files, ${(total / 1e6).toFixed(1)} MB)`);
