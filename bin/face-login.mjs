#!/usr/bin/env node
// face-login: copies the package's assets (models and wasm) into a folder any server can serve.
//   npx face-login assets <dir>      -> <dir>/models/**, <dir>/wasm/**, each file checked
//                                      against assets/models/manifest.json (bytes, sha256)
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = join(ROOT, 'assets');
const USAGE = 'usage: npx face-login assets <dir>   copy face-login\'s models and wasm into <dir>/models and <dir>/wasm';

const [command, target, ...extra] = process.argv.slice(2);
if (command === '--help' || command === '-h' || command === 'help') { console.log(USAGE); process.exit(0); }
if (command !== 'assets' || !target || extra.length > 0) { console.error(USAGE); process.exit(2); }

const manifestPath = join(ASSETS, 'models/manifest.json');
if (!existsSync(manifestPath)) {
  const clone = existsSync(join(ROOT, 'scripts/build-assets.mjs'));
  console.error(`face-login: ${manifestPath} is missing.${clone ? ' In a clone of face-login run `npm run build` (or `node scripts/build-assets.mjs`) first.' : ' Reinstall face-login.'}`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const listed = new Map(manifest.files.map((f) => [f.path, f]));

const files = readdirSync(ASSETS, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => relative(ASSETS, join(e.parentPath, e.name)).split(sep).join('/'))
  .sort();
const out = resolve(target);
let total = 0;
for (const file of files) {
  const from = join(ASSETS, file);
  const entry = listed.get(file);
  if (entry) {
    const bytes = readFileSync(from);
    if (bytes.length !== entry.bytes || createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      console.error(`face-login: ${from} does not match the manifest (bytes or sha256): the installed package is damaged; reinstall face-login.`);
      process.exit(1);
    }
  } else if (file !== 'models/manifest.json') continue; // only what the manifest lists, and the manifest
  const to = join(out, file);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  const size = readFileSync(to).length;
  total += size;
  console.log(`copied  ${relative(process.cwd(), to) || to}  (${size} bytes)`);
}

// A guess at the URL the folder is served at: its path below a public/static/www folder, else /<name>/.
const parts = relative(process.cwd(), out).split(sep);
const webRoot = parts.findIndex((p) => ['public', 'static', 'www', 'dist', 'build'].includes(p));
const url = webRoot >= 0 ? `/${parts.slice(webRoot + 1).join('/')}/`.replace(/\/+/g, '/') : `/${basename(out)}/`;
console.log(`\n${files.length} files, ${(total / 1e6).toFixed(1)} MB in ${out}`);
console.log(`Serve that folder and point the element at its URL, e.g. if it is served at ${url}:`);
console.log(`  <face-login asset-base="${url}"></face-login>`);
console.log(`or, once for the page:  import { setBasePath } from 'face-login'; setBasePath('${url}');`);
