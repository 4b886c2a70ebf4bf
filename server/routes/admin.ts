/** Admin: label attempts for the threshold report, list the audit log. Admin key only. */
import type { FastifyInstance } from 'fastify';
import { ATTEMPTS_PAGE, labelAttemptRoute, listAttemptsRoute, type RouteReply } from '../../src/protocol/index.js';
import { ApiError } from '../errors.js';
import { requireAdmin } from '../http.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(labelAttemptRoute),
    handler: async (req, reply) => {
      requireAdmin(req, config);
      if (!(await store.labelAttempt(Number(req.params.id), req.body.label, config.now()))) {
        throw new ApiError('not-found', 'There is no such attempt.');
      }
      return reply.code(204).send(null);
    },
  });

  api.route({
    ...routeOptions(listAttemptsRoute),
    handler: async (req): Promise<RouteReply<typeof listAttemptsRoute>> => {
      requireAdmin(req, config);
      const after = Number(req.query.after ?? 0);
      const limit = Math.min(Math.max(Number(req.query.limit ?? ATTEMPTS_PAGE.default), 1), ATTEMPTS_PAGE.max);
      const rows = await store.listAttempts(after, limit);
      return {
        attempts: rows.map((a) => ({
          id: a.id,
          at: new Date(a.at).toISOString(),
          action: a.action,
          claimedUser: a.claimedUser,
          matchedUser: a.matchedUser,
          decision: a.decision,
          score: a.score,
          modelId: a.modelId,
          ip: a.client.ip,
          userAgent: a.client.userAgent,
          origin: a.client.origin,
          label: a.label,
          refusal: a.refusal ?? null,
        })),
      };
    },
  });
}
