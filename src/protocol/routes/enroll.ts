import * as T from '@sinclair/typebox';
import { MAX_ENROLL_TEMPLATES } from '../constants.js';
import { Closed, Embedding, ModelId, Nonce, Pose, ProofHeaders, UserId } from '../fields.js';
import { defineRoute } from '../route.js';

export const enrollRoute = defineRoute({
  method: 'POST',
  url: '/v1/enroll',
  summary: 'Enroll a user',
  description:
    'Stores one template per pose for the model (replacing that user\'s templates for the model by default). Refused with ' +
    'duplicate-enrollment (409) when any template matches ANOTHER user at the model\'s threshold. Enrolling a user id that ' +
    'already has data needs proof: the new face matches the old templates, or an assertion for the user, or the admin key. ' +
    'With ifNotEnrolled: true, refused with already-enrolled (409) when the user already has templates for the model ' +
    '(the widget flushing an enrolment made offline: it only ever creates an enrolment, never replaces or adds to one).',
  headers: ProofHeaders,
  body: Closed({
    nonce: Nonce,
    userId: UserId,
    modelId: ModelId,
    templates: T.Array(Closed({ embedding: Embedding, pose: Pose }), { minItems: 1, maxItems: MAX_ENROLL_TEMPLATES }),
    replace: T.Optional(T.Boolean({ default: true })),
    ifNotEnrolled: T.Optional(
      T.Boolean({ default: false, description: 'Only create: 409 already-enrolled when the user already has templates for the model.' }),
    ),
  }),
  response: {
    201: Closed({ userId: UserId, templates: T.Integer({ minimum: 1, description: 'Templates the user now has for this model.' }) }),
  },
});
