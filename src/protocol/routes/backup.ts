import * as T from '@sinclair/typebox';
import { MAX_BACKUP_TEMPLATES } from '../constants.js';
import { BackupTemplate, Closed, ModelId, NoContent, Nonce, ProofHeaders, UserParams } from '../fields.js';
import { defineRoute } from '../route.js';

export const backupRoute = defineRoute({
  method: 'PUT',
  url: '/v1/backup/:userId',
  summary: 'Back up the widget\'s local templates',
  description:
    'Stores the offline-first widget\'s templates (one backup per user, replaced by each PUT) apart from the enrolled server ' +
    'templates: a backup is never matched against. Replacing an existing backup or backing up an enrolled user needs proof: the ' +
    'new templates match the old ones, or an assertion, or the admin key.',
  params: UserParams,
  headers: ProofHeaders,
  body: Closed({
    nonce: Nonce,
    modelId: ModelId,
    templates: T.Array(BackupTemplate, { minItems: 1, maxItems: MAX_BACKUP_TEMPLATES }),
  }),
  response: { 204: NoContent },
});

export const restoreRoute = defineRoute({
  method: 'POST',
  url: '/v1/restore/:userId',
  summary: 'Restore the widget\'s templates from the backup',
  description: 'Needs a nonce for action restore and proof (an assertion for the user or the admin key): templates are biometric data.',
  params: UserParams,
  headers: ProofHeaders,
  body: Closed({ nonce: Nonce }),
  response: { 200: Closed({ modelId: ModelId, templates: T.Array(BackupTemplate) }) },
});
