import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { FaceLoginError, storageErrorFrom } from '../../core/errors.js';
import type { NewTemplate, Pose, Template, TemplateExport, TemplateStore, UserRecord } from '../../core/types.js';
import { checkNewTemplates, checkTemplateExport, toTemplateExport } from './template-export.js';

/** Stored template row. `size` arrived in schema v2 (v1 rows are backfilled by the migration). */
interface TemplateRow {
  id?: number;
  userId: string;
  modelId: string;
  size: number;
  embedding: Float32Array;
  pose: Pose;
  createdAt: number;
}

interface OutboxRow {
  userId: string;
  modelId: string;
  queuedAt: number;
}

export interface FaceLoginDB extends DBSchema {
  users: { key: string; value: UserRecord };
  outbox: { key: string; value: OutboxRow };
  templates: {
    key: number;
    value: TemplateRow;
    indexes: { byUser: string; byModel: string; byUserModel: [string, string] };
  };
}

export const DB_VERSION = 3;
export const DEFAULT_DB_NAME = 'face-login';

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
      const row = cursor.value;
      if (typeof row.size !== 'number') await cursor.update({ ...row, size: row.embedding.length });
      cursor = await cursor.continue();
    }
  }
  if (oldVersion < 3) {
    // v3: users whose templates must still be backed up to the server (offline enrolment).
    db.createObjectStore('outbox', { keyPath: 'userId' });
  }
}

export interface IdbTemplateStoreOptions {
  dbName?: string;
}

function toTemplate(row: TemplateRow): Template {
  return {
    id: row.id!,
    userId: row.userId,
    modelId: row.modelId,
    size: row.size,
    embedding: row.embedding instanceof Float32Array ? row.embedding : new Float32Array(row.embedding),
    pose: row.pose,
    createdAt: row.createdAt,
  };
}

/**
 * Templates in IndexedDB through idb. Opens lazily, closes itself when another tab upgrades the
 * schema (`blocking`), reopens after the browser terminates the connection, and maps every
 * IndexedDB failure to a storage-unavailable / storage-full FaceLoginError.
 */
export class IdbTemplateStore implements TemplateStore {
  private dbp: Promise<IDBPDatabase<FaceLoginDB>> | null = null;
  private closed = false;
  readonly dbName: string;

  constructor(private readonly options: IdbTemplateStoreOptions = {}) {
    this.dbName = options.dbName ?? DEFAULT_DB_NAME;
  }

  private db(): Promise<IDBPDatabase<FaceLoginDB>> {
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
          void this.dbp?.then((db) => db.close());
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
    this.dbp = p.catch((e: unknown) => {
      this.dbp = null;
      throw storageErrorFrom(e);
    });
    return this.dbp;
  }

  private async run<T>(fn: (db: IDBPDatabase<FaceLoginDB>) => Promise<T>): Promise<T> {
    const db = await this.db();
    try {
      return await fn(db);
    } catch (e) {
      throw storageErrorFrom(e);
    }
  }

  async saveTemplates(
    userId: string,
    modelId: string,
    templates: readonly NewTemplate[],
    options: { replace?: boolean; displayName?: string } = {},
  ): Promise<Template[]> {
    const size = checkNewTemplates(userId, templates);
    return this.run(async (db) => {
      // One transaction: the user row and all templates land together or not at all.
      const tx = db.transaction(['users', 'templates'], 'readwrite');
      const users = tx.objectStore('users');
      const store = tx.objectStore('templates');
      const now = Date.now();
      const prev = await users.get(userId);
      await users.put({
        userId,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
        ...(options.displayName ?? prev?.displayName ? { displayName: options.displayName ?? prev?.displayName } : {}),
      });
      if (options.replace) {
        for (const key of await store.index('byUserModel').getAllKeys([userId, modelId])) await store.delete(key);
      }
      const saved: Template[] = [];
      for (const t of templates) {
        const row: TemplateRow = { userId, modelId, size, embedding: new Float32Array(t.embedding), pose: t.pose, createdAt: now };
        const id = await store.add(row);
        saved.push(toTemplate({ ...row, id }));
      }
      await tx.done;
      return saved;
    });
  }

  templatesOf(userId: string, modelId: string): Promise<Template[]> {
    return this.run(async (db) => (await db.getAllFromIndex('templates', 'byUserModel', [userId, modelId])).map(toTemplate));
  }

  allTemplates(modelId: string): Promise<Template[]> {
    return this.run(async (db) => (await db.getAllFromIndex('templates', 'byModel', modelId)).map(toTemplate));
  }

  /**
   * Template count and highest key, in one read-only transaction: an add raises the count, a
   * delete lowers it, a replace (delete + add) raises the highest key (keys are auto-incremented and
   * never reused). Works across tabs because it reads the database, not this object's state.
   */
  revision(): Promise<string> {
    return this.run(async (db) => {
      const tx = db.transaction('templates', 'readonly');
      const store = tx.store;
      const [count, last] = await Promise.all([store.count(), store.openKeyCursor(null, 'prev')]);
      await tx.done;
      return `${count}:${last?.key ?? 0}`;
    });
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
      for (const key of await store.index('byUser').getAllKeys(userId)) await store.delete(key);
      await tx.done;
      return existed;
    });
  }

  exportAll(): Promise<TemplateExport> {
    return this.run(async (db) => {
      const tx = db.transaction(['users', 'templates'], 'readonly');
      const [users, rows] = await Promise.all([tx.objectStore('users').getAll(), tx.objectStore('templates').getAll()]);
      await tx.done;
      return toTemplateExport(users, rows.map(toTemplate));
    });
  }

  async importAll(data: TemplateExport): Promise<{ users: number; templates: number }> {
    const checked = checkTemplateExport(data);
    return this.run(async (db) => {
      const tx = db.transaction(['users', 'templates'], 'readwrite');
      for (const u of checked.users) await tx.objectStore('users').put(u);
      for (const t of checked.templates) {
        await tx.objectStore('templates').add({ ...t, embedding: new Float32Array(t.embedding) });
      }
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
    void this.dbp?.then((db) => db.close()).catch(() => undefined);
    this.dbp = null;
  }
}
