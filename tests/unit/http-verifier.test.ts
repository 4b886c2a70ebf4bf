/**
 * The widget's side of the server protocol, against a scripted fetch: what is sent, how each
 * answer (decision, refusal, garbage, outage) becomes a result or a typed error, and the
 * offline path (device decides only when allowed; offline enrolments are queued and backed up
 * when the server is back). The real server is exercised in server/ tests and the online e2e.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HttpVerifier } from '../../src/adapters/verifier/http-verifier.js';
import { OnlineVerifier } from '../../src/adapters/verifier/online-verifier.js';
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

/** A minimal honest server: nonces are single use; alice's probe is accepted. */
function server(overrides: Partial<Record<string, Handler>> = {}): Handler {
  let n = 0;
  const nonces = new Set<string>();
  return (method, path, body, headers) => {
    const o = overrides[path];
    if (o) return o(method, path, body, headers);
    if (path === '/v1/challenges') {
      const nonce = `nonce-${++n}-${'x'.repeat(20)}`;
      nonces.add(nonce);
      return { status: 201, body: { nonce, expiresAt: new Date().toISOString() } };
    }
    const nonce = body?.nonce ?? headers['x-face-login-nonce'];
    if (!nonces.delete(nonce)) return { status: 400, body: { error: { code: 'invalid-nonce', message: 'replayed' } } };
    if (path === '/v1/verify') return { status: 200, body: body.userId === 'alice' ? { decision: 'accept', assertion: 'signed.token' } : { decision: 'reject' } };
    if (path === '/v1/identify') return { status: 200, body: { decision: 'reject' } };
    if (path === '/v1/enroll') return { status: 201, body: { userId: body.userId, templates: body.templates.length } };
    if (path.startsWith('/v1/backup/')) return { status: 204 };
    return { status: 404, body: { error: { code: 'not-found', message: path } } };
  };
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

  it('queues an offline enrolment and backs it up when the server is back', async () => {
    let up = false;
    const honest = server();
    const { fetch, calls } = fakeFetch((...a) => (up ? honest(...a) : 'network-down'));
    const backups: string[] = [];
    const v = new OnlineVerifier(new HttpVerifier({ baseUrl: 'https://a', fetch }), store, () => 0.5, {
      allowOffline: true,
      onBackup: (e) => backups.push(`${e.userId}:${e.ok}`),
    });
    await v.enroll('carol', MODEL, [{ embedding: probe, pose: 'center' }], { replace: true });
    await store.saveTemplates('carol', MODEL, [{ embedding: probe, pose: 'center' }]);
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    await v.flushBackups(); // still offline: stays queued
    expect((await store.pendingBackups()).map((b) => b.userId)).toEqual(['carol']);
    up = true;
    await v.flushBackups();
    expect(await store.pendingBackups()).toEqual([]);
    expect(backups).toEqual(['carol:true']);
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.path).toBe('/v1/backup/carol');
    expect(put.body.templates[0].embedding).toHaveLength(3);
    v.dispose();
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
