import { defineConfig } from 'vite';
import { resolve } from 'node:path';

/**
 * face-login/vite (src/vite-plugin/): the Vite plugin, one ESM file for Node, built after the
 * browser bundles into the same dist/ (so it must not empty it). Its types come from
 * tsconfig.vite-plugin.json (dist/types/vite-plugin/).
 */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node20',
    ssr: true,
    lib: {
      entry: { vite: resolve(import.meta.dirname, 'src/vite-plugin/index.ts') },
      formats: ['es'],
    },
    rollupOptions: { external: [/^node:/, /^vite$/], output: { entryFileNames: '[name].js' } },
    sourcemap: true,
  },
});
