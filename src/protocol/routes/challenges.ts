import * as T from '@sinclair/typebox';
import { ChallengeAction, Closed, DateTime, Nonce, UserId } from '../fields.js';
import { defineRoute } from '../route.js';

export const challengeRoute = defineRoute({
  method: 'POST',
  url: '/v1/challenges',
  summary: 'Create a challenge',
  description:
    'A single-use nonce (256 random bits, base64url) bound to the action and the user (no user for identify), valid for the TTL (default 60 s).',
  body: Closed({ action: ChallengeAction, userId: T.Optional(UserId) }),
  response: { 201: Closed({ nonce: Nonce, expiresAt: DateTime }) },
});
