/**
 * Schema migrations, one ladder per dialect with the same versions. A migration is applied once,
 * in a transaction, and recorded in schema_migrations; add new versions at the end, never edit
 * an applied one.
 *
 * Tables
 * - users(user_id, created_at, updated_at): a user exists once enrolled or backed up.
 * - templates: enrolled server templates, one row per pose, the unit float32 vector as bytes (from v5:
 *   encrypted under the user's data key, see user_keys; legacy rows stay plaintext until `server:keys rotate`).
 * - backups: the offline-first widget's own templates, one row per user (latest backup), kept
 *   apart from `templates`: they are never matched against by verify / identify.
 * - nonces: SHA-256 of each outstanding challenge, with its action, user and expiry. Only the
 *   primary key is indexed (every verify writes here); the purge of expired rows (once a minute)
 *   and a user's deletion scan the table, which holds only outstanding challenges.
 * - attempts: the audit log (time, action, claimed / matched user, decision, score, model,
 *   client ip / user-agent / origin) and its genuine / impostor label. Invariant: when
 *   claimed_user is set, matched_user is set to the same user (verify), so the one index on
 *   matched_user finds every attempt that names a user (export, delete).
 * - guards: lockout state per key.
 * - sessions (v2): SHA-256 of each session id (never the id), its action, user, the site's nonce, the
 *   challenge (JSON), state (pending -> examining -> done | refused), the outcome (decision, liveness,
 *   refusal, result user: never a score) and its times; purged at purge_at with the nonces.
 * - spent_assertions (v3): the jti of every assertion used as proof (re-enrol, backup, restore, export,
 *   delete), until the assertion's expiry: an assertion is proof once. Written on the hot path
 *   (like nonces); purged with the nonces. Deleting a user leaves these rows (they name no user).
 * - user_keys (v5): each user's data key (AES-256-GCM), wrapped by a key-encryption key from the
 *   configuration, with that key's id (server/crypto/template-cipher.ts). From v5 on, `templates.embedding`
 *   and `backups.templates` are encrypted under it; deleting the user deletes this row (crypto-shredding).
 *   Indexed by kek_id (rotation finds the rows not under the current key; the start checks each id in use).
 * - template_protection (v5): one row; legacy_plaintext = 1 while rows written before v5 may still be
 *   plaintext (set by the migration when it found any; cleared by `server:keys rotate` once all are encrypted).
 * - changes + change_counter: the change feed the in-memory galleries follow. Every write to
 *   `templates` bumps change_counter (row-locked in the same transaction, so sequence order is
 *   commit order) and logs the user id in `changes`.
 */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** v2, both dialects: the sessions table (`int`: the time column type; `suffix`: SQLite's WITHOUT ROWID). */
function sessionsTable(int: 'INTEGER' | 'BIGINT', suffix: string): string {
  return `
CREATE TABLE sessions (
  hash TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  user_id TEXT,
  site_nonce TEXT NOT NULL,
  challenge TEXT NOT NULL,
  state TEXT NOT NULL,
  decision TEXT,
  liveness TEXT,
  refusal TEXT,
  result_user TEXT,
  created_at ${int} NOT NULL,
  expires_at ${int} NOT NULL,
  purge_at ${int} NOT NULL,
  decided_at ${int}
)${suffix};
`;
}

/** v4, both dialects: why an attempt was refused (decision 'refused': a session's capture refusal or a duplicate enrolment). */
const ATTEMPT_REFUSAL = 'ALTER TABLE attempts ADD COLUMN refusal TEXT;';

/** v3, both dialects: the ids of assertions spent as proof, until their expiry. */
function spentAssertionsTable(int: 'INTEGER' | 'BIGINT', suffix: string): string {
  return `
CREATE TABLE spent_assertions (
  jti TEXT PRIMARY KEY,
  expires_at ${int} NOT NULL
)${suffix};
`;
}

/** v5, both dialects: the users' wrapped data keys, and whether legacy plaintext rows may remain. */
function templateProtection(int: 'INTEGER' | 'BIGINT', blob: 'BLOB' | 'BYTEA'): string {
  return `
CREATE TABLE user_keys (
  user_id TEXT PRIMARY KEY,
  kek_id TEXT NOT NULL,
  wrapped_dek ${blob} NOT NULL,
  created_at ${int} NOT NULL
);
CREATE INDEX user_keys_by_kek ON user_keys (kek_id);
CREATE TABLE template_protection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  legacy_plaintext INTEGER NOT NULL
);
INSERT INTO template_protection (id, legacy_plaintext)
  SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM templates) OR EXISTS (SELECT 1 FROM backups) THEN 1 ELSE 0 END;
`;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE templates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  pose TEXT NOT NULL,
  embedding BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX templates_by_user ON templates (user_id, model_id);
CREATE TABLE backups (
  user_id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL,
  templates TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE nonces (
  hash TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  user_id TEXT,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  claimed_user TEXT,
  matched_user TEXT,
  decision TEXT NOT NULL,
  score REAL,
  model_id TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  origin TEXT,
  label TEXT,
  labeled_at INTEGER
);
CREATE INDEX attempts_by_matched ON attempts (matched_user);
CREATE INDEX attempts_labeled ON attempts (label) WHERE label IS NOT NULL;
CREATE TABLE guards (
  key TEXT PRIMARY KEY,
  failures TEXT NOT NULL,
  locked_until INTEGER NOT NULL,
  level INTEGER NOT NULL,
  last_lock_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE change_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);
`,
  },
  { version: 2, sql: sessionsTable('INTEGER', ' WITHOUT ROWID') },
  { version: 3, sql: spentAssertionsTable('INTEGER', ' WITHOUT ROWID') },
  { version: 4, sql: ATTEMPT_REFUSAL },
  { version: 5, sql: templateProtection('INTEGER', 'BLOB') },
];

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE templates (
  id BIGSERIAL PRIMARY KEY,
  user_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  pose TEXT NOT NULL,
  embedding BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX templates_by_user ON templates (user_id, model_id);
CREATE TABLE backups (
  user_id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL,
  templates TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE nonces (
  hash TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  user_id TEXT,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE attempts (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  action TEXT NOT NULL,
  claimed_user TEXT,
  matched_user TEXT,
  decision TEXT NOT NULL,
  score DOUBLE PRECISION,
  model_id TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  origin TEXT,
  label TEXT,
  labeled_at BIGINT
);
CREATE INDEX attempts_by_matched ON attempts (matched_user);
CREATE INDEX attempts_labeled ON attempts (label) WHERE label IS NOT NULL;
CREATE TABLE guards (
  key TEXT PRIMARY KEY,
  failures TEXT NOT NULL,
  locked_until BIGINT NOT NULL,
  level INTEGER NOT NULL,
  last_lock_at BIGINT NOT NULL
);
CREATE TABLE changes (
  seq BIGINT PRIMARY KEY,
  user_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE TABLE change_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);
`,
  },
  { version: 2, sql: sessionsTable('BIGINT', '') },
  { version: 3, sql: spentAssertionsTable('BIGINT', '') },
  { version: 4, sql: ATTEMPT_REFUSAL },
  { version: 5, sql: templateProtection('BIGINT', 'BYTEA') },
];

/**
 * PostgreSQL with the pgvector extension (issue 14): the 1:N index. Not a numbered migration, because
 * the extension can be installed after the schema was created: applied (idempotently, under the
 * migration lock) by every start that finds the `vector` extension (created once by a superuser:
 * `CREATE EXTENSION vector`), and kept up to date by every writer once the table exists.
 *
 * - template_vectors: one row per template, `Q x` (server/crypto/vector-transform.ts: a secret random
 *   orthogonal transform of the unit template x, never the template itself) as halfvec, written in
 *   the same transaction as the template and deleted with it (ON DELETE CASCADE). `dim` lets one
 *   column hold any model size; the HNSW index (cosine distance) covers dim 192 (MobileFaceNet), other
 *   sizes are searched exactly by the same query.
 * - template_vector_counts: templates per model, maintained by statement triggers (the open-set
 *   threshold's N without a count(*) per identify).
 * - template_vector_key: the transform's random 32-byte seed, wrapped by the KEK (one row).
 *
 * `ext`: the (quoted) schema the extension lives in; the types and operator classes are qualified
 * with it so that a search_path without it (per-test schemas) works.
 */
export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 64;

export function pgVectorSchema(ext: string, dim: number): string {
  return `
CREATE TABLE IF NOT EXISTS template_vector_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  kek_id TEXT NOT NULL,
  wrapped_seed BYTEA NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS template_vectors (
  template_id BIGINT PRIMARY KEY REFERENCES templates (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  dim INTEGER NOT NULL,
  v ${ext}.halfvec NOT NULL
);
CREATE TABLE IF NOT EXISTS template_vector_counts (
  model_id TEXT PRIMARY KEY,
  templates BIGINT NOT NULL
);
CREATE OR REPLACE FUNCTION template_vectors_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $f$
BEGIN
  INSERT INTO template_vector_counts (model_id, templates) SELECT model_id, count(*) FROM added GROUP BY model_id
    ON CONFLICT (model_id) DO UPDATE SET templates = template_vector_counts.templates + EXCLUDED.templates;
  RETURN NULL;
END $f$;
CREATE OR REPLACE FUNCTION template_vectors_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $f$
BEGIN
  UPDATE template_vector_counts c SET templates = c.templates - d.n
    FROM (SELECT model_id, count(*) AS n FROM removed GROUP BY model_id) d WHERE c.model_id = d.model_id;
  RETURN NULL;
END $f$;
CREATE OR REPLACE TRIGGER template_vectors_added AFTER INSERT ON template_vectors
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION template_vectors_added();
CREATE OR REPLACE TRIGGER template_vectors_removed AFTER DELETE ON template_vectors
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION template_vectors_removed();
CREATE INDEX IF NOT EXISTS template_vectors_hnsw ON template_vectors
  USING hnsw ((v::${ext}.halfvec(${dim})) ${ext}.halfvec_cosine_ops) WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) WHERE dim = ${dim};
`;
}
