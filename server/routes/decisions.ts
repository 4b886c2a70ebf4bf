/**
 * 1:1 verify and 1:N identify: the server scores, decides, logs, and signs; the page sees only the
 * decision. An accept carries an assertion (server/assertion.ts) naming the user, the action and the
 * challenge nonce the request consumed; only a verify assertion is ever proof on this server.
 */
import type { FastifyInstance } from 'fastify';
import { signAssertion } from '../assertion.js';
import { guardsFor } from '../audit/lockout.js';
import { bestScore, toUnitVector } from '../embedding.js';
import { ApiError } from '../errors.js';
import { clientInfo, lockedOutError, modelOf } from '../http.js';
import { consumeNonceFor, hashNonce } from '../nonce.js';
import { identifyOpenSet } from '../sessions/decide.js';
import { identifyRoute, verifyRoute, type RouteReply } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

const decoys = new Map<number, Float32Array[]>();

/** Fixed unit vectors an unknown user's probe is scored against (as many as a typical enrolment), so the work is the same. */
function decoysFor(size: number): Float32Array[] {
  let d = decoys.get(size);
  if (!d) {
    d = Array.from({ length: 5 }, (_, k) => {
      const v = new Float32Array(size);
      for (let i = 0; i < size; i++) v[i] = Math.sin(1 + i * 12.9898 + k * 78.233);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
    decoys.set(size, d);
  }
  return d;
}

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
          guards: guardsFor(config.lockout, { userId, ip: req.ip }),
          client: clientInfo(req),
          // An unknown user is scored against decoys and rejected: the same answer as a known user's reject (no enumeration).
          decoys: decoysFor(model.size),
        },
        (templates) => bestScore(probe, templates),
      );
      switch (out.kind) {
        case 'invalid-nonce':
          throw new ApiError('invalid-nonce', 'The nonce is unknown, used, expired, or not for verify of this user.');
        case 'unknown-user':
          throw new Error('verify: decoys were given, so there is no unknown-user outcome');
        case 'locked-out':
          throw lockedOutError(out);
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
      const out = await identifyOpenSet(app, modelId, probe, now, clientInfo(req), guardsFor(config.lockout, { userId: null, ip: req.ip }), seq);
      if (out.kind === 'locked-out') throw lockedOutError(out);
      const who = out.userId;
      if (who === null) return { decision: 'reject' };
      return {
        decision: 'accept',
        userId: who,
        assertion: signAssertion(config.assertionKeys, { aud: config.assertionAudience, sub: who, act: 'identify', nonce }, { nowMs: now, ttlS: config.assertionTtlS }),
      };
    },
  });
}
