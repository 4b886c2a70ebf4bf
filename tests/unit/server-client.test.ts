/**
 * face-login/server-client (src/server-client/) against the REAL server listening on a loopback
 * port (server/app.ts with a site key and the fake examiner of server/test/helpers.ts): the site's
 * backend opens a session, the page uploads the rig's frames, the backend reads the result; users
 * deleted and exported; every refusal a typed FaceLoginServerError; answers no honest server gives
 * (from a stub fetch) a typed invalid-response; and a device-mode portal checking an assertion with
 * the keys fetched from the server. Also: what the package ships for it, and that it needs no Node.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { FaceLoginServerError, FaceLoginSiteClient, faceLoginKeys, verifyFaceLoginAssertion, type FetchLike, type SessionAction } from '../../src/server-client/index.js';
import { randomAssertionKeys, signAssertion } from '../../server/assertion.js';
import { ASSERTION_KEYS, AUDIENCE, backends, Clock, createDb, fakeRig, makeSessionApp, MODEL, rng, SITE_KEY, type SessionRig, type TestDb } from '../../server/test/helpers.js';

const ROOT = join(import.meta.dirname, '../..');

/** What a stub server answers: the fetch a test hands the client. */
function stub(status: number, body: string, headers: Record<string, string> = {}): FetchLike {
  return async () => ({ status, headers: { get: (n: string) => headers[n.toLowerCase()] ?? null }, text: async () => body });
}

async function refusal(p: Promise<unknown>): Promise<FaceLoginServerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FaceLoginServerError);
    return e as FaceLoginServerError;
  }
  throw new Error('expected a FaceLoginServerError');
}

describe('the package ships face-login/server-client', () => {
  it('as an export with its types, built by npm run build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.exports['./server-client']).toEqual({ types: './dist/types/server-client/index.d.ts', import: './dist/server-client.js' });
    expect(pkg.dependencies.jose).toBe('6.2.17'); // exact, at runtime
    // npm run build (and prepack) run build:lib, which builds every library entry.
    expect(pkg.scripts.build).toContain('npm run build:lib');
    expect(pkg.scripts.prepack).toContain('npm run build:lib');
    expect(pkg.scripts['build:lib']).toContain('vite.server-client.config.ts');
    const vite = readFileSync(join(ROOT, 'vite.server-client.config.ts'), 'utf8');
    expect(vite).toContain("'server-client'");
    expect(vite).toContain('src/server-client/index.ts');
  });

  it('imports nothing from Node or the DOM: jose, TypeBox, the protocol and itself', () => {
    const dir = join(ROOT, 'src/server-client');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [, from] of src.matchAll(/^\s*(?:import|export)[^;]*?from '([^']+)'/gms)) {
        expect(from === 'jose' || from!.startsWith('@sinclair/typebox') || from!.startsWith('./') || from!.startsWith('../protocol/'), `${f}: ${from}`).toBe(true);
      }
      expect(src, f).not.toMatch(/\b(document|window|navigator|process|Buffer|require)\s*[.([]/);
    }
  });
});

describe.each(backends())('FaceLoginSiteClient against the real server on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let baseUrl: string;
  let rig: SessionRig;
  let site: FaceLoginSiteClient;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    rig = fakeRig(rng(backend === 'sqlite' ? 41 : 42));
    // The site's routes and, for the assertion part, the device routes.
    app = await makeSessionApp(tdb.db, clock, rig.examiner, { trustDeviceEmbeddings: true });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    site = new FaceLoginSiteClient({ serverUrl: `${baseUrl}/`, siteKey: SITE_KEY });
  });
  afterAll(async () => {
    await app?.close();
    await rig?.dispose();
    await tdb?.drop();
  });

  /** The page's part: read what the session asks, upload the person's frames. */
  async function page(sessionId: string, person: string): Promise<number> {
    const info = await (await fetch(`${baseUrl}/v1/sessions/${sessionId}`)).json();
    const res = await fetch(`${baseUrl}/v1/sessions/${sessionId}/frames`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ frames: await rig.frames(person, info.challenge) }),
    });
    return res.status;
  }

  async function session(action: SessionAction, userId: string | undefined, person: string) {
    const siteNonce = `login-${action}-${Math.random().toString(36).slice(2)}`;
    const opened = await site.openSession({ action, ...(userId ? { userId } : {}), siteNonce });
    expect(opened.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(opened.expiresAt)).toBeGreaterThan(clock.now());
    expect(await page(opened.sessionId, person)).toBe(200);
    const result = await site.readResult(opened.sessionId);
    expect(result).toMatchObject({ sessionId: opened.sessionId, action, siteNonce });
    return { opened, result };
  }

  it('open -> the page uploads -> readResult: enrol, verify, identify, a stranger rejected', async () => {
    const enrol = await session('enroll', 'carol', 'carol');
    expect(enrol.opened.challenge).toEqual({ kind: 'poses', poses: ['center', 'left', 'right', 'up', 'down'] });
    expect(enrol.result).toMatchObject({ state: 'done', decision: 'accept', liveness: 'passed', userId: 'carol' });
    expect((await session('verify', 'carol', 'carol')).result).toMatchObject({ state: 'done', decision: 'accept', userId: 'carol' });
    expect((await session('verify', 'carol', 'mallory')).result).toMatchObject({ state: 'done', decision: 'reject', userId: 'carol' });
    expect((await session('identify', undefined, 'carol')).result).toMatchObject({ state: 'done', decision: 'accept', userId: 'carol' });
    const pending = await site.openSession({ action: 'verify', userId: 'carol', siteNonce: 'not-uploaded-yet' });
    expect(await site.readResult(pending.sessionId)).toMatchObject({ state: 'pending', userId: 'carol' });
  });

  it('exportUser and deleteUser, then the user is unknown', async () => {
    await session('enroll', 'dora', 'dora');
    const data = await site.exportUser('dora');
    expect(data.userId).toBe('dora');
    expect(data.templates.map((t) => t.modelId)).toEqual(Array(5).fill(MODEL));
    expect(JSON.stringify(data)).not.toMatch(/score/);
    await expect(site.unlockUser('dora')).resolves.toBeUndefined(); // idempotent: dora was not locked
    await expect(site.deleteUser('dora')).resolves.toBeUndefined();
    const gone = await refusal(site.exportUser('dora'));
    expect([gone.code, gone.status]).toEqual(['unknown-user', 404]);
    expect((await refusal(site.deleteUser('dora'))).code).toBe('unknown-user');
  });

  it('refusals are typed: a wrong key, a bad body, an unknown session, no sessions, rate limits, no server', async () => {
    const wrong = new FaceLoginSiteClient({ serverUrl: baseUrl, siteKey: `${SITE_KEY}x` });
    const e = await refusal(wrong.openSession({ action: 'verify', userId: 'carol', siteNonce: 'site-nonce-1' }));
    expect([e.code, e.status, e.name]).toEqual(['unauthorized', 401, 'FaceLoginServerError']);
    expect((await refusal(wrong.readResult('x'.repeat(43)))).code).toBe('unauthorized');
    expect((await refusal(site.openSession({ action: 'verify', userId: 'carol', siteNonce: 'short' }))).code).toBe('invalid-body');
    expect((await refusal(site.openSession({ action: 'identify', userId: 'carol', siteNonce: 'site-nonce-1' }))).status).toBe(400);
    const unknown = await refusal(site.readResult('x'.repeat(43)));
    expect([unknown.code, unknown.status]).toEqual(['invalid-session', 404]);

    const closed = await makeSessionApp(tdb.db, clock, rig.examiner, { siteKeys: [], rateLimit: { perIp: 2, perUser: 0, windowMs: 60_000 } });
    const closedUrl = await closed.listen({ host: '127.0.0.1', port: 0 });
    try {
      const c = new FaceLoginSiteClient({ serverUrl: closedUrl, siteKey: SITE_KEY });
      const off = await refusal(c.openSession({ action: 'enroll', userId: 'erin', siteNonce: 'site-nonce-1' }));
      expect([off.code, off.status]).toEqual(['sessions-disabled', 403]);
      await refusal(c.exportUser('erin'));
      const limited = await refusal(c.exportUser('erin'));
      expect([limited.code, limited.status]).toEqual(['rate-limited', 429]);
      expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await closed.close();
    }
    const down = await refusal(new FaceLoginSiteClient({ serverUrl: closedUrl, siteKey: SITE_KEY }).readResult('x'.repeat(43)));
    expect([down.code, down.status]).toEqual(['unreachable', 0]);
    expect(() => new FaceLoginSiteClient({ serverUrl: 'not a url', siteKey: SITE_KEY })).toThrow();
    expect(() => new FaceLoginSiteClient({ serverUrl: baseUrl, siteKey: '' })).toThrow(/siteKey/);
  });

  it('an answer that does not fit the protocol is invalid-response, never passed on', async () => {
    const opened = { sessionId: 's'.repeat(43), expiresAt: '2026-11-28T12:03:00.000Z', challenge: { kind: 'turns', order: ['left', 'right'] } };
    const result = { sessionId: 's'.repeat(43), action: 'verify', userId: 'carol', siteNonce: 'site-nonce-1', state: 'done', decision: 'accept', liveness: 'passed', decidedAt: '2026-11-28T12:01:00.000Z' };
    const open = (f: FetchLike) => new FaceLoginSiteClient({ serverUrl: baseUrl, siteKey: SITE_KEY, fetch: f }).openSession({ action: 'verify', userId: 'carol', siteNonce: 'site-nonce-1' });
    const read = (f: FetchLike) => new FaceLoginSiteClient({ serverUrl: baseUrl, siteKey: SITE_KEY, fetch: f }).readResult('s'.repeat(43));
    await expect(open(stub(201, JSON.stringify(opened)))).resolves.toEqual(opened); // the stub is honest here
    for (const [what, p, status] of [
      ['garbage', open(stub(201, 'not json')), 201],
      ['an extra field', open(stub(201, JSON.stringify({ ...opened, userId: 'carol' }))), 201],
      ['a status the route does not give', open(stub(200, JSON.stringify(opened))), 200],
      ['a proxy\'s error page', open(stub(502, '<html>Bad gateway</html>')), 502],
      ['an error body of another shape', open(stub(400, JSON.stringify({ error: 'nope' }))), 400],
      ['a result with a score', read(stub(200, JSON.stringify({ ...result, score: 0.91 }))), 200],
      ['a result with an unknown decision', read(stub(200, JSON.stringify({ ...result, decision: 'maybe' }))), 200],
      ['an empty 200', read(stub(200, '')), 200],
    ] as const) {
      const e = await refusal(p);
      expect([e.code, e.status], what).toEqual(['invalid-response', status]);
    }
    // A newer server's refusal code comes through as it is; Retry-After fills in a missing retryAfterSeconds.
    const newer = await refusal(open(stub(503, JSON.stringify({ error: { code: 'some-new-code', message: 'later' } }), { 'retry-after': '7' })));
    expect([newer.code, newer.status, newer.retryAfterSeconds, newer.message]).toEqual(['some-new-code', 503, 7, 'later']);
    const thrown = await refusal(open(async () => Promise.reject(new TypeError('fetch failed'))));
    expect([thrown.code, thrown.status]).toEqual(['unreachable', 0]);
  });

  it('a device-mode portal checks an assertion with the keys it fetched (cached, re-fetched on a new kid)', async () => {
    const nonce = (await (await fetch(`${baseUrl}/v1/challenges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'verify', userId: 'carol' }) })).json()).nonce;
    const face = Array.from((rig.examiner as unknown as { face(p: string): Float32Array }).face('carol'));
    const v = await (
      await fetch(`${baseUrl}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nonce, userId: 'carol', modelId: MODEL, embedding: face }) })
    ).json();
    expect(v.decision).toBe('accept');
    let fetches = 0;
    const counting: FetchLike = async (url, init) => {
      fetches++;
      return fetch(url, init);
    };
    let t = 0;
    const keys = faceLoginKeys({ serverUrl: baseUrl, fetch: counting, now: () => t });
    const opts = { keys, audience: AUDIENCE, subject: 'carol', action: 'verify' as const, nonce, now: clock.now() };
    const ok = await verifyFaceLoginAssertion(v.assertion, opts);
    expect(ok.ok && ok.claims).toMatchObject({ sub: 'carol', act: 'verify', nonce, aud: AUDIENCE });
    expect((await verifyFaceLoginAssertion(v.assertion, opts)).ok).toBe(true);
    expect(fetches).toBe(1); // cached
    expect(await site.keys()).toEqual(ASSERTION_KEYS.jwks);
    // A kid the server does not have: one re-fetch, then no more within minRefreshMs.
    const stranger = randomAssertionKeys();
    const foreign = signAssertion(stranger, { aud: AUDIENCE, sub: 'carol', act: 'verify', nonce }, { nowMs: clock.now() });
    t = 60_000;
    expect(await verifyFaceLoginAssertion(foreign, opts)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(fetches).toBe(2);
    t = 61_000;
    expect(await verifyFaceLoginAssertion(foreign, opts)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(fetches).toBe(2);
    // The wrong audience, or identify where verify was expected: typed reasons.
    expect(await verifyFaceLoginAssertion(v.assertion, { ...opts, audience: 'https://elsewhere.example' })).toMatchObject({ ok: false, reason: 'wrong-audience' });
    expect(await verifyFaceLoginAssertion(v.assertion, { ...opts, action: 'identify' })).toMatchObject({ ok: false, reason: 'wrong-action' });
    // The keys route's answer is checked like any other.
    const bad = faceLoginKeys({ serverUrl: baseUrl, fetch: stub(200, JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })) });
    expect(await verifyFaceLoginAssertion(v.assertion, { ...opts, keys: bad })).toMatchObject({ ok: false, reason: 'keys-unavailable' });
  });
});
