/**
 * The site's backend talking to the verification server (main mode): open a session for one
 * action, hand its id to the page, read the result; delete or export a user. Every answer is
 * checked against the protocol's schema before it is returned, and every refusal is a
 * FaceLoginServerError with the server's stable code. Runs anywhere with `fetch` (Node >= 20,
 * Deno, Bun, workers); never in a page: the site key must stay on the server.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { fits } from '../protocol/check.js';
import { ErrorBody, type ServerErrorCode } from '../protocol/errors.js';
import { pathOf, type RouteSpec } from '../protocol/route.js';
import { keysRoute, type Jwks } from '../protocol/routes/meta.js';
import { createSessionRoute, sessionResultRoute, type SessionAction, type SessionChallenge } from '../protocol/routes/sessions.js';
import { siteDeleteUserRoute, siteExportUserRoute, siteUnlockUserRoute } from '../protocol/routes/users.js';
import type { KeySource } from './assertion.js';

/** What the client needs of `fetch` (the global one fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ readonly status: number; readonly headers: { get(name: string): string | null }; text(): Promise<string> }>;

/**
 * A refusal: `code` is the server's stable code (`unauthorized`, `invalid-session`,
 * `sessions-disabled`, `rate-limited`, `unknown-user`, ...; a newer server's code comes through as
 * it is), or the client's own: `unreachable` (no answer: network, timeout; status 0) and
 * `invalid-response` (an answer that does not fit the protocol: a proxy's page, garbage, a field
 * that should not be there).
 */
export class FaceLoginServerError extends Error {
  override readonly name = 'FaceLoginServerError';
  constructor(
    readonly code: ServerErrorCode | 'unreachable' | 'invalid-response' | (string & {}),
    /** The HTTP status; 0 when there was no answer. */
    readonly status: number,
    message: string,
    /** locked-out, rate-limited, overloaded: when to try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface FaceLoginSiteClientOptions {
  /** The verification server, e.g. https://face.example.com (a trailing slash is fine). */
  readonly serverUrl: string;
  /** One of the server's FACE_LOGIN_SITE_KEYS. */
  readonly siteKey: string;
  /** Default: the global fetch. */
  readonly fetch?: FetchLike;
  /** Per request (default 15 000 ms). */
  readonly timeoutMs?: number;
}

export interface OpenSessionInput {
  readonly action: SessionAction;
  /** The user (your own id for them) for enroll and verify; none for identify. */
  readonly userId?: string;
  /** Your own nonce (8-256 printable ASCII characters), echoed in the result: bind it to the login you are running. */
  readonly siteNonce: string;
}

export type OpenedSession = Static<(typeof createSessionRoute.response)[201]>;
/** A session's result: `state` pending / done / refused / expired; once done, `decision` and `liveness` (never a score). */
export type SessionResult = Static<(typeof sessionResultRoute.response)[200]>;
export type UserExport = Static<(typeof siteExportUserRoute.response)[200]>;
export type { Jwks, SessionAction, SessionChallenge };

/** The runtime's fetch, looked up at each call (so a test may replace it). */
function globalFetch(): FetchLike {
  if (typeof globalThis.fetch !== 'function') throw new TypeError('No fetch in this runtime: pass options.fetch.');
  return (url, init) => (globalThis.fetch as unknown as FetchLike)(url, init);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function retryAfterHeader(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

interface Call {
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One request of a protocol route: the answer's status must be one the route declares and its body
 * must fit that status's schema; a 4xx / 5xx must be the ErrorBody.
 */
export async function callRoute<R extends RouteSpec, S extends keyof R['response'] & number>(
  fetchFn: FetchLike,
  baseUrl: string,
  route: R,
  call: Call,
  timeoutMs: number,
): Promise<R['response'][S] extends TSchema ? Static<R['response'][S]> : never> {
  const url = `${trimSlash(baseUrl)}${pathOf(route, call.params)}`;
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let body: string | undefined;
  if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers['content-type'] = 'application/json';
  }
  const what = `${route.method} ${route.url}`;
  let status: number;
  let text: string;
  let retryAfter: string | null;
  try {
    const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined;
    const res = await fetchFn(url, { method: route.method, headers, ...(body === undefined ? {} : { body }), ...(signal ? { signal } : {}) });
    status = res.status;
    retryAfter = res.headers.get('retry-after');
    text = await res.text();
  } catch (e) {
    throw new FaceLoginServerError('unreachable', 0, `${what}: no answer from the verification server (${(e as Error)?.message ?? String(e)}).`);
  }
  let value: unknown;
  try {
    value = text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    value = undefined;
  }
  if (status >= 400) {
    if (fits(ErrorBody, value)) {
      const { code, message, retryAfterSeconds } = value.error;
      throw new FaceLoginServerError(code, status, message, retryAfterSeconds ?? retryAfterHeader(retryAfter));
    }
    throw new FaceLoginServerError('invalid-response', status, `${what}: HTTP ${status} without the protocol's error body.`);
  }
  const schema = Object.hasOwn(route.response, status) ? route.response[status] : undefined;
  if (!schema) throw new FaceLoginServerError('invalid-response', status, `${what}: HTTP ${status} is not an answer this route gives.`);
  if (!fits(schema, value)) throw new FaceLoginServerError('invalid-response', status, `${what}: the answer does not fit the protocol's schema.`);
  return value as never;
}

export class FaceLoginSiteClient {
  private readonly baseUrl: string;
  private readonly siteKey: string;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;

  constructor(options: FaceLoginSiteClientOptions) {
    const u = new URL(options.serverUrl); // throws on a malformed URL, at construction
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('serverUrl must be http(s)://');
    if (typeof options.siteKey !== 'string' || options.siteKey.length === 0) throw new TypeError('siteKey is required (one of the server\'s FACE_LOGIN_SITE_KEYS).');
    this.baseUrl = trimSlash(options.serverUrl);
    this.siteKey = options.siteKey;
    this.fetchFn = options.fetch ?? globalFetch();
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  private call<R extends RouteSpec, S extends keyof R['response'] & number>(route: R, call: Call = {}) {
    return callRoute<R, S>(this.fetchFn, this.baseUrl, route, { ...call, headers: { 'x-face-login-site-key': this.siteKey } }, this.timeoutMs);
  }

  /**
   * Opens a single-use session for one action (enroll / verify a user; identify: no user). Give
   * `sessionId` to the page (it uploads the frames there); the server chose `challenge`.
   */
  async openSession(input: OpenSessionInput): Promise<OpenedSession> {
    const body = { action: input.action, ...(input.userId === undefined ? {} : { userId: input.userId }), siteNonce: input.siteNonce };
    return this.call<typeof createSessionRoute, 201>(createSessionRoute, { body });
  }

  /**
   * The session's result. Log the user in only on `state: 'done'`, `decision: 'accept'`, the
   * `userId` and `siteNonce` you expect, and `action` the one you opened.
   */
  async readResult(sessionId: string): Promise<SessionResult> {
    return this.call<typeof sessionResultRoute, 200>(sessionResultRoute, { params: { id: sessionId } });
  }

  /** Deletes the user and everything the server holds about them (templates, backup, attempts, sessions). unknown-user if none. */
  async deleteUser(userId: string): Promise<void> {
    await this.call<typeof siteDeleteUserRoute, 204>(siteDeleteUserRoute, { params: { userId } });
  }

  /** Everything the server holds about the user (a subject access request); attempts come without scores. */
  async exportUser(userId: string): Promise<UserExport> {
    return this.call<typeof siteExportUserRoute, 200>(siteExportUserRoute, { params: { userId } });
  }

  /**
   * Lifts the user's face-login lockout (after repeated failed matches the user is locked, then
   * disabled): call it once your site has checked the person another way. Idempotent.
   */
  async unlockUser(userId: string): Promise<void> {
    await this.call<typeof siteUnlockUserRoute, 204>(siteUnlockUserRoute, { params: { userId } });
  }

  /** The server's public keys (GET /v1/keys), checked. */
  async keys(): Promise<Jwks> {
    return fetchKeys(this.fetchFn, this.baseUrl, this.timeoutMs);
  }
}

function fetchKeys(fetchFn: FetchLike, baseUrl: string, timeoutMs: number): Promise<Jwks> {
  return callRoute<typeof keysRoute, 200>(fetchFn, baseUrl, keysRoute, {}, timeoutMs);
}

export interface FaceLoginKeysOptions {
  /** The verification server. */
  readonly serverUrl: string;
  readonly fetch?: FetchLike;
  /** How long a fetched key set is used before it is fetched again (default 10 minutes). */
  readonly maxAgeMs?: number;
  /** The least time between two fetches forced by an unknown kid (default 30 s). */
  readonly minRefreshMs?: number;
  readonly timeoutMs?: number;
  /** ms since the epoch (tests). */
  readonly now?: () => number;
}

/**
 * A KeySource for verifyFaceLoginAssertion that fetches GET /v1/keys, keeps it `maxAgeMs`, and
 * fetches again (at most every `minRefreshMs`) when an assertion names a kid it does not hold, so a
 * key rotation on the server needs nothing from the portal. A failed fetch keeps the last good set.
 */
export function faceLoginKeys(options: FaceLoginKeysOptions): KeySource {
  const fetchFn = options.fetch ?? globalFetch();
  const maxAge = options.maxAgeMs ?? 10 * 60_000;
  const minRefresh = options.minRefreshMs ?? 30_000;
  const now = options.now ?? Date.now;
  let cached: { set: Jwks; at: number } | null = null;
  let inflight: Promise<Jwks> | null = null;
  const load = (): Promise<Jwks> =>
    (inflight ??= fetchKeys(fetchFn, options.serverUrl, options.timeoutMs ?? 15_000)
      .then((set) => {
        cached = { set, at: now() };
        return set;
      })
      .finally(() => {
        inflight = null;
      }));
  return async ({ refresh }) => {
    const age = cached ? now() - cached.at : Infinity;
    if (cached && age < maxAge && (!refresh || age < minRefresh)) return cached.set;
    try {
      return await load();
    } catch (e) {
      if (cached) return cached.set;
      throw e;
    }
  };
}
