/**
 * The benchmarks' smoke runs, for `npm run test:full` (and CI): each benchmark in miniature, so its
 * code cannot rot between the real runs. Results go to a temporary folder, never bench/results/.
 *
 *   node bench/runners/smoke.mjs [--only accuracy,speed,gallery,server,sessions,liveness,detector]
 *
 * - accuracy: bench/runners/accuracy.mjs --smoke (100 LFW pairs, face-api.js on 20, 1:N, ORL);
 *   it reports SKIPPED itself without the datasets (an error under FACE_LOGIN_REQUIRE_DATASETS=1).
 * - speed: bench/runners/speed.mjs --quick (a few iterations of every section).
 * - gallery: bench/runners/gallery-1n.mjs --quick (1:N, Template[] vs PackedGallery at 1k and 10k, in
 *   Node and Chromium, ~15 s; fails when a decision differs).
 * - server: bench/runners/server-load.mjs on 2,000 users for 1 s per route (SQLite, and PostgreSQL
 *   when DATABASE_URL is set).
 * - sessions: bench/runners/session-load.mjs --quick (the real server deciding verify sessions from
 *   real frames: 1 worker, 2 s per level, the overload run, the in-process baseline; ~25 s).
 * - detector: bench/runners/detector.mjs --smoke (BlazeFace short vs full range on TF.js WASM in Node:
 *   120 LFW images, the group shots, 8 small-face photos; ~20 s); SKIPPED without the datasets like accuracy.
 * - liveness: the passive-liveness experiment's browser check (bench/liveness/liveness.spec.ts), its
 *   dev server on port 5196 so that it never meets the product suite's on 5199.
 * Prints one line per smoke with its wall time; exits non-zero when any failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { only: { type: 'string', default: 'accuracy,speed,gallery,server,sessions,liveness,detector' } } });
const out = mkdtempSync(join(tmpdir(), 'face-login-smoke-'));
const node = process.execPath;
const tsx = join(ROOT, 'node_modules/.bin/tsx');
const playwright = join(ROOT, 'node_modules/.bin/playwright');

const SMOKES = {
  accuracy: [node, ['bench/runners/accuracy.mjs', '--smoke']],
  speed: [node, ['bench/runners/speed.mjs', '--quick', '--out', join(out, 'speed')]],
  gallery: [node, ['bench/runners/gallery-1n.mjs', '--quick', '--out', join(out, 'gallery')]],
  server: [tsx, ['bench/runners/server-load.mjs', '--sizes', '2000', '--duration', '1', '--out', join(out, 'server')]],
  sessions: [node, ['bench/runners/session-load.mjs', '--quick', '--out', join(out, 'sessions')]],
  detector: [node, ['bench/runners/detector.mjs', '--smoke', '--out', join(out, 'detector')]],
  liveness: [playwright, ['test', '--config', 'bench/liveness/playwright.config.ts'], { FACE_LOGIN_TEST_PORT: '5196' }],
};

const wanted = values.only.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of wanted) if (!(name in SMOKES)) throw new Error(`unknown smoke "${name}": use ${Object.keys(SMOKES).join(', ')}`);

const rows = [];
try {
  for (const name of wanted) {
    const [cmd, args, env = {}] = SMOKES[name];
    console.log(`\n== smoke: ${name}: ${[cmd === node ? 'node' : cmd.split('/').pop(), ...args].join(' ')}`);
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
    rows.push({ name, ok: r.status === 0, seconds: (performance.now() - t0) / 1000, status: r.status ?? r.signal });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

console.log('\n| smoke | result | wall time |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.ok ? 'passed' : `FAILED (${r.status})`} | ${r.seconds.toFixed(0)} s |`);
const failed = rows.filter((r) => !r.ok).length;
console.log(`smoke: ${rows.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
