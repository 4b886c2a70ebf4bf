/**
 * What the server concludes from one session's upload: the examiner looks at the frames (the
 * server's own evidence, never a number the page sent), then the session's action decides with
 * the store's existing rules:
 *
 * - enroll: one template per pose, replacing the user's templates for the examiner's model. The
 *   site's backend opened the session with its key, so that is the authority to (re-)enrol (a
 *   face match never is); refused as duplicate-enrollment when any template matches ANOTHER
 *   user at the threshold (the same optimistic check-then-commit loop as POST /v1/enroll).
 * - verify: the store's verifyAttempt (lockout checked, the best template against the threshold,
 *   an audit row, the lockout state updated) through a one-shot internal nonce bound to verify of
 *   the session's user, so the session path and POST /v1/verify share one atomic decision.
 * - identify: the open-set decision of POST /v1/identify (threshold rising with the gallery),
 *   with an audit row; a stranger is null, never the nearest user.
 *
 * Every upload writes one audit row: verify and identify through the store's decision (with the
 * score), and a row with decision 'refused' and its refusal when no face decision was made (a
 * capture refused by the examiner, an unknown user, a duplicate enrolment), and enrol's accept.
 * The outcome holds no score; the audit log has it (server side only).
 */
import type { FastifyInstance } from 'fastify';
import { guardKeyForUser } from '../audit/lockout.js';
import { bestScore } from '../embedding.js';
import { ApiError } from '../errors.js';
import { modelOf } from '../http.js';
import { hashNonce, newNonce } from '../nonce.js';
import type { ClientInfo, NewTemplate, SessionOutcome, SessionRecord, SessionRefusal } from '../store/types.js';
import type { FaceExaminer, UploadedFrame } from '../vision/examine-types.js';
import { identifyThreshold } from '../../src/core/calibration.js';

const MAX_TRIES = 50;
/** The internal verify nonce lives only for the one store call that consumes it. */
const INTERNAL_NONCE_TTL_MS = 60_000;

/** Refusals that are about the capture (the page may tell the person and the site may open a new session). */

export async function decideSession(
  app: FastifyInstance,
  examiner: FaceExaminer,
  session: SessionRecord,
  frames: readonly UploadedFrame[],
  client: ClientInfo,
): Promise<SessionOutcome & { message?: string }> {
  const seen = await examiner.examine(frames, session.challenge);
  const now = app.config.now();
  const base = { resultUser: session.userId, decidedAt: now };
  const modelId = examiner.modelId;
  // The audit row of an attempt that made no face decision (verify and identify write their own).
  const refused = (refusal: SessionRefusal, matchedUser: string | null = session.userId) =>
    app.store.recordAttempt({ at: now, action: session.action, claimedUser: session.userId, matchedUser, decision: 'refused', score: null, modelId, client, refusal });
  if (!seen.ok) {
    await refused(seen.refusal);
    const failed = seen.refusal === 'liveness-failed' || seen.refusal === 'identity-changed';
    return { ...base, state: 'refused', decision: null, liveness: failed ? 'failed' : null, refusal: seen.refusal, message: seen.message };
  }
  const model = modelOf(app.config, modelId);
  const passed = { ...base, liveness: 'passed' as const };
  switch (session.action) {
    case 'enroll': {
      const stored = await enrollFromSession(app, session.userId!, modelId, seen.templates, now);
      if (stored) {
        await app.store.recordAttempt({ at: now, action: 'enroll', claimedUser: session.userId, matchedUser: session.userId, decision: 'accept', score: null, modelId, client });
      } else {
        await refused('duplicate-enrollment');
      }
      return stored ? { ...passed, state: 'done', decision: 'accept', refusal: null } : { ...passed, state: 'refused', decision: null, refusal: 'duplicate-enrollment' };
    }
    case 'verify': {
      const userId = session.userId!;
      const nonce = hashNonce(newNonce());
      await app.store.createNonce(nonce, { action: 'verify', userId, expiresAt: now + INTERNAL_NONCE_TTL_MS }, now);
      const out = await app.store.verifyAttempt(
        { nonceHash: nonce, userId, modelId, threshold: model.threshold, now, guardKey: guardKeyForUser(userId), lockout: app.config.lockout, client },
        (templates) => bestScore(seen.probe, templates),
      );
      switch (out.kind) {
        case 'invalid-nonce':
          throw new Error('session verify: the internal nonce was not accepted');
        case 'unknown-user':
          await refused('unknown-user');
          return { ...passed, state: 'refused', decision: null, refusal: out.kind };
        case 'locked-out':
          // The store wrote its locked-out row.
          return { ...passed, state: 'refused', decision: null, refusal: out.kind };
        case 'decided':
          return { ...passed, state: 'done', decision: out.accepted ? 'accept' : 'reject', refusal: null };
      }
    }
    case 'identify': {
      const who = await identifyOpenSet(app, modelId, seen.probe, now, client);
      return { ...passed, state: 'done', decision: who === null ? 'reject' : 'accept', refusal: null, resultUser: who };
    }
  }
}

/**
 * The open-set 1:N decision with its audit row: the best user when their best template reaches the
 * threshold for this gallery size, else null. Used by the session routes and by POST /v1/identify
 * (which passes the change sequence it already read while consuming its nonce).
 */
export async function identifyOpenSet(
  app: FastifyInstance,
  modelId: string,
  probe: Float32Array,
  now: number,
  client: ClientInfo,
  changeSeq?: number,
): Promise<string | null> {
  const model = modelOf(app.config, modelId);
  // N templates give a stranger N chances: the threshold rises with the gallery (src/core/calibration.ts).
  await app.gallery.sync(changeSeq ?? (await app.store.changeSeq()));
  const best = app.gallery.best(modelId, [probe]);
  const templates = app.gallery.gallery(modelId)?.templates ?? 0;
  const threshold = model.impostorTail ? identifyThreshold(templates, { floor: model.threshold, tail: model.impostorTail }) : model.threshold;
  const accepted = best !== null && best.score >= threshold;
  await app.store.recordAttempt({
    at: now,
    action: 'identify',
    claimedUser: null,
    // A stranger's attempt is filed under nobody: the nearest user is not theirs to carry (her export, her deletion).
    matchedUser: accepted ? best.userId : null,
    decision: accepted ? 'accept' : 'reject',
    score: best?.score ?? null,
    modelId,
    client,
  });
  return accepted ? best.userId : null;
}

/** Stores the session's templates (replace); false when a template matches another user. */
async function enrollFromSession(
  app: FastifyInstance,
  userId: string,
  modelId: string,
  templates: readonly { readonly pose: NewTemplate['pose']; readonly embedding: Float32Array }[],
  now: number,
): Promise<boolean> {
  const model = modelOf(app.config, modelId);
  const probes = templates.map((t) => t.embedding);
  if (probes.length === 0 || probes.some((p) => p.length !== model.size)) {
    throw new Error(`session enroll: the examiner gave ${probes.length} templates, not of size ${model.size}`);
  }
  return app.serializeEnroll(async () => {
    for (let i = 0; i < MAX_TRIES; i++) {
      await app.gallery.sync();
      const other = app.gallery.best(modelId, probes, userId);
      if (other && other.score >= model.threshold) return false;
      const out = await app.store.enroll({
        userId,
        modelId,
        templates,
        replace: true,
        now,
        expectSeq: app.gallery.seq,
        maxTemplates: app.config.maxTemplatesPerUser,
      });
      if (out.kind === 'conflict') continue;
      if (out.kind === 'too-many') throw new ApiError('too-many-templates', 'The session gave more templates than a user may hold.');
      await app.gallery.sync(out.seq);
      return true;
    }
    throw new Error(`session enroll: the change sequence kept moving for ${MAX_TRIES} tries`);
  });
}
