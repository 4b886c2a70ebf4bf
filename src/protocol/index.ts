/**
 * The face-login protocol: one definition of the wire contract between the page
 * (src/adapters/verifier/) and the verification server (server/). No DOM, no Node, no Lit.
 *
 * - constants.ts: poses, challenge actions, id patterns, embedding and template limits;
 * - errors.ts: the server's error codes, their HTTP status and the page's code for each, ErrorBody;
 * - fields.ts: the schemas the routes share (UserId, Nonce, Embedding, proof headers, ...);
 * - route.ts: RouteSpec / defineRoute, the types derived from a route, pathOf;
 * - routes/: one file per server/routes/ file (sessions.ts: the site-opened, server-decided flow), one `defineRoute` per route;
 * - check.ts: `fits`, the page's check of an answer against its schema.
 *
 * The page imports the files it needs (not this barrel), so the server-only routes stay out of
 * the browser bundle.
 */
export * from './constants.js';
export * from './errors.js';
export * from './route.js';
export * from './check.js';
export * from './fields.js';
export * from './routes/challenges.js';
export * from './routes/enroll.js';
export * from './routes/decisions.js';
export * from './routes/users.js';
export * from './routes/backup.js';
export * from './routes/admin.js';
export * from './routes/meta.js';
export * from './routes/sessions.js';

import { labelAttemptRoute, listAttemptsRoute } from './routes/admin.js';
import { backupRoute, restoreRoute } from './routes/backup.js';
import { challengeRoute } from './routes/challenges.js';
import { identifyRoute, verifyRoute } from './routes/decisions.js';
import { enrollRoute } from './routes/enroll.js';
import { healthRoute, openapiRoute } from './routes/meta.js';
import { deleteUserRoute, exportUserRoute } from './routes/users.js';

/**
 * Every route of the protocol that a default server serves. The session routes (routes/sessions.ts:
 * createSessionRoute, uploadFramesRoute, sessionResultRoute) are served only with FACE_LOGIN_SITE_KEYS
 * and a face examiner, so they join this list when sessions are on by default.
 */
export const ROUTES = [
  healthRoute,
  openapiRoute,
  challengeRoute,
  enrollRoute,
  verifyRoute,
  identifyRoute,
  deleteUserRoute,
  exportUserRoute,
  backupRoute,
  restoreRoute,
  labelAttemptRoute,
  listAttemptsRoute,
] as const;
