/**
 * The package as a site installs it (issue 12): `npm pack`, the tarball installed into a fresh app
 * in a temp folder (npm registry only; --prefer-offline lets the npm cache serve what this repo
 * already installed) as the README's "Install in your app" says: its Vite blocks (marked
 * `<!-- consumer: vite-app ... -->`: the install command, vite.config.js, src/main.js) run and
 * written as they are; the test's own src/harness.js makes the element from the query string. Then
 * - a Vite vanilla app with the plugin (`face-login/vite`), built and served statically: the
 *   element loads the models from the emitted assets (found through the plugin's meta tag),
 *   enrols a person from a fake camera, verifies another photo of them (accepted) and a stranger
 *   (rejected);
 * - the same app with assets copied by the CLI (`npx face-login assets public/cli-assets`) and
 *   `asset-base="/cli-assets/"`: models and wasm come from there;
 * - a wrong `asset-base`: face-login-error model-load-failed naming the URL and the fix;
 * - the plugin in dev: serves the assets, 404s (never the SPA page) for a missing one.
 * Full tier (`npm run test:full`). FACE_LOGIN_CONSUMER_TARBALL=<path> reuses a packed tarball.
 */
import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithCamera } from '../support/camera.js';
import { clipFromPhoto, fixture } from '../support/clips.js';
import { ROOT, run, runReadmeCommands, serveStatic, waitForEvent, writeReadmeFiles } from './consumer-support.js';

test.describe.configure({ mode: 'serial' });

const PORT = Number(process.env.FACE_LOGIN_CONSUMER_PORT ?? 5296);
const DEV_PORT = PORT + 1;
const BASE = `http://127.0.0.1:${PORT}`;
const VITE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules/vite/package.json'), 'utf8')) as { version: string }).version;

let work: string;
let app: string;
let server: Server;
const offOrigin: string[] = [];

test.beforeAll(async () => {
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'face-login-consumer-'));
  app = join(work, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-vite-app', private: true, type: 'module' }, null, 2));
  // The README's vite.config.js and src/main.js (`import 'face-login'`), as they are.
  expect(writeReadmeFiles('vite-app', app).sort()).toEqual(['src/main.js', 'vite.config.js']);
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html>\n<html lang="en">\n  <head><meta charset="utf-8" /><title>consumer</title></head>\n  <body>\n    <div id="host"></div>\n    <script type="module" src="/src/main.js"></script>\n    <script type="module" src="/src/harness.js"></script>\n  </body>\n</html>\n',
  );
  // The test's page (after main.js has registered the element): one <face-login> configured from the query string, every event recorded.
  writeFileSync(
    join(app, 'src/harness.js'),
    [
      'window.faceLoginEvents = [];',
      "const el = document.createElement('face-login');",
      'for (const [k, v] of new URLSearchParams(location.search)) el.setAttribute(k, v);',
      "for (const type of ['ready', 'enrolled', 'verified', 'rejected', 'error']) el.addEventListener(`face-login-${type}`, (e) => window.faceLoginEvents.push({ type, detail: e.detail }));",
      "document.querySelector('#host').append(el);",
      '',
    ].join('\n'),
  );
  // What a site does (the README's "Install in your app"): `npm install face-login`, in a Vite app (vite installed with it).
  runReadmeCommands('vite-app', app, [`vite@${VITE_VERSION}`]);
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/face-login/package.json'), 'utf8'));
  expect(pkg.scripts, 'the published package.json runs nothing on install').toBeUndefined();
  const copied = run('npx', ['face-login', 'assets', 'public/cli-assets'], app);
  expect(copied).toMatch(/asset-base="\/cli-assets\/"/);
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  server = await serveStatic(join(app, 'dist'), PORT);
});

test.afterAll(async () => {
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
  expect(offOrigin, 'no request may leave the page origin').toEqual([]);
});

test('the build has the assets, the meta tag the plugin adds, and the element registration', () => {
  // sideEffects in package.json must keep customElements.define, in our build and in the app's.
  expect(readFileSync(join(app, 'node_modules/face-login/dist/face-login.js'), 'utf8')).toMatch(/customElements\.define\(/);
  expect(readdirSync(join(app, 'dist/assets')).some((f) => /customElements\.define\(/.test(readFileSync(join(app, 'dist/assets', f), 'utf8')))).toBe(true);
  const html = readFileSync(join(app, 'dist/index.html'), 'utf8');
  expect(html).toMatch(/<meta name="face-login-asset-base" content="\/face-login\/">/);
  for (const f of ['face-login/models/manifest.json', 'face-login/models/mobilefacenet-f16/weights.bin', 'face-login/models/blazeface/weights.bin', 'face-login/wasm/mediapipe/vision_wasm_internal.wasm', 'face-login/wasm/tfjs/tfjs-backend-wasm-simd.wasm', 'cli-assets/models/manifest.json']) {
    expect(existsSync(join(app, 'dist', f)), f).toBe(true);
  }
  expect(existsSync(join(app, 'dist/face-login/models/mobilefacenet')), 'the float32 weights (bench only) are not shipped').toBe(false);
});

test('Vite app with the plugin: enrol, verify the same person (accepted) and a stranger (rejected)', async () => {
  const profile = mkdtempSync(join(work, 'profile-'));
  const step = async (photo: string, name: string, query: string, want: string[]) => {
    const { context, page } = await launchWithCamera(profile, BASE, { clip: clipFromPhoto(fixture(photo), name), offOrigin });
    const assets: string[] = [];
    page.on('request', (r) => assets.push(new URL(r.url()).pathname));
    try {
      await page.goto(`/?${query}`);
      const ev = await waitForEvent(page, [...want, 'error']);
      expect(assets.filter((p) => /manifest\.json|\.wasm$/.test(p)).every((p) => p.startsWith('/face-login/'))).toBe(true);
      return ev;
    } finally {
      await context.close();
    }
  };
  expect(await step('Colin_Powell_0001.jpg', 'a1', 'mode=enroll&user-id=alice&autostart&backend=wasm', ['enrolled'])).toMatchObject({ type: 'enrolled', detail: { userId: 'alice' } });
  expect(await step('Colin_Powell_0002.jpg', 'a2', 'mode=verify&user-id=alice&autostart&backend=wasm', ['verified', 'rejected'])).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
  expect(await step('Tony_Blair_0001.jpg', 'b1', 'mode=verify&user-id=alice&autostart&backend=wasm', ['verified', 'rejected'])).toMatchObject({ type: 'rejected' });
});

test('assets copied by the CLI, found through asset-base', async () => {
  const { context, page } = await launchWithCamera(mkdtempSync(join(work, 'profile-')), BASE, { offOrigin });
  const assets: string[] = [];
  page.on('request', (r) => assets.push(new URL(r.url()).pathname));
  try {
    await page.goto('/?asset-base=/cli-assets/&backend=wasm');
    expect(await waitForEvent(page, ['ready', 'error'])).toMatchObject({ type: 'ready' });
    const fetched = assets.filter((p) => /manifest\.json|\.tflite|weights\.bin|\.wasm$/.test(p));
    expect(fetched.length).toBeGreaterThanOrEqual(5);
    expect(fetched.filter((p) => !p.startsWith('/cli-assets/'))).toEqual([]);
  } finally {
    await context.close();
  }
});

test('a wrong asset-base: model-load-failed naming the URL and the fix', async () => {
  const { context, page } = await launchWithCamera(mkdtempSync(join(work, 'profile-')), BASE, { offOrigin });
  try {
    await page.goto('/?asset-base=/nowhere/&backend=cpu');
    const ev = await waitForEvent(page, ['ready', 'error']);
    expect(ev).toMatchObject({ type: 'error', detail: { code: 'model-load-failed', message: expect.stringMatching(/\/nowhere\/models\/manifest\.json is missing \(HTTP 404\)/) } });
    expect(ev.detail.message).toMatch(/face-login\/vite.*npx face-login assets <dir>.*asset-base=/s);
  } finally {
    await context.close();
  }
});

test('the plugin in dev: serves the assets, a missing one is a 404 (not the SPA page)', async () => {
  let dev: ChildProcess | null = null;
  try {
    dev = spawn('npx', ['vite', '--port', String(DEV_PORT), '--strictPort', '--host', '127.0.0.1'], { cwd: app, stdio: 'ignore', detached: true });
    const url = `http://127.0.0.1:${DEV_PORT}`;
    await expect.poll(async () => fetch(`${url}/`).then((r) => r.status, () => 0), { timeout: 60_000 }).toBe(200);
    const manifest = await fetch(`${url}/face-login/models/manifest.json`);
    expect(manifest.status).toBe(200);
    expect((await manifest.json()).embedderF16.id).toMatch(/mobilefacenet.*-f16/);
    const wasm = await fetch(`${url}/face-login/wasm/tfjs/tfjs-backend-wasm.wasm`);
    expect([wasm.status, wasm.headers.get('content-type')]).toEqual([200, 'application/wasm']);
    expect((await fetch(`${url}/face-login/models/nope.bin`)).status).toBe(404);
    expect(await (await fetch(`${url}/`)).text()).toMatch(/<meta name="face-login-asset-base" content="\/face-login\/">/);
  } finally {
    if (dev?.pid) process.kill(-dev.pid, 'SIGTERM');
  }
});
