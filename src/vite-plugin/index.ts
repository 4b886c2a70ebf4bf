/**
 * face-login/vite: serves face-login's assets (the package's assets/: models/ and wasm/) in dev,
 * emits them into the build, and tells the page where they are.
 *
 *   // vite.config.ts
 *   import faceLogin from 'face-login/vite';
 *   export default { plugins: [faceLogin()] };
 *
 * - dev: `<base>face-login/models/...` and `<base>face-login/wasm/...`
 *   answer from the package; any other path under `<base>face-login/` is a 404, never the SPA's
 *   index.html (so a wrong URL fails with a message that names it).
 * - build: the same files are emitted to `<outDir>/face-login/`.
 * - the page: every HTML page Vite serves or builds gets
 *   `<meta name="face-login-asset-base" content="<base>face-login/">`, which the element and
 *   createFaceAuth() read when no `asset-base`, `models-url` / `wasm-url` or setBasePath() says
 *   otherwise. Without an HTML entry (SSR frameworks), call setBasePath('/face-login/') yourself.
 *
 * Node only; `vite` is needed for its types alone.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin, ResolvedConfig } from 'vite';
import { ASSET_BASE_META } from '../asset-base.js';

export interface FaceLoginViteOptions {
  /** The URL path under Vite's `base` the assets are served and emitted at. Default 'face-login'. */
  path?: string;
  /** The assets folder (holds models/ and wasm/). Default: the face-login package's assets/. */
  assetsDir?: string;
}

/** The package's assets/ folder: found upwards from this file (dist/vite.js or src/vite-plugin/index.ts). */
export function packageAssetsDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'face-login') return join(dir, 'assets');
    if (dirname(dir) === dir) throw new Error(`face-login/vite: the face-login package root was not found above ${from}`);
  }
}

const TYPES: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.js': 'text/javascript',
  '.json': 'application/json',
};

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

export default function faceLogin(options: FaceLoginViteOptions = {}): Plugin {
  const path = (options.path ?? 'face-login').replace(/^\/+|\/+$/g, '');
  let assetsDir = '';
  let publicBase = '';
  let config: ResolvedConfig;

  const missingAssets = () =>
    new Error(`face-login/vite: ${join(assetsDir, 'models/manifest.json')} is missing. In a clone of face-login run \`npm run build\` (or node scripts/build-assets.mjs) first.`);

  /** Connect middleware: files under `publicBase`, a 404 for anything else there. */
  const serve = (req: { url?: string; method?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    const url = (req.url ?? '').split('?')[0]!;
    if (!url.startsWith(publicBase)) return next();
    const rel = decodeURIComponent(url.slice(publicBase.length));
    const file = resolve(assetsDir, rel);
    if (!file.startsWith(assetsDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`face-login/vite: no asset ${rel} (the package's assets/ has models/ and wasm/)`);
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  };

  return {
    name: 'face-login',
    configResolved(resolved) {
      config = resolved;
      assetsDir = resolve(options.assetsDir ?? packageAssetsDir());
      const base = resolved.base.endsWith('/') ? resolved.base : resolved.base + '/';
      publicBase = `${base}${path}/`;
    },
    configureServer(server) {
      if (!existsSync(join(assetsDir, 'models/manifest.json'))) throw missingAssets();
      // Before Vite's own middlewares, so its SPA fallback never answers for an asset.
      server.middlewares.use(serve);
    },
    transformIndexHtml() {
      return [{ tag: 'meta', attrs: { name: ASSET_BASE_META, content: publicBase }, injectTo: 'head-prepend' }];
    },
    generateBundle() {
      if (config.build.ssr) return;
      if (!existsSync(join(assetsDir, 'models/manifest.json'))) throw missingAssets();
      for (const file of listFiles(assetsDir)) {
        this.emitFile({ type: 'asset', fileName: `${path}/${file}`, source: readFileSync(join(assetsDir, file)) });
      }
    },
  };
}
