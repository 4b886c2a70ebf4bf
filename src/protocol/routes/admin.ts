import * as T from '@sinclair/typebox';
import { ATTEMPTS_PAGE } from '../constants.js';
import { AdminHeaders, Attempt, AttemptLabel, Closed, NoContent, Nullable } from '../fields.js';
import { defineRoute } from '../route.js';
import { SessionRefusal } from './sessions.js';

export const labelAttemptRoute = defineRoute({
  method: 'POST',
  url: '/v1/admin/attempts/:id/label',
  summary: 'Label an attempt genuine or impostor (admin)',
  description: 'Labels feed the threshold report (tsx server/report.ts).',
  headers: AdminHeaders,
  params: Closed({ id: T.String({ pattern: '^[1-9][0-9]{0,15}$' }) }),
  body: Closed({ label: AttemptLabel }),
  response: { 204: NoContent },
});

export const listAttemptsRoute = defineRoute({
  method: 'GET',
  url: '/v1/admin/attempts',
  summary: 'List audit attempts (admin)',
  description: 'Keyset pages of the audit log, scores included (admin only, never to the page).',
  headers: AdminHeaders,
  querystring: Closed({
    after: T.Optional(T.String({ pattern: '^[0-9]{1,16}$', description: 'Return attempts with id > after.' })),
    limit: T.Optional(T.String({ pattern: '^[0-9]{1,4}$', description: `1-${ATTEMPTS_PAGE.max}, default ${ATTEMPTS_PAGE.default}.` })),
  }),
  response: {
    200: Closed({
      attempts: T.Array(
        Closed({
          id: T.Integer({ minimum: 1 }),
          ...Attempt.properties,
          score: Nullable(T.Number()),
          label: Nullable(AttemptLabel),
          refusal: Nullable(SessionRefusal),
        }),
      ),
    }),
  },
});
