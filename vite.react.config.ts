import { defineConfig, type Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const elementModule = resolve(import.meta.dirname, 'src/element/face-login.ts');

/**
 * The wrapper imports the element from src/ (so it type-checks before a build); in the package it
 * takes the one registered by the main entry, `face-login`, so a page importing both gets one
 * class and one definition, and dist/face-login.js stays a single file.
 */
const elementFromMainEntry: Plugin = {
  name: 'face-login: element from the main entry',
  enforce: 'pre',
  async resolveId(source, importer, options) {
    if (!importer?.includes('/src/react/')) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    return resolved?.id === elementModule ? { id: 'face-login', external: true } : null;
  },
};

const litReact = JSON.parse(readFileSync(resolve(import.meta.dirname, 'node_modules/@lit/react/package.json'), 'utf8')) as { version: string };
/** @lit/react is inlined: its notice goes with it (the bundler drops its @license comment). */
const banner = `/**\n * Contains @lit/react ${litReact.version}: Copyright 2018 Google LLC, SPDX-License-Identifier: BSD-3-Clause\n */`;

/**
 * face-login/react (src/react/): the @lit/react wrapper, one ESM file built after the browser
 * bundles into the same dist/ (so it must not empty it). @lit/react is inlined (a devDependency);
 * react stays the page's (an optional peer dependency). Types from tsconfig.build.json
 * (dist/types/react/, dist/types/vue/).
 */
export default defineConfig({
  publicDir: false,
  plugins: [elementFromMainEntry],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    lib: {
      entry: { react: resolve(import.meta.dirname, 'src/react/index.ts') },
      formats: ['es'],
    },
    rollupOptions: { external: [/^react($|\/)/, /^face-login$/], output: { entryFileNames: '[name].js', postBanner: banner } },
    sourcemap: true,
  },
});
