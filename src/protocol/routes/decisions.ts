import * as T from '@sinclair/typebox';
import { Assertion, Closed, Embedding, ModelId, Nonce, UserId } from '../fields.js';
import { defineRoute } from '../route.js';

/** Never a score: a reject is the bare decision, an accept carries the signed assertion. */
const Reject = Closed({ decision: T.Literal('reject') });

export const verifyRoute = defineRoute({
  method: 'POST',
  url: '/v1/verify',
  summary: 'Verify (1:1)',
  description:
    'The server compares the probe with the user\'s best template and answers accept or reject (never the score). ' +
    'After too many rejects the user is locked out (429 locked-out with retryAfterSeconds).',
  body: Closed({ nonce: Nonce, userId: UserId, modelId: ModelId, embedding: Embedding }),
  response: { 200: T.Union([Closed({ decision: T.Literal('accept'), assertion: Assertion }), Reject]) },
});

export const identifyRoute = defineRoute({
  method: 'POST',
  url: '/v1/identify',
  summary: 'Identify (1:N, open set)',
  description: 'Accept with the best user when their best template reaches the threshold; otherwise reject (a stranger is never the nearest user).',
  body: Closed({ nonce: Nonce, modelId: ModelId, embedding: Embedding }),
  response: { 200: T.Union([Closed({ decision: T.Literal('accept'), userId: UserId, assertion: Assertion }), Reject]) },
});
