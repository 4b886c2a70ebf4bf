/**
 * The demo (what `npm start` serves), driven as a visitor would: enroll under a name, then
 * log in, under the demo's own Content-Security-Policy. Nothing may leave the page's origin.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
