/**
 * Lockout with back-off, as pure functions over the state a store keeps per key, plus the keys
 * and policies every face match is guarded by (`guardsFor`).
 *
 * Two kinds of key, each with its own policy (config.lockout):
 * - `user:<id>`: CONSECUTIVE failed matches against one user, from any address (NIST SP 800-63B
 *   5.2.3: at most 5 consecutive failures before a delay that grows exponentially, or the
 *   biometric is disabled). After `maxFailures` the user is locked for `baseLockMs * 2^level`
 *   (capped at `maxLockMs`); after `disableAfterLocks` lockouts without a success in between, the
 *   user's face login is disabled until the site's backend or an admin unlocks it (or the user is
 *   enrolled again through a session). Only a success resets it: not time, not a success elsewhere.
 * - `ip:<address>`: failures from one address across every user and action (verify, identify,
 *   enrolment's face checks, liveness failures), within a sliding `windowMs`; its locks double up
 *   to `maxLockMs` (AWS: "block the device after repeats"). A success never resets it ("a success
 *   resets the user's count only"): an attacker cannot clear her address's count by logging in to
 *   her own account between guesses.
 *
 * A lock is checked before the match is made (a locked key gets no comparison at all, only a
 * `locked-out` audit row); the store applies the outcome in the same transaction as the audit row.
 */
import type { LockoutPolicies, LockoutPolicy } from '../config.js';

export interface GuardState {
  /** Times (ms) of the counted failures, oldest first; never more than maxFailures. */
  readonly failures: readonly number[];
  /** Locked until this time (ms); DISABLED_UNTIL: until unlocked. */
  readonly lockedUntil: number;
  /** Lockouts so far (the back-off exponent). */
  readonly level: number;
  readonly lastLockAt: number;
}

export const EMPTY_GUARD: GuardState = { failures: [], lockedUntil: 0, level: 0, lastLockAt: 0 };

/** lockedUntil of a key whose face login is disabled until unlocked (fits PostgreSQL's BIGINT and a JS number). */
export const DISABLED_UNTIL = Number.MAX_SAFE_INTEGER;

/** Milliseconds left in a lockout (0 when not locked; DISABLED_UNTIL - now when disabled). */
export function lockRemainingMs(g: GuardState | null, now: number): number {
  return g && g.lockedUntil > now ? g.lockedUntil - now : 0;
}

export function isDisabled(g: GuardState | null): boolean {
  return g !== null && g.lockedUntil === DISABLED_UNTIL;
}

export function afterFailure(g: GuardState | null, now: number, p: LockoutPolicy): GuardState {
  const prev = g ?? EMPTY_GUARD;
  // Quiet: this long since the last lock ENDED (measured from its start, a day-long lock would reset its own back-off).
  const quiet = p.levelResetMs > 0 && prev.lastLockAt > 0 && now - Math.max(prev.lastLockAt, prev.lockedUntil) > p.levelResetMs;
  const level = quiet ? 0 : prev.level;
  const counted = p.windowMs > 0 ? prev.failures.filter((t) => t > now - p.windowMs) : prev.failures;
  const failures = [...counted, now].slice(-p.maxFailures);
  if (failures.length < p.maxFailures) return { failures, lockedUntil: prev.lockedUntil, level, lastLockAt: prev.lastLockAt };
  if (p.disableAfterLocks > 0 && level + 1 >= p.disableAfterLocks) {
    return { failures: [], lockedUntil: DISABLED_UNTIL, level: level + 1, lastLockAt: now };
  }
  const lockMs = Math.min(p.baseLockMs * 2 ** Math.min(level, 30), p.maxLockMs);
  return { failures: [], lockedUntil: now + lockMs, level: level + 1, lastLockAt: now };
}

export function guardKeyForUser(userId: string): string {
  return `user:${userId}`;
}

export function guardKeyForAddress(ip: string): string {
  return `ip:${ip}`;
}

/** One key a match is guarded by, with its policy. */
export interface GuardSpec {
  readonly key: string;
  readonly policy: LockoutPolicy;
  /** A success deletes this key's state: the user's key only, never the address's. */
  readonly resetOnSuccess: boolean;
}

/**
 * The keys one face match is guarded by: the address it came from, and the user it is about
 * (verify, re-enrolment by the same face) when there is one. Identify names no user: an identify
 * accept resets nobody's count (identify results are never proof for any change of state).
 */
export function guardsFor(lockout: LockoutPolicies, who: { readonly userId: string | null; readonly ip: string }): GuardSpec[] {
  const guards: GuardSpec[] = [];
  if (lockout.address.maxFailures > 0) guards.push({ key: guardKeyForAddress(who.ip), policy: lockout.address, resetOnSuccess: false });
  if (who.userId !== null) guards.push({ key: guardKeyForUser(who.userId), policy: lockout.user, resetOnSuccess: true });
  return guards;
}

/** The longest lock among the guards' states (0: none locked), and whether a user key is disabled. */
export function strongestLock(states: readonly (GuardState | null)[], now: number): { remainingMs: number; disabled: boolean } {
  let remainingMs = 0;
  let disabled = false;
  for (const s of states) {
    remainingMs = Math.max(remainingMs, lockRemainingMs(s, now));
    disabled ||= isDisabled(s);
  }
  return { remainingMs, disabled };
}
