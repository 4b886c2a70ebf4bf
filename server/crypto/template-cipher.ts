/**
 * Envelope encryption of stored templates and backups (issue 11, "Template protection").
 *
 * - Each user has one data key (DEK, AES-256-GCM, random), stored only wrapped by a key-encryption
 *   key from the configuration (template-keys.ts) in `user_keys(user_id, kek_id, wrapped_dek)`: the
 *   KEK's id is kept with every wrapped key. Deleting a user deletes her DEK, so her templates in an
 *   old database backup cannot be read any more once no copy of her user_keys row is left (crypto-
 *   shredding). Rotating a KEK re-wraps the DEKs only (O(users)); the templates are not touched.
 * - A template blob is `0x01 | iv (12) | AES-256-GCM(float32 bytes of the unit vector) | tag (16)`
 *   with the associated data ["face-login/template/v1", userId, modelId]: a blob copied to another
 *   user (or model) fails to decrypt. Its length is 4n + 29, never a multiple of 4, so it cannot be
 *   taken for a legacy plaintext blob (the float32 bytes, 4n).
 * - A backup's `templates` column is `v1:` + base64(iv | AES-256-GCM(the JSON) | tag) with
 *   ["face-login/backup/v1", userId, modelId]; a legacy plaintext backup is the JSON (`[`...).
 * - A wrapped DEK is `iv (12) | AES-256-GCM(dek) | tag (16)` with ["face-login/dek/v1", userId, kekId].
 * - The seed of the pgvector index's orthogonal transform (vector-transform.ts), one per database, is
 *   wrapped the same way with ["face-login/vector-seed/v1", "", kekId] (`template_vector_key`).
 *
 * Legacy plaintext rows (written before schema v5) are read only while the database says some may
 * remain (`template_protection.legacy_plaintext`, set by the v5 migration when it found rows, cleared
 * by the rotation command once it has encrypted them all); afterwards a plaintext row is refused, so
 * someone who can write to the database cannot slip in a template of their own face as plaintext.
 *
 * Unwrapped DEKs are cached in memory (bounded LRU, `DEK_CACHE_SIZE` users, `DEK_CACHE_TTL_MS`), so
 * a verify costs one AES-GCM decryption per template. The process holds the KEKs and recently used
 * DEKs in memory: a memory dump of a running server reveals them, as it reveals the templates it
 * has decrypted (the 1:N gallery keeps them all in memory).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { decodeEmbedding, encodeEmbedding } from '../embedding.js';
import type { TemplateKeyring } from './template-keys.js';

export const TEMPLATE_BLOB_V1 = 0x01;
export const BACKUP_PREFIX_V1 = 'v1:';
const IV = 12;
const TAG = 16;
export const DEK_CACHE_SIZE = 100_000;
export const DEK_CACHE_TTL_MS = 10 * 60_000;

export type TemplateProtectionFailure =
  /** A row does not decrypt under its user's data key (moved, tampered with, or the data key changed). */
  | 'unreadable'
  /** An encrypted row whose user has no data key row. */
  | 'no-data-key'
  /** A data key wrapped under a KEK id the configuration does not have, or that does not unwrap it. */
  | 'unknown-kek'
  /** A plaintext row where the database says every row is encrypted. */
  | 'plaintext-refused'
  /** The store was opened without template keys (a read-only tool) and had to decrypt or encrypt. */
  | 'no-keys';

/** Template / backup protection failure: never sent to a client (the routes answer `internal`), always logged. */
export class TemplateProtectionError extends Error {
  override readonly name = 'TemplateProtectionError';
  constructor(
    readonly reason: TemplateProtectionFailure,
    message: string,
    readonly userId: string | null = null,
  ) {
    super(message);
  }
}

/** The stores' default report of a gallery row left out because it does not decrypt (a process warning, on stderr). */
export function warnUnreadable(e: TemplateProtectionError): void {
  process.emitWarning(`${e.message} The template is left out of the 1:N gallery.`, {
    type: 'TemplateProtectionWarning',
    code: `FACE_LOGIN_TEMPLATE_${e.reason.toUpperCase().replace(/-/g, '_')}`,
  });
}

/** A user's unwrapped data key and the wrapped form it came from. */
export interface DataKey {
  readonly userId: string;
  readonly kekId: string;
  readonly wrapped: Buffer;
  readonly key: KeyObject;
}

/** A user_keys row as read from either database. */
export interface UserKeyRow {
  readonly userId: string;
  readonly kekId: string;
  readonly wrapped: Uint8Array;
}

function aad(kind: 'template' | 'backup' | 'dek' | 'vector-seed', a: string, b: string): Buffer {
  return Buffer.from(JSON.stringify([`face-login/${kind}/v1`, a, b]));
}

function seal(key: KeyObject, ad: Buffer, plain: Uint8Array, prefix: Buffer | null): Buffer {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(ad);
  const body = c.update(plain);
  c.final();
  return Buffer.concat(prefix ? [prefix, iv, body, c.getAuthTag()] : [iv, body, c.getAuthTag()]);
}

/** The plaintext, or null when the tag does not verify. */
function unseal(key: KeyObject, ad: Buffer, blob: Uint8Array, offset: number): Buffer | null {
  if (blob.byteLength < offset + IV + TAG) return null;
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  try {
    const d = createDecipheriv('aes-256-gcm', key, buf.subarray(offset, offset + IV));
    d.setAAD(ad);
    d.setAuthTag(buf.subarray(buf.length - TAG));
    const out = d.update(buf.subarray(offset + IV, buf.length - TAG));
    d.final();
    return out;
  } catch {
    return null;
  }
}

export function isSealedTemplate(blob: Uint8Array): boolean {
  return blob.byteLength % 4 === 1 && blob[0] === TEMPLATE_BLOB_V1;
}

export function isSealedBackup(text: string): boolean {
  return text.startsWith(BACKUP_PREFIX_V1);
}

const PREFIX_V1 = Buffer.from([TEMPLATE_BLOB_V1]);

export class TemplateCipher {
  /** Whether legacy plaintext rows are still read (the store sets it from template_protection). */
  legacyPlaintext = false;
  private readonly cache = new Map<string, { dk: DataKey; at: number }>();

  constructor(
    readonly keys: TemplateKeyring | null,
    private readonly options: { cacheSize?: number; cacheTtlMs?: number; now?: () => number } = {},
  ) {}

  private keyring(userId: string | null): TemplateKeyring {
    if (!this.keys) throw new TemplateProtectionError('no-keys', 'This store was opened without template keys (FACE_LOGIN_TEMPLATE_KEYS): it cannot read or write templates.', userId);
    return this.keys;
  }

  private remember(dk: DataKey): DataKey {
    const max = this.options.cacheSize ?? DEK_CACHE_SIZE;
    if (max <= 0) return dk;
    this.cache.delete(dk.userId);
    this.cache.set(dk.userId, { dk, at: (this.options.now ?? Date.now)() });
    if (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
    return dk;
  }

  /** A fresh data key for a user, wrapped under the current KEK (and cached). */
  newDataKey(userId: string): DataKey {
    const kek = this.keyring(userId).current();
    const raw = randomBytes(32);
    const wrapped = seal(kek.key, aad('dek', userId, kek.id), raw, null);
    const dk = { userId, kekId: kek.id, wrapped, key: createSecretKey(raw) };
    raw.fill(0);
    return this.remember(dk);
  }

  /** The cached data key of a user (younger than the TTL), or null. Moves it to the LRU's end. */
  cached(userId: string): DataKey | null {
    const hit = this.cache.get(userId);
    if (!hit) return null;
    if ((this.options.now ?? Date.now)() - hit.at > (this.options.cacheTtlMs ?? DEK_CACHE_TTL_MS)) {
      this.cache.delete(userId);
      return null;
    }
    this.cache.delete(userId);
    this.cache.set(userId, hit);
    return hit.dk;
  }

  /** Drops a user's cached data key (deleted, or it failed to open a row). */
  forget(userId: string): void {
    this.cache.delete(userId);
  }

  /** The data key of a stored user_keys row: the cached one when it came from the same wrapped bytes, else unwrapped (and cached). */
  dataKey(row: UserKeyRow): DataKey {
    const hit = this.cached(row.userId);
    if (hit && hit.kekId === row.kekId && Buffer.compare(hit.wrapped, row.wrapped) === 0) return hit;
    const kek = this.keyring(row.userId).byId(row.kekId);
    if (!kek) {
      throw new TemplateProtectionError(
        'unknown-kek',
        `User data keys are wrapped under template key "${row.kekId}", which ${this.keys!.source} does not have (it has: ${this.keys!.ids().join(', ') || 'none'}).`,
        row.userId,
      );
    }
    const raw = unseal(kek.key, aad('dek', row.userId, row.kekId), row.wrapped, 0);
    if (!raw || raw.length !== 32) {
      throw new TemplateProtectionError('unknown-kek', `A data key does not unwrap under template key "${row.kekId}" of ${this.keys!.source}: a different key with the same id, or a tampered row.`, row.userId);
    }
    const dk = { userId: row.userId, kekId: row.kekId, wrapped: Buffer.from(row.wrapped), key: createSecretKey(raw) };
    raw.fill(0);
    return this.remember(dk);
  }

  /** The row re-wrapped under the current KEK, or null when it already is. Throws like dataKey. */
  rewrap(row: UserKeyRow): { kekId: string; wrapped: Buffer } | null {
    const kek = this.keyring(row.userId).current();
    if (row.kekId === kek.id) return null;
    const dk = this.dataKey(row);
    const raw = dk.key.export();
    const wrapped = seal(kek.key, aad('dek', row.userId, kek.id), raw, null);
    raw.fill(0);
    this.forget(row.userId);
    return { kekId: kek.id, wrapped };
  }

  /** A fresh random seed for the vector index's transform, wrapped under the current KEK. */
  newVectorSeed(): { kekId: string; wrapped: Buffer; seed: Buffer } {
    const kek = this.keyring(null).current();
    const seed = randomBytes(32);
    return { kekId: kek.id, wrapped: seal(kek.key, aad('vector-seed', '', kek.id), seed, null), seed };
  }

  /** The vector transform's seed from its stored row. Throws TemplateProtectionError (unknown KEK, tampered row). */
  openVectorSeed(row: { kekId: string; wrapped: Uint8Array }): Buffer {
    const kek = this.keyring(null).byId(row.kekId);
    const seed = kek ? unseal(kek.key, aad('vector-seed', '', row.kekId), row.wrapped, 0) : null;
    if (!seed || seed.length !== 32) {
      throw new TemplateProtectionError('unknown-kek', `The vector index's transform seed is wrapped under template key "${row.kekId}", which ${this.keys!.source} does not have or which does not unwrap it.`);
    }
    return seed;
  }

  /** The seed row re-wrapped under the current KEK, or null when it already is. */
  rewrapVectorSeed(row: { kekId: string; wrapped: Uint8Array }): { kekId: string; wrapped: Buffer } | null {
    const kek = this.keyring(null).current();
    if (row.kekId === kek.id) return null;
    const seed = this.openVectorSeed(row);
    const wrapped = seal(kek.key, aad('vector-seed', '', kek.id), seed, null);
    seed.fill(0);
    return { kekId: kek.id, wrapped };
  }

  /** Checks at start that every KEK id in use is configured and unwraps (one sample row per id). */
  checkStoredKeys(samples: readonly UserKeyRow[]): void {
    if (samples.length === 0 || !this.keys) return;
    for (const row of samples) this.dataKey(row);
  }

  sealTemplate(dk: DataKey, modelId: string, embedding: Float32Array): Buffer {
    return seal(dk.key, aad('template', dk.userId, modelId), encodeEmbedding(embedding), PREFIX_V1);
  }

  /**
   * Decrypts a user's template blobs (one model). `key`: the user's key row (undefined: none stored),
   * or a loader called only when a blob is encrypted. Legacy plaintext blobs are decoded while
   * `legacyPlaintext` allows. Throws TemplateProtectionError (fail closed).
   */
  openTemplates(userId: string, modelId: string, blobs: readonly Uint8Array[], key: UserKeyRow | undefined | (() => UserKeyRow | undefined)): Float32Array[] {
    let dk: DataKey | null = null;
    let ad: Buffer | null = null;
    return blobs.map((blob) => {
      if (!isSealedTemplate(blob)) return this.legacyTemplate(userId, blob);
      if (!dk) {
        const row = typeof key === 'function' ? key() : key;
        if (!row) throw new TemplateProtectionError('no-data-key', `An encrypted template of user ${JSON.stringify(userId)} has no data key (user_keys row).`, userId);
        dk = this.dataKey(row);
        ad = aad('template', userId, modelId);
      }
      const plain = unseal(dk.key, ad!, blob, 1);
      if (!plain) {
        this.forget(userId);
        throw new TemplateProtectionError('unreadable', `A template of user ${JSON.stringify(userId)} (model ${modelId}) does not decrypt under her data key: moved from another user or tampered with.`, userId);
      }
      return decodeEmbedding(plain);
    });
  }

  /**
   * Decrypts with the cached data key only: null when none is cached or it does not open every blob
   * (then load the key row and call openTemplates). Lets PostgreSQL verify skip a round trip.
   */
  openTemplatesCached(userId: string, modelId: string, blobs: readonly Uint8Array[]): Float32Array[] | null {
    if (!blobs.some(isSealedTemplate)) return this.openTemplates(userId, modelId, blobs, undefined);
    const dk = this.cached(userId);
    if (!dk) return null;
    try {
      return this.openTemplates(userId, modelId, blobs, dk);
    } catch (e) {
      if (e instanceof TemplateProtectionError && e.reason === 'unreadable') return null; // stale cache (re-keyed elsewhere): reload
      throw e;
    }
  }

  private legacyTemplate(userId: string, blob: Uint8Array): Float32Array {
    if (!this.legacyPlaintext) {
      throw new TemplateProtectionError('plaintext-refused', `A plaintext template of user ${JSON.stringify(userId)} in a database where every template is encrypted: refused.`, userId);
    }
    return decodeEmbedding(blob);
  }

  sealBackup(dk: DataKey, modelId: string, json: string): string {
    return BACKUP_PREFIX_V1 + seal(dk.key, aad('backup', dk.userId, modelId), Buffer.from(json, 'utf8'), null).toString('base64');
  }

  /** The backup's JSON text (see codec.ts), decrypted or legacy plaintext. Throws like openTemplates. */
  openBackup(userId: string, modelId: string, text: string, key: UserKeyRow | undefined | (() => UserKeyRow | undefined)): string {
    if (!isSealedBackup(text)) {
      if (!this.legacyPlaintext) throw new TemplateProtectionError('plaintext-refused', `A plaintext backup of user ${JSON.stringify(userId)} in a database where every backup is encrypted: refused.`, userId);
      return text;
    }
    const row = typeof key === 'function' ? key() : key;
    if (!row) throw new TemplateProtectionError('no-data-key', `The encrypted backup of user ${JSON.stringify(userId)} has no data key (user_keys row).`, userId);
    const plain = unseal(this.dataKey(row).key, aad('backup', userId, modelId), Buffer.from(text.slice(BACKUP_PREFIX_V1.length), 'base64'), 0);
    if (!plain) {
      this.forget(userId);
      throw new TemplateProtectionError('unreadable', `The backup of user ${JSON.stringify(userId)} does not decrypt under her data key: moved from another user or tampered with.`, userId);
    }
    return plain.toString('utf8');
  }
}
