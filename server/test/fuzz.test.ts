/**
 * The fuzz suite (issue 11): generated requests over every route of the protocol's ROUTES list
 * (a new route is fuzzed without touching this file), with a fixed seed (FUZZ_SEED overrides it),
 * against two apps in process (app.inject) on SQLite:
 *
 * - the default server (makeSessionApp: sessions on with the examiner double, device routes off);
 * - a device-mode server (makeApp: device routes on, sessions off).
 *
 * Every request is valid (from the route's schemas and live nonces, sessions, users and
 * assertions) or carries one mutation (server/test/fuzz/requests.ts). Every answer is checked
 * (server/test/fuzz/harness.ts): no 5xx and no crash, the protocol's error body with a code from
 * its list and that code's status, no 2xx for a request that must be refused, 2xx answers fit the
 * route's response schema, no score to the page, and nothing stored from a refused request (a
 * fingerprint of every table before and after each request). Then the apps must still be healthy,
 * the heap must not have grown by more than HEAP_BOUND_MB, and one nonce / one session / one
 * assertion used by 20 concurrent requests must have exactly one winner.
 *
 * FUZZ_SEED=<n> explores another sequence; FUZZ_REQUESTS=<n> sets the fuzz requests per app.
 * A failure prints the seed, the app, the request's index and the request itself.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ROUTES, type ChallengeAction, type RouteSpec, type SessionChallenge } from '../../src/protocol/index.js';
import { DEFAULT_ORIGINS } from '../config.js';
import { ADMIN_KEY, Clock, createDb, FakeExaminer, makeApp, makeSessionApp, MODEL, posesOf, randomFace, samePerson, SITE_KEY, SIZE, type TestDb } from './helpers.js';
import { errorBodyProblem, Fuzzer, storedOnRefusal, type Fingerprint, type Violation } from './fuzz/harness.js';
import { chance, int, pick, rng, seedFromEnv, type Rand } from './fuzz/random.js';
import { generate, routeKey, type FuzzContext, type FuzzRequest, type LiveSession } from './fuzz/requests.js';
import { unsupported } from './fuzz/schema-gen.js';

const SEED = seedFromEnv(20_261_128);
const PER_APP = Number(process.env.FUZZ_REQUESTS ?? 5100);
/** Heap growth allowed across the whole run, after a forced GC at both ends. */
const HEAP_BOUND_MB = 64;
const CONCURRENT = 20;
const OTHER_MODEL = 'mobilefacenet-expo-1.0.24';

/** A forced GC (the flag is set at run time, so no --expose-gc is needed). */
function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
}
function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
const heapMb = (): number => process.memoryUsage().heapUsed / 2 ** 20;

/**
 * Every table of the database, counted, plus what a request could change in place. Sessions,
 * nonces and spent assertions are counted while live at the test clock (the app's purge timer may
 * remove expired ones at any time: that is not a request storing or deleting anything).
 */
function sqliteFingerprint(path: string): { read: () => Fingerprint; close: () => void } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const q = db.prepare(`SELECT
    (SELECT count(*) FROM users) AS users,
    (SELECT coalesce(sum(updated_at), 0) FROM users) AS usersUpdated,
    (SELECT count(*) FROM templates) AS templates,
    (SELECT coalesce(max(id), 0) FROM templates) AS templatesMaxId,
    (SELECT count(*) FROM backups) AS backups,
    (SELECT coalesce(sum(updated_at), 0) + coalesce(sum(length(templates)), 0) FROM backups) AS backupsContent,
    (SELECT count(*) FROM attempts) AS attempts,
    (SELECT coalesce(max(id), 0) FROM attempts) AS attemptsMaxId,
    (SELECT count(label) FROM attempts) AS attemptsLabeled,
    (SELECT coalesce(sum(labeled_at), 0) FROM attempts) AS attemptsLabeledAt,
    (SELECT count(*) FROM nonces WHERE expires_at > @now) AS nonces,
    (SELECT count(*) FROM spent_assertions WHERE expires_at > @now) AS spentAssertions,
    (SELECT count(*) FROM guards) AS guards,
    (SELECT coalesce(sum(locked_until), 0) + coalesce(sum(level), 0) + coalesce(sum(length(failures)), 0) FROM guards) AS guardsState,
    (SELECT seq FROM change_counter) AS changeSeq,
    (SELECT count(*) FROM changes) AS changes,
    (SELECT count(*) FROM sessions WHERE purge_at > @now) AS sessions,
    (SELECT count(*) FROM sessions WHERE purge_at > @now AND state <> 'pending') AS sessionsUsed,
    (SELECT coalesce(sum(coalesce(decided_at, 0)), 0) FROM sessions WHERE purge_at > @now) AS sessionsDecided`);
  return { read: () => q.get({ now: clock.now() }) as Fingerprint, close: () => db.close() };
}

interface Face {
  readonly face: number[];
}

/** Users enrolled at setup in both apps (prototype names and the id pattern's punctuation included). */
const USERS = ['alice', 'bob', 'carol', '__proto__', 'constructor', 'toString', 'a:b@c+d.e_f-g', '0'];
/** The users strangers try their faces on (locked out and disabled along the way); the others only ever show their own face. */
const VICTIMS = ['carol', 'toString', '0'];

interface AppUnderTest {
  readonly name: string;
  readonly app: FastifyInstance;
  readonly tdb: TestDb;
  readonly fz: Fuzzer;
  readonly ctx: FuzzContext & { reenroll(user: string): Promise<void> };
  readonly examiner: FakeExaminer | null;
  readonly fingerprint: { read: () => Fingerprint; close: () => void };
  readonly faces: Map<string, Face>;
  /** Session mode: the person (examiner double) behind each user. */
  readonly people: Map<string, string>;
}

const clock = new Clock();
const allViolations: Violation[] = [];
const summary: string[] = [];

async function build(mode: 'default' | 'device', r: Rand): Promise<AppUnderTest> {
  const tdb = await createDb('sqlite');
  if (tdb.db.kind !== 'sqlite') throw new Error('sqlite only');
  const examiner = mode === 'default' ? new FakeExaminer(rng(SEED ^ 0x51)) : null;
  const app = examiner ? await makeSessionApp(tdb.db, clock, examiner) : await makeApp(tdb.db, clock);
  const fingerprint = sqliteFingerprint(tdb.db.path);
  const name = mode === 'default' ? 'default server (sessions on, device routes off)' : 'device-mode server (device routes on, sessions off)';
  const fz = new Fuzzer(name, app, SEED, ROUTES, fingerprint.read);
  const faces = new Map<string, Face>();
  const people = new Map<string, string>();
  const assertions = new Map<string, { token: string; at: number }[]>();
  let identifyAssertion: string | null = null;
  let attemptIds: number[] = [];

  const json = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fz.setup({ method, url, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  const freshNonce = async (action: ChallengeAction, userId: string | null): Promise<string | null> => {
    if (mode !== 'device') return null;
    const res = await json('POST', '/v1/challenges', userId === null ? { action } : { action, userId });
    return res.status === 201 ? ((res.body as { nonce: string }).nonce as string) : null;
  };

  const personFor = (user: string): string => {
    let p = people.get(user);
    if (!p) people.set(user, (p = `p${people.size}${user.replace(/[^A-Za-z0-9]/g, '')}`));
    return p;
  };
  const framesFor = (person: string, challenge: SessionChallenge, how: 'perform' | 'still') =>
    (how === 'still' ? posesOf(challenge).map(() => 'center') : posesOf(challenge)).map((pose, i) => ({ jpeg: Buffer.from(`FAKE:${person}:${pose}`).toString('base64'), t: i * 100 }));

  const openSession = async (action: 'enroll' | 'verify' | 'identify', userId: string | null, person: string): Promise<LiveSession | null> => {
    const res = await json('POST', '/v1/sessions', { action, ...(userId === null ? {} : { userId }), siteNonce: `fuzz-${int(r, 1e9)}` }, { 'x-face-login-site-key': SITE_KEY });
    if (res.status !== 201) return null;
    const b = res.body as { sessionId: string; challenge: SessionChallenge };
    return { id: b.sessionId, action, userId, challenge: b.challenge, frames: (how) => framesFor(person, b.challenge, how) };
  };

  const enrollDevice = async (user: string): Promise<void> => {
    const f = faces.get(user)!.face;
    const nonce = await freshNonce('enroll', user);
    const res = await json(
      'POST',
      '/v1/enroll',
      { nonce, userId: user, modelId: MODEL, templates: [f, samePerson(f, r), samePerson(f, r)].map((embedding, i) => ({ embedding, pose: ['center', 'left', 'right'][i] })) },
      { 'x-face-login-admin-key': ADMIN_KEY },
    );
    if (res.status !== 201) throw new Error(`setup enroll ${user}: ${res.status} ${res.raw}`);
    // And a backup, so that restore has something to give back.
    const bn = await freshNonce('backup', user);
    const b = await json(
      'PUT',
      `/v1/backup/${encodeURIComponent(user)}`,
      { nonce: bn, modelId: MODEL, templates: [{ embedding: samePerson(f, r), pose: 'center', createdAt: 1_700_000_000_000 }] },
      { 'x-face-login-admin-key': ADMIN_KEY },
    );
    if (b.status !== 204) throw new Error(`setup backup ${user}: ${b.status} ${b.raw}`);
  };
  const enrollSession = async (user: string): Promise<void> => {
    const s = await openSession('enroll', user, personFor(user));
    const up = s && (await json('POST', `/v1/sessions/${s.id}/frames`, { frames: s.frames('perform') }));
    if (!up || up.status !== 200) throw new Error(`setup session enroll ${user}: ${up?.status} ${up?.raw}`);
  };

  const ctx: AppUnderTest['ctx'] = {
    name,
    deviceRoutes: mode === 'device',
    sessionRoutes: mode === 'default',
    adminKey: ADMIN_KEY,
    siteKey: SITE_KEY,
    allowedOrigin: DEFAULT_ORIGINS[0],
    modelId: MODEL,
    otherModelId: OTHER_MODEL,
    embeddingSize: SIZE,
    users: USERS,
    victims: VICTIMS,
    faceOf: (user) => faces.get(user)?.face ?? randomFace(r),
    probeOf: (user) => {
      const f = faces.get(user);
      return f ? samePerson(f.face, r) : randomFace(r);
    },
    stranger: () => randomFace(r),
    freshNonce,
    freshSession: async () => {
      if (mode !== 'default') return null;
      const action = pick(r, ['enroll', 'verify', 'verify', 'identify'] as const);
      if (action === 'enroll') {
        const user = `fz-${int(r, 1e9).toString(36)}`;
        return openSession('enroll', user, personFor(user));
      }
      const user = pick(r, USERS);
      const victim = VICTIMS.includes(user) || action === 'identify';
      const person = !victim || chance(r, 0.7) ? personFor(user) : `stranger${int(r, 1e6)}`;
      const s = await openSession(action, action === 'identify' ? null : user, person);
      // Only a victim's session may fail liveness (a failure counts on the user).
      return s && !victim ? { ...s, frames: () => s.frames('perform') } : s;
    },
    takeAssertion: (user) => {
      const list = assertions.get(user);
      while (list && list.length > 0) {
        const a = list.shift()!;
        if (clock.now() - a.at < 60_000) return a.token;
      }
      return null;
    },
    identifyAssertion: () => identifyAssertion,
    attemptIds: () => attemptIds,
    reenroll: async (user) => {
      if (mode === 'device') await enrollDevice(user);
      else await enrollSession(user);
    },
  };

  for (const u of USERS) faces.set(u, { face: randomFace(r) });
  for (const u of USERS) await ctx.reenroll(u);

  /** Genuine verify assertions for the device-mode proof routes (each good for one request), refreshed as they age. */
  const mint = async (): Promise<void> => {
    attemptIds = (await app.store.listAttempts(0, 200)).map((a) => a.id);
    if (mode !== 'device') return;
    for (const u of USERS) {
      const list = assertions.get(u) ?? [];
      assertions.set(u, list);
      for (let i = list.length; i < 4; i++) {
        const nonce = await freshNonce('verify', u);
        const res = await json('POST', '/v1/verify', { nonce, userId: u, modelId: MODEL, embedding: ctx.probeOf(u) });
        const b = res.body as { decision?: string; assertion?: string };
        if (res.status === 200 && b.decision === 'accept') list.push({ token: b.assertion!, at: clock.now() });
      }
    }
    if (identifyAssertion === null) {
      const nonce = await freshNonce('identify', null);
      const res = await json('POST', '/v1/identify', { nonce, modelId: MODEL, embedding: ctx.probeOf('alice') });
      identifyAssertion = (res.body as { assertion?: string }).assertion ?? null;
    }
    attemptIds = (await app.store.listAttempts(0, 200)).map((a) => a.id);
  };
  await mint();
  (ctx as { mint?: () => Promise<void> }).mint = mint;

  return { name, app, tdb, fz, ctx, examiner, fingerprint, faces, people };
}

const apps: AppUnderTest[] = [];
const t0 = performance.now();
let heapStart = 0;
const heapSamples: number[] = [];
/** Per app: milliseconds generating requests (setup requests for live nonces and sessions included). */
const genMs = new Map<string, number>();

/** The fuzz loop for one app: every route in turn (round robin over a seeded order), PER_APP requests. */
async function fuzz(a: AppUnderTest, r: Rand, n: number): Promise<void> {
  const routes: readonly RouteSpec[] = ROUTES;
  for (let i = 0; i < n; i++) {
    const route = routes[i % routes.length]!;
    const t = performance.now();
    const req = await generate(r, route, a.ctx, routes);
    genMs.set(a.name, (genMs.get(a.name) ?? 0) + performance.now() - t);
    const res = await a.fz.send(req);
    if (i % 10 === 9) {
      // Time passes (nonces, sessions and assertions age; lockouts expire): 100 ms a request.
      clock.advance(1000);
      a.fz.invalidate();
    }
    if (res && res.status === 204 && req.method === 'DELETE') {
      // A user deleted by a valid request: enrol them again, so later requests still find them.
      const id = decodeURIComponent(req.url.split('?')[0]!.split('/').pop()!);
      if (USERS.includes(id)) await a.ctx.reenroll(id);
    }
    if (i % 250 === 249) await (a.ctx as { mint?: () => Promise<void> }).mint?.();
    if (i % 1000 === 999) {
      forceGc();
      heapSamples.push(heapMb());
    }
  }
}

describe('fuzz (SQLite)', () => {
  beforeAll(async () => {
    const r = rng(SEED);
    apps.push(await build('default', r));
    apps.push(await build('device', r));
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) {
      a.fingerprint.close();
      await a.app.close();
      await a.tdb.drop();
    }
    const hist = new Map<number | string, number>();
    let requests = 0;
    let setup = 0;
    for (const a of apps) {
      requests += a.fz.requests;
      setup += a.fz.setupRequests;
      for (const [k, v] of a.fz.histogram) hist.set(k, (hist.get(k) ?? 0) + v);
    }
    const sorted = [...hist].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    console.log(
      [
        `fuzz: seed ${SEED} (FUZZ_SEED), ${requests} fuzz requests + ${setup} setup requests in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        `status histogram: ${sorted.map(([k, v]) => `${k}: ${v}`).join(', ')}`,
        ...summary,
        unsupported.size ? `patterns the generator could not read (fell back to 'a's): ${[...unsupported].join(' ')}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  });

  it('the refusal check sees a row stored behind a refusal (the detector can fail)', async () => {
    const a = apps[1]!;
    const before = await a.fz.fingerprint();
    await a.app.store.putBackup({ userId: 'detector-check', modelId: MODEL, templates: [{ embedding: Float32Array.from(randomFace(rng(1))), pose: 'center', createdAt: 1 }], updatedAt: clock.now() });
    const after = await a.fz.fingerprint();
    expect(storedOnRefusal(before, after, { code: 'invalid-body', carriesAssertion: false })).toEqual(expect.arrayContaining([expect.stringMatching(/^backups \d+ -> \d+$/)]));
    await a.app.store.deleteUser('detector-check', clock.now());
    const s0 = await a.fz.fingerprint();
    const d = apps[0]!;
    const d0 = await d.fz.fingerprint();
    await d.app.store.createSession({ hash: 'x'.repeat(43), action: 'identify', userId: null, siteNonce: 'detector', challenge: { kind: 'turns', order: ['left', 'right'] }, createdAt: clock.now(), expiresAt: clock.now() + 1, purgeAt: clock.now() + 2 });
    expect(storedOnRefusal(d0, await d.fz.fingerprint(), { code: 'invalid-session', carriesAssertion: false }).join()).toMatch(/sessions 0 -> 1|sessions \d+ -> \d+/);
    expect(storedOnRefusal(s0, await a.fz.fingerprint(), { code: 'invalid-body', carriesAssertion: false })).toEqual([]);
  });

  it(`${PER_APP} generated requests per app over every route: no 5xx, protocol errors, nothing stored from a refusal`, async () => {
    forceGc();
    heapStart = heapMb();
    const r = rng(SEED ^ 0x9e3779b9);
    for (const a of apps) await fuzz(a, r, PER_APP);
    const violations = apps.flatMap((a) => a.fz.violations);
    allViolations.push(...violations);
    for (const a of apps) {
      const lines = [...a.fz.byRoute].sort().map(([route, m]) => `  ${route}: ${[...m].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`);
      summary.push(`${a.name}: ${a.fz.requests} requests (${(a.fz.injectMs / 1000).toFixed(1)} s in the server, ${(a.fz.fingerprintMs / 1000).toFixed(1)} s checking the store, ${((genMs.get(a.name) ?? 0) / 1000).toFixed(1)} s generating, setup requests included)\n${lines.join('\n')}`);
    }
    if (violations.length > 0) {
      const kinds = new Map<string, number>();
      for (const v of violations) {
        const code = /"code":"([^"]+)"/.exec(v.response)?.[1] ?? '';
        const k = `${v.problem.replace(/\d+ -> \d+/g, 'n -> m').slice(0, 120)} [${v.status} ${code}] on ${JSON.parse(v.request).route}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      const file = join(tmpdir(), `face-login-fuzz-${SEED}.json`);
      writeFileSync(file, JSON.stringify(violations, null, 1));
      console.error(`fuzz: every violation, with its request: ${file}`);
      console.error(`fuzz: violations by kind:\n${[...kinds].sort((x, y) => y[1] - x[1]).map(([k, n]) => `  ${n}× ${k}`).join('\n')}`);
      console.error(
        `fuzz: ${violations.length} violations (seed ${SEED}; rerun with FUZZ_SEED=${SEED}); the first 25:\n` +
          violations
            .slice(0, 25)
            .map((v) => `#${v.index} on ${v.app}: ${v.problem}\n  request: ${v.request}\n  answer ${v.status}: ${v.response}`)
            .join('\n'),
      );
    }
    expect(violations.map((v) => `${v.app} #${v.index}: ${v.problem} | ${v.request.slice(0, 400)}`)).toEqual([]);
  }, 120_000);

  it('every route was reached: each enabled route answered some 2xx, each disabled one its refusal', () => {
    for (const a of apps) {
      for (const route of ROUTES) {
        const m = a.fz.byRoute.get(routeKey(route)) ?? new Map<number, number>();
        const ok = [...m].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
        const device = route.url === '/v1/challenges' || ['/v1/enroll', '/v1/verify', '/v1/identify', '/v1/users/', '/v1/backup/', '/v1/restore/'].some((p) => route.url.startsWith(p));
        const session = route.url.startsWith('/v1/sessions') || route.url.startsWith('/v1/site/');
        const off = (device && a.ctx.deviceRoutes === false) || (session && a.ctx.sessionRoutes === false);
        if (off) expect(m.get(403) ?? 0, `${a.name} ${routeKey(route)}`).toBeGreaterThan(0);
        else expect(ok, `${a.name} ${routeKey(route)}: ${JSON.stringify([...m])}`).toBeGreaterThan(0);
      }
    }
  });

  it('one nonce, 20 concurrent verifies and 20 concurrent enrolments: exactly one wins, the others are invalid-nonce', async () => {
    const a = apps[1]!;
    const r = rng(SEED ^ 0xc0c0);
    // A user of its own, enrolled now (the fuzz run may have locked the others out, as it should).
    const racer = `racer-${int(r, 1e9)}`;
    a.faces.set(racer, { face: randomFace(r) });
    await a.ctx.reenroll(racer);
    const alice = a.faces.get(racer)!.face;
    const nonceRes = await a.fz.setup({ method: 'POST', url: '/v1/challenges', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ action: 'verify', userId: racer }) });
    const nonce = (nonceRes.body as { nonce: string }).nonce;
    const verify = (i: number): FuzzRequest => ({
      method: 'POST',
      url: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      remoteAddress: `10.200.0.${i + 1}`,
      payload: JSON.stringify({ nonce, userId: racer, modelId: MODEL, embedding: samePerson(alice, r) }),
      route: 'POST /v1/verify',
      kind: `concurrent-verify-${i}`,
      mustRefuse: false,
      carriesAssertion: false,
    });
    const attemptsBefore = (await a.app.store.stats()).attempts;
    const vs = await a.fz.sendAll(Array.from({ length: CONCURRENT }, (_v, i) => verify(i)));
    expect(vs.filter((x) => x?.status === 200)).toHaveLength(1);
    expect(vs.filter((x) => x?.status === 200)[0]!.body).toMatchObject({ decision: 'accept' });
    expect(vs.filter((x) => x?.status === 400 && (x.body as any).error.code === 'invalid-nonce')).toHaveLength(CONCURRENT - 1);
    expect((await a.app.store.stats()).attempts).toBe(attemptsBefore + 1);

    const user = `race-${int(r, 1e9)}`;
    const face = randomFace(r);
    const en = await a.fz.setup({ method: 'POST', url: '/v1/challenges', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ action: 'enroll', userId: user }) });
    const enNonce = (en.body as { nonce: string }).nonce;
    const s0 = await a.app.store.stats();
    const es = await a.fz.sendAll(
      Array.from({ length: CONCURRENT }, (_v, i) => ({
        method: 'POST',
        url: '/v1/enroll',
        headers: { 'content-type': 'application/json' },
        remoteAddress: `10.201.0.${i + 1}`,
        payload: JSON.stringify({ nonce: enNonce, userId: user, modelId: MODEL, templates: [{ embedding: samePerson(face, r), pose: 'center' }] }),
        route: 'POST /v1/enroll',
        kind: `concurrent-enroll-${i}`,
        mustRefuse: false,
        carriesAssertion: false,
      })),
    );
    expect(es.filter((x) => x?.status === 201)).toHaveLength(1);
    expect(es.filter((x) => x?.status === 400 && (x.body as any).error.code === 'invalid-nonce')).toHaveLength(CONCURRENT - 1);
    const s1 = await a.app.store.stats();
    expect([s1.users - s0.users, s1.templates - s0.templates]).toEqual([1, 1]);
  });

  it('one assertion, 20 concurrent exports (each with its own nonce): exactly one is served, the others invalid-assertion', async () => {
    const a = apps[1]!;
    const r = rng(SEED ^ 0xa55e);
    const racer = `exporter-${int(r, 1e9)}`;
    a.faces.set(racer, { face: randomFace(r) });
    await a.ctx.reenroll(racer);
    const n = await a.fz.setup({ method: 'POST', url: '/v1/challenges', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ action: 'verify', userId: racer }) });
    const v = await a.fz.setup({
      method: 'POST',
      url: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ nonce: (n.body as { nonce: string }).nonce, userId: racer, modelId: MODEL, embedding: samePerson(a.faces.get(racer)!.face, r) }),
    });
    const assertion = (v.body as { assertion: string }).assertion;
    expect(assertion).toBeTypeOf('string');
    const nonces: string[] = [];
    for (let i = 0; i < CONCURRENT; i++) nonces.push((await a.ctx.freshNonce('export', racer))!);
    const out = await a.fz.sendAll(
      nonces.map((nonce, i) => ({
        method: 'GET',
        url: `/v1/users/${racer}/export`,
        headers: { authorization: `Bearer ${assertion}`, 'x-face-login-nonce': nonce },
        remoteAddress: `10.202.0.${i + 1}`,
        route: 'GET /v1/users/:userId/export',
        kind: `concurrent-export-${i}`,
        mustRefuse: false,
        carriesAssertion: true,
      })),
    );
    expect(out.filter((x) => x?.status === 200)).toHaveLength(1);
    expect(out.filter((x) => x?.status === 401 && (x.body as any).error.code === 'invalid-assertion')).toHaveLength(CONCURRENT - 1);
  });

  it('one session, 20 concurrent uploads: exactly one is examined, the others invalid-session; 20 concurrent result reads: one gets it', async () => {
    const a = apps[0]!;
    const racer = `racer-${int(rng(SEED ^ 0x5e55), 1e9)}`;
    await a.ctx.reenroll(racer);
    const open = await a.fz.setup({
      method: 'POST',
      url: '/v1/sessions',
      headers: { 'content-type': 'application/json', 'x-face-login-site-key': SITE_KEY },
      payload: JSON.stringify({ action: 'verify', userId: racer, siteNonce: 'concurrent-1234' }),
    });
    expect(open.status).toBe(201);
    const { sessionId, challenge } = open.body as { sessionId: string; challenge: SessionChallenge };
    const person = a.people.get(racer)!;
    const frames = posesOf(challenge).map((pose, i) => ({ jpeg: Buffer.from(`FAKE:${person}:${pose}`).toString('base64'), t: i * 100 }));
    const examinedBefore = a.examiner!.examined;
    const ups = await a.fz.sendAll(
      Array.from({ length: CONCURRENT }, (_v, i) => ({
        method: 'POST',
        url: `/v1/sessions/${sessionId}/frames`,
        headers: { 'content-type': 'application/json' },
        remoteAddress: `10.203.0.${i + 1}`,
        payload: JSON.stringify({ frames }),
        route: 'POST /v1/sessions/:id/frames',
        kind: `concurrent-upload-${i}`,
        mustRefuse: false,
        carriesAssertion: false,
      })),
    );
    const statuses = ups.map((x) => x?.status);
    expect(ups.filter((x) => x?.status === 200), JSON.stringify(statuses)).toHaveLength(1);
    expect(ups.filter((x) => x?.status === 200)[0]!.body).toEqual({ status: 'done' });
    expect(ups.filter((x) => x?.status === 404 && (x.body as any).error.code === 'invalid-session'), JSON.stringify(statuses)).toHaveLength(CONCURRENT - 1);
    expect(a.examiner!.examined - examinedBefore).toBe(1);

    const reads = await a.fz.sendAll(
      Array.from({ length: CONCURRENT }, (_v, i) => ({
        method: 'GET',
        url: `/v1/sessions/${sessionId}/result`,
        headers: { 'x-face-login-site-key': SITE_KEY },
        remoteAddress: `10.204.0.${i + 1}`,
        route: 'GET /v1/sessions/:id/result',
        kind: `concurrent-result-${i}`,
        mustRefuse: false,
        carriesAssertion: false,
      })),
    );
    expect(reads.filter((x) => x?.status === 200).map((x) => x!.body)).toEqual([expect.objectContaining({ sessionId, state: 'done', decision: 'accept' })]);
    expect(reads.filter((x) => x?.status === 404 && (x.body as any).error.code === 'invalid-session')).toHaveLength(CONCURRENT - 1);
  });

  // Cases the fuzzer found, kept as plain tests (they fail until the server is fixed; see the fuzz report).
  it('finding: a malformed or over-long path is answered with the protocol\'s error body (not Fastify\'s)', async () => {
    for (const a of apps) {
      for (const url of ['/v1/sessions/%zz', '/v1/site/users/%E0%A4%A/export', '/v1/health%', `/v1/sessions/${'a'.repeat(129)}`, `/v1/site/users/${'a'.repeat(129)}`]) {
        const res = await a.app.inject({ method: 'GET', url, remoteAddress: '10.250.0.1' });
        expect(res.statusCode, `${a.name} GET ${url.slice(0, 60)}`).toBeLessThan(500);
        expect(errorBodyProblem(res.statusCode, safeParse(res.body)), `${a.name} GET ${url.slice(0, 60)}: ${res.statusCode} ${res.body.slice(0, 160)}`).toBeNull();
      }
    }
  });

  it('finding: a user id of 101-128 characters (valid by the protocol) can be exported and deleted by path', async () => {
    const a = apps[0]!;
    const id = `long-${'x'.repeat(123)}`; // 128 characters: USER_ID.maxLength
    await a.ctx.reenroll(id);
    const site = { 'x-face-login-site-key': SITE_KEY };
    const exp = await a.app.inject({ method: 'GET', url: `/v1/site/users/${id}/export`, headers: site, remoteAddress: '10.250.0.2' });
    expect(exp.statusCode, exp.body.slice(0, 200)).toBe(200);
    const del = await a.app.inject({ method: 'DELETE', url: `/v1/site/users/${id}`, headers: site, remoteAddress: '10.250.0.2' });
    expect(del.statusCode, del.body.slice(0, 200)).toBe(204);
  });

  it('the apps are still healthy, the per-request fingerprint agrees with app.store.stats(), and the heap did not grow past the bound', async () => {
    for (const a of apps) {
      const s = await a.app.store.stats();
      const f = await a.fz.fingerprint();
      expect({ users: f.users, templates: f.templates, backups: f.backups, attempts: f.attempts, guards: f.guards, changeSeq: f.changeSeq }, a.name).toEqual({
        users: s.users,
        templates: s.templates,
        backups: s.backups,
        attempts: s.attempts,
        guards: s.guards,
        changeSeq: s.changeSeq,
      });
      const h = await a.app.inject({ method: 'GET', url: '/v1/health' });
      expect(h.statusCode, a.name).toBe(200);
      expect(JSON.parse(h.body)).toMatchObject({ ok: true, db: 'sqlite' });
    }
    forceGc();
    const end = heapMb();
    summary.push(`heap: ${heapStart.toFixed(1)} MB at the start, ${end.toFixed(1)} MB at the end (bound +${HEAP_BOUND_MB} MB); samples after GC every 1000 requests: ${heapSamples.map((x) => x.toFixed(0)).join(' ')}`);
    expect(end - heapStart).toBeLessThan(HEAP_BOUND_MB);
    // The violations (if any) were already reported by the fuzz test; keep them visible here too.
    if (allViolations.length) console.error(`fuzz: first violation: ${allViolations[0]!.problem} ${allViolations[0]!.request.slice(0, 300)}`);
  });
});

