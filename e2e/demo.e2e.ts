/**
 * The demo, driven as a visitor would: enroll under a name, then log in, under the demo's own
 * Content-Security-Policy. Offline (the test server, no verification server set): nothing may
 * leave the page's origin. Online: `npm start` itself (scripts/start.mjs: the server and a second
 * Vite with the demo's site backend), where the demo must run the main mode (sessions opened by
 * its site backend, the server deciding from the frames) and its CSP allow exactly the server.
 */
import { expect, test } from '@playwright/test';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, clipSequence, fixture } from './support/clips.js';

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

test('npm start: the demo logs in through sessions its site backend opens, under a CSP that allows exactly the server', async () => {
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

    // One browser profile (the site's cookies and the saved name persist), one launch per clip.
    const visit = async (clip: string, fn: (page: import('@playwright/test').Page) => Promise<void>) => {
      const { context, page } = await launchWithCamera(profile, demo, { clip, offOrigin, allowOrigins: [server] });
      try {
        await page.goto('/demo/');
        await expect(page.locator('body')).toHaveAttribute('data-mode', 'server', { timeout: 30_000 });
        await expect(page.locator('#backend')).toContainText('The verification server decides.', { timeout: 90_000 });
        await fn(page);
      } finally {
        await context.close();
      }
    };
    const pose = (p: string) => fixture(`poses/${p}.jpg`);
    const turning = (who: 'schroeder' | 'powell') =>
      clipSequence(
        (['center', 'left', 'center', 'right'] as const).map((p) => ({ photo: who === 'schroeder' && p === 'left' ? pose('left') : fixture(`poses-${who}/${p}.jpg`), seconds: 1 })),
        `session-turning-${who}`,
      );
    const result = (page: import('@playwright/test').Page) => page.locator('#result');
    const go = (page: import('@playwright/test').Page) => page.locator('face-login').locator('button[part=action]').click();
    /** The demo's site backend has opened the session for `what` and the element has it. */
    const sessionSet = async (page: import('@playwright/test').Page, what: string) => {
      await expect(page.locator('body')).toHaveAttribute('data-session', what, { timeout: 30_000 });
      await expect(page.locator('face-login')).toHaveJSProperty('server', server);
    };

    // Enrol: the site signs "gerhard" in by name and opens an enrolment session; the page films the five poses.
    await visit(clipSequence(['center', 'left', 'right', 'up', 'down'].map((p) => ({ photo: pose(p), seconds: 2 })), 'five-poses'), async (page) => {
      await page.fill('#user', 'gerhard');
      await expect(result(page)).toContainText('Sign in as "gerhard" first');
      await page.click('#sign-in');
      await sessionSet(page, 'enroll:gerhard');
      await expect(page.locator('#signed-in')).toHaveText('This site has you signed in as "gerhard".');
      await go(page);
      await expect(result(page)).toContainText('Enrolled "gerhard" on the server (decided by the server, liveness passed)', { timeout: 120_000 });
      await expect(page.locator('input[value=verify]')).toBeChecked();
    });
    const db = new Database(sqlite, { readonly: true });
    try {
      expect(db.prepare("SELECT COUNT(*) AS n FROM templates WHERE user_id = 'gerhard'").get()).toEqual({ n: 5 });
    } finally {
      db.close();
    }

    // Log in: he turns his head as the server asks; the site reads accept and signs him in.
    await visit(turning('schroeder'), async (page) => {
      await expect(page.locator('#user')).toHaveValue('gerhard'); // the name is kept
      await page.check('input[value=verify]');
      await sessionSet(page, 'verify:gerhard');
      await go(page);
      await expect(result(page)).toHaveText('Welcome, gerhard! (decided by the server)', { timeout: 90_000 });
      await expect(result(page)).toHaveAttribute('data-outcome', 'accepted');
    });

    // Someone else claiming to be him, turning as asked: rejected by the server.
    await visit(turning('powell'), async (page) => {
      await page.check('input[value=verify]');
      await sessionSet(page, 'verify:gerhard');
      await go(page);
      await expect(result(page)).toHaveText('Not gerhard (decided by the server).', { timeout: 90_000 });
      await expect(result(page)).toHaveAttribute('data-outcome', 'rejected');
    });

    const db2 = new Database(sqlite, { readonly: true });
    try {
      expect(db2.prepare('SELECT action, claimed_user, decision FROM attempts ORDER BY id').all()).toEqual([
        { action: 'enroll', claimed_user: 'gerhard', decision: 'accept' },
        { action: 'verify', claimed_user: 'gerhard', decision: 'accept' },
        { action: 'verify', claimed_user: 'gerhard', decision: 'reject' },
      ]);
    } finally {
      db2.close();
    }
  } finally {
    start.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  expect(offOrigin).toEqual([]);
});
