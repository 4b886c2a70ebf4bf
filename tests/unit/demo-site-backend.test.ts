/**
 * The demo's site backend (demo/site-backend.ts), the stand-in for a real site's backend, against
 * the real verification server listening on a port (buildApp; the examiner is the test double of
 * server/test/helpers.ts, so this runs in a second): it signs a person in by name, opens sessions
 * with the site key, reads the results, checks they are the sessions it opened, and signs the
 * person in only on an accepted verify / identify. The page (this test) uploads the frames.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { siteBackend } from '../../demo/site-backend.js';
import { Clock, createDb, fakeRig, makeSessionApp, rng, SITE_KEY, type TestDb } from '../../server/test/helpers.js';

describe('the demo site backend', () => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let site: Server;
  let siteUrl = '';
  let serverUrl = '';
  const rig = fakeRig(rng(3));
  const clock = new Clock(Date.now());

  beforeAll(async () => {
    tdb = await createDb('sqlite');
    app = await makeSessionApp(tdb.db, clock, rig.examiner);
    serverUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const handle = siteBackend({ backend: serverUrl, siteKey: SITE_KEY });
    site = createServer((req, res) => handle(req as never, res, () => ((res.statusCode = 404), res.end())));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => site?.close(r));
    await app?.close();
    await tdb?.drop();
  });

  /** One browser: keeps the site's cookie. */
  function browser() {
    const jar = new Map<string, string>();
    const call = async (method: string, path: string, body?: unknown) => {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(`${siteUrl}/demo-site/${path}`, {
        method,
        headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(';');
        const [k, v] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
        if (/Max-Age=0/.test(set)) jar.delete(k);
        else jar.set(k, v);
      }
      return { status: res.status, body: (await res.json()) as any };
    };
    /** What the element does with a session id: ask the server for the challenge, upload the frames of `person`. */
    const perform = async (sessionId: string, person: string, how: 'perform' | 'still' = 'perform') => {
      const info = (await (await fetch(`${serverUrl}/v1/sessions/${sessionId}`)).json()) as any;
      const frames = await rig.frames(person, info.challenge, how);
      const up = await fetch(`${serverUrl}/v1/sessions/${sessionId}/frames`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ frames }) });
      return { info, status: up.status, body: (await up.json()) as any };
    };
    return { call, perform };
  }

  it('enrols the signed-in person, logs her in by face, and refuses a stranger and a still photo', async () => {
    const alice = browser();
    expect((await alice.call('POST', 'sessions', { action: 'enroll' })).body.error.code).toBe('not-signed-in');
    expect((await alice.call('POST', 'sign-in', { name: 'alice' })).body).toEqual({ user: 'alice' });
    expect((await alice.call('GET', 'me')).body).toEqual({ available: true, user: 'alice', server: serverUrl });
    const enrol = (await alice.call('POST', 'sessions', { action: 'enroll', userId: 'mallory' })).body;
    expect(enrol).toMatchObject({ action: 'enroll', server: serverUrl });
    const up = await alice.perform(enrol.sessionId, 'alice');
    expect(up.info.action).toBe('enroll');
    expect(up.body).toEqual({ status: 'done' });
    // The site enrolled the signed-in user, whatever the page asked for.
    expect((await alice.call('GET', `sessions/${enrol.sessionId}/result`)).body).toMatchObject({ state: 'done', decision: 'accept', userId: 'alice', liveness: 'passed' });
    expect(await app.store.templatesOf('alice', rig.examiner.modelId)).toHaveLength(5);
    expect(await app.store.templatesOf('mallory', rig.examiner.modelId)).toHaveLength(0);

    // A new browser claims to be alice: her face signs her in.
    const later = browser();
    const login = (await later.call('POST', 'sessions', { action: 'verify', userId: 'alice' })).body;
    expect((await later.perform(login.sessionId, 'alice')).body).toEqual({ status: 'done' });
    expect((await later.call('GET', `sessions/${login.sessionId}/result`)).body).toMatchObject({ decision: 'accept', userId: 'alice', signedIn: 'alice' });
    expect((await later.call('GET', 'me')).body).toEqual({ available: true, user: 'alice', server: serverUrl });

    // A session id seen elsewhere (another browser got hold of it) reads nothing and signs nobody in.
    const thief = browser();
    const stolen = (await later.call('POST', 'sessions', { action: 'verify', userId: 'alice' })).body;
    await later.perform(stolen.sessionId, 'alice');
    expect((await thief.call('GET', `sessions/${stolen.sessionId}/result`)).body.error.code).toBe('unknown-session');
    expect((await thief.call('GET', 'me')).body).toEqual({ available: true, user: null, server: serverUrl });

    // Mallory claims to be alice: rejected, and not signed in.
    const mallory = browser();
    const fake = (await mallory.call('POST', 'sessions', { action: 'verify', userId: 'alice' })).body;
    expect((await mallory.perform(fake.sessionId, 'mallory')).body).toEqual({ status: 'done' });
    expect((await mallory.call('GET', `sessions/${fake.sessionId}/result`)).body).toMatchObject({ decision: 'reject', signedIn: null });
    expect((await mallory.call('GET', 'me')).body).toEqual({ available: true, user: null, server: serverUrl });

    // A still photo of alice: the server refuses the capture (liveness), nobody is signed in.
    const photo = (await mallory.call('POST', 'sessions', { action: 'verify', userId: 'alice' })).body;
    const still = await mallory.perform(photo.sessionId, 'alice', 'still');
    expect([still.status, still.body.status, still.body.refusal]).toEqual([200, 'refused', 'liveness-failed']);
    expect((await mallory.call('GET', `sessions/${photo.sessionId}/result`)).body).toMatchObject({ state: 'refused', refusal: 'liveness-failed', signedIn: null });

    // Identify (a kiosk): who is it?
    const kiosk = browser();
    const who = (await kiosk.call('POST', 'sessions', { action: 'identify' })).body;
    await kiosk.perform(who.sessionId, 'alice');
    expect((await kiosk.call('GET', `sessions/${who.sessionId}/result`)).body).toMatchObject({ decision: 'accept', userId: 'alice' });
  });

  it('reads only the sessions it opened, and says so when it is not configured', async () => {
    const b = browser();
    expect((await b.call('GET', `sessions/${'A'.repeat(43)}/result`)).status).toBe(404);
    expect((await b.call('POST', 'sessions', { action: 'verify' })).body.error.code).toBe('invalid-name');
    expect((await b.call('POST', 'sign-in', { name: 'a b' })).body.error.code).toBe('invalid-name');
    const off = siteBackend({ backend: '', siteKey: '' });
    const res = { statusCode: 0, headers: {} as Record<string, string>, body: '', setHeader(k: string, v: string) { this.headers[k] = v; }, end(b: string) { this.body = b; } };
    await new Promise<void>((r) => {
      res.end = function (body: string) {
        this.body = body;
        r();
      };
      off({ url: '/demo-site/sessions', method: 'POST', headers: {} } as never, res as never, () => r());
    });
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('site-backend-off');
    // The page's first question gets a plain answer (no HTTP error: an offline demo loads with a clean console).
    const me = await new Promise<{ statusCode: number; body: string }>((r) => {
      const out = { statusCode: 0, body: '', setHeader() {}, end(b: string) { this.body = b; r(this); } };
      off({ url: '/demo-site/me', method: 'GET', headers: {} } as never, out as never, () => {});
    });
    expect([me.statusCode, JSON.parse(me.body).available]).toEqual([200, false]);
  });
});
