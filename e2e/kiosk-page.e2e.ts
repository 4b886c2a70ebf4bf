/**
 * The demo's attendance kiosk page (demo/kiosk.html) end to end with the real models and fake
 * cameras: two people are enrolled through the element (same `db-name` as the kiosk), then one
 * clip shows them and a stranger in turn. The page must list exactly those three arrivals, count
 * them, download them as CSV, keep them over a reload and store nothing about the stranger;
 * clean loads of the kiosk and of /demo/ print no console error.
 *
 * UPDATE_SCREENSHOTS=1 also writes the screenshot of the kiosk with its arrivals to
 * docs/images/kiosk.png (256 colours, by ffmpeg); it always goes to the test's output folder.
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { DEMO_SITE_KEY, SESSION_BACKEND_PORT } from '../playwright.config.js';
import { cameraFrame } from '../scripts/lib/camera-frame.mjs';
import { Backend } from './support/backend.js';
import { launchWithCamera } from './support/camera.js';
import { DirectSite } from './support/site.js';
import { clipFromPhoto, clipSequence, fixture } from './support/clips.js';

const DB = 'attendance-e2e';
const KEY = `face-login-kiosk:${DB}`;
const SHOTS = process.env.UPDATE_SCREENSHOTS ? resolve(import.meta.dirname, '../docs/images') : null;
const SEED = '/__kiosk-seed.html';

/** Every console error and uncaught exception of the page, from now on. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** The page's <face-login> is ready and its detector has run on a few camera frames. */
async function readyAndDetecting(page: Page): Promise<void> {
  await page.waitForFunction(() => !!document.querySelector('face-login')?.engine, null, { timeout: 60_000 });
  await page.evaluate(
    () =>
      new Promise<void>((res, rej) => {
        const engine = document.querySelector('face-login')!.engine!;
        let n = 0;
        const timer = setTimeout(() => rej(new Error(`only ${n} frames in 15 s`)), 15_000);
        const onFrame = () => {
          if (++n < 5) return;
          clearTimeout(timer);
          engine.removeEventListener('frame', onFrame);
          res();
        };
        engine.addEventListener('frame', onFrame);
      }),
  );
}

type Ev = { type: string; detail: Record<string, unknown> };
async function enrol(page: Page, user: string): Promise<void> {
  await page.goto(`/e2e/pages/element.html?mode=enroll&user-id=${user}&autostart&db-name=${DB}`);
  await page.waitForFunction(() => window.faceLoginEvents.some((e) => e.type === 'enrolled' || e.type === 'error'), null, { timeout: 60_000 });
  const ev = (await page.evaluate(() => window.faceLoginEvents as Ev[])).find((e) => e.type === 'enrolled' || e.type === 'error');
  expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'enrolled', detail: { userId: user } });
}

test('kiosk page: two enrolled people and a stranger are listed, counted and downloaded; nothing of the stranger is kept', async ({}, info) => {
  test.setTimeout(150_000);
  const baseURL = info.project.use.baseURL!;
  const profile = mkdtempSync(join(tmpdir(), 'face-login-kiosk-page-'));
  const offOrigin: string[] = [];
  try {
    await test.step('clean loads of /demo/ and of an empty kiosk; enrol colin', async () => {
      const { context, page } = await launchWithCamera(profile, baseURL, { clip: clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1'), offOrigin });
      try {
        const errors = collectErrors(page);
        await page.goto('/demo/');
        // The demo's camera waits for the person's click (no autostart): loaded, camera off.
        await page.waitForFunction(() => !!document.querySelector('face-login')?.engine, null, { timeout: 60_000 });
        expect(await page.evaluate(() => document.querySelector('face-login')!.shadowRoot!.querySelector('video')!.srcObject)).toBeNull();
        expect(errors, 'a clean load of /demo/').toEqual([]);

        await page.goto(`/demo/kiosk.html?db-name=${DB}&lang=zh-CN`);
        await readyAndDetecting(page);
        // Nobody enrolled in this database yet: the placeholder, and the kiosk does not start.
        await expect(page.locator('#placeholder')).toBeVisible();
        await expect(page.locator('#placeholder a')).toHaveAttribute('href', `./?db-name=${DB}&lang=zh-CN`);
        const fl = page.locator('face-login');
        await expect(fl).toHaveAttribute('db-name', DB);
        await expect(fl.getByRole('button')).toHaveText('开始考勤'); // lang reaches the element: "Start attendance"
        await expect(page.locator('#arrivals li')).toHaveCount(0);
        expect(errors, 'a clean load of the kiosk page').toEqual([]);

        await enrol(page, 'colin');
      } finally {
        await context.close();
      }
    });

    await test.step('enrol tony', async () => {
      const { context, page } = await launchWithCamera(profile, baseURL, { clip: clipFromPhoto(fixture('Tony_Blair_0001.jpg'), 'Tony_Blair_0001'), offOrigin });
      try {
        await enrol(page, 'tony');
      } finally {
        await context.close();
      }
    });

    await test.step('the kiosk sees colin, tony and a stranger in turn', async () => {
      const clip = clipSequence(
        [
          { blank: true, seconds: 2 },
          { photo: fixture('Colin_Powell_0002.jpg'), seconds: 3 },
          { blank: true, seconds: 1.5 },
          { photo: fixture('Tony_Blair_0002.jpg'), seconds: 3 },
          { blank: true, seconds: 1.5 },
          { photo: fixture('poses/center.jpg'), seconds: 3 }, // Gerhard Schroeder: not enrolled
          { blank: true, seconds: 6 },
        ],
        'kiosk-page',
      );
      const { context, page } = await launchWithCamera(profile, baseURL, { clip, offOrigin });
      try {
        await page.setViewportSize({ width: 1000, height: 625 });
        // Yesterday's list is in storage: the kiosk must start today empty.
        await page.route(`**${SEED}`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>seed</title>' }));
        await page.goto(SEED);
        await page.evaluate(
          (key) =>
            localStorage.setItem(key, JSON.stringify({ version: 1, day: '2000-01-01', arrivals: [{ time: '2000-01-01T09:00:00+00:00', userId: 'yesterday', name: 'yesterday', decidedBy: 'device' }] })),
          KEY,
        );
        const errors = collectErrors(page);
        await page.goto(`/demo/kiosk.html?db-name=${DB}&cooldown=60`);
        await expect(page.locator('#placeholder')).toBeHidden();
        const rows = page.locator('#arrivals li');
        await expect(rows).toHaveCount(3, { timeout: 60_000 });
        const shot = info.outputPath('kiosk.png');
        await page.screenshot({ path: shot });
        if (SHOTS) {
          mkdirSync(SHOTS, { recursive: true });
          // The same picture in 256 colours: about half the bytes for the README.
          execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', shot, '-vf', 'split[a][b];[a]palettegen=max_colors=256[p];[b][p]paletteuse=dither=sierra2_4a', join(SHOTS, 'kiosk.png')]);
        }
        await page.waitForTimeout(3000); // nothing more is announced while the kiosk keeps watching
        // Newest first; the time is shown beside each.
        await expect(page.locator('#arrivals .who')).toHaveText(['Unknown visitor', 'tony', 'colin']);
        await expect(rows.locator('time')).toHaveText([/^\d\d:\d\d:\d\d$/, /^\d\d:\d\d:\d\d$/, /^\d\d:\d\d:\d\d$/]);
        await expect(page.locator('#present')).toHaveText('2');
        await expect(page.locator('#unknown')).toHaveText('1');

        // The CSV of the day: the header and exactly those rows, oldest first.
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
        const today = await page.evaluate(() => document.querySelector('#day')!.textContent!);
        expect(today).toMatch(/^\d{4}-\d\d-\d\d$/);
        expect(download.suggestedFilename()).toBe(`attendance-${today}.csv`);
        const csv = readFileSync((await download.path())!, 'utf8');
        expect(csv.startsWith('\uFEFF')).toBe(true);
        const lines = csv.slice(1).split('\r\n');
        expect(lines.pop()).toBe(''); // CRLF after the last row
        expect(lines[0]).toBe('time,name,decided_by');
        const time = `${today}T\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d`;
        expect(lines.slice(1)).toHaveLength(3);
        expect(lines[1]).toMatch(new RegExp(`^${time},colin,device$`));
        expect(lines[2]).toMatch(new RegExp(`^${time},tony,device$`));
        expect(lines[3]).toMatch(new RegExp(`^${time},unknown visitor,device$`));

        // Stored: the time, who (null for the stranger) and who decided; nothing else, anywhere.
        const stored = await page.evaluate(async (key) => {
          const el = document.querySelector('face-login')!;
          const store = el.engine!.store;
          const users = await store.listUsers();
          const templates = await Promise.all(users.map(async (u) => (await store.templatesOf(u.userId, el.engine!.modelId)).length));
          return { keys: Object.keys(localStorage).sort(), log: JSON.parse(localStorage.getItem(key)!), users: users.map((u) => u.userId).sort(), templates };
        }, KEY);
        // Besides the day's list: the camera choice, and the name the demo page keeps (from the clean load of /demo/).
        expect(stored.keys.filter((k) => k !== KEY && k !== 'face-login:camera' && k !== 'face-login-demo:name')).toEqual([]);
        expect(stored.log.day).toBe(today);
        expect(stored.log.arrivals.map((a: Record<string, unknown>) => Object.keys(a).sort())).toEqual(Array(3).fill(['decidedBy', 'name', 'time', 'userId']));
        expect(stored.log.arrivals.map((a: Record<string, unknown>) => [a.userId, a.name])).toEqual([['colin', 'colin'], ['tony', 'tony'], [null, null]]);
        expect(stored.users, 'the stranger was not enrolled').toEqual(['colin', 'tony']);
        // Enrolled from still photos: each one's kept frames are near-identical, stored once (distinctTemplates).
        expect(stored.templates).toEqual([1, 1]);

        // Full screen and back.
        const fs = page.locator('#fullscreen');
        await fs.click();
        await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
        await expect(fs).toHaveText('Exit full screen');
        await fs.click();
        await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(false);
        await expect(fs).toHaveText('Full screen');

        // A reload keeps today's list.
        await page.reload();
        await expect(page.locator('#arrivals .who').first()).toHaveText('Unknown visitor');
        await expect(page.locator('#arrivals .who')).toHaveText(['Unknown visitor', 'tony', 'colin']);
        await expect(page.locator('#present')).toHaveText('2');
        await readyAndDetecting(page);
        expect(errors, 'no console error on the kiosk page').toEqual([]);
      } finally {
        await context.close();
      }
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  expect(offOrigin, 'no request may leave the page origin').toEqual([]);
});

test('the kiosk page on the server (npm start): identify sessions one after another list Gerhard and an unknown visitor', async ({}, info) => {
  const baseURL = info.project.use.baseURL!;
  const pose = (p: string) => fixture(`poses/${p}.jpg`);
  // Gerhard turning, then Colin Powell (not enrolled) turning; the clip loops.
  const photo = (who: 'schroeder' | 'powell', p: 'center' | 'left' | 'right') => (who === 'schroeder' && p === 'left' ? pose('left') : fixture(`poses-${who}/${p}.jpg`));
  const clip = clipSequence(
    (['schroeder', 'powell'] as const).flatMap((who) => [0, 1].flatMap(() => (['center', 'left', 'center', 'right'] as const).map((p) => ({ photo: photo(who, p), seconds: 1 })))),
    'kiosk-session-schroeder-powell',
  );
  // The server, with the key the dev server's demo site backend uses (playwright.config.ts); Gerhard
  // enrolled through a session from this process (his five pose photos as camera frames).
  const dir = mkdtempSync(join(tmpdir(), 'face-login-kiosk-server-'));
  const backend = new Backend({ port: SESSION_BACKEND_PORT, sqlite: join(dir, 'server.sqlite'), origins: [new URL(baseURL).origin], siteKeys: [DEMO_SITE_KEY] });
  await backend.start(90_000);
  const site = new DirectSite(backend.url, DEMO_SITE_KEY);
  const { sessionId } = await site.openSession('enroll', 'gerhard');
  const frames = ['center', 'left', 'right', 'up', 'down'].map((p, i) => ({
    jpeg: Buffer.from(cameraFrame(jpeg.decode(readFileSync(pose(p)), { useTArray: true, formatAsRGBA: true }))).toString('base64'),
    t: i * 500,
  }));
  const up = await fetch(`${backend.url}/v1/sessions/${sessionId}/frames`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ frames }) });
  expect(await up.json()).toEqual({ status: 'done' });
  expect(await site.sessionResult(sessionId)).toMatchObject({ state: 'done', decision: 'accept' });
  const offOrigin: string[] = [];
  const profile = mkdtempSync(join(dir, 'profile-'));
  const { context, page } = await launchWithCamera(profile, baseURL, { clip, offOrigin, allowOrigins: [backend.url] });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  try {
    await page.goto('/demo/kiosk.html?backend=wasm&cooldown=600');
    await expect(page.locator('body')).toHaveAttribute('data-mode', 'server', { timeout: 30_000 });
    const rows = page.locator('#arrivals li .who');
    await expect(rows.filter({ hasText: 'gerhard' })).toHaveCount(1, { timeout: 120_000 });
    await expect(rows.filter({ hasText: 'Unknown visitor' })).toHaveCount(1, { timeout: 120_000 });
    // Once per cooldown: neither is listed again while the clip keeps showing them.
    await page.waitForTimeout(8000);
    await expect(rows).toHaveCount(2);
    expect(await page.locator('#present').textContent()).toBe('1');
    expect(await page.locator('#unknown').textContent()).toBe('1');
    // The page never stored anyone's face: no template on this device.
    expect(await page.evaluate(async () => (await document.querySelector('face-login')!.engine!.store.listUsers()).length)).toBe(0);
  } finally {
    await context.close();
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(offOrigin).toEqual([]);
  // Refused captures (a turn cut by the switch of person) are warnings, not console errors.
  expect(errors).toEqual([]);
});
