/**
 * Challenges: single-use nonces bound to an action and (except identify) a user. The client gets
 * 256 random bits as base64url; the database keeps only their SHA-256, so a copy of the nonce
 * table cannot be replayed. A nonce is consumed (deleted) atomically by the first request that
 * presents it, whatever that request's outcome.
 */
import { createHash, randomBytes } from 'node:crypto';

export const CHALLENGE_ACTIONS = ['enroll', 'verify', 'identify', 'backup', 'restore', 'delete', 'export'] as const;
export type ChallengeAction = (typeof CHALLENGE_ACTIONS)[number];

export interface NonceRow {
  readonly action: ChallengeAction;
  readonly userId: string | null;
  readonly expiresAt: number;
}

export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

/** A consumed nonce is good for this request only when unexpired and bound to this action and user. */
export function nonceMatches(row: NonceRow | null, action: ChallengeAction, userId: string | null, now: number): boolean {
  return row !== null && row.expiresAt > now && row.action === action && row.userId === userId;
}
