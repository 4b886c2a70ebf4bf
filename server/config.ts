/**
 * Server configuration: one typed object, built from the environment by `configFromEnv` and
 * validated there (a bad value stops the server at start, with the variable's name), or built
 * directly by tests with `testConfig`-style overrides on `defaultConfig`.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { assertionKeysOf, keysFromPem, randomAssertionKeys, type AssertionKeys } from './assertion.js';
import { processTemplateKeys, TemplateKeyConfigError, templateKeysFromEnv, type TemplateKeyring } from './crypto/template-keys.js';
import { DEFAULT_MODEL_ID as WIDGET_DEFAULT_MODEL_ID, MODEL_CALIBRATIONS } from '../src/core/calibration.js';
import { EMBEDDING_SIZE, MAX_BACKUP_TEMPLATES, MAX_EMBEDDING_LENGTH } from '../src/protocol/constants.js';

export interface ModelSpec {
  /** Embedding length. */
  readonly size: number;
  /** Cosine at or above which a probe matches a template (accept / duplicate). */
  readonly threshold: number;
  /**
   * The model's per-comparison impostor tail ([FMR, cosine] rows, src/core/calibration.ts). With
   * it, identify raises its threshold with the gallery size to hold FPIR at 1e-2; without it
   * identify uses `threshold` as it is.
   */
  readonly impostorTail?: readonly (readonly [number, number])[];
}

/** Model id -> spec. The id is the widget's `Embedder.modelId`. */
export type ModelTable = Readonly<Record<string, ModelSpec>>;

/** The widget's default model id (MobileFaceNet with flip TTA; src/core/calibration.ts). */
export const DEFAULT_MODEL_ID = WIDGET_DEFAULT_MODEL_ID;

/** Every model the widget can produce, with its calibrated threshold and impostor tail. */
export const DEFAULT_MODELS: ModelTable = Object.fromEntries(
  Object.entries(MODEL_CALIBRATIONS).map(([id, c]) => [id, { size: EMBEDDING_SIZE, threshold: c.threshold, impostorTail: c.tail }]),
);

export type DbConfig =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      /** How long a write waits (on timers, never blocking) for another process's lock before a 503 storage-busy; default 3000. */
      readonly busyWaitMs?: number;
    }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      /** search_path for every connection (tests use a fresh schema per run). */
      readonly schema?: string;
      readonly poolSize: number;
      /**
       * 1:N on the database with pgvector (FACE_LOGIN_PGVECTOR): `auto` (default) uses it when the
       * `vector` extension is installed in the database (created once by a superuser), `require`
       * refuses to start without it, `off` keeps the in-memory exact scan.
       */
      readonly vectorIndex?: 'auto' | 'require' | 'off';
      /** Candidates asked of the HNSW index per probe, re-ranked exactly (FACE_LOGIN_PGVECTOR_K). */
      readonly vectorCandidates?: number;
      /** hnsw.ef_search of each search (FACE_LOGIN_PGVECTOR_EF_SEARCH; at least the candidates). */
      readonly vectorEfSearch?: number;
    };

export interface LockoutPolicy {
  /** Failures (within `windowMs`, or consecutive when it is 0) that trigger a lockout; 0 turns the guard off. */
  readonly maxFailures: number;
  /** 0: failures count until a success (consecutive); else a sliding window. */
  readonly windowMs: number;
  /** First lockout; each further lockout doubles it, up to `maxLockMs`. */
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  /** The back-off level drops back to 0 this long after the last lock ended (0: never; a success always resets a user). */
  readonly levelResetMs: number;
  /** After this many lockouts the key is disabled until unlocked (0: never). */
  readonly disableAfterLocks: number;
}

/** server/audit/lockout.ts: one policy for each user's consecutive failures, one for each address's. */
export interface LockoutPolicies {
  readonly user: LockoutPolicy;
  readonly address: LockoutPolicy;
}

export interface RateLimitConfig {
  /** Requests per IP per window, all /v1 routes together. 0 disables. */
  readonly perIp: number;
  /** Requests per claimed / target user per window, on routes that name a user. 0 disables. */
  readonly perUser: number;
  readonly windowMs: number;
}

export interface ServerConfig {
  readonly db: DbConfig;
  /**
   * The key-encryption keys of stored templates and backups (FACE_LOGIN_TEMPLATE_KEYS, current first;
   * server/crypto/template-keys.ts). defaultConfig: one random keyring per process (tests).
   */
  readonly templateKeys: TemplateKeyring;
  readonly models: ModelTable;
  /** The Ed25519 key that signs assertions and the public keys GET /v1/keys serves (FACE_LOGIN_SIGNING_KEY, _PREVIOUS). */
  readonly assertionKeys: AssertionKeys;
  /** `aud` of every assertion: the portal they are for (FACE_LOGIN_AUDIENCE). */
  readonly assertionAudience: string;
  /** Admin key for /v1/admin/* and for acting on any user; null disables admin access. */
  readonly adminKey: string | null;
  /** Origins allowed by CORS (exact match, e.g. `http://localhost:5173`). */
  readonly origins: readonly string[];
  readonly nonceTtlMs: number;
  readonly assertionTtlS: number;
  readonly bodyLimit: number;
  readonly rateLimit: RateLimitConfig;
  readonly lockout: LockoutPolicies;
  /**
   * The site backends' API keys for the session routes (/v1/sessions*), each >= 32 characters;
   * empty: the session routes answer sessions-disabled. Several keys allow rotation.
   */
  readonly siteKeys: readonly string[];
  /** How long a session waits for its upload. */
  readonly sessionTtlMs: number;
  /** How long a session's result stays readable after the session expires (then purged). */
  readonly sessionResultTtlMs: number;
  /** Body limit of the frames upload (that route only; every other route keeps bodyLimit). */
  readonly sessionUploadLimit: number;
  /**
   * Refuse a session enrolment whose face is another user's (identify's open-set rule). A policy, not
   * a proof, and the site opened the session for a user it authenticated: off by default
   * (FACE_LOGIN_SESSION_DUPLICATE_CHECK=1). The device route POST /v1/enroll always checks.
   */
  readonly sessionDuplicateCheck: boolean;
  /** Audit rows older than this are purged (FACE_LOGIN_AUDIT_RETENTION_DAYS; 0: kept forever). Default 180 days. */
  readonly auditRetentionMs: number;
  // Face examination throughput (server/vision/examiner-pool.ts): worker threads examining uploads
  // at once, and uploads that may wait for one; past both, uploads get 503 overloaded (+ Retry-After).
  /** Examination worker threads (FACE_LOGIN_EXAMINE_WORKERS, default os.availableParallelism()). */
  readonly examineWorkers: number;
  /** Uploads that may wait beyond the running ones (FACE_LOGIN_EXAMINE_QUEUE, default 2 x workers; 0: none wait). */
  readonly examineQueue: number;
  /**
   * The server's face detector: BlazeFace 'short' range (default) or 'full' range, for kiosks whose
   * people stand further back (FACE_LOGIN_DETECTOR_RANGE; bench/results/detector.md).
   */
  readonly detectorRange: 'short' | 'full';
  /**
   * UNSAFE unless the operator controls every device: serve the device routes (/v1/challenges,
   * /v1/enroll, /v1/verify, /v1/identify, /v1/users/*, /v1/backup*), which take embeddings computed
   * by the page and decide from them. Off by default: a page can post any 192 numbers (a template
   * leaked from a backup, an embedding of a victim's photo) and no liveness is seen by the server.
   * Env FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS=1.
   */
  readonly trustDeviceEmbeddings: boolean;
  /** Anyone may enroll a user id that has no data yet (the demo). When false, enrolling a new user needs the admin key. */
  readonly openEnrollment: boolean;
  /** Templates one user may hold per model: at most what one backup can carry, so every user can be backed up whole. */
  readonly maxTemplatesPerUser: number;
  /**
   * The proxies (addresses or CIDRs) whose X-Forwarded-For is believed (behind a load balancer);
   * false: none, the client address is the socket's. Never "every hop": any client could then
   * write its own address into the rate limits and the audit log.
   */
  readonly trustProxy: false | readonly string[];
  readonly host: string;
  readonly port: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly logRequests: boolean;
  /** Milliseconds since the epoch. Tests inject a fake clock. */
  readonly now: () => number;
}

const DAY_MS = 24 * 60 * 60_000;

export const DEFAULT_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'] as const;

/** FACE_LOGIN_AUDIENCE when unset (not allowed with NODE_ENV=production in device mode): says plainly that nobody chose one. */
export const DEFAULT_AUDIENCE = 'face-login-unconfigured-audience';

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    db: { kind: 'sqlite', path: '.data/face-login.sqlite' },
    templateKeys: processTemplateKeys(),
    models: DEFAULT_MODELS,
    assertionKeys: randomAssertionKeys(),
    assertionAudience: DEFAULT_AUDIENCE,
    adminKey: null,
    origins: [...DEFAULT_ORIGINS],
    nonceTtlMs: 60_000,
    assertionTtlS: 120,
    bodyLimit: 256 * 1024,
    rateLimit: { perIp: 600, perUser: 60, windowMs: 60_000 },
    lockout: {
      // NIST SP 800-63B 5.2.3: 5 consecutive failures, then an exponential delay; disabled after 3 lockouts (15 guesses) until unlocked.
      user: { maxFailures: 5, windowMs: 0, baseLockMs: 5 * 60_000, maxLockMs: 60 * 60_000, levelResetMs: 0, disableAfterLocks: 3 },
      // One address, every user and action: 20 failures in 10 min lock it for 15 min, doubling up to a day.
      address: { maxFailures: 20, windowMs: 10 * 60_000, baseLockMs: 15 * 60_000, maxLockMs: 24 * 60 * 60_000, levelResetMs: 24 * 60 * 60_000, disableAfterLocks: 0 },
    },
    siteKeys: [],
    sessionTtlMs: 3 * 60_000,
    sessionResultTtlMs: 10 * 60_000,
    sessionUploadLimit: 8 * 1024 * 1024,
    sessionDuplicateCheck: false,
    auditRetentionMs: 180 * DAY_MS,
    // Face examination throughput (examiner-pool.ts).
    examineWorkers: availableParallelism(),
    examineQueue: 2 * availableParallelism(),
    detectorRange: 'short',
    trustDeviceEmbeddings: false,
    openEnrollment: true,
    maxTemplatesPerUser: MAX_BACKUP_TEMPLATES,
    trustProxy: false,
    host: '127.0.0.1',
    port: 8787,
    logLevel: 'info',
    logRequests: false,
    now: Date.now,
    ...overrides,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}".`);
  }
  return v;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be a boolean (1/0, true/false), got "${raw}".`);
}

export function validateModels(models: unknown, source: string): ModelTable {
  if (typeof models !== 'object' || models === null || Array.isArray(models)) {
    throw new ConfigError(`${source} must be an object { modelId: { size, threshold } }.`);
  }
  const out: Record<string, ModelSpec> = {};
  for (const [id, spec] of Object.entries(models)) {
    if (!/^[A-Za-z0-9._+-]{1,64}$/.test(id)) throw new ConfigError(`${source}: bad model id "${id}".`);
    const s = spec as Partial<ModelSpec> | null;
    if (!s || !Number.isInteger(s.size) || s.size! < 2 || s.size! > MAX_EMBEDDING_LENGTH) {
      throw new ConfigError(`${source}: model "${id}" needs an integer size in [2, ${MAX_EMBEDDING_LENGTH}].`);
    }
    if (typeof s.threshold !== 'number' || !Number.isFinite(s.threshold) || s.threshold < -1 || s.threshold > 1) {
      throw new ConfigError(`${source}: model "${id}" needs a threshold (cosine) in [-1, 1].`);
    }
    const tail = s.impostorTail;
    if (tail !== undefined) {
      const ok = Array.isArray(tail) && tail.length >= 2 && tail.every((row) => Array.isArray(row) && row.length === 2 && row[0]! > 0 && row[0]! < 1 && row[1]! >= -1 && row[1]! <= 1);
      if (!ok) throw new ConfigError(`${source}: model "${id}" impostorTail must be >= 2 rows of [fmr in (0, 1), cosine in [-1, 1]].`);
    }
    out[id] = tail === undefined ? { size: s.size!, threshold: s.threshold } : { size: s.size!, threshold: s.threshold, impostorTail: tail };
  }
  if (Object.keys(out).length === 0) throw new ConfigError(`${source}: at least one model is required.`);
  return out;
}

/** Parses `postgres://` / `postgresql://` URLs; anything else in DATABASE_URL is an error. */
function dbFromEnv(env: Env): DbConfig {
  const url = env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL (unset it for SQLite).');
    }
    const schema = env.FACE_LOGIN_PG_SCHEMA || undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError('FACE_LOGIN_PG_SCHEMA must be a lower-case SQL identifier.');
    }
    const vector = (env.FACE_LOGIN_PGVECTOR || (env.FACE_LOGIN_REQUIRE_PGVECTOR === '1' ? 'require' : 'auto')).trim().toLowerCase();
    if (vector !== 'auto' && vector !== 'require' && vector !== 'off') throw new ConfigError('FACE_LOGIN_PGVECTOR must be auto, require or off.');
    return {
      kind: 'postgres',
      url,
      poolSize: int(env, 'FACE_LOGIN_PG_POOL', 10, 1, 200),
      ...(schema ? { schema } : {}),
      vectorIndex: vector,
      vectorCandidates: int(env, 'FACE_LOGIN_PGVECTOR_K', 32, 1, 1000),
      vectorEfSearch: int(env, 'FACE_LOGIN_PGVECTOR_EF_SEARCH', 80, 1, 1000),
    };
  }
  return { kind: 'sqlite', path: env.FACE_LOGIN_SQLITE ?? '.data/face-login.sqlite', busyWaitMs: int(env, 'FACE_LOGIN_SQLITE_BUSY_MS', 3000, 0, 60_000) };
}

/**
 * FACE_LOGIN_TRUST_PROXY: unset / 0 / false: trust no proxy; else the proxies' addresses or CIDRs,
 * comma-separated (e.g. `10.0.0.0/8,127.0.0.1`). `1` / `true` (trust every hop) is refused.
 */
export function trustProxyFromEnv(raw: string | undefined): false | string[] {
  if (raw === undefined || raw.trim() === '' || ['0', 'false', 'no', 'off'].includes(raw.trim().toLowerCase())) return false;
  if (['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase())) {
    throw new ConfigError(
      'FACE_LOGIN_TRUST_PROXY=1 would trust every X-Forwarded-For hop, so any client could set its own address (rate limits, audit log): ' +
        'list your proxies\' addresses or CIDRs instead, e.g. FACE_LOGIN_TRUST_PROXY=10.0.0.0/8,127.0.0.1.',
    );
  }
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of list) {
    const [addr, prefix, extra] = entry.split('/');
    const version = isIP(addr ?? '');
    const bits = prefix === undefined ? null : Number(prefix);
    const ok = version !== 0 && extra === undefined && (bits === null || (Number.isInteger(bits) && bits >= 0 && bits <= (version === 4 ? 32 : 128) && /^[0-9]+$/.test(prefix!)));
    if (!ok) throw new ConfigError(`FACE_LOGIN_TRUST_PROXY: "${entry}" is not an IP address or CIDR.`);
  }
  return list;
}

export const MIN_SITE_KEY_LENGTH = 32;

/** FACE_LOGIN_SITE_KEYS: one key, or comma-separated keys, each >= 32 characters, printable ASCII, distinct. */
export function siteKeysFromEnv(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const keys = raw.split(',').map((k) => k.trim());
  for (const [i, k] of keys.entries()) {
    if (k.length < MIN_SITE_KEY_LENGTH || k.length > 512 || !/^[\x21-\x7e]+$/.test(k)) {
      throw new ConfigError(`FACE_LOGIN_SITE_KEYS: key ${i + 1} must be ${MIN_SITE_KEY_LENGTH}-512 printable ASCII characters (no spaces or commas).`);
    }
  }
  if (new Set(keys).size !== keys.length) throw new ConfigError('FACE_LOGIN_SITE_KEYS: a key is listed twice.');
  return keys;
}

/** FACE_LOGIN_EXAMINE_WORKERS (1..256, default availableParallelism), FACE_LOGIN_EXAMINE_QUEUE (0..100000, default 2 x workers), FACE_LOGIN_DETECTOR_RANGE (short | full). */
function examineFromEnv(env: Env): { examineWorkers: number; examineQueue: number; detectorRange: 'short' | 'full' } {
  const examineWorkers = int(env, 'FACE_LOGIN_EXAMINE_WORKERS', availableParallelism(), 1, 256);
  const range = (env.FACE_LOGIN_DETECTOR_RANGE ?? 'short').trim().toLowerCase() || 'short';
  if (range !== 'short' && range !== 'full') throw new ConfigError('FACE_LOGIN_DETECTOR_RANGE must be short or full.');
  return { examineWorkers, examineQueue: int(env, 'FACE_LOGIN_EXAMINE_QUEUE', 2 * examineWorkers, 0, 100_000), detectorRange: range };
}

/** A PEM given inline, or the path of a file holding it. */
function pemOf(env: Env, name: string): string {
  const raw = env[name]!.trim();
  if (raw.includes('-----BEGIN')) return raw;
  try {
    return readFileSync(raw, 'utf8');
  } catch (e) {
    throw new ConfigError(`${name} is neither a PEM nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
}

/**
 * FACE_LOGIN_SIGNING_KEY (an Ed25519 private key, PKCS#8 PEM, inline or a file path; random per
 * process without it, refused with NODE_ENV=production), FACE_LOGIN_SIGNING_KEY_PREVIOUS (keys being
 * retired: still published and accepted, never used to sign), FACE_LOGIN_AUDIENCE, and the retired
 * FACE_LOGIN_SECRET (ignored, with a warning).
 */
function assertionsFromEnv(env: Env, warnings: string[]): { assertionKeys: AssertionKeys; assertionAudience: string } {
  const production = env.NODE_ENV === 'production';
  if (env.FACE_LOGIN_SECRET) {
    warnings.push(
      'FACE_LOGIN_SECRET is no longer used and is ignored: assertions are signed with an Ed25519 key (FACE_LOGIN_SIGNING_KEY) ' +
        'and portals check them with the public keys at GET /v1/keys. Remove FACE_LOGIN_SECRET from the portal and the server.',
    );
  }
  let assertionKeys: AssertionKeys;
  if (env.FACE_LOGIN_SIGNING_KEY) {
    let signer;
    try {
      const keys = keysFromPem(pemOf(env, 'FACE_LOGIN_SIGNING_KEY'), 'private');
      if (keys.length !== 1) throw new TypeError(`${keys.length} keys: give exactly one (older ones go in FACE_LOGIN_SIGNING_KEY_PREVIOUS)`);
      signer = keys[0]!;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`FACE_LOGIN_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM, inline or a file path): ${(e as Error).message}.`);
    }
    let retired: ReturnType<typeof keysFromPem> = [];
    if (env.FACE_LOGIN_SIGNING_KEY_PREVIOUS) {
      try {
        retired = keysFromPem(pemOf(env, 'FACE_LOGIN_SIGNING_KEY_PREVIOUS'), 'any');
        if (retired.length > 15) throw new TypeError('at most 15 keys');
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(`FACE_LOGIN_SIGNING_KEY_PREVIOUS must be Ed25519 keys (PEM blocks, PKCS#8 or SPKI, inline or a file path): ${(e as Error).message}.`);
      }
    }
    assertionKeys = assertionKeysOf(signer, retired);
  } else if (production) {
    throw new ConfigError('FACE_LOGIN_SIGNING_KEY is required when NODE_ENV=production (openssl genpkey -algorithm ed25519 -out signing-key.pem).');
  } else {
    if (env.FACE_LOGIN_SIGNING_KEY_PREVIOUS) throw new ConfigError('FACE_LOGIN_SIGNING_KEY_PREVIOUS needs FACE_LOGIN_SIGNING_KEY.');
    assertionKeys = randomAssertionKeys();
    warnings.push(
      'FACE_LOGIN_SIGNING_KEY is not set: generated a random Ed25519 key for this process. Assertions will not verify after a ' +
        'restart or on another instance; set FACE_LOGIN_SIGNING_KEY to a PKCS#8 PEM (openssl genpkey -algorithm ed25519).',
    );
  }

  const audience = env.FACE_LOGIN_AUDIENCE;
  if (audience !== undefined && audience !== '' && !/^[\x21-\x7e]{1,256}$/.test(audience)) {
    throw new ConfigError('FACE_LOGIN_AUDIENCE must be 1-256 printable ASCII characters (e.g. your portal\'s origin).');
  }
  if (!audience && bool(env, 'FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS', false)) {
    if (production) throw new ConfigError('FACE_LOGIN_AUDIENCE is required in device mode when NODE_ENV=production: the portal that checks the assertions (e.g. https://portal.example.com).');
    warnings.push(`FACE_LOGIN_AUDIENCE is not set: assertions say aud "${DEFAULT_AUDIENCE}"; set it to your portal (e.g. its origin) and check it there.`);
  }
  return { assertionKeys, assertionAudience: audience || DEFAULT_AUDIENCE };
}

/** FACE_LOGIN_TEMPLATE_KEYS (server/crypto/template-keys.ts): required with NODE_ENV=production, else a development key file next to the database. */
function templateKeysOf(env: Env, warnings: string[]): TemplateKeyring {
  try {
    return templateKeysFromEnv(env.FACE_LOGIN_TEMPLATE_KEYS, dbFromEnv(env), env.NODE_ENV === 'production', warnings);
  } catch (e) {
    if (e instanceof TemplateKeyConfigError) throw new ConfigError(e.message);
    throw e;
  }
}

export interface EnvConfigResult {
  readonly config: ServerConfig;
  /** Things the runner should log as warnings (e.g. a generated dev secret). */
  readonly warnings: readonly string[];
}

/**
 * Builds and validates the configuration from environment variables:
 * DATABASE_URL, FACE_LOGIN_SQLITE, FACE_LOGIN_PG_POOL, FACE_LOGIN_PG_SCHEMA, FACE_LOGIN_PGVECTOR (auto / require / off;
 * FACE_LOGIN_REQUIRE_PGVECTOR=1 = require), FACE_LOGIN_PGVECTOR_K, FACE_LOGIN_PGVECTOR_EF_SEARCH, FACE_LOGIN_SIGNING_KEY,
 * FACE_LOGIN_SIGNING_KEY_PREVIOUS, FACE_LOGIN_AUDIENCE, FACE_LOGIN_SECRET (deprecated, ignored), FACE_LOGIN_ADMIN_KEY,
 * FACE_LOGIN_ORIGINS, FACE_LOGIN_MODELS, FACE_LOGIN_THRESHOLDS, FACE_LOGIN_NONCE_TTL_S,
 * FACE_LOGIN_ASSERTION_TTL_S, FACE_LOGIN_BODY_LIMIT, FACE_LOGIN_RATE_LIMIT_IP,
 * FACE_LOGIN_RATE_LIMIT_USER, FACE_LOGIN_RATE_LIMIT_WINDOW_S, FACE_LOGIN_LOCKOUT_FAILURES,
 * FACE_LOGIN_LOCKOUT_WINDOW_S, FACE_LOGIN_LOCKOUT_BASE_S, FACE_LOGIN_LOCKOUT_MAX_S,
 * FACE_LOGIN_OPEN_ENROLLMENT, FACE_LOGIN_SITE_KEYS, FACE_LOGIN_SESSION_TTL_S, FACE_LOGIN_SESSION_RESULT_TTL_S,
 * FACE_LOGIN_SESSION_UPLOAD_LIMIT, FACE_LOGIN_EXAMINE_WORKERS, FACE_LOGIN_EXAMINE_QUEUE, FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS, FACE_LOGIN_TRUST_PROXY, HOST, PORT, FACE_LOGIN_LOG_LEVEL,
 * FACE_LOGIN_LOG_REQUESTS, FACE_LOGIN_TEMPLATE_KEYS, NODE_ENV.
 */
export function configFromEnv(env: Env = process.env): EnvConfigResult {
  const warnings: string[] = [];
  const base = defaultConfig();

  const { assertionKeys, assertionAudience } = assertionsFromEnv(env, warnings);

  const adminKey = env.FACE_LOGIN_ADMIN_KEY || null;
  if (adminKey !== null && adminKey.length < 16) throw new ConfigError('FACE_LOGIN_ADMIN_KEY must be at least 16 characters.');

  let origins: string[] = [...base.origins];
  if (env.FACE_LOGIN_ORIGINS !== undefined) {
    origins = env.FACE_LOGIN_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean);
    for (const o of origins) {
      let u: URL;
      try {
        u = new URL(o);
      } catch {
        throw new ConfigError(`FACE_LOGIN_ORIGINS: "${o}" is not an origin (scheme://host[:port]).`);
      }
      if (u.origin !== o) throw new ConfigError(`FACE_LOGIN_ORIGINS: "${o}" is not an origin; did you mean "${u.origin}"?`);
    }
  }

  let models: ModelTable = base.models;
  if (env.FACE_LOGIN_MODELS) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.FACE_LOGIN_MODELS);
    } catch {
      throw new ConfigError('FACE_LOGIN_MODELS must be JSON: {"model-id": {"size": 192, "threshold": 0.43}}.');
    }
    models = validateModels({ ...base.models, ...(parsed as object) }, 'FACE_LOGIN_MODELS');
  }
  if (env.FACE_LOGIN_THRESHOLDS) {
    const next: Record<string, ModelSpec> = { ...models };
    for (const pair of env.FACE_LOGIN_THRESHOLDS.split(',')) {
      const [id, t] = pair.split('=').map((s) => s.trim());
      if (!id || !t || !next[id]) throw new ConfigError(`FACE_LOGIN_THRESHOLDS: "${pair}" is not <known model id>=<cosine>.`);
      next[id] = { ...next[id]!, threshold: Number(t) };
    }
    models = validateModels(next, 'FACE_LOGIN_THRESHOLDS');
  }

  const logLevel = (env.FACE_LOGIN_LOG_LEVEL ?? 'info') as ServerConfig['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`FACE_LOGIN_LOG_LEVEL must be a pino level, got "${logLevel}".`);
  }

  const config: ServerConfig = {
    ...base,
    db: dbFromEnv(env),
    templateKeys: templateKeysOf(env, warnings),
    models,
    assertionKeys,
    assertionAudience,
    adminKey,
    origins,
    nonceTtlMs: int(env, 'FACE_LOGIN_NONCE_TTL_S', 60, 5, 3600) * 1000,
    assertionTtlS: int(env, 'FACE_LOGIN_ASSERTION_TTL_S', 120, 10, 3600),
    bodyLimit: int(env, 'FACE_LOGIN_BODY_LIMIT', base.bodyLimit, 16 * 1024, 16 * 1024 * 1024),
    rateLimit: {
      perIp: int(env, 'FACE_LOGIN_RATE_LIMIT_IP', base.rateLimit.perIp, 0, 1e9),
      perUser: int(env, 'FACE_LOGIN_RATE_LIMIT_USER', base.rateLimit.perUser, 0, 1e9),
      windowMs: int(env, 'FACE_LOGIN_RATE_LIMIT_WINDOW_S', 60, 1, 86_400) * 1000,
    },
    lockout: {
      user: {
        ...base.lockout.user,
        maxFailures: int(env, 'FACE_LOGIN_LOCKOUT_FAILURES', base.lockout.user.maxFailures, 1, 10),
        baseLockMs: int(env, 'FACE_LOGIN_LOCKOUT_BASE_S', 300, 30, 86_400) * 1000,
        maxLockMs: int(env, 'FACE_LOGIN_LOCKOUT_MAX_S', 3600, 30, 7 * 86_400) * 1000,
        disableAfterLocks: int(env, 'FACE_LOGIN_LOCKOUT_DISABLE_AFTER', base.lockout.user.disableAfterLocks, 0, 100),
      },
      address: {
        ...base.lockout.address,
        maxFailures: int(env, 'FACE_LOGIN_LOCKOUT_ADDRESS_FAILURES', base.lockout.address.maxFailures, 0, 100_000),
        windowMs: int(env, 'FACE_LOGIN_LOCKOUT_ADDRESS_WINDOW_S', 600, 1, 86_400) * 1000,
        baseLockMs: int(env, 'FACE_LOGIN_LOCKOUT_ADDRESS_BASE_S', 900, 1, 86_400) * 1000,
      },
    },
    trustDeviceEmbeddings: bool(env, 'FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS', false),
    openEnrollment: bool(env, 'FACE_LOGIN_OPEN_ENROLLMENT', true),
    siteKeys: siteKeysFromEnv(env.FACE_LOGIN_SITE_KEYS),
    sessionTtlMs: int(env, 'FACE_LOGIN_SESSION_TTL_S', 180, 30, 3600) * 1000,
    sessionResultTtlMs: int(env, 'FACE_LOGIN_SESSION_RESULT_TTL_S', 600, 30, 86_400) * 1000,
    sessionUploadLimit: int(env, 'FACE_LOGIN_SESSION_UPLOAD_LIMIT', base.sessionUploadLimit, 64 * 1024, 64 * 1024 * 1024),
    sessionDuplicateCheck: bool(env, 'FACE_LOGIN_SESSION_DUPLICATE_CHECK', false),
    auditRetentionMs: int(env, 'FACE_LOGIN_AUDIT_RETENTION_DAYS', 180, 0, 36_500) * DAY_MS,
    // Face examination throughput (examiner-pool.ts): the queue's default follows the workers.
    ...examineFromEnv(env),
    trustProxy: trustProxyFromEnv(env.FACE_LOGIN_TRUST_PROXY),
    host: env.HOST || base.host,
    port: int(env, 'PORT', base.port, 0, 65_535),
    logLevel,
    logRequests: bool(env, 'FACE_LOGIN_LOG_REQUESTS', false),
  };
  if (env.FACE_LOGIN_LOCKOUT_WINDOW_S !== undefined) {
    warnings.push('FACE_LOGIN_LOCKOUT_WINDOW_S is ignored: a user is locked after consecutive failures, whatever the time between them (a window let 4 guesses through every window).');
  }
  if (config.lockout.user.maxLockMs < config.lockout.user.baseLockMs) {
    throw new ConfigError('FACE_LOGIN_LOCKOUT_MAX_S must be >= FACE_LOGIN_LOCKOUT_BASE_S.');
  }
  if (config.trustDeviceEmbeddings) {
    warnings.push(
      'FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS is on: the device routes decide from embeddings computed by the page. ' +
        'Anyone who can reach this server can log in as a user with an embedding of their photo or a leaked template, ' +
        'and no liveness is checked here. Use it only when the operator controls every device (a kiosk); sites use sessions.',
    );
  }
  return { config, warnings };
}
