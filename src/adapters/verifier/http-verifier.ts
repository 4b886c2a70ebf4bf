import { FaceLoginError, type FaceLoginErrorCode } from '../../core/errors.js';
import type { IdentifyResult, NewTemplate, Pose, Verifier, VerifyResult } from '../../core/types.js';

export interface HttpVerifierOptions {
  /** Base URL of the face-login server (its routes live under /v1). */
  baseUrl: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type ChallengeAction = 'enroll' | 'verify' | 'identify' | 'backup' | 'restore' | 'delete' | 'export';

export interface BackupTemplate {
  readonly embedding: Float32Array;
  readonly pose: Pose;
  readonly createdAt: number;
}

/** Server error codes that keep their meaning on the page; everything else is backend-error. */
const SERVER_CODES: Record<string, FaceLoginErrorCode> = {
  'proof-required': 'backend-error',
  'locked-out': 'locked-out',
  'rate-limited': 'rate-limited',
  'duplicate-enrollment': 'duplicate-enrollment',
  'unknown-user': 'not-enrolled',
};

/**
 * A refusal the server itself gave (a 4xx with its error body): `serverCode` is the server's own
 * stable code (e.g. duplicate-enrollment, proof-required, already-enrolled), `code` the page's.
 */
export class ServerRefusal extends FaceLoginError {
  constructor(
    code: FaceLoginErrorCode,
    message: string,
    readonly serverCode: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Server-side verification over HTTP (server/ in this repo). Every decision is the server's:
 * challenge (single-use nonce bound to user and action) -> embedding posted -> accept / reject,
 * with a signed assertion on accept for the portal's backend; the page never sees a score.
 * Unreachable servers, timeouts and 5xx are backend-unavailable; answers that do not fit the
 * contract are backend-error, so garbage is never mistaken for a decision.
 */
export class HttpVerifier implements Verifier {
  readonly kind = 'remote' as const;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: HttpVerifierOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: ac.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (e) {
      throw new FaceLoginError('backend-unavailable', `The verification server at ${this.base} cannot be reached${ac.signal.aborted ? ' (timed out)' : ''}.`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 204) return null;
    let json: unknown;
    try {
      json = await res.json();
    } catch (e) {
      if (res.status >= 500) throw new FaceLoginError('backend-unavailable', `The verification server failed (HTTP ${res.status}).`, { cause: e });
      throw new FaceLoginError('backend-error', `The verification server sent an unreadable answer (HTTP ${res.status}).`, { cause: e });
    }
    if (!res.ok) {
      const err = isRecord(json) && isRecord(json.error) ? json.error : null;
      const serverCode = typeof err?.code === 'string' ? err.code : '';
      const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`;
      if (res.status >= 500) throw new FaceLoginError('backend-unavailable', `The verification server failed: ${message}`);
      const code = SERVER_CODES[serverCode] ?? 'backend-error';
      const text = `The verification server refused the request (${serverCode || res.status}): ${message}`;
      throw err ? new ServerRefusal(code, text, serverCode, res.status) : new FaceLoginError(code, text);
    }
    return json;
  }

  private bad(what: string): FaceLoginError {
    return new FaceLoginError('backend-error', `The verification server's answer does not fit the protocol: ${what}.`);
  }

  /** A fresh single-use nonce for one action on one user. */
  async challenge(action: ChallengeAction, userId?: string): Promise<string> {
    const r = await this.request('POST', '/v1/challenges', { action, ...(userId !== undefined ? { userId } : {}) });
    if (!isRecord(r) || typeof r.nonce !== 'string' || r.nonce.length < 16) throw this.bad('no nonce');
    return r.nonce;
  }

  async verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult> {
    const nonce = await this.challenge('verify', userId);
    const r = await this.request('POST', '/v1/verify', { nonce, userId, modelId, embedding: Array.from(probe) });
    if (!isRecord(r) || (r.decision !== 'accept' && r.decision !== 'reject')) throw this.bad('decision missing');
    if (r.decision === 'accept') {
      if (typeof r.assertion !== 'string' || !r.assertion) throw this.bad('accept without an assertion');
      return { accepted: true, userId, assertion: r.assertion, decidedBy: 'server' };
    }
    return { accepted: false, userId, decidedBy: 'server' };
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    const nonce = await this.challenge('identify');
    const r = await this.request('POST', '/v1/identify', { nonce, modelId, embedding: Array.from(probe) });
    if (!isRecord(r) || (r.decision !== 'accept' && r.decision !== 'reject')) throw this.bad('decision missing');
    if (r.decision === 'accept') {
      if (typeof r.userId !== 'string' || !r.userId || typeof r.assertion !== 'string') throw this.bad('accept without a user or assertion');
      return { userId: r.userId, assertion: r.assertion, decidedBy: 'server' };
    }
    return { userId: null, decidedBy: 'server' };
  }

  /**
   * `ifNotEnrolled`: only create an enrolment; a user who already has templates for the model is
   * refused (ServerRefusal with serverCode 'already-enrolled') and left as the server has them.
   */
  async enroll(userId: string, modelId: string, templates: readonly NewTemplate[], options: { replace: boolean; ifNotEnrolled?: boolean }): Promise<void> {
    const nonce = await this.challenge('enroll', userId);
    const r = await this.request('POST', '/v1/enroll', {
      nonce,
      userId,
      modelId,
      replace: options.replace,
      ...(options.ifNotEnrolled ? { ifNotEnrolled: true } : {}),
      templates: templates.map((t) => ({ embedding: Array.from(t.embedding), pose: t.pose })),
    });
    if (!isRecord(r) || r.userId !== userId) throw this.bad('enrolment not confirmed');
  }

  /** Stores the device's templates as a server-side backup (offline-first widgets). */
  async backup(userId: string, modelId: string, templates: readonly BackupTemplate[]): Promise<void> {
    const nonce = await this.challenge('backup', userId);
    await this.request('PUT', `/v1/backup/${encodeURIComponent(userId)}`, {
      nonce,
      modelId,
      templates: templates.map((t) => ({ embedding: Array.from(t.embedding), pose: t.pose, createdAt: t.createdAt })),
    });
  }

  /** Restore needs proof of being the user: the assertion from an accepted verify. */
  async restore(userId: string, assertion: string): Promise<{ modelId: string; templates: BackupTemplate[] }> {
    const nonce = await this.challenge('restore', userId);
    const r = await this.request('POST', `/v1/restore/${encodeURIComponent(userId)}`, { nonce }, { authorization: `Bearer ${assertion}` });
    if (!isRecord(r) || typeof r.modelId !== 'string' || !Array.isArray(r.templates)) throw this.bad('no templates');
    const templates = r.templates.map((t: unknown) => {
      if (!isRecord(t) || !Array.isArray(t.embedding) || !t.embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) throw this.bad('malformed template');
      return { embedding: Float32Array.from(t.embedding as number[]), pose: (t.pose ?? 'center') as Pose, createdAt: Number(t.createdAt ?? 0) };
    });
    return { modelId: r.modelId, templates };
  }

  /** Erasure needs proof of being the user: the assertion from an accepted verify. */
  async deleteUser(userId: string, assertion: string): Promise<void> {
    const nonce = await this.challenge('delete', userId);
    await this.request('DELETE', `/v1/users/${encodeURIComponent(userId)}`, undefined, { 'x-face-login-nonce': nonce, authorization: `Bearer ${assertion}` });
  }
}
