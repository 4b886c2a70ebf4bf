import type { FastifyInstance } from 'fastify';
import { challengeRoute } from '../../src/protocol/index.js';
import { ApiError } from '../errors.js';
import { hashNonce, newNonce } from '../nonce.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

export default async function challengeRoutes(app: FastifyInstance): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().route({
    ...routeOptions(challengeRoute),
    handler: async (req, reply) => {
      const { action, userId } = req.body;
      if (action === 'identify' && userId !== undefined) {
        throw new ApiError('invalid-body', 'An identify challenge is not bound to a user: omit userId.');
      }
      if (action !== 'identify' && userId === undefined) throw new ApiError('invalid-body', `userId is required for action "${action}".`);
      if (userId !== undefined) await app.limitUser(req, userId);
      const nonce = newNonce();
      const now = app.config.now();
      const expiresAt = now + app.config.nonceTtlMs;
      await app.store.createNonce(hashNonce(nonce), { action, userId: userId ?? null, expiresAt }, now);
      return reply.code(201).send({ nonce, expiresAt: new Date(expiresAt).toISOString() });
    },
  });
}
