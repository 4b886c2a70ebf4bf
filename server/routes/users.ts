/** GDPR: delete a user and everything about them; export everything about them. Both need proof (a verify assertion, single use, or the admin key). */
import type { FastifyInstance } from 'fastify';
import { exportSignatureHook } from '../crypto/export-signature.js';
import { ApiError } from '../errors.js';
import { checkProof, spendProof } from '../http.js';
import { consumeNonceFor } from '../nonce.js';
import { deleteUserRoute, exportUserRoute, type ChallengeAction, type RouteReply } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';
import type { Store } from '../store/types.js';

/** Everything stored about a user, as the export routes answer it (the raw score withheld). */
export function exportView(data: NonNullable<Awaited<ReturnType<Store['exportUser']>>>): RouteReply<typeof exportUserRoute> {
  return {
    userId: data.userId,
    createdAt: data.createdAt,
    templates: data.templates.map((t) => ({ modelId: t.modelId, pose: t.pose, embedding: Array.from(t.embedding), createdAt: t.createdAt })),
    backup: data.backup && {
      modelId: data.backup.modelId,
      updatedAt: data.backup.updatedAt,
      templates: data.backup.templates.map((t) => ({ pose: t.pose, embedding: Array.from(t.embedding), createdAt: t.createdAt })),
    },
    // The score is withheld: it would turn the export into a matching oracle.
    attempts: data.attempts.map((a) => ({
      at: new Date(a.at).toISOString(),
      action: a.action,
      claimedUser: a.claimedUser,
      matchedUser: a.matchedUser,
      decision: a.decision,
      modelId: a.modelId,
      ip: a.client.ip,
      userAgent: a.client.userAgent,
      origin: a.client.origin,
    })),
  };
}

export default async function userRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  async function authorize(req: Parameters<typeof checkProof>[0], userId: string, action: ChallengeAction, nonce: string): Promise<void> {
    await app.limitUser(req, userId);
    const pending = await checkProof(req, userId, config);
    await consumeNonceFor(store, nonce, action, userId, config.now());
    if ((await spendProof(store, pending)) === null) {
      throw new ApiError('proof-required', `${action} needs an assertion for this user (Authorization: Bearer, from an accepted verify) or the admin key.`);
    }
  }

  api.route({
    ...routeOptions(deleteUserRoute),
    handler: async (req, reply) => {
      const { userId } = req.params;
      await authorize(req, userId, 'delete', req.headers['x-face-login-nonce']);
      if (!(await store.deleteUser(userId, config.now()))) throw new ApiError('unknown-user', 'There is no such user.');
      await app.gallery.sync();
      return reply.code(204).send(null);
    },
  });

  api.route({
    ...routeOptions(exportUserRoute),
    // Signed like the site export: a detached EdDSA JWS over the body (server/crypto/export-signature.ts).
    onSend: exportSignatureHook(config.assertionKeys, config.now),
    handler: async (req): Promise<RouteReply<typeof exportUserRoute>> => {
      const { userId } = req.params;
      await authorize(req, userId, 'export', req.headers['x-face-login-nonce']);
      const data = await store.exportUser(userId);
      if (!data) throw new ApiError('unknown-user', 'There is no such user.');
      return exportView(data);
    },
  });
}
