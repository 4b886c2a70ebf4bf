import { defineConfig } from 'vite';
import { resolve } from 'node:path';

/**
 * face-login/server-client (src/server-client/): one ESM file for the site's backend (Node >= 20,
 * Deno, Bun, workers), built after the browser bundles into the same dist/ (so it must not empty
 * it). jose and TypeBox stay dependencies; its types come from tsconfig.build.json (dist/types).
 */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    lib: {
      entry: { 'server-client': resolve(import.meta.dirname, 'src/server-client/index.ts') },
      formats: ['es'],
    },
    rollupOptions: { external: [/^jose/, /^@sinclair\/typebox/] },
    sourcemap: true,
  },
});
