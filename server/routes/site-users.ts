/**
 * The site's backend deletes or exports a user (x-face-login-site-key): in the main mode no page
 * route touches a user's data, so these are how a site honours an account deletion or a subject
 * access request, and lift a user's lockout (the site checked the person another way). Without a configured site key they answer sessions-disabled.
 */
import type { FastifyInstance } from 'fastify';
import { siteDeleteUserRoute, siteExportUserRoute, siteUnlockUserRoute, type RouteReply } from '../../src/protocol/index.js';
import { guardKeyForUser } from '../audit/lockout.js';
import { exportSignatureHook } from '../crypto/export-signature.js';
import { ApiError } from '../errors.js';
import { registerDisabled, requireSiteKey } from '../http.js';
import { routeOptions, type TypeBoxTypeProvider } from '../schemas/routes.js';
import { exportView } from './users.js';

export default async function siteUserRoutes(app: FastifyInstance): Promise<void> {
  const { config, store } = app;
  if (config.siteKeys.length === 0) {
    registerDisabled(app, [siteDeleteUserRoute, siteExportUserRoute, siteUnlockUserRoute], 'sessions-disabled', 'The site routes are disabled on this server: no site key is configured (FACE_LOGIN_SITE_KEYS).');
    return;
  }
  const why = 'users are deleted and exported by the site\'s backend only';
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.route({
    ...routeOptions(siteDeleteUserRoute),
    handler: async (req, reply) => {
      requireSiteKey(req, config, why);
      if (!(await store.deleteUser(req.params.userId, config.now()))) throw new ApiError('unknown-user', 'There is no such user.');
      await app.gallery.sync();
      return reply.code(204).send(null);
    },
  });

  api.route({
    ...routeOptions(siteExportUserRoute),
    // A detached Ed25519 signature of the body (Face-Login-Export-Signature, server/crypto/export-signature.ts).
    onSend: exportSignatureHook(config.assertionKeys, config.now),
    handler: async (req): Promise<RouteReply<typeof siteExportUserRoute>> => {
      requireSiteKey(req, config, why);
      const data = await store.exportUser(req.params.userId);
      if (!data) throw new ApiError('unknown-user', 'There is no such user.');
      return exportView(data);
    },
  });

  api.route({
    ...routeOptions(siteUnlockUserRoute),
    handler: async (req, reply) => {
      requireSiteKey(req, config, 'a user is unlocked by the site\'s backend only');
      await store.clearGuards([guardKeyForUser(req.params.userId)]);
      return reply.code(204).send(null);
    },
  });
}
