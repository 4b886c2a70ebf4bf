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
import { healthRoute, keysRoute, openapiRoute } from './routes/meta.js';
import { createSessionRoute, sessionInfoRoute, sessionResultRoute, uploadFramesRoute } from './routes/sessions.js';
import { deleteUserRoute, exportUserRoute, siteDeleteUserRoute, siteExportUserRoute, siteUnlockUserRoute } from './routes/users.js';

/** What every server serves: health, the OpenAPI document, the assertion keys (JWKS), the admin's audit log. */
export const CORE_ROUTES = [healthRoute, openapiRoute, keysRoute, labelAttemptRoute, listAttemptsRoute] as const;

/**
 * The site's routes (the main mode): sessions opened and read by the site's backend, frames
 * uploaded by the page, users deleted / exported by the site. Served when FACE_LOGIN_SITE_KEYS is
 * set (and, for the sessions, the server has its face examiner); otherwise sessions-disabled.
 */
export const SITE_ROUTES = [createSessionRoute, sessionInfoRoute, uploadFramesRoute, sessionResultRoute, siteDeleteUserRoute, siteExportUserRoute, siteUnlockUserRoute] as const;

/**
 * The device routes: the page computes the embedding and the server decides from it. Served only
 * with FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS (deployments whose operator controls every
 * device); otherwise device-routes-disabled.
 */
export const DEVICE_ROUTES = [challengeRoute, enrollRoute, verifyRoute, identifyRoute, deleteUserRoute, exportUserRoute, backupRoute, restoreRoute] as const;

/** Every route of the protocol. */
export const ROUTES = [...CORE_ROUTES, ...SITE_ROUTES, ...DEVICE_ROUTES] as const;
