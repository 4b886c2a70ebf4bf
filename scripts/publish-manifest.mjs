#!/usr/bin/env node
// The package.json that goes into the tarball carries no scripts: `prepare` (which builds
// public/models for a clone's own `npm install`) and the rest refer to scripts/, which is not
// shipped, and nothing of ours may run on a consumer's install. npm reads package.json from disk
// when it packs, so `prepack` strips it and `postpack` puts the original back.
//   node scripts/publish-manifest.mjs strip | restore
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'package.json');
const SAVED = join(ROOT, '.cache/package.json.prepack');

/** Removed from the published package.json: only this repository uses them. */
const REPO_ONLY = ['scripts', 'devDependencies', 'overrides'];

const restore = () => {
  if (!existsSync(SAVED)) return false;
  renameSync(SAVED, PKG);
  return true;
};

const mode = process.argv[2];
if (mode === 'strip') {
  // A pack that failed before postpack left the stripped file: put the original back first.
  if (restore()) console.log('publish-manifest: restored package.json from an earlier interrupted pack');
  const text = readFileSync(PKG, 'utf8');
  const pkg = JSON.parse(text);
  mkdirSync(dirname(SAVED), { recursive: true });
  writeFileSync(SAVED, text);
  for (const k of REPO_ONLY) delete pkg[k];
  writeFileSync(PKG, JSON.stringify(pkg, null, 2) + '\n');
  console.log(`publish-manifest: package.json for the tarball (without ${REPO_ONLY.join(', ')})`);
} else if (mode === 'restore') {
  if (restore()) console.log('publish-manifest: package.json restored');
  rmSync(SAVED, { force: true });
} else {
  console.error('usage: node scripts/publish-manifest.mjs strip | restore');
  process.exit(2);
}
