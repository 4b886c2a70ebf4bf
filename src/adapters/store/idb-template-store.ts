import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { FaceLoginError, storageErrorFrom } from '../../core/errors.js';
import { TemplateChangeListeners, type TemplateChangeEvent, type TemplateChangeSource } from '../../core/gallery.js';
import type { NewTemplate, Pose, Template, TemplateExport, TemplateStore, UserRecord } from '../../core/types.js';
import { checkNewTemplates, checkTemplateExport, toTemplateExport } from './template-export.js';
import { generateTemplateKey, openEmbedding, sealEmbedding, type UnsealedReason } from './template-seal.js';

interface TemplateRowBase {
  id?: number;
  userId: string;
  modelId: string;
  /** Arrived in schema v2 (v1 rows are backfilled by the migration). */
  size: number;
  pose: Pose;
  createdAt: number;
}

/** A template row since schema v4: the embedding sealed with AES-GCM (template-seal.ts), never in the clear. */
export interface SealedTemplateRow extends TemplateRowBase {
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: ArrayBuffer;
  embedding?: never;
}

/** A template row as schemas v1 to v3 wrote it: the raw embedding. Sealed by the pass after opening (see sealLegacyRows). */
export interface PlaintextTemplateRow extends TemplateRowBase {
  embedding: Float32Array;
}

/** Stored template row. */
type TemplateRow = SealedTemplateRow | PlaintextTemplateRow;

interface OutboxRow {
  userId: string;
  modelId: string;
  queuedAt: number;
}

/** The device's template key (one row, `TEMPLATE_KEY_ID`): non-extractable, usable only through WebCrypto. */
interface KeyRow {
  id: string;
  key: CryptoKey;
  createdAt: number;
}

/**
 * The plaintext rows the v4 upgrade found: template ids up to `upToId` may still be plaintext
 * and are sealed after open; the row is deleted once none is left. Any other plaintext row was not
 * written by this store and is never used.
 */
interface MetaRow {
  name: typeof SEAL_PENDING;
  upToId: number;
}

export interface FaceLoginDB extends DBSchema {
  users: { key: string; value: UserRecord };
  outbox: { key: string; value: OutboxRow };
  templates: {
    key: number;
    value: TemplateRow;
    indexes: { byUser: string; byModel: string; byUserModel: [string, string] };
  };
  keys: { key: string; value: KeyRow };
  meta: { key: string; value: MetaRow };
}

export const DB_VERSION = 4;
export const DEFAULT_DB_NAME = 'face-login';
export const TEMPLATE_KEY_ID = 'templates';
const SEAL_PENDING = 'seal-pending';

type UpgradeTx = IDBPTransaction<FaceLoginDB, StoreNames<FaceLoginDB>[], 'versionchange'>;

/**
 * The migration ladder. Each step upgrades from the version before it; a fresh database runs
 * them all. Never edit a released step: add the next one.
 */
export async function migrate(db: IDBPDatabase<FaceLoginDB>, oldVersion: number, tx: UpgradeTx): Promise<void> {
  if (oldVersion < 1) {
    db.createObjectStore('users', { keyPath: 'userId' });
    const t = db.createObjectStore('templates', { keyPath: 'id', autoIncrement: true });
    t.createIndex('byUser', 'userId');
  }
  if (oldVersion < 2) {
    // v2: templates carry their embedding size and are looked up per (user, model) and per model,
    // so vectors from another model or preprocessing are never compared.
    const t = tx.objectStore('templates');
    t.createIndex('byModel', 'modelId');
    t.createIndex('byUserModel', ['userId', 'modelId']);
    let cursor = await t.openCursor();
    while (cursor) {
      const row = cursor.value as PlaintextTemplateRow;
      if (typeof row.size !== 'number') await cursor.update({ ...row, size: row.embedding.length });
      cursor = await cursor.continue();
    }
  }
  if (oldVersion < 3) {
    // v3: users whose templates must still be backed up to the server (offline enrolment).
    db.createObjectStore('outbox', { keyPath: 'userId' });
  }
  if (oldVersion < 4) {
    // v4: templates sealed at rest. WebCrypto cannot run inside this transaction (it would commit
    // on the first non-IDB await), so this step only makes room for the key and notes which rows
    // are today's plaintext ones; the store seals them after open (sealLegacyRows), resumably.
    db.createObjectStore('keys', { keyPath: 'id' });
    const meta = db.createObjectStore('meta', { keyPath: 'name' });
    const last = await tx.objectStore('templates').openKeyCursor(null, 'prev');
    if (last) await meta.put({ name: SEAL_PENDING, upToId: last.key });
  }
}

/** A stored template that was skipped because it does not open under this device's key. */
export interface UnsealedTemplate {
  id: number;
  userId: string;
  modelId: string;
  reason: UnsealedReason;
}

export interface IdbTemplateStoreOptions {
  dbName?: string;
  /**
   * Called once per row (per store instance) that is skipped because it was not sealed by this
   * device: a plaintext row written after the v4 migration, a row sealed under another key, or one
   * whose user, model, pose, size or ciphertext was changed. Such a row is never returned, matched
   * or exported. Default: console.warn. `unsealedTemplates()` lists them on demand.
   */
  onUnsealed?: (row: UnsealedTemplate) => void;
}

interface OpenDb {
  db: IDBPDatabase<FaceLoginDB>;
  key: CryptoKey;
}

const isSealed = (row: TemplateRow): row is SealedTemplateRow => !('embedding' in row) || row.embedding === undefined;

/**
 * Templates in IndexedDB through idb, sealed at rest (template-seal.ts). Opens lazily (creating
 * the device key on first use and sealing rows an older version left in the clear), closes
 * itself when another tab upgrades the schema (`blocking`), reopens after the browser terminates
 * the connection, and maps every IndexedDB failure to a storage-unavailable / storage-full
 * FaceLoginError. Reads return only templates this device sealed (see `onUnsealed`).
 */
export class IdbTemplateStore implements TemplateStore, TemplateChangeSource {
  private dbp: Promise<OpenDb> | null = null;
  private closed = false;
  private readonly listeners = new TemplateChangeListeners();
  private readonly reported = new Set<number>();
  readonly dbName: string;

  constructor(private readonly options: IdbTemplateStoreOptions = {}) {
    this.dbName = options.dbName ?? DEFAULT_DB_NAME;
  }

  private db(): Promise<OpenDb> {
    if (this.closed) return Promise.reject(new FaceLoginError('disposed', 'The template store has been closed.'));
    if (this.dbp) return this.dbp;
    if (!globalThis.indexedDB) {
      return Promise.reject(new FaceLoginError('storage-unavailable', 'IndexedDB is not available in this browser context (private mode or blocked storage?).'));
    }
    let p: Promise<IDBPDatabase<FaceLoginDB>>;
    try {
      p = openDB<FaceLoginDB>(this.dbName, DB_VERSION, {
        upgrade: (db, oldVersion, _newVersion, tx) => {
          // A failed step aborts the versionchange transaction, so the old schema and data stay intact.
          migrate(db, oldVersion, tx).catch(() => tx.abort());
        },
        blocking: () => {
          // Another tab wants a newer schema: step aside, reopen on next use.
          void this.dbp?.then(({ db }) => db.close(), () => undefined);
          this.dbp = null;
        },
        terminated: () => {
          this.dbp = null;
        },
      });
    } catch (e) {
      // Some browsers throw synchronously (SecurityError) when storage is blocked.
      p = Promise.reject(e);
    }
    const opened = p.then(async (db) => {
      try {
        const key = await templateKey(db);
        await sealLegacyRows(db, key);
        return { db, key };
      } catch (e) {
        db.close();
        throw e;
      }
    });
    this.dbp = opened.catch((e: unknown) => {
      this.dbp = null;
      throw storageErrorFrom(e);
    });
    return this.dbp;
  }

  private async run<T>(fn: (db: IDBPDatabase<FaceLoginDB>, key: CryptoKey) => Promise<T>): Promise<T> {
    const { db, key } = await this.db();
    try {
      return await fn(db, key);
    } catch (e) {
      throw storageErrorFrom(e);
    }
  }

  /** The rows' templates that open under the device key; the others are reported and left out. */
  private async openRows(key: CryptoKey, rows: readonly TemplateRow[]): Promise<Template[]> {
    const opened = await Promise.all(rows.map((row) => openRow(key, row)));
    const out: Template[] = [];
    opened.forEach((o, i) => {
      if (typeof o === 'string') this.report({ id: rows[i]!.id!, userId: rows[i]!.userId, modelId: rows[i]!.modelId, reason: o });
      else out.push(o);
    });
    return out;
  }

  private report(row: UnsealedTemplate): void {
    if (this.reported.has(row.id)) return;
    this.reported.add(row.id);
    if (this.options.onUnsealed) this.options.onUnsealed(row);
    else console.warn(`<face-login> template ${row.id} of "${row.userId}" (${row.modelId}) is not used: ${row.reason} (it was not sealed by this device).`);
  }

  /**
   * Every stored template that does not open under this device's key (and is therefore never
   * used), with the reason: for diagnostics and clean-up (deleteUser removes them with the user).
   */
  unsealedTemplates(): Promise<UnsealedTemplate[]> {
    return this.run(async (db, key) => {
      const rows = await db.getAll('templates');
      const opened = await Promise.all(rows.map((row) => openRow(key, row)));
      return rows.flatMap((row, i) => {
        const o = opened[i]!;
        return typeof o === 'string' ? [{ id: row.id!, userId: row.userId, modelId: row.modelId, reason: o }] : [];
      });
    });
  }

  async saveTemplates(
    userId: string,
    modelId: string,
    templates: readonly NewTemplate[],
    options: { replace?: boolean; displayName?: string } = {},
  ): Promise<Template[]> {
    const size = checkNewTemplates(userId, templates);
    return this.run(async (db, key) => {
      // Sealed before the transaction: it would commit on the first WebCrypto await.
      const now = Date.now();
      const rows = await Promise.all(
        templates.map((t) => sealRow(key, { userId, modelId, size, pose: t.pose, createdAt: now }, t.embedding)),
      );
      // One transaction: the user row and all templates land together or not at all.
      const tx = db.transaction(['users', 'templates'], 'readwrite');
      const users = tx.objectStore('users');
      const store = tx.objectStore('templates');
      const prev = await users.get(userId);
      await users.put({
        userId,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
        ...(options.displayName ?? prev?.displayName ? { displayName: options.displayName ?? prev?.displayName } : {}),
      });
      // The revision just before and after, inside this transaction: what LocalVerifier's gallery needs to follow the write.
      const before = this.listeners.size ? await revisionIn(store) : '';
      if (options.replace) {
        for (const k of await store.index('byUserModel').getAllKeys([userId, modelId])) await store.delete(k);
      }
      const saved: Template[] = [];
      for (const [i, row] of rows.entries()) {
        const id = await store.add(row);
        saved.push({ id, userId, modelId, size, embedding: new Float32Array(templates[i]!.embedding), pose: row.pose, createdAt: now });
      }
      const after = this.listeners.size ? await revisionIn(store) : '';
      await tx.done;
      if (before) this.listeners.emit({ before, after, change: { kind: 'save', userId, modelId, replace: !!options.replace, templates: saved } });
      return saved;
    });
  }

  templatesOf(userId: string, modelId: string): Promise<Template[]> {
    return this.run(async (db, key) => this.openRows(key, await db.getAllFromIndex('templates', 'byUserModel', [userId, modelId])));
  }

  allTemplates(modelId: string): Promise<Template[]> {
    return this.run(async (db, key) => this.openRows(key, await db.getAllFromIndex('templates', 'byModel', modelId)));
  }

  /**
   * Template count and highest key, in one read-only transaction: an add raises the count, a
   * delete lowers it, a replace (delete + add) raises the highest key (keys are auto-incremented and
   * never reused). Works across tabs because it reads the database, not this object's state.
   */
  revision(): Promise<string> {
    return this.run(async (db) => {
      const tx = db.transaction('templates', 'readonly');
      const revision = await revisionIn(tx.store);
      await tx.done;
      return revision;
    });
  }

  /** Calls `listener` after each saveTemplates / deleteUser of this object commits (LocalVerifier's gallery follows them). */
  onTemplateChange(listener: (e: TemplateChangeEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  listUsers(): Promise<UserRecord[]> {
    return this.run((db) => db.getAll('users'));
  }

  hasUser(userId: string): Promise<boolean> {
    return this.run(async (db) => (await db.count('users', userId)) > 0);
  }

  deleteUser(userId: string): Promise<boolean> {
    return this.run(async (db) => {
      const tx = db.transaction(['users', 'templates', 'outbox'], 'readwrite');
      const existed = (await tx.objectStore('users').count(userId)) > 0;
      await tx.objectStore('users').delete(userId);
      await tx.objectStore('outbox').delete(userId);
      const store = tx.objectStore('templates');
      const before = this.listeners.size ? await revisionIn(store) : '';
      for (const key of await store.index('byUser').getAllKeys(userId)) await store.delete(key);
      const after = this.listeners.size ? await revisionIn(store) : '';
      await tx.done;
      if (before) this.listeners.emit({ before, after, change: { kind: 'delete', userId } });
      return existed;
    });
  }

  /**
   * Every user and every template this device sealed, decrypted: the export is plaintext JSON
   * (template-export.ts), to be protected like the biometric data it is. Rows that do not open
   * are left out (and reported).
   */
  exportAll(): Promise<TemplateExport> {
    return this.run(async (db, key) => {
      const tx = db.transaction(['users', 'templates'], 'readonly');
      const [users, rows] = await Promise.all([tx.objectStore('users').getAll(), tx.objectStore('templates').getAll()]);
      await tx.done;
      return toTemplateExport(users, await this.openRows(key, rows));
    });
  }

  /** Imports an export (validated first: a bad file changes nothing), sealing every template under this device's key. */
  async importAll(data: TemplateExport): Promise<{ users: number; templates: number }> {
    const checked = checkTemplateExport(data);
    return this.run(async (db, key) => {
      const rows = await Promise.all(
        checked.templates.map((t) =>
          sealRow(key, { userId: t.userId, modelId: t.modelId, size: t.size, pose: t.pose, createdAt: t.createdAt }, Float32Array.from(t.embedding)),
        ),
      );
      const tx = db.transaction(['users', 'templates'], 'readwrite');
      for (const u of checked.users) await tx.objectStore('users').put(u);
      for (const row of rows) await tx.objectStore('templates').add(row);
      await tx.done;
      return { users: checked.users.length, templates: checked.templates.length };
    });
  }

  enqueueBackup(userId: string, modelId: string): Promise<void> {
    return this.run(async (db) => {
      await db.put('outbox', { userId, modelId, queuedAt: Date.now() });
    });
  }

  pendingBackups(): Promise<OutboxRow[]> {
    return this.run((db) => db.getAll('outbox'));
  }

  backupDone(userId: string, queuedAt: number): Promise<void> {
    return this.run(async (db) => {
      const tx = db.transaction('outbox', 'readwrite');
      // Only clear the entry that was sent: a newer enrolment queued meanwhile stays queued.
      if ((await tx.store.get(userId))?.queuedAt === queuedAt) await tx.store.delete(userId);
      await tx.done;
    });
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    void this.dbp?.then(({ db }) => db.close()).catch(() => undefined);
    this.dbp = null;
  }
}

/** revision(): template count and highest key, read through `store` (of any transaction on 'templates'). */
async function revisionIn(store: { count(): Promise<number>; openKeyCursor(query: null, direction: 'prev'): Promise<{ key: number } | null> }): Promise<string> {
  const [count, last] = await Promise.all([store.count(), store.openKeyCursor(null, 'prev')]);
  return `${count}:${last?.key ?? 0}`;
}

async function sealRow(key: CryptoKey, base: Omit<TemplateRowBase, 'id'>, embedding: Float32Array): Promise<SealedTemplateRow> {
  const { iv, ciphertext } = await sealEmbedding(key, embedding, base);
  return { ...base, iv, ciphertext };
}

/** A row's template, or why it is not one this device sealed. */
async function openRow(key: CryptoKey, row: TemplateRow): Promise<Template | UnsealedReason> {
  if (!isSealed(row)) return 'plaintext';
  if (typeof row.userId !== 'string' || typeof row.modelId !== 'string' || typeof row.pose !== 'string' || typeof row.size !== 'number') return 'malformed';
  const embedding = await openEmbedding(key, row, row);
  if (typeof embedding === 'string') return embedding;
  return { id: row.id!, userId: row.userId, modelId: row.modelId, size: row.size, embedding, pose: row.pose, createdAt: row.createdAt };
}

/**
 * The device's template key: read it, or on first open generate one (outside any transaction)
 * and add it, unless another tab added one meanwhile (then that one is used).
 */
async function templateKey(db: IDBPDatabase<FaceLoginDB>): Promise<CryptoKey> {
  const existing = await db.get('keys', TEMPLATE_KEY_ID);
  if (existing) return existing.key;
  const fresh = await generateTemplateKey();
  const tx = db.transaction('keys', 'readwrite');
  const raced = await tx.store.get(TEMPLATE_KEY_ID);
  if (!raced) await tx.store.add({ id: TEMPLATE_KEY_ID, key: fresh, createdAt: Date.now() });
  await tx.done;
  return raced?.key ?? fresh;
}

/**
 * The second half of the v4 migration: seals the plaintext rows the upgrade found (ids up to
 * its mark), one row per transaction (WebCrypto cannot run inside one). Idempotent and resumable:
 * a row is rewritten only if it is still the plaintext row that was sealed, and the mark is
 * removed only once no plaintext row is left under it, so an interrupted pass (a closed tab)
 * continues on the next open, and two tabs doing it at once write the same thing twice.
 */
export async function sealLegacyRows(db: IDBPDatabase<FaceLoginDB>, key: CryptoKey): Promise<number> {
  const mark = await db.get('meta', SEAL_PENDING);
  if (!mark) return 0;
  let sealed = 0;
  const range = IDBKeyRange.upperBound(mark.upToId);
  for (const id of await db.getAllKeys('templates', range)) {
    const row = await db.get('templates', id);
    if (!row || isSealed(row)) continue;
    const embedding = row.embedding instanceof Float32Array ? row.embedding : Float32Array.from(row.embedding as ArrayLike<number>);
    const { embedding: _plain, ...base } = row;
    const next = await sealRow(key, { ...base, size: embedding.length }, embedding);
    const tx = db.transaction('templates', 'readwrite');
    const now = await tx.store.get(id);
    // Still the same plaintext row (not deleted, replaced or sealed by another tab meanwhile)?
    if (now && !isSealed(now) && now.userId === row.userId && now.modelId === row.modelId) {
      await tx.store.put({ ...next, id });
      sealed++;
    }
    await tx.done;
  }
  const tx = db.transaction(['meta', 'templates'], 'readwrite');
  const left = await tx.objectStore('templates').getAll(range);
  if (!left.some((r) => !isSealed(r))) await tx.objectStore('meta').delete(SEAL_PENDING);
  await tx.done;
  return sealed;
}
