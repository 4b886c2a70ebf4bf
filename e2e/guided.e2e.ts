/**
 * Guided enrolment, active liveness, kiosk mode and localisation, end to end with the real
 * models. Clips are sequences of committed LFW photos (e2e/fixtures, see SOURCE.md): one person
 * photographed facing centre, left, right, up and down stands in for a turning head.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, clipSequence, fixture } from './support/clips.js';

type Ev = { type: string; detail: Record<string, unknown>; t: number };
const pose = (p: string) => fixture(`poses/${p}.jpg`);
const SHOTS = process.env.UPDATE_SCREENSHOTS ? resolve(import.meta.dirname, '../docs/screenshots') : null;

async function events(page: Page): Promise<Ev[]> {
  return page.evaluate(() => window.faceLoginEvents as Ev[]);
}
async function waitFor(page: Page, types: string[], timeout = 60_000): Promise<Ev> {
  await page.waitForFunction((ts) => window.faceLoginEvents.some((e) => ts.includes(e.type)), types, { timeout });
  return (await events(page)).find((e) => types.includes(e.type))!;
}
async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.locator('face-login').screenshot({ path: join(SHOTS, `${name}.png`) });
}

let profile: string;
let baseURL: string;
const offOrigin: string[] = [];
test.describe.configure({ mode: 'serial' });
test.beforeAll(() => {
  profile = mkdtempSync(join(tmpdir(), 'face-login-guided-'));
});
test.afterAll(() => {
  rmSync(profile, { recursive: true, force: true });
  expect(offOrigin).toEqual([]);
});
test.beforeEach(({}, info) => {
  baseURL = info.project.use.baseURL!;
});

async function withClip<T>(clip: string, query: string, fn: (page: Page) => Promise<T>, dir = profile): Promise<T> {
  const { context, page } = await launchWithCamera(dir, baseURL, { clip, offOrigin });
  try {
    await page.setViewportSize({ width: 480, height: 640 });
    await page.goto(`/e2e/pages/element.html?${query}`);
    return await fn(page);
  } finally {
    await context.close();
  }
}

test('a head turning through the five poses enrolls fully, one template per pose', async () => {
  const clip = clipSequence(['center', 'left', 'right', 'up', 'down'].map((p) => ({ photo: pose(p), seconds: 2 })), 'five-poses');
  await withClip(clip, 'mode=enroll&user-id=gerhard&guided&autostart', async (page) => {
    // The hint names the pose to take, on the preview and in the aria-live status line.
    await expect(page.locator('face-login').locator('[role=status]')).toContainText(/Pose [2-5] of 5/, { timeout: 60_000 });
    await expect(page.locator('face-login').locator('[part=hint]')).toBeVisible();
    await shot(page, 'enroll-guided');
    const ev = await waitFor(page, ['enrolled', 'error'], 90_000);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'enrolled', detail: { userId: 'gerhard', templates: 5 } });
    const poses = await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      return (await el.engine!.store.templatesOf('gerhard', el.engine!.modelId)).map((t) => t.pose);
    });
    expect(poses).toEqual(['center', 'left', 'right', 'up', 'down']);
    // Guidance asked for the next pose in turn (from "right" to "up" it first says "face forward").
    const hints = (await events(page)).filter((e) => e.type === 'status').map((e) => e.detail.status);
    for (const h of ['turn-left', 'turn-right', 'face-forward', 'look-down']) expect(hints).toContain(h);
  });
});

test('active liveness: a still photo of the enrolled person fails the turn challenge', async () => {
  await withClip(clipFromPhoto(pose('center-2'), 'still-gerhard'), 'mode=verify&user-id=gerhard&liveness=active&autostart', async (page) => {
    const ev = await waitFor(page, ['verified', 'rejected', 'error'], 60_000);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'error', detail: { code: 'liveness-failed' } });
  });
});

test('active liveness: turning left and right passes, then the face is verified', async () => {
  const clip = clipSequence(
    [
      { photo: pose('center'), seconds: 1 },
      { photo: pose('left'), seconds: 1.5 },
      { photo: pose('right'), seconds: 1.5 },
      { photo: pose('left'), seconds: 1.5 },
      { photo: pose('center-2'), seconds: 4 },
    ],
    'turning-gerhard',
  );
  await withClip(clip, 'mode=verify&user-id=gerhard&liveness=active&autostart', async (page) => {
    await expect(page.locator('face-login').locator('[role=status]')).toContainText(/Liveness check/, { timeout: 60_000 });
    await shot(page, 'verify-liveness');
    const ev = await waitFor(page, ['verified', 'rejected', 'error'], 60_000);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'verified', detail: { userId: 'gerhard' } });
    await shot(page, 'verified');
  });
});

test('kiosk: two enrolled people and a stranger in turn give exactly two identifications and one unknown', async () => {
  test.setTimeout(240_000);
  const kioskProfile = mkdtempSync(join(tmpdir(), 'face-login-kiosk-'));
  try {
    for (const [user, photo] of [['colin', 'Colin_Powell_0001.jpg'], ['tony', 'Tony_Blair_0001.jpg']] as const) {
      await withClip(clipFromPhoto(fixture(photo), photo.replace('.jpg', '')), `mode=enroll&user-id=${user}&autostart`, async (page) => {
        expect(await waitFor(page, ['enrolled', 'error'])).toMatchObject({ type: 'enrolled' });
      }, kioskProfile);
    }
    const clip = clipSequence(
      [
        { blank: true, seconds: 1 },
        { photo: fixture('Colin_Powell_0002.jpg'), seconds: 2.5 },
        { blank: true, seconds: 1.5 },
        { photo: fixture('Tony_Blair_0002.jpg'), seconds: 2.5 },
        { blank: true, seconds: 1.5 },
        { photo: pose('center'), seconds: 2.5 }, // not enrolled in this kiosk
        { blank: true, seconds: 8 },
      ],
      'kiosk',
    );
    await withClip(clip, 'mode=identify&continuous&autostart&cooldown=60', async (page) => {
      await waitFor(page, ['ready']);
      const base = await page.evaluate(() => window.numTensors());
      await page.waitForFunction(() => window.faceLoginEvents.filter((e) => e.type === 'identified' || e.type === 'rejected').length >= 3, null, { timeout: 60_000 });
      await shot(page, 'kiosk');
      await page.waitForTimeout(3000); // nothing more is announced while the kiosk keeps watching
      const decisions = (await events(page))
        .filter((e) => e.type === 'identified' || e.type === 'rejected')
        .map((e) => (e.type === 'identified' ? (e.detail.userId as string) : 'unknown'));
      expect(decisions).toEqual(['colin', 'tony', 'unknown']);
      expect(await page.evaluate(() => window.numTensors())).toBe(base);
    }, kioskProfile);
  } finally {
    rmSync(kioskProfile, { recursive: true, force: true });
  }
});

test('zh-CN: the element speaks Chinese', async () => {
  await withClip(clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1'), 'mode=verify&user-id=nobody&lang=zh-CN', async (page) => {
    await waitFor(page, ['ready']);
    await expect(page.locator('face-login').locator('[role=status]')).toHaveText('准备就绪，请看向摄像头。');
    await expect(page.locator('face-login').getByRole('button')).toHaveText('刷脸登录');
    await page.locator('face-login').getByRole('button').click();
    await expect(page.locator('face-login').locator('[role=status]')).toHaveText('此用户名尚未录入人脸：请先录入。');
  });
});
