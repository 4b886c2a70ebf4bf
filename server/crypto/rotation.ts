/**
 * Key rotation and the encryption of legacy plaintext rows (`npm run server:keys -- rotate`,
 * server/keys.ts), on SQLite and PostgreSQL, while servers keep running on the same database:
 *
 * 1. every data key not wrapped under the current KEK is re-wrapped under it (the data key itself
 *    is unchanged, so running servers' caches and the stored templates stay valid), and so is the
 *    pgvector index's transform seed (PostgreSQL: the vectors stay valid, no re-index);
 * 2. every plaintext template (rows written before schema v5) is encrypted under its user's data key
 *    (created when she has none), and so is every plaintext backup;
 * 3. when no plaintext row is left, `template_protection.legacy_plaintext` is cleared: from then on a
 *    plaintext row is refused (servers read the flag at start: restart them to refuse at once).
 *
 * Work is done in batches, one short transaction each; every update is conditional on the row still
 * holding what was read (a concurrent enrolment or deletion wins, and the row is simply not
 * counted). Idempotent: a second run finds nothing to do. Nothing here bumps the change feed: the
 * templates' values do not change, so the in-memory galleries need no reload.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DbConfig } from '../config.js';
import { decodeEmbedding } from '../embedding.js';
import { openStore } from '../store/open.js';
import { pgTransaction } from '../store/postgres.js';
import { isSealedBackup, isSealedTemplate, TemplateCipher, type DataKey, type UserKeyRow } from './template-cipher.js';
import type { TemplateKeyring } from './template-keys.js';

export interface KeyStatus {
  /** Data keys per KEK id. */
  readonly dataKeys: Readonly<Record<string, number>>;
  readonly plaintextTemplates: number;
  readonly plaintextBackups: number;
  readonly encryptedTemplates: number;
  readonly encryptedBackups: number;
  /** template_protection.legacy_plaintext: plaintext rows are still read. */
  readonly legacyPlaintextReadable: boolean;
  readonly currentKek: string;
}

export interface RotationReport {
  readonly rewrapped: number;
  readonly templatesEncrypted: number;
  readonly backupsEncrypted: number;
  readonly dataKeysCreated: number;
  readonly after: KeyStatus;
}

type Row = Record<string, unknown>;

/** The few statements rotation needs, over either database (SQL written with $1 placeholders). */
interface Conn {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  tx<T>(fn: (c: Conn) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: 'sqlite' | 'postgres';
}

function sqliteConn(path: string): Conn {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  // The plaintext a row held is overwritten with zeros when the row is rewritten, not left in a free slot of its page.
  db.pragma('secure_delete = ON');
  // $1 placeholders as named parameters (@p1): better-sqlite3 binds an object by name, a placeholder may repeat.
  const sql = (s: string) => s.replace(/\$(\d+)/g, '@p$1');
  const named = (p: readonly unknown[]) => (p.length ? [Object.fromEntries(p.map((v, i) => [`p${i + 1}`, v]))] : []);
  const conn: Conn = {
    kind: 'sqlite',
    all: async (s, p = []) => db.prepare(sql(s)).all(...named(p)) as Row[],
    run: async (s, p = []) => db.prepare(sql(s)).run(...named(p)).changes,
    tx: async (fn) => {
      db.pragma('synchronous = FULL');
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(conn);
        db.exec('COMMIT');
        return out;
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    },
    close: async () => {
      // Old page images (the plaintext) stay in the WAL file until it is checkpointed and truncated (best effort: a reader may hold it).
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
  return conn;
}

function postgresConn(db: Extract<DbConfig, { kind: 'postgres' }>): Conn {
  const pool = new pg.Pool({ connectionString: db.url, max: 2, ...(db.schema ? { options: `-c search_path=${db.schema}` } : {}) });
  pool.on('error', () => {});
  const over = (q: pg.Pool | pg.PoolClient): Omit<Conn, 'tx' | 'close'> => ({
    kind: 'postgres',
    all: async (s, p = []) => (await q.query(s, p as unknown[])).rows as Row[],
    run: async (s, p = []) => (await q.query(s, p as unknown[])).rowCount ?? 0,
  });
  return {
    ...over(pool),
    tx: (fn) => pgTransaction(pool, true, (c) => fn({ ...over(c), tx: () => Promise.reject(new Error('nested')), close: async () => {} })),
    close: () => pool.end(),
  };
}

async function connect(db: DbConfig, keys: TemplateKeyring): Promise<Conn> {
  // Migrates to the current schema and checks that every KEK id in use is configured and unwraps.
  const store = await openStore(db, keys);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  return db.kind === 'sqlite' ? sqliteConn(db.path) : postgresConn(db);
}

const keyRow = (r: Row): UserKeyRow => ({ userId: String(r.user_id), kekId: String(r.kek_id), wrapped: r.wrapped_dek as Buffer });

async function status(c: Conn, keys: TemplateKeyring): Promise<KeyStatus> {
  const dataKeys: Record<string, number> = {};
  for (const r of await c.all('SELECT kek_id, count(*) AS n FROM user_keys GROUP BY kek_id ORDER BY kek_id')) dataKeys[String(r.kek_id)] = Number(r.n);
  const n = async (s: string) => Number((await c.all(s))[0]!.n);
  return {
    dataKeys,
    plaintextTemplates: await n('SELECT count(*) AS n FROM templates WHERE length(embedding) % 4 = 0'),
    encryptedTemplates: await n('SELECT count(*) AS n FROM templates WHERE length(embedding) % 4 <> 0'),
    plaintextBackups: await n("SELECT count(*) AS n FROM backups WHERE templates NOT LIKE 'v1:%'"),
    encryptedBackups: await n("SELECT count(*) AS n FROM backups WHERE templates LIKE 'v1:%'"),
    legacyPlaintextReadable: Number((await c.all('SELECT legacy_plaintext AS n FROM template_protection WHERE id = 1'))[0]?.n ?? 1) === 1,
    currentKek: keys.current().id,
  };
}

/** Counts of what is stored under which key (nothing is changed; migrates the schema if needed). */
export async function templateKeyStatus(db: DbConfig, keys: TemplateKeyring): Promise<KeyStatus> {
  const c = await connect(db, keys);
  try {
    return await status(c, keys);
  } finally {
    await c.close();
  }
}

/** The user's data key inside a rotation transaction, created when she has none (as the stores do). */
async function dataKeyIn(c: Conn, cipher: TemplateCipher, userId: string, created: { n: number }): Promise<DataKey> {
  const found = await c.all('SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = $1', [userId]);
  if (found[0]) return cipher.dataKey(keyRow(found[0]));
  const fresh = cipher.newDataKey(userId);
  await c.run('INSERT INTO user_keys (user_id, kek_id, wrapped_dek, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING', [userId, fresh.kekId, fresh.wrapped, Date.now()]);
  const row = (await c.all('SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = $1', [userId]))[0]!;
  if (Buffer.compare(row.wrapped_dek as Buffer, fresh.wrapped) === 0) created.n++;
  return cipher.dataKey(keyRow(row));
}

/** Re-wraps every data key under the current KEK and encrypts every plaintext template and backup. */
export interface RotationOptions {
  /** Rows per transaction (default 500). */
  readonly batch?: number;
  readonly log?: (line: string) => void;
  /**
   * After encrypting plaintext rows, rewrite the database so that no copy of the plaintext is left in
   * it: SQLite VACUUM + a truncating WAL checkpoint; PostgreSQL VACUUM FULL of templates and backups.
   * Both lock out writers (and PostgreSQL's, readers) for the duration: a maintenance window.
   */
  readonly vacuum?: boolean;
}

export async function rotateTemplateKeys(db: DbConfig, keys: TemplateKeyring, options: RotationOptions = {}): Promise<RotationReport> {
  const batch = options.batch ?? 500;
  const log = options.log ?? (() => {});
  const cipher = new TemplateCipher(keys, { cacheSize: batch * 2 });
  const current = keys.current().id;
  const c = await connect(db, keys);
  const lockRows = c.kind === 'postgres' ? ' FOR UPDATE' : '';
  try {
    let rewrapped = 0;
    for (;;) {
      const n = await c.tx(async (t) => {
        const rows = await t.all(`SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE kek_id <> $1 ORDER BY user_id LIMIT $2${lockRows}`, [current, batch]);
        let done = 0;
        for (const r of rows) {
          const next = cipher.rewrap(keyRow(r))!;
          done += await t.run('UPDATE user_keys SET kek_id = $1, wrapped_dek = $2 WHERE user_id = $3 AND wrapped_dek = $4', [next.kekId, next.wrapped, r.user_id, r.wrapped_dek]);
        }
        return { seen: rows.length, done };
      });
      rewrapped += n.done;
      if (n.seen > 0) log(`re-wrapped ${rewrapped} data keys under ${current}`);
      if (n.seen < batch) break;
    }

    // PostgreSQL with pgvector: the vector index's transform seed (vector-transform.ts) is re-wrapped
    // too; the seed, and so every stored vector, stays the same (no re-index).
    if (c.kind === 'postgres' && (await c.all("SELECT to_regclass('template_vector_key') IS NOT NULL AS t"))[0]!.t === true) {
      const seedRow = (await c.all('SELECT kek_id, wrapped_seed FROM template_vector_key WHERE id = 1'))[0];
      const next = seedRow ? cipher.rewrapVectorSeed({ kekId: String(seedRow.kek_id), wrapped: seedRow.wrapped_seed as Buffer }) : null;
      if (next && (await c.run('UPDATE template_vector_key SET kek_id = $1, wrapped_seed = $2 WHERE id = 1 AND wrapped_seed = $3', [next.kekId, next.wrapped, seedRow!.wrapped_seed])) > 0) {
        log(`re-wrapped the vector index's transform seed under ${current}`);
      }
    }

    const created = { n: 0 };
    let templatesEncrypted = 0;
    for (let after = 0; ; ) {
      const n = await c.tx(async (t) => {
        const rows = await t.all('SELECT id, user_id, model_id, embedding FROM templates WHERE id > $1 AND length(embedding) % 4 = 0 ORDER BY id LIMIT $2', [after, batch]);
        let done = 0;
        for (const r of rows) {
          const blob = r.embedding as Buffer;
          if (isSealedTemplate(blob)) continue;
          const dk = await dataKeyIn(t, cipher, String(r.user_id), created);
          const sealed = cipher.sealTemplate(dk, String(r.model_id), decodeEmbedding(blob));
          done += await t.run('UPDATE templates SET embedding = $1 WHERE id = $2 AND embedding = $3', [sealed, r.id, blob]);
        }
        return { last: rows.length ? Number(rows[rows.length - 1]!.id) : after, seen: rows.length, done };
      });
      templatesEncrypted += n.done;
      after = n.last;
      if (n.seen > 0) log(`encrypted ${templatesEncrypted} plaintext templates`);
      if (n.seen < batch) break;
    }

    let backupsEncrypted = 0;
    for (let after = ''; ; ) {
      const n = await c.tx(async (t) => {
        const rows = await t.all("SELECT user_id, model_id, templates FROM backups WHERE user_id > $1 AND templates NOT LIKE 'v1:%' ORDER BY user_id LIMIT $2", [after, batch]);
        let done = 0;
        for (const r of rows) {
          const text = String(r.templates);
          if (isSealedBackup(text)) continue;
          JSON.parse(text); // a plaintext backup is its JSON; anything else is left alone (and stays refused)
          const dk = await dataKeyIn(t, cipher, String(r.user_id), created);
          done += await t.run('UPDATE backups SET templates = $1 WHERE user_id = $2 AND templates = $3', [cipher.sealBackup(dk, String(r.model_id), text), r.user_id, text]);
        }
        return { last: rows.length ? String(rows[rows.length - 1]!.user_id) : after, seen: rows.length, done };
      });
      backupsEncrypted += n.done;
      after = n.last;
      if (n.seen > 0) log(`encrypted ${backupsEncrypted} plaintext backups`);
      if (n.seen < batch) break;
    }

    if (options.vacuum && templatesEncrypted + backupsEncrypted > 0) {
      log('rewriting the database so that no copy of the plaintext is left in it');
      if (c.kind === 'sqlite') {
        await c.run('VACUUM');
        await c.all('PRAGMA wal_checkpoint(TRUNCATE)');
      } else {
        await c.run('VACUUM FULL templates');
        await c.run('VACUUM FULL backups');
      }
    }
    let after = await status(c, keys);
    if (after.legacyPlaintextReadable && after.plaintextTemplates === 0 && after.plaintextBackups === 0) {
      await c.run('UPDATE template_protection SET legacy_plaintext = 0 WHERE id = 1');
      after = await status(c, keys);
    }
    return { rewrapped, templatesEncrypted, backupsEncrypted, dataKeysCreated: created.n, after };
  } finally {
    await c.close();
  }
}
