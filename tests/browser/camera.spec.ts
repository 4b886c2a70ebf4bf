import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js';

/**
 * UserMediaCamera in real Chromium with its fake capture devices (two of them): a stop() while
 * getUserMedia is still pending leaves no live track once it resolves (start() rejects with
 * `aborted`), a later start() works, the caller's signal cancels the same way, and list() /
 * select() pick a device and remember it for the next camera on this origin.
 */
test.use({
  launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream=device-count=2'] },
  permissions: ['camera'],
});

const BLANK = '/__camera-test.html';
const CAMERA = '/src/adapters/camera/user-media-camera.ts';

type CameraModule = typeof import('../../src/adapters/camera/user-media-camera.js');
declare global {
  interface Window {
    cam: CameraModule;
    /** Every stream getUserMedia handed out, and a gate that holds it back until released. */
    streams: MediaStream[];
    holdCamera: (hold: boolean) => void;
  }
}

async function open(page: Page): Promise<void> {
  await page.route(`**${BLANK}`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>camera</title>' }));
  await page.goto(BLANK);
  await page.evaluate(async (url) => {
    window.cam = await import(/* @vite-ignore */ url);
    window.streams = [];
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    let gate: Promise<void> = Promise.resolve();
    let release = () => undefined as void;
    window.holdCamera = (hold) => {
      if (hold) gate = new Promise<void>((r) => (release = r));
      else release();
    };
    navigator.mediaDevices.getUserMedia = async (c) => {
      const s = await real(c);
      window.streams.push(s);
      await gate;
      return s;
    };
  }, CAMERA);
}

const trackStates = (page: Page) => page.evaluate(() => window.streams.map((s) => s.getTracks().map((t) => t.readyState)));

test('stop() while getUserMedia is pending: the stream that arrives later is ended at once, start() rejects aborted', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const camera = new window.cam.UserMediaCamera({ storageKey: null });
    window.holdCamera(true);
    const started = camera.start().then(
      () => 'resolved',
      (e: { code?: string }) => e.code ?? String(e),
    );
    // The device is open (its track is live) but getUserMedia has not resolved to the camera yet.
    while (window.streams.length === 0) await new Promise((res) => setTimeout(res, 10));
    const before = window.streams[0]!.getTracks().map((t) => t.readyState);
    camera.stop();
    window.holdCamera(false);
    return { before, outcome: await started, running: camera.running, srcObject: camera.video.srcObject };
  });
  expect(r.before).toEqual(['live']);
  expect(r.outcome).toBe('aborted');
  expect(r.running).toBe(false);
  expect(r.srcObject).toBeNull();
  expect(await trackStates(page)).toEqual([['ended']]);
});

test('stop() right after start(), then start() again: the first stream ends, the second one runs until stop()', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const camera = new window.cam.UserMediaCamera({ storageKey: null });
    const first = camera.start().then(
      () => 'resolved',
      (e: { code?: string }) => e.code ?? String(e),
    );
    camera.stop();
    const again = await camera.start().then(() => 'resolved');
    const firstOutcome = await first;
    await new Promise((res) => setTimeout(res, 300));
    const states = window.streams.map((s) => s.getTracks()[0]!.readyState);
    const frame = camera.frame();
    camera.stop();
    return { firstOutcome, again, states, frame: frame ? [frame.width, frame.height] : null, running: camera.running };
  });
  expect(r.firstOutcome).toBe('aborted');
  expect(r.again).toBe('resolved');
  expect(r.states).toEqual(['ended', 'live']);
  expect(r.frame).toEqual([640, 480]);
  expect(r.running).toBe(false);
  expect(await trackStates(page)).toEqual([['ended'], ['ended']]);
});

test('the caller\'s signal cancels a pending start() the same way', async ({ page }) => {
  await open(page);
  const outcome = await page.evaluate(async () => {
    const camera = new window.cam.UserMediaCamera({ storageKey: null });
    window.holdCamera(true);
    const ac = new AbortController();
    const started = camera.start(ac.signal).then(
      () => 'resolved',
      (e: { code?: string }) => e.code ?? String(e),
    );
    while (window.streams.length === 0) await new Promise((res) => setTimeout(res, 10));
    ac.abort();
    window.holdCamera(false);
    return started;
  });
  expect(outcome).toBe('aborted');
  expect(await trackStates(page)).toEqual([['ended']]);
});

test('list() and select(): the picked camera is opened, and remembered for the next camera on this origin', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { UserMediaCamera, CAMERA_STORAGE_KEY } = window.cam;
    localStorage.clear();
    const first = new UserMediaCamera();
    await first.start();
    const listed = await first.list();
    const other = listed.find((c) => !c.current)!;
    first.select(other.deviceId);
    first.stop();
    const stored = localStorage.getItem(CAMERA_STORAGE_KEY);
    // A new camera (a reload of the page) opens the remembered device.
    const second = new UserMediaCamera();
    await second.start();
    const opened = (second.video.srcObject as MediaStream).getVideoTracks()[0]!.getSettings().deviceId;
    const current = (await second.list()).filter((c) => c.current).map((c) => c.deviceId);
    second.stop();
    // A remembered device that is gone: the default camera opens instead.
    localStorage.setItem(CAMERA_STORAGE_KEY, 'no-such-camera');
    const third = new UserMediaCamera();
    await third.start();
    const fallback = third.running;
    third.stop();
    // storageKey null remembers nothing.
    localStorage.clear();
    new UserMediaCamera({ storageKey: null }).select(other.deviceId);
    return { count: listed.length, currents: listed.filter((c) => c.current).length, other: other.deviceId, stored, opened, current, fallback, after: localStorage.length };
  });
  expect(r.count).toBe(2);
  expect(r.currents).toBe(1);
  expect(r.stored).toBe(r.other);
  expect(r.opened).toBe(r.other);
  expect(r.current).toEqual([r.other]);
  expect(r.fallback).toBe(true);
  expect(r.after).toBe(0);
  expect((await trackStates(page)).flat().every((s) => s === 'ended')).toBe(true);
});
