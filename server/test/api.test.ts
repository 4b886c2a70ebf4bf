/**
 * The API end to end, in process (app.inject), against a real SQLite file and, when DATABASE_URL
 * is set, a real PostgreSQL schema. Every refusal is checked for its status, its stable code, and
 * that nothing was stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { verifyFaceLoginAssertion } from '../../src/server-client/assertion.js';
import type { StoreStats } from '../store/types.js';
import { DEFAULT_THRESHOLD, MODEL_CALIBRATIONS, identifyThreshold } from '../../src/core/calibration.js';
import {
  ADMIN_KEY,
  AUDIENCE,
  backends,
  Client,
  Clock,
  cos,
  createDb,
  makeApp,
  MODEL,
  normalise,
  randomFace,
  rng,
  JWKS,
  samePerson,
  SIZE,
  type TestDb,
} from './helpers.js';

const THRESHOLD = DEFAULT_THRESHOLD;

describe.each(backends())('API on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let c: Client;
  const clock = new Clock();
  const r = rng(backend === 'sqlite' ? 1 : 2);
  const alice = [randomFace(r), randomFace(r), randomFace(r)];
  alice[1] = samePerson(alice[0]!, r);
  alice[2] = samePerson(alice[0]!, r);
  const bob = [randomFace(r)];

  beforeAll(async () => {
    tdb = await createDb(backend);
    app = await makeApp(tdb.db, clock);
    c = new Client(app);
    expect((await c.enroll('alice', alice)).status).toBe(201);
    expect((await c.enroll('bob', bob)).status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  const stats = (): Promise<StoreStats> => app.store.stats();

  /**
   * Runs `fn` and asserts the database gained nothing: users, templates, backups, attempts,
   * lockout state and change sequence unchanged (only the challenges `fn` itself asked for may
   * remain). `audited`: a refused face match writes its audit row and counts on the guards (the
   * user data must still be untouched).
   */
  async function storesNothing(fn: () => Promise<void>, opts: { audited?: number } = {}): Promise<void> {
    const before = await stats();
    await fn();
    const after = await stats();
    const userData = (x: StoreStats) => ({ ...x, nonces: 0, attempts: 0, guards: 0 });
    expect(userData(after)).toEqual(userData(before));
    expect(after.attempts - before.attempts).toBe(opts.audited ?? 0);
    if (!opts.audited) expect(after.guards).toBe(before.guards);
  }

  describe('meta', () => {
    it('health names the database', async () => {
      const h = await c.req('GET', '/v1/health');
      expect(h.status).toBe(200);
      expect(h.body).toEqual({ ok: true, db: backend, models: Object.fromEntries(Object.keys(MODEL_CALIBRATIONS).map((id) => [id, { size: SIZE }])) });
    });

    it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
      const d = (await c.req('GET', '/openapi.json')).body;
      expect(d.openapi).toBe('3.1.0');
      const ops = Object.entries(d.paths as Record<string, Record<string, any>>).flatMap(([p, m]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`));
      expect(ops.sort()).toEqual(
        [
          'GET /v1/health',
          'GET /v1/keys',
          'POST /v1/challenges',
          'POST /v1/enroll',
          'POST /v1/verify',
          'POST /v1/identify',
          'DELETE /v1/users/{userId}',
          'GET /v1/users/{userId}/export',
          'PUT /v1/backup/{userId}',
          'POST /v1/restore/{userId}',
          'POST /v1/admin/attempts/{id}/label',
          'GET /v1/admin/attempts',
        ].sort(),
      );
      for (const methods of Object.values(d.paths as Record<string, Record<string, any>>)) {
        for (const op of Object.values(methods)) {
          const body = op.requestBody?.content['application/json'].schema;
          if (body) expect(body.additionalProperties).toBe(false);
          expect(op.responses['4XX']).toBeDefined();
        }
      }
      expect(d.paths['/v1/verify'].post.requestBody.content['application/json'].schema.required).toEqual(['nonce', 'userId', 'modelId', 'embedding']);
    });

    it('unknown routes are 404 not-found', async () => {
      const res = await c.req('GET', '/v1/nope');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not-found');
    });
  });

  describe('challenges', () => {
    it('issues a base64url nonce of >= 128 bits bound to the action, expiring after the TTL', async () => {
      const res = await c.req('POST', '/v1/challenges', { action: 'verify', userId: 'alice' });
      expect(res.status).toBe(201);
      expect(res.body.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
      expect(Date.parse(res.body.expiresAt)).toBe(clock.now() + 60_000);
    });

    it('needs a user except for identify, and no user for identify', async () => {
      for (const [body, code] of [
        [{ action: 'verify' }, 'invalid-body'],
        [{ action: 'identify', userId: 'alice' }, 'invalid-body'],
        [{ action: 'login', userId: 'alice' }, 'invalid-body'],
        [{ action: 'verify', userId: 'has space' }, 'invalid-body'],
        [{ action: 'verify', userId: 'x'.repeat(129) }, 'invalid-body'],
      ] as const) {
        const res = await c.req('POST', '/v1/challenges', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe(code);
      }
    });
  });

  describe('verify and identify', () => {
    it('accepts the same person with a signed assertion the portal can check', async () => {
      clock.advance(1000);
      const res = await c.verify('alice', samePerson(alice[0]!, r));
      expect(res.status).toBe(200);
      expect(res.body.decision).toBe('accept');
      expect(Object.keys(res.body).sort()).toEqual(['assertion', 'decision']);
      const check = await verifyFaceLoginAssertion(res.body.assertion, { keys: JWKS, audience: AUDIENCE, now: clock.now(), subject: 'alice', action: 'verify' });
      expect(check.ok).toBe(true);
      if (check.ok) expect(check.claims.exp - check.claims.iat).toBe(120);
      // The keys are public: the page (or anyone) reads them from the server.
      expect((await c.req('GET', '/v1/keys')).body).toEqual(JWKS);
    });

    it('rejects another person, without an assertion', async () => {
      const res = await c.verify('alice', bob[0]!);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ decision: 'reject' });
      await c.verify('alice', samePerson(alice[0]!, r)); // success clears the failure count
    });

    it('identify names the enrolled person and rejects a stranger (open set)', async () => {
      const who = await c.identify(samePerson(bob[0]!, r));
      expect(who.status).toBe(200);
      expect(who.body.decision).toBe('accept');
      expect(who.body.userId).toBe('bob');
      expect((await verifyFaceLoginAssertion(who.body.assertion, { keys: JWKS, audience: AUDIENCE, now: clock.now(), subject: 'bob', action: 'identify' })).ok).toBe(true);
      const stranger = randomFace(r);
      expect(Math.max(...alice.map((a) => cos(a, stranger)), cos(bob[0]!, stranger))).toBeLessThan(THRESHOLD);
      expect((await c.identify(stranger)).body).toEqual({ decision: 'reject' });
      // The stranger's attempt is logged (with its score, for the threshold report) but filed under nobody.
      expect((await app.store.listAttempts(0, 10_000)).at(-1)).toMatchObject({ action: 'identify', decision: 'reject', matchedUser: null, claimedUser: null });
    });

    it('identify raises its threshold with the gallery size; verify (1:1) does not', async () => {
      const r2 = rng(4242);
      for (let i = 0; i < 12; i++) expect((await c.enroll(`crowd-${i}`, [randomFace(r2)])).status).toBe(201);
      // A probe at cosine 0.463 to bob's only template: above the 1:1 threshold (0.4580), below
      // identifyThreshold(>= 13 templates) (0.468).
      const b = bob[0]!;
      const noise = randomFace(r2);
      const d = noise.reduce((acc, x, k) => acc + x * b[k]!, 0);
      const orth = normalise(noise.map((x, k) => x - d * b[k]!));
      const at = (c0: number) => normalise(b.map((x, k) => c0 * x + Math.sqrt(1 - c0 * c0) * orth[k]!));
      expect(cos(at(0.463), b)).toBeCloseTo(0.463, 5);
      expect(DEFAULT_THRESHOLD).toBeLessThan(0.463);
      expect(identifyThreshold(13)).toBeGreaterThan(0.463);
      expect((await c.verify('bob', at(0.463))).body.decision).toBe('accept');
      expect((await c.identify(at(0.463))).body).toEqual({ decision: 'reject' });
      const who = await c.identify(at(0.6));
      expect(who.body.decision).toBe('accept');
      expect(who.body.userId).toBe('bob');
    });

    it("a user's score is the best template: a probe near one pose is accepted", async () => {
      const r2 = rng(77);
      const poses = [randomFace(r2), randomFace(r2), randomFace(r2)]; // three unrelated "poses"
      expect((await c.enroll('poser', poses)).status).toBe(201);
      expect((await c.verify('poser', samePerson(poses[2]!, r2))).body.decision).toBe('accept');
    });
  });

  describe('bad input gets a 4xx with a clear code and stores nothing', () => {
    const face = () => samePerson(alice[0]!, r);

    it('malformed JSON, unknown fields, wrong types, bad content type', async () => {
      await storesNothing(async () => {
        const nonce = await c.nonce('enroll', 'carol');
        const good = { nonce, userId: 'carol', modelId: MODEL, templates: [{ embedding: randomFace(r), pose: 'center' }] };
        const cases: [string | object, number, string, Record<string, string>?][] = [
          ['{"nonce": ', 400, 'invalid-body'],
          ['', 400, 'invalid-body'],
          ['[1,2,3]', 400, 'invalid-body'],
          [{ ...good, extra: 1 }, 400, 'invalid-body'],
          [{ ...good, templates: [{ ...good.templates[0], quality: 0.9 }] }, 400, 'invalid-body'],
          [{ ...good, templates: [] }, 400, 'invalid-body'],
          [{ ...good, templates: Array.from({ length: 11 }, () => good.templates[0]) }, 400, 'invalid-body'],
          [{ ...good, templates: [{ ...good.templates[0], pose: 'sideways' }] }, 400, 'invalid-body'],
          [{ ...good, replace: 'yes' }, 400, 'invalid-body'],
          [{ ...good, userId: 42 }, 400, 'invalid-body'],
          ['{"__proto__": {"x": 1}, "nonce": "abc"}', 400, 'invalid-body'],
          [JSON.stringify(good), 415, 'unsupported-media-type', { 'content-type': 'text/plain' }],
        ];
        for (const [body, status, code, headers] of cases) {
          const res = await c.req('POST', '/v1/enroll', body, headers);
          expect(res.status, `${JSON.stringify(body).slice(0, 80)}`).toBe(status);
          expect(res.body.error.code).toBe(code);
          expect(typeof res.body.error.message).toBe('string');
        }
        // The nonce survived every refusal above: nothing was consumed before validation.
        expect((await c.req('POST', '/v1/verify', { nonce, userId: 'carol', modelId: MODEL, embedding: [1] })).body.error.code).toBe('invalid-embedding');
      });
    });

    it('embeddings: wrong length, non-numbers, NaN, Infinity, zero or overflowing norm', async () => {
      await storesNothing(async () => {
        const nonce = await c.nonce('enroll', 'carol');
        const base = randomFace(r);
        const raw = (emb: string) =>
          `{"nonce":"${nonce}","userId":"carol","modelId":"${MODEL}","templates":[{"embedding":${emb},"pose":"center"}]}`;
        const cases: [string, number, string][] = [
          [JSON.stringify(base.slice(0, 191)), 400, 'invalid-embedding'],
          [JSON.stringify([...base, 0.1]), 400, 'invalid-embedding'],
          [JSON.stringify(new Array(4096).fill(0.01)), 400, 'invalid-embedding'],
          [JSON.stringify([]), 400, 'invalid-embedding'],
          [JSON.stringify(['0.1', ...base.slice(1)]), 400, 'invalid-embedding'],
          [JSON.stringify([null, ...base.slice(1)]), 400, 'invalid-embedding'],
          [JSON.stringify([true, ...base.slice(1)]), 400, 'invalid-embedding'],
          [`[1e999,${base.slice(1).join(',')}]`, 400, 'invalid-embedding'], // JSON.parse gives Infinity
          [`[-1e999,${base.slice(1).join(',')}]`, 400, 'invalid-embedding'],
          [JSON.stringify(new Array(SIZE).fill(0)), 400, 'invalid-embedding'],
          [JSON.stringify(new Array(SIZE).fill(1e200)), 400, 'invalid-embedding'], // sum of squares overflows
          [JSON.stringify(new Array(SIZE).fill(1e-300)), 400, 'invalid-embedding'], // underflows to 0
          [`[NaN,${base.slice(1).join(',')}]`, 400, 'invalid-body'], // not JSON at all
          [`"not an array"`, 400, 'invalid-embedding'],
        ];
        for (const [emb, status, code] of cases) {
          const res = await c.req('POST', '/v1/enroll', raw(emb));
          expect(res.status, emb.slice(0, 40)).toBe(status);
          expect(res.body.error.code, emb.slice(0, 40)).toBe(code);
        }
        const v = await c.req('POST', '/v1/verify', `{"nonce":"${nonce}","userId":"alice","modelId":"${MODEL}","embedding":[1e999${',0'.repeat(SIZE - 1)}]}`);
        expect(v.body.error.code).toBe('invalid-embedding');
      });
    });

    it('oversized bodies are 413 body-too-large', async () => {
      await storesNothing(async () => {
        const nonce = await c.nonce('enroll', 'carol');
        const big = JSON.stringify({ nonce, userId: 'carol', modelId: MODEL, templates: [{ embedding: new Array(30_000).fill(0.123456789), pose: 'center' }] });
        expect(big.length).toBeGreaterThan(256 * 1024);
        const res = await c.req('POST', '/v1/enroll', big);
        expect(res.status).toBe(413);
        expect(res.body.error.code).toBe('body-too-large');
      });
    });

    it('unknown model id', async () => {
      await storesNothing(async () => {
        const res = await c.enroll('carol', [randomFace(r)], { modelId: 'facenet-512' });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('unknown-model');
        const v = await c.req('POST', '/v1/verify', { nonce: await c.nonce('verify', 'alice'), userId: 'alice', modelId: 'toString', embedding: face() });
        expect(v.body.error.code).toBe('unknown-model');
        const i = await c.req('POST', '/v1/identify', { nonce: await c.nonce('identify'), modelId: '__proto__', embedding: face() });
        expect(i.body.error.code).toBe('unknown-model');
      });
    });

    it('replayed, expired, unknown, or misbound nonces are invalid-nonce', async () => {
      // Replay: the first use succeeds, the second is refused, and logs nothing.
      const nonce = await c.nonce('verify', 'alice');
      expect((await c.req('POST', '/v1/verify', { nonce, userId: 'alice', modelId: MODEL, embedding: face() })).body.decision).toBe('accept');
      await storesNothing(async () => {
        const again = await c.req('POST', '/v1/verify', { nonce, userId: 'alice', modelId: MODEL, embedding: face() });
        expect(again.status).toBe(400);
        expect(again.body.error.code).toBe('invalid-nonce');

        const old = await c.nonce('verify', 'alice');
        clock.advance(60_001);
        const expired = await c.req('POST', '/v1/verify', { nonce: old, userId: 'alice', modelId: MODEL, embedding: face() });
        expect(expired.body.error.code).toBe('invalid-nonce');

        const unknown = await c.req('POST', '/v1/verify', { nonce: 'A'.repeat(43), userId: 'alice', modelId: MODEL, embedding: face() });
        expect(unknown.body.error.code).toBe('invalid-nonce');

        const forBob = await c.nonce('verify', 'bob');
        const otherUser = await c.req('POST', '/v1/verify', { nonce: forBob, userId: 'alice', modelId: MODEL, embedding: face() });
        expect(otherUser.body.error.code).toBe('invalid-nonce');

        const forIdentify = await c.nonce('identify');
        const otherAction = await c.req('POST', '/v1/verify', { nonce: forIdentify, userId: 'alice', modelId: MODEL, embedding: face() });
        expect(otherAction.body.error.code).toBe('invalid-nonce');

        const forVerify = await c.nonce('verify', 'alice');
        const idWithVerifyNonce = await c.req('POST', '/v1/identify', { nonce: forVerify, modelId: MODEL, embedding: face() });
        expect(idWithVerifyNonce.body.error.code).toBe('invalid-nonce');

        const enrollNonce = await c.nonce('enroll', 'carol');
        clock.advance(60_001);
        const lateEnroll = await c.req('POST', '/v1/enroll', { nonce: enrollNonce, userId: 'carol', modelId: MODEL, templates: [{ embedding: randomFace(r), pose: 'center' }] });
        expect(lateEnroll.body.error.code).toBe('invalid-nonce');
      });
    });

    it('a nonce is single use even when the request it came with was refused after consuming it', async () => {
      const nonce = await c.nonce('verify', 'nobody-yet');
      const first = await c.req('POST', '/v1/verify', { nonce, userId: 'nobody-yet', modelId: MODEL, embedding: face() });
      expect(first.body).toEqual({ decision: 'reject' });
      const second = await c.req('POST', '/v1/verify', { nonce, userId: 'nobody-yet', modelId: MODEL, embedding: face() });
      expect(second.body.error.code).toBe('invalid-nonce');
    });

    it('unknown user: verify answers exactly as a known user\'s reject (no enumeration); delete, export and restore with proof say unknown-user', async () => {
      // A known user's reject and an unknown id's: same status, same body, both audited, both counted.
      const known = await c.verify('alice', randomFace(r));
      const guardsBefore = (await stats()).guards;
      await storesNothing(
        async () => {
          const v = await c.verify('no-such-user', face());
          expect([v.status, v.body]).toEqual([known.status, known.body]);
          expect(known.body).toEqual({ decision: 'reject' });
        },
        { audited: 1 },
      );
      expect((await stats()).guards).toBe(guardsBefore + 1); // user:no-such-user counts (the address row already existed)
      await c.verify('alice', samePerson(alice[0]!, r)); // alice's count back to 0
      await storesNothing(async () => {
        const admin = { 'x-face-login-admin-key': ADMIN_KEY };
        const d = await c.req('DELETE', '/v1/users/nobody', undefined, { ...admin, 'x-face-login-nonce': await c.nonce('delete', 'nobody') });
        expect([d.status, d.body.error.code]).toEqual([404, 'unknown-user']);
        const e = await c.req('GET', '/v1/users/nobody/export', undefined, { ...admin, 'x-face-login-nonce': await c.nonce('export', 'nobody') });
        expect([e.status, e.body.error.code]).toEqual([404, 'unknown-user']);
        const rs = await c.req('POST', '/v1/restore/nobody', { nonce: await c.nonce('restore', 'nobody') }, admin);
        expect([rs.status, rs.body.error.code]).toEqual([404, 'unknown-user']);
      });
    });
  });

  describe('enrollment rules', () => {
    it('refuses a face that already matches another user (duplicate-enrollment), audits it, and stores nothing', async () => {
      await storesNothing(
        async () => {
          const res = await c.enroll('mallory', [randomFace(r), samePerson(alice[0]!, r)]);
          expect(res.status).toBe(409);
          expect(res.body.error.code).toBe('duplicate-enrollment');
        },
        { audited: 1 },
      );
      expect(await app.store.userExists('mallory')).toBe(false);
      const row = (await app.store.listAttempts(0, 100_000)).at(-1)!;
      expect(row).toMatchObject({ action: 'enroll', claimedUser: 'mallory', matchedUser: 'mallory', decision: 'refused', refusal: 'duplicate-enrollment' });
      expect(row.score).toBeGreaterThan(0.5);
    });

    it('re-enrolling a user needs the same face, an assertion, or the admin key', async () => {
      const r2 = rng(5);
      const dave = randomFace(r2);
      expect((await c.enroll('dave', [dave])).body).toEqual({ userId: 'dave', templates: 1 });
      await storesNothing(
        async () => {
          const takeover = await c.enroll('dave', [randomFace(r2)]);
          expect(takeover.status).toBe(403);
          expect(takeover.body.error.code).toBe('proof-required');
        },
        { audited: 1 }, // the same-face check was a face match: an enroll reject row, counted on dave and the address
      );
      expect((await app.store.listAttempts(0, 100_000)).at(-1)).toMatchObject({ action: 'enroll', claimedUser: 'dave', decision: 'reject' });
      await storesNothing(async () => {
        const forged = await c.enroll('dave', [randomFace(r2)], {}, { authorization: 'Bearer not.a.token' });
        expect([forged.status, forged.body.error.code]).toEqual([401, 'invalid-assertion']);
        const wrongKey = await c.enroll('dave', [randomFace(r2)], {}, { 'x-face-login-admin-key': 'nope-nope-nope-nope' });
        expect([wrongKey.status, wrongKey.body.error.code]).toEqual([401, 'unauthorized']);
      });
      // The same person adds poses (replace: false keeps the old ones).
      const more = await c.enroll('dave', [samePerson(dave, r2), samePerson(dave, r2)], { replace: false });
      expect(more.body).toEqual({ userId: 'dave', templates: 3 });
      // Replace (the default) swaps them for the new set.
      expect((await c.enroll('dave', [samePerson(dave, r2)])).body).toEqual({ userId: 'dave', templates: 1 });
      // An assertion from an accepted verify lets dave enroll a new face (e.g. after a big change).
      const v = await c.verify('dave', samePerson(dave, r2));
      const daveNew = randomFace(r2);
      const withAssertion = await c.enroll('dave', [daveNew], {}, { authorization: `Bearer ${v.body.assertion}` });
      expect(withAssertion.status).toBe(201);
      expect((await c.verify('dave', samePerson(daveNew, r2))).body.decision).toBe('accept');
      expect((await c.verify('dave', samePerson(dave, r2))).body.decision).toBe('reject');
      // The same assertion again is no proof: it was spent.
      const again = await c.enroll('dave', [randomFace(r2)], {}, { authorization: `Bearer ${v.body.assertion}` });
      expect([again.status, again.body.error.code]).toEqual([401, 'invalid-assertion']);
      // Someone else's assertion is no proof for dave.
      const a = await c.verify('alice', samePerson(alice[0]!, r));
      const stolen = await c.enroll('dave', [randomFace(r2)], {}, { authorization: `Bearer ${a.body.assertion}` });
      expect([stolen.status, stolen.body.error.code]).toEqual([401, 'invalid-assertion']);
      // The admin key (a portal backend) may.
      expect((await c.enroll('dave', [randomFace(r2)], {}, { 'x-face-login-admin-key': ADMIN_KEY })).status).toBe(201);
    });

    it('ifNotEnrolled only creates: an enrolled user is refused with already-enrolled, a backed-up one is enrolled', async () => {
      const r2 = rng(7);
      // alice is enrolled: even her own face does not touch her templates.
      await storesNothing(async () => {
        const same = await c.enroll('alice', [samePerson(alice[0]!, r)], { ifNotEnrolled: true, replace: false });
        expect([same.status, same.body.error.code]).toEqual([409, 'already-enrolled']);
        const other = await c.enroll('alice', [randomFace(r2)], { ifNotEnrolled: true });
        expect([other.status, other.body.error.code]).toEqual([409, 'already-enrolled']);
      });
      // A new user is enrolled as usual, duplicate check included.
      const dup = await c.enroll('walt', [samePerson(bob[0]!, r)], { ifNotEnrolled: true, replace: false });
      expect([dup.status, dup.body.error.code]).toEqual([409, 'duplicate-enrollment']);
      const walt = randomFace(r2);
      // A user with only a backup (the offline widget's) is not enrolled: the same face enrolls...
      const backup = await c.req('PUT', '/v1/backup/walt', {
        nonce: await c.nonce('backup', 'walt'),
        modelId: MODEL,
        templates: [{ embedding: walt, pose: 'center', createdAt: 1 }],
      });
      expect(backup.status).toBe(204);
      const other = await c.enroll('walt', [randomFace(r2)], { ifNotEnrolled: true, replace: false });
      expect([other.status, other.body.error.code]).toEqual([403, 'proof-required']);
      expect((await c.enroll('walt', [samePerson(walt, r2)], { ifNotEnrolled: true, replace: false })).body).toEqual({ userId: 'walt', templates: 1 });
      expect((await c.verify('walt', samePerson(walt, r2))).body.decision).toBe('accept');
      // ...and once enrolled, a second one is refused.
      expect((await c.enroll('walt', [samePerson(walt, r2)], { ifNotEnrolled: true })).body.error.code).toBe('already-enrolled');
    });

    it('caps templates per user when adding', async () => {
      const r2 = rng(6);
      const erin = randomFace(r2);
      expect((await c.enroll('erin', Array.from({ length: 10 }, () => samePerson(erin, r2)))).status).toBe(201);
      expect((await c.enroll('erin', Array.from({ length: 10 }, () => samePerson(erin, r2)), { replace: false })).body.templates).toBe(20);
      const over = await c.enroll('erin', [samePerson(erin, r2)], { replace: false });
      expect([over.status, over.body.error.code]).toEqual([409, 'too-many-templates']);
    });
  });

  describe('lockout', () => {
    it('locks a user after 5 consecutive failures however slow, backs off, disables after 3 lockouts; a success resets', async () => {
      const r2 = rng(9);
      const frank = randomFace(r2);
      await c.enroll('frank', [frank]);
      // Each guess from its own address: the user's count is what stops a distributed guesser.
      let n = 0;
      const from = () => ({ remoteAddress: `10.9.0.${++n}` });
      const fail = () => c.verify('frank', randomFace(r2), from());
      const pass = () => c.verify('frank', samePerson(frank, r2), from());

      // 4 failures, then a pause far longer than any window: the 5th still locks (consecutive, not per window).
      for (let i = 0; i < 4; i++) expect((await fail()).body.decision).toBe('reject');
      clock.advance(3 * 24 * 3600_000);
      expect((await fail()).body.decision).toBe('reject');
      const locked = await pass(); // even the right face is refused while locked
      expect([locked.status, locked.body.error.code, locked.body.error.retryAfterSeconds]).toEqual([429, 'locked-out', 300]);
      clock.advance(300_001);
      // A success resets the count and the back-off.
      expect((await pass()).body.decision).toBe('accept');
      for (let i = 0; i < 4; i++) await fail();
      expect((await pass()).body.decision).toBe('accept');

      // Back-off: 5 min, then 10 min, then disabled until the site (or an admin) unlocks.
      for (let i = 0; i < 5; i++) expect((await fail()).body.decision).toBe('reject');
      expect((await pass()).body.error.retryAfterSeconds).toBe(300);
      clock.advance(300_001);
      for (let i = 0; i < 5; i++) expect((await fail()).body.decision).toBe('reject');
      expect((await pass()).body.error.retryAfterSeconds).toBe(600);
      clock.advance(600_001);
      for (let i = 0; i < 5; i++) expect((await fail()).body.decision).toBe('reject');
      const disabled = await pass();
      expect([disabled.status, disabled.body.error.code, disabled.body.error.retryAfterSeconds]).toEqual([429, 'locked-out', undefined]);
      expect(disabled.body.error.message).toMatch(/disabled.*unlock/);
      clock.advance(7 * 24 * 3600_000);
      expect((await pass()).body.error.code).toBe('locked-out'); // a week later: still disabled
      // An attacker got 5 + 4 + 15 = 24 guesses at frank, and never more than 15 in a row without frank logging in.
      const rows = (await app.store.listAttempts(0, 100_000)).filter((a) => a.claimedUser === 'frank');
      expect(rows.filter((a) => a.decision === 'reject')).toHaveLength(24);
      expect(rows.filter((a) => a.decision === 'locked-out').length).toBeGreaterThanOrEqual(4);
      // The unlock (what POST /v1/site/users/:id/unlock does) lifts it.
      await app.store.clearGuards(['user:frank']);
      expect((await pass()).body.decision).toBe('accept');
      // Other users are not affected.
      expect((await c.verify('alice', samePerson(alice[0]!, r))).body.decision).toBe('accept');
    });

    it('locks an address after 20 failures in 10 minutes across users and actions; a success there does not reset it', async () => {
      const r2 = rng(10);
      const gus = randomFace(r2);
      await c.enroll('gus', [gus], {}, {});
      const ip = { remoteAddress: '10.8.0.1' };
      for (let i = 0; i < 19; i++) {
        // Spread over users and identify so no user reaches its own limit.
        const res = i % 2 === 0 ? await c.verify(`spray-${i}`, randomFace(r2), ip) : await c.identify(randomFace(r2), ip);
        expect(res.body.decision).toBe('reject');
      }
      expect((await c.verify('gus', samePerson(gus, r2), ip)).body.decision).toBe('accept'); // a success: the address keeps its count
      expect((await c.identify(randomFace(r2), ip)).body.decision).toBe('reject'); // the 20th failure
      const blocked = await c.verify('gus', samePerson(gus, r2), ip);
      expect([blocked.status, blocked.body.error.code, blocked.body.error.retryAfterSeconds]).toEqual([429, 'locked-out', 900]);
      expect((await c.identify(samePerson(gus, r2), ip)).body.error.code).toBe('locked-out');
      // Another address is not affected, and gus himself is not locked.
      expect((await c.verify('gus', samePerson(gus, r2), { remoteAddress: '10.8.0.2' })).body.decision).toBe('accept');
    });
  });

  describe('retention', () => {
    it('purges audit rows past retention and idle address guards; keeps recent rows and every enrolled user\'s guard', async () => {
      const r2 = rng(31);
      const ola = randomFace(r2);
      await c.enroll('ola', [ola]);
      await c.verify('ola', randomFace(r2), { remoteAddress: '10.7.0.1' }); // a failure: user:ola and ip:10.7.0.1
      const oldRows = (await app.store.listAttempts(0, 100_000)).length;
      clock.advance(181 * 24 * 3600_000);
      await c.verify('ola', samePerson(ola, r2), { remoteAddress: '10.7.0.2' }); // recent; resets user:ola
      await c.verify('ola', randomFace(r2), { remoteAddress: '10.7.0.2' }); // user:ola again, ip:10.7.0.2 fresh
      const { retentionCutoffs } = await import('../audit/retention.js');
      const n = await app.store.purgeOld(retentionCutoffs(app.config, clock.now()));
      expect(n.attempts).toBe(oldRows);
      const left = await app.store.listAttempts(0, 100_000);
      expect(left.map((a) => a.decision)).toEqual(['accept', 'reject']);
      expect(await app.store.lockState(['ip:10.7.0.1'], clock.now())).toEqual({ remainingMs: 0, disabled: false });
      expect(n.guards).toBeGreaterThanOrEqual(1);
      // Recent guards stay: ola's count (1) and the fresh address.
      const stats = await app.store.stats();
      expect(stats.guards).toBeGreaterThanOrEqual(2);
      expect(app.config.auditRetentionMs).toBe(180 * 24 * 3600_000);
    });
  });

  describe('audit log', () => {
    it('logs every attempt with the score server-side; responses never carry it', async () => {
      const list = async () =>
        (await c.req('GET', '/v1/admin/attempts?after=0&limit=1000', undefined, { 'x-face-login-admin-key': ADMIN_KEY })).body.attempts as any[];
      const before = (await list()).length;
      const ua = { 'user-agent': 'audit-test/1.0', origin: 'http://localhost:5173' };
      const accept = await c.req('POST', '/v1/verify', { nonce: await c.nonce('verify', 'alice'), userId: 'alice', modelId: MODEL, embedding: samePerson(alice[0]!, r) }, ua);
      const reject = await c.req('POST', '/v1/verify', { nonce: await c.nonce('verify', 'alice'), userId: 'alice', modelId: MODEL, embedding: bob[0]! }, ua);
      const ident = await c.req('POST', '/v1/identify', { nonce: await c.nonce('identify'), modelId: MODEL, embedding: samePerson(bob[0]!, r) }, ua);
      for (const res of [accept, reject, ident]) expect(res.raw).not.toMatch(/score/i);
      const rows = (await list()).slice(before);
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatchObject({ action: 'verify', claimedUser: 'alice', decision: 'accept', modelId: MODEL, ip: '127.0.0.1', userAgent: 'audit-test/1.0', origin: 'http://localhost:5173', label: null });
      expect(rows[0].score).toBeGreaterThan(THRESHOLD);
      expect(rows[1]).toMatchObject({ decision: 'reject', claimedUser: 'alice' });
      expect(rows[1].score).toBeLessThan(THRESHOLD);
      expect(rows[2]).toMatchObject({ action: 'identify', claimedUser: null, matchedUser: 'bob', decision: 'accept' });
      expect(Date.parse(rows[0].at)).toBe(clock.now());
      // Labels (admin only).
      const id = rows[1].id;
      const noKey = await c.req('POST', `/v1/admin/attempts/${id}/label`, { label: 'impostor' });
      expect([noKey.status, noKey.body.error.code]).toEqual([401, 'unauthorized']);
      const bad = await c.req('POST', `/v1/admin/attempts/${id}/label`, { label: 'maybe' }, { 'x-face-login-admin-key': ADMIN_KEY });
      expect(bad.body.error.code).toBe('invalid-body');
      const ok = await c.req('POST', `/v1/admin/attempts/${id}/label`, { label: 'impostor' }, { 'x-face-login-admin-key': ADMIN_KEY });
      expect(ok.status).toBe(204);
      const missing = await c.req('POST', `/v1/admin/attempts/999999999/label`, { label: 'impostor' }, { 'x-face-login-admin-key': ADMIN_KEY });
      expect(missing.status).toBe(404);
      expect(await app.store.labeledScores(MODEL)).toContainEqual({ score: rows[1].score, label: 'impostor', modelId: MODEL, action: 'verify' });
    });
  });

  describe('backup and restore', () => {
    it('stores the widget templates apart, restores them with proof only', async () => {
      const r2 = rng(11);
      const gina = randomFace(r2);
      const templates = [
        { embedding: gina, pose: 'center', createdAt: 1_700_000_000_000 },
        { embedding: samePerson(gina, r2), pose: 'left', createdAt: 1_700_000_000_001 },
      ];
      const put = async (t: object[], headers: Record<string, string> = {}) =>
        c.req('PUT', '/v1/backup/gina', { nonce: await c.nonce('backup', 'gina'), modelId: MODEL, templates: t }, headers);
      await storesNothing(async () => {
        const bad = await put([{ ...templates[0], embedding: [1, 2, 3] }]);
        expect(bad.body.error.code).toBe('invalid-embedding');
        const badTime = await put([{ ...templates[0], createdAt: -1 }]);
        expect(badTime.body.error.code).toBe('invalid-body');
      });
      expect((await put(templates)).status).toBe(204);
      // A backup is not an enrollment: gina cannot verify or be identified from it.
      expect((await c.identify(samePerson(gina, r2))).body).toEqual({ decision: 'reject' });
      expect((await c.verify('gina', samePerson(gina, r2))).body).toEqual({ decision: 'reject' });
      // Replacing it with another face needs proof; the same face does not.
      expect((await put([{ ...templates[0], embedding: randomFace(r2) }])).body.error.code).toBe('proof-required');
      expect((await put([...templates, { embedding: samePerson(gina, r2), pose: 'up', createdAt: 1_700_000_000_002 }])).status).toBe(204);

      const restore = async (headers: Record<string, string> = {}) =>
        c.req('POST', '/v1/restore/gina', { nonce: await c.nonce('restore', 'gina') }, headers);
      const noProof = await restore();
      expect([noProof.status, noProof.body.error.code]).toEqual([403, 'proof-required']);
      const ok = await restore({ 'x-face-login-admin-key': ADMIN_KEY });
      expect(ok.status).toBe(200);
      expect(ok.body.modelId).toBe(MODEL);
      expect(ok.body.templates.map((t: any) => [t.pose, t.createdAt])).toEqual([
        ['center', 1_700_000_000_000],
        ['left', 1_700_000_000_001],
        ['up', 1_700_000_000_002],
      ]);
      expect(cos(ok.body.templates[0].embedding, gina)).toBeCloseTo(1, 5);
    });
  });

  describe('export and delete', () => {
    it('need proof, export everything (no scores), and delete really removes everything', async () => {
      const r2 = rng(13);
      const hank = randomFace(r2);
      await c.enroll('hank', [hank, samePerson(hank, r2)]);
      await c.req('PUT', '/v1/backup/hank', { nonce: await c.nonce('backup', 'hank'), modelId: MODEL, templates: [{ embedding: samePerson(hank, r2), pose: 'center', createdAt: 1 }] });
      const v = await c.verify('hank', samePerson(hank, r2));
      const v2 = await c.verify('hank', samePerson(hank, r2)); // an assertion is proof once: one for the export, one for the delete
      await c.verify('hank', randomFace(r2)); // a failure: a lockout row exists
      await c.identify(samePerson(hank, r2));
      const auth = { authorization: `Bearer ${v.body.assertion}` };
      const auth2 = { authorization: `Bearer ${v2.body.assertion}` };

      const noProof = await c.req('GET', '/v1/users/hank/export', undefined, { 'x-face-login-nonce': await c.nonce('export', 'hank') });
      expect([noProof.status, noProof.body.error.code]).toEqual([403, 'proof-required']);
      const noNonce = await c.req('GET', '/v1/users/hank/export', undefined, auth);
      expect([noNonce.status, noNonce.body.error.code]).toEqual([400, 'invalid-body']);
      const wrongAction = await c.req('GET', '/v1/users/hank/export', undefined, { ...auth, 'x-face-login-nonce': await c.nonce('delete', 'hank') });
      expect(wrongAction.body.error.code).toBe('invalid-nonce');

      const ex = await c.req('GET', '/v1/users/hank/export', undefined, { ...auth, 'x-face-login-nonce': await c.nonce('export', 'hank') });
      expect(ex.status).toBe(200);
      expect(ex.body.userId).toBe('hank');
      expect(ex.body.templates).toHaveLength(2);
      expect(ex.body.templates[0].embedding).toHaveLength(SIZE);
      expect(ex.body.backup.templates).toHaveLength(1);
      expect(ex.body.attempts.map((a: any) => `${a.action}:${a.decision}`)).toEqual(['enroll:accept', 'backup:accept', 'verify:accept', 'verify:accept', 'verify:reject', 'identify:accept']);
      expect(ex.raw).not.toMatch(/score/i);

      const noProofDelete = await c.req('DELETE', '/v1/users/hank', undefined, { 'x-face-login-nonce': await c.nonce('delete', 'hank') });
      expect(noProofDelete.body.error.code).toBe('proof-required');
      const before = await stats();
      const spent = await c.req('DELETE', '/v1/users/hank', undefined, { ...auth, 'x-face-login-nonce': await c.nonce('delete', 'hank') });
      expect([spent.status, spent.body.error.code]).toEqual([401, 'invalid-assertion']); // used by the export
      expect({ ...(await stats()), nonces: 0 }).toEqual({ ...before, nonces: 0 });
      const del = await c.req('DELETE', '/v1/users/hank', undefined, { ...auth2, 'x-face-login-nonce': await c.nonce('delete', 'hank') });
      expect(del.status).toBe(204);
      expect(del.raw).toBe('');
      const after = await stats();
      expect(before.templates - after.templates).toBe(2);
      expect(before.backups - after.backups).toBe(1);
      expect(before.attempts - after.attempts).toBe(6);
      expect(before.users - after.users).toBe(1);
      expect(before.guards - after.guards).toBe(1);
      expect(await app.store.exportUser('hank')).toBeNull();
      expect(await app.store.getBackup('hank')).toBeNull();
      expect((await app.store.listAttempts(0, 10_000)).filter((a) => a.claimedUser === 'hank' || a.matchedUser === 'hank')).toEqual([]);
      expect((await c.verify('hank', samePerson(hank, r2))).body).toEqual({ decision: 'reject' });
      expect((await c.identify(samePerson(hank, r2))).body).toEqual({ decision: 'reject' });
      // hank's id is free again (no data left to protect).
      expect((await c.enroll('hank', [randomFace(r2)])).status).toBe(201);
    });
  });

  describe('CORS', () => {
    it('answers preflights for allowed origins and refuses others', async () => {
      const pre = await app.inject({ method: 'OPTIONS', url: '/v1/verify', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(String(pre.headers['access-control-allow-headers'])).toContain('x-face-login-nonce');
      const get = await app.inject({ method: 'GET', url: '/v1/health', headers: { origin: 'http://127.0.0.1:5173' } });
      expect(get.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173');
      const evil = await c.req('POST', '/v1/challenges', { action: 'identify' }, { origin: 'https://evil.example' });
      expect([evil.status, evil.body.error.code]).toEqual([403, 'origin-not-allowed']);
      const evilPre = await app.inject({ method: 'OPTIONS', url: '/v1/verify', headers: { origin: 'https://evil.example' } });
      expect(evilPre.statusCode).toBe(403);
      expect(evilPre.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it('no response to the page carried a score', () => {
    // Client.req throws on any non-admin response with a `score` key; this just proves it ran.
    expect(c.responses).toBeGreaterThan(100);
  });
});

describe.each(backends())('more app instances on one %s database', (backend) => {
  let tdb: TestDb;
  let a: FastifyInstance;
  let b: FastifyInstance;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    a = await makeApp(tdb.db, clock);
    b = await makeApp(tdb.db, clock);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await tdb?.drop();
  });

  it('keep their 1:N indexes in sync through the change sequence', async () => {
    const r = rng(21);
    const ca = new Client(a);
    const cb = new Client(b);
    const ivy = randomFace(r);
    expect((await cb.identify(samePerson(ivy, r))).body).toEqual({ decision: 'reject' }); // B has loaded an empty index
    expect((await ca.enroll('ivy', [ivy])).status).toBe(201);
    expect((await cb.identify(samePerson(ivy, r))).body.userId).toBe('ivy'); // enrolled through A, found through B
    // Nonces and assertions work across instances too (same DB, same signing key).
    const v = await ca.verify('ivy', samePerson(ivy, r));
    const del = await cb.req('DELETE', '/v1/users/ivy', undefined, { authorization: `Bearer ${v.body.assertion}`, 'x-face-login-nonce': await ca.nonce('delete', 'ivy') });
    expect(del.status).toBe(204);
    expect((await ca.identify(samePerson(ivy, r))).body).toEqual({ decision: 'reject' }); // deleted through B, gone from A
    // Re-enrollment with a new face: A's index follows replacements.
    const jack = randomFace(r);
    const jack2 = randomFace(r);
    await cb.enroll('jack', [jack]);
    expect((await ca.identify(samePerson(jack, r))).body.userId).toBe('jack');
    await cb.enroll('jack', [jack2], {}, { 'x-face-login-admin-key': ADMIN_KEY });
    expect((await ca.identify(samePerson(jack, r))).body).toEqual({ decision: 'reject' });
    expect((await ca.identify(samePerson(jack2, r))).body.userId).toBe('jack');
  });

  it('refuse a duplicate face enrolled through the other instance, also when racing', async () => {
    const r = rng(22);
    const ca = new Client(a);
    const cb = new Client(b);
    const kim = randomFace(r);
    expect((await ca.enroll('kim', [kim])).status).toBe(201);
    expect((await cb.enroll('kim-again', [samePerson(kim, r)])).body.error.code).toBe('duplicate-enrollment');
    // Two instances admit the same new face for two ids at the same time: exactly one wins.
    const lee = randomFace(r);
    const [x, y] = await Promise.all([ca.enroll('lee-1', [samePerson(lee, r)]), cb.enroll('lee-2', [samePerson(lee, r)])]);
    expect([x.status, y.status].sort()).toEqual([201, 409]);
  });
});

describe.each(backends())('rate limits on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    app = await makeApp(tdb.db, clock, { rateLimit: { perIp: 8, perUser: 3, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('limit per user and per IP with 429 rate-limited and Retry-After', async () => {
    const c = new Client(app);
    const ch = (userId: string, ip = '10.0.0.1') => app.inject({ method: 'POST', url: '/v1/challenges', payload: { action: 'verify', userId }, remoteAddress: ip });
    for (let i = 0; i < 3; i++) expect((await ch('alice')).statusCode).toBe(201);
    const user = await ch('alice');
    expect(user.statusCode).toBe(429);
    expect(user.json().error.code).toBe('rate-limited');
    expect(user.json().error.retryAfterSeconds).toBeGreaterThan(0);
    expect((await ch('bob')).statusCode).toBe(201); // another user on the same IP still passes
    // A third party spending alice's budget from its own address does not give alice a 429 (per user AND address).
    expect((await ch('alice', '10.0.0.3')).statusCode).toBe(201);
    // Per IP: 8 per window over all routes.
    for (let i = 0; i < 3; i++) await ch(`u${i}`);
    const ip = await ch('u9');
    expect(ip.statusCode).toBe(429);
    expect(ip.json().error.code).toBe('rate-limited');
    expect(ip.headers['retry-after']).toBeDefined();
    expect((await ch('u10', '10.0.0.2')).statusCode).toBe(201); // another IP
    expect((await c.req('GET', '/v1/health')).status).toBe(200); // health is not limited
  });
});

describe.each(backends())('internal errors on %s', (backend) => {
  it('are 500 internal with no details, and logged', async () => {
    const tdb = await createDb(backend);
    const app = await makeApp(tdb.db, new Clock());
    try {
      app.store.createNonce = async () => {
        throw new Error('connection to 10.1.2.3 refused: password=hunter2');
      };
      const res = await app.inject({ method: 'POST', url: '/v1/challenges', payload: { action: 'identify' } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'internal', message: 'Internal server error.' } });
    } finally {
      await app.close();
      await tdb.drop();
    }
  });
});

describe('PostgreSQL coverage', () => {
  it('runs when required (FACE_LOGIN_REQUIRE_PG=1 fails without DATABASE_URL)', () => {
    if (process.env.FACE_LOGIN_REQUIRE_PG === '1') {
      expect(process.env.DATABASE_URL, 'FACE_LOGIN_REQUIRE_PG=1 but DATABASE_URL is not set').toBeTruthy();
    }
  });
});
