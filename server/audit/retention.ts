/**
 * Retention: audit rows older than FACE_LOGIN_AUDIT_RETENTION_DAYS (default 180; 0 keeps them) are
 * deleted, and so are address guards (and guards of user ids that were never enrolled) idle for
 * longer than the address policy can remember. Run hourly by the server (server/app.ts) and on
 * demand by `npm run server:report -- --purge`. User guards are never purged by time: only a
 * success, an unlock or the user's deletion clears them (a purge must not reset a lockout).
 */
import type { ServerConfig } from '../config.js';
import type { PurgeInput } from '../store/types.js';

export function retentionCutoffs(config: ServerConfig, now: number): PurgeInput {
  const a = config.lockout.address;
  const idle = Math.max(a.windowMs, a.levelResetMs, a.maxLockMs);
  return { now, attemptsBefore: config.auditRetentionMs > 0 ? now - config.auditRetentionMs : null, guardsIdleBefore: now - idle };
}
