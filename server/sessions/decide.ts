/**
 * What the server concludes from one session's upload: the examiner looks at the frames (the
 * server's own evidence, never a number the page sent), then the session's action decides with
 * the store's existing rules:
 *
 * - enroll: one template per pose, replacing the user's templates for the examiner's model. The
 *   site's backend opened the session with its key, so that is the authority to (re-)enrol (a
 *   face match never is), and it lifts the user's lockout. The duplicate check (another user's
 *   face, by identify's open-set rule) is a policy, not a proof: off for sessions unless
 *   FACE_LOGIN_SESSION_DUPLICATE_CHECK=1.
 * - verify: the store's verifyAttempt (lockout checked, the best template against the threshold,
 *   an audit row, the lockout state updated) through a one-shot internal nonce bound to verify of
 *   the session's user, so the session path and POST /v1/verify share one atomic decision.
 * - identify: the open-set decision of POST /v1/identify (threshold rising with the gallery),
 *   with an audit row; a stranger is null, never the nearest user.
 *
 * Lockout (server/audit/lockout.ts): a locked user or address is refused before the frames are
 * examined; verify's reject, identify's reject and a failed liveness count as failures.
 *
 * Every upload writes one audit row: verify and identify through the store's decision (with the
 * score), and a row with decision 'refused' and its refusal when no face decision was made (a
 * capture refused by the examiner, an unknown user, a duplicate enrolment), a `locked-out` row, and
 * enrol's accept. The outcome holds no score; the audit log has it (server side only).
 */
import type { FastifyInstance } from 'fastify';
import { guardsFor, type GuardSpec } from '../audit/lockout.js';
import { bestScore } from '../embedding.js';
import { ApiError } from '../errors.js';
import { modelOf } from '../http.js';
import { hashNonce, newNonce } from '../nonce.js';
import type { AttemptAction, ClientInfo, LockedOut, NewTemplate, SessionOutcome, SessionRecord, SessionRefusal } from '../store/types.js';
import type { FaceExaminer, UploadedFrame } from '../vision/examine-types.js';
import { identifyThreshold } from '../../src/core/calibration.js';

const MAX_TRIES = 50;
/** The internal verify nonce lives only for the one store call that consumes it. */
const INTERNAL_NONCE_TTL_MS = 60_000;

export async function decideSession(
  app: FastifyInstance,
  examiner: FaceExaminer,
  session: SessionRecord,
  frames: readonly UploadedFrame[],
  client: ClientInfo,
): Promise<SessionOutcome & { message?: string }> {
  const now = app.config.now();
  const base = { resultUser: session.userId, decidedAt: now };
  const modelId = examiner.modelId;
  // Verify guards the user and the address; identify and enrol the address (server/audit/lockout.ts).
  const guards = guardsFor(app.config.lockout, { userId: session.action === 'verify' ? session.userId : null, ip: client.ip });
  // The audit row of an attempt that made no face decision (verify and identify write their own).
  const refused = (refusal: SessionRefusal, matchedUser: string | null = session.userId) =>
    app.store.recordAttempt({ at: now, action: session.action, claimedUser: session.userId, matchedUser, decision: 'refused', score: null, modelId, client, refusal });
  // A locked user or address gets no examination at all.
  const lock = await app.store.lockState(guards.map((g) => g.key), now);
  if (lock.remainingMs > 0) {
    await app.store.recordAttempt({ at: now, action: session.action, claimedUser: session.userId, matchedUser: session.userId, decision: 'locked-out', score: null, modelId, client });
    return { ...base, state: 'refused', decision: null, liveness: null, refusal: 'locked-out' };
  }
  const seen = await examiner.examine(frames, session.challenge);
  if (!seen.ok) {
    const failed = seen.refusal === 'liveness-failed' || seen.refusal === 'identity-changed';
    if (failed) {
      // A presentation that failed liveness is a failed attempt: it counts on the guards like a reject.
      const out = await app.store.guardedAttempt(
        { now, guards, attempt: { at: now, action: session.action, claimedUser: session.userId, matchedUser: session.userId, modelId, client } },
        () => ({ decision: 'refused', score: null, refusal: seen.refusal, failed: true }),
      );
      if (out.kind === 'locked-out') return { ...base, state: 'refused', decision: null, liveness: null, refusal: 'locked-out' };
    } else {
      await refused(seen.refusal);
    }
    return { ...base, state: 'refused', decision: null, liveness: failed ? 'failed' : null, refusal: seen.refusal, message: seen.message };
  }
  const model = modelOf(app.config, modelId);
  const passed = { ...base, liveness: 'passed' as const };
  switch (session.action) {
    case 'enroll': {
      const stored = await enrollFromSession(app, session.userId!, modelId, seen.templates, now, client, guards);
      if (stored === 'locked-out') return { ...passed, state: 'refused', decision: null, refusal: 'locked-out' };
      if (stored) {
        await app.store.recordAttempt({ at: now, action: 'enroll', claimedUser: session.userId, matchedUser: session.userId, decision: 'accept', score: null, modelId, client });
        // Enrolled again on the site's authority: the user's lockout (and a disabled face login) is lifted.
        await app.store.clearGuards(guardsFor(app.config.lockout, { userId: session.userId, ip: client.ip }).filter((g) => g.resetOnSuccess).map((g) => g.key));
      }
      return stored ? { ...passed, state: 'done', decision: 'accept', refusal: null } : { ...passed, state: 'refused', decision: null, refusal: 'duplicate-enrollment' };
    }
    case 'verify': {
      const userId = session.userId!;
      const nonce = hashNonce(newNonce());
      await app.store.createNonce(nonce, { action: 'verify', userId, expiresAt: now + INTERNAL_NONCE_TTL_MS }, now);
      const out = await app.store.verifyAttempt(
        { nonceHash: nonce, userId, modelId, threshold: model.threshold, now, guards, client },
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
      const out = await identifyOpenSet(app, modelId, seen.probe, now, client, guards);
      if (out.kind === 'locked-out') return { ...passed, state: 'refused', decision: null, refusal: 'locked-out' };
      return { ...passed, state: 'done', decision: out.userId === null ? 'reject' : 'accept', refusal: null, resultUser: out.userId };
    }
  }
}

/**
 * The open-set threshold for this model's gallery now: N templates give a stranger N chances (src/core/calibration.ts).
 * `templates`: N as the search counted it (the database's count with pgvector); default: this process's gallery.
 */
export function openSetThreshold(app: FastifyInstance, modelId: string, templates: number = app.gallery.gallery(modelId)?.templates ?? 0): number {
  const model = modelOf(app.config, modelId);
  return model.impostorTail ? identifyThreshold(templates, { floor: model.threshold, tail: model.impostorTail }) : model.threshold;
}

/**
 * The open-set 1:N decision with its audit row, guarded (the address's lockout: a reject counts, an
 * accept resets nobody): the best user when their best template reaches the threshold for this
 * gallery size and no other user's does (else nobody: an `ambiguous` reject, not counted as a
 * failure), else null. Used by the session routes and by POST /v1/identify (which passes the
 * change sequence it already read while consuming its nonce).
 */
export async function identifyOpenSet(
  app: FastifyInstance,
  modelId: string,
  probe: Float32Array,
  now: number,
  client: ClientInfo,
  guards: readonly GuardSpec[],
  changeSeq?: number,
): Promise<LockedOut | { readonly kind: 'judged'; readonly userId: string | null }> {
  await app.gallery.sync(changeSeq ?? (await app.store.changeSeq()));
  // The search runs before the guarded transaction (with pgvector it is a database query); a locked
  // address still gets no answer from it.
  const found = await app.gallery.search(modelId, [probe], { runnerUpAt: (templates) => openSetThreshold(app, modelId, templates) });
  const threshold = openSetThreshold(app, modelId, found.templates);
  let who: string | null = null;
  const out = await app.store.guardedAttempt(
    // A stranger's attempt is filed under nobody: the nearest user is not theirs to carry (her export, her deletion).
    { now, guards, attempt: { at: now, action: 'identify', claimedUser: null, matchedUser: null, modelId, client } },
    () => {
      const best = found.best;
      const reached = best !== null && best.score >= threshold;
      // The same face under two ids (possible where the duplicate check is off): naming either could credit the wrong person.
      const runnerUp = reached ? found.runnerUp : null;
      if (reached && runnerUp !== null && runnerUp.score >= threshold) {
        return { decision: 'reject', score: best.score, refusal: 'ambiguous', matchedUser: null, failed: false };
      }
      who = reached ? best.userId : null;
      return { decision: reached ? 'accept' : 'reject', score: best?.score ?? null, matchedUser: who, failed: !reached };
    },
  );
  return out.kind === 'locked-out' ? out : { kind: 'judged', userId: who };
}

/**
 * The duplicate-enrolment check, guarded and audited: is any of these templates, by the open-set
 * rule identify uses (the threshold rising with the gallery), another user's face? A locked address
 * gets no answer; a duplicate writes a `refused` row and counts as a failure on the address (the
 * check is an oracle for "is this face enrolled?"). Call inside `serializeEnroll` after a sync.
 */
export async function checkDuplicate(
  app: FastifyInstance,
  input: { readonly action: AttemptAction; readonly userId: string; readonly modelId: string; readonly probes: readonly Float32Array[]; readonly now: number; readonly client: ClientInfo; readonly guards: readonly GuardSpec[] },
): Promise<LockedOut | { readonly kind: 'judged'; readonly duplicate: boolean }> {
  const found = await app.gallery.search(input.modelId, input.probes, { excludeUser: input.userId });
  const other = found.best;
  const duplicate = other !== null && other.score >= openSetThreshold(app, input.modelId, found.templates);
  if (!duplicate) return { kind: 'judged', duplicate };
  const address = input.guards.filter((g) => !g.resetOnSuccess);
  const out = await app.store.guardedAttempt(
    { now: input.now, guards: address, attempt: { at: input.now, action: input.action, claimedUser: input.userId, matchedUser: input.userId, modelId: input.modelId, client: input.client } },
    () => ({ decision: 'refused', score: other.score, refusal: 'duplicate-enrollment', failed: true }),
  );
  return out.kind === 'locked-out' ? out : { kind: 'judged', duplicate };
}

/**
 * Stores the session's templates (replace). The duplicate check is a policy, not a proof, and the
 * site's backend opened this session for a user it authenticated: off unless
 * FACE_LOGIN_SESSION_DUPLICATE_CHECK=1; then false when a template is another user's face.
 */
async function enrollFromSession(
  app: FastifyInstance,
  userId: string,
  modelId: string,
  templates: readonly { readonly pose: NewTemplate['pose']; readonly embedding: Float32Array }[],
  now: number,
  client: ClientInfo,
  guards: readonly GuardSpec[],
): Promise<boolean | 'locked-out'> {
  const model = modelOf(app.config, modelId);
  const probes = templates.map((t) => t.embedding);
  if (probes.length === 0 || probes.some((p) => p.length !== model.size)) {
    throw new Error(`session enroll: the examiner gave ${probes.length} templates, not of size ${model.size}`);
  }
  return app.serializeEnroll(async () => {
    for (let i = 0; i < MAX_TRIES; i++) {
      await app.gallery.sync();
      if (app.config.sessionDuplicateCheck) {
        const dup = await checkDuplicate(app, { action: 'enroll', userId, modelId, probes, now, client, guards });
        if (dup.kind === 'locked-out') return 'locked-out';
        if (dup.duplicate) return false;
      }
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
