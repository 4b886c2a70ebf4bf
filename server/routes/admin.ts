/** Admin: label attempts for the threshold report, list the audit log. Admin key only. */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { requireAdmin } from '../http.js';
import { labelAttemptSchema, listAttemptsSchema } from '../schemas/routes.js';
import type { AttemptLabel } from '../store/types.js';

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;

  app.post<{ Params: { id: string }; Body: { label: AttemptLabel } }>(
    '/v1/admin/attempts/:id/label',
    { schema: labelAttemptSchema },
    async (req, reply) => {
      requireAdmin(req, config);
      if (!(await store.labelAttempt(Number(req.params.id), req.body.label, config.now()))) {
        throw new ApiError('not-found', 'There is no such attempt.');
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/admin/attempts', { schema: listAttemptsSchema }, async (req) => {
    requireAdmin(req, config);
    const after = Number(req.query.after ?? 0);
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
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
      })),
    };
  });
}
