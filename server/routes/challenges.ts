import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { hashNonce, newNonce, type ChallengeAction } from '../nonce.js';
import { challengeSchema } from '../schemas/routes.js';

interface Body {
  action: ChallengeAction;
  userId?: string;
}

export default async function challengeRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: Body }>('/v1/challenges', { schema: challengeSchema }, async (req, reply) => {
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
  });
}
