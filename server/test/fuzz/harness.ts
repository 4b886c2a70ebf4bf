/**
 * Sends fuzz requests to an app in process (app.inject) and checks every answer:
 *
 * - no status >= 500, and no rejected inject (a crash in the server's request path);
 * - every status >= 400 carries exactly `{ error: { code, message, retryAfterSeconds? } }`, the code
 *   one of the protocol's (SERVER_ERRORS) and answered with that code's status;
 * - a request the generator marked `mustRefuse` gets no 2xx;
 * - a 2xx fits the route's response schema, and no answer outside the admin routes names a score;
 * - nothing is stored from a refused request: a fingerprint of every table (row counts plus what
 *   changes in place: change sequence, updated_at, labels, session states, lockout state) is taken
 *   before and after each request, and a request answered >= 400 may only have consumed a nonce,
 *   spent the genuine assertion it carried, or (locked-out) written its audit row, as documented.
 *
 * A violation is kept with everything needed to replay it: the seed, the index, the app, and the
 * request (method, URL, headers, the payload or how it was built, its SHA-256).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { fits } from '../../../src/protocol/check.js';
import { ErrorBody, SERVER_ERRORS, isServerErrorCode, type RouteSpec } from '../../../src/protocol/index.js';
import { hasScoreKey } from '../helpers.js';
import type { FuzzRequest } from './requests.js';

/** Where setup requests come from (they never fail a face match, so this address is never locked). */
export const SETUP_ADDRESS = '10.255.255.1';

export type Fingerprint = Readonly<Record<string, number>>;

export interface Violation {
  readonly app: string;
  readonly seed: number;
  readonly index: number;
  readonly problem: string;
  readonly status: number | null;
  readonly response: string;
  readonly request: string;
}

/** A request as text a person can replay (payloads over 2 KB are cut, with their length and hash). */
export function describeRequest(req: FuzzRequest): string {
  const p = req.payload;
  const text = p === undefined ? undefined : typeof p === 'string' ? p : p.toString('latin1');
  const payload =
    text === undefined
      ? undefined
      : text.length <= 2048
        ? typeof p === 'string'
          ? text
          : `<bytes base64 ${(p as Buffer).toString('base64')}>`
        : `${text.slice(0, 300)}… (${text.length} chars${req.note ? `: ${req.note}` : ''}, sha256 ${createHash('sha256').update(p as string | Buffer).digest('hex')})`;
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 40)}… (${v.length} chars)` : v]));
  const url = req.url.length > 300 ? `${req.url.slice(0, 200)}… (${req.url.length} chars)` : req.url;
  return JSON.stringify({ route: req.route, kind: req.kind, mustRefuse: req.mustRefuse, method: req.method, url, headers, payload, remoteAddress: req.remoteAddress });
}

export interface SendResult {
  readonly status: number;
  readonly body: unknown;
  readonly raw: string;
  readonly headers: Record<string, unknown>;
}

export class Fuzzer {
  readonly histogram = new Map<number | string, number>();
  /** Per route: statuses seen (coverage: every enabled route must get some 2xx). */
  readonly byRoute = new Map<string, Map<number, number>>();
  readonly violations: Violation[] = [];
  requests = 0;
  setupRequests = 0;
  /** Milliseconds spent in the server (inject) and in the store checks (fingerprints). */
  injectMs = 0;
  fingerprintMs = 0;
  private index = 0;

  /** The fingerprint after the last fuzz request, while no setup request has run since (then it is the next one's "before"). */
  private last: Fingerprint | null = null;

  constructor(
    readonly name: string,
    readonly app: FastifyInstance,
    readonly seed: number,
    readonly routes: readonly RouteSpec[],
    /** Every table of the database (one statement). */
    readonly tables: () => Fingerprint,
  ) {}

  /**
   * The tables, per request. (They are what app.store.stats() counts and more; reading them in one
   * statement keeps the check per request affordable. The test checks once that they agree with
   * app.store.stats(), so the check sees what the store sees.)
   */
  async fingerprint(): Promise<Fingerprint> {
    return this.tables();
  }

  /** Forget the last fingerprint (the clock moved: what counts as live changed). */
  invalidate(): void {
    this.last = null;
  }

  /** A setup request (a nonce, a session): its answer is checked like any other, and counted apart. */
  async setup(opts: InjectOptions): Promise<SendResult> {
    this.last = null;
    this.setupRequests++;
    const res = await this.app.inject({ remoteAddress: SETUP_ADDRESS, ...opts });
    if (res.statusCode >= 500) {
      this.violations.push({ app: this.name, seed: this.seed, index: -1, problem: `setup request answered ${res.statusCode}`, status: res.statusCode, response: res.body.slice(0, 500), request: JSON.stringify(opts).slice(0, 2000) });
    }
    return { status: res.statusCode, body: safeJson(res.body), raw: res.body, headers: res.headers as Record<string, unknown> };
  }

  private fail(req: FuzzRequest, index: number, problem: string, status: number | null, response: string): void {
    this.violations.push({ app: this.name, seed: this.seed, index, problem, status, response: response.slice(0, 800), request: describeRequest(req) });
  }

  /** Sends one fuzz request and checks it, including the store before and after. */
  async send(req: FuzzRequest): Promise<SendResult | null> {
    const index = this.index++;
    let t = performance.now();
    const before = this.last ?? (await this.fingerprint());
    this.fingerprintMs += performance.now() - t;
    const res = await this.inject(req, index);
    t = performance.now();
    const after = await this.fingerprint();
    this.last = after;
    this.fingerprintMs += performance.now() - t;
    if (res === null) return null;
    this.check(req, index, res);
    if (res.status >= 400) {
      const bad = storedOnRefusal(before, after, { code: errorCode(res.body), carriesAssertion: req.carriesAssertion });
      if (bad.length > 0) this.fail(req, index, `stored from a refused request: ${bad.join(', ')}`, res.status, res.raw);
    }
    return res;
  }

  /** Sends requests concurrently (no per-request store check: the caller checks the totals). */
  async sendAll(reqs: readonly FuzzRequest[]): Promise<(SendResult | null)[]> {
    this.last = null;
    const start = this.index;
    this.index += reqs.length;
    const out = await Promise.all(reqs.map((q, i) => this.inject(q, start + i)));
    out.forEach((res, i) => res && this.check(reqs[i]!, start + i, res));
    return out;
  }

  private async inject(req: FuzzRequest, index: number): Promise<SendResult | null> {
    this.requests++;
    let res;
    const t = performance.now();
    try {
      res = await this.app.inject({
        method: req.method as InjectOptions['method'],
        url: req.url,
        headers: req.headers,
        ...(req.payload !== undefined ? { payload: req.payload } : {}),
        ...(req.remoteAddress !== undefined ? { remoteAddress: req.remoteAddress } : {}),
      });
    } catch (e) {
      this.count(req, 'inject-error');
      this.fail(req, index, `inject rejected: ${(e as Error)?.stack ?? String(e)}`, null, '');
      return null;
    }
    this.injectMs += performance.now() - t;
    this.count(req, res.statusCode);
    return { status: res.statusCode, body: safeJson(res.body), raw: res.body, headers: res.headers as Record<string, unknown> };
  }

  private count(req: FuzzRequest, status: number | string): void {
    this.histogram.set(status, (this.histogram.get(status) ?? 0) + 1);
    if (typeof status === 'number') {
      let m = this.byRoute.get(req.route);
      if (!m) this.byRoute.set(req.route, (m = new Map()));
      m.set(status, (m.get(status) ?? 0) + 1);
    }
  }

  private check(req: FuzzRequest, index: number, res: SendResult): void {
    const { status } = res;
    if (status >= 500) this.fail(req, index, `status ${status}`, status, res.raw);
    if (status >= 400 && req.method !== 'HEAD') {
      const problem = errorBodyProblem(status, res.body);
      if (problem) this.fail(req, index, problem, status, res.raw);
    }
    if (status < 400 && req.mustRefuse) this.fail(req, index, `accepted (${status}) a request that must be refused`, status, res.raw);
    let path = req.url.split('?')[0]!;
    try {
      path = new URL(req.url, 'http://localhost').pathname; // as inject resolves it ('/v1/x/../admin/...')
    } catch {}
    if (!path.startsWith('/v1/admin/') && path !== '/openapi.json' && hasScoreKey(res.body)) this.fail(req, index, 'the answer names a score', status, res.raw);
    if (status >= 200 && status < 300 && status !== 204 && req.method !== 'HEAD' && req.kind.startsWith('valid')) {
      const route = this.routes.find((r) => `${r.method} ${r.url}` === req.route);
      const schema = route?.response[status];
      if (!schema) this.fail(req, index, `status ${status} is not one the route documents`, status, res.raw);
      else if (!fits(schema, res.body)) this.fail(req, index, `the ${status} answer does not fit the route's response schema`, status, res.raw);
    }
  }
}

function safeJson(s: string): unknown {
  if (!s) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function errorCode(body: unknown): string | null {
  const e = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof e?.code === 'string' ? e.code : null;
}

/** Why an error answer is not the protocol's error body (null when it is). */
export function errorBodyProblem(status: number, body: unknown): string | null {
  if (!fits(ErrorBody, body)) return `error body is not { error: { code, message } }`;
  const code = (body as ErrorBody).error.code;
  if (!isServerErrorCode(code)) return `error code ${code} is not in the protocol's list`;
  if (SERVER_ERRORS[code].status !== status) return `error code ${code} answered with ${status}, the protocol says ${SERVER_ERRORS[code].status}`;
  return null;
}

/**
 * Refusals that come after a face match, or instead of one, and are audited with the lockout state
 * updated (server/audit/lockout.ts): a locked-out request writes its `locked-out` row; a failed
 * same-face check (proof-required) and a duplicate enrolment write their row and count as a failure
 * on the user and the address. They may add one attempt row and change the guards, nothing else.
 */
export const AUDITED_REFUSALS: ReadonlySet<string> = new Set(['locked-out', 'proof-required', 'duplicate-enrollment']);

const ATTEMPT_KEYS = new Set(['attempts', 'store.attempts', 'attemptsMaxId']);
const GUARD_KEYS = new Set(['guards', 'store.guards', 'guardsState']);

/**
 * What a refused request changed in the store that it may not have: every fingerprint entry must
 * be unchanged, except nonces (a refusal may consume one, never add one), spentAssertions (+1 when
 * it carried a genuine assertion: spent once past its nonce, whatever follows), and for the audited
 * refusals above one attempt row and the guards. Users, templates, backups, sessions, labels and
 * the change sequence never move.
 */
export function storedOnRefusal(
  before: Fingerprint,
  after: Fingerprint,
  req: { code: string | null; carriesAssertion: boolean },
  /** Over a run of requests: at most this many attempts rows and spent assertions (default 1 each). */
  most: { readonly attempts: number; readonly spentAssertions: number } = { attempts: 1, spentAssertions: 1 },
): string[] {
  const bad: string[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k] ?? 0;
    const b = after[k] ?? 0;
    if (a === b) continue;
    // Fewer nonces or spent assertions: consumed, or purged by the app's timer (expired ones).
    if ((k === 'nonces' || k === 'store.nonces' || k === 'spentAssertions' || k === 'store.spentAssertions') && b < a) continue;
    if ((k === 'spentAssertions' || k === 'store.spentAssertions') && req.carriesAssertion && b > a && b <= a + most.spentAssertions) continue;
    if (req.code !== null && AUDITED_REFUSALS.has(req.code) && ATTEMPT_KEYS.has(k) && b > a && b <= a + most.attempts) continue;
    if (req.code !== null && AUDITED_REFUSALS.has(req.code) && GUARD_KEYS.has(k)) continue;
    bad.push(`${k} ${a} -> ${b}`);
  }
  return bad;
}
