import type { FastifyInstance } from 'fastify';
import { healthRoute, keysRoute, openapiRoute, type RouteReply } from '../../src/protocol/index.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';

export default async function metaRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(healthRoute),
    config: { rateLimit: false },
    handler: async (): Promise<RouteReply<typeof healthRoute>> => {
      // The database answers AND takes a write: a full disk, a read-only file or another writer's lock
      // is a typed 503 (storage-full / storage-unavailable / storage-busy), not "ok".
      await app.store.healthCheck(app.config.now());
      const models: Record<string, { size: number }> = {};
      for (const [id, m] of Object.entries(app.config.models)) models[id] = { size: m.size };
      return { ok: true, db: app.store.kind, models };
    },
  });

  api.route({ ...routeOptions(openapiRoute), config: { rateLimit: false }, handler: async () => app.openapi() });

  // The public keys that sign assertions: public, cacheable for minutes (portals re-fetch on an unknown kid).
  api.route({
    ...routeOptions(keysRoute),
    handler: async (_req, reply): Promise<RouteReply<typeof keysRoute>> => {
      void reply.header('cache-control', 'public, max-age=300');
      return app.config.assertionKeys.jwks;
    },
  });
}
