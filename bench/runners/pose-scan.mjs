#!/usr/bin/env node
/**
 * Reads the head pose (src/core/pose.ts) of LFW photos as the product's detector sees them in a
 * 640x480 fake-camera frame, and lists, per identity, the photos that best show each of the five
 * enrolment poses. Used to choose the committed pose fixtures (e2e/fixtures/poses/) and to check
 * the pose estimate's spread on real faces.
 *
 *   node bench/runners/pose-scan.mjs [--ids George_W_Bush,Colin_Powell] [--out bench/results/pose-scan.json.gz]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, DEFAULT_LFW, ROOT, makeLog, median, serveDirPlugin, startVite, writeResultFile } from '../lib/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : null)).filter(Boolean));
const ids = (args.ids ?? 'George_W_Bush,Colin_Powell,Tony_Blair,Donald_Rumsfeld,Gerhard_Schroeder,Ariel_Sharon,Hugo_Chavez,Junichiro_Koizumi,Jean_Chretien,John_Ashcroft').split(',');
const out = args.out ?? join(ROOT, 'bench/results/pose-scan.json.gz');
const log = makeLog('pose-scan');

const vite = await startVite({ cacheDir: 'node_modules/.vite-pose-scan', plugins: [serveDirPlugin('/__faces/', DEFAULT_LFW)], log });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  await page.goto(`${vite.origin}/bench/pages/pose-scan.html`);
  await page.waitForFunction(() => window.scanReady === true, null, { timeout: 60_000 });
  const result = {};
  for (const id of ids) {
    const paths = readdirSync(join(DEFAULT_LFW, id)).filter((f) => f.endsWith('.jpg')).sort().map((f) => `${id}/${f}`);
    const rows = await page.evaluate((p) => window.scan(p), paths);
    const ok = rows.filter((r) => r.faces === 1);
    const best = {
      center: [...ok].sort((a, b) => Math.hypot(a.yaw, a.pitch) - Math.hypot(b.yaw, b.pitch))[0],
      left: [...ok].sort((a, b) => b.yaw - a.yaw)[0],
      right: [...ok].sort((a, b) => a.yaw - b.yaw)[0],
      up: [...ok].sort((a, b) => b.pitch - a.pitch)[0],
      down: [...ok].sort((a, b) => a.pitch - b.pitch)[0],
    };
    result[id] = { n: rows.length, medianYaw: median(ok.map((r) => r.yaw)), medianPitch: median(ok.map((r) => r.pitch)), best, rows };
    log(`${id}: ${rows.length} photos, median yaw ${median(ok.map((r) => r.yaw)).toFixed(1)}, pitch ${median(ok.map((r) => r.pitch)).toFixed(1)}; ` +
      Object.entries(best).map(([k, r]) => `${k} ${r.path.split('/')[1]} (${r.yaw.toFixed(0)}, ${r.pitch.toFixed(0)})`).join('; '));
  }
  writeResultFile(out, JSON.stringify(result, null, 1));
  log(`wrote ${out}`);
} finally {
  await browser.close();
  await vite.close();
}
