#!/usr/bin/env node
/**
 * `npm start`: the verification backend and the demo's Vite dev server, side by side.
 *
 * - backend: node --import tsx server/server.ts (SQLite at ./.data/face-login.sqlite unless
 *   DATABASE_URL / FACE_LOGIN_SQLITE say otherwise), on http://127.0.0.1:8787 (PORT / HOST);
 * - demo: Vite on http://localhost:5173 (DEMO_PORT; strict port: the backend's CORS list names
 *   it), with the demo's "site backend" (demo/site-backend.ts) as middleware at /demo-site/: it
 *   signs people in by name and opens sessions on the backend with a site key generated here for
 *   this run (FACE_LOGIN_SITE_KEYS for the backend, FACE_LOGIN_DEMO_SITE_KEY for the site backend;
 *   never given to the page). The page uploads its frames to the backend by absolute URL
 *   (FACE_LOGIN_DEMO_BACKEND: vite.config.ts adds exactly its origin to the CSP connect-src).
 *
 * Ctrl-C (or SIGTERM) stops both; if either exits on its own, the other is stopped too and the
 * exit code is passed on. Extra arguments go to Vite (e.g. `npm start -- --host`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const host = process.env.HOST || '127.0.0.1';
const port = process.env.PORT || '8787';
const backendUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
const demoPort = process.env.DEMO_PORT || '5173';
// Vite's CLI through its package.json "bin" (no npx layer, so signals reach it directly).
const vitePkg = require.resolve('vite/package.json');
const viteBin = join(dirname(vitePkg), JSON.parse(readFileSync(vitePkg, 'utf8')).bin.vite);

const children = new Map();
let stopping = false;
let exitCode = 0;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  // Hard stop if a child ignores SIGTERM.
  setTimeout(() => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    process.exit(exitCode);
  }, 8000).unref();
}

function run(name, args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['inherit', 'pipe', 'inherit'] });
  children.set(name, child);
  let pending = '';
  child.stdout.on('data', (b) => {
    if (name === 'vite') {
      // Vite's banner names its root URL (a 404: the demo is at /demo/): print one URL, the demo's.
      const lines = (pending + String(b)).split('\n');
      pending = lines.pop() ?? '';
      const kept = lines.filter((l) => !/➜\s+(Local|Network):/.test(l));
      if (kept.length) process.stdout.write(kept.join('\n') + '\n');
      return;
    }
    process.stdout.write(b);
    if (name === 'backend' && /listening on /.test(String(b))) {
      console.log(`\n  face-login backend:  ${backendUrl}  (OpenAPI: ${backendUrl}/openapi.json)`);
      console.log(`  face-login demo:     http://localhost:${demoPort}/demo/\n`);
    }
  });
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the rest.`);
      stopAll(code ?? 1);
    }
    if (children.size === 0) process.exit(exitCode);
  });
  return child;
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

// The backend's CORS list follows the demo's port (its default names only 5173); an explicit
// FACE_LOGIN_ORIGINS wins.
const origins = process.env.FACE_LOGIN_ORIGINS || `http://localhost:${demoPort},http://127.0.0.1:${demoPort}`;
// One site key per run, shared by the backend and the demo's site backend only.
const siteKey = process.env.FACE_LOGIN_DEMO_SITE_KEY || randomBytes(32).toString('base64url');
run('backend', ['--import', 'tsx', 'server/server.ts'], {
  HOST: host,
  PORT: port,
  FACE_LOGIN_ORIGINS: origins,
  FACE_LOGIN_SITE_KEYS: [...new Set([...(process.env.FACE_LOGIN_SITE_KEYS || '').split(',').map((k) => k.trim()).filter(Boolean), siteKey])].join(','),
});
run('vite', [viteBin, '--config', 'vite.config.ts', '--port', demoPort, '--strictPort', ...process.argv.slice(2)], {
  FACE_LOGIN_DEMO_BACKEND: backendUrl,
  FACE_LOGIN_DEMO_SITE_KEY: siteKey,
  VITE_FACE_LOGIN_SERVER: '',
});
