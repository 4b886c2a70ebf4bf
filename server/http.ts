/**
 * HTTP plumbing shared by the routes: the one error handler (log everything, show only what is
 * safe), the not-found handler, CORS, client info for the audit log, and proof of identity for
 * the actions that touch a user's data.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyFaceLoginAssertion } from '../src/server-client/assertion.js';
import type { ModelSpec, ServerConfig } from './config.js';
import type { ErrorBody, ServerErrorCode } from '../src/protocol/index.js';
import { ApiError } from './errors.js';
import { StorageFault } from './store/faults.js';
import type { ClientInfo, Store } from './store/types.js';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StorageFault) return storageError(err);
  const e = err as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const first = e.validation[0]!;
    const path = `${e.validationContext ?? 'request'}${first.instancePath ?? ''}`;
    const message = `${path} ${first.message ?? 'is invalid'}`;
    if (/\/embedding(\/|$)/.test(first.instancePath ?? '')) return new ApiError('invalid-embedding', message);
    return new ApiError('invalid-body', message);
  }
  switch (e.code) {
    case 'FST_ERR_BAD_URL':
      return new ApiError('invalid-body', 'The URL is malformed (a bad percent-encoding).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('invalid-body', 'A path parameter is longer than the server accepts.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('body-too-large', 'The request body is larger than the server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported-media-type', 'Send JSON with content-type: application/json.');
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx messages (malformed JSON, empty body, bad URL) are safe to show.
    return new ApiError('invalid-body', typeof e.message === 'string' && e.message ? e.message : 'Bad request.');
  }
  return new ApiError('internal', 'Internal server error.');
}

/** A database fault as the typed 503 the page and the operator can tell apart (server/store/faults.ts). */
function storageError(f: StorageFault): ApiError {
  switch (f.kind) {
    case 'busy':
      return new ApiError('storage-busy', 'The database is locked by another writer; retry in a moment.', { retryAfterSeconds: 1 });
    case 'full':
      return new ApiError('storage-full', 'The server\'s database has no space left: nothing can be stored or decided until the operator frees some.');
    case 'unavailable':
      return new ApiError('storage-unavailable', 'The server\'s database cannot be written or reached now.');
  }
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const api = toApiError(err);
  if (api.statusCode >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ code: api.code, reason: (err as Error)?.message }, 'request refused');
  const body: ErrorBody = { error: { code: api.code, message: api.message, ...api.extra } };
  // 429 (locked-out, rate-limited) and 503 (overloaded): the same wait as a header, for clients and proxies that read only that.
  if (api.extra.retryAfterSeconds !== undefined) void reply.header('retry-after', String(api.extra.retryAfterSeconds));
  void reply.code(api.statusCode).send(body);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorBody = { error: { code: 'not-found', message: `No route ${req.method} ${req.url.split('?')[0]}.` } };
  void reply.code(404).send(body);
}

const ALLOWED_HEADERS = 'content-type, authorization, x-face-login-nonce';
const EXPOSED_HEADERS = 'retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, face-login-export-signature';

/**
 * CORS for the configured origins (exact match). A request that carries an Origin header not in
 * the list is refused (403 origin-not-allowed) whatever its method: server-to-server callers send
 * no Origin and are unaffected. Preflights are answered here.
 */
export function corsHook(origins: readonly string[]) {
  const allowed = new Set(origins);
  return async function cors(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (!allowed.has(origin)) throw new ApiError('origin-not-allowed', `Origin ${origin} is not allowed (FACE_LOGIN_ORIGINS).`);
    void reply.header('access-control-allow-origin', origin);
    void reply.header('vary', 'Origin');
    void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS') {
      void reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      void reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      void reply.header('access-control-max-age', '600');
      await reply.code(204).send();
    }
  };
}

export function clientInfo(req: FastifyRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  const origin = req.headers.origin;
  return {
    ip: req.ip,
    userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null,
    origin: typeof origin === 'string' ? origin.slice(0, 256) : null,
  };
}

export function modelOf(config: ServerConfig, modelId: string): ModelSpec {
  const m = Object.hasOwn(config.models, modelId) ? config.models[modelId] : undefined;
  if (!m) throw new ApiError('unknown-model', `Unknown model "${modelId.slice(0, 64)}"; this server has ${Object.keys(config.models).join(', ')}.`);
  return m;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (both sides hashed first, so lengths never leak). */
export function isAdminKey(given: string, config: ServerConfig): boolean {
  if (!config.adminKey) return false;
  return timingSafeEqual(digest(given), digest(config.adminKey));
}

export function requireAdmin(req: FastifyRequest, config: ServerConfig): void {
  const key = req.headers['x-face-login-admin-key'];
  if (typeof key !== 'string' || !isAdminKey(key, config)) {
    throw new ApiError('unauthorized', config.adminKey ? 'A valid x-face-login-admin-key is required.' : 'Admin access is disabled (FACE_LOGIN_ADMIN_KEY is not set).');
  }
}

/**
 * Registers routes that answer one refusal and nothing else (a feature this server has off). No
 * schema: there is nothing to validate, and the routes stay out of the OpenAPI document.
 */
export function registerDisabled(app: FastifyInstance, routes: readonly { readonly method: string; readonly url: string }[], code: ServerErrorCode, message: string): void {
  for (const r of routes) {
    app.route({
      method: r.method as 'GET',
      url: r.url,
      handler: async () => {
        throw new ApiError(code, message);
      },
    });
  }
}

export const SITE_KEY_HEADER = 'x-face-login-site-key';

const siteKeyDigests = new WeakMap<ServerConfig, readonly Buffer[]>();

/** True when `given` is one of the site keys: every key is compared (no early exit), digests of fixed length. */
export function isSiteKey(given: string, config: ServerConfig): boolean {
  let keys = siteKeyDigests.get(config);
  if (!keys) siteKeyDigests.set(config, (keys = config.siteKeys.map(digest)));
  const d = digest(given);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(d, k) || ok;
  return ok;
}

/** The site's backend only (x-face-login-site-key); `why` ends the unauthorized message. */
export function requireSiteKey(req: FastifyRequest, config: ServerConfig, why: string): void {
  const key = req.headers[SITE_KEY_HEADER];
  if (typeof key !== 'string' || !isSiteKey(key, config)) {
    throw new ApiError('unauthorized', config.siteKeys.length === 0 ? 'No site key is configured on this server (FACE_LOGIN_SITE_KEYS).' : `A valid ${SITE_KEY_HEADER} is required: ${why}.`);
  }
}

/** The answer to a locked guard (server/audit/lockout.ts): how long to wait, or that the site must unlock the user. */
export function lockedOutError(lock: { readonly retryAfterMs: number; readonly disabled: boolean }): ApiError {
  if (lock.disabled) {
    return new ApiError('locked-out', 'Face login is disabled for this user after repeated failed attempts; the site can unlock it (POST /v1/site/users/:id/unlock) or enrol the user again.');
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(lock.retryAfterMs / 1000));
  return new ApiError('locked-out', `Too many failed attempts; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
}

export type Proof = 'admin' | 'assertion' | null;

/** A proof read from the request and checked, not yet spent: only `spendProof` turns it into a Proof. */
export type PendingProof = { readonly kind: 'admin' } | { readonly kind: 'assertion'; readonly jti: string; readonly exp: number } | null;

/**
 * Proof that the caller acts for `userId`: the admin key (a portal backend), or an assertion from an
 * accepted VERIFY of that user (signed by this server's keys, for its audience, unexpired). An
 * identify assertion is no proof: identify is 1:N, built to name the wrong person up to ~1 % of the
 * time, and that must not let anyone replace or erase someone's face. Null when neither header is
 * sent; a header that is sent but wrong is an error (unauthorized / invalid-assertion).
 *
 * Call before the nonce is consumed, then `spendProof` after it: an assertion is single use, spent
 * by the first request that presents it and gets past its nonce.
 */
export async function checkProof(req: FastifyRequest, userId: string, config: ServerConfig): Promise<PendingProof> {
  const key = req.headers['x-face-login-admin-key'];
  if (typeof key === 'string') {
    if (!isAdminKey(key, config)) throw new ApiError('unauthorized', 'The x-face-login-admin-key is wrong.');
    return { kind: 'admin' };
  }
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new ApiError('invalid-assertion', 'Authorization must be "Bearer <assertion>".');
    const check = await verifyFaceLoginAssertion(m[1]!, {
      keys: config.assertionKeys.jwks,
      audience: config.assertionAudience,
      subject: userId,
      action: 'verify',
      now: config.now(),
      clockToleranceS: 0,
    });
    if (!check.ok) {
      const why = check.reason === 'wrong-action' ? 'only an assertion from an accepted verify of this user is proof, never one from identify' : check.message;
      throw new ApiError('invalid-assertion', `The assertion is no proof for this user (${check.reason}): ${why}`);
    }
    return { kind: 'assertion', jti: check.claims.jti, exp: check.claims.exp };
  }
  return null;
}

/** Spends a checked assertion (records its jti until it expires); a second use is invalid-assertion. */
export async function spendProof(store: Store, pending: PendingProof): Promise<Proof> {
  if (pending === null) return null;
  if (pending.kind === 'admin') return 'admin';
  if (!(await store.spendAssertion(pending.jti, pending.exp * 1000))) {
    throw new ApiError('invalid-assertion', 'This assertion was already used as proof: each one is good for one request (verify again).');
  }
  return 'assertion';
}
