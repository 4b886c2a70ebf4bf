/**
 * Shared plumbing for the browser benchmarks (bench/runners/, bench/liveness/): Vite on a free port, headless
 * Chromium (plain or with a fresh profile and a fake camera), a static server for built output,
 * photo routes, machine info, statistics and result files.
 *
 * Nothing here knows about a particular benchmark. Every helper takes what it needs as
 * arguments so that bench/runners/accuracy.mjs and bench/runners/speed.mjs can share it.
 */
import { createServer as createViteServer, build as viteBuild } from 'vite';
import { chromium } from '@playwright/test';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const FAKE_CAMERA_ARGS = ['--use-fake-device-for-media-stream'];
export const DEFAULT_LFW = resolve(process.env.LFW_DIR ?? join(process.env.FACES_DIR ?? join(ROOT, '..', 'shared', 'faces'), 'lfw-deepfunneled'));
/** Console lines MediaPipe's wasm prints on stderr (GL / XNNPACK notes): not errors of ours. */
export const CONSOLE_NOISE = /GL Driver Message|OpenGL error checking|XNNPACK delegate|Feedback manager requires|Created TensorFlow Lite|GPU stall due to ReadPixels|WebGL: INVALID|Graph successfully started|willReadFrequently/;

// ---------------------------------------------------------------------------------------------
// Logging

export function makeLog(tag) {
  return (...a) => console.log(`[${tag} ${new Date().toISOString().slice(11, 19)}]`, ...a);
}

export function fmtDur(s) {
  if (s < 60) return `${s.toFixed(1)}s`;
  const r = Math.round(s);
  return `${Math.floor(r / 60)}m ${String(r % 60).padStart(2, '0')}s`;
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Linear-interpolated percentile (R type 7, numpy default) of the finite values; null when empty. */
export function percentile(xs, p) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = (v.length - 1) * (p / 100);
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return v[lo] + (v[hi] - v[lo]) * (h - lo);
}

export const median = (xs) => percentile(xs, 50);

export function mean(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** { n, median, p95, mean, min, max } of a list of samples (milliseconds, usually). */
export function summarize(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  return {
    n: v.length,
    median: median(v),
    p95: percentile(v, 95),
    mean: mean(v),
    min: v.length ? Math.min(...v) : null,
    max: v.length ? Math.max(...v) : null,
  };
}

/** Rounds every number in a JSON-able value to `digits` decimals (keeps result files small). */
export function roundDeep(x, digits = 3) {
  if (typeof x === 'number') return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
  if (Array.isArray(x)) return x.map((y) => roundDeep(y, digits));
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, roundDeep(v, digits)]));
  return x;
}

// ---------------------------------------------------------------------------------------------
// Machine and source info

export function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    return m ? m[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

export function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

export function git(...a) {
  try {
    return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * CPU, cores, memory, OS, node, Chromium (from a launched browser or `chromiumVersion`),
 * git commit and dirty paths, and the versions of `packages`.
 */
export function machineInfo({ browser = null, chromiumVersion = null, packages = [], dirtyPaths = ['src', 'bench', 'vite.config.ts'] } = {}) {
  let chromiumV = chromiumVersion ?? browser?.version() ?? null;
  if (!chromiumV) {
    try {
      chromiumV = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      chromiumV = null;
    }
  }
  return {
    cpu: cpuModel(),
    cpus: os.cpus().length,
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium: chromiumV,
    chromiumPath: CHROMIUM,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    gitCommit: git('rev-parse', 'HEAD'),
    gitDirty: git('status', '--porcelain', '--', ...dirtyPaths)?.split('\n').filter(Boolean) ?? null,
    versions: Object.fromEntries(packages.map((p) => [p, pkgVersion(p)])),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

export function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * Vite dev server with the repo's vite.config.ts on a free port, without watcher or HMR (an edit
 * elsewhere in the repo must not reload a page mid-run). `cacheDir` should be private to one
 * benchmark: two servers with different `optimizeDepsInclude` sharing a cache re-optimise each other.
 */
export async function startVite({ cacheDir = 'node_modules/.vite-bench', plugins = [], optimizeDepsInclude = [], log = () => {} } = {}) {
  const port = await freePort();
  const server = await createViteServer({
    configFile: join(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'warn',
    clearScreen: false,
    cacheDir: resolve(ROOT, cacheDir),
    plugins,
    optimizeDeps: { include: optimizeDepsInclude },
    server: { host: '127.0.0.1', port, strictPort: true, open: false, hmr: false, watch: null },
  });
  await server.listen();
  const origin = `http://127.0.0.1:${port}`;
  log(`vite at ${origin}`);
  return { server, origin, close: () => server.close() };
}

/**
 * A Vite plugin that serves `prefix` + file from `dir` byte for byte (no transform), with `headers`.
 * `prefix` may also be a RegExp: a matching path is then served as `dir` + the path's last segment.
 */
export function serveDirPlugin(prefix, dir, headers = {}) {
  const root = resolve(dir);
  const rootSep = root.endsWith(sep) ? root : root + sep;
  const rel = (path) => (prefix instanceof RegExp ? (prefix.test(path) ? path.slice(path.lastIndexOf('/') + 1) : null) : path.startsWith(prefix) ? path.slice(prefix.length) : null);
  return {
    name: `bench-serve-dir:${prefix}`,
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]);
        const r = rel(path);
        if (r === null) return next();
        const file = resolve(root, r);
        if (!file.startsWith(rootSep)) {
          res.statusCode = 403;
          return res.end('forbidden');
        }
        try {
          const body = await readFile(file);
          res.setHeader('Content-Type', contentType(file));
          res.setHeader('Content-Length', body.byteLength);
          for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
          res.end(body);
        } catch {
          res.statusCode = 404;
          res.end('not found');
        }
      });
    },
  };
}

/**
 * A Vite plugin that serves the HTML page at `path` itself (still through Vite's HTML transform)
 * with the response headers `headers(url)` returns instead of server.headers: e.g. COOP/COEP for
 * a cross-origin-isolated page, or another CSP. (A Playwright-fulfilled document would lose its
 * local address space, and Chromium then blocks its requests to 127.0.0.1 such as Vite's socket.)
 */
export function pageHeadersPlugin(path, headers) {
  return {
    name: `bench-page-headers:${path}`,
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const url = req.url ?? '';
        if (url.split('?')[0] !== path) return next();
        try {
          const html = await server.transformIndexHtml(url, await readFile(join(ROOT, path), 'utf8'));
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          for (const [k, v] of Object.entries(headers(new URL(url, 'http://x')))) res.setHeader(k, v);
          res.end(html);
        } catch (e) {
          next(e);
        }
      });
    },
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};
export const contentType = (file) => TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';

/**
 * Minimal static server for a build folder (what a production host does): ETag + Last-Modified
 * revalidation (304), `cacheControl(path)` per file, `/dir/` -> `/dir/index.html`, no compression.
 * Every response is appended to `log` as { path, status, bytes, t } so a benchmark can count the
 * bytes a visit really downloaded.
 */
export async function startStaticServer(dir, { cacheControl = () => 'no-cache', headers = {}, log: logFn = () => {} } = {}) {
  const root = resolve(dir);
  const rootSep = root.endsWith(sep) ? root : root + sep;
  const requests = [];
  const server = createHttpServer((req, res) => {
    let path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(root, '.' + path);
    const record = (status, bytes) => requests.push({ path, status, bytes, t: Date.now() });
    if (!file.startsWith(rootSep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      record(404, 0);
      return;
    }
    const st = statSync(file);
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const common = { ETag: etag, 'Last-Modified': st.mtime.toUTCString(), 'Cache-Control': cacheControl(path), ...headers };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, common);
      res.end();
      record(304, 0);
      return;
    }
    res.writeHead(200, { ...common, 'Content-Type': contentType(file), 'Content-Length': st.size });
    if (req.method === 'HEAD') {
      res.end();
      record(200, 0);
      return;
    }
    createReadStream(file).pipe(res);
    record(200, st.size);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${port}`;
  logFn(`static server for ${dir} at ${origin}`);
  return {
    origin,
    requests,
    /** Requests logged since `mark` (an index into `requests`). */
    since: (mark) => requests.slice(mark),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Builds the demo with the repo's vite.config.ts into `outDir` (not demo-dist/, so parallel work is not disturbed). */
export async function buildDemo(outDir) {
  const t = Date.now();
  await viteBuild({
    configFile: join(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'warn',
    build: { outDir: resolve(ROOT, outDir), emptyOutDir: true },
  });
  return (Date.now() - t) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Browser

export async function launchChromium({ args = [] } = {}) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
}

/** A persistent context (on-disk profile: IndexedDB and HTTP cache on disk, as for a real user). */
export async function launchPersistent(userDataDir, { args = [] } = {}) {
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/**
 * A persistent context (its own profile in `userDataDir`: a fresh folder means an empty HTTP
 * cache) with a fake camera playing `y4m` and the camera permission granted for `origin`.
 */
export async function launchWithFakeCamera(userDataDir, { y4m, origin, args = [] } = {}) {
  const a = [...CHROMIUM_ARGS, ...FAKE_CAMERA_ARGS, ...args];
  if (y4m) a.push(`--use-file-for-fake-video-capture=${y4m}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: a,
    permissions: ['camera'],
    ...(origin ? { baseURL: origin } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** Logs page errors and non-noise console errors, and collects off-origin requests into `offOrigin`. */
export function watchPage(page, { origin, log = () => {}, offOrigin = [], noise = CONSOLE_NOISE } = {}) {
  page.on('pageerror', (e) => log('page error:', e.message));
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !noise.test(m.text())) log(`page ${m.type()}:`, m.text().slice(0, 300));
  });
  page.on('response', (r) => {
    if (r.status() >= 400) log(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (/^https?:/.test(u) && new URL(u).origin !== origin) offOrigin.push(`${r.method()} ${u}`);
  });
  return offOrigin;
}

/**
 * Serves `/__faces/<rel>.jpg` to the page from `dir` on disk (photos are never copied into the
 * repo or a build). Returns a counter object { served }.
 */
export async function routeFaces(page, dir = DEFAULT_LFW, prefix = '/__faces/') {
  const root = resolve(dir);
  const rootSep = root.endsWith(sep) ? root : root + sep;
  const counter = { served: 0 };
  await page.route(`**${prefix}**`, async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.slice(prefix.length));
    const file = resolve(root, rel);
    if (!file.startsWith(rootSep) || !/\.jpe?g$/i.test(file)) return route.fulfill({ status: 403, body: 'forbidden' });
    try {
      const body = await readFile(file);
      counter.served++;
      return route.fulfill({ status: 200, contentType: 'image/jpeg', body });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  return counter;
}

/** A 640x480 one-frame y4m (letterboxed, as e2e/support/clips.ts makes them) of `photo`, cached in `outDir`. */
export function y4mFromPhoto(photo, outDir, name) {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}.y4m`);
  const fresh = existsSync(out) && statSync(out).mtimeMs >= statSync(photo).mtimeMs;
  if (!fresh) {
    const fit = 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,format=yuv420p';
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-i', photo, '-vf', fit, '-frames:v', '1', '-r', '15', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results

/** A markdown table; cells are stringified as they are. */
export function mdTable(headers, rows, align = []) {
  const sepRow = headers.map((_, i) => (align[i] === 'r' ? '---:' : align[i] === 'c' ? ':---:' : '---'));
  return [`| ${headers.join(' | ')} |`, `| ${sepRow.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * Writes a result file. A `.gz` name is gzipped (level 9; the gzip header carries no name or
 * time, so the same text gives the same bytes): the raw per-pair / per-sample JSON, hundreds of
 * kB as text, is committed that way; summaries stay plain text.
 */
export function writeResultFile(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(text, { level: 9 }) : text);
}

/** Reads a result JSON written by writeResultFile (gunzipped when its name ends in `.gz`). */
export function readResultJson(file) {
  const buf = readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8'));
}

/** Writes `<outDir>/<base>.json.gz` (raw samples; pretty, 1-space indent) and `<outDir>/<base>.md`; returns their paths. */
export function writeResults(outDir, base, report, md) {
  const json = join(outDir, `${base}.json.gz`);
  const mdPath = join(outDir, `${base}.md`);
  writeResultFile(json, JSON.stringify(report, null, 1) + '\n');
  writeResultFile(mdPath, md.endsWith('\n') ? md : md + '\n');
  return { json, md: mdPath };
}
