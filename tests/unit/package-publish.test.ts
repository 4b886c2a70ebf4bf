/**
 * What the npm package is (issue 12): metadata, one export per entry, sideEffects that keep the
 * element's registration, the bins, nothing of ours on a consumer's install, and assets/ holding
 * only what a browser fetches, each file as the manifest says. The packed tarball installed into
 * a fresh app runs in e2e/consumer/vite-app.e2e.ts (full tier).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('package.json for publishing', () => {
  it('names its repository, homepage and issue tracker', () => {
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs.url).toMatch(/\/issues$/);
  });

  it('exports every entry, the Vite plugin and the assets; ships assets/ and bin/', () => {
    for (const e of ['.', './headless', './testing', './server-client', './vite']) expect(pkg.exports[e], e).toHaveProperty('import');
    expect(pkg.exports['./vite']).toEqual({ types: './dist/types/vite-plugin/index.d.ts', import: './dist/vite.js' });
    expect(pkg.exports['./assets/*']).toBe('./assets/*');
    // The self-contained bundle for a page with no bundler: the main entry's types (vite.bundle.config.ts).
    expect(pkg.exports['./bundle']).toEqual({ types: './dist/types/index.d.ts', import: './dist/bundle/face-login.js' });
    expect(pkg.scripts['build:lib']).toMatch(/vite build --config vite\.lib\.config\.ts && vite build --config vite\.bundle\.config\.ts/);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'assets/', 'bin/']));
  });

  it('sideEffects: the element registration in dist (for the site\'s build) and all of our source and demo (for our own builds)', () => {
    // The list applies to this repository's own builds too: with only the element's source file listed,
    // the demo build dropped the whole library (5 kB of JS, never ready; the speed benchmark caught it).
    expect(pkg.sideEffects).toEqual(['./dist/face-login.js', './dist/bundle/*.js', './src/**', './demo/**']);
    expect(readFileSync(join(ROOT, 'src/element/face-login.ts'), 'utf8')).toMatch(/customElements\.define\(/);
  });

  it('the bins are plain .mjs files that run from a clone too', () => {
    expect(pkg.bin).toEqual({ 'face-login': 'bin/face-login.mjs', 'face-login-fake-camera': 'bin/face-login-fake-camera.mjs' });
    for (const f of Object.values(pkg.bin) as string[]) expect(readFileSync(join(ROOT, f), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('nothing of ours runs on a consumer\'s install: prepack builds, strips the scripts, postpack restores', () => {
    expect(pkg.scripts.prepack).toMatch(/build:lib.*build-assets\.mjs.*publish-manifest\.mjs strip/);
    expect(pkg.scripts.postpack).toBe('node scripts/publish-manifest.mjs restore');
    expect(readFileSync(join(ROOT, 'scripts/publish-manifest.mjs'), 'utf8')).toMatch(/REPO_ONLY = \['scripts'/);
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[hook], hook).toBeUndefined();
  });
});

const assets = join(ROOT, 'assets');
// npm install in the repo builds assets/ (the prepare script): it exists in every checkout that can run the tests.
describe('assets/ (built by scripts/build-assets.mjs)', () => {
  if (!existsSync(join(assets, 'models/manifest.json'))) throw new Error('assets/ is missing: run npm install (or npm run assets)');
  const files = readdirSync(assets, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(assets, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  const manifest = JSON.parse(readFileSync(join(assets, 'models/manifest.json'), 'utf8'));

  it('holds only what a browser fetches: no MediaPipe module variant, no float32 weights', () => {
    expect(files.filter((f) => /_module_internal|mobilefacenet\//.test(f))).toEqual([]);
    // The TF.js detector graph ships: it is the page's detector with detector: 'tfjs'.
    expect(manifest).toHaveProperty('detectorGraph');
    expect(manifest).not.toHaveProperty('embedder');
    expect(files).toEqual(
      [
        'models/blazeface-full/model.json',
        'models/blazeface-full/weights.bin',
        'models/blazeface/model.json',
        'models/blazeface/weights.bin',
        'models/face_detection_short_range.tflite',
        'models/facemesh/model.json',
        'models/facemesh/weights.bin',
        'models/manifest.json',
        'models/mobilefacenet-f16/model.json',
        'models/mobilefacenet-f16/weights.bin',
        'wasm/mediapipe/vision_wasm_internal.js',
        'wasm/mediapipe/vision_wasm_internal.wasm',
        'wasm/mediapipe/vision_wasm_nosimd_internal.js',
        'wasm/mediapipe/vision_wasm_nosimd_internal.wasm',
        'wasm/tfjs/tfjs-backend-wasm-simd.wasm',
        'wasm/tfjs/tfjs-backend-wasm-threaded-simd.wasm',
        'wasm/tfjs/tfjs-backend-wasm.wasm',
      ],
    );
  });

  it('every file is the one its manifest lists (bytes, sha256)', () => {
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(files.filter((f) => f !== 'models/manifest.json'));
    for (const f of manifest.files as { path: string; bytes: number; sha256: string }[]) {
      const bytes = readFileSync(join(assets, f.path));
      expect([bytes.length, createHash('sha256').update(bytes).digest('hex')], f.path).toEqual([f.bytes, f.sha256]);
    }
  });
});
