/**
 * The package in a React 19 + TypeScript app (issue 12), built from scratch in a temp folder the
 * way the README's "Install in your app" (React) says: its install commands run as written (the
 * packed tarball in place of the registry's face-login; react, vite, typescript, ... from the npm
 * registry, majors pinned there), its vite.config.ts, src/App.tsx and src/main.tsx written as they
 * are (the blocks marked `<!-- consumer: react-app ... -->`); index.html and a strict tsconfig.json
 * are the test's, as `npm create vite -- --template react-ts` would write them. Then
 * - `tsc --noEmit` passes on the app, and a second file compiled on its own with the same
 *   settings (a string threshold, a detail field the event does not have, `<face-login
 *   mode="enrol">`) fails with exactly those three errors, so the check cannot pass vacuously;
 * - `vite build`, served statically: the face-login/react wrapper (in React's StrictMode) enrols a
 *   person from a fake camera, verifies another photo of them (accepted) and a stranger (rejected),
 *   each pressed on the element's own button as a person would, and the app's typed event props
 *   put the outcome on the page; every request stays on the page's origin.
 * Full tier (`npm run test:full`). FACE_LOGIN_CONSUMER_TARBALL=<path> reuses a packed tarball.
 */
import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWithCamera } from '../support/camera.js';
import { clipFromPhoto, fixture } from '../support/clips.js';
import { recordEvents, run, runReadmeCommands, serveStatic, tryRun, waitForEvent, writeReadmeFiles } from './consumer-support.js';

test.describe.configure({ mode: 'serial' });

const PORT = Number(process.env.FACE_LOGIN_CONSUMER_PORT ?? 5296) + 3;
const BASE = `http://127.0.0.1:${PORT}`;

let work: string;
let app: string;
let server: Server;
const offOrigin: string[] = [];

/** Strict, as Vite's react-ts template; skipLibCheck off so the package's own .d.ts are checked too. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    module: 'ESNext',
    moduleResolution: 'bundler',
    jsx: 'react-jsx',
    strict: true,
    noEmit: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    moduleDetection: 'force',
    noUnusedLocals: true,
    noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
    noUncheckedSideEffectImports: true,
    skipLibCheck: false,
    types: [],
  },
  include: ['src'],
};

/** Compiled on its own (tsconfig.type-errors.json): each line must be the error named after it. */
const TYPE_ERRORS = [
  "import { FaceLogin } from 'face-login/react';",
  '',
  'export const StringThreshold = () => <FaceLogin threshold="0.6" />;',
  'export const NoSuchDetail = () => <FaceLogin onVerified={(e) => console.log(e.detail.code)} />;',
  'export const NoSuchMode = () => <face-login mode="enrol" />;',
  '',
].join('\n');

const tsc = (project: string) => tryRun('npx', ['tsc', '--noEmit', '-p', project], app);

test.beforeAll(async () => {
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'face-login-react-'));
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-react-app', private: true, type: 'module' }, null, 2));
  // The README's React commands and files, as they are.
  const commands = runReadmeCommands('react-app', app);
  expect(commands.map((c) => c.line).join('\n')).toMatch(/react@19[^]*@types\/react@19/);
  expect(writeReadmeFiles('react-app', app).sort()).toEqual(['src/App.tsx', 'src/main.tsx', 'vite.config.ts']);
  // What `npm create vite -- --template react-ts` writes besides.
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <title>consumer react</title>\n  </head>\n  <body>\n    <div id="root"></div>\n    <script type="module" src="/src/main.tsx"></script>\n  </body>\n</html>\n',
  );
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(app, 'type-errors.tsx'), TYPE_ERRORS);
  writeFileSync(join(app, 'tsconfig.type-errors.json'), JSON.stringify({ extends: './tsconfig.json', include: ['type-errors.tsx'] }, null, 2));
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  server = await serveStatic(join(app, 'dist'), PORT);
});

test.afterAll(async () => {
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
  expect(offOrigin, 'no request may leave the page origin').toEqual([]);
});

test('the versions the README pins are the ones installed', () => {
  const version = (name: string) => (JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  expect(version('react')).toMatch(/^19\./);
  expect(version('react-dom')).toMatch(/^19\./);
  expect(version('@types/react')).toMatch(/^19\./);
  expect(version('typescript')).toMatch(/^5\./);
  expect(version('vite')).toMatch(/^8\./);
  expect((JSON.parse(readFileSync(join(app, 'node_modules/face-login/package.json'), 'utf8')) as { scripts?: unknown }).scripts).toBeUndefined();
});

test('tsc passes on the app, and fails on each deliberate type error', () => {
  const good = tsc('tsconfig.json');
  expect(good.out).toBe('');
  expect(good.ok).toBe(true);
  const bad = tsc('tsconfig.type-errors.json');
  expect(bad.ok).toBe(false);
  const errors = bad.out.split('\n').filter((l) => /error TS\d+/.test(l));
  // One error per wrong line, on that line (TS2820 is TS2322 with a "Did you mean 'enroll'?").
  expect(errors.map((l) => /^type-errors\.tsx\((\d+),\d+\): error (TS\d+)/.exec(l)?.slice(1).join(' '))).toEqual(['3 TS2322', '4 TS2339', '5 TS2820']);
  expect(bad.out).toMatch(/'string' is not assignable to type 'number'/);
  expect(bad.out).toMatch(/Property 'code' does not exist on type 'FaceLoginVerifiedDetail'/);
  expect(bad.out).toMatch(/'"enrol"' is not assignable to type 'FaceLoginMode[^']*'\. Did you mean '"enroll"'\?/);
});

test('the build has the assets and the meta tag the plugin adds', () => {
  expect(readFileSync(join(app, 'dist/index.html'), 'utf8')).toMatch(/<meta name="face-login-asset-base" content="\/face-login\/">/);
  for (const f of ['face-login/models/manifest.json', 'face-login/models/mobilefacenet-f16/weights.bin', 'face-login/models/blazeface/weights.bin', 'face-login/wasm/mediapipe/vision_wasm_internal.wasm', 'face-login/wasm/tfjs/tfjs-backend-wasm-simd.wasm']) {
    expect(existsSync(join(app, 'dist', f)), f).toBe(true);
  }
});

test('React app with face-login/react: enrol, verify the same person (accepted) and a stranger (rejected)', async () => {
  const profile = mkdtempSync(join(work, 'profile-'));
  const step = async (photo: string, name: string, path: string, want: string[], shown: RegExp) => {
    const { context, page } = await launchWithCamera(profile, BASE, { clip: clipFromPhoto(fixture(photo), name), offOrigin });
    const paths: string[] = [];
    page.on('request', (r) => paths.push(new URL(r.url()).pathname));
    try {
      await recordEvents(page);
      await page.goto(path);
      expect(await waitForEvent(page, ['ready', 'error'])).toMatchObject({ type: 'ready' });
      // No autostart in the README's App: the person presses the element's button.
      await page.locator('face-login button[part="action"]').click();
      const ev = await waitForEvent(page, [...want, 'error']);
      // The App's typed event prop ran and React rendered its message.
      await expect(page.locator('main > output')).toHaveText(shown);
      expect(paths.filter((p) => /manifest\.json|\.wasm$|\.tflite$|weights\.bin$/.test(p)).every((p) => p.startsWith('/face-login/'))).toBe(true);
      return ev;
    } finally {
      await context.close();
    }
  };
  expect(await step('Colin_Powell_0001.jpg', 'a1', '/?enroll', ['enrolled'], /^Enrolled alice: you can log in now\.$/)).toMatchObject({ type: 'enrolled', detail: { userId: 'alice' } });
  expect(await step('Colin_Powell_0002.jpg', 'a2', '/', ['verified', 'rejected'], /^Welcome back, alice!$/)).toMatchObject({ type: 'verified', detail: { userId: 'alice' } });
  expect(await step('Tony_Blair_0001.jpg', 'b1', '/', ['verified', 'rejected'], /^Not recognised: try again\.$/)).toMatchObject({ type: 'rejected' });
});
