import type { FastifyInstance } from 'fastify';
import { healthSchema, openapiSchema } from '../schemas/routes.js';

export default async function metaRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v1/health', { schema: healthSchema, config: { rateLimit: false } }, async () => {
    await app.store.changeSeq(); // the database answers
    const models: Record<string, { size: number }> = {};
    for (const [id, m] of Object.entries(app.config.models)) models[id] = { size: m.size };
    return { ok: true, db: app.store.kind, models };
  });

  app.get('/openapi.json', { schema: openapiSchema, config: { rateLimit: false } }, async () => app.openapi());
}
