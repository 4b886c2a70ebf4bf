/**
 * Kiosk soak: continuous identification over a looping clip of people coming and going, with
 * tensors, JS heap (after a forced GC) and processed frames sampled. SOAK_MINUTES sets the
 * length (default 1 in the suite; the README quotes a longer run). Memory must stay flat.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, clipSequence, fixture } from './support/clips.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 1);

test(`kiosk runs ${MINUTES} min with flat memory`, async ({}, info) => {
  test.setTimeout((MINUTES * 60 + 180) * 1000);
  const baseURL = info.project.use.baseURL!;
  const profile = mkdtempSync(join(tmpdir(), 'face-login-soak-'));
  const offOrigin: string[] = [];
  const gcArgs = ['--js-flags=--expose-gc', '--enable-precise-memory-info'];
  try {
    {
      const { context, page } = await launchWithCamera(profile, baseURL, { clip: clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1'), args: gcArgs });
      await page.goto('/e2e/pages/element.html?mode=enroll&user-id=colin&autostart');
      await page.waitForFunction(() => window.faceLoginEvents.some((e) => e.type === 'enrolled'), null, { timeout: 60_000 });
      await context.close();
    }
    const clip = clipSequence(
      [
        { photo: fixture('Colin_Powell_0002.jpg'), seconds: 2 },
        { blank: true, seconds: 1.5 },
        { photo: fixture('poses/center.jpg'), seconds: 2 },
        { blank: true, seconds: 1.5 },
      ],
      'soak',
    );
    const { context, page } = await launchWithCamera(profile, baseURL, { clip, args: gcArgs, offOrigin });
    try {
      // cooldown=0: every arrival is announced, so the loop does real work the whole time.
      await page.goto('/e2e/pages/element.html?mode=identify&continuous&autostart&cooldown=0');
      await page.waitForFunction(() => window.faceLoginEvents.some((e) => e.type === 'ready'), null, { timeout: 60_000 });
      await page.evaluate(() => {
        const w = window as unknown as { frames_: number };
        w.frames_ = 0;
        document.querySelector('face-login')!.engine!.addEventListener('frame', () => w.frames_++);
      });
      const sample = () =>
        page.evaluate(async () => {
          (window as unknown as { gc: () => void }).gc();
          await new Promise((r) => setTimeout(r, 50));
          const mem = (performance as unknown as { memory: { usedJSHeapSize: number } }).memory;
          return {
            t: performance.now(),
            tensors: window.numTensors(),
            heapMb: mem.usedJSHeapSize / 1e6,
            frames: (window as unknown as { frames_: number }).frames_,
            announcements: window.faceLoginEvents.filter((e) => e.type === 'identified' || e.type === 'rejected').length,
            errors: window.faceLoginEvents.filter((e) => e.type === 'error').length,
          };
        });
      await page.waitForTimeout(15_000); // warm-up: caches, JIT, first announcements
      const samples = [await sample()];
      const end = Date.now() + MINUTES * 60_000;
      while (Date.now() < end) {
        await page.waitForTimeout(Math.min(10_000, Math.max(0, end - Date.now())));
        samples.push(await sample());
      }
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const report = { minutes: MINUTES, first, last, samples };
      const dir = resolve(import.meta.dirname, '../test-results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'soak.json'), JSON.stringify(report, null, 1));
      console.log(`soak ${MINUTES} min: frames ${first.frames} -> ${last.frames}, announcements ${first.announcements} -> ${last.announcements}, tensors ${first.tensors} -> ${last.tensors}, heap ${first.heapMb.toFixed(1)} -> ${last.heapMb.toFixed(1)} MB, max ${Math.max(...samples.map((s) => s.heapMb)).toFixed(1)} MB`);
      expect(last.errors).toBe(0);
      expect(last.frames - first.frames).toBeGreaterThan(MINUTES * 60 * 4); // it kept looking (>= 4 fps of new frames)
      expect(last.announcements - first.announcements).toBeGreaterThanOrEqual(MINUTES * 8); // people kept being identified
      for (const s of samples) expect(s.tensors).toBe(first.tensors);
      expect(last.heapMb - first.heapMb).toBeLessThan(5);
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  expect(offOrigin).toEqual([]);
});
