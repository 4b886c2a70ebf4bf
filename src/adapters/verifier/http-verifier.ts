import type { IdentifyResult, NewTemplate, Pose, Verifier, VerifyResult } from '../../core/types.js';
import type { ChallengeAction } from '../../protocol/fields.js';
import type { RouteReply, RouteSpec } from '../../protocol/route.js';
import { backupRoute } from '../../protocol/routes/backup.js';
import { challengeRoute } from '../../protocol/routes/challenges.js';
import { identifyRoute, verifyRoute } from '../../protocol/routes/decisions.js';
import { enrollRoute } from '../../protocol/routes/enroll.js';
import { FaceLoginError } from '../../core/errors.js';
import { callRoute, type Call, type HttpTarget } from './http-call.js';

export { ServerFailure, ServerRefusal } from './http-call.js';

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
 * Server-side verification over HTTP (server/ in this repo). Every decision is the server's:
 * challenge (single-use nonce bound to user and action) -> embedding posted -> accept / reject,
 * with a signed assertion on accept for the portal's backend; the page never sees a score.
 * Unreachable servers, timeouts and 5xx are backend-unavailable; every other answer is checked
 * against the schema the server declares for it (src/protocol/routes/), and one that does not fit
 * is backend-error, so garbage is never mistaken for a decision.
 */
export class HttpVerifier implements Verifier {
  readonly kind = 'remote' as const;
  private readonly target: HttpTarget;

  constructor(options: HttpVerifierOptions) {
    this.target = {
      base: options.baseUrl.replace(/\/+$/, ''),
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  private call<R extends RouteSpec>(route: R, input: NoInfer<Call<R>>): Promise<RouteReply<R>> {
    return callRoute(this.target, route, input);
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
