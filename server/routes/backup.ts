/**
 * Template backup / restore for the offline-first widget. Backups live in their own table (one
 * row per user, replaced by each backup) and are never matched against: only enrolled server
 * templates take part in verify / identify / duplicate checks.
 *
 * The first backup of a user id with no data is open (like enrollment). Replacing a backup, or
 * backing up a user who is enrolled, needs proof: the new templates match the old ones, or an
 * assertion, or the admin key. Restore always needs an assertion or the admin key: a backup is
 * biometric data and a nonce alone proves nothing (anyone can ask for one). An assertion is proof
 * only from an accepted verify of the user, and only once (server/http.ts checkProof, spendProof).
 */
import type { FastifyInstance } from 'fastify';
import { toUnitVector } from '../embedding.js';
import { ApiError } from '../errors.js';
import { checkProof, modelOf, spendProof } from '../http.js';
import { consumeNonceFor } from '../nonce.js';
import { backupRoute, restoreRoute, type RouteReply } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';
import { guardedSameFace } from './enroll.js';

export default async function backupRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(backupRoute),
    handler: async (req, reply) => {
      const { userId } = req.params;
      const { nonce, modelId, templates } = req.body;
      await app.limitUser(req, userId);
      const model = modelOf(config, modelId);
      const fresh = templates.map((t, i) => ({
        pose: t.pose,
        createdAt: t.createdAt,
        embedding: toUnitVector(t.embedding, model, `templates[${i}].embedding`),
      }));
      const pending = await checkProof(req, userId, config);
      const now = config.now();
      await consumeNonceFor(store, nonce, 'backup', userId, now);
      const proof = await spendProof(store, pending);
      if (await store.userExists(userId)) {
        if (proof === null) {
          const prev = await store.getBackup(userId);
          const old = [
            ...(prev?.modelId === modelId ? prev.templates.map((t) => t.embedding) : []),
            ...(await store.templatesOf(userId, modelId)),
          ];
          if (!(await guardedSameFace(app, req, { action: 'backup', userId, modelId, fresh: fresh.map((t) => t.embedding), old, threshold: model.threshold, now }))) {
            throw new ApiError('proof-required', 'This user id already has data: the backup must be of the same face, or come with an assertion or the admin key.');
          }
        }
      } else if (!config.openEnrollment && proof !== 'admin') {
        throw new ApiError('proof-required', 'Enrollment is closed on this server: a new user needs the admin key.');
      }
      await store.putBackup({ userId, modelId, templates: fresh, updatedAt: now });
      return reply.code(204).send(null);
    },
  });

  api.route({
    ...routeOptions(restoreRoute),
    handler: async (req): Promise<RouteReply<typeof restoreRoute>> => {
      const { userId } = req.params;
      await app.limitUser(req, userId);
      const pending = await checkProof(req, userId, config);
      await consumeNonceFor(store, req.body.nonce, 'restore', userId, config.now());
      if ((await spendProof(store, pending)) === null) {
        throw new ApiError('proof-required', 'restore needs an assertion for this user (Authorization: Bearer) or the admin key.');
      }
      const backup = await store.getBackup(userId);
      if (!backup) throw new ApiError('unknown-user', 'There is no backup for this user.');
      return {
        modelId: backup.modelId,
        templates: backup.templates.map((t) => ({ pose: t.pose, embedding: Array.from(t.embedding), createdAt: t.createdAt })),
      };
    },
  });
}
