/**
 * Challenges: single-use nonces bound to an action and (except identify) a user. The client gets
 * 256 random bits as base64url; the database keeps only their SHA-256, so a copy of the nonce
 * table cannot be replayed. A nonce is consumed (deleted) atomically by the first request that
 * presents it, whatever that request's outcome.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NONCE_BYTES, type ChallengeAction } from '../src/protocol/index.js';
import { ApiError } from './errors.js';
import type { Store } from './store/types.js';

export type { ChallengeAction };

export interface NonceRow {
  readonly action: ChallengeAction;
  readonly userId: string | null;
  readonly expiresAt: number;
}

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64url');
}

export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

/** A consumed nonce is good for this request only when unexpired and bound to this action and user. */
export function nonceMatches(row: NonceRow | null, action: ChallengeAction, userId: string | null, now: number): boolean {
  return row !== null && row.expiresAt > now && row.action === action && row.userId === userId;
}

/**
 * Consumes the request's nonce (whatever happens next) and refuses the request (invalid-nonce)
 * unless it was unexpired and bound to this action and user. Returns the change sequence read
 * with it (identify syncs its gallery to at least that).
 */
export async function consumeNonceFor(store: Store, nonce: string, action: ChallengeAction, userId: string | null, now: number): Promise<number> {
  const consumed = await store.consumeNonce(hashNonce(nonce));
  if (!nonceMatches(consumed.nonce, action, userId, now)) {
    throw new ApiError('invalid-nonce', `The nonce is unknown, used, expired, or not for ${action}${userId === null ? '' : ' of this user'}.`);
  }
  return consumed.seq;
}
