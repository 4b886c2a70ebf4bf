/**
 * The package's Vue types in a fresh Vite + Vue 3 + TypeScript app (issue 12), built from scratch
 * in a temp folder as the README's "Install in your app" (Vue) says: its install commands run as
 * written (the packed tarball in place of the registry's face-login), its vite.config.ts,
 * src/env.d.ts, src/main.ts and src/App.vue written as they are (the blocks marked
 * `<!-- consumer: vue-app ... -->`); index.html and a strict tsconfig.json are the test's. Then
 * `vue-tsc --noEmit` passes; a second SFC compiled on its own with the same settings
 * (`mode="enrol"`, a detail field the event does not have) fails with exactly those errors, so the
 * check cannot pass vacuously; and `vite build` compiles <face-login> as a custom element (the
 * README's isCustomElement), not as a Vue component to resolve, with the assets emitted. No browser
 * run: the element itself is the one the Vite and React apps drive.
 * Full tier (`npm run test:full`). FACE_LOGIN_CONSUMER_TARBALL=<path> reuses a packed tarball.
 */
import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runReadmeCommands, tryRun, writeReadmeFiles } from './consumer-support.js';

test.describe.configure({ mode: 'serial' });

let work: string;
let app: string;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    module: 'ESNext',
    moduleResolution: 'bundler',
    jsx: 'preserve',
    strict: true,
    noEmit: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    skipLibCheck: true,
    types: [],
  },
  include: ['src/**/*.ts', 'src/**/*.vue'],
};

/** Compiled on its own (tsconfig.type-errors.json): lines 5 and 6 must fail. */
const TYPE_ERRORS = [
  '<script setup lang="ts">',
  '</script>',
  '',
  '<template>',
  '  <face-login mode="enrol" />',
  '  <face-login @face-login-verified="(e) => console.log(e.detail.code)" />',
  '</template>',
  '',
].join('\n');

const vueTsc = (project: string) => tryRun('npx', ['vue-tsc', '--noEmit', '-p', project], app);

test.beforeAll(() => {
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'face-login-vue-'));
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-vue-app', private: true, type: 'module' }, null, 2));
  const commands = runReadmeCommands('vue-app', app);
  expect(commands.map((c) => c.line).join('\n')).toMatch(/vue@3[^]*vue-tsc@3/);
  expect(writeReadmeFiles('vue-app', app).sort()).toEqual(['src/App.vue', 'src/env.d.ts', 'src/main.ts', 'vite.config.ts']);
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8" />\n    <title>consumer vue</title>\n  </head>\n  <body>\n    <div id="app"></div>\n    <script type="module" src="/src/main.ts"></script>\n  </body>\n</html>\n',
  );
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  mkdirSync(join(app, 'type-errors'));
  writeFileSync(join(app, 'type-errors/Wrong.vue'), TYPE_ERRORS);
  writeFileSync(join(app, 'tsconfig.type-errors.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src/env.d.ts', 'type-errors/Wrong.vue'] }, null, 2));
});

test.afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('vue-tsc passes on the app, and fails on each deliberate type error', () => {
  const good = vueTsc('tsconfig.json');
  expect(good.out).toBe('');
  expect(good.ok).toBe(true);
  const bad = vueTsc('tsconfig.type-errors.json');
  expect(bad.ok).toBe(false);
  const lines = bad.out
    .split('\n')
    .map((l) => /^type-errors\/Wrong\.vue\((\d+),\d+\): error TS\d+/.exec(l)?.[1])
    .filter(Boolean);
  expect([...new Set(lines)]).toEqual(['5', '6']);
  expect(bad.out).toMatch(/"enrol"/);
  expect(bad.out).toMatch(/Property 'code' does not exist on type 'FaceLoginVerifiedDetail'/);
});

test('vite build: <face-login> compiled as a custom element, the assets emitted', () => {
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  const js = readdirSync(join(app, 'dist/assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(app, 'dist/assets', f), 'utf8'))
    .join('\n');
  expect(/customElements\.define\(/.test(js)).toBe(true);
  // The App's <face-login>: created by tag name with its props (h("face-login", {...})); as a
  // component to resolve it would be created from a variable, with the tag only in a resolve call.
  const calls = js.match(/.{0,40}[`"]face-login[`"].{0,60}/g)?.filter((c) => /alice/.test(c)) ?? [];
  expect(calls.length, calls.join('\n')).toBe(1);
  expect(calls[0]).toMatch(/\w\([`"]face-login[`"],\{mode:[`"]verify[`"],["`]?user-id["`]?:[`"]alice[`"]/);
  expect(readFileSync(join(app, 'dist/index.html'), 'utf8')).toMatch(/<meta name="face-login-asset-base" content="\/face-login\/">/);
  expect(existsSync(join(app, 'dist/face-login/models/manifest.json'))).toBe(true);
});
