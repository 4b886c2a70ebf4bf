/**
 * <face-login server="http://…"> against the REAL verification server (server/server.ts, a child
 * process on a temp SQLite file), with the fake-camera clips of element.e2e.ts. The server decides:
 * the test reads its database to see what it stored and how it decided, and checks that nothing
 * the page received (events, HTTP bodies) carries a score. Then the server goes down: without
 * `offline="allow"` the element reports backend-unavailable; with it the device decides and the
 * offline enrolment is queued in IndexedDB; once the server is back it is enrolled there (with the
 * server's checks, as online) and backed up, and the server then decides for that person.
 *
 * The test pages are served with CSP connect-src 'self' plus exactly this server's origin
 * (vite.config.ts, FACE_LOGIN_TEST_BACKEND from playwright.config.ts); a CSP violation fails the
 * test like any request to another origin.
 */
import { expect, test, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_BACKEND_PORT } from '../playwright.config.js';
import { defaultConfig, DEFAULT_MODEL_ID } from '../server/config.js';
import { openStore } from '../server/store/open.js';
import type { Store } from '../server/store/types.js';
import { faceLoginKeys, verifyFaceLoginAssertion, type AssertionAction } from '../src/server-client/index.js';
import { Backend } from './support/backend.js';
import { launchWithCamera } from './support/camera.js';
import { clipFromPhoto, fixture } from './support/clips.js';

test.describe.configure({ mode: 'serial' });

const SIGNING_KEY = String(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
const AUDIENCE = 'https://portal.e2e.test';
/** The portal's check of an assertion the page received: the server's public keys (GET /v1/keys), this audience, user and action. */
async function signedFor(assertion: unknown, subject: string, action: AssertionAction) {
  return verifyFaceLoginAssertion(assertion, { keys: faceLoginKeys({ serverUrl: backend.url }), audience: AUDIENCE, subject, action });
}
const THRESHOLD = defaultConfig().models[DEFAULT_MODEL_ID]!.threshold;

let dir: string;
let sqlite: string;
let backend: Backend;
let baseURL: string;
// Three devices (browser profiles): A enrolls colin; B is another device that has never seen
// colin (so only the server can decide there); C enrolls tony while the server is down.
const profiles: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };
const offOrigin: string[] = [];
/** Every JSON body the server sent to a page. */
const serverBodies: { url: string; status: number; body: string }[] = [];

test.beforeAll(async ({}, info) => {
  baseURL = info.project.use.baseURL!;
  dir = mkdtempSync(join(tmpdir(), 'face-login-online-'));
  sqlite = join(dir, 'server.sqlite');
  for (const k of ['A', 'B', 'C'] as const) profiles[k] = join(dir, `profile-${k}`);
  backend = new Backend({ port: TEST_BACKEND_PORT, sqlite, origins: [new URL(baseURL).origin], signingKey: SIGNING_KEY, audience: AUDIENCE, trustDeviceEmbeddings: true });
  await backend.start();
});
test.afterAll(async () => {
  await backend?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(offOrigin, 'no request may go anywhere but the page origin and the verification server').toEqual([]);
});

type Ev = { type: string; detail: Record<string, unknown> };
const DECISIONS = ['enrolled', 'verified', 'identified', 'rejected', 'error'];

async function events(page: Page): Promise<Ev[]> {
  return page.evaluate(() => window.faceLoginEvents as Ev[]);
}

/** The first event of one of `types` fired after the first `after` events. */
async function waitForEvent(page: Page, types: string[], after = 0, timeout = 90_000): Promise<Ev> {
  await page.waitForFunction(([ts, n]) => window.faceLoginEvents.slice(n).some((e) => ts.includes(e.type)), [types, after] as const, { timeout });
  return (await events(page)).slice(after).find((e) => types.includes(e.type))!;
}

/** The decision events as JSON (which drops undefined members: any score that reached one shows). */
async function decisionsJson(page: Page): Promise<string> {
  return page.evaluate(() => JSON.stringify(window.faceLoginEvents.filter((e) => ['verified', 'identified', 'rejected'].includes(e.type))));
}

/** One "device": a browser profile (its own IndexedDB) launched with one camera clip. */
async function withClip<T>(profile: string, clip: string, query: Record<string, string>, fn: (page: Page) => Promise<T>): Promise<T> {
  const { context, page } = await launchWithCamera(profile, baseURL, { clip, offOrigin, allowOrigins: [backend.url] });
  const reading: Promise<void>[] = [];
  page.on('response', (r) => {
    if (!r.url().startsWith(backend.url + '/')) return;
    reading.push(r.text().then((body) => void serverBodies.push({ url: r.url(), status: r.status(), body }), () => undefined));
  });
  try {
    await page.goto(`/e2e/pages/element.html?${new URLSearchParams(query)}`);
    return await fn(page);
  } finally {
    await Promise.all(reading);
    await context.close();
  }
}

const online = (mode: string, userId?: string, extra: Record<string, string> = {}) => ({
  mode,
  ...(userId ? { 'user-id': userId } : {}),
  server: backend.url,
  backend: 'wasm',
  autostart: '',
  ...extra,
});

/** The server's stored data through its own store (templates are encrypted: the store holds the key, the dev key file next to the database). */
async function serverTemplates<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore({ kind: 'sqlite', path: sqlite });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function db<T>(fn: (d: Database.Database) => T): T {
  const d = new Database(sqlite, { readonly: true, fileMustExist: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

/** The page's own templates for a user (IndexedDB), as plain arrays. */
async function localTemplates(page: Page, userId: string): Promise<number[][]> {
  return page.evaluate(async (u) => {
    const el = document.querySelector('face-login')!;
    return (await el.engine!.store.templatesOf(u, el.engine!.modelId)).map((t) => Array.from(t.embedding));
  }, userId);
}

const A1 = () => clipFromPhoto(fixture('Colin_Powell_0001.jpg'), 'a1');
const A2 = () => clipFromPhoto(fixture('Colin_Powell_0002.jpg'), 'a2');
const B1 = () => clipFromPhoto(fixture('Tony_Blair_0001.jpg'), 'b1');
const B2 = () => clipFromPhoto(fixture('Tony_Blair_0002.jpg'), 'b2');


test('online: enrolling person A stores their templates in the server database', async () => {
  expect(db((d) => d.prepare('SELECT COUNT(*) AS n FROM templates').get())).toEqual({ n: 0 });
  await withClip(profiles.A, A1(), online('enroll', 'colin'), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    // A still photo's near-identical frames are one template (distinctTemplates).
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'enrolled', detail: { userId: 'colin', templates: 1, modelId: DEFAULT_MODEL_ID } });
    const rows = db((d) => d.prepare('SELECT user_id, model_id, pose, embedding FROM templates ORDER BY id').all()) as {
      user_id: string;
      model_id: string;
      pose: string;
      embedding: Buffer;
    }[];
    expect(rows.map((r) => [r.user_id, r.model_id])).toEqual(Array(1).fill(['colin', DEFAULT_MODEL_ID]));
    // The server holds the very embeddings the element computed (and kept on the device).
    const local = await localTemplates(page, 'colin');
    expect(local).toHaveLength(1);
    // Stored encrypted (never the raw 192 floats), and, decrypted with the server's key, the device's very embeddings.
    for (const r of rows) expect(r.embedding.length).not.toBe(192 * 4);
    const stored = await serverTemplates((s) => s.templatesOf('colin', DEFAULT_MODEL_ID));
    expect(stored).toHaveLength(1);
    for (const v of stored) {
      expect(v).toHaveLength(192);
      expect(Math.max(...local.map((l) => dot(v, l)))).toBeGreaterThan(0.9999);
    }
  });
});

test('online: person A on another device, from another photo: the server accepts (verify and identify)', async () => {
  const attemptsBefore = db((d) => (d.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n);
  await withClip(profiles.B, A2(), online('verify', 'colin'), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'verified', detail: { userId: 'colin', decidedBy: 'server' } });
    // This device has no template of colin: the decision can only be the server's.
    expect(await localTemplates(page, 'colin')).toEqual([]);
    const check = await signedFor(ev.detail.assertion, 'colin', 'verify');
    expect(check, 'the assertion is signed by the server for colin').toMatchObject({ ok: true });
    await expect(page.locator('face-login').locator('[role=status]')).toHaveAttribute('data-status', 'verified');

    // Same page, identify (1:N on the server).
    const n = (await events(page)).length;
    await page.evaluate(() => {
      const el = document.querySelector('face-login')!;
      el.mode = 'identify';
      void el.start();
    });
    const id = await waitForEvent(page, ['identified', 'rejected', 'error'], n);
    expect(id, JSON.stringify(id)).toMatchObject({ type: 'identified', detail: { userId: 'colin', decidedBy: 'server' } });
    expect(await signedFor(id.detail.assertion, 'colin', 'identify')).toMatchObject({ ok: true });

    expect(await decisionsJson(page), 'no decision event carries a score or threshold').not.toMatch(/"score"|"threshold"/);
  });
  // The server's audit log: it computed the scores and decided.
  const attempts = db((d) => d.prepare('SELECT action, claimed_user, matched_user, decision, score, origin FROM attempts WHERE id > ? ORDER BY id').all(attemptsBefore)) as {
    action: string;
    claimed_user: string | null;
    matched_user: string | null;
    decision: string;
    score: number;
    origin: string;
  }[];
  expect(attempts.map((a) => [a.action, a.claimed_user, a.matched_user, a.decision])).toEqual([
    ['verify', 'colin', 'colin', 'accept'],
    ['identify', null, 'colin', 'accept'],
  ]);
  for (const a of attempts) {
    expect(a.score).toBeGreaterThanOrEqual(THRESHOLD);
    expect(a.origin).toBe(new URL(baseURL).origin);
  }
});

test('online: person B claiming to be A: the server rejects, and no score reaches the page', async () => {
  const attemptsBefore = db((d) => (d.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n);
  await withClip(profiles.B, B1(), online('verify', 'colin'), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'rejected', detail: { mode: 'verify', userId: 'colin', decidedBy: 'server' } });
    expect(await decisionsJson(page)).not.toMatch(/"score"|"threshold"|"assertion"/);
    await expect(page.locator('face-login').locator('[role=status]')).toHaveAttribute('data-status', 'rejected');
  });
  const attempts = db((d) => d.prepare('SELECT action, claimed_user, decision, score FROM attempts WHERE id > ? ORDER BY id').all(attemptsBefore)) as {
    action: string;
    claimed_user: string;
    decision: string;
    score: number;
  }[];
  expect(attempts.map((a) => [a.action, a.claimed_user, a.decision])).toEqual([['verify', 'colin', 'reject']]);
  expect(attempts[0]!.score).toBeLessThan(THRESHOLD);

  // Everything the server sent to the pages so far: decisions, nonces, never a score.
  const bodies = serverBodies.filter((b) => b.body);
  expect(bodies.some((b) => b.url.endsWith('/v1/verify') && b.body.includes('"decision":"reject"'))).toBe(true);
  expect(bodies.some((b) => b.url.endsWith('/v1/verify') && b.body.includes('"decision":"accept"'))).toBe(true);
  for (const b of bodies) expect(b.body, b.url).not.toMatch(/score/i);
});

test('backend down, offline not allowed: verify fails with backend-unavailable', async () => {
  await backend.stop();
  await withClip(profiles.A, A2(), online('verify', 'colin'), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'error', detail: { code: 'backend-unavailable' } });
    expect(ev.detail.message).toContain(backend.url);
    await expect(page.locator('face-login').locator('[role=status]')).toHaveAttribute('data-status', 'backend-unavailable');
    // Colin's templates are on this device, yet it did not decide by itself.
    expect(await localTemplates(page, 'colin')).toHaveLength(1);
    await page.waitForTimeout(1000);
    expect((await events(page)).filter((e) => ['verified', 'rejected'].includes(e.type))).toEqual([]);
  });
});

test('backend down, offline="allow": the device enrolls (backup queued in IndexedDB) and decides', async () => {
  expect(backend.running).toBe(false);
  await withClip(profiles.C, B1(), online('enroll', 'tony', { offline: 'allow' }), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'enrolled', detail: { userId: 'tony', templates: 1 } });
    const queued = await page.evaluate(() => document.querySelector('face-login')!.engine!.store.pendingBackups());
    expect(queued.map((q) => [q.userId, q.modelId])).toEqual([['tony', DEFAULT_MODEL_ID]]);
  });
  await withClip(profiles.C, B2(), online('verify', 'tony', { offline: 'allow' }), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'verified', detail: { userId: 'tony', decidedBy: 'device' } });
    // The device decided, and without expose-scores its event carries no score either.
    expect(ev.detail).not.toHaveProperty('score');
    expect(ev.detail).not.toHaveProperty('threshold');
  });
  await withClip(profiles.C, A2(), online('verify', 'tony', { offline: 'allow' }), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'rejected', detail: { userId: 'tony', decidedBy: 'device' } });
  });
  // Nothing reached the server's database meanwhile.
  expect(db((d) => d.prepare("SELECT COUNT(*) AS n FROM backups WHERE user_id = 'tony'").get())).toEqual({ n: 0 });
  expect(db((d) => d.prepare("SELECT COUNT(*) AS n FROM templates WHERE user_id = 'tony'").get())).toEqual({ n: 0 });
});

test('backend back: the queued enrolment is enrolled on the server (and backed up), and the server then decides for that person', async () => {
  await backend.start();
  await withClip(profiles.C, B2(), { mode: 'verify', 'user-id': 'tony', server: backend.url, backend: 'wasm', offline: 'allow' }, async (page) => {
    await waitForEvent(page, ['ready', 'error']);
    await page.waitForFunction(async () => (await document.querySelector('face-login')!.engine!.store.pendingBackups()).length === 0, undefined, {
      timeout: 30_000,
      polling: 250,
    });
    const synced = await waitForEvent(page, ['synced'], 0, 10_000);
    expect(synced.detail).toEqual({ userId: 'tony', modelId: DEFAULT_MODEL_ID, outcome: 'enrolled' });
    const local = await localTemplates(page, 'tony');
    expect(local).toHaveLength(1);
    // Enrolled through the enroll route (the server's checks): the device's very templates.
    const enrolled = db((d) => d.prepare("SELECT model_id FROM templates WHERE user_id = 'tony' ORDER BY id").all()) as { model_id: string }[];
    expect(enrolled.map((r) => r.model_id)).toEqual(Array(1).fill(DEFAULT_MODEL_ID));
    for (const v of await serverTemplates((s) => s.templatesOf('tony', DEFAULT_MODEL_ID))) expect(Math.max(...local.map((l) => dot(v, l)))).toBeGreaterThan(0.9999);
    // And backed up as before (restore to a device needs proof).
    const backup = await serverTemplates((s) => s.getBackup('tony'));
    expect(backup?.modelId).toBe(DEFAULT_MODEL_ID);
    const backedUp = backup!.templates.map((t) => t.embedding);
    expect(backedUp).toHaveLength(1);
    for (const v of backedUp) expect(Math.max(...local.map((l) => dot(v, l)))).toBeGreaterThan(0.9999);
  });
  // Tony on a device that has never seen him, from another photo: only the server can decide, and it accepts.
  const attemptsBefore = db((d) => (d.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n);
  await withClip(profiles.B, B2(), online('verify', 'tony'), async (page) => {
    const ev = await waitForEvent(page, DECISIONS);
    expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'verified', detail: { userId: 'tony', decidedBy: 'server' } });
    expect(await localTemplates(page, 'tony')).toEqual([]);
    expect(await signedFor(ev.detail.assertion, 'tony', 'verify')).toMatchObject({ ok: true });
  });
  const attempts = db((d) => d.prepare('SELECT action, claimed_user, decision FROM attempts WHERE id > ? ORDER BY id').all(attemptsBefore));
  expect(attempts).toEqual([{ action: 'verify', claimed_user: 'tony', decision: 'accept' }]);
});
