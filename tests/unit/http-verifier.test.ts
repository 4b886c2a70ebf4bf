/**
 * The widget's side of the server protocol, against a scripted fetch: what is sent, how each
 * answer (decision, refusal, garbage, outage) becomes a result or a typed error, and the
 * offline path (device decides only when allowed; offline enrolments are queued and, when the
 * server is back, enrolled there if it does not know the user, else only backed up). The real server is exercised in server/ tests and the online e2e.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HttpVerifier, ServerRefusal } from '../../src/adapters/verifier/http-verifier.js';
import { OnlineVerifier, type BackupEvent } from '../../src/adapters/verifier/online-verifier.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { parseBackend } from '../../src/element/backend-attribute.js';
import { l2normalize } from '../../src/core/match.js';

type Handler = (method: string, path: string, body: any, headers: Record<string, string>) => { status: number; body?: unknown; raw?: string } | 'network-down';

function fakeFetch(handler: Handler) {
  const calls: { method: string; path: string; body: any }[] = [];
  const f = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const u = new URL(String(url));
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method: init?.method ?? 'GET', path: u.pathname, body });
    const r = handler(init?.method ?? 'GET', u.pathname, body, (init?.headers ?? {}) as Record<string, string>);
    if (r === 'network-down') throw new TypeError('Failed to fetch');
    const text = r.raw ?? (r.body === undefined ? '' : JSON.stringify(r.body));
    return new Response(r.status === 204 ? null : text, { status: r.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: f as typeof fetch, calls };
}

const probe = l2normalize([1, 2, 3]);
const MODEL = 'm1';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);
const SERVER_THRESHOLD = 0.5;

/**
 * A minimal honest server: nonces are single use; it keeps enrolled templates and backups apart
 * and decides verify against the enrolled ones only (alice holds `probe`, bob another face);
 * enroll refuses another user's face (duplicate-enrollment), honours ifNotEnrolled
 * (already-enrolled), and like backup needs the same face to touch a user who has data.
 */
function server(overrides: Partial<Record<string, Handler>> = {}) {
  let n = 0;
  const nonces = new Set<string>();
  const enrolled = new Map<string, number[][]>([
    ['alice', [Array.from(probe)]],
    ['bob', [Array.from(l2normalize([-1, 0, 0]))]],
  ]);
  const backups = new Map<string, number[][]>();
  const refuse = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });
  const sameFace = (fresh: number[][], old: number[][]) => fresh.some((e) => old.some((o) => dot(e, o) >= SERVER_THRESHOLD));
  const handler: Handler = (method, path, body, headers) => {
    const o = overrides[path];
    if (o) return o(method, path, body, headers);
    if (path === '/v1/challenges') {
      const nonce = `nonce-${++n}-${'x'.repeat(20)}`;
      nonces.add(nonce);
      return { status: 201, body: { nonce, expiresAt: new Date().toISOString() } };
    }
    const nonce = body?.nonce ?? headers['x-face-login-nonce'];
    if (!nonces.delete(nonce)) return refuse(400, 'invalid-nonce');
    if (path === '/v1/verify') {
      const mine = enrolled.get(body.userId);
      if (!mine) return refuse(404, 'unknown-user');
      return { status: 200, body: sameFace([body.embedding], mine) ? { decision: 'accept', assertion: 'signed.token' } : { decision: 'reject' } };
    }
    if (path === '/v1/identify') return { status: 200, body: { decision: 'reject' } };
    if (path === '/v1/enroll') {
      const fresh = (body.templates as { embedding: number[] }[]).map((t) => t.embedding);
      if (body.ifNotEnrolled && enrolled.has(body.userId)) return refuse(409, 'already-enrolled');
      const old = [...(enrolled.get(body.userId) ?? []), ...(backups.get(body.userId) ?? [])];
      if (old.length > 0 && !sameFace(fresh, old)) return refuse(403, 'proof-required');
      for (const [u, t] of enrolled) if (u !== body.userId && sameFace(fresh, t)) return refuse(409, 'duplicate-enrollment');
      enrolled.set(body.userId, [...(body.replace === false ? (enrolled.get(body.userId) ?? []) : []), ...fresh]);
      return { status: 201, body: { userId: body.userId, templates: enrolled.get(body.userId)!.length } };
    }
    if (path.startsWith('/v1/backup/')) {
      const userId = decodeURIComponent(path.slice('/v1/backup/'.length));
      const fresh = (body.templates as { embedding: number[] }[]).map((t) => t.embedding);
      const old = [...(enrolled.get(userId) ?? []), ...(backups.get(userId) ?? [])];
      if (old.length > 0 && !sameFace(fresh, old)) return refuse(403, 'proof-required');
      backups.set(userId, fresh);
      return { status: 204 };
    }
    return refuse(404, 'not-found');
  };
  return Object.assign(handler, { enrolled, backups });
}

describe('HttpVerifier', () => {
  it('asks for a nonce bound to user and action, posts the embedding, returns the server decision', async () => {
    const { fetch, calls } = fakeFetch(server());
    const v = new HttpVerifier({ baseUrl: 'https://auth.example/', fetch });
    expect(await v.verify('alice', probe, MODEL)).toEqual({ accepted: true, userId: 'alice', assertion: 'signed.token', decidedBy: 'server' });
    expect(calls[0]).toEqual({ method: 'POST', path: '/v1/challenges', body: { action: 'verify', userId: 'alice' } });
    expect(calls[1]!.body).toMatchObject({ userId: 'alice', modelId: MODEL, nonce: expect.stringMatching(/^nonce-1/) });
    expect(calls[1]!.body.embedding).toHaveLength(3);
    expect(await v.verify('bob', probe, MODEL)).toEqual({ accepted: false, userId: 'bob', decidedBy: 'server' });
    expect(await v.identify(probe, MODEL)).toEqual({ userId: null, decidedBy: 'server' });
  });

  it('maps refusals to typed codes', async () => {
    const refuse = (code: string, status = 429): Handler => () => ({ status, body: { error: { code, message: 'no' } } });
    for (const [code, expected, status] of [
      ['locked-out', 'locked-out', 429],
      ['rate-limited', 'rate-limited', 429],
      ['duplicate-enrollment', 'duplicate-enrollment', 409],
      ['unknown-user', 'not-enrolled', 404],
      ['invalid-embedding', 'backend-error', 400],
    ] as const) {
      const { fetch } = fakeFetch(server({ '/v1/verify': refuse(code, status) }));
      await expect(new HttpVerifier({ baseUrl: 'https://a', fetch }).verify('alice', probe, MODEL)).rejects.toMatchObject({ code: expected });
    }
  });

  it('never takes garbage for a decision', async () => {
    for (const answer of [{ status: 200, raw: '<html>proxy error</html>' }, { status: 200, body: { decision: 'maybe' } }, { status: 200, body: { decision: 'accept' } }, { status: 200, body: [] }]) {
      const { fetch } = fakeFetch(server({ '/v1/verify': () => answer }));
      await expect(new HttpVerifier({ baseUrl: 'https://a', fetch }).verify('alice', probe, MODEL)).rejects.toMatchObject({ code: 'backend-error' });
    }
  });

  it('an outage, a 5xx or a timeout is backend-unavailable', async () => {
    const down = fakeFetch(() => 'network-down');
    await expect(new HttpVerifier({ baseUrl: 'https://a', fetch: down.fetch }).verify('alice', probe, MODEL)).rejects.toMatchObject({ code: 'backend-unavailable' });
    const fivexx = fakeFetch(() => ({ status: 502, raw: 'Bad gateway' }));
    await expect(new HttpVerifier({ baseUrl: 'https://a', fetch: fivexx.fetch }).verify('alice', probe, MODEL)).rejects.toMatchObject({ code: 'backend-unavailable' });
    const slow = (async (_u: unknown, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    await expect(new HttpVerifier({ baseUrl: 'https://a', fetch: slow, timeoutMs: 50 }).verify('alice', probe, MODEL)).rejects.toMatchObject({ code: 'backend-unavailable', message: expect.stringContaining('timed out') });
  });
});

describe('OnlineVerifier (server first, device when allowed)', () => {
  let store: MemoryTemplateStore;
  beforeEach(async () => {
    store = new MemoryTemplateStore();
    await store.saveTemplates('alice', MODEL, [{ embedding: probe, pose: 'center' }]);
  });

  it('with the server down and offline denied, fails with backend-unavailable and decides nothing', async () => {
    const { fetch } = fakeFetch(() => 'network-down');
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl: 'https://a', fetch }), store, () => 0.5, { allowOffline: false });
    await expect(v.verify('alice', probe, MODEL)).rejects.toMatchObject({ code: 'backend-unavailable' });
    await expect(v.enroll('bob', MODEL, [{ embedding: probe, pose: 'center' }], { replace: true })).rejects.toMatchObject({ code: 'backend-unavailable' });
    expect(await store.pendingBackups()).toEqual([]);
  });

  it('with offline allowed, the device decides while the server is down', async () => {
    const { fetch } = fakeFetch(() => 'network-down');
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl: 'https://a', fetch }), store, () => 0.5, { allowOffline: true });
    expect(await v.verify('alice', probe, MODEL)).toMatchObject({ accepted: true, decidedBy: 'device' });
    expect(await v.identify(l2normalize([-1, 0, 0]), MODEL)).toMatchObject({ userId: null, decidedBy: 'device' });
  });

  it('a server reject is final even when offline is allowed', async () => {
    const { fetch } = fakeFetch(server());
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl: 'https://a', fetch }), store, () => 0.5, { allowOffline: true });
    expect(await v.verify('bob', probe, MODEL)).toMatchObject({ accepted: false, decidedBy: 'server' });
  });

  /** A device whose server is down until `up()`; offline enrolments are made through `v`. */
  function device(overrides: Partial<Record<string, Handler>> = {}) {
    let isUp = false;
    const honest = server(overrides);
    const { fetch, calls } = fakeFetch((...a) => (isUp ? honest(...a) : 'network-down'));
    const events: BackupEvent[] = [];
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl: 'https://a', fetch }), store, () => 0.5, {
      allowOffline: true,
      onBackup: (e) => events.push(e),
    });
    /** An enrolment made while the server is down, as the engine does it (verifier, then store). */
    const enrollOffline = async (userId: string, embedding: Float32Array) => {
      const t = [{ embedding, pose: 'center' as const }];
      await v.enroll(userId, MODEL, t, { replace: true });
      await store.saveTemplates(userId, MODEL, t, { replace: true });
    };
    return { v, calls, events, server: honest, enrollOffline, up: () => void (isUp = true) };
  }
  const carolFace = l2normalize([3, 0, -1]); // matches neither alice nor bob

  it('an offline enrolment of a new user is enrolled on the server when it is back (and backed up): the server then decides', async () => {
    const d = device();
    await d.enrollOffline('carol', carolFace);
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(await d.v.verify('carol', carolFace, MODEL)).toMatchObject({ accepted: true, decidedBy: 'device' });
    await d.v.flushBackups(); // still offline: stays queued, nothing reported
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(d.events).toEqual([]);
    d.up();
    await d.v.flushBackups();
    expect(await store.pendingBackups()).toEqual([]);
    expect(d.events).toEqual([{ userId: 'carol', modelId: MODEL, ok: true, outcome: 'enrolled' }]);
    const enroll = d.calls.find((c) => c.path === '/v1/enroll')!;
    // Through the enroll route like an online enrolment (own nonce), never replacing anything.
    expect(enroll.body).toMatchObject({ userId: 'carol', modelId: MODEL, replace: false, ifNotEnrolled: true, nonce: expect.stringMatching(/^nonce-/) });
    expect(enroll.body.templates).toEqual([{ embedding: Array.from(carolFace), pose: 'center' }]);
    const put = d.calls.find((c) => c.method === 'PUT')!;
    expect(put.path).toBe('/v1/backup/carol');
    expect(put.body.templates[0].embedding).toHaveLength(3);
    // Online now: the server decides, and it knows carol.
    expect(await d.v.verify('carol', carolFace, MODEL)).toEqual({ accepted: true, userId: 'carol', assertion: 'signed.token', decidedBy: 'server' });
    expect(await d.v.verify('carol', l2normalize([-1, 0, 0]), MODEL)).toMatchObject({ accepted: false, decidedBy: 'server' });
    d.v.dispose();
  });

  it('a user already enrolled on the server keeps the server\'s templates: the offline enrolment is only backed up', async () => {
    const d = device();
    const serverFace = Array.from(l2normalize([0, 3, -2])); // dave, enrolled on another device
    d.server.enrolled.set('dave', [serverFace]);
    await d.enrollOffline('dave', l2normalize([0, 3, -2.2])); // the same person, another capture
    d.up();
    await d.v.flushBackups();
    expect(d.events).toEqual([{ userId: 'dave', modelId: MODEL, ok: true, outcome: 'backed-up' }]);
    expect(d.server.enrolled.get('dave')).toEqual([serverFace]);
    expect(d.server.backups.get('dave')).toHaveLength(1);
    expect(await store.pendingBackups()).toEqual([]);
    d.v.dispose();
  });

  it('a refusal (another user\'s face, an id that is someone else\'s) is reported once, not retried, and the device keeps its templates', async () => {
    const d = device();
    await d.enrollOffline('mallory', probe); // alice's face
    d.server.enrolled.set('erin', [Array.from(l2normalize([0, 0, 1]))]);
    await d.enrollOffline('erin', l2normalize([0, 1, 0])); // erin is enrolled on the server with another face
    d.up();
    await d.v.flushBackups();
    expect(d.events.map((e) => [e.userId, e.ok, e.outcome, (e.error as { code?: string }).code, (e.error as ServerRefusal).serverCode])).toEqual([
      ['mallory', false, 'refused', 'duplicate-enrollment', 'duplicate-enrollment'],
      ['erin', false, 'refused', 'backend-error', 'proof-required'],
    ]);
    expect(await store.pendingBackups()).toEqual([]);
    expect(d.server.enrolled.has('mallory')).toBe(false);
    expect(d.server.enrolled.get('erin')).toEqual([Array.from(l2normalize([0, 0, 1]))]);
    expect(d.server.backups.size).toBe(0); // a refused enrolment is not backed up either
    expect(await store.templatesOf('mallory', MODEL)).toHaveLength(1);
    expect(await store.templatesOf('erin', MODEL)).toHaveLength(1);
    // No loop: further flushes (after every server decision, on `online`) send nothing more.
    const writes = () => d.calls.filter((c) => c.path === '/v1/enroll' || c.path.startsWith('/v1/backup/')).length;
    const sent = writes();
    expect(sent).toBe(3); // mallory: enroll (refused); erin: enroll (already-enrolled), backup (refused)
    await d.v.flushBackups();
    await d.v.verify('alice', probe, MODEL);
    await d.v.flushBackups();
    expect(writes()).toBe(sent);
    expect(d.events).toHaveLength(2);
    // The server decides for mallory online: not enrolled there.
    await expect(d.v.verify('mallory', probe, MODEL)).rejects.toMatchObject({ code: 'not-enrolled' });
    d.v.dispose();
  });

  it('a rate limit or a proxy\'s answer keeps the item queued for later, unreported', async () => {
    let answer: { status: number; body?: unknown; raw?: string } = { status: 429, body: { error: { code: 'rate-limited', message: 'slow down' } } };
    const d = device({ '/v1/enroll': () => answer });
    await d.enrollOffline('carol', carolFace);
    d.up();
    await d.v.flushBackups();
    answer = { status: 403, raw: '<html>captive portal</html>' };
    await d.v.flushBackups();
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    expect(d.events).toEqual([]);
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
