/**
 * 1:1 verify and 1:N identify: the server scores, decides, logs, and signs; the page sees only the
 * decision. An accept carries an assertion (server/assertion.ts) naming the user, the action and the
 * challenge nonce the request consumed; only a verify assertion is ever proof on this server.
 */
import type { FastifyInstance } from 'fastify';
import { signAssertion } from '../assertion.js';
import { guardKeyForUser } from '../audit/lockout.js';
import { bestScore, toUnitVector } from '../embedding.js';
import { ApiError } from '../errors.js';
import { clientInfo, modelOf } from '../http.js';
import { consumeNonceFor, hashNonce } from '../nonce.js';
import { identifyOpenSet } from '../sessions/decide.js';
import { identifyRoute, verifyRoute, type RouteReply } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

export default async function decisionRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(verifyRoute),
    handler: async (req): Promise<RouteReply<typeof verifyRoute>> => {
      const { nonce, userId, modelId, embedding } = req.body;
      await app.limitUser(req, userId);
      const model = modelOf(config, modelId);
      const probe = toUnitVector(embedding, model, 'embedding');
      const now = config.now();
      const out = await store.verifyAttempt(
        {
          nonceHash: hashNonce(nonce),
          userId,
          modelId,
          threshold: model.threshold,
          now,
          guardKey: guardKeyForUser(userId),
          lockout: config.lockout,
          client: clientInfo(req),
        },
        (templates) => bestScore(probe, templates),
      );
      switch (out.kind) {
        case 'invalid-nonce':
          throw new ApiError('invalid-nonce', 'The nonce is unknown, used, expired, or not for verify of this user.');
        case 'unknown-user':
          throw new ApiError('unknown-user', `No templates are enrolled for this user with model ${modelId}.`);
        case 'locked-out': {
          const retryAfterSeconds = Math.ceil(out.retryAfterMs / 1000);
          throw new ApiError('locked-out', `Too many failed attempts for this user; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
        }
        case 'decided':
          return out.accepted
            ? {
                decision: 'accept',
                assertion: signAssertion(config.assertionKeys, { aud: config.assertionAudience, sub: userId, act: 'verify', nonce }, { nowMs: now, ttlS: config.assertionTtlS }),
              }
            : { decision: 'reject' };
      }
    },
  });

  api.route({
    ...routeOptions(identifyRoute),
    handler: async (req): Promise<RouteReply<typeof identifyRoute>> => {
      const { nonce, modelId, embedding } = req.body;
      const model = modelOf(config, modelId);
      const probe = toUnitVector(embedding, model, 'embedding');
      const now = config.now();
      const seq = await consumeNonceFor(store, nonce, 'identify', null, now);
      const who = await identifyOpenSet(app, modelId, probe, now, clientInfo(req), seq);
      if (who === null) return { decision: 'reject' };
      return {
        decision: 'accept',
        userId: who,
        assertion: signAssertion(config.assertionKeys, { aud: config.assertionAudience, sub: who, act: 'identify', nonce }, { nowMs: now, ttlS: config.assertionTtlS }),
      };
    },
  });
}
