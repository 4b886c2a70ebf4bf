/**
 * <face-login> end to end with the real models and fake camera clips made from LFW photos
 * (e2e/fixtures, see SOURCE.md). Each step launches Chromium with its own clip; IndexedDB
 * persists between launches through one user-data dir, as it would for a returning visitor.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, clipNoFace, clipSideBySide, fixture } from './support/clips.js';
import { DEFAULT_MODEL_ID } from '../src/core/calibration.js';

test.describe.configure({ mode: 'serial' });

let profile: string;
let baseURL: string;
const offOrigin: string[] = [];

test.beforeAll(() => {
  profile = mkdtempSync(join(tmpdir(), 'face-login-e2e-'));
});
test.afterAll(() => {
  rmSync(profile, { recursive: true, force: true });
  expect(offOrigin, 'no request may leave the page origin').toEqual([]);
});
test.beforeEach(({}, info) => {
  baseURL = info.project.use.baseURL!;
});

type Ev = { type: string; detail: Record<string, unknown> };

async function events(page: Page): Promise<Ev[]> {
  return page.evaluate(() => window.faceLoginEvents as Ev[]);
}

async function waitForEvent(page: Page, types: string[], timeout = 60_000): Promise<Ev> {
  await page.waitForFunction((ts) => window.faceLoginEvents.some((e) => ts.includes(e.type) && e.type !== 'status'), types, { timeout });
  return (await events(page)).find((e) => types.includes(e.type))!;
}

async function withClip<T>(clip: string, query: string, fn: (page: Page) => Promise<T>): Promise<T> {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip, offOrigin });
  try {
    await page.goto(`/e2e/pages/element.html?${query}`);
    return await fn(page);
  } finally {
    await context.close();
  }
}

const A1 = () => clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1');
const A2 = () => clipFromPhoto(fixture('Colin_Powell_0002.jpg'), 'a2');
const B1 = () => clipFromPhoto(fixture('Tony_Blair_0001.jpg'), 'b1');

test('enrolls person A from a clip', async () => {
  await withClip(A1(), 'mode=enroll&user-id=alice&autostart&backend=wasm', async (page) => {
    const ready = await waitForEvent(page, ['ready', 'error']);
    expect(ready.type).toBe('ready');
    expect(ready.detail.backend).toBe('wasm');
    const ev = await waitForEvent(page, ['enrolled', 'error']);
    // The clip is a still photo: its 3 kept frames are near-identical and stored once (distinctTemplates).
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'enrolled', detail: { userId: 'alice', templates: 1 } });
    // The template is really in IndexedDB, tagged with the model id and size.
    const stored = await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      const t = await el.engine!.store.templatesOf('alice', el.engine!.modelId);
      return t.map((x) => ({ size: x.size, len: x.embedding.length, isF32: x.embedding instanceof Float32Array, modelId: x.modelId }));
    });
    expect(stored).toHaveLength(1);
    for (const s of stored) expect(s).toEqual({ size: 192, len: 192, isF32: true, modelId: DEFAULT_MODEL_ID });
  });
});

test('verifies A from a different photo of A: accepted', async () => {
  // expose-scores: this test reads the device's score (a calibration page would).
  await withClip(A2(), 'mode=verify&user-id=alice&autostart&expose-scores', async (page) => {
    const ev = await waitForEvent(page, ['verified', 'rejected', 'error']);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
    expect(ev.detail.score as number).toBeGreaterThanOrEqual(ev.detail.threshold as number);
    await expect(page.locator('face-login').locator('[role=status]')).toHaveAttribute('data-status', 'verified');
  });
});

test('verify as A by person B: rejected', async () => {
  await withClip(B1(), 'mode=verify&user-id=alice&autostart&expose-scores', async (page) => {
    const ev = await waitForEvent(page, ['verified', 'rejected', 'error']);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'rejected', detail: { mode: 'verify', userId: 'alice' } });
    expect(ev.detail.score as number).toBeLessThan(ev.detail.threshold as number);
  });
});

test('identify person B (never enrolled): unknown', async () => {
  await withClip(B1(), 'mode=identify&autostart', async (page) => {
    const ev = await waitForEvent(page, ['identified', 'rejected', 'error']);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'rejected', detail: { mode: 'identify', userId: null } });
  });
});

test('identify person A from another photo: alice', async () => {
  await withClip(A2(), 'mode=identify&autostart', async (page) => {
    const ev = await waitForEvent(page, ['identified', 'rejected', 'error']);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'identified', detail: { userId: 'alice' } });
  });
});

test('detector="tfjs": the same BlazeFace on TF.js, no MediaPipe wasm fetched; A (enrolled with MediaPipe) accepted, B rejected, two faces refused; detector="tfjs-full" accepts A', async () => {
  const run = async (clip: string, query: string, detector = 'tfjs') => {
    const { context, page } = await launchWithCamera(profile, baseURL, { clip, offOrigin });
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    try {
      await page.goto(`/e2e/pages/element.html?${query}&detector=${detector}&backend=wasm`);
      const ready = await waitForEvent(page, ['ready', 'error']);
      expect(ready.type, JSON.stringify(ready)).toBe('ready');
      const ev = await waitForEvent(page, ['verified', 'rejected', 'error']);
      const detectorId = await page.evaluate(() => document.querySelector('face-login')!.engine!.detector.id);
      return { ev, fetched, detectorId };
    } finally {
      await context.close();
    }
  };
  const a = await run(A2(), 'mode=verify&user-id=alice&autostart');
  expect(a.ev, JSON.stringify(a.ev)).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
  expect(a.detectorId).toMatch(/\+tfjs$/);
  expect(a.fetched.filter((p) => p.includes('/mediapipe/') || p.endsWith('.tflite')), 'no MediaPipe runtime or .tflite').toEqual([]);
  expect(a.fetched.some((p) => p.endsWith('/blazeface/weights.bin'))).toBe(true);
  const b = await run(B1(), 'mode=verify&user-id=alice&autostart');
  expect(b.ev, JSON.stringify(b.ev)).toMatchObject({ type: 'rejected', detail: { mode: 'verify', userId: 'alice' } });
  const two = await run(clipSideBySide(fixture('Colin_Powell_0003.jpg'), fixture('Tony_Blair_0002.jpg'), 'two-faces'), 'mode=verify&user-id=alice&autostart');
  expect(two.ev, JSON.stringify(two.ev)).toMatchObject({ type: 'error', detail: { code: 'multiple-faces' } });
  // detector="tfjs-full": BlazeFace full range (kiosks), the same decisions on the same enrolment.
  const full = await run(A2(), 'mode=verify&user-id=alice&autostart', 'tfjs-full');
  expect(full.ev, JSON.stringify(full.ev)).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
  expect(full.detectorId).toMatch(/^blazeface-full-range-.*\+tfjs$/);
  expect(full.fetched.some((p) => p.endsWith('/blazeface-full/weights.bin'))).toBe(true);
  expect(full.fetched.filter((p) => p.includes('/mediapipe/') || p.endsWith('.tflite') || p.endsWith('/blazeface/weights.bin'))).toEqual([]);
});

test('a clip with no face: no decision, "no face" status', async () => {
  await withClip(clipNoFace(), 'mode=verify&user-id=alice&autostart', async (page) => {
    await waitForEvent(page, ['ready', 'error']);
    const status = page.locator('face-login').locator('[role=status]');
    await expect(status).toHaveAttribute('data-status', 'no-face');
    await expect(status).toHaveAttribute('aria-live', 'polite');
    await page.waitForTimeout(4000);
    const decided = (await events(page)).filter((e) => ['verified', 'rejected', 'identified', 'enrolled'].includes(e.type));
    expect(decided).toEqual([]);
    await expect(status).toHaveAttribute('data-status', 'no-face');
  });
});

test('every wait can be cancelled: the button turns into Cancel, Escape cancels too, no error, the camera stays on', async () => {
  await withClip(clipNoFace(), 'mode=enroll&user-id=cancel-check', async (page) => {
    await waitForEvent(page, ['ready', 'error']);
    const el = page.locator('face-login');
    const status = el.locator('[role=status]');
    const button = el.getByRole('button');
    // Click: the status says how long it waits; the button cancels.
    await button.click();
    await expect(status).toContainText('(up to 30 s)');
    await expect(button).toHaveText('Cancel');
    await button.click();
    await expect(status).toHaveText('Cancelled.');
    await expect(status).toHaveAttribute('data-status', 'cancelled');
    await expect(button).toHaveText('Enroll my face');
    // A new start works; Escape (focus is still on the button) cancels it.
    await button.click();
    await expect(status).toContainText('(up to 30 s)');
    await button.press('Escape');
    await expect(status).toHaveText('Cancelled.');
    await expect(button).toHaveText('Enroll my face');
    const evs = await events(page);
    expect(evs.filter((e) => e.type === 'error')).toEqual([]);
    expect(evs.filter((e) => e.type === 'cancelled').map((e) => e.detail)).toEqual([{ mode: 'enroll' }, { mode: 'enroll' }]);
    const tracks = await page.evaluate(() => (document.querySelector('face-login')!.shadowRoot!.querySelector('video')!.srcObject as MediaStream).getTracks().map((t) => t.readyState));
    expect(tracks).toEqual(['live']);
  });
});

test('an error is a sentence for the person on the status line; code and technical message stay in the event and the console', async () => {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip: A1(), offOrigin });
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  try {
    await page.goto('/e2e/pages/element.html?mode=verify&user-id=never-enrolled&autostart');
    const ev = await waitForEvent(page, ['verified', 'rejected', 'error']);
    expect(ev).toMatchObject({ type: 'error', detail: { code: 'not-enrolled' } });
    const status = page.locator('face-login').locator('[role=status]');
    await expect(status).toHaveText('This name is not enrolled yet: enrol first.');
    await expect(status).toHaveAttribute('data-status', 'not-enrolled');
    expect(ev.detail.message as string).not.toBe('');
    expect(await status.textContent()).not.toContain(ev.detail.message as string);
    expect(warnings.some((w) => w.includes('not-enrolled') && w.includes(ev.detail.message as string))).toBe(true);
  } finally {
    await context.close();
  }
});

test('a clip with two faces: refused with multiple-faces', async () => {
  const clip = clipSideBySide(fixture('Colin_Powell_0003.jpg'), fixture('Tony_Blair_0002.jpg'), 'two-faces');
  await withClip(clip, 'mode=verify&user-id=alice&autostart', async (page) => {
    const ev = await waitForEvent(page, ['verified', 'rejected', 'error']);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'error', detail: { code: 'multiple-faces' } });
    await expect(page.locator('face-login').locator('[role=status]')).toHaveAttribute('data-status', 'multiple-faces');
  });
});

test('attributes changed after ready: db-name and models-url reload the engine once, threshold applies in place', async () => {
  await withClip(A2(), 'mode=verify&user-id=alice&backend=wasm', async (page) => {
    await waitForEvent(page, ['ready', 'error']);
    const first = await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      // The camera opens only on an action; the page opens it here (a reload then reopens it).
      await el.engine!.startCamera();
      const video = el.shadowRoot!.querySelector('video')!;
      (window as unknown as { firstTracks: MediaStreamTrack[] }).firstTracks = (video.srcObject as MediaStream).getTracks();
      el.setAttribute('threshold', '0.9');
      await el.updateComplete;
      return { threshold: el.engine!.threshold, hasAlice: await el.engine!.store.hasUser('alice'), tensors: window.numTensors() };
    });
    expect(first).toMatchObject({ threshold: 0.9, hasAlice: true });
    // Two engine options changed together: one reload, one new face-login-ready.
    await page.evaluate(() => {
      const el = document.querySelector('face-login')!;
      el.setAttribute('db-name', 'face-login-other');
      el.setAttribute('models-url', '/models');
    });
    await page.waitForFunction(() => window.faceLoginEvents.filter((e) => e.type === 'ready').length === 2, null, { timeout: 60_000 });
    await page.waitForTimeout(1500);
    const second = await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      const engine = el.engine!;
      const video = el.shadowRoot!.querySelector('video')!;
      return {
        readies: window.faceLoginEvents.filter((e) => e.type === 'ready').length,
        dbName: (engine.store as unknown as { dbName: string }).dbName,
        hasAlice: await engine.store.hasUser('alice'),
        threshold: engine.threshold,
        oldTracks: (window as unknown as { firstTracks: MediaStreamTrack[] }).firstTracks.map((t) => t.readyState),
        newTracks: (video.srcObject as MediaStream).getTracks().map((t) => t.readyState),
        tensors: window.numTensors(),
      };
    });
    expect(second).toEqual({ readies: 2, dbName: 'face-login-other', hasAlice: false, threshold: 0.9, oldTracks: ['ended'], newTracks: ['live'], tensors: first.tensors });
    // The new database is the one used: alice is not enrolled there.
    const before = (await events(page)).length;
    await page.locator('face-login').getByRole('button').click();
    await page.waitForFunction((n) => window.faceLoginEvents.slice(n).some((e) => e.type === 'error'), before);
    expect((await events(page)).slice(before).find((e) => e.type === 'error')).toMatchObject({ detail: { code: 'not-enrolled' } });
    // An unknown mode is a configuration error, not a silent identify.
    const n = (await events(page)).length;
    // Reported when it is set, and again when the action is asked for.
    await page.evaluate(() => document.querySelector('face-login')!.setAttribute('mode', 'login'));
    await page.waitForFunction((k) => window.faceLoginEvents.slice(k).some((e) => e.type === 'error'), n);
    await page.locator('face-login').getByRole('button').click();
    await page.waitForFunction((k) => window.faceLoginEvents.slice(k).filter((e) => e.type === 'error').length === 2, n);
    const after = (await events(page)).slice(n).filter((e) => e.type !== 'status');
    expect(after).toMatchObject([
      { type: 'error', detail: { code: 'invalid-input' } },
      { type: 'error', detail: { code: 'invalid-input' } },
    ]);
  });
});

test('deprecated forms still work for one release: backend="<server URL>" and compute="wasm", one warning each', async () => {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip: A1(), offOrigin });
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning' && /deprecated/.test(m.text())) warnings.push(m.text());
  });
  try {
    await page.goto('/e2e/pages/element.html?mode=verify&user-id=alice&backend=/verification-server&compute=wasm');
    const ready = await waitForEvent(page, ['ready', 'error']);
    expect(ready, JSON.stringify(ready)).toMatchObject({ type: 'ready', detail: { backend: 'wasm' } });
    expect(await page.evaluate(() => document.querySelector('face-login')!.engine!.verifier.kind)).toBe('remote');
    // A second element on the page warns no more.
    await page.evaluate(async () => {
      const el = document.createElement('face-login');
      el.setAttribute('backend', '/verification-server');
      el.setAttribute('compute', 'wasm');
      document.body.append(el);
      await new Promise((r) => el.addEventListener('face-login-ready', r, { once: true }));
      el.remove();
    });
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toMatch(/backend=.*server=/);
    expect(warnings.join('\n')).toMatch(/compute=.*backend=/);
  } finally {
    await context.close();
  }
});

test('removing the element stops the camera and frees every tensor', async () => {
  await withClip(A2(), 'mode=verify&user-id=alice', async (page) => {
    await waitForEvent(page, ['ready', 'error']);
    const before = await page.evaluate(async () => {
      const el = document.querySelector('face-login')!;
      await el.engine!.startCamera();
      await el.engine!.enroll('leak-check');
      const base = window.numTensors();
      for (let i = 0; i < 5; i++) await el.engine!.verify('leak-check');
      await el.engine!.identify();
      const after = window.numTensors();
      const video = el.shadowRoot!.querySelector('video')!;
      const stream = video.srcObject as MediaStream;
      (window as unknown as { tracks: MediaStreamTrack[] }).tracks = stream.getTracks();
      return { base, after, live: stream.getTracks().map((t) => t.readyState) };
    });
    expect(before.after).toBe(before.base);
    expect(before.live).toEqual(['live']);
    const after = await page.evaluate(async () => {
      document.querySelector('face-login')!.remove();
      await new Promise((r) => setTimeout(r, 100));
      return { states: (window as unknown as { tracks: MediaStreamTrack[] }).tracks.map((t) => t.readyState), tensors: window.numTensors() };
    });
    expect(after.states).toEqual(['ended']);
    expect(after.tensors).toBe(0);
  });
});

test('camera permission denied: camera-denied error', async () => {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip: A1(), grantCamera: false, offOrigin });
  try {
    await page.goto('/e2e/pages/element.html?mode=verify&user-id=alice');
    // The camera opens on the person's click, and that is when permission is refused.
    expect(await waitForEvent(page, ['ready', 'error'])).toMatchObject({ type: 'ready' });
    await page.locator('face-login').getByRole('button').click();
    const ev = await waitForEvent(page, ['error']);
    expect(ev).toMatchObject({ type: 'error', detail: { code: 'camera-denied' } });
    await expect(page.locator('face-login').getByRole('button')).toHaveText('Try again');
  } finally {
    await context.close();
  }
});

test('no camera before an action: connected without autostart, getUserMedia is not called until the button is pressed', async () => {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip: A1(), offOrigin });
  try {
    await page.addInitScript(() => {
      const w = window as unknown as { gumCalls: number };
      w.gumCalls = 0;
      const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => {
        w.gumCalls++;
        return gum(c);
      };
    });
    await page.goto('/e2e/pages/element.html?mode=verify&user-id=nobody-here');
    expect(await waitForEvent(page, ['ready', 'error'])).toMatchObject({ type: 'ready' });
    await page.waitForTimeout(1000);
    const idle = await page.evaluate(() => ({
      gumCalls: (window as unknown as { gumCalls: number }).gumCalls,
      srcObject: document.querySelector('face-login')!.shadowRoot!.querySelector('video')!.srcObject,
    }));
    expect(idle).toEqual({ gumCalls: 0, srcObject: null });
    await page.locator('face-login').getByRole('button').click();
    await waitForEvent(page, ['error']); // nobody-here is not enrolled: the action ran on the open camera
    const after = await page.evaluate(() => ({
      gumCalls: (window as unknown as { gumCalls: number }).gumCalls,
      tracks: (document.querySelector('face-login')!.shadowRoot!.querySelector('video')!.srcObject as MediaStream).getTracks().map((t) => t.readyState),
    }));
    expect(after).toEqual({ gumCalls: 1, tracks: ['live'] });
  } finally {
    await context.close();
  }
});

test('mode="enrol" and lang="__proto__": invalid-input naming the allowed values, and the button and status line still read English', async () => {
  await withClip(A1(), 'mode=enrol&lang=__proto__', async (page) => {
    expect(await waitForEvent(page, ['ready'])).toMatchObject({ type: 'ready' });
    const errors = (await events(page)).filter((e) => e.type === 'error').map((e) => e.detail as { code: string; message: string });
    expect(errors.map((e) => e.code)).toEqual(['invalid-input', 'invalid-input']);
    expect(errors[0]!.message).toMatch(/mode "enrol".*enroll, verify or identify/);
    expect(errors[1]!.message).toMatch(/lang "__proto__".*en or zh-CN/);
    const el = page.locator('face-login');
    await expect(el.getByRole('button')).toHaveText('Log in with my face');
    await expect(el.locator('[role=status]')).toHaveText('Ready. Look at the camera.');
    // The action refuses the unknown mode again, in English.
    await el.getByRole('button').click();
    await expect(el.locator('[role=status]')).toHaveAttribute('data-status', 'invalid-input');
    expect((await el.locator('[role=status]').textContent())!.trim().length).toBeGreaterThan(0);
  });
});

test('model files missing: model-load-failed error', async () => {
  await withClip(A1(), 'mode=verify&user-id=alice&models-url=/no-such-models/', async (page) => {
    const ev = await waitForEvent(page, ['ready', 'error']);
    expect(ev).toMatchObject({ type: 'error', detail: { code: 'model-load-failed' } });
  });
});
