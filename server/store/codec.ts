/**
 * Row <-> value conversions shared by both stores. Backups: `encodeBackupTemplates` gives the JSON
 * that server/crypto/template-cipher.ts encrypts into the `templates` column (sealBackup / openBackup).
 */
import { decodeEmbedding, encodeEmbedding } from '../embedding.js';
import type { GuardState } from '../audit/lockout.js';
import type { UserKeyRow } from '../crypto/template-cipher.js';
import type { ChallengeAction, NonceRow } from '../nonce.js';
import type { AttemptAction, AttemptDecision, AttemptLabel, AttemptRow, BackupTemplate, Pose, SessionRefusal } from './types.js';

export function encodeBackupTemplates(templates: readonly BackupTemplate[]): string {
  return JSON.stringify(
    templates.map((t) => ({ pose: t.pose, createdAt: t.createdAt, embedding: encodeEmbedding(t.embedding).toString('base64') })),
  );
}

export function decodeBackupTemplates(text: string): BackupTemplate[] {
  const raw = JSON.parse(text) as { pose: Pose; createdAt: number; embedding: string }[];
  return raw.map((t) => ({ pose: t.pose, createdAt: t.createdAt, embedding: decodeEmbedding(Buffer.from(t.embedding, 'base64')) }));
}

export interface GuardDbRow {
  failures: string;
  locked_until: number | string;
  level: number;
  last_lock_at: number | string;
}

export function guardFromRow(r: GuardDbRow | null | undefined): GuardState | null {
  if (!r) return null;
  return {
    failures: JSON.parse(r.failures) as number[],
    lockedUntil: Number(r.locked_until),
    level: Number(r.level),
    lastLockAt: Number(r.last_lock_at),
  };
}

export function guardToParams(g: GuardState): [string, number, number, number] {
  return [JSON.stringify(g.failures), g.lockedUntil, g.level, g.lastLockAt];
}

export interface NonceDbRow {
  action: string;
  user_id: string | null;
  expires_at: number | string;
}

export function nonceFromRow(r: NonceDbRow | null | undefined): NonceRow | null {
  if (!r) return null;
  return { action: r.action as ChallengeAction, userId: r.user_id, expiresAt: Number(r.expires_at) };
}

export interface AttemptDbRow {
  id: number | string;
  at: number | string;
  action: string;
  claimed_user: string | null;
  matched_user: string | null;
  decision: string;
  score: number | null;
  model_id: string;
  ip: string | null;
  user_agent: string | null;
  origin: string | null;
  label: string | null;
  labeled_at: number | string | null;
  refusal: string | null;
}

export function attemptFromRow(r: AttemptDbRow): AttemptRow {
  return {
    id: Number(r.id),
    at: Number(r.at),
    action: r.action as AttemptAction,
    claimedUser: r.claimed_user,
    matchedUser: r.matched_user,
    decision: r.decision as AttemptDecision,
    score: r.score,
    modelId: r.model_id,
    client: { ip: r.ip ?? '', userAgent: r.user_agent, origin: r.origin },
    label: r.label as AttemptLabel | null,
    labeledAt: r.labeled_at === null ? null : Number(r.labeled_at),
    refusal: r.refusal as SessionRefusal | null,
  };
}

export const ATTEMPT_COLUMNS =
  'id, at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin, label, labeled_at, refusal';

/** A user_keys row (v5): the user's data key wrapped by the KEK `kek_id` (server/crypto/template-cipher.ts). */
export interface UserKeyDbRow {
  user_id: string;
  kek_id: string;
  wrapped_dek: Buffer;
}

export function userKeyFromRow(r: UserKeyDbRow | null | undefined): UserKeyRow | undefined {
  return r ? { userId: r.user_id, kekId: r.kek_id, wrapped: r.wrapped_dek } : undefined;
}
