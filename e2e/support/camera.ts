/**
 * Launches Chromium with a fake camera playing `clip`. The video file is fixed per browser
 * launch, so each clip gets its own launch; `userDataDir` persists IndexedDB across launches,
 * which is how a test enrolls with one clip and verifies with another.
 */
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js';

export interface CameraLaunchOptions {
  clip?: string;
  /** Extra Chromium flags. */
  args?: string[];
  /** Grant the camera permission (default true). */
  grantCamera?: boolean;
  /** Collects every request that leaves the page's origin (the test asserts it stays empty). */
  offOrigin?: string[];
  /** Origins (besides the page's) that requests may go to without counting as off-origin: the verification server under test. */
  allowOrigins?: string[];
}

export async function launchWithCamera(userDataDir: string, baseURL: string, opts: CameraLaunchOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const args = [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', ...(opts.args ?? [])];
  if (opts.clip) args.push(`--use-file-for-fake-video-capture=${opts.clip}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args,
    baseURL,
    permissions: opts.grantCamera === false ? [] : ['camera'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const allowed = new Set([new URL(baseURL).origin, ...(opts.allowOrigins ?? []).map((o) => new URL(o).origin)]);
  if (opts.offOrigin) {
    const sink = opts.offOrigin;
    context.on('request', (r) => {
      const u = r.url();
      if (u.startsWith('data:') || u.startsWith('blob:')) return;
      if (!allowed.has(new URL(u).origin)) sink.push(`${r.method()} ${u}`);
    });
  }
  if (opts.offOrigin) {
    // The dev server sends CSP connect-src 'self', and a CSP-blocked fetch is not reported as a
    // request: count the browser's CSP violation reports as attempted off-origin traffic too.
    const sink = opts.offOrigin;
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) sink.push(`CSP: ${m.text()}`);
    });
  }
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  return { context, page };
}
