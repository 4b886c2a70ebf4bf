/**
 * Sessions opened by the site's backend, decided on the server from uploaded frames (issue 10).
 *
 *   site backend --POST /v1/sessions (site key)-->            { sessionId, expiresAt, challenge }
 *   page         --GET /v1/sessions/:id (no key)-->           { action, challenge, expiresAt }
 *   page         --POST /v1/sessions/:id/frames (no key)-->   { status: 'done' } | capture refusal
 *   site backend --GET /v1/sessions/:id/result (site key)-->  { state, decision?, liveness?, ... }
 *
 * - Only the site's backend opens a session (x-face-login-site-key, compared in constant time
 *   against every configured key over SHA-256 digests). CORS never allows that header, so a page
 *   cannot send it cross-origin. No configured key (or no examiner): every session route answers
 *   403 sessions-disabled, and the routes stay out of the OpenAPI document.
 * - The session id (256 random bits) is the page's capability; the database keeps its SHA-256.
 *   The session carries the action and the user: the upload cannot name either.
 * - The upload consumes the session atomically once its body is valid (one upload wins; a second,
 *   an expired or an unknown session is invalid-session with nothing stored). A body refused before
 *   that (body-too-large 413, invalid-body 400: too many frames, bad base64, an unknown field)
 *   leaves the session open: such a body never reaches the examiner, so it cannot be used to probe
 *   the decision, and a page whose capture was malformed can retry within the TTL.
 * - The page learns only `{ status: 'done' }` or a capture refusal (no-face, multiple-faces,
 *   liveness-failed, identity-changed, bad-frames: about the capture, not about whose face it is).
 *   Not even the outcome word: the decision goes to the site's backend only, so the page route is
 *   no "match / no match" oracle for a dictionary of faces, and duplicate-enrollment, unknown-user
 *   and locked-out are not revealed to the page either (no user enumeration through it).
 * - Frames are decoded in memory, examined, and dropped: never stored, never logged.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { clientInfo, registerDisabled, requireSiteKey } from '../http.js';
import { hashNonce } from '../nonce.js';
import { decideSession } from '../sessions/decide.js';
import type { SessionRecord } from '../store/types.js';
import type { FaceExaminer } from '../vision/examine-types.js';
import { admissionFor } from '../vision/examiner-pool.js';
import {
  CAPTURE_REFUSALS,
  createSessionRoute,
  POSES,
  sessionInfoRoute,
  sessionResultRoute,
  uploadFramesRoute,
  type RouteReply,
  type SessionAction,
  type SessionChallenge,
} from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

const SESSION_ID_BYTES = 32;

export interface SessionRoutesOptions {
  /** The server's face examination; without one the session routes are disabled. */
  readonly examiner: FaceExaminer | undefined;
}

/** The server's random challenge: enrol = the five poses; verify / identify = both turns in a random order. */
export function challengeFor(action: SessionAction): SessionChallenge {
  if (action === 'enroll') return { kind: 'poses', poses: [...POSES] };
  return { kind: 'turns', order: randomInt(2) === 0 ? ['left', 'right'] : ['right', 'left'] };
}

export default async function sessionRoutes(app: FastifyInstance, options: SessionRoutesOptions): Promise<void> {
  const { config, store } = app;
  const { examiner } = options;
  const routes = [createSessionRoute, sessionInfoRoute, uploadFramesRoute, sessionResultRoute];
  if (config.siteKeys.length === 0 || examiner === undefined) {
    const why = config.siteKeys.length === 0 ? 'no site key is configured (FACE_LOGIN_SITE_KEYS)' : 'this server has no face examiner';
    registerDisabled(app, routes, 'sessions-disabled', `Sessions are disabled on this server: ${why}.`);
    return;
  }
  const model = Object.hasOwn(config.models, examiner.modelId) ? config.models[examiner.modelId] : undefined;
  if (!model) throw new Error(`The face examiner's model ${examiner.modelId} is not configured (FACE_LOGIN_MODELS).`);

  const requireSite = (req: FastifyRequest): void => requireSiteKey(req, config, 'sessions are opened and read by the site\'s backend only');
  // Examinations run in the pool's workers (or one at a time for an examiner without admission), at
  // most that many waiting; a full queue is 503 overloaded before the session is touched.
  const admission = admissionFor(examiner, { queue: config.examineQueue });
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(createSessionRoute),
    handler: async (req, reply) => {
      requireSite(req);
      const { action, userId, siteNonce } = req.body;
      if ((action === 'identify') !== (userId === undefined)) {
        throw new ApiError('invalid-body', action === 'identify' ? 'An identify session names no user.' : `A ${action} session needs a userId.`);
      }
      if (userId !== undefined) await app.limitUser(req, userId);
      const sessionId = randomBytes(SESSION_ID_BYTES).toString('base64url');
      const now = config.now();
      const expiresAt = now + config.sessionTtlMs;
      const challenge = challengeFor(action);
      await store.createSession({
        hash: hashNonce(sessionId),
        action,
        userId: userId ?? null,
        siteNonce,
        challenge,
        createdAt: now,
        expiresAt,
        purgeAt: expiresAt + config.sessionResultTtlMs,
      });
      return reply.code(201).send({ sessionId, expiresAt: new Date(expiresAt).toISOString(), challenge });
    },
  });

  api.route({
    ...routeOptions(sessionInfoRoute),
    handler: async (req): Promise<RouteReply<typeof sessionInfoRoute>> => {
      const s = await store.getSession(hashNonce(req.params.id));
      if (!s || s.state !== 'pending' || config.now() >= s.expiresAt) {
        throw new ApiError('invalid-session', 'The session is unknown, already used, or expired.');
      }
      return { action: s.action, challenge: s.challenge, expiresAt: new Date(s.expiresAt).toISOString() };
    },
  });

  api.route({
    ...routeOptions(uploadFramesRoute),
    bodyLimit: config.sessionUploadLimit,
    handler: async (req): Promise<RouteReply<typeof uploadFramesRoute>> => {
      const hash = hashNonce(req.params.id);
      // Admission first: refused here, the upload leaves its session open for a retry.
      const ticket = admission.tryReserve();
      if (!ticket) {
        const retryAfterSeconds = admission.retryAfterSeconds();
        throw new ApiError('overloaded', `The server is examining as many uploads as it can; retry in ${retryAfterSeconds} s (the session stays open).`, { retryAfterSeconds });
      }
      let session: SessionRecord | null;
      try {
        session = await store.consumeSession(hash, config.now());
      } catch (e) {
        ticket.release();
        throw e;
      }
      if (!session) {
        ticket.release();
        throw new ApiError('invalid-session', 'The session is unknown, already used, or expired.');
      }
      const frames = req.body.frames.map((f) => ({ jpeg: new Uint8Array(Buffer.from(f.jpeg, 'base64')), t: f.t }));
      const reserved: FaceExaminer = { modelId: examiner.modelId, examine: (f, c) => ticket.examine(f, c), dispose: () => {} };
      let outcome;
      try {
        outcome = await decideSession(app, reserved, session, frames, clientInfo(req));
      } catch (e) {
        // The session is used either way; its result says why there is no decision.
        await store
          .completeSession(hash, { state: 'refused', decision: null, liveness: null, refusal: 'internal', resultUser: session.userId, decidedAt: config.now() })
          .catch(() => {});
        throw e;
      } finally {
        ticket.release(); // a no-op once examined
      }
      const { message, ...result } = outcome;
      await store.completeSession(hash, result);
      const refusal = result.refusal;
      if (refusal !== null && (CAPTURE_REFUSALS as readonly string[]).includes(refusal)) {
        return { status: 'refused', refusal: refusal as (typeof CAPTURE_REFUSALS)[number], message: (message ?? 'The frames were refused.').slice(0, 500) };
      }
      return { status: 'done' };
    },
  });

  api.route({
    ...routeOptions(sessionResultRoute),
    handler: async (req): Promise<RouteReply<typeof sessionResultRoute>> => {
      requireSite(req);
      const hash = hashNonce(req.params.id);
      const now = config.now();
      const open = await store.getSession(hash);
      if (!open) throw new ApiError('invalid-session', 'The session is unknown, its result was already read, or it was purged.');
      // Still waiting or being examined: say so, as often as asked.
      if (open.state === 'examining' || (open.state === 'pending' && now < open.expiresAt)) return resultOf(req.params.id, open, now);
      // A final result is read once: it is deleted as it is read (of two concurrent reads, one gets it).
      const s = await store.takeSessionResult(hash, now);
      if (!s) throw new ApiError('invalid-session', 'The session\'s result was already read.');
      return resultOf(req.params.id, s, now);
    },
  });
}

function resultOf(sessionId: string, s: SessionRecord, now: number): RouteReply<typeof sessionResultRoute> {
  const decided = s.state === 'done' || s.state === 'refused';
  const state = decided ? s.state : now >= s.expiresAt ? 'expired' : 'pending';
  return {
    sessionId,
    action: s.action,
    userId: s.action === 'identify' ? (decided ? s.resultUser : null) : s.userId,
    siteNonce: s.siteNonce,
    state,
    ...(s.decision !== null ? { decision: s.decision } : {}),
    ...(s.liveness !== null ? { liveness: s.liveness } : {}),
    ...(s.refusal !== null ? { refusal: s.refusal } : {}),
    ...(s.decidedAt !== null ? { decidedAt: new Date(s.decidedAt).toISOString() } : {}),
  };
}
