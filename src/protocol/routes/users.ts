import * as T from '@sinclair/typebox';
import { Attempt, BackupTemplate, Closed, EpochMs, ModelId, NoContent, NonceAndProofHeaders, Nullable, UserId, UserParams } from '../fields.js';
import { defineRoute } from '../route.js';
import { SiteKeyHeaders } from './sessions.js';

export const deleteUserRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/users/:userId',
  summary: 'Delete a user and all their data',
  description: 'Templates, backup, attempts, lockout state and nonces. Needs a nonce for action delete and proof (assertion or admin key).',
  params: UserParams,
  headers: NonceAndProofHeaders,
  response: { 204: NoContent },
});

export const exportUserRoute = defineRoute({
  method: 'GET',
  url: '/v1/users/:userId/export',
  summary: 'Export a user\'s data (GDPR)',
  description:
    'Everything stored about the user: templates, backup, and the attempts that name them (time, action, decision, model, client; ' +
    'the raw score is withheld, it would be a matching oracle). Needs a nonce for action export and proof.',
  params: UserParams,
  headers: NonceAndProofHeaders,
  response: {
    200: Closed({
      userId: UserId,
      createdAt: EpochMs,
      templates: T.Array(Closed({ modelId: ModelId, ...BackupTemplate.properties })),
      backup: Nullable(Closed({ modelId: ModelId, updatedAt: EpochMs, templates: T.Array(BackupTemplate) })),
      attempts: T.Array(Attempt),
    }),
  },
});

/** The site's backend deletes a user (site key): what a site does when the person closes their account. */
export const siteDeleteUserRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/site/users/:userId',
  summary: 'Delete a user and all their data (site backend)',
  description: 'Site key only (x-face-login-site-key): templates, backup, attempts, lockout state, nonces and sessions of the user.',
  params: UserParams,
  headers: SiteKeyHeaders,
  response: { 204: NoContent },
});

/** The site's backend exports a user (site key), for a subject access request. */
export const siteExportUserRoute = defineRoute({
  method: 'GET',
  url: '/v1/site/users/:userId/export',
  summary: 'Export a user\'s data (site backend)',
  description: 'Site key only. The same document as the device export: templates, backup, attempts (the raw score withheld).',
  params: UserParams,
  headers: SiteKeyHeaders,
  response: exportUserRoute.response,
});

/**
 * The site's backend lifts a user's lockout (site key): after repeated failed face matches a user's
 * face login is locked and, after repeated lockouts, disabled until this is called (the site has
 * checked the person another way). Enrolling the user again through a session does the same.
 */
export const siteUnlockUserRoute = defineRoute({
  method: 'POST',
  url: '/v1/site/users/:userId/unlock',
  summary: 'Lift a user\'s lockout (site backend)',
  description: 'Site key only. Clears the user\'s consecutive-failure count, lockout and disabled state (never an address\'s). 204 whether or not the user was locked.',
  params: UserParams,
  headers: SiteKeyHeaders,
  response: { 204: NoContent },
});
