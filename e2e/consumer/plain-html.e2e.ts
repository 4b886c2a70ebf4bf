/**
 * The package on a site with no bundler (issue 12), as the README's "Install in your app" (no
 * bundler) says, its blocks marked `<!-- consumer: plain-html ... -->` run and written as they are:
 * the packed tarball installed into a fresh folder (no Vite, no build step), the assets copied by
 * `npx face-login assets face-login`, and the README's page as index.html, which loads the
 * self-contained bundle with `<script type="module" src="/node_modules/face-login/dist/bundle/face-login.js">`
 * (no import map), all served by a plain static server. A fake camera enrols a person, verifies
 * another photo of them (accepted) and a stranger (rejected) (the query string sets the element's
 * attributes, from an init script, before the bundle runs); every request stays on the page's
 * origin, and on backend="wasm" the WebGL and CPU backends' chunks are never fetched.
 * examples/plain-html/index.html, served as example.html, loads until the element is ready.
 * Full tier (`npm run test:full`). FACE_LOGIN_CONSUMER_TARBALL=<path> reuses a packed tarball.
 */
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithCamera } from '../support/camera.js';
import { clipFromPhoto, fixture } from '../support/clips.js';
import { recordEvents, ROOT, runReadmeCommands, serveStatic, waitForEvent, writeReadmeFiles } from './consumer-support.js';

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
  // What a site does (the README's "Install in your app", no bundler): install, copy the assets, write the page.
  const commands = runReadmeCommands('plain-html', site);
  expect(commands.map((c) => c.line)).toEqual(['npm install face-login', 'npx face-login assets face-login']);
  expect(commands[1]!.output).toMatch(/asset-base="\/face-login\/"/);
  expect(writeReadmeFiles('plain-html', site)).toEqual(['index.html']);
  copyFileSync(join(ROOT, 'examples/plain-html/index.html'), join(site, 'example.html'));
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
  for (const page of ['index.html', 'example.html']) expect(readFileSync(join(site, page), 'utf8'), page).not.toMatch(/importmap/);
});

test('plain HTML page with the bundle: enrol, verify the same person (accepted) and a stranger (rejected)', async () => {
  const profile = mkdtempSync(join(work, 'profile-'));
  const step = async (photo: string, name: string, query: string, want: string[]) => {
    const { context, page } = await launchWithCamera(profile, BASE, { clip: clipFromPhoto(fixture(photo), name), offOrigin });
    const paths: string[] = [];
    page.on('request', (r) => paths.push(new URL(r.url()).pathname));
    try {
      await recordEvents(page);
      await attributesFromQuery(page);
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

test('the example page (examples/plain-html/index.html): the element gets ready', async () => {
  const { context, page } = await launchWithCamera(mkdtempSync(join(work, 'profile-')), BASE, { offOrigin });
  try {
    await recordEvents(page);
    await page.goto('/example.html?backend=wasm');
    expect(await waitForEvent(page, ['ready', 'error'])).toMatchObject({ type: 'ready', detail: { backend: 'wasm' } });
  } finally {
    await context.close();
  }
});

/**
 * The README's page has no test hooks: the query string's attributes are set on its <face-login>
 * once the document is parsed (readyState "interactive"), before the module scripts run.
 */
async function attributesFromQuery(page: Page): Promise<void> {
  await page.addInitScript(() => {
    document.addEventListener('readystatechange', () => {
      if (document.readyState !== 'interactive') return;
      const el = document.querySelector('face-login');
      for (const [k, v] of new URLSearchParams(location.search)) el?.setAttribute(k, v);
    });
  });
}
