#!/usr/bin/env node
// What a page downloads on its first visit (issue 12, "lean by default"):
//   1. JS only, from the chunk graph:
//      - a Vite app whose only code is `import 'face-login'` (built from scratch in a temp folder,
//        the package linked in as a site installs it), with backend="wasm": the entry, its static
//        imports, and the chunk of the TF.js backend it then imports, with their static imports;
//      - the self-contained bundle (dist/bundle/, `face-login/bundle`) on a plain page, the same way.
//      gzip: zlib level 6 per file.
//   2. Every entry of the package: its own file(s) in dist/ (dependencies external), and what a Vite
//      app that imports all of the entry's exports builds (dependencies included; react external
//      for face-login/react); the tarball (`npm pack --dry-run --json --ignore-scripts`, after the build).
//   3. First visit in a real browser (headless Chromium, a fresh profile per load, so nothing
//      cached): a page that uses the package the default way, loaded until the element's
//      face-login-ready (models loaded, no camera needed), then until nothing is in flight and
//      nothing started for 1.5 s; every
//      response is summed, transferred (the response body as it came over the wire) and decoded,
//      by kind (HTML, JS, wasm, models, other). Two pages: a Vite app with `import 'face-login'`
//      and the face-login/vite plugin (built with write), and a plain page with face-login/bundle
//      and the assets at /face-login/ (what `npx face-login assets face-login` copies), each with
//      the default backend ("auto") and with backend="wasm" and backend="webgl", then with
//      detector="tfjs" (the TF.js BlazeFace instead of MediaPipe) on wasm and webgl. The static server
//      (127.0.0.1, --port, default 5406) gzips every response (level 6, the browser asks for it),
//      wasm and model weights included, as a CDN does; "decoded" is the size without compression.
//      The server's own log is checked against the browser's: both must list the same files.
//
//   node bench/runners/bundle-size.mjs [--before <git-ref>] [--no-build] [--no-browser] [--port <n>]
//     --before <ref>  also measure the Vite app against the package as it was at <ref> (its
//                     src/ built with its vite.lib.config.ts in a temp folder)
//     --no-build      measure dist/ as it is (else `npm run build:lib` first)
//     --no-browser    skip 3 (the browser's first visit)
// Writes bench/results/bundle-size.{json,md}.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { build } from 'vite';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const beforeRef = args.includes('--before') ? args[args.indexOf('--before') + 1] : null;
const noBuild = args.includes('--no-build');
const noBrowser = args.includes('--no-browser');
const PORT = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 5406;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The flags the Playwright suites launch Chromium with (playwright.config.ts).
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu-sandbox'];
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

function report(chunks, firstVisit, initial) {
  const files = [...chunks.values()].sort((a, b) => b.raw - a.raw);
  const fetched = files.filter((c) => firstVisit.has(c.file));
  const atOnce = files.filter((c) => initial.has(c.file));
  return {
    firstLoad: { ...sum(atOnce), chunks: atOnce.map((c) => c.file) },
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

/**
 * A fresh Vite app with `import 'face-login'` (or `main`), the package at `pkgDir` linked in, built;
 * its JS chunk graph. firstLoad: the entry and its static imports.
 */
async function viteApp(pkgDir, { main = "import 'face-login';\n", external = [] } = {}) {
  const app = mkdtempSync(join(tmpdir(), 'face-login-bundle-size-'));
  try {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(pkgDir, join(app, 'node_modules/face-login'), 'dir');
    writeFileSync(join(app, 'index.html'), '<!doctype html>\n<face-login backend="wasm"></face-login>\n<script type="module" src="/main.js"></script>\n');
    writeFileSync(join(app, 'main.js'), main);
    const out = await build({ root: app, configFile: false, logLevel: 'silent', build: { outDir: join(app, 'dist'), write: false, reportCompressedSize: false, rollupOptions: { external } } });
    const output = (Array.isArray(out) ? out[0] : out).output;
    const chunks = new Map();
    const staticImports = new Map();
    for (const c of output) {
      if (c.type !== 'chunk') continue;
      chunks.set(c.fileName, { file: c.fileName, ...sizes(c.code), contains: packagesOf(c.moduleIds), entry: c.isEntry, wasm: c.moduleIds.some((id) => WASM_BACKEND.test(id)) });
      staticImports.set(c.fileName, c.imports);
    }
    const start = [...chunks.values()].filter((c) => c.entry || c.wasm).map((c) => c.file);
    const entry = [...chunks.values()].filter((c) => c.entry).map((c) => c.file);
    return report(chunks, closure(start, staticImports), closure(entry, staticImports));
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
  return report(chunks, closure(start, staticImports), closure(['face-login.js'], staticImports));
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

/** A file's size as shipped: raw and gzip. */
const fileSizes = (path) => sizes(readFileSync(path));

/**
 * Each entry of the package: its own dist/ file(s) (what the package ships for it; dependencies
 * external, shared chunks of dist/ it imports counted in), and a Vite app importing all its
 * exports (`import * as m from 'face-login/<x>'; window.m = m`, so nothing is tree-shaken away),
 * built: the JS the app then has, all of it and the part the entry loads at once (static imports).
 */
async function entrySizes() {
  const own = (file) => {
    const seen = closure([file], new Map(readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js')).map((f) => [f, [...readFileSync(join(ROOT, 'dist', f), 'utf8').matchAll(/(?:\bfrom|\bimport)\s*["']\.\/([^"']+\.js)["']/g)].map((m) => m[1])])));
    return { files: [...seen], ...sum([...seen].map((f) => fileSizes(join(ROOT, 'dist', f)))) };
  };
  const entries = {};
  const browser = [
    ['face-login', 'face-login.js', "import 'face-login';\n", []],
    ['face-login/headless', 'headless.js', "import * as m from 'face-login/headless';\nwindow.m = m;\n", []],
    ['face-login/react', 'react.js', "import * as m from 'face-login/react';\nwindow.m = m;\n", [/^react($|\/)/, /^react-dom($|\/)/]],
    ['face-login/server-client', 'server-client.js', "import * as m from 'face-login/server-client';\nwindow.m = m;\n", []],
  ];
  for (const [name, file, main, external] of browser) {
    const app = await viteApp(ROOT, { main, external });
    entries[name] = { dist: own(file), app: { firstLoad: { raw: app.firstLoad.raw, gzip: app.firstLoad.gzip, chunks: app.firstLoad.chunks.length }, allJs: app.allJs } };
  }
  const bundle = selfContained(join(ROOT, 'dist/bundle'));
  entries['face-login/bundle'] = {
    dist: { files: ['bundle/**'], raw: bundle.allJs.raw, gzip: bundle.allJs.gzip },
    app: { firstLoad: { raw: bundle.firstLoad.raw, gzip: bundle.firstLoad.gzip, chunks: bundle.firstLoad.chunks.length }, allJs: bundle.allJs, note: 'no app build: the shipped files as a page loads them (entry + static imports)' },
  };
  entries['face-login/vite'] = { dist: own('vite.js'), app: null, note: 'a Vite plugin: runs in Node at build time, sends no JS to the browser' };
  return entries;
}

/** The tarball npm would publish, from dist/ and assets/ as built (no scripts run: the build came first). */
function tarball() {
  const [t] = JSON.parse(sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT));
  return { size: t.size, unpackedSize: t.unpackedSize, files: t.entryCount, command: 'npm pack --dry-run --json --ignore-scripts' };
}

/** What kind of thing a fetched path is. */
function kindOf(path, contentType) {
  if (/\/models\//.test(path)) return 'models';
  if (path.endsWith('.wasm')) return 'wasm';
  if (/\.m?js$/.test(path)) return 'js';
  if (path.endsWith('/') || path.endsWith('.html') || /text\/html/.test(contentType ?? '')) return 'html';
  return 'other';
}
const KINDS = ['html', 'js', 'wasm', 'models', 'other'];

/**
 * A static server over `mounts` ([url prefix, folder], longest first), gzipping every response
 * (level 6) when the request accepts it; each response is logged (path, raw and sent bytes).
 */
function gzipServer(mounts, port) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  const cache = new Map();
  const log = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const file = mount ? join(mount[1], path.slice(mount[0].length) || 'index.html') : null;
    if (!file || !file.startsWith(mount[1]) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    // No cache-control: a fresh profile has nothing cached (and with no-store Playwright misses the requestfinished of large bodies).
    const headers = { 'content-type': types[extname(file)] ?? 'application/octet-stream' };
    let sent = body;
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      if (!cache.has(file)) cache.set(file, gzipSync(body, { level: 6 }));
      sent = cache.get(file);
      headers['content-encoding'] = 'gzip';
    }
    log.push({ path, raw: body.length, sent: sent.length });
    res.writeHead(200, { ...headers, 'content-length': sent.length }).end(sent);
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok({ server, log })));
}

/**
 * One first visit: a fresh browser profile loads `url`, waits for face-login-ready (or -error),
 * then until no request is in flight and none started for 1.5 s; every finished response's
 * transferred and decoded body size.
 */
async function visit(url, extraArgs = []) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.faceLoginEvents = [];
      for (const type of ['ready', 'error']) document.addEventListener(`face-login-${type}`, (e) => window.faceLoginEvents.push({ type, detail: e.detail }), true);
    });
    const resources = [];
    const pending = [];
    let last = Date.now();
    let inFlight = 0;
    page.on('request', () => {
      inFlight++;
      last = Date.now();
    });
    page.on('requestfailed', () => {
      inFlight--;
      last = Date.now();
    });
    page.on('requestfinished', (r) => {
      inFlight--;
      last = Date.now();
      pending.push(
        (async () => {
          const response = await r.response();
          const { responseBodySize } = await r.sizes();
          const body = await response.body();
          const path = new URL(r.url()).pathname;
          resources.push({ path, kind: kindOf(path, response.headers()['content-type']), status: response.status(), transferred: responseBodySize, decoded: body.length, encoding: response.headers()['content-encoding'] ?? 'identity' });
        })(),
      );
    });
    page.on('requestfailed', (r) => resources.push({ path: new URL(r.url()).pathname, kind: 'failed', status: 0, transferred: 0, decoded: 0, encoding: r.failure()?.errorText }));
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => window.faceLoginEvents.length > 0, null, { timeout: 180_000 });
    const ms = Date.now() - t0;
    const [event] = await page.evaluate(() => window.faceLoginEvents);
    const settleBy = Date.now() + 60_000;
    while ((inFlight > 0 || Date.now() - last < 1500) && Date.now() < settleBy) await new Promise((ok) => setTimeout(ok, 250));
    await Promise.all(pending);
    if (event.type !== 'ready') throw new Error(`${url}: face-login-error ${JSON.stringify(event.detail)}`);
    const byKind = Object.fromEntries(KINDS.map((k) => [k, { files: 0, transferred: 0, decoded: 0 }]));
    for (const r of resources) {
      const k = byKind[r.kind] ?? (byKind[r.kind] = { files: 0, transferred: 0, decoded: 0 });
      k.files++;
      k.transferred += r.transferred;
      k.decoded += r.decoded;
    }
    const total = resources.reduce((t, r) => ({ files: t.files + 1, transferred: t.transferred + r.transferred, decoded: t.decoded + r.decoded }), { files: 0, transferred: 0, decoded: 0 });
    resources.sort((a, b) => b.decoded - a.decoded);
    return { backend: event.detail.backend, backendReason: event.detail.backendReason, readyMs: ms, total, byKind, resources };
  } finally {
    await browser.close();
  }
}

/** The browser's first visits: the Vite app (plugin) and the bundle page, each with the default, wasm and webgl backends. */
async function firstVisits() {
  const app = mkdtempSync(join(tmpdir(), 'face-login-first-visit-'));
  const site = mkdtempSync(join(tmpdir(), 'face-login-first-visit-site-'));
  const runs = {};
  try {
    // The Vite app: `import 'face-login'`, the plugin, the element made from the query string.
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules/face-login'), 'dir');
    writeFileSync(join(app, 'index.html'), '<!doctype html>\n<html lang="en"><head><meta charset="utf-8" /><title>first visit</title></head>\n<body><script type="module" src="/main.js"></script></body></html>\n');
    writeFileSync(join(app, 'main.js'), "import 'face-login';\nconst el = document.createElement('face-login');\nfor (const [k, v] of new URLSearchParams(location.search)) el.setAttribute(k, v);\ndocument.body.append(el);\n");
    const { default: faceLogin } = await import(pathToFileURL(join(ROOT, 'dist/vite.js')).href);
    await build({ root: app, configFile: false, logLevel: 'silent', plugins: [faceLogin()], build: { outDir: join(app, 'dist'), reportCompressedSize: false } });
    // The plain page: face-login/bundle, the assets where `npx face-login assets face-login` puts them.
    writeFileSync(
      join(site, 'index.html'),
      '<!doctype html>\n<meta charset="utf-8" />\n<script type="module" src="/node_modules/face-login/dist/bundle/face-login.js"></script>\n<face-login asset-base="/face-login/"></face-login>\n<script>for (const [k, v] of new URLSearchParams(location.search)) document.querySelector(\'face-login\').setAttribute(k, v);</script>\n',
    );
    const pages = {
      "vite-app (import 'face-login' + face-login/vite)": [['/', join(app, 'dist')]],
      'plain page (face-login/bundle + assets at /face-login/)': [
        ['/node_modules/face-login/dist/', join(ROOT, 'dist') + '/'],
        ['/face-login/', join(ROOT, 'assets') + '/'],
        ['/', site + '/'],
      ],
    };
    // WebGL in headless Chromium with no GPU: SwiftShader, which Chromium only allows with this flag.
    const backends = [
      ['default (auto)', '', []],
      ['wasm', 'backend=wasm', []],
      ['webgl', 'backend=webgl', ['--enable-unsafe-swiftshader']],
      // The lighter detector option (issue 14): the same BlazeFace as a TF.js graph, no MediaPipe wasm.
      ['wasm, detector tfjs', 'backend=wasm&detector=tfjs', []],
      ['webgl, detector tfjs', 'backend=webgl&detector=tfjs', ['--enable-unsafe-swiftshader']],
    ];
    for (const [name, mounts] of Object.entries(pages)) {
      const { server, log } = await gzipServer(mounts, PORT);
      try {
        for (const [label, query, extra] of backends) {
          log.length = 0;
          const r = await visit(`http://127.0.0.1:${PORT}/${query ? `?${query}` : ''}`, extra);
          // The server saw exactly what the browser reported, byte for byte.
          const seen = log.map((l) => `${l.path} ${l.sent}`).sort();
          const reported = r.resources.filter((x) => x.status === 200).map((x) => `${x.path} ${x.transferred}`).sort();
          if (JSON.stringify(seen) !== JSON.stringify(reported)) throw new Error(`${name} ${label}: the server log and the browser differ:\n${seen.join("\n")}\n--\n${reported.join("\n")}\n-- not 200:\n${JSON.stringify(r.resources.filter((x) => x.status !== 200))}`);
          runs[`${name}, backend ${label}`] = { page: name, backend: label, flags: extra, ...r };
          console.error(`first visit: ${name}, ${label}: ${kb(r.total.transferred)} transferred, ${kb(r.total.decoded)} decoded, ${r.total.files} files, backend ${r.backend} (${r.readyMs} ms)`);
        }
      } finally {
        await new Promise((ok) => server.close(ok));
      }
    }
    return runs;
  } finally {
    rmSync(app, { recursive: true, force: true });
    rmSync(site, { recursive: true, force: true });
  }
}

if (!noBuild) sh('npm', ['run', 'build:lib'], ROOT);
if (!existsSync(join(ROOT, 'dist/bundle/face-login.js'))) throw new Error('dist/bundle/face-login.js is missing: run `npm run build:lib`');

const commit = sh('git', ['rev-parse', '--short', 'HEAD'], ROOT).trim();
const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'package.json', 'vite.lib.config.ts', 'vite.bundle.config.ts'], ROOT).trim() !== '';
const results = {
  command: `node bench/runners/bundle-size.mjs${beforeRef ? ` --before ${beforeRef}` : ''}${noBuild ? ' --no-build' : ''}${noBrowser ? ' --no-browser' : ''}`,
  date: new Date().toISOString(),
  tree: `${commit}${dirty ? ' + working-tree changes' : ''}`,
  vite: JSON.parse(readFileSync(join(ROOT, 'node_modules/vite/package.json'), 'utf8')).version,
  chromium: noBrowser ? null : sh(CHROMIUM, ['--version'], ROOT).trim(),
  method: 'JS only; first visit with backend="wasm" = entry + static imports + the tfjs-backend-wasm chunk and its static imports; gzip = zlib level 6 per file',
  entries: {},
  tarball: null,
  packageEntries: null,
  firstVisitMethod:
    'headless Chromium, a fresh profile per load; the page loaded until face-login-ready, then until nothing is in flight and nothing started for 1.5 s; every response summed: transferred = response body bytes as received (the server gzips every response at level 6), decoded = without compression; kinds by path (models = under /models/)',
  firstVisit: null,
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
results.tarball = tarball();
results.packageEntries = await entrySizes();
if (!noBrowser) results.firstVisit = await firstVisits();

const out = join(ROOT, 'bench/results');
writeFileSync(join(out, 'bundle-size.json'), JSON.stringify(results, null, 2) + '\n');
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const size = (n) => (n >= 1e6 ? mb(n) : kb(n));
const md = [
  '# Bundle size and first-visit bytes',
  '',
  `Made by \`${results.command}\` on ${results.date.slice(0, 10)} (tree ${results.tree}, Vite ${results.vite}${results.chromium ? `, ${results.chromium}` : ''}).`,
  '',
  ...(results.firstVisit
    ? [
        '## First visit in the browser: everything fetched until the element is ready',
        '',
        `${results.firstVisitMethod}. No camera is opened (no autostart): this is what the page costs before the person presses the button. "js" includes MediaPipe's wasm loader (wasm/mediapipe/vision_wasm_internal.js, 335 kB); "wasm" is MediaPipe's detector runtime (13.0 MB) plus, on the WASM backend, TF.js's tfjs-backend-wasm-simd.wasm. "auto" picks WASM here because headless Chromium has no GPU (software GL); on a real GPU it picks WebGL: the webgl rows (run with --enable-unsafe-swiftshader).`,
        '',
        `| page, backend | chosen | total transferred (gzip) | decoded | ${KINDS.map((k) => `${k}: transferred / decoded`).join(' | ')} | files | ready after |`,
        `|---|---|---:|---:|${KINDS.map(() => '---:').join('|')}|---:|---:|`,
        ...Object.entries(results.firstVisit).map(
          ([name, r]) =>
            `| ${name} | ${r.backend} | ${size(r.total.transferred)} | ${size(r.total.decoded)} | ${KINDS.map((k) => `${size(r.byKind[k].transferred)} / ${size(r.byKind[k].decoded)}`).join(' | ')} | ${r.total.files} | ${(r.readyMs / 1000).toFixed(1)} s |`,
        ),
        '',
        ...Object.entries(results.firstVisit).flatMap(([name, r]) => [
          `<details><summary>${name}: ${r.total.files} files (backend ${r.backend}: ${r.backendReason ?? ''})</summary>`,
          '',
          '| file | kind | transferred | decoded |',
          '|---|---|---:|---:|',
          ...r.resources.map((x) => `| ${x.path} | ${x.kind} | ${size(x.transferred)} | ${size(x.decoded)} |`),
          '',
          '</details>',
          '',
        ]),
      ]
    : []),
  '## The package',
  '',
  `Tarball (\`${results.tarball.command}\`, after the build): **${mb(results.tarball.size)}**, ${mb(results.tarball.unpackedSize)} unpacked, ${results.tarball.files} files.`,
  '',
  'Per entry: its own files in dist/ (dependencies external; raw / gzip), and a fresh Vite app that imports all of its exports (`import * as m from ...`; `import \'face-login\'` for the element) built: the JS loaded at once (entry + static imports) and all the JS built (dynamic chunks such as the TF.js backends included). React and react-dom are external for face-login/react.',
  '',
  '| entry | dist files | dist: raw | gzip | in an app, at once: raw | gzip | in an app, all JS: raw | gzip |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...Object.entries(results.packageEntries).map(([name, e]) =>
    e.app
      ? `| ${name} | ${e.dist.files.join(', ')} | ${kb(e.dist.raw)} | ${kb(e.dist.gzip)} | ${kb(e.app.firstLoad.raw)} | ${kb(e.app.firstLoad.gzip)} | ${kb(e.app.allJs.raw)} | ${kb(e.app.allJs.gzip)} |`
      : `| ${name} | ${e.dist.files.join(', ')} | ${kb(e.dist.raw)} | ${kb(e.dist.gzip)} | ${e.note} | | | |`,
  ),
  '',
  'face-login/bundle: the shipped dist/bundle/ files as a plain page loads them (no app build).',
  '',
  '## JS on first visit from the chunk graph',
  '',
  `${results.method}. Models and wasm come on top (above: the browser's count).`,
  '',
  '| entry | first visit, backend="wasm": raw | gzip | chunks fetched | all JS built: raw | gzip | files |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...Object.entries(results.entries).map(([name, r]) => `| ${name} | ${kb(r.firstVisitWasm.raw)} | ${kb(r.firstVisitWasm.gzip)} | ${r.firstVisitWasm.chunks.length} | ${kb(r.allJs.raw)} | ${kb(r.allJs.gzip)} | ${r.allJs.files} |`),
  '',
  ...Object.entries(results.entries).flatMap(([name, r]) => [
    `### ${name}`,
    '',
    '| chunk | fetched (wasm) | raw | gzip | contains |',
    '|---|:---:|---:|---:|---|',
    ...[...r.firstVisitWasm.chunks.map((c) => ({ ...c, fetched: 'yes' })), ...r.notFetched.map((c) => ({ ...c, fetched: 'no' }))].map((c) => `| ${c.file} | ${c.fetched} | ${kb(c.raw)} | ${kb(c.gzip)} | ${c.contains.join(', ')} |`),
    '',
  ]),
].join('\n');
writeFileSync(join(out, 'bundle-size.md'), md);
console.log(md);
