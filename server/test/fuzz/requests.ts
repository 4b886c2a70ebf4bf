/**
 * Requests for one protocol route: valid ones built from the route's schemas (with live values from
 * the context: nonces, sessions, enrolled users, assertions), and mutations of them, one dimension
 * at a time: the body (wrong types, missing and unknown fields, `__proto__` / `constructor` keys,
 * numbers JSON cannot or can barely carry, embeddings of the wrong size or content, huge strings,
 * deep nesting, not JSON at all, truncated, duplicate keys, other content types), the path
 * parameters (traversal, NUL, very long, unicode, prototype names, bad percent-encoding), the query
 * string, the headers (keys right / wrong / missing / huge, Origin allowed or not) and the method.
 *
 * Each request says whether the server must refuse it (`mustRefuse`: no 2xx is acceptable) and
 * whether it carries a genuine single-use assertion (whose spending on a refusal is documented).
 * The few facts about a route that its schema does not say (which challenge action its nonce is
 * for) are in NONCE_ACTIONS; a route missing there still gets every schema-driven request.
 */
import { fits } from '../../../src/protocol/check.js';
import type { ChallengeAction, RouteSpec } from '../../../src/protocol/index.js';
import { between, chance, int, pick, weighted, type Rand } from './random.js';
import { jsonTypeOf, valueFor, type Json, type Schema } from './schema-gen.js';

export interface FuzzRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string | Buffer;
  /** The route it was generated for and the mutation applied ('valid' for none). */
  readonly route: string;
  readonly kind: string;
  /** No 2xx is acceptable (the mutation makes the request invalid, or the route is off). */
  readonly mustRefuse: boolean;
  /** It carries a genuine, unspent verify assertion: spending it on a refusal is documented. */
  readonly carriesAssertion: boolean;
  /** How an over-long payload was built (it is printed truncated). */
  readonly note?: string;
  /** The client's address (the per-address lockout counts per address). */
  readonly remoteAddress?: string;
}

export interface LiveSession {
  readonly id: string;
  readonly action: 'enroll' | 'verify' | 'identify';
  readonly userId: string | null;
  readonly challenge: unknown;
  /** The frames that perform the challenge as the session's person, or a still photo. */
  frames(how: 'perform' | 'still'): { jpeg: string; t: number }[];
}

/** What the generators need from the app under test (test/fuzz.test.ts implements it). */
export interface FuzzContext {
  readonly name: string;
  readonly deviceRoutes: boolean;
  readonly sessionRoutes: boolean;
  readonly adminKey: string;
  readonly siteKey: string;
  readonly allowedOrigin: string;
  readonly modelId: string;
  readonly otherModelId: string;
  readonly embeddingSize: number;
  /** Users with templates (enrolled at setup), and a face for each. */
  readonly users: readonly string[];
  /**
   * The users that strangers' faces are tried against (verify rejects, failed same-face checks,
   * failed liveness): they get locked out and disabled, as they should; the other users only ever
   * see their own face, so that they stay usable for the whole run (assertions, restores).
   */
  readonly victims: readonly string[];
  faceOf(user: string): number[];
  /** The same person's face with noise (accepted at the threshold). */
  probeOf(user: string): number[];
  stranger(): number[];
  /** A fresh nonce for action and user (null where the device routes are off). */
  freshNonce(action: ChallengeAction, userId: string | null): Promise<string | null>;
  /** A fresh session (null where sessions are off). */
  freshSession(): Promise<LiveSession | null>;
  /** A genuine verify assertion for `user` (single use), or null when none is at hand. */
  takeAssertion(user: string): string | null;
  /** An identify assertion (never proof). */
  identifyAssertion(): string | null;
  /** Ids of stored attempts (the admin label route). */
  attemptIds(): number[];
}

/** The challenge action a route's nonce is for, and the user it is bound to. */
const NONCE_ACTIONS: Record<string, (body: any, params: Record<string, string>) => [ChallengeAction, string | null]> = {
  'POST /v1/enroll': (b) => ['enroll', b?.userId ?? null],
  'POST /v1/verify': (b) => ['verify', b?.userId ?? null],
  'POST /v1/identify': () => ['identify', null],
  'PUT /v1/backup/:userId': (_b, p) => ['backup', p.userId ?? null],
  'POST /v1/restore/:userId': (_b, p) => ['restore', p.userId ?? null],
  'DELETE /v1/users/:userId': (_b, p) => ['delete', p.userId ?? null],
  'GET /v1/users/:userId/export': (_b, p) => ['export', p.userId ?? null],
};

export const routeKey = (route: RouteSpec): string => `${route.method} ${route.url}`;

/** Path segments an attacker tries; `valid` when the decoded value could still fit a user id. */
const PATH_TRICKS: readonly string[] = [
  '..%2f..%2fv1%2fhealth',
  '..%2F..%2Fadmin%2Fattempts',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '..%5c..%5c',
  '%00',
  'alice%00',
  'alice%00.json',
  '%252e%252e%252f',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%C3%BC',
  '%E2%80%AE',
  '%EF%BB%BF',
  'a%2Fb',
  'a%20b',
  '%0d%0aSet-Cookie:%20x=1',
  '%3Cscript%3E',
  '%3F',
  '%23',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '__defineGetter__',
  'valueOf',
  '%5F%5Fproto%5F%5F',
  '0',
  '-1',
  '1e999',
  '9999999999999999999999',
  'null',
  'undefined',
  'NaN',
  '...',
  '.',
  '+',
  ':',
  '@',
  'a:b@c+d.e_f-g',
  '*',
];

const LONG_IDS = [129, 1000, 10_000];

/** Values of every JSON type but `type` (a wrong type for a field of that type). */
function wrongTypeValues(type: string | undefined): Json[] {
  const all: Record<string, Json[]> = {
    string: ['', 'x', '1', 'true', 'null', '__proto__'],
    number: [0, -1, 1.5, 1e21, -0],
    boolean: [true, false],
    null: [null],
    array: [[], [1], ['a'], [null], [[]]],
    object: [{}, { a: 1 }, { __proto__x: 1 }],
  };
  return Object.entries(all)
    .filter(([t]) => t !== type)
    .flatMap(([, vs]) => vs);
}

/** Paths of the values in `v` (JSON Pointer-ish), with the schema each was made for. */
function leaves(v: Json, s: Schema, path: string[] = []): { path: string[]; schema: Schema }[] {
  const out: { path: string[]; schema: Schema }[] = [{ path, schema: s }];
  if (Array.isArray(v)) {
    const items = s.items ?? {};
    v.forEach((x, i) => {
      if (i < 3) out.push(...leaves(x, items, [...path, String(i)]));
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const ps = s.properties?.[k] ?? {};
      out.push(...leaves(x, ps, [...path, k]));
    }
  }
  return out;
}

function getAt(v: Json, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(k)] : cur[k];
  }
  return cur;
}

function setAt(v: Json, path: readonly string[], value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const clone: Json = structuredClone(v);
  let cur: any = clone;
  for (const k of path.slice(0, -1)) cur = cur[Array.isArray(cur) ? Number(k) : k];
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else if (Array.isArray(cur)) cur[Number(last)] = value;
  else cur[last] = value;
  return clone;
}

/** A JSON text with `raw` spliced in for the value at `path` (numbers JSON.stringify cannot write). */
function withRaw(v: Json, path: readonly string[], raw: string): string {
  const marker = '__FUZZ_RAW_VALUE__';
  return JSON.stringify(setAt(v, path, marker)).replace(`"${marker}"`, () => raw);
}

export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
export function deepObject(depth: number, key = 'a'): string {
  return `{"${key}":`.repeat(depth) + '{}' + '}'.repeat(depth);
}

const CONTENT_TYPES: readonly (readonly [string | null, boolean])[] = [
  // [content-type (null: none), the server must refuse it]
  ['text/plain', true],
  ['text/plain; charset=utf-8', true],
  ['application/x-www-form-urlencoded', true],
  ['multipart/form-data; boundary=xyz', true],
  ['application/xml', true],
  ['application/jsonx', true],
  ['application/octet-stream', true],
  [null, true],
  ['', true],
  ['application/json; charset=utf-8', false],
  ['application/json;charset=UTF-8', false],
  ['APPLICATION/JSON', false],
  ['application/json; charset=latin1', false],
  ['application/json; charset=utf-16le', false],
  ['application/json, text/plain', false],
  ['application/vnd.api+json', false],
  ['application/json-patch+json', false],
  ['*/*', false],
  ['application/json; boundary=' + 'x'.repeat(2000), false],
];

/** Header values worth trying for a key header. */
function keyVariants(right: string): readonly (readonly [string, string | undefined, boolean])[] {
  // [name, value (undefined: absent), wrong]
  return [
    ['right', right, false],
    ['missing', undefined, true],
    ['wrong', right.slice(0, -1) + (right.endsWith('x') ? 'y' : 'x'), true],
    ['prefix', right.slice(0, 8), true],
    ['padded', ` ${right} `, false], // HTTP strips optional whitespace around a header value
    ['doubled', right + right, true],
    ['empty', '', true],
    ['huge', 'k'.repeat(513), true],
    ['huge-100k', 'k'.repeat(100_000), true],
    ['unicode', right.slice(0, -1) + 'é', true],
    ['nul', right + '\u0000', true],
  ];
}

export interface Generated {
  readonly req: FuzzRequest;
}

/** One request for `route`: valid (from its schemas and the context) or with one mutation. */
export async function generate(r: Rand, route: RouteSpec, ctx: FuzzContext, allRoutes: readonly RouteSpec[]): Promise<FuzzRequest> {
  const key = routeKey(route);
  const isDevice = NONCE_ACTIONS[key] !== undefined || route.url === '/v1/challenges';
  const isSession = route.url.startsWith('/v1/sessions') || route.url.startsWith('/v1/site/');
  const routeOff = (isDevice && !ctx.deviceRoutes) || (isSession && !ctx.sessionRoutes);

  const dims: [number, string][] = [
    [3, 'valid'],
    [route.body ? 6 : 1, 'body'],
    [route.params ? 2.5 : 1, 'path'],
    [route.querystring ? 2 : 0.7, 'query'],
    [2.5, 'header'],
    [0.6, 'method'],
  ];
  const dim = weighted(r, dims);

  // ----- valid parts -----
  let session: LiveSession | null = null;
  const needsSession = route.params?.properties?.id !== undefined && route.url.includes('/sessions/');
  // Most requests get live values; some keep the schema's random ones (unknown nonce / session).
  // (A body mutation is mostly refused by validation before its nonce is read: fewer live ones there.)
  const live = chance(r, dim === 'valid' ? 0.9 : dim === 'body' ? 0.35 : 0.6);
  if (needsSession && live) session = await ctx.freshSession();

  // A user with data, or a new id; some new ids are as long as the protocol allows (128) and use its punctuation.
  const idChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+:-';
  const longId = (): string => `fz-${Array.from({ length: between(r, 97, 125) }, () => idChars[int(r, idChars.length)]!).join('')}`;
  const user = chance(r, 0.7) && ctx.users.length > 0 ? pick(r, ctx.users) : chance(r, 0.15) ? longId() : `fz-${int(r, 1e9).toString(36)}`;
  const newUser = !ctx.users.includes(user);
  const override = (k: string | null, path: string, s: Schema): Json | undefined => {
    if (k === 'embedding') {
      if (newUser || route.url === '/v1/identify') return chance(r, 0.6) && !newUser ? ctx.probeOf(user) : ctx.stranger();
      return ctx.victims.includes(user) && chance(r, 0.5) ? ctx.stranger() : ctx.probeOf(user);
    }
    if (k === 'modelId') return chance(r, 0.9) ? ctx.modelId : ctx.otherModelId;
    if (k === 'userId') return user;
    if (k === 'frames' && session) return session.frames(chance(r, 0.8) ? 'perform' : 'still');
    if (k === 'id' && path === '/id' && route.url.includes('/sessions/') && session) return session.id;
    if (k === 'id' && path === '/id' && route.url.startsWith('/v1/admin/attempts/')) {
      const ids = ctx.attemptIds();
      if (ids.length > 0 && chance(r, 0.8)) return String(pick(r, ids));
    }
    if (k === 'createdAt') return 1_700_000_000_000 + int(r, 1e9);
    if (k === 'after' && s.pattern) return chance(r, 0.5) ? '0' : String(int(r, 50));
    if (k === 'limit' && s.pattern) return String(between(r, 1, 1000));
    return undefined;
  };

  let params: Record<string, string> = {};
  if (route.params) params = valueFor(r, route.params as Schema, override) as Record<string, string>;
  let body: Json | undefined = route.body ? valueFor(r, route.body as Schema, override) : undefined;
  // A challenge / session names a user unless it is for identify.
  if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.action === 'string' && route.body && (route.body as Schema).properties?.userId) {
    if (body.action === 'identify') delete body.userId;
    else if (chance(r, 0.95)) body.userId = user;
  }
  let query: Record<string, string> = {};
  if (route.querystring) query = valueFor(r, route.querystring as Schema, override) as Record<string, string>;

  const headers: Record<string, string> = {};
  let carriesAssertion = false;
  const headerProps = (route.headers as Schema | undefined)?.properties ?? {};
  const subject = params.userId ?? (body && typeof body === 'object' && !Array.isArray(body) && typeof body.userId === 'string' ? body.userId : user);
  if ('x-face-login-site-key' in headerProps && chance(r, 0.9)) headers['x-face-login-site-key'] = ctx.siteKey;
  if (route.url.startsWith('/v1/admin/') && chance(r, 0.9)) headers['x-face-login-admin-key'] = ctx.adminKey;
  else if ('x-face-login-admin-key' in headerProps && chance(r, 0.3)) headers['x-face-login-admin-key'] = ctx.adminKey;
  if ('authorization' in headerProps && headers['x-face-login-admin-key'] === undefined && chance(r, 0.35)) {
    const a = ctx.takeAssertion(subject);
    if (a) {
      headers.authorization = `Bearer ${a}`;
      carriesAssertion = true;
    }
  }

  // The nonce, bound to what the request asks for.
  const bind = NONCE_ACTIONS[key];
  let nonce: string | null = null;
  if (bind && live) {
    const [action, uid] = bind(body, params);
    nonce = await ctx.freshNonce(action, uid);
  }
  if (nonce !== null) {
    if (body && typeof body === 'object' && !Array.isArray(body) && 'nonce' in body) body.nonce = nonce;
    if ('x-face-login-nonce' in headerProps) headers['x-face-login-nonce'] = nonce;
  } else if ('x-face-login-nonce' in headerProps) {
    headers['x-face-login-nonce'] = valueFor(r, headerProps['x-face-login-nonce']!) as string;
  }
  if (chance(r, 0.1)) headers.origin = ctx.allowedOrigin;
  if (chance(r, 0.05)) headers['user-agent'] = pick(r, ['fuzz/1', 'ü'.repeat(300), 'x'.repeat(5000)]);
  if (chance(r, 0.03)) headers['x-forwarded-for'] = pick(r, ['1.2.3.4', 'garbage', '::1, 10.0.0.1']);

  // ----- one mutation -----
  let method: string = route.method;
  let kind = 'valid';
  let mustRefuse = routeOff;
  let note: string | undefined;
  let payload: string | Buffer | undefined = body === undefined ? undefined : JSON.stringify(body);
  let contentType: string | null = payload === undefined ? null : 'application/json';
  let rawPath: Record<string, string> | null = null;
  let urlOverride: string | null = null;
  let rawQuery: string | null = null;

  const bodySchema = route.body as Schema | undefined;
  if (dim === 'body' && body !== undefined && bodySchema) {
    const sub = pick(r, [
      'wrong-type',
      'missing',
      'extra-key',
      'proto-key',
      'special-number',
      'embedding',
      'embedding',
      'huge-string',
      'deep',
      'not-json',
      'truncated',
      'empty',
      'root',
      'duplicate-key',
      'content-type',
      'bom',
      'bytes',
    ] as const);
    kind = `body:${sub}`;
    const all = leaves(body, bodySchema);
    const inner = all.filter((l) => l.path.length > 0);
    switch (sub) {
      case 'wrong-type': {
        const l = pick(r, inner.length ? inner : all);
        const t = jsonTypeOf(l.schema);
        const v = pick(r, wrongTypeValues(t));
        payload = JSON.stringify(setAt(body, l.path, v));
        kind += `@${l.path.join('.')}`;
        // Refused unless the value happens to fit the schema anyway (e.g. another string of a free-form field).
        mustRefuse ||= !fits(bodySchema as any, setAt(body, l.path, v));
        break;
      }
      case 'missing': {
        const req = inner.filter((l) => {
          const parent = l.path.slice(0, -1);
          const ps = parent.reduce<Schema | undefined>((s, k) => (s?.type === 'array' ? s.items : s?.properties?.[k]), bodySchema);
          return ps?.required?.includes(l.path[l.path.length - 1]!) ?? false;
        });
        const l = req.length ? pick(r, req) : pick(r, inner.length ? inner : all);
        const v = setAt(body, l.path, undefined);
        payload = JSON.stringify(v);
        kind += `@${l.path.join('.')}`;
        mustRefuse ||= !fits(bodySchema as any, v);
        break;
      }
      case 'extra-key':
      case 'proto-key': {
        const objs = all.filter((l) => {
          const v = getAt(body!, l.path);
          return v !== null && typeof v === 'object' && !Array.isArray(v);
        });
        const l = pick(r, objs);
        const k =
          sub === 'proto-key'
            ? pick(r, ['__proto__', 'constructor', 'prototype', '__proto__', '\\u005f_proto__'])
            : pick(r, ['extra', '', ' ', 'ü', '😀', '\u0000', 'toString', 'hasOwnProperty', 'x'.repeat(10_000), 'nonce ', 'NONCE']);
        const value: string = pick(r, ['1', '"x"', 'null', '{}', '{"prototype":{"isAdmin":true}}', '{"isAdmin":true}', '[]']);
        // Splice the key in as text, so that `__proto__` is a real own key in the JSON (not a prototype change here).
        const obj = getAt(body, l.path) as Record<string, Json>;
        const text = JSON.stringify(obj);
        const spliced = text === '{}' ? `{"${k}":${value}}` : `{"${k}":${value},${text.slice(1)}`;
        payload = withRaw(body, l.path, spliced);
        kind += `@${l.path.join('.') || '<root>'}:${k.slice(0, 16)}`;
        mustRefuse = true; // every request object is closed (additionalProperties: false), and __proto__ / constructor.prototype keys are refused by the JSON parser
        break;
      }
      case 'special-number': {
        const nums = all.filter((l) => jsonTypeOf(l.schema) === 'number' || typeof getAt(body!, l.path) === 'number');
        const l = nums.length ? pick(r, nums) : pick(r, inner.length ? inner : all);
        const [raw, invalidJson] = pick(r, [
          ['NaN', true],
          ['Infinity', true],
          ['-Infinity', true],
          ['+1', true],
          ['.5', true],
          ['01', true],
          ['0x10', true],
          ['1e999', false],
          ['-1e999', false],
          ['1e308', false],
          ['-1e308', false],
          ['-0', false],
          ['5e-324', false],
          ['1e-400', false],
          ['123456789012345678901234567890', false],
          ['1.0000000000000000000000001', false],
          ['0.0', false],
        ] as const);
        payload = withRaw(body, l.path, raw);
        kind += `@${l.path.join('.')}:${raw}`;
        if (invalidJson) mustRefuse = true;
        else mustRefuse ||= !fits(bodySchema as any, setAt(body, l.path, JSON.parse(raw) as number));
        break;
      }
      case 'embedding': {
        const embs = all.filter((l) => l.path[l.path.length - 1] === 'embedding');
        if (embs.length === 0) {
          payload = JSON.stringify({ ...(body as object), embedding: ctx.stranger() });
          kind += ':not-a-field';
          mustRefuse = true;
          break;
        }
        const l = pick(r, embs);
        const n = ctx.embeddingSize;
        const variants: [string, () => string][] = [
          ['length-0', () => '[]'],
          ['length-1', () => '[1]'],
          ['length-short', () => JSON.stringify(ctx.stranger().slice(0, n - 1))],
          ['length-long', () => JSON.stringify([...ctx.stranger(), 0.1])],
          ['length-2048', () => JSON.stringify(Array.from({ length: 2048 }, () => r() - 0.5))],
          ['length-2049', () => JSON.stringify(Array.from({ length: 2049 }, () => r() - 0.5))],
          ['length-20000', () => JSON.stringify(Array.from({ length: 20_000 }, () => 0.5))],
          ['zeros', () => JSON.stringify(Array.from({ length: n }, () => 0))],
          ['minus-zeros', () => `[${Array.from({ length: n }, () => '-0').join(',')}]`],
          ['strings', () => JSON.stringify(ctx.stranger().map(String))],
          ['one-string', () => JSON.stringify(ctx.stranger().map((x, i) => (i === 7 ? String(x) : x)))],
          ['nulls', () => JSON.stringify(Array.from({ length: n }, () => null))],
          ['one-null', () => JSON.stringify(ctx.stranger().map((x, i) => (i === n - 1 ? null : x)))],
          ['booleans', () => JSON.stringify(Array.from({ length: n }, () => true))],
          ['nested', () => JSON.stringify(ctx.stranger().map((x) => [x]))],
          ['objects', () => JSON.stringify(ctx.stranger().map((x) => ({ x })))],
          ['huge', () => `[${Array.from({ length: n }, () => '1e200').join(',')}]`],
          ['one-inf', () => `[${ctx.stranger().map((x, i) => (i === 3 ? '1e999' : String(x))).join(',')}]`],
          ['denormal', () => `[${Array.from({ length: n }, () => '5e-324').join(',')}]`],
          ['underflow', () => `[${Array.from({ length: n }, () => '1e-200').join(',')}]`], // squares underflow to 0: a zero norm
          ['nan-token', () => `[${Array.from({ length: n }, () => 'NaN').join(',')}]`],
          ['string', () => '"0.1,0.2"'],
          ['object', () => '{"0":0.1,"length":192}'],
          ['number', () => '0.5'],
        ];
        const [vname, make] = pick(r, variants);
        payload = withRaw(body, l.path, make());
        kind += `:${vname}`;
        mustRefuse = true; // wrong size, not numbers, zero / non-finite norm or unrepresentable: all invalid-embedding / invalid-body
        break;
      }
      case 'huge-string': {
        const strs = all.filter((l) => typeof getAt(body!, l.path) === 'string' || jsonTypeOf(l.schema) === 'string');
        const l = strs.length ? pick(r, strs) : pick(r, all);
        const max = l.schema.maxLength;
        const len = pick(r, [max !== undefined ? max + 1 : 70_000, 70_000, 300_000, 600_000]);
        const ch = pick(r, ['A', 'é', '😀', '\\u0000', '"', '\\\\']);
        // Escapes (\u0000, \", \\) decode to one character each: `len` of them is a string of `len` characters.
        const s = ch.startsWith('\\') || ch === '"' ? `"${(ch === '"' ? '\\"' : ch).repeat(len)}"` : JSON.stringify(ch.repeat(len));
        payload = withRaw(body, l.path, s);
        kind += `@${l.path.join('.')}:${len}`;
        note = `body with a ${len}-character string (${JSON.stringify(ch)}) at ${l.path.join('.')}`;
        mustRefuse ||= (max !== undefined && len > max) || jsonTypeOf(l.schema) !== 'string';
        break;
      }
      case 'deep': {
        const depth = pick(r, [1_000, 10_000, 10_000, 100_000]);
        const nest = chance(r, 0.5) ? deepArray(depth) : deepObject(depth, pick(r, ['a', 'embedding', '__proto__', 'constructor']));
        if (chance(r, 0.4)) {
          payload = nest;
          kind += `:root-${depth}`;
        } else {
          const l = pick(r, inner.length ? inner : all);
          payload = withRaw(body, l.path, nest);
          kind += `@${l.path.join('.')}:${depth}`;
        }
        note = `nesting of depth ${depth}`;
        mustRefuse = true;
        break;
      }
      case 'not-json': {
        payload = pick(r, ['hello', '<xml/>', "{'a':1}", '{a:1}', '{"a":1,}', '[1,2,]', '{"a" 1}', 'undefined', '{"a":1}{"b":2}', '\u0000', 'nonce=abc&userId=x', '{"a":"\\x41"}', '{"a":"\\uD800"}', '{"a":"\ud800"}', '/*c*/{}']);
        mustRefuse = true;
        break;
      }
      case 'truncated': {
        const text = JSON.stringify(body);
        payload = text.slice(0, int(r, Math.max(1, text.length - 1)));
        mustRefuse = true;
        break;
      }
      case 'empty': {
        payload = pick(r, ['', ' ', '\n', '\t\r\n ']);
        mustRefuse = true;
        break;
      }
      case 'root': {
        payload = pick(r, ['null', '[]', '[{}]', '1', '-0', '"x"', 'true', '{}', JSON.stringify([body])]);
        mustRefuse = true;
        break;
      }
      case 'duplicate-key': {
        const text = JSON.stringify(body);
        const l = pick(r, inner.filter((x) => x.path.length === 1).length ? inner.filter((x) => x.path.length === 1) : all);
        const k = l.path[0] ?? 'nonce';
        const other = pick(r, ['"dup"', '1', 'null', '{}', JSON.stringify(getAt(body, [k]) ?? null)]);
        // The duplicate first (so that JSON.parse keeps the valid value, the last one) or last.
        payload = chance(r, 0.5) ? `{"${k}":${other},${text.slice(1)}` : `${text.slice(0, -1)},"${k}":${other}}`;
        kind += `@${k}`;
        let parsed: unknown;
        try {
          parsed = JSON.parse(payload);
        } catch {
          parsed = undefined;
        }
        mustRefuse ||= parsed === undefined || !fits(bodySchema as any, parsed);
        break;
      }
      case 'content-type': {
        const [ct, refuse] = pick(r, CONTENT_TYPES);
        contentType = ct;
        kind += `:${ct === null ? 'none' : ct.slice(0, 40)}`;
        if (refuse) mustRefuse = true;
        break;
      }
      case 'bom': {
        payload = '\ufeff' + JSON.stringify(body);
        break;
      }
      case 'bytes': {
        const n = pick(r, [1, 16, 1024, 300_000]);
        const bytes = Buffer.alloc(n);
        for (let i = 0; i < n; i++) bytes[i] = int(r, 256);
        if (chance(r, 0.5)) bytes[0] = 0x7b; // '{'
        payload = chance(r, 0.3) ? Buffer.concat([Buffer.from(JSON.stringify(body).slice(0, -1) + ',"x":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]) : bytes;
        note = `${payload.length} random / invalid UTF-8 bytes`;
        mustRefuse = true;
        break;
      }
    }
  } else if (dim === 'body') {
    // A route with no body schema gets one anyway (ignored, or refused as not JSON).
    kind = 'body:unexpected';
    const sub = pick(r, ['json', 'garbage', 'deep', 'huge', 'proto'] as const);
    kind += `:${sub}`;
    payload =
      sub === 'json'
        ? '{"a":1}'
        : sub === 'garbage'
          ? 'not json'
          : sub === 'deep'
            ? deepArray(10_000)
            : sub === 'proto'
              ? '{"__proto__":{"isAdmin":true}}'
              : JSON.stringify({ a: 'x'.repeat(300_000) });
    contentType = chance(r, 0.8) ? 'application/json' : 'text/plain';
    if (sub === 'huge') note = '300 KB JSON body';
    // A GET / DELETE with a body: may be ignored; a DELETE that parses one may refuse it.
  } else if (dim === 'path') {
    kind = 'path';
    const names = Object.keys(params);
    if (names.length > 0) {
      const name = pick(r, names);
      const long = chance(r, 0.15);
      const trick = long ? pick(r, ['a', '%41', 'é', '😀']).repeat(pick(r, LONG_IDS)) : pick(r, PATH_TRICKS);
      rawPath = { ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeURIComponent(v)])), [name]: trick };
      kind += `:${name}=${trick.slice(0, 24)}${trick.length > 24 ? `…(${trick.length})` : ''}`;
      let decoded: string | null;
      try {
        decoded = decodeURIComponent(trick);
      } catch {
        decoded = null;
      }
      // Literal '.' / '..' segments may be resolved by the URL parser (to another, valid route).
      const dotSegment = trick === '.' || trick === '..' || trick === '...';
      mustRefuse ||= !dotSegment && (decoded === null || !fits(route.params as any, { ...params, [name]: decoded }));
    } else {
      const tricks: [string, boolean][] = [
        [route.url + '/', true],
        [route.url.replace('/v1/', '//v1/'), true],
        [route.url.replace('/v1/', '/v1//'), true],
        [route.url.toUpperCase(), true],
        [route.url.replace('/v1/', '/v2/'), true],
        [route.url.replace('/v1/', '/v1/./'), false],
        [route.url.replace('/v1/', '/v1/x/../'), false],
        [route.url.replace('/v1/', '/v1/%2e%2e/v1/'), false], // the WHATWG URL parser (inject's) resolves %2e%2e as '..'
        [route.url.replace('/v1/', '/v1/%2e%2f/'), true],
        [route.url + '%00', true],
        [route.url + '%2f', true],
        [route.url + ';jsessionid=1', true],
        [route.url + '#frag', false],
        [route.url + '%', true],
        [route.url.replace(/\/$/, '') + '/' + 'a'.repeat(10_000), true],
        [route.url.replace('/v1/', '/v1/%E0%A4%A/'), true],
        ['/' + 'x'.repeat(100_000), true],
        ['/__proto__', true],
        ['/v1/constructor', true],
        ['*', true],
      ];
      const [u, refuse] = pick(r, tricks);
      urlOverride = u;
      kind += `:${u.slice(0, 40)}`;
      mustRefuse ||= refuse && u !== route.url;
    }
  } else if (dim === 'query') {
    const sub = pick(r, ['extra', 'proto', 'array', 'huge', 'bad-percent', 'values', 'many'] as const);
    kind = `query:${sub}`;
    const closed = route.querystring !== undefined;
    const base = new URLSearchParams(query).toString();
    const add = (s: string): string => (base ? `${base}&${s}` : s);
    switch (sub) {
      case 'extra':
        rawQuery = add('extra=1');
        mustRefuse ||= closed;
        break;
      case 'proto':
        rawQuery = add(pick(r, ['__proto__=1', '__proto__[x]=1', 'constructor[prototype][x]=1', 'constructor=1', 'hasOwnProperty=1', 'toString=x']));
        mustRefuse ||= closed;
        break;
      case 'array':
        rawQuery = closed ? Object.keys((route.querystring as Schema).properties ?? {}).map((k) => `${k}=1&${k}=2`).join('&') : 'a=1&a=2&a[]=3';
        mustRefuse ||= closed;
        break;
      case 'huge':
        rawQuery = add(`q=${'x'.repeat(pick(r, [10_000, 200_000]))}`);
        mustRefuse ||= closed;
        note = 'long query string';
        break;
      case 'bad-percent':
        rawQuery = pick(r, ['%', 'a=%zz', 'a=%E0%A4%A', '%00=1', 'after=%00', 'limit=1%00', 'after=-1', '&&&', '=', 'after=&limit=']);
        mustRefuse ||= closed && !['&&&'].includes(rawQuery);
        break;
      case 'values': {
        if (closed) {
          const k = pick(r, Object.keys((route.querystring as Schema).properties ?? {}));
          const v = pick(r, ['0', '-1', '1e3', '1.5', '99999', '00001', '10000000000000000', 'abc', '', ' 1', '١٢', 'NaN', 'Infinity', '0x10']);
          rawQuery = new URLSearchParams({ ...query, [k]: v }).toString();
          kind += `:${k}=${v}`;
          mustRefuse ||= !fits(route.querystring as any, { ...query, [k]: v });
        } else rawQuery = add('limit=-1&after=abc');
        break;
      }
      case 'many':
        rawQuery = Array.from({ length: 2000 }, (_v, i) => `k${i}=${i}`).join('&');
        mustRefuse ||= closed;
        break;
    }
  } else if (dim === 'header') {
    const targets = ['origin', 'content-type', ...Object.keys(headerProps), 'x-face-login-admin-key', 'x-face-login-site-key', 'authorization'];
    const h = pick(r, targets);
    kind = `header:${h}`;
    const inSchema = h in headerProps || (h === 'x-face-login-admin-key' && route.url.startsWith('/v1/admin/'));
    if (h === 'origin') {
      const [name, value, refuse] = pick(r, [
        ['allowed', ctx.allowedOrigin, false],
        ['other', 'https://evil.example', true],
        ['null', 'null', true],
        ['empty', '', true],
        ['case', ctx.allowedOrigin.toUpperCase(), true],
        ['suffix', ctx.allowedOrigin + '.evil.example', true],
        ['huge', 'https://' + 'a'.repeat(100_000) + '.example', true],
      ] as const);
      headers.origin = value;
      kind += `:${name}`;
      if (refuse) mustRefuse = true;
    } else if (h === 'content-type') {
      if (payload === undefined) payload = '{}';
      const [ct, refuse] = pick(r, CONTENT_TYPES);
      contentType = ct;
      kind += `:${ct === null ? 'none' : ct.slice(0, 40)}`;
      if (refuse && route.body) mustRefuse = true;
    } else if (h === 'authorization') {
      const a = ctx.takeAssertion(subject);
      const tamper = (s: string): string => {
        const i = s.length - 5;
        return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      };
      const [name, value] = pick(r, [
        ['genuine-lowercase', a ? `bearer ${a}` : 'bearer a.b.c'],
        ['tampered', a ? `Bearer ${tamper(a)}` : 'Bearer a.b.c'],
        ['identify', `Bearer ${ctx.identifyAssertion() ?? 'a.b.c'}`],
        ['garbage', 'Bearer a.b.c'],
        ['no-scheme', a ?? 'abc'],
        ['bearer-only', 'Bearer'],
        ['basic', 'Basic YWRtaW46YWRtaW4='],
        ['two', a ? `Bearer ${a} ${a}` : 'Bearer a b'],
        ['huge', `Bearer ${'a'.repeat(5000)}.b.c`],
        ['huge-100k', `Bearer ${'a'.repeat(100_000)}`],
        ['none-alg', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.'],
        ['empty', ''],
      ] as const);
      headers.authorization = value;
      delete headers['x-face-login-admin-key'];
      kind += `:${name}`;
      carriesAssertion = a !== null && name === 'genuine-lowercase';
      if (inSchema && name !== 'genuine-lowercase') mustRefuse = true;
    } else {
      const right = h === 'x-face-login-site-key' ? ctx.siteKey : h === 'x-face-login-admin-key' ? ctx.adminKey : (headers[h] ?? 'x'.repeat(43));
      const variants = h === 'x-face-login-nonce' ? [['random', 'A'.repeat(43), true], ['short', 'abc', true], ['missing', undefined, true], ['huge', 'A'.repeat(5000), true], ['bad-chars', 'a b c d e f g h i j k l', true]] as const : keyVariants(right);
      const [name, value, wrong] = pick(r, variants);
      if (value === undefined) delete headers[h];
      else headers[h] = value;
      kind += `:${name}`;
      // Absent, a header is refused only where the route needs it: the site key on the site's routes, the admin key on the admin's, the nonce header.
      const needed = h === 'x-face-login-nonce' || (h === 'x-face-login-site-key' && h in headerProps) || (h === 'x-face-login-admin-key' && route.url.startsWith('/v1/admin/'));
      if (wrong && inSchema && (value !== undefined || needed)) mustRefuse = true;
      // A wrong admin key is refused wherever the route reads the proof headers.
      if (wrong && h === 'x-face-login-admin-key' && value !== undefined && 'x-face-login-admin-key' in headerProps) mustRefuse = true;
      if (h === 'x-face-login-admin-key') delete headers.authorization;
    }
  } else if (dim === 'method') {
    method = pick(r, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].filter((m) => m !== route.method));
    kind = `method:${method}`;
    const other = allRoutes.some((x) => x.url === route.url && x.method === method) || (method === 'HEAD' && allRoutes.some((x) => x.url === route.url && x.method === 'GET'));
    if (!other) mustRefuse = true;
    // A CORS preflight from an allowed origin is answered (204) on any path, the route on or off.
    if (method === 'OPTIONS') mustRefuse = false;
    if (method === 'GET' || method === 'HEAD') payload = undefined;
  }

  // ----- the request -----
  const filled = urlOverride ?? route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, n: string) => (rawPath ? rawPath[n]! : encodeURIComponent(params[n] ?? '')));
  const qs = rawQuery ?? (Object.keys(query).length ? new URLSearchParams(query).toString() : '');
  const url = qs ? `${filled}?${qs}` : filled;
  if (payload !== undefined && contentType !== null) headers['content-type'] = contentType;
  if (payload === undefined) delete headers['content-type'];
  if (method === 'GET' || method === 'HEAD') payload = undefined;
  // Clients come from many addresses (a few share one), so that the per-address lockout stays a part of the run, not all of it.
  const remoteAddress = chance(r, 0.05) ? pick(r, ['::1', '2001:db8::1', '::ffff:10.0.0.1']) : `10.${int(r, 4)}.${int(r, 16)}.${1 + int(r, 250)}`;
  return { method, url, headers, ...(payload !== undefined ? { payload } : {}), route: key, kind, mustRefuse, carriesAssertion, ...(note ? { note } : {}), remoteAddress };
}
