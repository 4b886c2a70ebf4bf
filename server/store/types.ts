/**
 * The database seam. Each method is one atomic unit of the API's work (one transaction, or one
 * statement), so the route code never holds a transaction open across an await.
 *
 * Two implementations with the same behaviour and the same test suite: `SqliteStore`
 * (better-sqlite3, the embedded default) and `PostgresStore` (pg, chosen by DATABASE_URL).
 *
 * Durability classes:
 * - template and user data (enroll, delete, backup): committed with a full fsync (SQLite
 *   synchronous=FULL; PostgreSQL synchronous_commit=on) before the client gets its answer;
 * - the hot path (nonces, attempts, lockout state): atomic and crash-safe for the server process,
 *   but committed without waiting for fsync (SQLite synchronous=NORMAL in WAL mode; PostgreSQL
 *   synchronous_commit=off), so an OS crash or power cut can lose its last fraction of a second.
 *   Losing it can only bring back a nonce that expires within its TTL or drop a few audit rows;
 *   it can never corrupt the database.
 */
import type { AttemptAction, AttemptDecision, AttemptLabel, Pose } from '../../src/protocol/index.js';
import type { GuardSpec } from '../audit/lockout.js';
import type { NonceRow } from '../nonce.js';
import type { SessionChallenge } from '../vision/examine-types.js';
import type { SessionAction, SessionRefusal } from '../../src/protocol/index.js';

export type { AttemptAction, AttemptDecision, AttemptLabel, Pose, SessionRefusal };

export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string | null;
  readonly origin: string | null;
}

export interface AttemptInput {
  readonly at: number;
  readonly action: AttemptAction;
  /** The user the client claimed (verify, restore); null for identify. */
  readonly claimedUser: string | null;
  /**
   * The user the attempt is about (identify: the person recognised, null when nobody was, never the
   * nearest user of a stranger; verify: the claimed user). Must be set whenever claimedUser is:
   * export and delete find attempts by it.
   */
  readonly matchedUser: string | null;
  readonly decision: AttemptDecision;
  /** Best cosine; null when no comparison was made (locked out). Never sent to the page. */
  readonly score: number | null;
  readonly modelId: string;
  readonly client: ClientInfo;
  /** decision 'refused': why (a session's capture refusal, or duplicate-enrollment); else null / absent. */
  readonly refusal?: SessionRefusal | null;
}

export interface AttemptRow extends AttemptInput {
  readonly id: number;
  readonly label: AttemptLabel | null;
  readonly labeledAt: number | null;
}

export interface NewTemplate {
  readonly embedding: Float32Array;
  readonly pose: Pose;
}

export interface StoredTemplate {
  readonly id: number;
  readonly userId: string;
  readonly modelId: string;
  readonly pose: Pose;
  readonly embedding: Float32Array;
  readonly createdAt: number;
}

export interface GalleryRow {
  readonly id: number;
  readonly userId: string;
  readonly modelId: string;
  readonly embedding: Float32Array;
}

export interface BackupTemplate {
  readonly embedding: Float32Array;
  readonly pose: Pose;
  readonly createdAt: number;
}

export interface Backup {
  readonly userId: string;
  readonly modelId: string;
  readonly templates: readonly BackupTemplate[];
  readonly updatedAt: number;
}

export interface UserExport {
  readonly userId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly templates: readonly StoredTemplate[];
  readonly backup: Backup | null;
  readonly attempts: readonly AttemptRow[];
}

export interface VerifyInput {
  readonly nonceHash: string;
  readonly userId: string;
  readonly modelId: string;
  readonly threshold: number;
  readonly now: number;
  /** server/audit/lockout.ts guardsFor: the user's key and the address's. */
  readonly guards: readonly GuardSpec[];
  readonly client: ClientInfo;
  /**
   * Scored instead when the user has no templates for the model (no user enumeration: the same
   * work, a reject and a counted failure, never a different answer). Absent: `unknown-user`.
   */
  readonly decoys?: readonly Float32Array[];
}

/** A lockout: how long is left, or disabled (until unlocked; retryAfterMs is then meaningless). */
export interface LockedOut {
  readonly kind: 'locked-out';
  readonly retryAfterMs: number;
  readonly disabled: boolean;
  readonly attemptId: number;
}

export type VerifyOutcome =
  | { readonly kind: 'invalid-nonce' }
  | { readonly kind: 'unknown-user' }
  | LockedOut
  | { readonly kind: 'decided'; readonly accepted: boolean; readonly score: number; readonly attemptId: number };

/** What a guarded face match concluded (server/audit/lockout.ts). */
export interface Judgement {
  readonly decision: AttemptDecision;
  readonly score: number | null;
  readonly refusal?: SessionRefusal | null;
  /** Overrides the attempt's matchedUser (identify: who was recognised). */
  readonly matchedUser?: string | null;
  /** Counts as a failure on every guard; false with an accept resets the guards that reset on success. */
  readonly failed: boolean;
}

export interface GuardedInput {
  readonly now: number;
  readonly guards: readonly GuardSpec[];
  /** The audit row, less what the judgement decides. */
  readonly attempt: Omit<AttemptInput, 'decision' | 'score' | 'refusal'>;
}

export type GuardedOutcome = LockedOut | { readonly kind: 'judged'; readonly judgement: Judgement; readonly attemptId: number };

export interface PurgeInput {
  readonly now: number;
  /** Audit rows older than this are deleted (null: kept forever). */
  readonly attemptsBefore: number | null;
  /** Address guards with no failure and no lock since this time are deleted (user guards are kept until a success or an unlock). */
  readonly guardsIdleBefore: number;
}

export interface EnrollInput {
  readonly userId: string;
  readonly modelId: string;
  readonly templates: readonly NewTemplate[];
  readonly replace: boolean;
  readonly now: number;
  /** The change sequence the duplicate check saw; the write is refused (`conflict`) if it moved. */
  readonly expectSeq: number;
  readonly maxTemplates: number;
}

export type EnrollOutcome =
  | { readonly kind: 'conflict' }
  | { readonly kind: 'too-many'; readonly existing: number }
  | { readonly kind: 'ok'; readonly templates: number; readonly seq: number };

export interface SeedRow {
  readonly userId: string;
  readonly modelId: string;
  readonly embedding: Float32Array;
}

export interface NonceSeed {
  readonly hash: string;
  readonly row: NonceRow;
}

export interface LabeledScore {
  readonly score: number;
  readonly label: AttemptLabel;
  readonly modelId: string;
  readonly action: AttemptAction;
}

export interface StoreStats {
  readonly users: number;
  readonly templates: number;
  readonly backups: number;
  readonly attempts: number;
  readonly nonces: number;
  /** Assertion ids spent as proof and not yet purged. */
  readonly spentAssertions: number;
  readonly guards: number;
  readonly changeSeq: number;
}

/** A session as opened by the site's backend (the id itself is never stored: only its SHA-256). */
export interface SessionInput {
  readonly hash: string;
  readonly action: SessionAction;
  /** enroll / verify: the user the site opened it for; identify: null. */
  readonly userId: string | null;
  readonly siteNonce: string;
  readonly challenge: SessionChallenge;
  readonly createdAt: number;
  /** The upload must arrive before this. */
  readonly expiresAt: number;
  /** The row (and its result) is purged at this time. */
  readonly purgeAt: number;
}

/** How an examined session ended. */
export interface SessionOutcome {
  readonly state: 'done' | 'refused';
  readonly decision: 'accept' | 'reject' | null;
  readonly liveness: 'passed' | 'failed' | null;
  readonly refusal: SessionRefusal | null;
  /** identify: who was recognised (null = unknown); enroll / verify: the session's user. */
  readonly resultUser: string | null;
  readonly decidedAt: number;
}

/** `examining`: the upload was accepted (the session is used) and the decision is not written yet. */
export type SessionRowState = 'pending' | 'examining' | 'done' | 'refused';

export interface SessionRecord extends SessionInput {
  readonly state: SessionRowState;
  readonly decision: 'accept' | 'reject' | null;
  readonly liveness: 'passed' | 'failed' | null;
  readonly refusal: SessionRefusal | null;
  readonly resultUser: string | null;
  readonly decidedAt: number | null;
}

/** One 1:N search of a model's gallery (server/index/gallery-index.ts). */
export interface GallerySearchInput {
  readonly modelId: string;
  readonly probes: readonly Float32Array[];
  /** This user's templates are skipped (the duplicate check of her own enrolment). */
  readonly excludeUser?: string;
}

export interface GalleryMatch {
  readonly userId: string;
  /** The exact float32 cosine of the user's best template (over all probes). */
  readonly score: number;
}

export interface GallerySearchResult {
  /** The best user (no threshold applied); null when the gallery has no other template. */
  readonly best: GalleryMatch | null;
  /** The best of the other users (the ambiguity rule); null when there is none. */
  readonly runnerUp: GalleryMatch | null;
  /** The model's templates in the gallery now (the open-set threshold's N). */
  readonly templates: number;
}

/** The database answers 1:N itself (PostgreSQL with pgvector, Store.searchGallery): the server keeps no gallery in memory. */
export interface DbGallery {
  readonly kind: 'pgvector';
  /** pgvector's version, e.g. 0.8.0. */
  readonly version: string;
  /** Candidates asked of the index per probe (re-ranked exactly). */
  readonly candidates: number;
  readonly efSearch: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema (idempotent, safe with several instances starting at once). */
  migrate(): Promise<void>;
  /**
   * After migrate(): the database's own 1:N search when it has one (PostgreSQL with the pgvector
   * extension, unless turned off), else null (the in-memory GalleryIndex scans exactly).
   */
  dbGallery?(): DbGallery | null;
  /**
   * 1:N in the database (only when dbGallery() is not null): the index's top candidates per probe,
   * re-ranked exactly against their decrypted templates (best template per user), with the model's
   * template count, read in one statement.
   */
  searchGallery?(input: GallerySearchInput): Promise<GallerySearchResult>;
  close(): Promise<void>;

  // Nonces
  createNonce(hash: string, row: NonceRow, now: number): Promise<void>;
  /** Deletes the nonce and returns it (null if unknown), plus the current change sequence. */
  consumeNonce(hash: string): Promise<{ nonce: NonceRow | null; seq: number }>;
  /** Deletes the expired nonces and the spent assertion ids past their expiry (rows deleted). */
  purgeExpiredNonces(now: number): Promise<number>;

  // Assertions used as proof (server/http.ts spendProof): single use
  /**
   * Records that the assertion `jti` was used as proof, kept until `expiresAt` (ms; the assertion's
   * exp). True the first time; false when it was already recorded (a replay), and nothing changes.
   */
  spendAssertion(jti: string, expiresAt: number): Promise<boolean>;

  // Sessions (server/routes/sessions.ts)
  createSession(s: SessionInput): Promise<void>;
  /**
   * Atomically moves a pending, unexpired session to `examining` and returns it; null when the
   * session is unknown, already used or expired (only one upload ever wins).
   */
  consumeSession(hash: string, now: number): Promise<SessionRecord | null>;
  /** Writes the outcome of an `examining` session; false when it was not examining. */
  completeSession(hash: string, outcome: SessionOutcome): Promise<boolean>;
  getSession(hash: string): Promise<SessionRecord | null>;
  /**
   * Deletes and returns a session whose result is final (done, refused, or pending past its
   * expiry): the site reads a result once. Null when there is none (unknown, still open or being
   * examined, or already taken by a concurrent read).
   */
  takeSessionResult(hash: string, now: number): Promise<SessionRecord | null>;
  /** Deletes the sessions whose purgeAt has passed. */
  purgeExpiredSessions(now: number): Promise<number>;

  // Decisions
  /**
   * One verify attempt, atomically: consume the nonce, check the lockout, load the user's
   * templates, score them with `decide` (synchronous, pure), log the attempt and update the
   * lockout state.
   */
  verifyAttempt(input: VerifyInput, decide: (templates: readonly Float32Array[]) => number): Promise<VerifyOutcome>;
  recordAttempt(a: AttemptInput): Promise<number>;
  /**
   * One guarded face match (identify, enrolment's face checks, a session's liveness failure),
   * atomically with its audit row: when any guard is locked, a `locked-out` row and no judgement
   * (`judge` is not called); else `judge` (synchronous, pure) decides, the row is written and the
   * guards are updated (a failure counts on every guard; an accept resets the guards that reset on success).
   */
  guardedAttempt(input: GuardedInput, judge: () => Judgement): Promise<GuardedOutcome>;
  /** The lock on these guards now, without changing anything (a pre-check before costly work). */
  lockState(keys: readonly string[], now: number): Promise<{ remainingMs: number; disabled: boolean }>;
  /** Deletes the lockout state of these keys (the site's or admin's unlock); the number of rows deleted. */
  clearGuards(keys: readonly string[]): Promise<number>;
  /** Retention: old audit rows and idle address guards. */
  purgeOld(input: PurgeInput): Promise<{ attempts: number; guards: number }>;

  // Users and templates
  userExists(userId: string): Promise<boolean>;
  templatesOf(userId: string, modelId: string): Promise<Float32Array[]>;
  enroll(input: EnrollInput): Promise<EnrollOutcome>;
  /** Deletes the user, templates, backup, attempts, lockout state, nonces and sessions. False if unknown. */
  deleteUser(userId: string, now: number): Promise<boolean>;
  exportUser(userId: string): Promise<UserExport | null>;
  putBackup(backup: Backup): Promise<void>;
  getBackup(userId: string): Promise<Backup | null>;

  // Change feed for the in-memory gallery
  changeSeq(): Promise<number>;
  changesSince(seq: number, limit: number): Promise<{ seq: number; userId: string }[]>;
  /** Every template (all models) of these users. */
  templatesOfUsers(userIds: readonly string[]): Promise<GalleryRow[]>;
  /** Keyset page over all templates, id > afterId, ascending. */
  scanTemplates(afterId: number, limit: number): Promise<GalleryRow[]>;

  // Audit
  labelAttempt(id: number, label: AttemptLabel, now: number): Promise<boolean>;
  listAttempts(afterId: number, limit: number): Promise<AttemptRow[]>;
  labeledScores(modelId?: string): Promise<LabeledScore[]>;

  /** One small real write (GET /v1/health): rejects when the database cannot take writes now. */
  healthCheck(now: number): Promise<void>;

  /** Row counts per table (tests, monitoring). */
  stats(): Promise<StoreStats>;

  // Bulk paths for benchmarks and imports (one transaction each; bump the change sequence)
  seedTemplates(rows: readonly SeedRow[], now: number): Promise<void>;
  seedNonces(rows: readonly NonceSeed[], now: number): Promise<void>;
}
