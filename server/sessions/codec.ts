/** Session rows <-> values, shared by both stores (server/store/sqlite.ts, server/store/postgres.ts). */
import type { SessionInput, SessionOutcome, SessionRecord, SessionRowState } from '../store/types.js';
import type { SessionChallenge } from '../vision/examine-types.js';
import type { SessionAction, SessionRefusal } from '../../src/protocol/index.js';

export const SESSION_COLUMNS =
  'hash, action, user_id, site_nonce, challenge, state, decision, liveness, refusal, result_user, created_at, expires_at, purge_at, decided_at';

export interface SessionDbRow {
  hash: string;
  action: string;
  user_id: string | null;
  site_nonce: string;
  challenge: string;
  state: string;
  decision: string | null;
  liveness: string | null;
  refusal: string | null;
  result_user: string | null;
  created_at: number | string;
  expires_at: number | string;
  purge_at: number | string;
  decided_at: number | string | null;
}

export function sessionFromRow(r: SessionDbRow | null | undefined): SessionRecord | null {
  if (!r) return null;
  return {
    hash: r.hash,
    action: r.action as SessionAction,
    userId: r.user_id,
    siteNonce: r.site_nonce,
    challenge: JSON.parse(r.challenge) as SessionChallenge,
    state: r.state as SessionRowState,
    decision: r.decision as SessionRecord['decision'],
    liveness: r.liveness as SessionRecord['liveness'],
    refusal: r.refusal as SessionRefusal | null,
    resultUser: r.result_user,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    purgeAt: Number(r.purge_at),
    decidedAt: r.decided_at === null ? null : Number(r.decided_at),
  };
}

/** INSERT parameters, in SESSION_INSERT_COLUMNS order. */
export const SESSION_INSERT_COLUMNS = 'hash, action, user_id, site_nonce, challenge, state, created_at, expires_at, purge_at';

export function sessionInsertParams(s: SessionInput): unknown[] {
  return [s.hash, s.action, s.userId, s.siteNonce, JSON.stringify(s.challenge), 'pending', s.createdAt, s.expiresAt, s.purgeAt];
}

/** UPDATE parameters after the hash: state, decision, liveness, refusal, result_user, decided_at. */
export function sessionOutcomeParams(o: SessionOutcome): unknown[] {
  return [o.state, o.decision, o.liveness, o.refusal, o.resultUser, o.decidedAt];
}
