import { FaceLoginError, type FaceLoginErrorCode } from '../../core/errors.js';
import type { IdentifyResult, NewTemplate, Pose, Verifier, VerifyResult } from '../../core/types.js';
import { fits } from '../../protocol/check.js';
import { ErrorBody, pageErrorCode } from '../../protocol/errors.js';
import type { ChallengeAction } from '../../protocol/fields.js';
import { pathOf, type RouteBody, type RouteParams, type RouteReply, type RouteSpec } from '../../protocol/route.js';
import { backupRoute } from '../../protocol/routes/backup.js';
import { challengeRoute } from '../../protocol/routes/challenges.js';
import { identifyRoute, verifyRoute } from '../../protocol/routes/decisions.js';
import { enrollRoute } from '../../protocol/routes/enroll.js';

export interface HttpVerifierOptions {
  /** Base URL of the face-login server (its routes live under /v1). */
  baseUrl: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type { ChallengeAction };

export interface BackupTemplate {
  readonly embedding: Float32Array;
  readonly pose: Pose;
  readonly createdAt: number;
}

/**
 * A refusal the server itself gave (a 4xx with its error body): `serverCode` is the server's own
 * stable code (e.g. duplicate-enrollment, proof-required, already-enrolled; src/protocol/errors.ts),
 * `code` the page's.
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

/** What one call sends: the route's path params and body, typed by its schemas (src/protocol/routes/). */
interface Call<R extends RouteSpec> {
  readonly params?: RouteParams<R>;
  readonly body?: RouteBody<R>;
}

/**
 * Server-side verification over HTTP (server/ in this repo). Every decision is the server's:
 * challenge (single-use nonce bound to user and action) -> embedding posted -> accept / reject,
 * with a signed assertion on accept for the portal's backend; the page never sees a score.
 * Unreachable servers, timeouts and 5xx are backend-unavailable; every other answer is checked
 * against the schema the server declares for it (src/protocol/routes/), and one that does not fit
 * is backend-error, so garbage is never mistaken for a decision.
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

  private async call<R extends RouteSpec>(route: R, input: NoInfer<Call<R>>): Promise<RouteReply<R>> {
    const { body, params } = input as { body?: unknown; params?: Readonly<Record<string, string>> };
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.base + pathOf(route, params), {
        method: route.method,
        headers: body !== undefined ? { 'content-type': 'application/json' } : {},
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: ac.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      text = await res.text();
    } catch (e) {
      throw new FaceLoginError('backend-unavailable', `The verification server at ${this.base} cannot be reached${ac.signal.aborted ? ' (timed out)' : ''}.`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch (e) {
      if (res.status >= 500) throw new FaceLoginError('backend-unavailable', `The verification server failed (HTTP ${res.status}).`, { cause: e });
      throw new FaceLoginError('backend-error', `The verification server sent an unreadable answer (HTTP ${res.status}).`, { cause: e });
    }
    if (res.status >= 500) {
      const message = fits(ErrorBody, json) ? json.error.message : `HTTP ${res.status}`;
      throw new FaceLoginError('backend-unavailable', `The verification server failed: ${message}`);
    }
    if (res.status >= 400) {
      if (!fits(ErrorBody, json)) throw new FaceLoginError('backend-error', `The verification server refused the request (HTTP ${res.status}) with an answer that is not its own.`);
      const { code, message } = json.error;
      throw new ServerRefusal(pageErrorCode(code), `The verification server refused the request (${code}): ${message}`, code, res.status);
    }
    const schema = Object.hasOwn(route.response, res.status) ? route.response[res.status] : undefined;
    if (!schema) throw this.bad(`${route.method} ${route.url} answered HTTP ${res.status}`);
    if (!fits(schema, json)) throw this.bad(`the HTTP ${res.status} answer of ${route.method} ${route.url} does not fit its schema`);
    return json as RouteReply<R>;
  }

  private bad(what: string): FaceLoginError {
    return new FaceLoginError('backend-error', `The verification server's answer does not fit the protocol: ${what}.`);
  }

  /** A fresh single-use nonce for one action on one user. */
  async challenge(action: ChallengeAction, userId?: string): Promise<string> {
    const r = await this.call(challengeRoute, { body: { action, ...(userId !== undefined ? { userId } : {}) } });
    return r.nonce;
  }

  async verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult> {
    const nonce = await this.challenge('verify', userId);
    const r = await this.call(verifyRoute, { body: { nonce, userId, modelId, embedding: Array.from(probe) } });
    return r.decision === 'accept'
      ? { accepted: true, userId, assertion: r.assertion, decidedBy: 'server' }
      : { accepted: false, userId, decidedBy: 'server' };
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    const nonce = await this.challenge('identify');
    const r = await this.call(identifyRoute, { body: { nonce, modelId, embedding: Array.from(probe) } });
    return r.decision === 'accept' ? { userId: r.userId, assertion: r.assertion, decidedBy: 'server' } : { userId: null, decidedBy: 'server' };
  }

  /**
   * `ifNotEnrolled`: only create an enrolment; a user who already has templates for the model is
   * refused (ServerRefusal with serverCode 'already-enrolled') and left as the server has them.
   */
  async enroll(userId: string, modelId: string, templates: readonly NewTemplate[], options: { replace: boolean; ifNotEnrolled?: boolean }): Promise<void> {
    const nonce = await this.challenge('enroll', userId);
    const r = await this.call(enrollRoute, {
      body: {
        nonce,
        userId,
        modelId,
        replace: options.replace,
        ...(options.ifNotEnrolled ? { ifNotEnrolled: true } : {}),
        templates: templates.map((t) => ({ embedding: Array.from(t.embedding), pose: t.pose })),
      },
    });
    if (r.userId !== userId) throw this.bad('enrolment confirmed for another user');
  }

  /** Stores the device's templates as a server-side backup (offline-first widgets). */
  async backup(userId: string, modelId: string, templates: readonly BackupTemplate[]): Promise<void> {
    const nonce = await this.challenge('backup', userId);
    await this.call(backupRoute, {
      params: { userId },
      body: { nonce, modelId, templates: templates.map((t) => ({ embedding: Array.from(t.embedding), pose: t.pose, createdAt: t.createdAt })) },
    });
  }
}
