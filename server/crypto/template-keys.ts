/**
 * The key-encryption keys (KEKs) that protect stored templates and backups (issue 11, "Template
 * protection"; the envelope itself is template-cipher.ts).
 *
 * FACE_LOGIN_TEMPLATE_KEYS: `id:base64(32 bytes)` entries, separated by commas or newlines, inline or
 * the path of a file holding them (`#` starts a comment in a file). The FIRST entry is current: new
 * data keys are wrapped under it. The others only unwrap (rotation: `npm run server:keys -- rotate`
 * re-wraps every data key under the current one, after which they can be removed).
 *
 * Unset: refused with NODE_ENV=production. Otherwise a key file next to the SQLite database
 * (`<dir>/template-keys`, `.data/template-keys` for PostgreSQL), created on the first write with mode
 * 0600 and read by every later start: an ephemeral key would leave a restarted development server
 * unable to read its own database. Tests build the config directly and get a random key per process
 * (`processTemplateKeys`), shared by every app in that process.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TemplateKey {
  /** Stored with every data key it wraps (user_keys.kek_id). */
  readonly id: string;
  readonly key: KeyObject;
}

export interface TemplateKeyring {
  /** The key new data keys are wrapped under (may create a development key file on first use). */
  current(): TemplateKey;
  /** Current or retired key by id; null when this keyring does not have it. */
  byId(id: string): TemplateKey | null;
  /** Every id this keyring holds, current first ([] for a development key file not created yet). */
  ids(): readonly string[];
  /** Where the keys come from, for messages (never the key material). */
  readonly source: string;
}

export class TemplateKeyConfigError extends Error {
  override readonly name = 'TemplateKeyConfigError';
}

export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A keyring of fixed keys, current first. */
export class StaticKeyring implements TemplateKeyring {
  private readonly map: ReadonlyMap<string, TemplateKey>;
  constructor(
    private readonly keys: readonly TemplateKey[],
    readonly source: string,
  ) {
    if (keys.length === 0) throw new TemplateKeyConfigError(`${source}: no template key.`);
    const map = new Map<string, TemplateKey>();
    for (const k of keys) {
      if (map.has(k.id)) throw new TemplateKeyConfigError(`${source}: the key id "${k.id}" is listed twice.`);
      map.set(k.id, k);
    }
    this.map = map;
  }
  current(): TemplateKey {
    return this.keys[0]!;
  }
  byId(id: string): TemplateKey | null {
    return this.map.get(id) ?? null;
  }
  ids(): readonly string[] {
    return this.keys.map((k) => k.id);
  }
}

/** Parses `id:base64` entries (commas or newlines, `#` comments); throws TemplateKeyConfigError naming `source`. */
export function parseTemplateKeys(text: string, source: string): StaticKeyring {
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new TemplateKeyConfigError(`${source}: no key (expected id:base64 of 32 bytes, e.g. from \`npm run server:keys -- generate\`).`);
  if (entries.length > 16) throw new TemplateKeyConfigError(`${source}: at most 16 keys (the current one and 15 being retired).`);
  const keys = entries.map((entry, i): TemplateKey => {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const b64 = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(id)) throw new TemplateKeyConfigError(`${source}: entry ${i + 1} must be id:base64 with an id of 1-64 characters [A-Za-z0-9._-].`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) throw new TemplateKeyConfigError(`${source}: key "${id}" is not base64.`);
    const raw = Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (raw.length !== 32) throw new TemplateKeyConfigError(`${source}: key "${id}" is ${raw.length} bytes; AES-256 needs 32 (openssl rand -base64 32).`);
    return { id, key: createSecretKey(raw) };
  });
  return new StaticKeyring(keys, source);
}

/** A new key entry `id:base64` (the id from the date, so later keys sort later). */
export function generateKeyEntry(now = new Date()): string {
  const id = `k${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** One random key (tests, `:memory:` databases): data written under it is unreadable by any other process. */
export function randomTemplateKeyring(source = 'a random key (this process only)'): StaticKeyring {
  return new StaticKeyring([{ id: `random-${randomBytes(6).toString('hex')}`, key: createSecretKey(randomBytes(32)) }], source);
}

let processKeys: StaticKeyring | null = null;
/** One random keyring per process: defaultConfig's, so that several apps in one test process read each other's rows. */
export function processTemplateKeys(): StaticKeyring {
  return (processKeys ??= randomTemplateKeyring());
}

/**
 * The development key file: read when it exists, created (mode 0600, never overwritten) on the first
 * `current()`. Lazy, so that reading the configuration never writes a file.
 */
export class DevKeyFileKeyring implements TemplateKeyring {
  private loaded: StaticKeyring | null = null;
  readonly source: string;
  constructor(readonly path: string) {
    this.source = `the development key file ${path}`;
  }
  private read(): StaticKeyring | null {
    if (this.loaded) return this.loaded;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new TemplateKeyConfigError(`${this.source} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
    return (this.loaded = parseTemplateKeys(text, this.source));
  }
  current(): TemplateKey {
    const existing = this.read();
    if (existing) return existing.current();
    mkdirSync(dirname(this.path), { recursive: true });
    const text =
      '# face-login template keys (development): FACE_LOGIN_TEMPLATE_KEYS was not set.\n' +
      '# Without this file the templates in the database next to it cannot be read.\n' +
      `${generateKeyEntry()}\n`;
    try {
      writeFileSync(this.path, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process created it first: use theirs
    }
    return this.read()!.current();
  }
  byId(id: string): TemplateKey | null {
    return this.read()?.byId(id) ?? null;
  }
  ids(): readonly string[] {
    return this.read()?.ids() ?? [];
  }
}

/** Where the development key file of a database lives. */
export function devKeyFilePath(db: { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres' }): string {
  if (db.kind === 'sqlite' && db.path !== ':memory:') return join(dirname(db.path), 'template-keys');
  return join('.data', 'template-keys');
}

/**
 * The keyring for FACE_LOGIN_TEMPLATE_KEYS (inline `id:base64` entries, or a file path), or, when it
 * is unset, the development key file of `db` (refused when `production`). Pushes a warning for the
 * development file. Throws TemplateKeyConfigError.
 */
export function templateKeysFromEnv(
  raw: string | undefined,
  db: Parameters<typeof devKeyFilePath>[0],
  production: boolean,
  warnings: string[],
): TemplateKeyring {
  const value = raw?.trim();
  if (value) {
    // Inline entries always contain "id:" followed by base64 of 32 bytes (44 characters); a path does not.
    if (/^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/_-]{40,}/.test(value)) return parseTemplateKeys(value, 'FACE_LOGIN_TEMPLATE_KEYS');
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (e) {
      throw new TemplateKeyConfigError(
        `FACE_LOGIN_TEMPLATE_KEYS is neither id:base64 keys nor a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
      );
    }
    return parseTemplateKeys(text, `FACE_LOGIN_TEMPLATE_KEYS (${value})`);
  }
  if (production) {
    throw new TemplateKeyConfigError(
      'FACE_LOGIN_TEMPLATE_KEYS is required when NODE_ENV=production: the key that encrypts stored templates and backups, as id:base64 ' +
        '(npm run server:keys -- generate), inline or a file path. Keep it out of the database and its backups.',
    );
  }
  if (db.kind === 'sqlite' && db.path === ':memory:') return randomTemplateKeyring();
  const path = devKeyFilePath(db);
  warnings.push(
    `FACE_LOGIN_TEMPLATE_KEYS is not set: templates and backups are encrypted under the development key file ${path} ` +
      '(created on first use, mode 0600). Losing it loses every stored template; set FACE_LOGIN_TEMPLATE_KEYS in production.',
  );
  return new DevKeyFileKeyring(path);
}
