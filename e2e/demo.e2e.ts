/**
 * The demo, driven as a visitor would: enroll under a name, then log in, under the demo's own
 * Content-Security-Policy. Offline (the test server, no verification server set): nothing may
 * leave the page's origin. Online: `npm start` itself (scripts/start.mjs: the server and a second
 * Vite), where the demo must use the server and its CSP allow exactly the server's origin.
 */
import { expect, test } from '@playwright/test';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MODEL_ID } from '../server/config.js';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, fixture } from './support/clips.js';

test('a visitor enrolls, logs in, and is refused as someone else', async ({}, info) => {
  const profile = mkdtempSync(join(tmpdir(), 'face-login-demo-'));
  const offOrigin: string[] = [];
  const { context, page } = await launchWithCamera(profile, info.project.use.baseURL!, {
    clip: clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1'),
    offOrigin,
  });
  try {
    await page.goto('/demo/');
    const fl = page.locator('face-login');
    const status = fl.locator('[role=status]');
    const result = page.locator('#result');
    await expect(page.locator('#backend')).toContainText('Backend wasm', { timeout: 60_000 });

    await page.fill('#user', 'colin');
    await fl.getByRole('button', { name: 'Enroll my face' }).click();
    await expect(status).toHaveAttribute('data-status', 'enrolled', { timeout: 60_000 });
    await expect(result).toContainText('Enrolled "colin"');
    await expect(page.locator('#users li')).toHaveText(['colinDelete']);

    // The demo switches to "Log in" after enrolling.
    await expect(page.locator('input[value=verify]')).toBeChecked();
    await fl.getByRole('button', { name: 'Log in with my face' }).click();
    await expect(status).toHaveAttribute('data-status', 'verified', { timeout: 60_000 });
    await expect(result).toHaveAttribute('data-outcome', 'accepted');
    await expect(result).toContainText('Welcome, colin!');

    // Claiming to be someone else who is enrolled does not work either.
    await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      const other = Float32Array.from({ length: 192 }, (_, i) => Math.cos(i * 1.7));
      const n = Math.hypot(...other);
      await el.engine!.store.saveTemplates('someone-else', el.engine!.modelId, [{ embedding: other.map((x) => x / n), pose: 'center' }]);
    });
    await page.fill('#user', 'someone-else');
    await fl.getByRole('button', { name: 'Log in with my face' }).click();
    await expect(status).toHaveAttribute('data-status', 'rejected', { timeout: 60_000 });
    await expect(result).toHaveAttribute('data-outcome', 'rejected');
    await expect(result).toContainText('Not someone-else');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  expect(offOrigin).toEqual([]);
});

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

test('npm start: the demo uses the verification server, under a CSP that allows exactly it', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'face-login-npm-start-'));
  const sqlite = join(dir, 'server.sqlite');
  const [port, demoPort] = [await freePort(), await freePort()];
  const server = `http://127.0.0.1:${port}`;
  const demo = `http://127.0.0.1:${demoPort}`;
  let out = '';
  // No FACE_LOGIN_ORIGINS: start.mjs derives the server's CORS list from DEMO_PORT.
  const { FACE_LOGIN_ORIGINS: _ignored, ...parentEnv } = process.env;
  const start = spawn(process.execPath, ['scripts/start.mjs', '--host', '127.0.0.1'], {
    cwd: resolve(import.meta.dirname, '..'),
    env: {
      ...parentEnv,
      PORT: String(port),
      DEMO_PORT: String(demoPort),
      FACE_LOGIN_SQLITE: sqlite,
      FACE_LOGIN_SECRET: 'e2e-npm-start-secret-0123456789-0123456789',
      FACE_LOGIN_LOG_LEVEL: 'warn',
      FACE_LOGIN_TEST: '1', // Vite without file watching, HMR or opening a browser
      DATABASE_URL: '',
      FACE_LOGIN_TEST_BACKEND: '',
      VITE_FACE_LOGIN_SERVER: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout!.on('data', (b: Buffer) => (out += String(b)));
  start.stderr!.on('data', (b: Buffer) => (out += String(b)));
  const exited = new Promise<void>((ok) => start.once('exit', () => ok()));
  const offOrigin: string[] = [];
  const profile = join(dir, 'profile');
  try {
    await expect.poll(() => out, { timeout: 90_000, message: 'npm start prints both addresses' }).toContain(`face-login demo:`);
    await expect
      .poll(async () => (await fetch(`${demo}/demo/`).catch(() => null))?.status ?? 0, { timeout: 90_000, message: `Vite on ${demo}\n${out}` })
      .toBe(200);
    // One URL for the demo: Vite's own banner (its root, a 404) is not printed.
    expect(out).not.toMatch(/Local:\s+http/);
    expect(out).toContain(`face-login demo:     http://localhost:`);

    // Both CSPs (the header and the page's meta) allow the page's origin and exactly the server's.
    const res = await fetch(`${demo}/demo/`);
    const connectSrc = (policy: string) => /connect-src ([^;"]*)/.exec(policy)?.[1]?.trim();
    expect(connectSrc(res.headers.get('content-security-policy') ?? '')).toBe(`'self' ${server}`);
    const html = await res.text();
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    expect(connectSrc(meta)).toBe(`'self' ${server}`);

    const { context, page } = await launchWithCamera(profile, demo, {
      clip: clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1'),
      offOrigin,
      allowOrigins: [server],
    });
    try {
      await page.goto('/demo/');
      const fl = page.locator('face-login');
      const status = fl.locator('[role=status]');
      const result = page.locator('#result');
      await expect(fl).toHaveAttribute('server', server);
      await expect(page.locator('#backend')).toContainText(`Verification server: ${server}.`, { timeout: 90_000 });
      await expect(page.locator('.lead')).toContainText(`verification server at ${server}`);

      await page.fill('#user', 'colin');
      await fl.getByRole('button', { name: 'Enroll my face' }).click();
      await expect(status).toHaveAttribute('data-status', 'enrolled', { timeout: 60_000 });
      await expect(result).toContainText('Enrolled "colin" (3 templates, on the server and this device)');
      const db = new Database(sqlite, { readonly: true });
      try {
        expect(db.prepare("SELECT COUNT(*) AS n FROM templates WHERE user_id = 'colin'").get()).toEqual({ n: 3 });
      } finally {
        db.close();
      }

      await fl.getByRole('button', { name: 'Log in with my face' }).click();
      await expect(status).toHaveAttribute('data-status', 'verified', { timeout: 60_000 });
      await expect(result).toHaveAttribute('data-outcome', 'accepted');
      await expect(result).toHaveText('Welcome, colin! (decided by the server)');

      // Someone else enrolled on the server (directly through its API, as a portal would).
      const other = Array.from({ length: 192 }, (_, i) => Math.cos(i * 1.7));
      const { nonce } = (await (await fetch(`${server}/v1/challenges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'enroll', userId: 'someone-else' }) })).json()) as { nonce: string };
      const enrolled = await fetch(`${server}/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nonce, userId: 'someone-else', modelId: DEFAULT_MODEL_ID, templates: [{ embedding: other, pose: 'center' }] }),
      });
      expect(enrolled.status).toBe(201);
      await page.fill('#user', 'someone-else');
      await fl.getByRole('button', { name: 'Log in with my face' }).click();
      await expect(status).toHaveAttribute('data-status', 'rejected', { timeout: 60_000 });
      await expect(result).toHaveText('Not someone-else (decided by the server).');

      const db2 = new Database(sqlite, { readonly: true });
      try {
        expect(db2.prepare('SELECT claimed_user, decision FROM attempts ORDER BY id').all()).toEqual([
          { claimed_user: 'colin', decision: 'accept' },
          { claimed_user: 'someone-else', decision: 'reject' },
        ]);
      } finally {
        db2.close();
      }
    } finally {
      await context.close();
    }
  } finally {
    start.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  expect(offOrigin).toEqual([]);
});
