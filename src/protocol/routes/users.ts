import * as T from '@sinclair/typebox';
import { Attempt, BackupTemplate, Closed, EpochMs, ModelId, NoContent, NonceAndProofHeaders, Nullable, UserId, UserParams } from '../fields.js';
import { defineRoute } from '../route.js';

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
