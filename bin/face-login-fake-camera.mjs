#!/usr/bin/env node
// face-login-fake-camera: photos or a video -> a y4m clip for Chromium's fake camera
// (src/testing/cli.ts). Runs the built dist/testing/cli.js; in a clone that has not been built,
// the TypeScript source through tsx (a devDependency).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(ROOT, 'dist/testing/cli.js');
const source = join(ROOT, 'src/testing/cli.ts');

if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else if (existsSync(source)) {
  let tsx;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx');
  } catch {
    console.error('face-login-fake-camera: dist/testing/cli.js is missing and tsx is not installed: run `npm install` and `npm run build` first.');
    process.exit(1);
  }
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(tsx).href, source, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  console.error('face-login-fake-camera: dist/testing/cli.js is missing: reinstall face-login.');
  process.exit(1);
}
