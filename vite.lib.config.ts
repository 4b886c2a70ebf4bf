import { defineConfig } from 'vite';
import { resolve } from 'node:path';

/** Library build: ESM bundles of the element entry and the headless (no Lit) entry. */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    lib: {
      entry: {
        'face-login': resolve(import.meta.dirname, 'src/index.ts'),
        headless: resolve(import.meta.dirname, 'src/headless.ts'),
      },
      formats: ['es'],
    },
    rollupOptions: {
      external: [/^@tensorflow\//, /^@mediapipe\//, /^lit/, /^idb/, /^@sinclair\/typebox/],
    },
    sourcemap: true,
  },
});
