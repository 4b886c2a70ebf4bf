import { defineConfig } from '@playwright/test';

/**
 * Real Chromium from Debian (a Playwright browser download is impossible here).
 * - project "browser": model, detector and IndexedDB tests in a real page (tests/browser).
 * - project "e2e": the <face-login> element driven by fake camera clips (e2e/); each test
 *   launches its own persistent browser per clip because Chromium's fake video file is
 *   fixed per launch (see e2e/support/camera.ts).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu-sandbox',
];
const PORT = Number(process.env.FACE_LOGIN_TEST_PORT ?? 5199);
/**
 * The verification server e2e/online.e2e.ts starts (server/server.ts on this port). Its origin
 * is given to the dev server so that the test pages' CSP connect-src allows exactly it.
 */
export const TEST_BACKEND_PORT = Number(process.env.FACE_LOGIN_TEST_BACKEND_PORT ?? 5198);
export const TEST_BACKEND = `http://127.0.0.1:${TEST_BACKEND_PORT}`;

/**
 * The verification server e2e/sessions.e2e.ts starts with this site key: the dev server's demo
 * site backend (demo/site-backend.ts) opens sessions on it, as `npm start` does.
 */
export const SESSION_BACKEND_PORT = Number(process.env.FACE_LOGIN_SESSION_BACKEND_PORT ?? 5197);
export const SESSION_BACKEND = `http://127.0.0.1:${SESSION_BACKEND_PORT}`;
export const DEMO_SITE_KEY = 'e2e-demo-site-key-0123456789-abcdefghijkl';

/** The slow tier (`npm run test:full`), by file. */
const FULL_TIER = [/tests\/browser\/(converter|detector|embedding)-parity\.spec\.ts$/, /e2e\/soak\.e2e\.ts$/, /e2e\/demo\.e2e\.ts$/, /e2e\/kiosk-page\.e2e\.ts$/, /e2e\/consumer\/.*\.e2e\.ts$/];

export default defineConfig({
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  globalSetup: './e2e/support/global-setup.ts',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  /**
   * Two tiers. `npm test` runs "browser" and "e2e": what every change must pass (a few minutes).
   * `npm run test:full` runs "full": the slow checks (converter parity against the float64
   * reference, server-side detector and embedding parity with the browser's, the kiosk soak, the demo end to end including `npm start`). CI runs both.
   */
  projects: [
    { name: 'browser', testDir: 'tests/browser', testIgnore: FULL_TIER },
    { name: 'e2e', testDir: 'e2e', testMatch: /.*\.e2e\.ts/, testIgnore: FULL_TIER },
    { name: 'full', testDir: '.', testMatch: FULL_TIER },
  ],
  webServer: {
    command: `npx vite --config vite.config.ts --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/demo/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    // VITE_FACE_LOGIN_SERVER empty: the demo served here is the offline one (e2e/demo.e2e.ts runs `npm start` for the other).
    env: {
      FACE_LOGIN_TEST: '1',
      FACE_LOGIN_TEST_BACKEND: TEST_BACKEND,
      VITE_FACE_LOGIN_SERVER: '',
      FACE_LOGIN_DEMO_BACKEND: SESSION_BACKEND,
      FACE_LOGIN_DEMO_SITE_KEY: DEMO_SITE_KEY,
    },
  },
});
