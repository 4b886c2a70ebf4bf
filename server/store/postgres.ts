/**
 * The scale-out store: PostgreSQL through a pg Pool. Every connection runs with
 * synchronous_commit=off (the hot path, see types.ts); the durable writes (enroll, delete,
 * backup, seeding) open a transaction with `SET LOCAL synchronous_commit = on`.
 *
 * The verify hot path is two round trips, accept or reject: one statement consumes the nonce and
 * reads the lockout state, the user's templates and her wrapped data key; one statement logs the
 * attempt with the lockout update (an accept clears it; a reject writes the failures compare-and-set
 * against what the first statement read, and only when a concurrent attempt moved a guard does it
 * take the short transaction that row-locks the lockout state, so concurrent failures all count).
 *
 * With the pgvector extension, 1:N is answered here too (searchGallery): the server holds no gallery.
 */
import pg from 'pg';
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
import { POSTGRES_MIGRATIONS, pgVectorSchema } from './migrations.js';
import { INDEXED_DIM, VectorTransform } from '../crypto/vector-transform.js';
import {
  SESSION_COLUMNS,
  SESSION_INSERT_COLUMNS,
  sessionFromRow,
  sessionInsertParams,
  sessionOutcomeParams,
  type SessionDbRow,
} from '../sessions/codec.js';
import type {
  AttemptInput,
  GuardedInput,
  GuardedOutcome,
  Judgement,
  PurgeInput,
  AttemptLabel,
  AttemptRow,
  Backup,
  DbGallery,
  EnrollInput,
  GallerySearchInput,
  GallerySearchResult,
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
  UserExport,
  VerifyInput,
  VerifyOutcome,
} from './types.js';

const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // BIGINT columns hold epoch milliseconds and ids: exact as JS numbers.
    if (oid === INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresStoreOptions {
  readonly url: string;
  /** search_path for every connection; must already exist (tests create one per run). */
  readonly schema?: string;
  readonly poolSize?: number;
  /** The KEKs of template / backup encryption (server/crypto/template-keys.ts); absent: a read-only tool that never touches templates. */
  readonly keys?: TemplateKeyring | null;
  /** 1:N with pgvector (config.ts DbConfig.vectorIndex): auto (default), require, off. */
  readonly vectorIndex?: 'auto' | 'require' | 'off';
  /** Candidates per probe asked of the HNSW index (default 32). */
  readonly vectorCandidates?: number;
  /** hnsw.ef_search (default 80; raised to the candidates when lower; at most 1000, pgvector's limit). */
  readonly vectorEfSearch?: number;
}

/** pgvector's upper bound for hnsw.ef_search (and so for the candidates asked per probe). */
const MAX_EF_SEARCH = 1000;

/**
 * Exact re-ranking reads only the candidates whose approximate (halfvec) cosine is within this of the
 * second-best candidate user's. halfvec keeps 11 significant bits: each unit vector is off by at most
 * 2^-11 in norm, so an approximate cosine is off by ~2e-3 at worst, and a user this far below cannot
 * be the best or the runner-up exactly.
 */
const RERANK_MARGIN = 0.02;

/** pgvector 0.7.0 brought halfvec (and 0.5.0 HNSW). */
const PGVECTOR_MIN = [0, 7, 0];

function versionAtLeast(v: string, min: readonly number[]): boolean {
  const p = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < min.length; i++) if ((p[i] ?? 0) !== min[i]) return (p[i] ?? 0) > min[i]!;
  return true;
}

/** The float32 dot product summed as ModelGallery.exact sums it (two accumulators), so scores match the in-memory scan bit for bit. */
function dotExact(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 1 < a.length; i += 2) {
    s0 += b[i]! * a[i]!;
    s1 += b[i + 1]! * a[i + 1]!;
  }
  if (i < a.length) s0 += b[i]! * a[i]!;
  return s0 + s1;
}

/** The pgvector index as this store found it at migrate(). */
interface VectorState {
  /** The extension's schema, quoted (types and operators are qualified with it). */
  readonly ext: string;
  readonly version: string;
  /** Q (server/crypto/vector-transform.ts); null until the seed is read (or without template keys). */
  transform: VectorTransform | null;
}

const ATTEMPT_INSERT = `INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

const ATTEMPT_INSERT_REFUSAL = `INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin, refusal)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

/** The guards' states in the order of `keys` (null: no row). */
function guardsByKey(keys: readonly string[], rows: readonly (GuardDbRow & { key: string })[] | null): (GuardState | null)[] {
  const byKey = new Map((rows ?? []).map((r) => [r.key, r]));
  return keys.map((k) => guardFromRow(byKey.get(k)));
}

/**
 * Serialises the attempts on these guards for the transaction (advisory locks, taken in key order
 * so two transactions never deadlock; no row needs to exist) and reads their states.
 */
async function lockGuards(c: pg.PoolClient, guards: readonly GuardSpec[]): Promise<(GuardState | null)[]> {
  const keys = guards.map((g) => g.key);
  await c.query('SELECT pg_advisory_xact_lock(hashtextextended(k, 7)) FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s', [keys]);
  const r = await c.query<GuardDbRow & { key: string }>('SELECT key, failures, locked_until, level, last_lock_at FROM guards WHERE key = ANY($1::text[])', [keys]);
  return guardsByKey(keys, r.rows);
}

async function writeFailures(c: pg.PoolClient, guards: readonly GuardSpec[], states: readonly (GuardState | null)[], now: number): Promise<void> {
  for (const [i, g] of guards.entries()) {
    await c.query(
      `INSERT INTO guards (key, failures, locked_until, level, last_lock_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, level = excluded.level, last_lock_at = excluded.last_lock_at`,
      [g.key, ...guardToParams(afterFailure(states[i] ?? null, now, g.policy))],
    );
  }
}

function attemptParams(a: AttemptInput): unknown[] {
  return [a.at, a.action, a.claimedUser, a.matchedUser, a.decision, a.score, a.modelId, a.client.ip, a.client.userAgent, a.client.origin];
}

/** One transaction on a pooled connection (`durable`: committed with synchronous_commit on), rolled back on any error. */
export async function pgTransaction<T>(pool: pg.Pool, durable: boolean, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query(durable ? 'BEGIN; SET LOCAL synchronous_commit = on' : 'BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private closed = false;
  /** Template / backup encryption (server/crypto/template-cipher.ts). */
  readonly cipher: TemplateCipher;
  /** Called for a gallery row that does not decrypt (skipped, never matched); verify and export fail instead. */
  onUnreadable: (e: TemplateProtectionError) => void = warnUnreadable;
  private readonly vectorMode: 'auto' | 'require' | 'off';
  private readonly vectorCandidates: number;
  private readonly vectorEfSearch: number;
  /** Set by migrate() when template_vectors exists: every template write maintains it (whatever vectorMode says). */
  private vec: VectorState | null = null;

  constructor(options: PostgresStoreOptions) {
    this.cipher = new TemplateCipher(options.keys ?? null);
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(`Bad PostgreSQL schema name "${options.schema}".`);
    }
    this.vectorMode = options.vectorIndex ?? 'auto';
    this.vectorCandidates = options.vectorCandidates ?? 32;
    this.vectorEfSearch = Math.max(options.vectorEfSearch ?? 80, this.vectorCandidates);
    // pgvector accepts hnsw.ef_search in 1..1000; a value outside it, set before the extension loads,
    // is dropped with a warning and the search silently runs at pgvector's default (40): measured at 1M
    // templates, "ef_search 1600" gave the recall of 40. So both are refused here instead.
    for (const [name, v] of [['vectorCandidates', this.vectorCandidates], ['vectorEfSearch', this.vectorEfSearch]] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= MAX_EF_SEARCH)) {
        throw new RangeError(`PostgreSQL ${name} must be an integer in 1..${MAX_EF_SEARCH} (pgvector's hnsw.ef_search range; the search needs ef_search >= candidates), got ${v}.`);
      }
    }
    // hnsw.*: pgvector's search settings for every connection (placeholders until the extension loads;
    // one statement per search instead of BEGIN / SET LOCAL / SELECT / COMMIT). iterative_scan: the
    // index keeps looking when rows of other models or the excluded user filter candidates out.
    const settings = ['-c synchronous_commit=off', `-c hnsw.ef_search=${this.vectorEfSearch}`, '-c hnsw.iterative_scan=relaxed_order'];
    if (options.schema) settings.push(`-c search_path=${options.schema}`);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: settings.join(' '),
      types,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's error (server restart) must not crash the process; the pool drops it.
    this.pool.on('error', () => {});
  }

  // Template protection (server/crypto/template-cipher.ts): every template and backup is encrypted
  // under its user's data key.

  /** After migrating: whether legacy plaintext may remain, and every KEK id in use is configured and unwraps. */
  private async openCipher(): Promise<void> {
    const flag = await this.pool.query<{ legacy_plaintext: number }>('SELECT legacy_plaintext FROM template_protection WHERE id = 1');
    this.cipher.legacyPlaintext = flag.rows[0]?.legacy_plaintext === 1;
    const samples = await this.pool.query<UserKeyDbRow>('SELECT DISTINCT ON (kek_id) user_id, kek_id, wrapped_dek FROM user_keys ORDER BY kek_id');
    this.cipher.checkStoredKeys(samples.rows.map((r) => userKeyFromRow(r)!));
  }

  /** The user's data key, created in the caller's transaction on her first template or backup (one round trip either way). */
  private async dataKeyFor(c: pg.PoolClient, userId: string): Promise<DataKey> {
    const fresh = this.cipher.newDataKey(userId);
    const r = await c.query<UserKeyDbRow>(
      `INSERT INTO user_keys (user_id, kek_id, wrapped_dek, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id RETURNING user_id, kek_id, wrapped_dek`,
      [userId, fresh.kekId, fresh.wrapped, Date.now()],
    );
    return this.cipher.dataKey(userKeyFromRow(r.rows[0])!);
  }

  /** dataKeyFor for many users (seeding). */
  private async dataKeysFor(c: pg.PoolClient, userIds: readonly string[]): Promise<Map<string, DataKey>> {
    const out = new Map<string, DataKey>();
    for (let i = 0; i < userIds.length; i += 5000) {
      const part = userIds.slice(i, i + 5000);
      const fresh = part.map((u) => this.cipher.newDataKey(u));
      await c.query(
        `INSERT INTO user_keys (user_id, kek_id, wrapped_dek, created_at) SELECT u, k, w, $4 FROM unnest($1::text[], $2::text[], $3::bytea[]) AS x(u, k, w)
         ON CONFLICT (user_id) DO NOTHING`,
        [part, fresh.map((d) => d.kekId), fresh.map((d) => d.wrapped), Date.now()],
      );
      const r = await c.query<UserKeyDbRow>('SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = ANY($1::text[])', [part]);
      for (const row of r.rows) out.set(row.user_id, this.cipher.dataKey(userKeyFromRow(row)!));
    }
    return out;
  }

  /** One user's blobs of one model, decrypted: with the cached data key, else one query for it. Throws TemplateProtectionError (fail closed). */
  private async openTemplates(userId: string, modelId: string, blobs: readonly Buffer[]): Promise<Float32Array[]> {
    const cached = this.cipher.openTemplatesCached(userId, modelId, blobs);
    if (cached) return cached;
    const r = await this.pool.query<UserKeyDbRow>({ name: 'face-login-user-key', text: 'SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = $1', values: [userId] });
    return this.cipher.openTemplates(userId, modelId, blobs, userKeyFromRow(r.rows[0]));
  }

  /** Gallery rows: a row that does not decrypt is reported and left out (never matched), the rest load. */
  private galleryRows(rows: readonly GalleryDbRow[]): GalleryRow[] {
    const out: GalleryRow[] = [];
    for (const r of rows) {
      try {
        const key = r.kek_id === null ? undefined : userKeyFromRow(r as UserKeyDbRow);
        out.push({ id: Number(r.id), userId: r.user_id, modelId: r.model_id, embedding: this.cipher.openTemplates(r.user_id, r.model_id, [r.embedding], key)[0]! });
      } catch (e) {
        if (!(e instanceof TemplateProtectionError)) throw e;
        this.onUnreadable(e);
      }
    }
    return out;
  }

  private tx<T>(durable: boolean, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, durable, fn);
  }

  async migrate(): Promise<void> {
    await this.tx(true, async (c) => {
      // One migrator at a time across instances starting together.
      await c.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.face-login-migrate'))");
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()]);
      }
      await this.migrateVectors(c);
    });
    await this.openCipher();
    await this.openVectors();
  }

  /** pgvector (migrations.ts pgVectorSchema): creates the index tables when the extension is there, notes whether they exist. */
  private async migrateVectors(c: pg.PoolClient): Promise<void> {
    this.vec = null;
    const ext = (
      await c.query<{ version: string; schema: string }>(
        "SELECT e.extversion AS version, quote_ident(n.nspname) AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
      )
    ).rows[0];
    const exists = (await c.query<{ t: boolean }>("SELECT to_regclass('template_vectors') IS NOT NULL AS t")).rows[0]!.t;
    const usable = ext !== undefined && versionAtLeast(ext.version, PGVECTOR_MIN);
    if (!usable) {
      if (this.vectorMode === 'require') {
        throw new Error(
          ext
            ? `pgvector ${ext.version} is too old: 1:N on PostgreSQL needs ${PGVECTOR_MIN.join('.')} or later (halfvec, HNSW).`
            : 'The PostgreSQL database has no `vector` extension (FACE_LOGIN_PGVECTOR=require): install pgvector (Debian: postgresql-<v>-pgvector, or scripts/ci/install-pgvector.sh) and run `CREATE EXTENSION vector` once as a superuser in this database.',
        );
      }
      return;
    }
    if (!exists) {
      if (this.vectorMode === 'off') return;
      await c.query(pgVectorSchema(ext.schema, INDEXED_DIM));
    }
    this.vec = { ext: ext.schema, version: ext.version, transform: null };
  }

  /** The transform's seed (created wrapped on first use) and the vectors of templates that have none yet (written before the index existed). */
  private async openVectors(): Promise<void> {
    const vec = this.vec;
    if (!vec || !this.cipher.keys) return;
    const read = async () =>
      (await this.pool.query<{ kek_id: string; wrapped_seed: Buffer }>('SELECT kek_id, wrapped_seed FROM template_vector_key WHERE id = 1')).rows[0];
    let row = await read();
    if (!row) {
      const fresh = this.cipher.newVectorSeed();
      fresh.seed.fill(0);
      await this.pool.query('INSERT INTO template_vector_key (id, kek_id, wrapped_seed, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [
        fresh.kekId,
        fresh.wrapped,
        Date.now(),
      ]);
      row = (await read())!;
    }
    const seed = this.cipher.openVectorSeed({ kekId: row.kek_id, wrapped: row.wrapped_seed });
    vec.transform = new VectorTransform(seed);
    for (let after = 0; ; ) {
      const r = await this.pool.query<GalleryDbRow>(
        `SELECT t.id, t.user_id, t.model_id, t.embedding, k.kek_id, k.wrapped_dek FROM templates t LEFT JOIN user_keys k ON k.user_id = t.user_id
         WHERE t.id > $1 AND NOT EXISTS (SELECT 1 FROM template_vectors v WHERE v.template_id = t.id) ORDER BY t.id LIMIT 2000`,
        [after],
      );
      const rows = this.galleryRows(r.rows);
      if (rows.length > 0) {
        await this.pool.query(
          `INSERT INTO template_vectors (template_id, user_id, model_id, dim, v)
           SELECT i, u, m, d, v::${vec.ext}.halfvec FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[]) AS x(i, u, m, d, v)
           ON CONFLICT (template_id) DO NOTHING`,
          [rows.map((x) => x.id), rows.map((x) => x.userId), rows.map((x) => x.modelId), rows.map((x) => x.embedding.length), rows.map((x) => vec.transform!.literal(x.embedding))],
        );
      }
      if (r.rows.length < 2000) break;
      after = Number(r.rows[r.rows.length - 1]!.id);
    }
  }

  dbGallery(): DbGallery | null {
    if (!this.vec?.transform || this.vectorMode === 'off') return null;
    return { kind: 'pgvector', version: this.vec.version, candidates: this.vectorCandidates, efSearch: this.vectorEfSearch };
  }

  /** The transform, or an error: templates cannot be written without their index rows once the index exists. */
  private vectorTransform(): VectorTransform {
    if (!this.vec?.transform) throw new TemplateProtectionError('no-keys', 'This store was opened without template keys: it cannot write the vector index.');
    return this.vec.transform;
  }

  /**
   * INSERT of templates (and, with the index, their vectors) for one statement: $1 users, $2 models,
   * $3 poses, $4 sealed blobs, $5 created_at, $6 vector literals, $7 dims (each an array, one per row).
   */
  private templateInsertSql(): string {
    if (!this.vec) {
      return `INSERT INTO templates (user_id, model_id, pose, embedding, created_at)
        SELECT u, m, p, e, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS x(u, m, p, e)`;
    }
    // The vector row joins its template on the sealed blob (unique: a random IV each).
    return `WITH t AS (
        INSERT INTO templates (user_id, model_id, pose, embedding, created_at)
        SELECT u, m, p, e, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS x(u, m, p, e) RETURNING id, user_id, model_id, embedding)
      INSERT INTO template_vectors (template_id, user_id, model_id, dim, v)
      SELECT t.id, t.user_id, t.model_id, y.d, y.v::${this.vec.ext}.halfvec FROM t JOIN unnest($4::bytea[], $6::text[], $7::int[]) AS y(e, v, d) ON y.e = t.embedding`;
  }

  private templateInsertParams(rows: readonly { userId: string; modelId: string; pose: string; blob: Buffer; embedding: Float32Array }[], now: number): unknown[] {
    const base = [rows.map((r) => r.userId), rows.map((r) => r.modelId), rows.map((r) => r.pose), rows.map((r) => r.blob), now];
    if (!this.vec) return base;
    const q = this.vectorTransform();
    return [...base, rows.map((r) => q.literal(r.embedding)), rows.map((r) => r.embedding.length)];
  }

  async searchGallery(input: GallerySearchInput): Promise<GallerySearchResult> {
    const vec = this.vec;
    if (!vec?.transform || this.vectorMode === 'off') throw new Error('searchGallery: this store has no vector index (dbGallery() is null).');
    const probes = input.probes;
    if (probes.length === 0) return { best: null, runnerUp: null, templates: 0 };
    const dim = probes[0]!.length;
    if (probes.some((p) => p.length !== dim)) throw new Error('searchGallery: probes of different sizes.');
    const q = vec.transform;
    // The HNSW index is on (v::halfvec(192)) WHERE dim = 192: the query repeats that expression; other sizes scan exactly.
    const col = dim === INDEXED_DIM ? `(v::${vec.ext}.halfvec(${INDEXED_DIM}))` : 'v';
    const probe = dim === INDEXED_DIM ? `p.q::${vec.ext}.halfvec(${INDEXED_DIM})` : `p.q::${vec.ext}.halfvec`;
    const r = await this.pool.query<{ n: number | null; users: { u: string; t: string; k: string | null; w: string | null }[] | null }>({
      name: `face-login-search-v2-${dim}`,
      // K candidates per probe with the index's approximate cosine (halfvec); only the users that can
      // still be the best or the runner-up after exact scoring are read and decrypted: those within
      // RERANK_MARGIN of the second-best user's approximate score (the halfvec error is far below half of it).
      text: `WITH s AS (
          SELECT h.user_id, 1 - h.d AS sim FROM unnest($1::text[]) AS p(q)
          CROSS JOIN LATERAL (
            SELECT user_id, ${col} OPERATOR(${vec.ext}.<=>) ${probe} AS d FROM template_vectors
            WHERE dim = ${dim} AND model_id = $2 AND ($3::text IS NULL OR user_id <> $3)
            ORDER BY ${col} OPERATOR(${vec.ext}.<=>) ${probe} LIMIT $4) h),
        u AS (SELECT user_id, max(sim) AS sim, row_number() OVER (ORDER BY max(sim) DESC) AS rk FROM s GROUP BY user_id),
        c AS (SELECT user_id FROM u WHERE sim >= (SELECT min(sim) FROM u WHERE rk <= 2) - $5)
        SELECT (SELECT templates FROM template_vector_counts WHERE model_id = $2) AS n,
          (SELECT json_agg(json_build_object('u', x.user_id, 't', x.t, 'k', x.kek_id, 'w', encode(x.wrapped_dek, 'hex'))) FROM (
             SELECT t.user_id, string_agg(encode(t.embedding, 'hex'), ',' ORDER BY t.id) AS t, k.kek_id, k.wrapped_dek
             FROM c JOIN templates t ON t.user_id = c.user_id AND t.model_id = $2 LEFT JOIN user_keys k ON k.user_id = t.user_id
             GROUP BY t.user_id, k.kek_id, k.wrapped_dek) x) AS users`,
      values: [probes.map((p) => q.literal(p)), input.modelId, input.excludeUser ?? null, this.vectorCandidates, RERANK_MARGIN],
    });
    const row = r.rows[0]!;
    // Exact re-ranking: each candidate user's best template against the probes, from her decrypted templates.
    const scored: { userId: string; score: number }[] = [];
    for (const u of row.users ?? []) {
      let templates: Float32Array[];
      try {
        const key = u.k === null ? undefined : { userId: u.u, kekId: u.k, wrapped: Buffer.from(u.w!, 'hex') };
        templates = this.cipher.openTemplates(u.u, input.modelId, u.t.split(',').map((h) => Buffer.from(h, 'hex')), key);
      } catch (e) {
        if (!(e instanceof TemplateProtectionError)) throw e;
        this.onUnreadable(e);
        continue;
      }
      let best = -Infinity;
      for (const t of templates) {
        if (t.length !== dim) continue;
        for (const p of probes) {
          const s = dotExact(t, p);
          if (s > best) best = s;
        }
      }
      if (best > -Infinity) scored.push({ userId: u.u, score: best });
    }
    scored.sort((a, b) => b.score - a.score);
    return { best: scored[0] ?? null, runnerUp: scored[1] ?? null, templates: Number(row.n ?? 0) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async createNonce(hash: string, row: NonceRow, now: number): Promise<void> {
    await this.pool.query('INSERT INTO nonces (hash, action, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [
      hash,
      row.action,
      row.userId,
      row.expiresAt,
      now,
    ]);
  }

  async consumeNonce(hash: string): Promise<{ nonce: NonceRow | null; seq: number }> {
    const r = await this.pool.query<{ nonce: NonceDbRow | null; seq: number }>({
      name: 'face-login-consume-nonce',
      text: `WITH n AS (DELETE FROM nonces WHERE hash = $1 RETURNING action, user_id, expires_at)
       SELECT (SELECT row_to_json(n) FROM n) AS nonce, (SELECT seq FROM change_counter WHERE id = 1) AS seq`,
      values: [hash],
    });
    const row = r.rows[0]!;
    return { nonce: nonceFromRow(row.nonce), seq: Number(row.seq) };
  }

  async purgeExpiredNonces(now: number): Promise<number> {
    const nonces = (await this.pool.query('DELETE FROM nonces WHERE expires_at <= $1', [now])).rowCount ?? 0;
    return nonces + ((await this.pool.query('DELETE FROM spent_assertions WHERE expires_at <= $1', [now])).rowCount ?? 0);
  }

  async spendAssertion(jti: string, expiresAt: number): Promise<boolean> {
    // One statement: of two concurrent spends of one jti, the primary key lets exactly one insert.
    const r = await this.pool.query('INSERT INTO spent_assertions (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt]);
    return r.rowCount === 1;
  }

  async createSession(session: SessionInput): Promise<void> {
    await this.pool.query(`INSERT INTO sessions (${SESSION_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, sessionInsertParams(session));
  }

  async consumeSession(hash: string, now: number): Promise<SessionRecord | null> {
    // One UPDATE: the row lock makes a concurrent upload re-check state = 'pending' and miss.
    const r = await this.pool.query<SessionDbRow>(
      `UPDATE sessions SET state = 'examining' WHERE hash = $1 AND state = 'pending' AND expires_at > $2 RETURNING ${SESSION_COLUMNS}`,
      [hash, now],
    );
    return sessionFromRow(r.rows[0]);
  }

  async completeSession(hash: string, outcome: SessionOutcome): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE sessions SET state = $1, decision = $2, liveness = $3, refusal = $4, result_user = $5, decided_at = $6 WHERE hash = $7 AND state = 'examining'`,
      [...sessionOutcomeParams(outcome), hash],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async getSession(hash: string): Promise<SessionRecord | null> {
    return sessionFromRow((await this.pool.query<SessionDbRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE hash = $1`, [hash])).rows[0]);
  }

  async takeSessionResult(hash: string, now: number): Promise<SessionRecord | null> {
    // One DELETE: of two concurrent reads, the second finds no row.
    const r = await this.pool.query<SessionDbRow>(
      `DELETE FROM sessions WHERE hash = $1 AND (state IN ('done', 'refused') OR (state = 'pending' AND expires_at <= $2)) RETURNING ${SESSION_COLUMNS}`,
      [hash, now],
    );
    return sessionFromRow(r.rows[0]);
  }

  async purgeExpiredSessions(now: number): Promise<number> {
    return (await this.pool.query('DELETE FROM sessions WHERE purge_at <= $1', [now])).rowCount ?? 0;
  }

  async healthCheck(now: number): Promise<void> {
    // A real write in a transaction that commits with synchronous_commit on: a full disk, a read-only
    // server (a standby) or an unreachable database shows here.
    await this.tx(true, async (c) => {
      await c.query("INSERT INTO nonces (hash, action, user_id, expires_at, created_at) VALUES ('health-check', 'health', NULL, $1, $1) ON CONFLICT (hash) DO NOTHING", [now]);
      await c.query("DELETE FROM nonces WHERE hash = 'health-check'");
    });
  }

  async verifyAttempt(input: VerifyInput, decide: (templates: readonly Float32Array[]) => number): Promise<VerifyOutcome> {
    // Two round trips, accept or reject (issue 14; before: a third for a data key not cached, and a
    // six-statement transaction for every reject):
    // 1. one statement consumes the nonce and reads the lockout state, the user's templates and her
    //    wrapped data key (templates as one comma-separated hex string: decoding hex is native in Node,
    //    whereas pg parses a bytea[] in JS character by character);
    // 2. one statement writes the attempt and the lockout state: an accept clears the guards that reset
    //    on success; a reject writes each guard's next state only if it still holds what statement 1
    //    read (compare-and-set), else the whole statement fails and the row-locking transaction redoes it.
    const keys = input.guards.map((g) => g.key);
    const r = await this.pool.query<{
      nonce: NonceDbRow | null;
      guards: (GuardDbRow & { key: string })[] | null;
      templates: string | null;
      key: { kek_id: string; w: string } | null;
    }>({
      name: 'face-login-verify-2',
      text: `WITH n AS (DELETE FROM nonces WHERE hash = $1 RETURNING action, user_id, expires_at)
       SELECT (SELECT row_to_json(n) FROM n) AS nonce,
              (SELECT json_agg(g) FROM guards g WHERE g.key = ANY($2::text[])) AS guards,
              (SELECT string_agg(encode(embedding, 'hex'), ',' ORDER BY id) FROM templates WHERE user_id = $3 AND model_id = $4) AS templates,
              (SELECT json_build_object('kek_id', kek_id, 'w', encode(wrapped_dek, 'hex')) FROM user_keys WHERE user_id = $3) AS key`,
      values: [input.nonceHash, keys, input.userId, input.modelId],
    });
    const row = r.rows[0]!;
    const keyRow = row.key ? { userId: input.userId, kekId: row.key.kek_id, wrapped: Buffer.from(row.key.w, 'hex') } : undefined;
    const templates = row.templates ? this.cipher.openTemplates(input.userId, input.modelId, row.templates.split(',').map((h) => Buffer.from(h, 'hex')), keyRow) : [];
    if (!nonceMatches(nonceFromRow(row.nonce), 'verify', input.userId, input.now)) return { kind: 'invalid-nonce' };
    const attempt = {
      at: input.now,
      action: 'verify' as const,
      claimedUser: input.userId,
      matchedUser: input.userId,
      modelId: input.modelId,
      client: input.client,
    };
    const lock = strongestLock(guardsByKey(keys, row.guards), input.now);
    if (lock.remainingMs > 0) {
      const attemptId = await this.recordAttempt({ ...attempt, decision: 'locked-out', score: null });
      return { kind: 'locked-out', retryAfterMs: lock.remainingMs, disabled: lock.disabled, attemptId };
    }
    if (templates.length === 0 && !input.decoys) return { kind: 'unknown-user' };
    const score = decide(templates.length === 0 ? input.decoys! : templates);
    const accepted = templates.length > 0 && score >= input.threshold;
    if (accepted) {
      const resets = input.guards.filter((g) => g.resetOnSuccess).map((g) => g.key);
      const ins = await this.pool.query<{ id: number }>({
        name: 'face-login-accept',
        text: `WITH d AS (DELETE FROM guards WHERE $11::boolean AND key = ANY($12::text[]))
         ${ATTEMPT_INSERT} RETURNING id`,
        values: [...attemptParams({ ...attempt, decision: 'accept', score }), row.guards !== null && resets.length > 0, resets],
      });
      return { kind: 'decided', accepted, score, attemptId: Number(ins.rows[0]!.id) };
    }
    const rejected = { ...attempt, decision: 'reject' as const, score: templates.length === 0 ? null : score };
    const attemptId =
      (await this.rejectIfUnchanged(input, row.guards, rejected)) ??
      (await this.tx(false, async (c) => {
        const states = await lockGuards(c, input.guards);
        await writeFailures(c, input.guards, states, input.now);
        const ins = await c.query<{ id: number }>(`${ATTEMPT_INSERT} RETURNING id`, attemptParams(rejected));
        return Number(ins.rows[0]!.id);
      }));
    return { kind: 'decided', accepted, score, attemptId };
  }

  /**
   * A reject's failures and audit row in one statement, when no guard changed since `seen` was read
   * (compare-and-set on every column, under the guards' advisory locks); null when one did (a
   * concurrent failure, a lock, an unlock): the statement then fails as a whole (a division by zero)
   * and writes nothing.
   */
  private async rejectIfUnchanged(input: VerifyInput, seen: readonly (GuardDbRow & { key: string })[] | null, a: AttemptInput): Promise<number | null> {
    if (input.guards.length === 0) return null;
    const byKey = new Map((seen ?? []).map((g) => [g.key, g]));
    const cols = input.guards.map((g) => {
      const old = byKey.get(g.key);
      const next = guardToParams(afterFailure(guardFromRow(old), input.now, g.policy));
      return { key: g.key, next, old };
    });
    try {
      const r = await this.pool.query<{ id: number }>({
        name: 'face-login-reject',
        // The guards' advisory locks (as lockGuards takes them, in key order) before each guard's write:
        // the transactions that read a guard under its lock and write it later never interleave with this.
        text: `WITH w AS MATERIALIZED (
            SELECT u.*, pg_advisory_xact_lock(hashtextextended(u.key, 7))::text AS locked
            FROM unnest($11::text[], $12::text[], $13::bigint[], $14::int[], $15::bigint[], $16::boolean[], $17::text[], $18::bigint[], $19::int[], $20::bigint[])
              AS u(key, failures, locked_until, level, last_lock_at, existed, o_failures, o_locked_until, o_level, o_last_lock_at) ORDER BY u.key),
          up AS (UPDATE guards g SET failures = w.failures, locked_until = w.locked_until, level = w.level, last_lock_at = w.last_lock_at
            FROM w WHERE w.existed AND g.key = w.key AND g.failures = w.o_failures AND g.locked_until = w.o_locked_until
              AND g.level = w.o_level AND g.last_lock_at = w.o_last_lock_at RETURNING 1),
          ins AS (INSERT INTO guards (key, failures, locked_until, level, last_lock_at)
            SELECT key, failures, locked_until, level, last_lock_at FROM w WHERE NOT existed ON CONFLICT (key) DO NOTHING RETURNING 1),
          ok AS (SELECT ((SELECT count(*) FROM up) + (SELECT count(*) FROM ins))::int AS n)
        INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin)
          SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM ok WHERE 1 / (CASE WHEN ok.n = $21 THEN 1 ELSE 0 END) = 1
        RETURNING id`,
        values: [
          ...attemptParams(a),
          cols.map((c) => c.key),
          cols.map((c) => c.next[0]),
          cols.map((c) => c.next[1]),
          cols.map((c) => c.next[2]),
          cols.map((c) => c.next[3]),
          cols.map((c) => c.old !== undefined),
          cols.map((c) => c.old?.failures ?? null),
          cols.map((c) => (c.old ? Number(c.old.locked_until) : null)),
          cols.map((c) => (c.old ? Number(c.old.level) : null)),
          cols.map((c) => (c.old ? Number(c.old.last_lock_at) : null)),
          cols.length,
        ],
      });
      return Number(r.rows[0]!.id);
    } catch (e) {
      if ((e as { code?: string }).code === '22012') return null; // a guard moved: redo under the row locks
      throw e;
    }
  }

  async guardedAttempt(input: GuardedInput, judge: () => Judgement): Promise<GuardedOutcome> {
    return this.tx(false, async (c): Promise<GuardedOutcome> => {
      const states = await lockGuards(c, input.guards);
      const lock = strongestLock(states, input.now);
      const insert = async (a: AttemptInput): Promise<number> =>
        Number((await c.query<{ id: number }>(`${ATTEMPT_INSERT_REFUSAL} RETURNING id`, [...attemptParams(a), a.refusal ?? null])).rows[0]!.id);
      if (lock.remainingMs > 0) {
        const attemptId = await insert({ ...input.attempt, decision: 'locked-out', score: null });
        return { kind: 'locked-out', retryAfterMs: lock.remainingMs, disabled: lock.disabled, attemptId };
      }
      const j = judge();
      const attemptId = await insert({
        ...input.attempt,
        ...(j.matchedUser !== undefined ? { matchedUser: j.matchedUser } : {}),
        decision: j.decision,
        score: j.score,
        refusal: j.refusal ?? null,
      });
      if (j.failed) await writeFailures(c, input.guards, states, input.now);
      else if (j.decision === 'accept') {
        const resets = input.guards.filter((g) => g.resetOnSuccess).map((g) => g.key);
        if (resets.length > 0) await c.query('DELETE FROM guards WHERE key = ANY($1::text[])', [resets]);
      }
      return { kind: 'judged', judgement: j, attemptId };
    });
  }

  async lockState(keys: readonly string[], now: number): Promise<{ remainingMs: number; disabled: boolean }> {
    const r = await this.pool.query<GuardDbRow & { key: string }>('SELECT key, failures, locked_until, level, last_lock_at FROM guards WHERE key = ANY($1::text[])', [keys]);
    return strongestLock(guardsByKey(keys, r.rows), now);
  }

  async clearGuards(keys: readonly string[]): Promise<number> {
    return (await this.pool.query('DELETE FROM guards WHERE key = ANY($1::text[])', [keys])).rowCount ?? 0;
  }

  async purgeOld(input: PurgeInput): Promise<{ attempts: number; guards: number }> {
    const attempts = input.attemptsBefore === null ? 0 : ((await this.pool.query('DELETE FROM attempts WHERE at < $1', [input.attemptsBefore])).rowCount ?? 0);
    const guards =
      (
        await this.pool.query(
          `DELETE FROM guards WHERE locked_until < $1 AND last_lock_at < $2 AND coalesce((failures::jsonb ->> -1)::bigint, 0) < $2
             AND (key LIKE 'ip:%' OR (key LIKE 'user:%' AND NOT EXISTS (SELECT 1 FROM users WHERE user_id = substr(guards.key, 6))))`,
          [input.now, input.guardsIdleBefore],
        )
      ).rowCount ?? 0;
    return { attempts, guards };
  }

  async recordAttempt(a: AttemptInput): Promise<number> {
    const r =
      a.refusal == null
        ? await this.pool.query<{ id: number }>({ name: 'face-login-attempt', text: `${ATTEMPT_INSERT} RETURNING id`, values: attemptParams(a) })
        : await this.pool.query<{ id: number }>(
            `INSERT INTO attempts (at, action, claimed_user, matched_user, decision, score, model_id, ip, user_agent, origin, refusal)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
            [...attemptParams(a), a.refusal],
          );
    return Number(r.rows[0]!.id);
  }

  async userExists(userId: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM users WHERE user_id = $1', [userId])).rowCount ?? 0) > 0;
  }

  async templatesOf(userId: string, modelId: string): Promise<Float32Array[]> {
    const r = await this.pool.query<{ embedding: Buffer }>('SELECT embedding FROM templates WHERE user_id = $1 AND model_id = $2 ORDER BY id', [
      userId,
      modelId,
    ]);
    return this.openTemplates(userId, modelId, r.rows.map((x) => x.embedding));
  }

  private async bumpSeq(c: pg.PoolClient, userIds: readonly string[], now: number): Promise<number> {
    const r = await c.query<{ seq: number }>('UPDATE change_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq', [userIds.length]);
    const last = Number(r.rows[0]!.seq);
    await c.query(
      'INSERT INTO changes (seq, user_id, at) SELECT $1::bigint + o - 1, u, $3 FROM unnest($2::text[]) WITH ORDINALITY AS x(u, o)',
      [last - userIds.length + 1, userIds, now],
    );
    return last;
  }

  async enroll(input: EnrollInput): Promise<EnrollOutcome> {
    return this.tx(true, async (c): Promise<EnrollOutcome> => {
      // Row lock: template writers commit in sequence order.
      const seq = Number((await c.query<{ seq: number }>('SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE')).rows[0]!.seq);
      if (seq !== input.expectSeq) return { kind: 'conflict' };
      if (!input.replace) {
        const existing = Number(
          (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM templates WHERE user_id = $1 AND model_id = $2', [input.userId, input.modelId]))
            .rows[0]!.n,
        );
        if (existing + input.templates.length > input.maxTemplates) return { kind: 'too-many', existing };
      }
      await c.query(
        `INSERT INTO users (user_id, created_at, updated_at) VALUES ($1, $2, $2)
         ON CONFLICT (user_id) DO UPDATE SET updated_at = EXCLUDED.updated_at`,
        [input.userId, input.now],
      );
      if (input.replace) await c.query('DELETE FROM templates WHERE user_id = $1 AND model_id = $2', [input.userId, input.modelId]);
      const dk = await this.dataKeyFor(c, input.userId);
      await c.query(
        this.templateInsertSql(),
        this.templateInsertParams(
          input.templates.map((t) => ({ userId: input.userId, modelId: input.modelId, pose: t.pose, blob: this.cipher.sealTemplate(dk, input.modelId, t.embedding), embedding: t.embedding })),
          input.now,
        ),
      );
      const next = await this.bumpSeq(c, [input.userId], input.now);
      const n = Number(
        (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM templates WHERE user_id = $1 AND model_id = $2', [input.userId, input.modelId])).rows[0]!.n,
      );
      return { kind: 'ok', templates: n, seq: next };
    });
  }

  async deleteUser(userId: string, now: number): Promise<boolean> {
    return this.tx(true, async (c) => {
      await c.query('SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE');
      const existed = ((await c.query('DELETE FROM users WHERE user_id = $1', [userId])).rowCount ?? 0) > 0;
      const templates = (await c.query('DELETE FROM templates WHERE user_id = $1', [userId])).rowCount ?? 0;
      await c.query('DELETE FROM backups WHERE user_id = $1', [userId]);
      await c.query('DELETE FROM user_keys WHERE user_id = $1', [userId]); // her data key: copies of her rows elsewhere become unreadable
      this.cipher.forget(userId);
      await c.query('DELETE FROM attempts WHERE matched_user = $1', [userId]);
      await c.query('DELETE FROM guards WHERE key = $1', [`user:${userId}`]);
      await c.query('DELETE FROM nonces WHERE user_id = $1', [userId]);
      await c.query('DELETE FROM sessions WHERE user_id = $1 OR result_user = $1', [userId]);
      if (existed || templates > 0) await this.bumpSeq(c, [userId], now);
      return existed;
    });
  }

  async exportUser(userId: string): Promise<UserExport | null> {
    return this.tx(false, async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const u = (await c.query<{ created_at: number; updated_at: number }>('SELECT created_at, updated_at FROM users WHERE user_id = $1', [userId])).rows[0];
      if (!u) return null;
      const t = await c.query<{ id: number; user_id: string; model_id: string; pose: string; embedding: Buffer; created_at: number }>(
        'SELECT id, user_id, model_id, pose, embedding, created_at FROM templates WHERE user_id = $1 ORDER BY id',
        [userId],
      );
      const a = await c.query<AttemptDbRow>(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE matched_user = $1 ORDER BY id`, [userId]);
      const b = (await c.query<{ model_id: string; templates: string; updated_at: number }>('SELECT model_id, templates, updated_at FROM backups WHERE user_id = $1', [userId])).rows[0];
      const key = userKeyFromRow((await c.query<UserKeyDbRow>('SELECT user_id, kek_id, wrapped_dek FROM user_keys WHERE user_id = $1', [userId])).rows[0]);
      return {
        userId,
        createdAt: u.created_at,
        updatedAt: u.updated_at,
        templates: t.rows.map((r) => ({
          id: Number(r.id),
          userId: r.user_id,
          modelId: r.model_id,
          pose: r.pose as Pose,
          embedding: this.cipher.openTemplates(userId, r.model_id, [r.embedding], key)[0]!,
          createdAt: r.created_at,
        })),
        backup: b ? { userId, modelId: b.model_id, templates: decodeBackupTemplates(this.cipher.openBackup(userId, b.model_id, b.templates, key)), updatedAt: b.updated_at } : null,
        attempts: a.rows.map(attemptFromRow),
      };
    });
  }

  async putBackup(b: Backup): Promise<void> {
    await this.tx(true, async (c) => {
      const dk = await this.dataKeyFor(c, b.userId);
      await c.query(
        `INSERT INTO users (user_id, created_at, updated_at) VALUES ($1, $2, $2)
         ON CONFLICT (user_id) DO UPDATE SET updated_at = EXCLUDED.updated_at`,
        [b.userId, b.updatedAt],
      );
      await c.query(
        `INSERT INTO backups (user_id, model_id, templates, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET model_id = EXCLUDED.model_id, templates = EXCLUDED.templates, updated_at = EXCLUDED.updated_at`,
        [b.userId, b.modelId, this.cipher.sealBackup(dk, b.modelId, encodeBackupTemplates(b.templates)), b.updatedAt],
      );
    });
  }

  async getBackup(userId: string): Promise<Backup | null> {
    const r = (
      await this.pool.query<{ model_id: string; templates: string; updated_at: number } & UserKeyDbRow>(
        'SELECT b.model_id, b.templates, b.updated_at, k.user_id, k.kek_id, k.wrapped_dek FROM backups b LEFT JOIN user_keys k ON k.user_id = b.user_id WHERE b.user_id = $1',
        [userId],
      )
    ).rows[0];
    if (!r) return null;
    const json = this.cipher.openBackup(userId, r.model_id, r.templates, r.kek_id === null ? undefined : userKeyFromRow(r));
    return { userId, modelId: r.model_id, templates: decodeBackupTemplates(json), updatedAt: r.updated_at };
  }

  async changeSeq(): Promise<number> {
    return Number((await this.pool.query<{ seq: number }>('SELECT seq FROM change_counter WHERE id = 1')).rows[0]!.seq);
  }

  async changesSince(seq: number, limit: number): Promise<{ seq: number; userId: string }[]> {
    const r = await this.pool.query<{ seq: number; user_id: string }>('SELECT seq, user_id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2', [seq, limit]);
    return r.rows.map((x) => ({ seq: Number(x.seq), userId: x.user_id }));
  }

  async templatesOfUsers(userIds: readonly string[]): Promise<GalleryRow[]> {
    if (userIds.length === 0) return [];
    const r = await this.pool.query<GalleryDbRow>(
      `SELECT t.id, t.user_id, t.model_id, t.embedding, k.kek_id, k.wrapped_dek FROM templates t LEFT JOIN user_keys k ON k.user_id = t.user_id
       WHERE t.user_id = ANY($1::text[])`,
      [userIds],
    );
    return this.galleryRows(r.rows);
  }

  async scanTemplates(afterId: number, limit: number): Promise<GalleryRow[]> {
    const r = await this.pool.query<GalleryDbRow>(
      `SELECT t.id, t.user_id, t.model_id, t.embedding, k.kek_id, k.wrapped_dek FROM templates t LEFT JOIN user_keys k ON k.user_id = t.user_id
       WHERE t.id > $1 ORDER BY t.id LIMIT $2`,
      [afterId, limit],
    );
    return this.galleryRows(r.rows);
  }

  async labelAttempt(id: number, label: AttemptLabel, now: number): Promise<boolean> {
    return ((await this.pool.query('UPDATE attempts SET label = $2, labeled_at = $3 WHERE id = $1', [id, label, now])).rowCount ?? 0) > 0;
  }

  async listAttempts(afterId: number, limit: number): Promise<AttemptRow[]> {
    const r = await this.pool.query<AttemptDbRow>(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
    return r.rows.map(attemptFromRow);
  }

  async labeledScores(modelId?: string): Promise<LabeledScore[]> {
    const r = await this.pool.query<{ score: number; label: string; model_id: string; action: string }>(
      `SELECT score, label, model_id, action FROM attempts
       WHERE label IS NOT NULL AND score IS NOT NULL AND ($1::text IS NULL OR model_id = $1)`,
      [modelId ?? null],
    );
    return r.rows.map((x) => ({ score: x.score, label: x.label as AttemptLabel, modelId: x.model_id, action: x.action as LabeledScore['action'] }));
  }

  async stats(): Promise<StoreStats> {
    const r = await this.pool.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM templates)::int AS templates,
              (SELECT count(*) FROM backups)::int AS backups, (SELECT count(*) FROM attempts)::int AS attempts,
              (SELECT count(*) FROM nonces)::int AS nonces, (SELECT count(*) FROM spent_assertions)::int AS spent,
              (SELECT count(*) FROM guards)::int AS guards,
              (SELECT seq FROM change_counter WHERE id = 1) AS change_seq`,
    );
    const x = r.rows[0]!;
    return {
      users: x.users!,
      templates: x.templates!,
      backups: x.backups!,
      attempts: x.attempts!,
      nonces: x.nonces!,
      spentAssertions: x.spent!,
      guards: x.guards!,
      changeSeq: Number(x.change_seq),
    };
  }

  async seedTemplates(rows: readonly SeedRow[], now: number): Promise<void> {
    await this.tx(true, async (c) => {
      await c.query('SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE');
      const users = [...new Set(rows.map((r) => r.userId))];
      for (let i = 0; i < users.length; i += 5000) {
        await c.query(
          `INSERT INTO users (user_id, created_at, updated_at) SELECT u, $2, $2 FROM unnest($1::text[]) AS x(u)
           ON CONFLICT (user_id) DO NOTHING`,
          [users.slice(i, i + 5000), now],
        );
      }
      const dks = await this.dataKeysFor(c, users);
      for (let i = 0; i < rows.length; i += 5000) {
        const part = rows.slice(i, i + 5000);
        await c.query(
          this.templateInsertSql(),
          this.templateInsertParams(
            part.map((r) => ({ userId: r.userId, modelId: r.modelId, pose: 'center', blob: this.cipher.sealTemplate(dks.get(r.userId)!, r.modelId, r.embedding), embedding: r.embedding })),
            now,
          ),
        );
      }
      if (users.length > 0) await this.bumpSeq(c, users, now);
    });
  }

  async seedNonces(rows: readonly NonceSeed[], now: number): Promise<void> {
    for (let i = 0; i < rows.length; i += 10_000) {
      const part = rows.slice(i, i + 10_000);
      await this.pool.query(
        `INSERT INTO nonces (hash, action, user_id, expires_at, created_at)
         SELECT h, a, u, e, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS x(h, a, u, e)`,
        [part.map((r) => r.hash), part.map((r) => r.row.action), part.map((r) => r.row.userId), part.map((r) => r.row.expiresAt), now],
      );
    }
  }
}

interface GalleryDbRow {
  id: number;
  user_id: string;
  model_id: string;
  embedding: Buffer;
  kek_id: string | null;
  wrapped_dek: Buffer | null;
}

