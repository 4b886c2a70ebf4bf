/**
 * The protocol module (src/protocol/): its error table covers every server code and maps each to
 * a page code; the server registers exactly its routes, with its schemas unchanged (validation and
 * OpenAPI); and the page's checker (`fits`, TypeBox's Value.Check) and the server's validator
 * (Fastify's Ajv with the app's options) give the same verdict on what the real server sends and
 * receives, and on every mutation of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from '../../src/core/errors.js';
import {
  CHALLENGE_ACTIONS,
  EMBEDDING_SIZE,
  ErrorBody,
  FORMATS,
  fits,
  pageErrorCode,
  pathOf,
  POSES,
  ROUTES,
  SERVER_ERROR_CODES,
  SERVER_ERRORS,
  backupRoute,
  challengeRoute,
  deleteUserRoute,
  enrollRoute,
  exportUserRoute,
  healthRoute,
  identifyRoute,
  keysRoute,
  labelAttemptRoute,
  listAttemptsRoute,
  openapiRoute,
  restoreRoute,
  verifyRoute,
  createSessionRoute,
  sessionInfoRoute,
  sessionResultRoute,
  siteDeleteUserRoute,
  siteExportUserRoute,
  siteUnlockUserRoute,
  uploadFramesRoute,
  type RouteSpec,
} from '../../src/protocol/index.js';
import { ApiError } from '../../server/errors.js';
import { ADMIN_KEY, Clock, createDb, fakeRig, makeSessionApp, MODEL, rng, SITE_KEY, type TestDb } from '../../server/test/helpers.js';

/** Every route, as the common RouteSpec shape. */
const ALL: readonly RouteSpec[] = ROUTES;

const PROTOCOL_DIR = fileURLToPath(new URL('../../src/protocol/', import.meta.url));

function* schemasOf(route: RouteSpec): Generator<[string, TSchema]> {
  for (const part of ['params', 'querystring', 'headers', 'body'] as const) {
    const s = route[part];
    if (s) yield [part, s];
  }
  for (const [status, s] of Object.entries(route.response)) yield [status, s];
}

function* walk(schema: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(schema)) for (const s of schema) yield* walk(s);
  else if (schema && typeof schema === 'object') {
    yield schema as Record<string, unknown>;
    for (const v of Object.values(schema)) yield* walk(v);
  }
}

describe('the protocol module', () => {
  it('imports nothing from the DOM, Node or Lit: only TypeBox, itself, and the page\'s error code type', () => {
    const files = readdirSync(PROTOCOL_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const src = readFileSync(join(PROTOCOL_DIR, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [, statement, from] of src.matchAll(/^(import[^;]*?)from '([^']+)'/gms)) {
        const ok = from!.startsWith('@sinclair/typebox') || from!.startsWith('./') || (from!.startsWith('../') && !from!.startsWith('../core')) || (from === '../core/errors.js' && statement!.startsWith('import type'));
        expect(ok, `${f}: ${statement}from '${from}'`).toBe(true);
      }
      expect(src, f).not.toMatch(/\b(document|window|navigator|globalThis|process|Buffer|require)\s*[.([]/);
    }
  });

  it('has every server error code with a 4xx / 5xx status and a page code', () => {
    for (const code of SERVER_ERROR_CODES) {
      const { status, page } = SERVER_ERRORS[code];
      expect(ERROR_CODES, code).toContain(page);
      expect(status >= 400 && status < 600, code).toBe(true);
      expect(new ApiError(code, 'm').statusCode).toBe(status);
      expect(pageErrorCode(code)).toBe(page);
    }
    expect(SERVER_ERROR_CODES.filter((c) => SERVER_ERRORS[c].status >= 500)).toEqual(['overloaded', 'storage-busy', 'storage-full', 'storage-unavailable', 'internal']);
    // Codes with a meaning of their own on the page keep it.
    expect(pageErrorCode('unknown-user')).toBe('not-enrolled');
    expect(pageErrorCode('locked-out')).toBe('locked-out');
    expect(pageErrorCode('duplicate-enrollment')).toBe('duplicate-enrollment');
    for (const unknown of ['some-new-code', 'constructor', '__proto__', 'toString', '']) expect(pageErrorCode(unknown)).toBe('backend-error');
  });

  it('uses only formats the page\'s checker knows (Value.Check refuses an unknown one)', () => {
    const used = new Set<string>();
    for (const route of ALL) for (const [, s] of schemasOf(route)) for (const node of walk(s)) if (typeof node.format === 'string') used.add(node.format);
    for (const node of walk(ErrorBody)) if (typeof node.format === 'string') used.add(node.format);
    expect([...used]).toEqual(['date-time']);
    for (const f of used) expect(Object.keys(FORMATS)).toContain(f);
  });

  it('builds paths from params, URI-encoded, and refuses a missing one', () => {
    expect(pathOf(backupRoute, { userId: 'a@b.c' })).toBe('/v1/backup/a%40b.c');
    expect(() => pathOf(backupRoute)).toThrow(/userId/);
  });

  it('states the wire constants the schemas are built from', () => {
    expect(POSES).toEqual(['center', 'left', 'right', 'up', 'down']);
    expect(CHALLENGE_ACTIONS).toContain('identify');
    expect(EMBEDDING_SIZE).toBe(192);
  });
});

describe('the server and the page read one protocol', () => {
  let tdb: TestDb;
  let app: FastifyInstance;
  /** The server's validator: Fastify's Ajv with the app's options and formats. */
  let serverCheck: (schema: TSchema, value: unknown) => boolean;
  /** What the real server received and answered, by route and part (body, params, 200, 4xx...). */
  const seen = new Map<RouteSpec, Map<string, unknown[]>>();
  const clock = new Clock();

  const face = (axis: number, noise = 0) => {
    const v = new Array<number>(EMBEDDING_SIZE).fill(0);
    v[axis] = 1;
    v[EMBEDDING_SIZE - 1] = noise;
    return v;
  };

  function record(route: RouteSpec, part: string, value: unknown): void {
    if (value === undefined) return;
    const parts = seen.get(route) ?? new Map<string, unknown[]>();
    seen.set(route, parts);
    parts.set(part, [...(parts.get(part) ?? []), structuredClone(value)]);
  }

  async function call(
    route: RouteSpec,
    input: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<any> {
    const url = pathOf(route, input.params) + (input.query ? `?${new URLSearchParams(input.query)}` : '');
    const opts: InjectOptions = { method: route.method, url, headers: { ...input.headers } };
    if (input.body !== undefined) {
      opts.payload = JSON.stringify(input.body);
      opts.headers = { 'content-type': 'application/json', ...input.headers };
    }
    const res = await app.inject(opts);
    record(route, 'params', input.params);
    record(route, 'querystring', input.query);
    record(route, 'body', input.body);
    if (route.headers) record(route, 'headers', input.headers ?? {});
    const body = res.body ? JSON.parse(res.body) : null;
    record(route, res.statusCode >= 400 ? 'error' : String(res.statusCode), body);
    return body;
  }

  const nonce = async (action: string, userId?: string): Promise<string> =>
    (await call(challengeRoute, { body: userId === undefined ? { action } : { action, userId } })).nonce;

  beforeAll(async () => {
    tdb = await createDb('sqlite');
    // Every route on: the site's (a site key, the examiner double) and the device routes.
    const rig = fakeRig(rng(7));
    app = await makeSessionApp(tdb.db, clock, rig.examiner, { trustDeviceEmbeddings: true });
    // A route on the root instance makes Fastify set up its validator compiler there.
    app.get('/probe', { schema: { querystring: { type: 'object' } } }, async () => null);
    await app.ready();
    const compile = app.validatorCompiler!;
    const compiled = new Map<TSchema, (value: unknown) => unknown>();
    serverCheck = (schema, value) => {
      let validate = compiled.get(schema);
      if (!validate) compiled.set(schema, (validate = compile({ schema, method: 'POST', url: '/probe', httpPart: 'body' })));
      return validate(value) === true;
    };

    const [health, openapi, challenge, enroll, verify, identify] = [healthRoute, openapiRoute, challengeRoute, enrollRoute, verifyRoute, identifyRoute];
    const [deleteUser, exportUser, backup, restore, label, list] = [deleteUserRoute, exportUserRoute, backupRoute, restoreRoute, labelAttemptRoute, listAttemptsRoute];
    await call(health);
    await call(openapi);
    await call(keysRoute);
    await call(enroll, { body: { nonce: await nonce('enroll', 'alice'), userId: 'alice', modelId: MODEL, templates: POSES.map((pose, i) => ({ embedding: face(0, i / 10), pose })) } });
    await call(enroll, { body: { nonce: await nonce('enroll', 'bob'), userId: 'bob', modelId: MODEL, templates: [{ embedding: face(1), pose: 'center' }], replace: false } });
    await call(enroll, { body: { nonce: await nonce('enroll', 'mallory'), userId: 'mallory', modelId: MODEL, templates: [{ embedding: face(0), pose: 'center' }] } });
    const accepted = await call(verify, { body: { nonce: await nonce('verify', 'alice'), userId: 'alice', modelId: MODEL, embedding: face(0, 0.3) } });
    await call(verify, { body: { nonce: await nonce('verify', 'alice'), userId: 'alice', modelId: MODEL, embedding: face(2) } });
    await call(verify, { body: { nonce: 'n'.repeat(43), userId: 'alice', modelId: MODEL, embedding: face(0) } });
    await call(identify, { body: { nonce: await nonce('identify'), modelId: MODEL, embedding: face(1, 0.2) } });
    await call(identify, { body: { nonce: await nonce('identify'), modelId: MODEL, embedding: face(2) } });
    const proof = { authorization: `Bearer ${accepted.assertion}` };
    await call(backup, { params: { userId: 'alice' }, body: { nonce: await nonce('backup', 'alice'), modelId: MODEL, templates: [{ embedding: face(0, 0.1), pose: 'left', createdAt: 5 }] } });
    await call(restore, { params: { userId: 'alice' }, headers: proof, body: { nonce: await nonce('restore', 'alice') } });
    // An assertion is proof once: another accepted verify for the export.
    const again = await call(verify, { body: { nonce: await nonce('verify', 'alice'), userId: 'alice', modelId: MODEL, embedding: face(0, 0.3) } });
    await call(exportUser, { params: { userId: 'alice' }, headers: { 'x-face-login-nonce': await nonce('export', 'alice'), authorization: `Bearer ${again.assertion}` } });
    const { attempts } = await call(list, { query: { after: '0', limit: '10' }, headers: { 'x-face-login-admin-key': ADMIN_KEY } });
    await call(label, { params: { id: String(attempts[0].id) }, body: { label: 'genuine' }, headers: { 'x-face-login-admin-key': ADMIN_KEY } });
    await call(list, { headers: { 'x-face-login-admin-key': ADMIN_KEY } });
    await call(deleteUser, { params: { userId: 'bob' }, headers: { 'x-face-login-nonce': await nonce('delete', 'bob'), 'x-face-login-admin-key': ADMIN_KEY } });
    await call(challenge, { body: { action: 'login' } });

    const site = { 'x-face-login-site-key': SITE_KEY };
    for (const [action, userId] of [['enroll', 'carol'], ['verify', 'carol'], ['identify', undefined]] as const) {
      const opened = await call(createSessionRoute, { headers: site, body: { action, ...(userId ? { userId } : {}), siteNonce: `nonce-${action}-0001` } });
      const params = { id: opened.sessionId as string };
      const info = await call(sessionInfoRoute, { params });
      await call(uploadFramesRoute, { params, body: { frames: await rig.frames('carol', info.challenge) } });
      await call(sessionResultRoute, { params, headers: site });
    }
    await call(sessionInfoRoute, { params: { id: 'x'.repeat(43) } });
    await call(siteExportUserRoute, { params: { userId: 'carol' }, headers: site });
    await call(siteUnlockUserRoute, { params: { userId: 'carol' }, headers: site });
    await call(siteDeleteUserRoute, { params: { userId: 'carol' }, headers: site });
    await call(siteDeleteUserRoute, { params: { userId: 'carol' }, headers: {} });
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('the app serves exactly the protocol\'s routes, each under its schemas (OpenAPI included)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, any>> };
    const served = Object.entries(doc.paths)
      .filter(([p]) => p !== '/probe')
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const declared = ALL.filter((r) => r.url !== '/openapi.json').map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(served.sort()).toEqual(declared.sort());
    const json = (s: unknown) => JSON.parse(JSON.stringify(s));
    for (const r of ALL) {
      if (r.url === '/openapi.json') continue;
      const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]![r.method.toLowerCase()];
      expect(op.summary).toBe(r.summary);
      if (r.body) expect(op.requestBody.content['application/json'].schema).toEqual(json(r.body));
      for (const [status, s] of Object.entries(r.response)) {
        if (status === '204') expect(op.responses[status].content).toBeUndefined();
        else expect(op.responses[status].content['application/json'].schema).toEqual(json(s));
      }
      expect(op.responses['4XX'].content['application/json'].schema).toEqual(json(ErrorBody));
    }
  });

  it('saw every route answer, and every answer of the real server fits what it declares', () => {
    expect(ALL.filter((r) => !seen.has(r)).map((r) => r.url)).toEqual([]);
    for (const route of ALL) {
      for (const [part, values] of seen.get(route)!) {
        const schema = part === 'error' ? ErrorBody : part in route.response ? route.response[Number(part)] : route[part as 'body'];
        expect(schema, `${route.url} ${part}`).toBeDefined();
        for (const v of values) {
          if (part === 'body' && route.url === '/v1/challenges' && (v as { action: string }).action === 'login') continue; // sent to be refused
          expect(fits(schema!, v), `${route.method} ${route.url} ${part}: ${JSON.stringify(v).slice(0, 300)}`).toBe(true);
        }
      }
    }
  });

  it('every server error code goes out as the ErrorBody with its status', async () => {
    const probe = await makeSessionApp(tdb.db, clock, fakeRig(rng(8)).examiner);
    probe.get('/throw/:code', async (req) => {
      throw new ApiError((req.params as { code: 'internal' }).code, 'm', { retryAfterSeconds: 2 });
    });
    for (const code of SERVER_ERROR_CODES) {
      const res = await probe.inject({ method: 'GET', url: `/throw/${code}` });
      expect(res.statusCode, code).toBe(SERVER_ERRORS[code].status);
      expect(fits(ErrorBody, res.json()), res.body).toBe(true);
      expect(res.json().error.code).toBe(code);
    }
    await probe.close();
  });

  /** Variants of a JSON value: every node replaced by other types, every key dropped, a key added, strings broken. */
  function* mutations(value: unknown, depth = 0): Generator<unknown> {
    for (const other of [null, true, 0, -1, 1.5, '', 'x', 'a b', [], {}]) if (JSON.stringify(other) !== JSON.stringify(value)) yield other;
    if (typeof value === 'string') {
      yield value + 'x'.repeat(5000);
      yield value.slice(0, 3);
      yield `${value}!`;
      yield value.replace('T', ' ');
    }
    if (typeof value === 'number') {
      yield value + 0.5;
      yield -value - 1;
    }
    if (depth > 4) return;
    if (Array.isArray(value)) {
      if (value.length > 0) yield [];
      yield [...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value, ...value];
      for (let i = 0; i < Math.min(value.length, 2); i++) for (const m of mutations(value[i], depth + 1)) yield value.map((x, j) => (j === i ? m : x));
    } else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      yield { ...o, unexpected: 1 };
      for (const k of Object.keys(o)) {
        const { [k]: _dropped, ...rest } = o;
        yield rest;
        for (const m of mutations(o[k], depth + 1)) yield { ...o, [k]: m };
      }
    }
  }

  it('the page\'s checker and the server\'s validator agree on all of it, and on every mutation', () => {
    let compared = 0;
    let refused = 0;
    for (const route of ALL) {
      if (route === openapiRoute) continue; // any object: a mutation of the whole document tells nothing
      for (const [part, values] of seen.get(route)!) {
        const schema = part === 'error' ? ErrorBody : part in route.response ? route.response[Number(part)]! : route[part as 'body']!;
        for (const v of values) {
          for (const m of [v, ...mutations(v)]) {
            const server = serverCheck(schema, structuredClone(m));
            const page = fits(schema, m);
            expect(page, `${route.method} ${route.url} ${part}: ${JSON.stringify(m).slice(0, 300)} (server: ${server})`).toBe(server);
            compared++;
            if (!page) refused++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(2000);
    expect(refused).toBeGreaterThan(compared / 2);
  }, 30_000);

  it('reads RFC 3339 date-times as the server\'s Ajv does', () => {
    const schema = challengeRoute.response[201];
    const base = { nonce: 'n'.repeat(43) };
    for (const expiresAt of [
      '2026-11-28T12:01:00.000Z',
      '2026-11-28t12:01:00z',
      '2026-11-28 12:01:00Z',
      '2026-11-28T12:01:00+01:00',
      '2026-11-28T12:01:00+0100',
      '2026-11-28T12:01:00',
      '2026-02-29T00:00:00Z',
      '2024-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-11-28T24:00:00Z',
      '2026-12-31T23:59:60Z',
      '2026-12-31T22:59:60-01:00',
      '2026-12-31T12:59:60Z',
      '2026-11-28T12:01:00+24:00',
      '2026-11-28',
      'tomorrow',
    ]) {
      expect(fits(schema, { ...base, expiresAt }), expiresAt).toBe(serverCheck(schema, { ...base, expiresAt }));
    }
  });
});
