import { defineConfig, type Plugin } from 'vite';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

/**
 * face-login/bundle (dist/bundle/): the element entry (src/index.ts) for a page with no bundler
 * and no import map, `<script type="module" src=".../dist/bundle/face-login.js">`. Every
 * dependency is inlined (lit, idb, typebox, @tensorflow/*, @mediapipe/tasks-vision, and what
 * they import: seedrandom, long); nothing is fetched from a CDN (models and wasm come from the
 * page's asset base, as with the other entries). Each TF.js backend stays a chunk of its own,
 * imported by a relative URL only when it is chosen (src/adapters/embedder/tf-backend.ts).
 * The Node-only modules TF.js names (fs, path, os, perf_hooks, crypto, worker_threads, …) are
 * behind its Node checks and never run in a browser: Vite's browser resolution (the packages'
 * `browser` fields) makes them empty modules, and `nodeOnlyStubs` catches any that are left.
 * Built after vite.lib.config.ts (which empties dist/); types are the main entry's.
 */

const NODE_ONLY = /^(node:)?(fs|path|os|perf_hooks|crypto|worker_threads|util|url|child_process|module|string_decoder|buffer|stream|http|https|zlib|node-fetch)$/;
const STUB = '\0face-login:node-only-stub';

const nodeOnlyStubs: Plugin = {
  name: 'face-login: node-only stubs',
  enforce: 'pre',
  resolveId(source) {
    return NODE_ONLY.test(source) ? STUB : null;
  },
  load(id) {
    return id === STUB ? 'export default {};' : null;
  },
};

/** The npm package a bundled module comes from (the folder of its nearest package.json with a name). */
function packageOf(id: string): { name: string; version: string; license: string } | null {
  const at = id.lastIndexOf(`${sep}node_modules${sep}`);
  if (at < 0) return null;
  let dir = dirname(id.split('?')[0]!);
  while (dir.length > at) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string; license?: string };
      if (pkg.name && pkg.version) return { name: pkg.name, version: pkg.version, license: pkg.license ?? 'see its package' };
    }
    dir = dirname(dir);
  }
  return null;
}

/** The bundler drops the inlined packages' @license comments: each chunk names what it contains and under which licence. */
const notices: Plugin = {
  name: 'face-login: licence notices',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const found = new Map<string, string>();
      for (const id of chunk.moduleIds) {
        const pkg = packageOf(id);
        if (pkg) found.set(pkg.name, `${pkg.name} ${pkg.version} (${pkg.license})`);
      }
      if (found.size === 0) continue;
      const lines = [...found.keys()].sort().map((k) => ` *   ${found.get(k)}`);
      chunk.code = `/**\n * face-login bundle. Contains, each under its own licence (see its package on npm):\n${lines.join('\n')}\n */\n${chunk.code}`;
    }
  },
};

export default defineConfig({
  publicDir: false,
  plugins: [nodeOnlyStubs, notices],
  // Lib mode leaves process.env.NODE_ENV alone; a page has no `process`.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: 'dist/bundle',
    emptyOutDir: true,
    target: 'es2022',
    lib: {
      entry: { 'face-login': resolve(import.meta.dirname, 'src/index.ts') },
      formats: ['es'],
    },
    rollupOptions: {
      // A backend's chunk is named after it (tfjs-backend-wasm-<hash>.js): what a page fetches reads in its network log.
      output: {
        // Lib mode keeps ES output unminified (for the site's own bundler): this file is the last step, minify it.
        minify: true,
        entryFileNames: '[name].js',
        chunkFileNames: (chunk) => {
          const backend = chunk.moduleIds.map((id) => /tfjs-backend-(webgl|wasm|cpu)[\\/]dist[\\/]index\.js$/.exec(id)?.[1]).find(Boolean);
          return backend ? `chunks/tfjs-backend-${backend}-[hash].js` : 'chunks/[name]-[hash].js';
        },
      },
    },
    minify: true,
    // No maps: they would add ~13 MB to the package for a file meant to be dropped into a page.
    sourcemap: false,
  },
});
