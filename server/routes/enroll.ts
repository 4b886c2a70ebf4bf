/**
 * Enrollment. Order of checks: schema -> model -> every embedding -> proof read and checked -> nonce
 * (consumed) -> proof spent (an assertion is single use) -> duplicate check -> one durable transaction.
 *
 * Who may enroll: a user id with no data yet is open (unless FACE_LOGIN_OPEN_ENROLLMENT=0, then
 * only with the admin key). A user id that already has data may be re-enrolled only with proof
 * that it is the same person: one of the new templates matches one of the old ones (enrolled
 * templates or backup, same model) at the threshold, or an assertion from an accepted verify of
 * the user (never identify's), or the admin key. Without that rule anyone could replace alice's face with theirs and log in as alice.
 *
 * Duplicate enrollment: no new template may be ANOTHER user's face by identify's open-set rule (the
 * threshold rising with the gallery: at the 1:1 threshold a gallery of 500 refused ~60 % of new
 * people). The check runs against this instance's gallery synced to the database, and the write
 * only commits if the change sequence has not moved since (optimistic; on a move, sync and check
 * again), so two instances cannot both admit the same face for two users. A duplicate is audited
 * and counts as a failure on the address (the check answers "is this face enrolled?").
 *
 * Every face match here is guarded (server/audit/lockout.ts) and audited: the same-face check of a
 * re-enrolment counts on the user and the address like a verify; the enrolment itself is an
 * `enroll` accept row.
 *
 * `ifNotEnrolled: true` (the widget's flush of an enrolment made offline): refused with 409
 * already-enrolled when the user already has templates for the model, checked before the proof
 * and again inside the optimistic loop, so such a request only ever creates an enrolment and
 * never touches one made elsewhere (the widget then sends the templates as a backup instead).
 */
import type { FastifyInstance } from 'fastify';
import type { FastifyRequest } from 'fastify';
import { guardsFor } from '../audit/lockout.js';
import { bestScore, toUnitVector } from '../embedding.js';
import { ApiError } from '../errors.js';
import { checkProof, clientInfo, lockedOutError, modelOf, spendProof } from '../http.js';
import { checkDuplicate } from '../sessions/decide.js';
import { consumeNonceFor } from '../nonce.js';
import { enrollRoute } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';
import type { AttemptAction, NewTemplate } from '../store/types.js';

const MAX_TRIES = 50;

/**
 * The same-face check that lets a caller without proof replace or back up a user's data, as a guarded,
 * audited match (like a verify: a mismatch counts on the user and the address, a match resets the
 * user). True when one of the new templates matches one of `old`.
 */
export async function guardedSameFace(
  app: FastifyInstance,
  req: FastifyRequest,
  input: { readonly action: AttemptAction; readonly userId: string; readonly modelId: string; readonly fresh: readonly Float32Array[]; readonly old: readonly Float32Array[]; readonly threshold: number; readonly now: number },
): Promise<boolean> {
  const out = await app.store.guardedAttempt(
    {
      now: input.now,
      guards: guardsFor(app.config.lockout, { userId: input.userId, ip: req.ip }),
      attempt: { at: input.now, action: input.action, claimedUser: input.userId, matchedUser: input.userId, modelId: input.modelId, client: clientInfo(req) },
    },
    () => {
      const score = Math.max(-1, ...input.fresh.map((e) => bestScore(e, input.old)));
      const same = score >= input.threshold;
      return { decision: same ? 'accept' : 'reject', score, failed: !same };
    },
  );
  if (out.kind === 'locked-out') throw lockedOutError(out);
  return out.judgement.decision === 'accept';
}

export default async function enrollRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(enrollRoute),
    handler: async (req, reply) => {
      const { nonce, userId, modelId, templates, replace = true, ifNotEnrolled = false } = req.body;
      await app.limitUser(req, userId);
      const model = modelOf(config, modelId);
      const fresh: NewTemplate[] = templates.map((t, i) => ({
        pose: t.pose,
        embedding: toUnitVector(t.embedding, model, `templates[${i}].embedding`),
      }));
      const pending = await checkProof(req, userId, config);
      const now = config.now();
      await consumeNonceFor(store, nonce, 'enroll', userId, now);
      const proof = await spendProof(store, pending);
      const refuseIfEnrolled = async (): Promise<void> => {
        if (ifNotEnrolled && (await store.templatesOf(userId, modelId)).length > 0) {
          throw new ApiError('already-enrolled', `This user already has templates for model ${modelId} (ifNotEnrolled).`);
        }
      };
      await refuseIfEnrolled();

      if (await store.userExists(userId)) {
        if (proof === null) {
          const backup = await store.getBackup(userId);
          const old = [
            ...(await store.templatesOf(userId, modelId)),
            ...(backup?.modelId === modelId ? backup.templates.map((t) => t.embedding) : []),
          ];
          if (!(await guardedSameFace(app, req, { action: 'enroll', userId, modelId, fresh: fresh.map((t) => t.embedding), old, threshold: model.threshold, now }))) {
            throw new ApiError(
              'proof-required',
              'This user id already has data: re-enrolling needs the same face, an assertion from an accepted verify of the user (Authorization: Bearer), or the admin key.',
            );
          }
        }
      } else if (!config.openEnrollment && proof !== 'admin') {
        throw new ApiError('proof-required', 'Enrollment is closed on this server: a new user needs the admin key.');
      }

      const probes = fresh.map((t) => t.embedding);
      const guards = guardsFor(config.lockout, { userId: null, ip: req.ip });
      const lock = await store.lockState(guards.map((g) => g.key), now);
      if (lock.remainingMs > 0) throw lockedOutError({ retryAfterMs: lock.remainingMs, disabled: lock.disabled });
      const result = await app.serializeEnroll(async () => {
        for (let i = 0; i < MAX_TRIES; i++) {
          await app.gallery.sync();
          await refuseIfEnrolled(); // an enrolment committed meanwhile (another request, another instance)
          const dup = await checkDuplicate(app, { action: 'enroll', userId, modelId, probes, now, client: clientInfo(req), guards });
          if (dup.kind === 'locked-out') throw lockedOutError(dup);
          if (dup.duplicate) throw new ApiError('duplicate-enrollment', 'This face is already enrolled for another user.');
          const out = await store.enroll({
            userId,
            modelId,
            templates: fresh,
            replace,
            now,
            expectSeq: app.gallery.seq,
            maxTemplates: config.maxTemplatesPerUser,
          });
          if (out.kind === 'conflict') continue;
          if (out.kind === 'too-many') {
            throw new ApiError(
              'too-many-templates',
              `This user has ${out.existing} templates for the model; adding ${fresh.length} would exceed ${config.maxTemplatesPerUser} (use replace).`,
            );
          }
          await app.gallery.sync(out.seq);
          await store.recordAttempt({ at: now, action: 'enroll', claimedUser: userId, matchedUser: userId, decision: 'accept', score: null, modelId, client: clientInfo(req) });
          return out;
        }
        throw new Error(`enroll: the change sequence kept moving for ${MAX_TRIES} tries`);
      });
      return reply.code(201).send({ userId, templates: result.templates });
    },
  });
}
