#!/usr/bin/env node
// What a page downloads on its first visit (issue 12, "lean by default"), JS only (the models and
// wasm come on top, the same for every build):
//   - a Vite app whose only code is `import 'face-login'` (built from scratch in a temp folder, the
//     package linked in as a site installs it), with backend="wasm": the entry, its static imports,
//     and the chunk of the TF.js backend it then imports, with their static imports;
//   - the self-contained bundle (dist/bundle/, `face-login/bundle`) on a plain page, the same way.
// The fetched set is read from the chunk graph (static imports of the entry, plus the WASM
// backend's chunk): that is what the browser requests (e2e/consumer/plain-html.e2e.ts checks it in
// a browser for the bundle). gzip: zlib level 6 per file.
//
//   node bench/runners/bundle-size.mjs [--before <git-ref>] [--no-build]
//     --before <ref>  also measure the Vite app against the package as it was at <ref> (its
//                     src/ built with its vite.lib.config.ts in a temp folder)
//     --no-build      measure dist/ as it is (else `npm run build:lib` first)
// Writes bench/results/bundle-size.{json,md}.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const beforeRef = args.includes('--before') ? args[args.indexOf('--before') + 1] : null;
const noBuild = args.includes('--no-build');
const WASM_BACKEND = /tfjs-backend-wasm[\\/]dist[\\/]index\.js$/;

const sh = (cmd, argv, cwd) => execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
const sizes = (code) => ({ raw: Buffer.byteLength(code), gzip: gzipSync(code).length });
const sum = (files) => files.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip }), { raw: 0, gzip: 0 });
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;

/** Chunks reached from `start` through static imports. */
function closure(start, staticImports) {
  const seen = new Set();
  const todo = [...start];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(staticImports.get(f) ?? []));
  }
  return seen;
}

function report(chunks, firstVisit) {
  const files = [...chunks.values()].sort((a, b) => b.raw - a.raw);
  const fetched = files.filter((c) => firstVisit.has(c.file));
  return {
    firstVisitWasm: { ...sum(fetched), chunks: fetched.map(({ file, raw, gzip, contains }) => ({ file, raw, gzip, contains })) },
    allJs: { ...sum(files), files: files.length },
    notFetched: files.filter((c) => !firstVisit.has(c.file)).map(({ file, raw, gzip, contains }) => ({ file, raw, gzip, contains })),
  };
}

/** The npm packages whose modules a chunk holds (its licence banner's list, in short). */
function packagesOf(moduleIds) {
  const names = new Set();
  for (const id of moduleIds) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(id.replaceAll('\0', ''));
    if (m) names.add(m[1].replace('\\', '/'));
    else if (!id.startsWith('\0') && /\.(js|ts)$/.test(id) && !id.includes('face-login-bundle-size-')) names.add('face-login');
  }
  return [...names].sort();
}

/** A fresh Vite app with `import 'face-login'`, the package at `pkgDir` linked in, built; its JS chunk graph. */
async function viteApp(pkgDir) {
  const app = mkdtempSync(join(tmpdir(), 'face-login-bundle-size-'));
  try {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(pkgDir, join(app, 'node_modules/face-login'), 'dir');
    writeFileSync(join(app, 'index.html'), '<!doctype html>\n<face-login backend="wasm"></face-login>\n<script type="module" src="/main.js"></script>\n');
    writeFileSync(join(app, 'main.js'), "import 'face-login';\n");
    const out = await build({ root: app, configFile: false, logLevel: 'silent', build: { outDir: join(app, 'dist'), write: false, reportCompressedSize: false } });
    const output = (Array.isArray(out) ? out[0] : out).output;
    const chunks = new Map();
    const staticImports = new Map();
    for (const c of output) {
      if (c.type !== 'chunk') continue;
      chunks.set(c.fileName, { file: c.fileName, ...sizes(c.code), contains: packagesOf(c.moduleIds), entry: c.isEntry, wasm: c.moduleIds.some((id) => WASM_BACKEND.test(id)) });
      staticImports.set(c.fileName, c.imports);
    }
    const start = [...chunks.values()].filter((c) => c.entry || c.wasm).map((c) => c.file);
    return report(chunks, closure(start, staticImports));
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

/** dist/bundle/ as shipped: its chunk graph read from the relative imports in each file. */
function selfContained(dir) {
  const chunks = new Map();
  const staticImports = new Map();
  const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  for (const path of walk(dir).filter((f) => f.endsWith('.js'))) {
    const file = relative(dir, path).replaceAll('\\', '/');
    const code = readFileSync(path, 'utf8');
    const at = (spec) => relative(dir, resolve(dirname(path), spec)).replaceAll('\\', '/');
    const banner = /^\/\*\*\n \* face-login bundle\. Contains[^\n]*\n((?: \*   [^\n]*\n)*)/.exec(code);
    const contains = banner ? [...banner[1].matchAll(/ \*   (\S+)/g)].map((m) => m[1]) : [];
    staticImports.set(file, [...code.matchAll(/(?:\bfrom|\bimport)\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => at(m[1])));
    chunks.set(file, { file, ...sizes(code), contains, entry: file === 'face-login.js', wasm: /^chunks\/tfjs-backend-wasm-/.test(file) });
  }
  const start = [...chunks.values()].filter((c) => c.entry || c.wasm).map((c) => c.file);
  return report(chunks, closure(start, staticImports));
}

/** The package as it was at `ref`: its src/ and lib config built in a temp folder (node_modules linked from here). */
function packageAt(ref) {
  const dir = mkdtempSync(join(tmpdir(), 'face-login-at-'));
  const tar = join(dir, 'src.tar');
  sh('git', ['archive', '--format=tar', '-o', tar, ref, 'src', 'package.json', 'vite.lib.config.ts', 'tsconfig.json'], ROOT);
  sh('tar', ['-xf', tar, '-C', dir], ROOT);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  sh(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.lib.config.ts', '--logLevel', 'warn'], dir);
  return dir;
}

if (!noBuild) sh('npm', ['run', 'build:lib'], ROOT);
if (!existsSync(join(ROOT, 'dist/bundle/face-login.js'))) throw new Error('dist/bundle/face-login.js is missing: run `npm run build:lib`');

const commit = sh('git', ['rev-parse', '--short', 'HEAD'], ROOT).trim();
const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'package.json', 'vite.lib.config.ts', 'vite.bundle.config.ts'], ROOT).trim() !== '';
const results = {
  command: `node bench/runners/bundle-size.mjs${beforeRef ? ` --before ${beforeRef}` : ''}${noBuild ? ' --no-build' : ''}`,
  date: new Date().toISOString(),
  tree: `${commit}${dirty ? ' + working-tree changes' : ''}`,
  vite: JSON.parse(readFileSync(join(ROOT, 'node_modules/vite/package.json'), 'utf8')).version,
  method: 'JS only; first visit with backend="wasm" = entry + static imports + the tfjs-backend-wasm chunk and its static imports; gzip = zlib level 6 per file',
  entries: {},
};
if (beforeRef) {
  const dir = packageAt(beforeRef);
  try {
    const at = sh('git', ['rev-parse', '--short', beforeRef], ROOT).trim();
    results.entries[`vite-app (import 'face-login'), before: ${at}`] = await viteApp(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
results.entries[`vite-app (import 'face-login'), ${results.tree}`] = await viteApp(ROOT);
results.entries['bundle (face-login/bundle, dist/bundle/)'] = selfContained(join(ROOT, 'dist/bundle'));

const out = join(ROOT, 'bench/results');
writeFileSync(join(out, 'bundle-size.json'), JSON.stringify(results, null, 2) + '\n');
const md = [
  '# Bundle size: what a first visit downloads (JS)',
  '',
  `Made by \`${results.command}\` on ${results.date.slice(0, 10)} (tree ${results.tree}, Vite ${results.vite}).`,
  `${results.method}. Models (5.3 MB) and wasm come on top and are the same for every row.`,
  '',
  '| entry | first visit, backend="wasm": raw | gzip | chunks fetched | all JS built: raw | gzip | files |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...Object.entries(results.entries).map(([name, r]) => `| ${name} | ${kb(r.firstVisitWasm.raw)} | ${kb(r.firstVisitWasm.gzip)} | ${r.firstVisitWasm.chunks.length} | ${kb(r.allJs.raw)} | ${kb(r.allJs.gzip)} | ${r.allJs.files} |`),
  '',
  ...Object.entries(results.entries).flatMap(([name, r]) => [
    `## ${name}`,
    '',
    '| chunk | fetched (wasm) | raw | gzip | contains |',
    '|---|:---:|---:|---:|---|',
    ...[...r.firstVisitWasm.chunks.map((c) => ({ ...c, fetched: 'yes' })), ...r.notFetched.map((c) => ({ ...c, fetched: 'no' }))].map((c) => `| ${c.file} | ${c.fetched} | ${kb(c.raw)} | ${kb(c.gzip)} | ${c.contains.join(', ')} |`),
    '',
  ]),
].join('\n');
writeFileSync(join(out, 'bundle-size.md'), md);
console.log(md);
