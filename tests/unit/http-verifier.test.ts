/**
 * The widget's side of the server protocol against the REAL server (server/app.ts, listening on
 * a loopback port): what the page sends, what the server decides, and how each answer becomes a
 * result or a typed error; then the offline path (the device decides only when allowed; offline
 * enrolments are queued and, when the server is back, enrolled there if it does not know the
 * user, else only backed up). A few answers no honest server gives (garbage, a score, a proxy's
 * page) come from a scripted fetch, to show that the response check turns them into backend-error.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { HttpVerifier, ServerRefusal } from '../../src/adapters/verifier/http-verifier.js';
import { OnlineVerifier, type BackupEvent } from '../../src/adapters/verifier/online-verifier.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { parseBackend } from '../../src/element/backend-attribute.js';
import { EMBEDDING_SIZE, POSES } from '../../src/protocol/index.js';
import { verifyFaceLoginAssertion, type AssertionAction } from '../../src/server-client/assertion.js';
import { AUDIENCE, backends, Clock, createDb, JWKS, makeApp, MODEL, type TestDb } from '../../server/test/helpers.js';

/** Distinct people are distinct axes (cosine 0); a second capture of one adds a little of the last axis. */
const NOISE_AXIS = EMBEDDING_SIZE - 1;
function face(person: number, noise = 0): Float32Array {
  const v = new Float32Array(EMBEDDING_SIZE);
  v[person] = 1;
  v[NOISE_AXIS] = noise;
  const n = Math.hypot(1, noise);
  return v.map((x) => x / n);
}
const ALICE = 0;
const BOB = 1;
const STRANGER = 2;

interface Sent {
  method: string;
  path: string;
  body: any;
}
interface Answer {
  status: number;
  body: any;
}

/** The portal's check: signed by the server's keys, for its audience, this user and action. */
async function signedFor(assertion: string, subject: string, action: AssertionAction, now: number): Promise<boolean> {
  return (await verifyFaceLoginAssertion(assertion, { keys: JWKS, audience: AUDIENCE, subject, action, now })).ok;
}

/** The real fetch to the app, recording what goes out and what comes back; `down` makes it an outage. */
function wire(baseUrl: string) {
  const sent: Sent[] = [];
  const answers: Answer[] = [];
  const state = {
    down: false,
    /** Rewrites a request body before it leaves (a replaying man in the middle). */
    tamper: null as ((s: Sent) => void) | null,
    /** Answers a path instead of the server (a proxy, a captive portal). */
    intercept: null as ((s: Sent) => Response | null) | null,
  };
  const f = async (url: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const u = new URL(String(url));
    const s: Sent = { method: init.method ?? 'GET', path: u.pathname, body: init.body ? JSON.parse(String(init.body)) : undefined };
    state.tamper?.(s);
    sent.push(s);
    if (state.down) throw new TypeError('Failed to fetch');
    const fake = state.intercept?.(s);
    if (fake) return fake;
    const res = await fetch(`${baseUrl}${u.pathname}`, { ...init, body: s.body === undefined ? undefined : JSON.stringify(s.body) });
    const text = await res.text();
    answers.push({ status: res.status, body: text ? JSON.parse(text) : null });
    return new Response(res.status === 204 ? null : text, { status: res.status, headers: res.headers });
  };
  return { fetch: f as typeof fetch, sent, answers, state };
}

describe.each(backends())('HttpVerifier against the real server on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let baseUrl: string;
  const clock = new Clock();

  beforeAll(async () => {
    tdb = await createDb(backend);
    app = await makeApp(tdb.db, clock);
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const setup = new HttpVerifier({ baseUrl });
    await setup.enroll('alice', MODEL, [{ embedding: face(ALICE), pose: 'center' }, { embedding: face(ALICE, 0.2), pose: 'left' }], { replace: true });
    await setup.enroll('bob', MODEL, [{ embedding: face(BOB), pose: 'center' }], { replace: true });
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  function verifier() {
    const w = wire(baseUrl);
    return { v: new HttpVerifier({ baseUrl: `${baseUrl}/`, fetch: w.fetch }), ...w };
  }

  it('the server knows the embedding size the widget sends', async () => {
    const health = await (await fetch(`${baseUrl}/v1/health`)).json();
    expect(health.models[MODEL]).toEqual({ size: EMBEDDING_SIZE });
  });

  it('challenge -> enrol -> verify: the server accepts the same face with an assertion the portal can check', async () => {
    const { v, sent } = verifier();
    const carol = 3;
    await v.enroll('carol', MODEL, POSES.map((pose, i) => ({ embedding: face(carol, i / 20), pose })), { replace: true });
    expect(await app.store.templatesOf('carol', MODEL)).toHaveLength(POSES.length);
    const r = await v.verify('carol', face(carol, 0.3), MODEL);
    expect(r).toEqual({ accepted: true, userId: 'carol', assertion: expect.any(String), decidedBy: 'server' });
    expect(await signedFor(r.assertion!, 'carol', 'verify', clock.now())).toBe(true);
    // Each decision had its own nonce, bound to the action and the user.
    expect(sent.filter((s) => s.path === '/v1/challenges').map((s) => s.body)).toEqual([
      { action: 'enroll', userId: 'carol' },
      { action: 'verify', userId: 'carol' },
    ]);
    const [enrollNonce, verifyNonce] = sent.filter((s) => s.path !== '/v1/challenges').map((s) => s.body.nonce);
    expect(enrollNonce).not.toBe(verifyNonce);
  });

  it('a stranger is rejected, and the answer carries the bare decision: no score', async () => {
    const { v, answers } = verifier();
    expect(await v.verify('alice', face(STRANGER), MODEL)).toEqual({ accepted: false, userId: 'alice', decidedBy: 'server' });
    expect(answers.at(-1)).toEqual({ status: 200, body: { decision: 'reject' } });
    expect(await v.verify('bob', face(ALICE), MODEL)).toMatchObject({ accepted: false });
  });

  it('identify names the enrolled person with an assertion, and a stranger is nobody', async () => {
    const { v, answers } = verifier();
    const r = await v.identify(face(BOB, 0.25), MODEL);
    expect(r).toEqual({ userId: 'bob', assertion: expect.any(String), decidedBy: 'server' });
    expect(await signedFor(r.assertion!, 'bob', 'identify', clock.now())).toBe(true);
    expect(await v.identify(face(STRANGER), MODEL)).toEqual({ userId: null, decidedBy: 'server' });
    expect(answers.at(-1)).toEqual({ status: 200, body: { decision: 'reject' } });
  });

  it('a replayed nonce is refused (invalid-nonce), and so is a nonce for another action', async () => {
    const { v, state } = verifier();
    let first: string | undefined;
    state.tamper = (s) => {
      if (s.path !== '/v1/verify') return;
      first ??= s.body.nonce;
      s.body.nonce = first;
    };
    await v.verify('alice', face(ALICE), MODEL);
    const replay = v.verify('alice', face(ALICE), MODEL);
    await expect(replay).rejects.toBeInstanceOf(ServerRefusal);
    await expect(replay).rejects.toMatchObject({ code: 'backend-error', serverCode: 'invalid-nonce', status: 400 });

    const identifyNonce = await v.challenge('identify');
    state.tamper = (s) => {
      if (s.path === '/v1/verify') s.body.nonce = identifyNonce;
    };
    await expect(v.verify('alice', face(ALICE), MODEL)).rejects.toMatchObject({ serverCode: 'invalid-nonce' });
  });

  it('another user\'s face is refused as duplicate-enrollment, and nothing is stored', async () => {
    const { v } = verifier();
    const refusal = v.enroll('mallory', MODEL, [{ embedding: face(ALICE, 0.1), pose: 'center' }], { replace: true });
    await expect(refusal).rejects.toMatchObject({ code: 'duplicate-enrollment', serverCode: 'duplicate-enrollment', status: 409 });
    expect(await app.store.userExists('mallory')).toBe(false);
  });

  it('ifNotEnrolled never touches an enrolment: already-enrolled', async () => {
    const { v } = verifier();
    await expect(v.enroll('alice', MODEL, [{ embedding: face(ALICE), pose: 'center' }], { replace: false, ifNotEnrolled: true })).rejects.toMatchObject({
      code: 'backend-error',
      serverCode: 'already-enrolled',
    });
    expect(await app.store.templatesOf('alice', MODEL)).toHaveLength(2);
  });

  it('re-enrolling someone else\'s id with another face needs proof', async () => {
    const { v } = verifier();
    await expect(v.enroll('bob', MODEL, [{ embedding: face(4), pose: 'center' }], { replace: true })).rejects.toMatchObject({
      code: 'backend-error',
      serverCode: 'proof-required',
      status: 403,
    });
  });

  it('an unknown user is rejected like a known one (no enumeration), an unknown model and a wrong-sized embedding are refused', async () => {
    const { v } = verifier();
    expect(await v.verify('nobody', face(ALICE), MODEL)).toMatchObject({ accepted: false });
    await expect(v.verify('alice', face(ALICE), 'no-such-model')).rejects.toMatchObject({ code: 'backend-error', serverCode: 'unknown-model' });
    await expect(v.verify('alice', new Float32Array([1, 0, 0]), MODEL)).rejects.toMatchObject({ code: 'backend-error', serverCode: 'invalid-embedding' });
  });

  it('rejects add up to a lockout (locked-out), which even the right face cannot lift', async () => {
    const { v } = verifier();
    const erin = 5;
    await v.enroll('erin', MODEL, [{ embedding: face(erin), pose: 'center' }], { replace: true });
    for (let i = 0; i < app.config.lockout.user.maxFailures; i++) expect(await v.verify('erin', face(STRANGER), MODEL)).toMatchObject({ accepted: false });
    await expect(v.verify('erin', face(erin), MODEL)).rejects.toMatchObject({ code: 'locked-out', serverCode: 'locked-out', status: 429 });
  });

  it('a backup is stored apart from the enrolment (204, no body)', async () => {
    const { v, answers } = verifier();
    const frank = 6;
    await v.backup('frank', MODEL, [{ embedding: face(frank), pose: 'center', createdAt: 1000 }]);
    expect(answers.at(-1)).toEqual({ status: 204, body: null });
    const stored = await app.store.getBackup('frank');
    expect(stored).toMatchObject({ userId: 'frank', modelId: MODEL, templates: [{ pose: 'center', createdAt: 1000 }] });
    expect(await app.store.templatesOf('frank', MODEL)).toEqual([]);
  });

  it('a server that is gone is backend-unavailable', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const { port } = gone.address() as AddressInfo;
    await new Promise((resolve) => gone.close(resolve));
    await expect(new HttpVerifier({ baseUrl: `http://127.0.0.1:${port}` }).verify('alice', face(ALICE), MODEL)).rejects.toMatchObject({
      code: 'backend-unavailable',
    });
  });
});

describe('HttpVerifier: answers no honest server gives', () => {
  /** Answers the challenge honestly enough, then `answer` for everything else. */
  function scripted(answer: { status: number; body?: unknown; raw?: string }, challenge: unknown = { nonce: 'n'.repeat(43), expiresAt: '2026-11-28T12:01:00.000Z' }) {
    return (async (url: string | URL | Request) => {
      const a = new URL(String(url)).pathname === '/v1/challenges' ? { status: 201, body: challenge } : answer;
      const text = a.raw ?? (a.body === undefined ? '' : JSON.stringify(a.body));
      return new Response(a.status === 204 ? null : text, { status: a.status, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
  }
  const verify = (f: typeof fetch) => new HttpVerifier({ baseUrl: 'https://auth.example', fetch: f }).verify('alice', face(ALICE), MODEL);
  const JWS = 'eyJh.eyJz.c2ln';

  it('never takes garbage, a score, or a half answer for a decision: backend-error', async () => {
    for (const answer of [
      { status: 200, raw: '<html>proxy error</html>' },
      { status: 200, raw: '' },
      { status: 200, body: [] },
      { status: 200, body: { decision: 'maybe' } },
      { status: 200, body: { decision: 'accept' } },
      { status: 200, body: { decision: 'accept', assertion: '' } },
      { status: 200, body: { decision: 'accept', assertion: 'not a jws' } },
      { status: 200, body: { decision: 'reject', score: 0.93 } },
      { status: 200, body: { decision: 'accept', assertion: JWS, score: 0.93 } },
      { status: 201, body: { decision: 'accept', assertion: JWS } },
      { status: 204 },
    ]) {
      await expect(verify(scripted(answer)), JSON.stringify(answer)).rejects.toMatchObject({ code: 'backend-error' });
    }
    expect(await verify(scripted({ status: 200, body: { decision: 'accept', assertion: JWS } }))).toMatchObject({ accepted: true, assertion: JWS });
  });

  it('a challenge answer that is not a nonce is backend-error, before any embedding is sent', async () => {
    for (const challenge of [{ nonce: 'short', expiresAt: '2026-11-28T12:01:00.000Z' }, { nonce: 'n'.repeat(43), expiresAt: 'tomorrow' }, { nonce: 'n'.repeat(43) }]) {
      let posted = false;
      const base = scripted({ status: 200, body: { decision: 'reject' } }, challenge);
      const spy = (async (url: string | URL | Request, init?: RequestInit) => {
        if (String(url).endsWith('/v1/verify')) posted = true;
        return base(url, init);
      }) as typeof fetch;
      await expect(verify(spy), JSON.stringify(challenge)).rejects.toMatchObject({ code: 'backend-error' });
      expect(posted).toBe(false);
    }
  });

  it('a refusal is a ServerRefusal only when the body is the server\'s error body', async () => {
    const refusal = verify(scripted({ status: 429, body: { error: { code: 'rate-limited', message: 'slow down', retryAfterSeconds: 3 } } }));
    await expect(refusal).rejects.toBeInstanceOf(ServerRefusal);
    await expect(refusal).rejects.toMatchObject({ code: 'rate-limited', serverCode: 'rate-limited', status: 429 });
    // A newer server's code the page does not know: still the server's refusal, as backend-error.
    await expect(verify(scripted({ status: 409, body: { error: { code: 'some-new-code', message: 'no' } } }))).rejects.toMatchObject({
      code: 'backend-error',
      serverCode: 'some-new-code',
    });
    for (const answer of [{ status: 403, raw: '<html>captive portal</html>' }, { status: 404, body: { message: 'Not Found' } }, { status: 400, body: { error: { code: 'constructor' } } }]) {
      const e = await verify(scripted(answer)).catch((x: unknown) => x);
      expect(e, JSON.stringify(answer)).toMatchObject({ code: 'backend-error' });
      expect(e).not.toBeInstanceOf(ServerRefusal);
    }
  });

  it('an outage, a 5xx or a timeout is backend-unavailable', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(verify(down)).rejects.toMatchObject({ code: 'backend-unavailable' });
    await expect(verify(scripted({ status: 502, raw: 'Bad gateway' }))).rejects.toMatchObject({ code: 'backend-unavailable' });
    await expect(verify(scripted({ status: 500, body: { error: { code: 'internal', message: 'Internal server error.' } } }))).rejects.toMatchObject({ code: 'backend-unavailable' });
    const slow = (async (_u: unknown, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    await expect(new HttpVerifier({ baseUrl: 'https://a', fetch: slow, timeoutMs: 50 }).verify('alice', face(ALICE), MODEL)).rejects.toMatchObject({
      code: 'backend-unavailable',
      message: expect.stringContaining('timed out'),
    });
  });
});

describe('OnlineVerifier (server first, device when allowed) against the real server', () => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let baseUrl: string;
  let store: MemoryTemplateStore;
  const clock = new Clock();
  const CAROL = 3;
  const DAVE = 4;

  beforeAll(async () => {
    tdb = await createDb('sqlite');
    app = await makeApp(tdb.db, clock);
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  beforeEach(async () => {
    for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'erin']) await app.store.deleteUser(u, clock.now());
    await app.gallery.sync();
    const setup = new HttpVerifier({ baseUrl });
    await setup.enroll('alice', MODEL, [{ embedding: face(ALICE), pose: 'center' }], { replace: true });
    await setup.enroll('bob', MODEL, [{ embedding: face(BOB), pose: 'center' }], { replace: true });
    store = new MemoryTemplateStore();
    await store.saveTemplates('alice', MODEL, [{ embedding: face(ALICE), pose: 'center' }]);
  });

  /** A device whose server is down until `up()`; offline enrolments are made through `v`. */
  function device() {
    const w = wire(baseUrl);
    w.state.down = true;
    const events: BackupEvent[] = [];
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl, fetch: w.fetch }), store, () => 0.5, { allowOffline: true, onBackup: (e) => events.push(e) });
    /** An enrolment made while the server is down, as the engine does it (verifier, then store). */
    const enrollOffline = async (userId: string, embedding: Float32Array) => {
      const t = [{ embedding, pose: 'center' as const }];
      await v.enroll(userId, MODEL, t, { replace: true });
      await store.saveTemplates(userId, MODEL, t, { replace: true });
    };
    return { v, events, enrollOffline, ...w, up: () => void (w.state.down = false) };
  }
  const writes = (sent: readonly Sent[]) => sent.filter((s) => s.path === '/v1/enroll' || s.path.startsWith('/v1/backup/')).length;

  it('with the server down and offline denied, fails with backend-unavailable and decides nothing', async () => {
    const w = wire(baseUrl);
    w.state.down = true;
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl, fetch: w.fetch }), store, () => 0.5, { allowOffline: false });
    await expect(v.verify('alice', face(ALICE), MODEL)).rejects.toMatchObject({ code: 'backend-unavailable' });
    await expect(v.enroll('carol', MODEL, [{ embedding: face(CAROL), pose: 'center' }], { replace: true })).rejects.toMatchObject({ code: 'backend-unavailable' });
    expect(await store.pendingBackups()).toEqual([]);
    v.dispose();
  });

  it('with offline allowed, the device decides while the server is down; a server reject is final', async () => {
    const d = device();
    expect(await d.v.verify('alice', face(ALICE), MODEL)).toMatchObject({ accepted: true, decidedBy: 'device' });
    expect(await d.v.identify(face(STRANGER), MODEL)).toMatchObject({ userId: null, decidedBy: 'device' });
    d.up();
    expect(await d.v.verify('bob', face(ALICE), MODEL)).toMatchObject({ accepted: false, decidedBy: 'server' });
    d.v.dispose();
  });

  it('an offline enrolment of a new user is enrolled on the server when it is back (and backed up): the server then decides', async () => {
    const d = device();
    await d.enrollOffline('carol', face(CAROL));
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(await d.v.verify('carol', face(CAROL), MODEL)).toMatchObject({ accepted: true, decidedBy: 'device' });
    await d.v.flushBackups(); // still offline: stays queued, nothing reported
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(d.events).toEqual([]);
    d.up();
    await d.v.flushBackups();
    expect(await store.pendingBackups()).toEqual([]);
    expect(d.events).toEqual([{ userId: 'carol', modelId: MODEL, ok: true, outcome: 'enrolled' }]);
    const enroll = d.sent.filter((s) => s.path === '/v1/enroll').at(-1)!;
    // Through the enroll route like an online enrolment (own nonce), never replacing anything.
    expect(enroll.body).toMatchObject({ userId: 'carol', modelId: MODEL, replace: false, ifNotEnrolled: true });
    expect(await app.store.templatesOf('carol', MODEL)).toHaveLength(1);
    expect((await app.store.getBackup('carol'))?.templates).toHaveLength(1);
    // Online now: the server decides, and it knows carol.
    const r = await d.v.verify('carol', face(CAROL, 0.2), MODEL);
    expect(r).toMatchObject({ accepted: true, userId: 'carol', decidedBy: 'server' });
    expect(await signedFor(r.assertion!, 'carol', 'verify', clock.now())).toBe(true);
    expect(await d.v.verify('carol', face(STRANGER), MODEL)).toMatchObject({ accepted: false, decidedBy: 'server' });
    d.v.dispose();
  });

  it('a user already enrolled on the server keeps the server\'s templates: the offline enrolment is only backed up', async () => {
    await new HttpVerifier({ baseUrl }).enroll('dave', MODEL, [{ embedding: face(DAVE), pose: 'center' }], { replace: true }); // another device
    const d = device();
    await d.enrollOffline('dave', face(DAVE, 0.3)); // the same person, another capture
    d.up();
    await d.v.flushBackups();
    expect(d.events).toEqual([{ userId: 'dave', modelId: MODEL, ok: true, outcome: 'backed-up' }]);
    expect((await app.store.templatesOf('dave', MODEL)).map((t) => Array.from(t))).toEqual([Array.from(face(DAVE))]);
    expect((await app.store.getBackup('dave'))?.templates).toHaveLength(1);
    expect(await store.pendingBackups()).toEqual([]);
    d.v.dispose();
  });

  it('a refusal (another user\'s face, an id that is someone else\'s) is reported once, not retried, and the device keeps its templates', async () => {
    await new HttpVerifier({ baseUrl }).enroll('erin', MODEL, [{ embedding: face(5), pose: 'center' }], { replace: true });
    const d = device();
    await d.enrollOffline('mallory', face(ALICE, 0.1)); // alice's face
    await d.enrollOffline('erin', face(6)); // erin is enrolled on the server with another face
    d.up();
    await d.v.flushBackups();
    expect(d.events.map((e) => [e.userId, e.ok, e.outcome, (e.error as { code?: string }).code, (e.error as ServerRefusal).serverCode])).toEqual([
      ['mallory', false, 'refused', 'duplicate-enrollment', 'duplicate-enrollment'],
      ['erin', false, 'refused', 'backend-error', 'proof-required'],
    ]);
    expect(await store.pendingBackups()).toEqual([]);
    expect(await app.store.userExists('mallory')).toBe(false);
    expect((await app.store.templatesOf('erin', MODEL)).map((t) => Array.from(t))).toEqual([Array.from(face(5))]);
    expect(await app.store.getBackup('erin')).toBeNull(); // a refused enrolment is not backed up either
    expect(await store.templatesOf('mallory', MODEL)).toHaveLength(1);
    expect(await store.templatesOf('erin', MODEL)).toHaveLength(1);
    // No loop: further flushes (after every server decision, on `online`) send nothing more.
    const sent = writes(d.sent);
    expect(sent).toBe(3); // mallory: enroll (refused); erin: enroll (already-enrolled), backup (refused)
    await d.v.flushBackups();
    await d.v.verify('alice', face(ALICE), MODEL);
    await d.v.flushBackups();
    expect(writes(d.sent)).toBe(sent);
    expect(d.events).toHaveLength(2);
    // The server decides for mallory online: not enrolled there, so rejected (the same answer as any reject: no enumeration).
    expect(await d.v.verify('mallory', face(ALICE), MODEL)).toMatchObject({ accepted: false, decidedBy: 'server' });
    d.v.dispose();
  });

  it('a rate limit or a proxy\'s answer keeps the item queued for later, unreported', async () => {
    const d = device();
    let answer = () => new Response(JSON.stringify({ error: { code: 'rate-limited', message: 'slow down' } }), { status: 429 });
    d.state.intercept = (s) => (s.path === '/v1/enroll' ? answer() : null);
    await d.enrollOffline('carol', face(CAROL));
    d.up();
    await d.v.flushBackups();
    answer = () => new Response('<html>captive portal</html>', { status: 403 });
    await d.v.flushBackups();
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(d.events).toEqual([]);
    expect(await app.store.userExists('carol')).toBe(false);
    d.v.dispose();
  });
});

describe('the backend attribute', () => {
  it('takes a compute backend name or a server URL', () => {
    expect(parseBackend('wasm', '', 'deny')).toEqual({ backend: 'wasm' });
    expect(parseBackend('', '', 'deny')).toEqual({ backend: 'auto' });
    expect(parseBackend('https://auth.example', 'webgl', 'allow')).toEqual({ backend: 'webgl', server: { url: 'https://auth.example', allowOffline: true } });
    expect(parseBackend('/api', '', 'deny')).toEqual({ backend: 'auto', server: { url: '/api', allowOffline: false } });
  });
});
