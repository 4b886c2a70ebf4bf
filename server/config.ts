/**
 * Server configuration: one typed object, built from the environment by `configFromEnv` and
 * validated there (a bad value stops the server at start, with the variable's name), or built
 * directly by tests with `testConfig`-style overrides on `defaultConfig`.
 */
import { randomBytes } from 'node:crypto';
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
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      /** search_path for every connection (tests use a fresh schema per run). */
      readonly schema?: string;
      readonly poolSize: number;
    };

export interface LockoutPolicy {
  /** Failures within `windowMs` that trigger a lockout. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** First lockout; each further lockout doubles it, up to `maxLockMs`. */
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  /** The back-off level drops back to 0 after this long without a lockout (or on a success). */
  readonly levelResetMs: number;
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
  readonly models: ModelTable;
  /** HMAC-SHA256 key for assertions (>= 32 bytes). */
  readonly secret: Buffer;
  /** Admin key for /v1/admin/* and for acting on any user; null disables admin access. */
  readonly adminKey: string | null;
  /** Origins allowed by CORS (exact match, e.g. `http://localhost:5173`). */
  readonly origins: readonly string[];
  readonly nonceTtlMs: number;
  readonly assertionTtlS: number;
  readonly bodyLimit: number;
  readonly rateLimit: RateLimitConfig;
  readonly lockout: LockoutPolicy;
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
  /** Anyone may enroll a user id that has no data yet (the demo). When false, enrolling a new user needs the admin key. */
  readonly openEnrollment: boolean;
  /** Templates one user may hold per model: at most what one backup can carry, so every user can be backed up whole. */
  readonly maxTemplatesPerUser: number;
  /** Trust X-Forwarded-For (behind a load balancer). */
  readonly trustProxy: boolean;
  readonly host: string;
  readonly port: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly logRequests: boolean;
  /** Milliseconds since the epoch. Tests inject a fake clock. */
  readonly now: () => number;
}

export const DEFAULT_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'] as const;

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    db: { kind: 'sqlite', path: '.data/face-login.sqlite' },
    models: DEFAULT_MODELS,
    secret: randomBytes(32),
    adminKey: null,
    origins: [...DEFAULT_ORIGINS],
    nonceTtlMs: 60_000,
    assertionTtlS: 120,
    bodyLimit: 256 * 1024,
    rateLimit: { perIp: 600, perUser: 60, windowMs: 60_000 },
    lockout: {
      maxFailures: 5,
      windowMs: 3 * 60_000,
      baseLockMs: 5 * 60_000,
      maxLockMs: 60 * 60_000,
      levelResetMs: 24 * 60 * 60_000,
    },
    siteKeys: [],
    sessionTtlMs: 3 * 60_000,
    sessionResultTtlMs: 10 * 60_000,
    sessionUploadLimit: 8 * 1024 * 1024,
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
    return { kind: 'postgres', url, poolSize: int(env, 'FACE_LOGIN_PG_POOL', 10, 1, 200), ...(schema ? { schema } : {}) };
  }
  return { kind: 'sqlite', path: env.FACE_LOGIN_SQLITE ?? '.data/face-login.sqlite' };
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

export interface EnvConfigResult {
  readonly config: ServerConfig;
  /** Things the runner should log as warnings (e.g. a generated dev secret). */
  readonly warnings: readonly string[];
}

/**
 * Builds and validates the configuration from environment variables:
 * DATABASE_URL, FACE_LOGIN_SQLITE, FACE_LOGIN_PG_POOL, FACE_LOGIN_PG_SCHEMA, FACE_LOGIN_SECRET, FACE_LOGIN_ADMIN_KEY,
 * FACE_LOGIN_ORIGINS, FACE_LOGIN_MODELS, FACE_LOGIN_THRESHOLDS, FACE_LOGIN_NONCE_TTL_S,
 * FACE_LOGIN_ASSERTION_TTL_S, FACE_LOGIN_BODY_LIMIT, FACE_LOGIN_RATE_LIMIT_IP,
 * FACE_LOGIN_RATE_LIMIT_USER, FACE_LOGIN_RATE_LIMIT_WINDOW_S, FACE_LOGIN_LOCKOUT_FAILURES,
 * FACE_LOGIN_LOCKOUT_WINDOW_S, FACE_LOGIN_LOCKOUT_BASE_S, FACE_LOGIN_LOCKOUT_MAX_S,
 * FACE_LOGIN_OPEN_ENROLLMENT, FACE_LOGIN_SITE_KEYS, FACE_LOGIN_SESSION_TTL_S, FACE_LOGIN_SESSION_RESULT_TTL_S,
 * FACE_LOGIN_SESSION_UPLOAD_LIMIT, FACE_LOGIN_TRUST_PROXY, HOST, PORT, FACE_LOGIN_LOG_LEVEL,
 * FACE_LOGIN_LOG_REQUESTS, NODE_ENV.
 */
export function configFromEnv(env: Env = process.env): EnvConfigResult {
  const warnings: string[] = [];
  const base = defaultConfig();

  let secret: Buffer;
  const rawSecret = env.FACE_LOGIN_SECRET;
  if (rawSecret) {
    secret = Buffer.from(rawSecret, 'utf8');
    if (secret.length < 32) throw new ConfigError('FACE_LOGIN_SECRET must be at least 32 bytes.');
  } else if (env.NODE_ENV === 'production') {
    throw new ConfigError('FACE_LOGIN_SECRET is required when NODE_ENV=production.');
  } else {
    secret = randomBytes(32);
    warnings.push(
      'FACE_LOGIN_SECRET is not set: generated a random one for this process. Assertions will not verify ' +
        'after a restart or on another instance; set FACE_LOGIN_SECRET (>= 32 bytes) and share it with the portal backend.',
    );
  }

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
    models,
    secret,
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
      ...base.lockout,
      maxFailures: int(env, 'FACE_LOGIN_LOCKOUT_FAILURES', base.lockout.maxFailures, 1, 1000),
      windowMs: int(env, 'FACE_LOGIN_LOCKOUT_WINDOW_S', 180, 1, 86_400) * 1000,
      baseLockMs: int(env, 'FACE_LOGIN_LOCKOUT_BASE_S', 300, 1, 86_400) * 1000,
      maxLockMs: int(env, 'FACE_LOGIN_LOCKOUT_MAX_S', 3600, 1, 7 * 86_400) * 1000,
    },
    openEnrollment: bool(env, 'FACE_LOGIN_OPEN_ENROLLMENT', true),
    siteKeys: siteKeysFromEnv(env.FACE_LOGIN_SITE_KEYS),
    sessionTtlMs: int(env, 'FACE_LOGIN_SESSION_TTL_S', 180, 30, 3600) * 1000,
    sessionResultTtlMs: int(env, 'FACE_LOGIN_SESSION_RESULT_TTL_S', 600, 30, 86_400) * 1000,
    sessionUploadLimit: int(env, 'FACE_LOGIN_SESSION_UPLOAD_LIMIT', base.sessionUploadLimit, 64 * 1024, 64 * 1024 * 1024),
    trustProxy: bool(env, 'FACE_LOGIN_TRUST_PROXY', false),
    host: env.HOST || base.host,
    port: int(env, 'PORT', base.port, 0, 65_535),
    logLevel,
    logRequests: bool(env, 'FACE_LOGIN_LOG_REQUESTS', false),
  };
  if (config.lockout.maxLockMs < config.lockout.baseLockMs) {
    throw new ConfigError('FACE_LOGIN_LOCKOUT_MAX_S must be >= FACE_LOGIN_LOCKOUT_BASE_S.');
  }
  return { config, warnings };
}
