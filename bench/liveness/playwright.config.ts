import { resolve } from 'node:path';
import { defineConfig } from '@playwright/test';
import base from '../../playwright.config.js';

/**
 * The passive-liveness experiment's browser check (liveness.spec.ts), apart from `npm test`:
 * `npm run bench:liveness:check`. The product's Playwright setup (Chromium, the Vite dev server
 * on the test port) with this folder's global setup, which builds the NOT SHIPPED model into
 * .cache/models-experimental/.
 */
const ROOT = resolve(import.meta.dirname, '../..');

export default defineConfig({
  ...base,
  globalSetup: './global-setup.ts',
  outputDir: resolve(ROOT, 'test-results/bench-liveness'),
  projects: [{ name: 'bench-liveness', testDir: '.', testMatch: 'liveness.spec.ts' }],
  webServer: { ...(base.webServer as NonNullable<Exclude<typeof base.webServer, unknown[]>>), cwd: ROOT },
});
