/**
 * One protocol call from the page (src/protocol/routes/): the request built from the route, the
 * answer checked against the route's schemas. HttpVerifier and SessionClient both go through it.
 *
 * - unreachable, timed out, or a 5xx: `backend-unavailable` (ServerFailure, with the server's
 *   Retry-After when it gave one); a 5xx with the server's own code keeps its meaning:
 *   `backend-overloaded` (overloaded, storage-busy), `backend-storage` (storage-full, -unavailable);
 * - a 4xx with the server's own error body: ServerRefusal (the page's code from pageErrorCode, the
 *   server's code kept as `serverCode`); a 4xx that is not the server's (a proxy's page): backend-error;
 * - a 2xx that does not fit the route's schema for its status: backend-error, so garbage is never
 *   mistaken for an answer;
 * - the caller's signal: `aborted` (never backend-unavailable).
 */
import { FaceLoginError, abortError, type FaceLoginErrorCode } from '../../core/errors.js';
import { fits } from '../../protocol/check.js';
import { ErrorBody, pageErrorCode } from '../../protocol/errors.js';
import { pathOf, type RouteBody, type RouteParams, type RouteReply, type RouteSpec } from '../../protocol/route.js';

/**
 * A refusal the server itself gave (a 4xx with its error body): `serverCode` is the server's own
 * stable code (e.g. duplicate-enrollment, proof-required, already-enrolled, invalid-session;
 * src/protocol/errors.ts), `code` the page's. `retryAfterSeconds`: locked-out, rate-limited.
 */
export class ServerRefusal extends FaceLoginError {
  readonly retryAfterSeconds?: number;

  constructor(
    code: FaceLoginErrorCode,
    message: string,
    readonly serverCode: string,
    readonly status: number,
    retryAfterSeconds?: number,
  ) {
    super(code, message);
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The server failed (5xx): backend-unavailable, or backend-overloaded / backend-storage when its own code says so; with how long to wait when it said so. */
export class ServerFailure extends FaceLoginError {
  readonly retryAfterSeconds?: number;

  constructor(
    message: string,
    readonly status: number,
    readonly serverCode: string | null,
    retryAfterSeconds?: number,
  ) {
    const page = serverCode === null ? null : pageErrorCode(serverCode);
    super(page === 'backend-overloaded' || page === 'backend-storage' ? page : 'backend-unavailable', message);
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What one call sends: the route's path params and body, typed by its schemas (src/protocol/routes/). */
export interface Call<R extends RouteSpec> {
  readonly params?: RouteParams<R>;
  readonly body?: RouteBody<R>;
}

export interface HttpTarget {
  /** Base URL of the server, without a trailing slash. */
  readonly base: string;
  readonly fetch: typeof fetch;
  /** Per-request timeout (ms). */
  readonly timeoutMs: number;
}

/** Retry-After in seconds (an integer, or an HTTP date), else undefined. */
function retryAfter(res: Response, body: unknown): number | undefined {
  if (fits(ErrorBody, body) && body.error.retryAfterSeconds !== undefined) return body.error.retryAfterSeconds;
  const h = res.headers?.get?.('retry-after');
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h.trim());
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function bad(what: string): FaceLoginError {
  return new FaceLoginError('backend-error', `The verification server's answer does not fit the protocol: ${what}.`);
}

export async function callRoute<R extends RouteSpec>(target: HttpTarget, route: R, input: NoInfer<Call<R>>, signal?: AbortSignal, timeoutMs = target.timeoutMs): Promise<RouteReply<R>> {
  const { body, params } = input as { body?: unknown; params?: Readonly<Record<string, string>> };
  if (signal?.aborted) throw abortError(signal.reason);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const onAbort = () => ac.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let res: Response;
  let text: string;
  try {
    res = await target.fetch(target.base + pathOf(route, params), {
      method: route.method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ac.signal,
      credentials: 'omit',
      cache: 'no-store',
    });
    text = await res.text();
  } catch (e) {
    if (signal?.aborted) throw abortError(signal.reason);
    throw new FaceLoginError('backend-unavailable', `The verification server at ${target.base} cannot be reached${ac.signal.aborted ? ' (timed out)' : ''}.`, { cause: e });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch (e) {
    if (res.status >= 500) throw new ServerFailure(`The verification server failed (HTTP ${res.status}).`, res.status, null, retryAfter(res, null));
    throw new FaceLoginError('backend-error', `The verification server sent an unreadable answer (HTTP ${res.status}).`, { cause: e });
  }
  if (res.status >= 500) {
    const own = fits(ErrorBody, json) ? json.error : null;
    throw new ServerFailure(`The verification server failed: ${own ? `${own.code}: ${own.message}` : `HTTP ${res.status}`}`, res.status, own?.code ?? null, retryAfter(res, json));
  }
  if (res.status >= 400) {
    if (!fits(ErrorBody, json)) throw new FaceLoginError('backend-error', `The verification server refused the request (HTTP ${res.status}) with an answer that is not its own.`);
    const { code, message } = json.error;
    throw new ServerRefusal(pageErrorCode(code), `The verification server refused the request (${code}): ${message}`, code, res.status, retryAfter(res, json));
  }
  const schema = Object.hasOwn(route.response, res.status) ? route.response[res.status] : undefined;
  if (!schema) throw bad(`${route.method} ${route.url} answered HTTP ${res.status}`);
  if (!fits(schema, json)) throw bad(`the HTTP ${res.status} answer of ${route.method} ${route.url} does not fit its schema`);
  return json as RouteReply<R>;
}
