/**
 * The package on a site with no bundler (issue 12): the packed tarball installed into a fresh
 * folder (no Vite, no build step), the assets copied by `npx face-login assets face-login`, and
 * examples/plain-html/index.html, which loads the self-contained bundle with
 * `<script type="module" src="/node_modules/face-login/dist/bundle/face-login.js">` (no import
 * map), all served by a plain static server. A fake camera enrols a person, verifies another photo
 * of them (accepted) and a stranger (rejected); every request stays on the page's origin, and on
 * backend="wasm" the WebGL and CPU backends' chunks are never fetched.
 * Full tier (`npm run test:full`). FACE_LOGIN_CONSUMER_TARBALL=<path> reuses a packed tarball.
 */
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithCamera } from '../support/camera.js';
import { clipFromPhoto, fixture } from '../support/clips.js';
import { installTarball, ROOT, run, serveStatic, waitForEvent } from './consumer-support.js';

test.describe.configure({ mode: 'serial' });

const PORT = Number(process.env.FACE_LOGIN_CONSUMER_PORT ?? 5296) + 2;
const BASE = `http://127.0.0.1:${PORT}`;

let work: string;
let site: string;
let server: Server;
const offOrigin: string[] = [];

test.beforeAll(async () => {
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'face-login-plain-'));
  site = join(work, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'package.json'), JSON.stringify({ name: 'consumer-plain-site', private: true }, null, 2));
  // What a site does (the README's "Install in your app", no bundler): install, copy the assets, write a page.
  installTarball(site);
  expect(run('npx', ['face-login', 'assets', 'face-login'], site)).toMatch(/asset-base="\/face-login\/"/);
  copyFileSync(join(ROOT, 'examples/plain-html/index.html'), join(site, 'index.html'));
  server = await serveStatic(site, PORT);
});

test.afterAll(async () => {
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
  expect(offOrigin, 'no request may leave the page origin').toEqual([]);
});

test('the bundle is self-contained: no bare import, no import map needed, no CDN', () => {
  const dir = join(site, 'node_modules/face-login/dist/bundle');
  const files = ['face-login.js', ...readdirSync(join(dir, 'chunks')).map((f) => `chunks/${f}`)].filter((f) => f.endsWith('.js'));
  for (const f of files) {
    const code = readFileSync(join(dir, f), 'utf8');
    // Every static or dynamic import is relative (./ or ../): a browser resolves it with no import map.
    // (The minified import forms: from"x", import"x", import("x"); a quoted 'from ...' in a message is not one.)
    expect(code.match(/(?:\bfrom|\bimport)\(?"(?!\.\.?\/)[^"]+"/g) ?? [], f).toEqual([]);
    expect(code, f).not.toMatch(/cdn\.jsdelivr|unpkg\.com|storage\.googleapis\.com\/mediapipe/);
  }
  // The inlined packages' licences are named at the top of the chunks that hold them.
  expect(files.filter((f) => /^\/\*\*\n \* face-login bundle\. Contains[^]*lit 3[^]*\(BSD-3-Clause\)/.test(readFileSync(join(dir, f), 'utf8')))).not.toEqual([]);
  expect(files.some((f) => /customElements\.define\(/.test(readFileSync(join(dir, f), 'utf8')))).toBe(true);
  expect(readFileSync(join(site, 'index.html'), 'utf8')).not.toMatch(/importmap/);
});

test('plain HTML page with the bundle: enrol, verify the same person (accepted) and a stranger (rejected)', async () => {
  const profile = mkdtempSync(join(work, 'profile-'));
  const step = async (photo: string, name: string, query: string, want: string[]) => {
    const { context, page } = await launchWithCamera(profile, BASE, { clip: clipFromPhoto(fixture(photo), name), offOrigin });
    const paths: string[] = [];
    page.on('request', (r) => paths.push(new URL(r.url()).pathname));
    try {
      await recordEvents(page);
      await page.goto(`/?${query}`);
      const ev = await waitForEvent(page, [...want, 'error']);
      const js = paths.filter((p) => p.endsWith('.js'));
      expect(js.filter((p) => !p.startsWith('/node_modules/face-login/dist/bundle/') && !p.startsWith('/face-login/wasm/'))).toEqual([]);
      expect(js.some((p) => /\/chunks\/tfjs-backend-wasm-/.test(p))).toBe(true);
      expect(js.filter((p) => /\/chunks\/tfjs-backend-(webgl|cpu)-/.test(p)), 'only the chosen backend is loaded').toEqual([]);
      expect(paths.filter((p) => /manifest\.json|\.wasm$|\.tflite$|weights\.bin$/.test(p)).every((p) => p.startsWith('/face-login/'))).toBe(true);
      return ev;
    } finally {
      await context.close();
    }
  };
  expect(await step('Colin_Powell_0001.jpg', 'a1', 'mode=enroll&user-id=alice&autostart&backend=wasm', ['enrolled'])).toMatchObject({ type: 'enrolled', detail: { userId: 'alice' } });
  expect(await step('Colin_Powell_0002.jpg', 'a2', 'mode=verify&user-id=alice&autostart&backend=wasm', ['verified', 'rejected'])).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
  expect(await step('Tony_Blair_0001.jpg', 'b1', 'mode=verify&user-id=alice&autostart&backend=wasm', ['verified', 'rejected'])).toMatchObject({ type: 'rejected' });
});

/** The example page has no test hooks: record the element's (bubbling, composed) events on the document. */
async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const events: { type: string; detail: unknown }[] = [];
    (window as unknown as { faceLoginEvents: unknown[] }).faceLoginEvents = events;
    for (const type of ['ready', 'enrolled', 'verified', 'rejected', 'error']) {
      document.addEventListener(`face-login-${type}`, (e) => events.push({ type, detail: (e as CustomEvent).detail }), true);
    }
  });
}
