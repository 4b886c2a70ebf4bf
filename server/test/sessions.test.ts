/**
 * Sessions opened by the site's backend and decided on the server from uploaded frames (issue 10),
 * end to end in process (app.inject) on SQLite and, with DATABASE_URL, PostgreSQL.
 *
 * The examiner comes from `makeRig`: today the FaceExaminer double of helpers.ts (fakeRig). To run
 * the same suite on the real examination, make `makeRig` return a SessionRig whose examiner is
 * `await ServerFaceExaminer.create()` (server/vision/examine.ts) and whose `frames(person,
 * challenge, how)` returns real JPEGs of that person performing the challenge (alice, bob, carol,
 * mallory: four different people; `still`: one frontal photo repeated). Nothing below depends on
 * the double except through the rig. The last block ('sessions on the real examiner') already
 * runs the flow on ServerFaceExaminer with real LFW photos, for the two people the fixtures have.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { configFromEnv, ConfigError, siteKeysFromEnv } from '../config.js';
import { hashNonce } from '../nonce.js';
import type { ExamineOutcome, FaceExaminer } from '../vision/examine-types.js';
import type { SessionChallenge } from '../../src/protocol/index.js';
import {
  backends,
  Client,
  Clock,
  createDb,
  fakeRig,
  hasScoreKey,
  makeApp,
  makeSessionApp,
  MODEL,
  rng,
  SITE_KEY,
  type Res,
  type SessionRig,
  type TestDb,
  type WireFrame,
} from './helpers.js';
import { realRig } from './real-rig.js';

/** The one place the lead switches to the real examiner. */
const makeRig = async (seed: number): Promise<SessionRig> => fakeRig(rng(seed));

/** Wraps the rig's examiner: counts examinations and keeps the last outcome (what an enrolment must store). */
class Recording implements FaceExaminer {
  calls = 0;
  last: ExamineOutcome | null = null;
  constructor(private readonly inner: FaceExaminer) {}
  get modelId(): string {
    return this.inner.modelId;
  }
  async examine(...args: Parameters<FaceExaminer['examine']>): Promise<ExamineOutcome> {
    this.calls++;
    this.last = await this.inner.examine(...args);
    return this.last;
  }
  dispose(): void {}
}

const SITE = { 'x-face-login-site-key': SITE_KEY };
const RESULT_KEYS = ['sessionId', 'action', 'userId', 'siteNonce', 'state', 'decision', 'liveness', 'refusal', 'decidedAt'];

describe.each(backends())('sessions on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let c: Client;
  let rig: SessionRig;
  let examiner: Recording;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    rig = await makeRig(backend === 'sqlite' ? 11 : 12);
    examiner = new Recording(rig.examiner);
    app = await makeSessionApp(tdb.db, clock, examiner, { sessionUploadLimit: 1024 * 1024, trustDeviceEmbeddings: true, sessionDuplicateCheck: true });
    c = new Client(app);
    for (const user of ['alice', 'carol']) {
      const s = await run('enroll', user, user);
      expect(s.result.body).toMatchObject({ state: 'done', decision: 'accept', liveness: 'passed' });
    }
  });

  afterAll(async () => {
    await app?.close();
    await rig?.dispose();
    await tdb?.drop();
  });

  async function open(action: string, userId?: string, headers: Record<string, string> = SITE, siteNonce = 'site-nonce-1234'): Promise<Res> {
    return c.req('POST', '/v1/sessions', userId === undefined ? { action, siteNonce } : { action, userId, siteNonce }, headers);
  }
  async function opened(action: string, userId?: string): Promise<{ id: string; challenge: SessionChallenge }> {
    const r = await open(action, userId);
    expect(r.status, r.raw).toBe(201);
    return { id: r.body.sessionId, challenge: r.body.challenge };
  }
  const upload = (id: string, frames: readonly WireFrame[] | unknown, extra: Record<string, unknown> = {}): Promise<Res> =>
    c.req('POST', `/v1/sessions/${id}/frames`, { frames, ...extra });
  const result = (id: string, headers: Record<string, string> = SITE): Promise<Res> => c.req('GET', `/v1/sessions/${id}/result`, undefined, headers);

  /** Opens a session for `action` / `userId`, uploads `person`'s frames, reads the result. */
  async function run(action: string, userId: string | undefined, person: string, how: 'perform' | 'still' = 'perform') {
    const { id, challenge } = await opened(action, userId);
    const up = await upload(id, await rig.frames(person, challenge, how));
    return { id, challenge, up, result: await result(id) };
  }

  const sessionHash = (id: string) => hashNonce(id);

  describe('the flow', () => {
    it('opens a session with a challenge the server picked, and keeps only the id\'s hash', async () => {
      const e = await opened('enroll', 'dave');
      expect(e.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(e.challenge).toEqual({ kind: 'poses', poses: ['center', 'left', 'right', 'up', 'down'] });
      const orders = new Set<string>();
      for (let i = 0; i < 24; i++) {
        const v = await opened(i % 2 ? 'verify' : 'identify', i % 2 ? 'alice' : undefined);
        expect(v.challenge.kind).toBe('turns');
        if (v.challenge.kind === 'turns') orders.add(v.challenge.order.join(','));
      }
      expect([...orders].sort()).toEqual(['left,right', 'right,left']);
      expect(await app.store.getSession(e.id)).toBeNull();
      expect(await app.store.getSession(sessionHash(e.id))).toMatchObject({ action: 'enroll', userId: 'dave', state: 'pending' });
      const r = await result(e.id);
      expect(r.body).toEqual({ sessionId: e.id, action: 'enroll', userId: 'dave', siteNonce: 'site-nonce-1234', state: 'pending' });
    });

    it('enrolment through a session stores exactly the examiner\'s templates, and the page learns only "done"', async () => {
      const s = await run('enroll', 'erin', 'erin');
      expect(s.up.status).toBe(200);
      expect(s.up.body).toEqual({ status: 'done' });
      expect(s.result.body).toMatchObject({ action: 'enroll', userId: 'erin', state: 'done', decision: 'accept', liveness: 'passed' });
      const last = examiner.last!;
      expect(last.ok).toBe(true);
      const stored = await app.store.templatesOf('erin', examiner.modelId);
      expect(stored.map((t) => [...t])).toEqual(last.ok ? last.templates.map((t) => [...t.embedding]) : []);
      expect(stored).toHaveLength(5);
    });

    it('verify accepts the enrolled person and rejects someone else, with an audit row each and no score', async () => {
      const before = (await app.store.listAttempts(0, 1000)).length;
      const ok = await run('verify', 'alice', 'alice');
      expect(ok.up.body).toEqual({ status: 'done' });
      expect(ok.result.body).toMatchObject({ action: 'verify', userId: 'alice', state: 'done', decision: 'accept', liveness: 'passed' });
      const bad = await run('verify', 'alice', 'mallory');
      expect(bad.up.body).toEqual({ status: 'done' });
      expect(bad.result.body).toMatchObject({ userId: 'alice', state: 'done', decision: 'reject', liveness: 'passed' });
      const rows = (await app.store.listAttempts(0, 1000)).slice(before);
      expect(rows.map((a) => [a.action, a.claimedUser, a.decision])).toEqual([
        ['verify', 'alice', 'accept'],
        ['verify', 'alice', 'reject'],
      ]);
      for (const r of [ok, bad]) expect(Object.keys(r.result.body).every((k) => RESULT_KEYS.includes(k))).toBe(true);
    });

    it('identify names the person, and null for a stranger (never the nearest user)', async () => {
      const known = await run('identify', undefined, 'alice');
      expect(known.result.body).toMatchObject({ action: 'identify', userId: 'alice', state: 'done', decision: 'accept' });
      const stranger = await run('identify', undefined, 'mallory');
      expect(stranger.up.body).toEqual({ status: 'done' });
      expect(stranger.result.body).toMatchObject({ action: 'identify', userId: null, state: 'done', decision: 'reject' });
      const last = (await app.store.listAttempts(0, 1000)).at(-1)!;
      expect([last.action, last.decision]).toEqual(['identify', 'reject']);
    });

    it('with FACE_LOGIN_SESSION_DUPLICATE_CHECK: refuses as duplicate an enrolment of a face already enrolled for another user, audited, storing nothing', async () => {
      const s = await run('enroll', 'bob', 'alice');
      expect(s.up.body).toEqual({ status: 'done' });
      expect(s.result.body).toMatchObject({ userId: 'bob', state: 'refused', refusal: 'duplicate-enrollment', liveness: 'passed' });
      expect(s.result.body.decision).toBeUndefined();
      expect(await app.store.userExists('bob')).toBe(false);
      expect((await app.store.listAttempts(0, 100_000)).at(-1)).toMatchObject({ action: 'enroll', claimedUser: 'bob', decision: 'refused', refusal: 'duplicate-enrollment' });
    });

    it('by default the duplicate check is off for sessions: the site opened it for a user it authenticated (a policy, not a proof)', async () => {
      const plain = await makeSessionApp(tdb.db, clock, examiner);
      try {
        expect(plain.config.sessionDuplicateCheck).toBe(false);
        const site = new Client(plain);
        const open = await site.req('POST', '/v1/sessions', { action: 'enroll', userId: 'alice-twin', siteNonce: 'twin-nonce-1' }, { 'x-face-login-site-key': SITE_KEY });
        const up = await site.req('POST', `/v1/sessions/${open.body.sessionId}/frames`, { frames: await rig.frames('alice', open.body.challenge, 'perform') });
        expect(up.body).toEqual({ status: 'done' });
        const res = await site.req('GET', `/v1/sessions/${open.body.sessionId}/result`, undefined, { 'x-face-login-site-key': SITE_KEY });
        expect(res.body).toMatchObject({ state: 'done', decision: 'accept' });
      } finally {
        await plain.store.deleteUser('alice-twin', clock.now());
        await plain.close();
      }
      await app.gallery.sync();
    });

    it('re-enrolment opened by the site replaces the user\'s templates', async () => {
      const s = await run('enroll', 'erin', 'erin');
      expect(s.result.body).toMatchObject({ state: 'done', decision: 'accept' });
      expect(await app.store.templatesOf('erin', examiner.modelId)).toHaveLength(5);
    });

    it('verify of a user with no templates ends refused unknown-user (told to the site, not the page)', async () => {
      const s = await run('verify', 'nobody', 'mallory');
      expect(s.up.body).toEqual({ status: 'done' });
      expect(s.result.body).toMatchObject({ state: 'refused', refusal: 'unknown-user' });
    });

    it('a still photo fails liveness: the upload consumes the session, the page gets liveness-failed, the site refused + failed', async () => {
      const s = await run('verify', 'alice', 'alice', 'still');
      // A refused capture is an answer, not an HTTP error: 200 with the refusal (no red console line on the page).
      expect([s.up.status, s.up.body]).toEqual([200, { status: 'refused', refusal: 'liveness-failed', message: expect.any(String) }]);
      expect(s.result.body).toMatchObject({ state: 'refused', refusal: 'liveness-failed', liveness: 'failed' });
      expect(s.result.body.decision).toBeUndefined();
      expect((await upload(s.id, await rig.frames('alice', s.challenge))).body.error.code).toBe('invalid-session');
    });
  });

  describe('attacks', () => {
    it('a session is single use: a second upload is invalid-session, is not examined, and changes nothing', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      const frames = await rig.frames('alice', challenge);
      expect((await upload(id, frames)).status).toBe(200);
      const first = (await result(id)).body;
      const calls = examiner.calls;
      const attempts = (await app.store.stats()).attempts;
      const again = await upload(id, await rig.frames('mallory', challenge));
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('invalid-session');
      expect(examiner.calls).toBe(calls);
      expect((await app.store.stats()).attempts).toBe(attempts);
      expect(first).toMatchObject({ state: 'done', decision: 'accept' });
    });

    it('a final result is read once: pending can be polled, the decided result is deleted as the site reads it', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      expect((await result(id)).body).toMatchObject({ state: 'pending' });
      expect((await result(id)).body).toMatchObject({ state: 'pending' });
      expect((await upload(id, await rig.frames('alice', challenge))).status).toBe(200);
      const reads = await Promise.all([result(id), result(id), result(id)]);
      expect(reads.map((r) => r.status).sort()).toEqual([200, 404, 404]);
      expect(reads.find((r) => r.status === 200)!.body).toMatchObject({ state: 'done', decision: 'accept' });
      for (const r of reads.filter((x) => x.status === 404)) expect(r.body.error.code).toBe('invalid-session');
      expect(await app.store.getSession(sessionHash(id))).toBeNull();
      // The session stays used: its id uploads nothing.
      expect((await upload(id, await rig.frames('alice', challenge))).body.error.code).toBe('invalid-session');
    });

    it('two uploads at once: exactly one is examined', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      const frames = await rig.frames('alice', challenge);
      const calls = examiner.calls;
      const both = await Promise.all([upload(id, frames), upload(id, frames)]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 404]);
      expect(examiner.calls).toBe(calls + 1);
    });

    it('an expired session is refused with nothing examined, and its result says expired; purged later', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      clock.advance(app.config.sessionTtlMs);
      const calls = examiner.calls;
      const r = await upload(id, await rig.frames('alice', challenge));
      expect(r.body.error.code).toBe('invalid-session');
      expect(examiner.calls).toBe(calls);
      expect((await result(id)).body).toMatchObject({ state: 'expired' });
      expect((await result(id)).body.error.code).toBe('invalid-session');
      // Never read: purged once its purgeAt passes.
      const unread = await opened('verify', 'alice');
      clock.advance(app.config.sessionTtlMs + app.config.sessionResultTtlMs);
      expect(await app.store.purgeExpiredSessions(clock.now())).toBeGreaterThan(0);
      expect((await result(unread.id)).body.error.code).toBe('invalid-session');
    });

    it('an unknown session id is invalid-session, for the page and for the site', async () => {
      const id = 'A'.repeat(43);
      expect((await upload(id, [{ jpeg: 'AAAA', t: 0 }])).body.error.code).toBe('invalid-session');
      expect((await result(id)).status).toBe(404);
      expect((await upload('short', [{ jpeg: 'AAAA', t: 0 }])).body.error.code).toBe('invalid-body');
    });

    it('a session opened for alice decides for alice only: the upload cannot name another user or action', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      const frames = await rig.frames('carol', challenge);
      for (const extra of [{ userId: 'carol' }, { action: 'identify' }, { decision: 'accept' }]) {
        const r = await upload(id, frames, extra);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('invalid-body');
      }
      expect((await upload(id, frames)).body).toEqual({ status: 'done' });
      const res = (await result(id)).body;
      expect(res).toMatchObject({ action: 'verify', userId: 'alice', decision: 'reject' });
      expect(JSON.stringify(res)).not.toContain('carol');
    });

    it('no site key, a wrong key, or a key that differs in the last byte: 401 and no session created', async () => {
      const create = vi.spyOn(app.store, 'createSession');
      try {
        const last = SITE_KEY.slice(0, -1) + (SITE_KEY.endsWith('f') ? 'e' : 'f');
        const tries: Record<string, string>[] = [{}, { 'x-face-login-site-key': 'wrong' }, { 'x-face-login-site-key': last }, { 'x-face-login-site-key': `${SITE_KEY}x` }, { authorization: `Bearer ${SITE_KEY}` }];
        for (const headers of tries) {
          const r = await open('enroll', 'mallory', headers);
          expect(r.status, JSON.stringify(headers)).toBe(401);
          expect(r.body.error.code).toBe('unauthorized');
        }
        expect(create).not.toHaveBeenCalled();
      } finally {
        create.mockRestore();
      }
    });

    it('the page cannot use the site routes: the result without the key is 401, and CORS never allows the key header', async () => {
      const { id } = await opened('verify', 'alice');
      const tries: Record<string, string>[] = [{}, { origin: 'http://localhost:5173' }, { 'x-face-login-site-key': 'x'.repeat(40) }];
      for (const headers of tries) {
        const r = await result(id, headers);
        expect(r.status).toBe(401);
      }
      const pre = await app.inject({ method: 'OPTIONS', url: '/v1/sessions', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
      expect(String(pre.headers['access-control-allow-headers'])).not.toContain('x-face-login-site-key');
    });

    it('nothing lets a page open, enrol or re-enrol on its own: every session route that changes data needs the key', async () => {
      const templates = await app.store.templatesOf('alice', examiner.modelId);
      expect((await open('enroll', 'alice', {})).status).toBe(401);
      expect((await c.req('POST', '/v1/sessions/' + 'B'.repeat(43) + '/frames', { frames: await rig.frames('mallory', { kind: 'poses', poses: ['center', 'left', 'right', 'up', 'down'] }) })).status).toBe(404);
      expect(await app.store.templatesOf('alice', examiner.modelId)).toEqual(templates);
    });

    it('results never carry a score (every answer checked by the client), only the documented fields', async () => {
      const s = await run('identify', undefined, 'alice');
      expect(hasScoreKey(s.result.body)).toBe(false);
      expect(Object.keys(s.result.body).every((k) => RESULT_KEYS.includes(k))).toBe(true);
      expect(c.responses).toBeGreaterThan(10);
    });

    it('lockout counts session verify failures: after maxFailures rejects even the genuine face is locked out', async () => {
      const max = app.config.lockout.user.maxFailures;
      for (let i = 0; i < max; i++) {
        const s = await run('verify', 'carol', 'mallory');
        expect(s.result.body).toMatchObject({ state: 'done', decision: 'reject' });
      }
      const s = await run('verify', 'carol', 'carol');
      expect(s.up.body).toEqual({ status: 'done' });
      expect(s.result.body).toMatchObject({ state: 'refused', refusal: 'locked-out' });
      const rows = (await app.store.listAttempts(0, 10_000)).filter((a) => a.claimedUser === 'carol' && a.action === 'verify');
      expect(rows.map((a) => a.decision)).toEqual([...Array(max).fill('reject'), 'locked-out']);
      // The bare verify route sees the same lockout.
      expect((await c.verify('carol', [...(await app.store.templatesOf('carol', MODEL))[0]!])).body.error.code).toBe('locked-out');
    });

    it('a locked user is refused before any examination; a failed liveness counts like a reject; the site unlocks her, or enrols her again', async () => {
      // carol is locked by the test above.
      const calls = examiner.calls;
      const locked = await run('verify', 'carol', 'carol');
      expect(locked.result.body).toMatchObject({ state: 'refused', refusal: 'locked-out' });
      expect(examiner.calls).toBe(calls); // no frame was examined
      // Only the site's backend unlocks.
      expect((await c.req('POST', '/v1/site/users/carol/unlock')).body.error.code).toBe('unauthorized');
      expect((await c.req('POST', '/v1/site/users/carol/unlock', undefined, SITE)).status).toBe(204);
      expect((await run('verify', 'carol', 'carol')).result.body).toMatchObject({ state: 'done', decision: 'accept' });
      // Still photos (liveness failed) count on carol: the 5th locks her.
      const max = app.config.lockout.user.maxFailures;
      for (let i = 0; i < max; i++) expect((await run('verify', 'carol', 'carol', 'still')).result.body).toMatchObject({ state: 'refused', refusal: 'liveness-failed' });
      expect((await run('verify', 'carol', 'carol')).result.body).toMatchObject({ state: 'refused', refusal: 'locked-out' });
      const rows = (await app.store.listAttempts(0, 100_000)).filter((a) => a.claimedUser === 'carol').slice(-(max + 1));
      expect(rows.map((a) => a.refusal ?? a.decision)).toEqual([...Array(max).fill('liveness-failed'), 'locked-out']);
      // Enrolling her again through a session (the site's authority) lifts the lockout.
      expect((await run('enroll', 'carol', 'carol')).result.body).toMatchObject({ state: 'done', decision: 'accept' });
      expect((await run('verify', 'carol', 'carol')).result.body).toMatchObject({ state: 'done', decision: 'accept' });
      await app.store.clearGuards(['ip:127.0.0.1']); // this suite's one address took many failures on purpose
    });

    it('too many frames (400), bad base64 (400), an oversized upload (413): refused before examination, the session still open', async () => {
      const { id, challenge } = await opened('verify', 'alice');
      const calls = examiner.calls;
      const many = Array.from({ length: 25 }, (_, i) => ({ jpeg: 'AAAA', t: i }));
      expect((await upload(id, many)).status).toBe(400);
      expect((await upload(id, [{ jpeg: 'not base64!', t: 0 }])).status).toBe(400);
      expect((await upload(id, [])).status).toBe(400);
      const big = Array.from({ length: 3 }, (_, i) => ({ jpeg: 'A'.repeat(500 * 1024), t: i }));
      const r = await upload(id, big);
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe('body-too-large');
      expect(examiner.calls).toBe(calls);
      expect((await result(id)).body.state).toBe('pending');
      expect((await upload(id, await rig.frames('alice', challenge))).body).toEqual({ status: 'done' });
      expect((await result(id)).body).toMatchObject({ state: 'done', decision: 'accept' });
    });

    it('the upload limit is raised for the frames route only', async () => {
      const r = await c.req('POST', '/v1/challenges', { action: 'verify', userId: 'alice', pad: 'A'.repeat(300 * 1024) });
      expect(r.status).toBe(413);
    });

    it('a session names the user for enroll / verify and none for identify', async () => {
      for (const [action, userId] of [['enroll', undefined], ['verify', undefined], ['identify', 'alice']] as const) {
        const r = await open(action, userId);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('invalid-body');
      }
      expect((await c.req('POST', '/v1/sessions', { action: 'delete', userId: 'alice', siteNonce: 'site-nonce-1234' }, SITE)).status).toBe(400);
    });

    it('deleting a user deletes their sessions', async () => {
      const s = await run('verify', 'erin', 'erin');
      expect(s.result.body.decision).toBe('accept');
      expect(await app.store.deleteUser('erin', clock.now())).toBe(true);
      expect((await result(s.id)).status).toBe(404);
    });

    it('the OpenAPI document describes the session routes', async () => {
      const d = (await c.req('GET', '/openapi.json')).body;
      expect(Object.keys(d.paths)).toEqual(expect.arrayContaining(['/v1/sessions', '/v1/sessions/{id}/frames', '/v1/sessions/{id}/result']));
      expect(d.paths['/v1/sessions'].post.requestBody.content['application/json'].schema.required).toEqual(['action', 'siteNonce']);
    });
  });

  it('without a site key or without an examiner the session routes answer sessions-disabled', async () => {
    const noKey = await makeApp(tdb.db, clock);
    const noExaminer = await makeSessionApp(tdb.db, clock, undefined as unknown as FaceExaminer);
    try {
      for (const a of [noKey, noExaminer]) {
        const k = new Client(a);
        const r = await k.req('POST', '/v1/sessions', { action: 'enroll', userId: 'zed', siteNonce: 'site-nonce-1234' }, SITE);
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('sessions-disabled');
        expect((await k.req('GET', `/v1/sessions/${'A'.repeat(43)}/result`, undefined, SITE)).body.error.code).toBe('sessions-disabled');
        expect(Object.keys((await k.req('GET', '/openapi.json')).body.paths)).not.toContain('/v1/sessions');
      }
    } finally {
      await noKey.close();
      await noExaminer.close();
    }
  });
});

describe('site keys in the configuration', () => {
  it('takes one key or several (rotation), each >= 32 characters', () => {
    expect(siteKeysFromEnv(undefined)).toEqual([]);
    expect(siteKeysFromEnv('k'.repeat(32))).toEqual(['k'.repeat(32)]);
    expect(configFromEnv({ FACE_LOGIN_SITE_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(40)}` }).config.siteKeys).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
    for (const bad of ['short', `${'a'.repeat(32)},`, `${'a'.repeat(32)},${'a'.repeat(32)}`, `${'a'.repeat(31)} x`]) {
      expect(() => siteKeysFromEnv(bad), bad).toThrow(ConfigError);
    }
    expect(configFromEnv({}).config.siteKeys).toEqual([]);
  });
});

describe.each(backends())('sessions on the real examiner, %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let c: Client;
  let rig: SessionRig;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    rig = await realRig();
    app = await makeSessionApp(tdb.db, clock, rig.examiner, { sessionDuplicateCheck: true });
    c = new Client(app);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await rig?.dispose();
    await tdb?.drop();
  });

  async function run(action: string, userId: string | undefined, person: string, how: 'perform' | 'still' = 'perform') {
    const o = await c.req('POST', '/v1/sessions', { action, ...(userId === undefined ? {} : { userId }), siteNonce: 'real-nonce-1234' }, SITE);
    expect(o.status, o.raw).toBe(201);
    const id = o.body.sessionId as string;
    const up = await c.req('POST', `/v1/sessions/${id}/frames`, { frames: await rig.frames(person, o.body.challenge, how) });
    return { up, result: (await c.req('GET', `/v1/sessions/${id}/result`, undefined, SITE)).body };
  }

  it('enrols from the photos, verifies the same person on other photos, rejects and does not identify another', async () => {
    const e = await run('enroll', 'gerhard', 'schroeder');
    expect(e.up.body).toEqual({ status: 'done' });
    expect(e.result).toMatchObject({ state: 'done', decision: 'accept', liveness: 'passed' });
    expect(await app.store.templatesOf('gerhard', rig.examiner.modelId)).toHaveLength(5);

    expect((await run('verify', 'gerhard', 'schroeder-verify')).result).toMatchObject({ state: 'done', decision: 'accept', liveness: 'passed' });
    expect((await run('verify', 'gerhard', 'powell')).result).toMatchObject({ state: 'done', decision: 'reject', liveness: 'passed' });
    expect((await run('identify', undefined, 'schroeder-verify')).result).toMatchObject({ userId: 'gerhard', decision: 'accept' });
    expect((await run('identify', undefined, 'powell')).result).toMatchObject({ userId: null, decision: 'reject' });
  }, 60_000);

  it('refuses a still photo (liveness-failed) and a face enrolled for another user (duplicate)', async () => {
    const still = await run('verify', 'gerhard', 'schroeder-verify', 'still');
    expect([still.up.status, still.up.body.status, still.up.body.refusal]).toEqual([200, 'refused', 'liveness-failed']);
    expect(still.result).toMatchObject({ state: 'refused', refusal: 'liveness-failed', liveness: 'failed' });
    const dup = await run('enroll', 'not-gerhard', 'schroeder');
    expect(dup.result).toMatchObject({ state: 'refused', refusal: 'duplicate-enrollment' });
    expect(await app.store.userExists('not-gerhard')).toBe(false);
  }, 60_000);
});
