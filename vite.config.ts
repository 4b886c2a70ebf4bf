import { defineConfig, type Plugin } from 'vite';
import { resolve } from 'node:path';
import { demoSiteBackend } from './demo/site-backend.js';

/**
 * Dev server and demo build. The repo root is the Vite root so that the demo (/demo/),
 * the browser-test harness (/tests/browser/) and the e2e pages share one server;
 * public/ (models and wasm prepared by scripts/prepare-models.mjs) is served at /.
 *
 * The demo is built to demo-dist/. Test photos under ../shared/faces are never imported
 * by anything in src/ or demo/, so they cannot end up in a build.
 */
/**
 * connect-src: the page's own origin, plus exactly the verification server's origin when there
 * is one: VITE_FACE_LOGIN_SERVER (set by `npm start`, scripts/start.mjs; the demo then uses it)
 * and FACE_LOGIN_TEST_BACKEND (set by playwright.config.ts for the backend that e2e/online.e2e.ts
 * starts), and FACE_LOGIN_DEMO_BACKEND (the server the demo's site backend, demo/site-backend.ts,
 * opens sessions on: the page uploads its frames there). Without any, nothing but 'self' may be fetched.
 */
function originOf(name: string): string | null {
  const value = process.env[name];
  if (!value) return null;
  try {
    return new URL(value).origin;
  } catch {
    throw new Error(`${name}="${value}" is not a URL.`);
  }
}
const connectSrc = ["'self'", ...new Set([originOf('VITE_FACE_LOGIN_SERVER'), originOf('FACE_LOGIN_TEST_BACKEND'), originOf('FACE_LOGIN_DEMO_BACKEND')].filter((o) => o !== null))].join(' ');

const csp = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  `connect-src ${connectSrc}`,
  "worker-src 'self' blob:",
].join('; ');

/** The demo's own <meta> CSP (it is what a static demo-dist has) gets the same connect-src. */
function demoConnectSrc(): Plugin {
  return {
    name: 'face-login-demo-connect-src',
    transformIndexHtml(html) {
      return html.replace(/connect-src 'self'(?=[;"])/g, `connect-src ${connectSrc}`);
    },
  };
}

export default defineConfig({
  root: '.',
  publicDir: 'public',
  plugins: [demoConnectSrc(), demoSiteBackend()],
  server: {
    port: 5173,
    open: process.env.CI || process.env.FACE_LOGIN_TEST ? false : '/demo/',
    headers: { 'Content-Security-Policy': csp },
    // Under test no file watching and no HMR: an edit elsewhere must never reload a page mid-test.
    ...(process.env.FACE_LOGIN_TEST ? { hmr: false, watch: null } : {}),
  },
  preview: { headers: { 'Content-Security-Policy': csp } },
  build: {
    outDir: 'demo-dist',
    emptyOutDir: true,
    // TF.js (WebGL + WASM backends) and tasks-vision are one ~1.1 MB (290 KB gzip) chunk by nature.
    chunkSizeWarningLimit: 1500,
    rollupOptions: { input: { demo: resolve(import.meta.dirname, 'demo/index.html'), kiosk: resolve(import.meta.dirname, 'demo/kiosk.html') } },
  },
  optimizeDeps: {
    // Pre-bundle every runtime dependency up front so that a page importing one later never
    // triggers a re-optimisation and reload in the middle of a test.
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-converter',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-cpu',
      '@mediapipe/tasks-vision',
      'lit',
      'lit/decorators.js',
      'idb',
      '@sinclair/typebox',
      '@sinclair/typebox/value',
    ],
  },
});
