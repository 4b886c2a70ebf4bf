/**
 * Lockout with back-off, as pure functions over the state a store keeps per key (today
 * `user:<id>` for verify). After `maxFailures` rejects within `windowMs` (sliding), the key is
 * locked for `baseLockMs * 2^level` (capped at `maxLockMs`) and the level goes up by one. A
 * success deletes the state (count and level); the level also drops back to 0 when the last
 * lockout is older than `levelResetMs`.
 */
import type { LockoutPolicy } from '../config.js';

export interface GuardState {
  /** Times (ms) of the recent failures, oldest first; never more than maxFailures. */
  readonly failures: readonly number[];
  readonly lockedUntil: number;
  readonly level: number;
  readonly lastLockAt: number;
}

export const EMPTY_GUARD: GuardState = { failures: [], lockedUntil: 0, level: 0, lastLockAt: 0 };

/** Milliseconds left in a lockout (0 when not locked). */
export function lockRemainingMs(g: GuardState | null, now: number): number {
  return g && g.lockedUntil > now ? g.lockedUntil - now : 0;
}

export function afterFailure(g: GuardState | null, now: number, p: LockoutPolicy): GuardState {
  const prev = g ?? EMPTY_GUARD;
  const level = prev.lastLockAt > 0 && now - prev.lastLockAt > p.levelResetMs ? 0 : prev.level;
  const failures = [...prev.failures.filter((t) => t > now - p.windowMs), now].slice(-p.maxFailures);
  if (failures.length >= p.maxFailures) {
    const lockMs = Math.min(p.baseLockMs * 2 ** Math.min(level, 30), p.maxLockMs);
    return { failures: [], lockedUntil: now + lockMs, level: level + 1, lastLockAt: now };
  }
  return { failures, lockedUntil: prev.lockedUntil, level, lastLockAt: prev.lastLockAt };
}

export function guardKeyForUser(userId: string): string {
  return `user:${userId}`;
}
