/**
 * The embedded store: one SQLite file through better-sqlite3 (synchronous, so every method below
 * runs its whole transaction without yielding to the event loop). WAL mode; template and user
 * writes commit with synchronous=FULL (fsync), the hot path with synchronous=NORMAL (see
 * types.ts). Several processes may share the file; writes take the write lock at BEGIN (IMMEDIATE) so
 * two writers never deadlock on an upgrade. A lock held by another process is waited for on timers
 * (busy_timeout 0 once open, retried by server/store/faults.ts), never by blocking the event loop.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterFailure, strongestLock, type GuardSpec, type GuardState } from '../audit/lockout.js';
import { TemplateCipher, TemplateProtectionError, warnUnreadable, type DataKey } from '../crypto/template-cipher.js';
import type { TemplateKeyring } from '../crypto/template-keys.js';
import { nonceMatches, type NonceRow } from '../nonce.js';
import {
  ATTEMPT_COLUMNS,
  attemptFromRow,
  decodeBackupTemplates,
  encodeBackupTemplates,
  guardFromRow,
  guardToParams,
  nonceFromRow,
  type AttemptDbRow,
  type GuardDbRow,
  type NonceDbRow,
  type UserKeyDbRow,
  userKeyFromRow,
} from './codec.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import * as sessionCodec from '../sessions/codec.js';
import type {
  AttemptInput,
  GuardedInput,
  GuardedOutcome,
  Judgement,
  PurgeInput,
  AttemptLabel,
  AttemptRow,
  Backup,
  EnrollInput,
  EnrollOutcome,
  GalleryRow,
  LabeledScore,
  NonceSeed,
  Pose,
  SeedRow,
  SessionInput,
  SessionOutcome,
  SessionRecord,
  Store,
  StoreStats,
  StoredTemplate,
  UserExport,
  VerifyInput,
  VerifyOutcome,
} from './types.js';

type Db = Database.Database;

interface TemplateDbRow {
  id: number;
  user_id: string;
  model_id: string;
  pose: string;
  embedding: Buffer;
  created_at: number;
}

/** The row health checks write and delete (never a SHA-256 hex, so never a real nonce). */
const HEALTH_NONCE = 'health-check';

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Db;
  private closed = false;
  private readonly st: ReturnType<SqliteStore['prepare']>;

  /** Template / backup encryption (server/crypto/template-cipher.ts); null keys: a read-only tool that never touches templates. */
  readonly cipher: TemplateCipher;
  /** Called for a gallery row that does not decrypt (skipped, never matched); verify and export fail instead. */
  onUnreadable: (e: TemplateProtectionError) => void = warnUnreadable;

  constructor(readonly path: string, keys: TemplateKeyring | null = null) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    // Reads straight from the OS page cache (no read syscall per page) and a larger page cache:
    // verify reads a random user's templates, so a small cache means a miss per request.
    this.db.pragma('mmap_size = 1073741824');
    this.db.pragma('cache_size = -65536');
    this.migrateSync();
    this.st = this.prepare();
    this.cipher = new TemplateCipher(keys);
    this.openCipher();
  }

  private migrateSync(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const done = new Set(
        (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
      );
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
      }
    });
    apply.immediate();
  }

  // Template protection (server/crypto/template-cipher.ts): every template and backup is encrypted
  // under its user's data key; the helpers below run inside the caller's transaction.

  /** At open: whether legacy plaintext may remain, and every KEK id in use is configured and unwraps. */
  private openCipher(): void {
    this.cipher.legacyPlaintext = (this.db.prepare('SELECT legacy_plaintext FROM template_protection WHERE id = 1').pluck().get() as number | undefined) === 1;
    const samples = this.db.prepare('SELECT user_id, kek_id, wrapped_dek FROM user_keys GROUP BY kek_id').all() as UserKeyDbRow[];
    this.cipher.checkStoredKeys(samples.map((r) => userKeyFromRow(r)!));
  }

  private userKeyOf(userId: string) {
    return userKeyFromRow(this.st.userKey.get(userId) as UserKeyDbRow | undefined);
  }

  /** The user's data key, created (in the caller's write transaction) on her first template or backup. */
  private dataKeyFor(userId: string): DataKey {
    const row = this.userKeyOf(userId);
    if (row) return this.cipher.dataKey(row);
    const dk = this.cipher.newDataKey(userId);
    this.st.insertUserKey.run(userId, dk.kekId, dk.wrapped, Date.now());
    return dk;
  }

  /** One user's blobs of one model, decrypted; throws TemplateProtectionError (verify fails closed). */
  private openTemplates(userId: string, modelId: string, blobs: readonly Buffer[]): Float32Array[] {
    return this.cipher.openTemplates(userId, modelId, blobs, () => this.userKeyOf(userId));
  }

  /** Gallery rows: a row that does not decrypt is reported and left out (never matched), the rest load. */
  private galleryRows(rows: readonly GalleryDbRow[]): GalleryRow[] {
    const out: GalleryRow[] = [];
    for (const r of rows) {
      try {
        const key = r.kek_id === null ? undefined : userKeyFromRow(r as UserKeyDbRow);
        out.push({ id: r.id, userId: r.user_id, modelId: r.model_id, embedding: this.cipher.openTemplates(r.user_id, r.model_id, [r.embedding], key)[0]! });
      } catch (e) {
        if (!(e instanceof TemplateProtectionError)) throw e;
        this.onUnreadable(e);
      }
    }
    return out;
  }

  private prepare() {
    const db = this.db;
    return {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      syncFull: db.prepare('PRAGMA synchronous = FULL'),
      syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
      insertNonce: db.prepare('INSERT INTO nonces (hash, action, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)'),
      consumeNonce: db.prepare('DELETE FROM nonces WHERE hash = ? RETURNING action, user_id, expires_at'),
      purgeNonces: db.prepare('DELETE FROM nonces WHERE expires_at <= ?'),
      spendAssertion: db.prepare('INSERT INTO spent_assertions (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING'),
      purgeSpent: db.prepare('DELETE FROM spent_assertions WHERE expires_at <= ?'),
      insertSession: db.prepare(`INSERT INTO sessions (${sessionCodec.SESSION_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      consumeSession: db.prepare(
        `UPDATE sessions SET state = 'examining' WHERE hash = ? AND state = 'pending' AND expires_at > ? RETURNING ${sessionCodec.SESSION_COLUMNS}`,
      ),
      completeSession: db.prepare(
        `UPDATE sessions SET state = ?, decision = ?, liveness = ?, refusal = ?, result_user = ?, decided_at = ? WHERE hash = ? AND state = 'examining'`,
      ),
      getSession: db.prepare(`SELECT ${sessionCodec.SESSION_COLUMNS} FROM sessions WHERE hash = ?`),
      takeSession: db.prepare(
        `DELETE FROM sessions WHERE hash = ? AND (state IN ('done', 'refused') OR (state = 'pending' AND expires_at <= ?)) RETURNING ${sessionCodec.SESSION_COLUMNS}`,
      ),
      purgeSessions: db.prepare('DELETE FROM sessions WHERE purge_at <= ?'),
      seq: db.prepare('SELECT seq FROM change_counter WHERE id = 1').pluck(),
      bumpSeq: db.prepare('UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq').pluck(),
      insertChange: db.prepare('INSERT INTO changes (seq, user_id, at) VALUES (?, ?, ?)'),
      getGuard: db.prepare('SELECT failures, locked_until, level, last_lock_at FROM guards WHERE key = ?'),
      putGuard: db.prepare(
        `INSERT INTO guards (key, failures, locked_until, level, last_lock_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
           level = excluded.level, last_lock_at = excluded.last_lock_at`,
      ),
      deleteGuard: db.prepare('DELETE FROM guards WHERE key = ?'),
      embeddingsOf: db.prepare('SELECT embedding FROM templates WHERE user_id = ? AND model_id = ?').pluck(),
      countOf: db.prepare('SELECT count(*) FROM templates WHERE user_id = ? AND model_id = ?').pluck(),
      insertAttempt: db.prepare(
        `INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertRefusedAttempt: db.prepare(
        `INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin, refusal)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      userExists: db.prepare('SELECT 1 FROM users WHERE user_id = ?').pluck(),
      upsertUser: db.prepare(
        `INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at`,
      ),
      deleteTemplatesOf: db.prepare('DELETE FROM templates WHERE user_id = ? AND model_id = ?'),
      insertTemplate: db.prepare(
        'INSERT INTO templates (user_id, model_id, pose, embedding, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      userKey: db.prepare('SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = ?'),
      insertUserKey: db.prepare('INSERT INTO user_keys (user_id, kek_id, wrapped_dek, created_at) VALUES (?, ?, ?, ?)'),
      getBackup: db.prepare('SELECT user_id, model_id, templates, updated_at FROM backups WHERE user_id = ?'),
      putBackup: db.prepare(
        `INSERT INTO backups (user_id, model_id, templates, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET model_id = excluded.model_id, templates = excluded.templates,
           updated_at = excluded.updated_at`,
      ),
    };
  }

  /** Runs `fn` as one IMMEDIATE transaction committed with fsync (synchronous=FULL). */
  private durable<T>(fn: () => T): T {
    this.st.syncFull.run();
    try {
      return this.hot(fn);
    } finally {
      this.st.syncNormal.run();
    }
  }

  /** Runs `fn` as one IMMEDIATE transaction on the hot path (synchronous=NORMAL). */
  private hot<T>(fn: () => T): T {
    this.st.begin.run();
    try {
      const out = fn();
      this.st.commit.run();
      return out;
    } catch (e) {
      if (this.db.inTransaction) this.st.rollback.run();
      throw e;
    }
  }

  async migrate(): Promise<void> {
    // Done in the constructor (statements are prepared against the migrated schema).
  }

  /**
   * From now on a lock held by another process fails at once (SQLITE_BUSY) instead of blocking the
   * event loop for busy_timeout; server/store/faults.ts retries such a method on timers. The
   * constructor keeps the 5 s busy_timeout so that instances starting together migrate in turn.
   */
  nonBlocking(): void {
    this.db.pragma('busy_timeout = 0');
  }

  async healthCheck(now: number): Promise<void> {
    // A real write (the write lock, a WAL frame, a commit): a full disk, a read-only file or another writer's lock shows here.
    // A row inserted and deleted in one transaction: room for a new row, not only an in-place update (which a full disk still allows).
    this.hot(() => {
      this.st.insertNonce.run(HEALTH_NONCE, 'health', null, now, now);
      this.db.prepare('DELETE FROM nonces WHERE hash = ?').run(HEALTH_NONCE);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  async createNonce(hash: string, row: NonceRow, now: number): Promise<void> {
    this.st.insertNonce.run(hash, row.action, row.userId, row.expiresAt, now);
  }

  async consumeNonce(hash: string): Promise<{ nonce: NonceRow | null; seq: number }> {
    return this.hot(() => {
      const nonce = nonceFromRow(this.st.consumeNonce.get(hash) as NonceDbRow | undefined);
      return { nonce, seq: this.st.seq.get() as number };
    });
  }

  async purgeExpiredNonces(now: number): Promise<number> {
    return this.st.purgeNonces.run(now).changes + this.st.purgeSpent.run(now).changes;
  }

  async spendAssertion(jti: string, expiresAt: number): Promise<boolean> {
    return this.st.spendAssertion.run(jti, expiresAt).changes === 1;
  }

  async createSession(session: SessionInput): Promise<void> {
    this.st.insertSession.run(...sessionCodec.sessionInsertParams(session));
  }

  async consumeSession(hash: string, now: number): Promise<SessionRecord | null> {
    // One statement: SQLite runs it under the write lock, so only one upload can see 'pending'.
    return sessionCodec.sessionFromRow(this.st.consumeSession.get(hash, now) as sessionCodec.SessionDbRow | undefined);
  }

  async completeSession(hash: string, outcome: SessionOutcome): Promise<boolean> {
    return this.st.completeSession.run(...sessionCodec.sessionOutcomeParams(outcome), hash).changes > 0;
  }

  async getSession(hash: string): Promise<SessionRecord | null> {
    return sessionCodec.sessionFromRow(this.st.getSession.get(hash) as sessionCodec.SessionDbRow | undefined);
  }

  async takeSessionResult(hash: string, now: number): Promise<SessionRecord | null> {
    return sessionCodec.sessionFromRow(this.st.takeSession.get(hash, now) as sessionCodec.SessionDbRow | undefined);
  }

  async purgeExpiredSessions(now: number): Promise<number> {
    return this.st.purgeSessions.run(now).changes;
  }

  private insertAttempt(a: AttemptInput): number {
    const refusal = a.refusal ?? null;
    return Number(
      (refusal === null ? this.st.insertAttempt : this.st.insertRefusedAttempt).run(
        a.at,
        a.action,
        a.claimedUser,
        a.matchedUser,
        a.decision,
        a.score,
        a.modelId,
        a.client.ip,
        a.client.userAgent,
        a.client.origin,
        ...(refusal === null ? [] : [refusal]),
      ).lastInsertRowid,
    );
  }

  async verifyAttempt(input: VerifyInput, decide: (templates: readonly Float32Array[]) => number): Promise<VerifyOutcome> {
    return this.hot((): VerifyOutcome => {
      const nonce = nonceFromRow(this.st.consumeNonce.get(input.nonceHash) as NonceDbRow | undefined);
      if (!nonceMatches(nonce, 'verify', input.userId, input.now)) return { kind: 'invalid-nonce' };
      const attempt = {
        at: input.now,
        action: 'verify' as const,
        claimedUser: input.userId,
        matchedUser: input.userId,
        modelId: input.modelId,
        client: input.client,
      };
      const guards = this.readGuards(input.guards);
      const lock = strongestLock(guards, input.now);
      if (lock.remainingMs > 0) {
        const attemptId = this.insertAttempt({ ...attempt, decision: 'locked-out', score: null });
        return { kind: 'locked-out', retryAfterMs: lock.remainingMs, disabled: lock.disabled, attemptId };
      }
      const blobs = this.st.embeddingsOf.all(input.userId, input.modelId) as Buffer[];
      if (blobs.length === 0 && !input.decoys) return { kind: 'unknown-user' };
      const score = blobs.length === 0 ? decide(input.decoys!) : decide(this.openTemplates(input.userId, input.modelId, blobs));
      const accepted = blobs.length > 0 && score >= input.threshold;
      const attemptId = this.insertAttempt({ ...attempt, decision: accepted ? 'accept' : 'reject', score: blobs.length === 0 ? null : score });
      this.writeGuards(input.guards, guards, !accepted, input.now);
      return { kind: 'decided', accepted, score, attemptId };
    });
  }

  async guardedAttempt(input: GuardedInput, judge: () => Judgement): Promise<GuardedOutcome> {
    return this.hot((): GuardedOutcome => {
      const guards = this.readGuards(input.guards);
      const lock = strongestLock(guards, input.now);
      if (lock.remainingMs > 0) {
        const attemptId = this.insertAttempt({ ...input.attempt, decision: 'locked-out', score: null });
        return { kind: 'locked-out', retryAfterMs: lock.remainingMs, disabled: lock.disabled, attemptId };
      }
      const j = judge();
      const attemptId = this.insertAttempt({
        ...input.attempt,
        ...(j.matchedUser !== undefined ? { matchedUser: j.matchedUser } : {}),
        decision: j.decision,
        score: j.score,
        refusal: j.refusal ?? null,
      });
      if (j.failed || j.decision === 'accept') this.writeGuards(input.guards, guards, j.failed, input.now);
      return { kind: 'judged', judgement: j, attemptId };
    });
  }

  async lockState(keys: readonly string[], now: number): Promise<{ remainingMs: number; disabled: boolean }> {
    return strongestLock(keys.map((k) => guardFromRow(this.st.getGuard.get(k) as GuardDbRow | undefined)), now);
  }

  async clearGuards(keys: readonly string[]): Promise<number> {
    return this.hot(() => keys.reduce((n, k) => n + this.st.deleteGuard.run(k).changes, 0));
  }

  async purgeOld(input: PurgeInput): Promise<{ attempts: number; guards: number }> {
    return this.hot(() => ({
      attempts: input.attemptsBefore === null ? 0 : this.db.prepare('DELETE FROM attempts WHERE at < ?').run(input.attemptsBefore).changes,
      guards: this.db
        .prepare(
          `DELETE FROM guards WHERE locked_until < ? AND last_lock_at < ? AND coalesce(json_extract(failures, '$[#-1]'), 0) < ?
             AND (key LIKE 'ip:%' OR (key LIKE 'user:%' AND NOT EXISTS (SELECT 1 FROM users WHERE user_id = substr(guards.key, 6))))`,
        )
        .run(input.now, input.guardsIdleBefore, input.guardsIdleBefore).changes,
    }));
  }

  private readGuards(specs: readonly GuardSpec[]): (GuardState | null)[] {
    return specs.map((g) => guardFromRow(this.st.getGuard.get(g.key) as GuardDbRow | undefined));
  }

  /** A failure counts on every guard; a success deletes the guards that reset on success (the user's). */
  private writeGuards(specs: readonly GuardSpec[], states: readonly (GuardState | null)[], failed: boolean, now: number): void {
    specs.forEach((g, i) => {
      if (failed) this.st.putGuard.run(g.key, ...guardToParams(afterFailure(states[i] ?? null, now, g.policy)));
      else if (g.resetOnSuccess && states[i]) this.st.deleteGuard.run(g.key);
    });
  }

  async recordAttempt(a: AttemptInput): Promise<number> {
    return this.hot(() => this.insertAttempt(a));
  }

  async userExists(userId: string): Promise<boolean> {
    return this.st.userExists.get(userId) !== undefined;
  }

  async templatesOf(userId: string, modelId: string): Promise<Float32Array[]> {
    return this.openTemplates(userId, modelId, this.st.embeddingsOf.all(userId, modelId) as Buffer[]);
  }

  async enroll(input: EnrollInput): Promise<EnrollOutcome> {
    return this.durable((): EnrollOutcome => {
      if ((this.st.seq.get() as number) !== input.expectSeq) return { kind: 'conflict' };
      if (!input.replace) {
        const existing = this.st.countOf.get(input.userId, input.modelId) as number;
        if (existing + input.templates.length > input.maxTemplates) return { kind: 'too-many', existing };
      }
      this.st.upsertUser.run(input.userId, input.now, input.now);
      if (input.replace) this.st.deleteTemplatesOf.run(input.userId, input.modelId);
      for (const t of input.templates) {
        this.st.insertTemplate.run(input.userId, input.modelId, t.pose, this.cipher.sealTemplate(this.dataKeyFor(input.userId), input.modelId, t.embedding), input.now);
      }
      const seq = this.st.bumpSeq.get() as number;
      this.st.insertChange.run(seq, input.userId, input.now);
      const templates = this.st.countOf.get(input.userId, input.modelId) as number;
      return { kind: 'ok', templates, seq };
    });
  }

  async deleteUser(userId: string, now: number): Promise<boolean> {
    return this.durable(() => {
      const db = this.db;
      const existed = db.prepare('DELETE FROM users WHERE user_id = ?').run(userId).changes > 0;
      const templates = db.prepare('DELETE FROM templates WHERE user_id = ?').run(userId).changes;
      db.prepare('DELETE FROM backups WHERE user_id = ?').run(userId);
      db.prepare('DELETE FROM user_keys WHERE user_id = ?').run(userId); // her data key: copies of her rows elsewhere become unreadable
      this.cipher.forget(userId);
      db.prepare('DELETE FROM attempts WHERE matched_user = ?').run(userId);
      db.prepare('DELETE FROM guards WHERE key = ?').run(`user:${userId}`);
      db.prepare('DELETE FROM nonces WHERE user_id = ?').run(userId);
      db.prepare('DELETE FROM sessions WHERE user_id = ? OR result_user = ?').run(userId, userId);
      if (templates > 0 || existed) {
        const seq = this.st.bumpSeq.get() as number;
        this.st.insertChange.run(seq, userId, now);
      }
      return existed;
    });
  }

  async exportUser(userId: string): Promise<UserExport | null> {
    const db = this.db;
    return db.transaction((): UserExport | null => {
      const user = db.prepare('SELECT created_at, updated_at FROM users WHERE user_id = ?').get(userId) as
        | { created_at: number; updated_at: number }
        | undefined;
      if (!user) return null;
      const templates = (
        db.prepare('SELECT id, user_id, model_id, pose, embedding, created_at FROM templates WHERE user_id = ? ORDER BY id').all(userId) as TemplateDbRow[]
      ).map((r) => templateFromRow(r, this.openTemplates(r.user_id, r.model_id, [r.embedding])[0]!));
      const attempts = (
        db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE matched_user = ? ORDER BY id`).all(userId) as AttemptDbRow[]
      ).map(attemptFromRow);
      return {
        userId,
        createdAt: user.created_at,
        updatedAt: user.updated_at,
        templates,
        backup: this.getBackupSync(userId),
        attempts,
      };
    })();
  }

  private getBackupSync(userId: string): Backup | null {
    const r = this.st.getBackup.get(userId) as { user_id: string; model_id: string; templates: string; updated_at: number } | undefined;
    if (!r) return null;
    const json = this.cipher.openBackup(r.user_id, r.model_id, r.templates, () => this.userKeyOf(r.user_id));
    return { userId: r.user_id, modelId: r.model_id, templates: decodeBackupTemplates(json), updatedAt: r.updated_at };
  }

  async putBackup(b: Backup): Promise<void> {
    this.durable(() => {
      this.st.upsertUser.run(b.userId, b.updatedAt, b.updatedAt);
      this.st.putBackup.run(b.userId, b.modelId, this.cipher.sealBackup(this.dataKeyFor(b.userId), b.modelId, encodeBackupTemplates(b.templates)), b.updatedAt);
    });
  }

  async getBackup(userId: string): Promise<Backup | null> {
    return this.getBackupSync(userId);
  }

  async changeSeq(): Promise<number> {
    return this.st.seq.get() as number;
  }

  async changesSince(seq: number, limit: number): Promise<{ seq: number; userId: string }[]> {
    return (
      this.db.prepare('SELECT seq, user_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as {
        seq: number;
        user_id: string;
      }[]
    ).map((r) => ({ seq: r.seq, userId: r.user_id }));
  }

  async templatesOfUsers(userIds: readonly string[]): Promise<GalleryRow[]> {
    if (userIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT t.id, t.user_id, t.model_id, t.embedding, k.kek_id, k.wrapped_dek FROM templates t LEFT JOIN user_keys k ON k.user_id = t.user_id
         WHERE t.user_id IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(userIds)) as GalleryDbRow[];
    return this.galleryRows(rows);
  }

  async scanTemplates(afterId: number, limit: number): Promise<GalleryRow[]> {
    const rows = this.db
      .prepare(
        `SELECT t.id, t.user_id, t.model_id, t.embedding, k.kek_id, k.wrapped_dek FROM templates t LEFT JOIN user_keys k ON k.user_id = t.user_id
         WHERE t.id > ? ORDER BY t.id LIMIT ?`,
      )
      .all(afterId, limit) as GalleryDbRow[];
    return this.galleryRows(rows);
  }

  async labelAttempt(id: number, label: AttemptLabel, now: number): Promise<boolean> {
    return this.db.prepare('UPDATE attempts SET label = ?, labeled_at = ? WHERE id = ?').run(label, now, id).changes > 0;
  }

  async listAttempts(afterId: number, limit: number): Promise<AttemptRow[]> {
    return (
      this.db.prepare(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as AttemptDbRow[]
    ).map(attemptFromRow);
  }

  async labeledScores(modelId?: string): Promise<LabeledScore[]> {
    const rows = this.db
      .prepare(
        `SELECT score, label, model_id, action FROM attempts
         WHERE label IS NOT NULL AND score IS NOT NULL AND (? IS NULL OR model_id = ?)`,
      )
      .all(modelId ?? null, modelId ?? null) as { score: number; label: string; model_id: string; action: string }[];
    return rows.map((r) => ({ score: r.score, label: r.label as AttemptLabel, modelId: r.model_id, action: r.action as LabeledScore['action'] }));
  }

  async stats(): Promise<StoreStats> {
    const n = (t: string) => this.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
    return {
      users: n('users'),
      templates: n('templates'),
      backups: n('backups'),
      attempts: n('attempts'),
      nonces: n('nonces'),
      spentAssertions: n('spent_assertions'),
      guards: n('guards'),
      changeSeq: this.st.seq.get() as number,
    };
  }

  async seedTemplates(rows: readonly SeedRow[], now: number): Promise<void> {
    this.durable(() => {
      const seen = new Set<string>();
      for (const r of rows) {
        this.st.upsertUser.run(r.userId, now, now);
        this.st.insertTemplate.run(r.userId, r.modelId, 'center', this.cipher.sealTemplate(this.dataKeyFor(r.userId), r.modelId, r.embedding), now);
        seen.add(r.userId);
      }
      for (const userId of seen) {
        const seq = this.st.bumpSeq.get() as number;
        this.st.insertChange.run(seq, userId, now);
      }
    });
  }

  async seedNonces(rows: readonly NonceSeed[], now: number): Promise<void> {
    this.hot(() => {
      for (const r of rows) this.st.insertNonce.run(r.hash, r.row.action, r.row.userId, r.row.expiresAt, now);
    });
  }
}

function templateFromRow(r: TemplateDbRow, embedding: Float32Array): StoredTemplate {
  return {
    id: r.id,
    userId: r.user_id,
    modelId: r.model_id,
    pose: r.pose as Pose,
    embedding,
    createdAt: r.created_at,
  };
}

type GalleryDbRow = TemplateDbRow & { kek_id: string | null; wrapped_dek: Buffer | null };

