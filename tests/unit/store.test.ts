import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { DB_VERSION, IdbTemplateStore } from '../../src/adapters/store/idb-template-store.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import type { TemplateStore } from '../../src/core/types.js';

const emb = (seed: number, n = 192) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 31 + i));
const MODEL = 'mobilefacenet-expo-1.0.24';

beforeEach(() => {
  // A fresh, empty IndexedDB for every test.
  globalThis.indexedDB = new IDBFactory();
});

const stores: [string, (name?: string) => TemplateStore][] = [
  ['IdbTemplateStore', (name = 'test') => new IdbTemplateStore({ dbName: name })],
  ['MemoryTemplateStore', () => new MemoryTemplateStore()],
];

describe.each(stores)('%s contract', (_name, make) => {
  let store: TemplateStore;
  beforeEach(() => {
    store = make();
  });
  afterEach(() => store.close());

  it('saves several templates per user and returns Float32Arrays tagged with model and size', async () => {
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }, { embedding: emb(2), pose: 'left' }]);
    const t = await store.templatesOf('ann', MODEL);
    expect(t).toHaveLength(2);
    expect(t[0]!.embedding).toBeInstanceOf(Float32Array);
    expect(Array.from(t[0]!.embedding)).toEqual(Array.from(emb(1)));
    expect(t.map((x) => [x.pose, x.size, x.modelId])).toEqual([['center', 192, MODEL], ['left', 192, MODEL]]);
    expect(await store.hasUser('ann')).toBe(true);
  });

  it('revision changes on every add, replace, delete and import, and not on reads', async () => {
    // Each write must change the revision from the one just before it (a state equal to an earlier
    // one, e.g. empty again, may repeat an earlier value: same content, same gallery).
    let last = await store.revision!();
    const changed = async (what: string) => {
      const r = await store.revision!();
      expect(r, what).not.toBe(last);
      last = r;
    };
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    await changed('add');
    await store.allTemplates(MODEL);
    await store.templatesOf('ann', MODEL);
    await store.listUsers();
    expect(await store.revision!(), 'reads').toBe(last);
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(2), pose: 'center' }], { replace: true }); // same count
    await changed('replace');
    await store.saveTemplates('bob', MODEL, [{ embedding: emb(3), pose: 'center' }]);
    await changed('add another user');
    await store.deleteUser('bob');
    await changed('delete');
    const dump = await store.exportAll();
    await store.deleteUser('ann');
    await changed('delete the last user');
    await store.importAll(dump);
    await changed('import');
  });

  it('never returns templates of another model', async () => {
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    await store.saveTemplates('ann', 'other-model-128', [{ embedding: emb(3, 128), pose: 'center' }]);
    expect((await store.templatesOf('ann', MODEL)).map((t) => t.size)).toEqual([192]);
    expect((await store.allTemplates('other-model-128')).map((t) => t.size)).toEqual([128]);
    expect(await store.allTemplates('unknown')).toEqual([]);
  });

  it('replace swaps that user\'s templates for the model, add keeps them', async () => {
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(2), pose: 'center' }]);
    expect(await store.templatesOf('ann', MODEL)).toHaveLength(2);
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(5), pose: 'up' }], { replace: true });
    const t = await store.templatesOf('ann', MODEL);
    expect(t.map((x) => x.pose)).toEqual(['up']);
  });

  it('rejects bad templates and writes nothing', async () => {
    await expect(store.saveTemplates('ann', MODEL, [{ embedding: Float32Array.of(1, NaN), pose: 'center' }])).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }, { embedding: emb(1, 10), pose: 'center' }])).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(store.saveTemplates('', MODEL, [{ embedding: emb(1), pose: 'center' }])).rejects.toMatchObject({ code: 'invalid-input' });
    expect(await store.listUsers()).toEqual([]);
  });

  it('deletes a user with every template, and only that user', async () => {
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    await store.saveTemplates('bob', MODEL, [{ embedding: emb(2), pose: 'center' }]);
    expect(await store.deleteUser('ann')).toBe(true);
    expect(await store.deleteUser('ann')).toBe(false);
    expect(await store.templatesOf('ann', MODEL)).toEqual([]);
    expect((await store.listUsers()).map((u) => u.userId)).toEqual(['bob']);
    expect(await store.allTemplates(MODEL)).toHaveLength(1);
  });

  it('exports and imports everything; a malformed import changes nothing', async () => {
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }], { displayName: 'Ann' });
    const dump = JSON.parse(JSON.stringify(await store.exportAll()));
    expect(dump).toMatchObject({ format: 'face-login-templates', version: 1, users: [{ userId: 'ann', displayName: 'Ann' }] });
    const other = make('other');
    try {
      await expect(other.importAll({ ...dump, templates: [{ ...dump.templates[0], embedding: [1, 2] }] })).rejects.toMatchObject({ code: 'invalid-input' });
      expect(await other.listUsers()).toEqual([]);
      expect(await other.importAll(dump)).toEqual({ users: 1, templates: 1 });
      const t = await other.templatesOf('ann', MODEL);
      expect(Array.from(t[0]!.embedding)).toEqual(Array.from(emb(1)));
    } finally {
      other.close();
    }
  });

  it('fails with "disposed" after close', async () => {
    store.close();
    await expect(store.listUsers()).rejects.toMatchObject({ code: 'disposed' });
  });
});

describe('IdbTemplateStore schema migrations', () => {
  it('is at schema version 4', () => {
    expect(DB_VERSION).toBe(4);
  });

  it('upgrades a v1 database in place: keeps users and templates, backfills size, adds the per-model indexes', async () => {
    // A database as schema v1 left it: templates without `size`, indexed by user only.
    const v1 = await openDB('legacy', 1, {
      upgrade(db) {
        db.createObjectStore('users', { keyPath: 'userId' });
        db.createObjectStore('templates', { keyPath: 'id', autoIncrement: true }).createIndex('byUser', 'userId');
      },
    });
    await v1.put('users', { userId: 'ann', createdAt: 1, updatedAt: 1 });
    await v1.add('templates', { userId: 'ann', modelId: MODEL, embedding: emb(7), pose: 'center', createdAt: 1 });
    await v1.add('templates', { userId: 'ann', modelId: 'old-model', embedding: emb(8, 128), pose: 'center', createdAt: 1 });
    v1.close();

    const store = new IdbTemplateStore({ dbName: 'legacy' });
    const t = await store.templatesOf('ann', MODEL);
    expect(t).toHaveLength(1);
    expect(t[0]!.size).toBe(192);
    expect(Array.from(t[0]!.embedding)).toEqual(Array.from(emb(7)));
    expect((await store.allTemplates('old-model'))[0]!.size).toBe(128);
    expect((await store.listUsers()).map((u) => u.userId)).toEqual(['ann']);
    store.close();

    const raw = await openDB('legacy');
    expect(raw.version).toBe(4);
    expect([...raw.transaction('templates').store.indexNames].sort()).toEqual(['byModel', 'byUser', 'byUserModel']);
    // ...and v4 sealed both rows (nothing in the clear is left, the migration mark is gone).
    const rows = await raw.getAll('templates');
    expect(rows.map((r) => [r.embedding, r.iv instanceof Uint8Array, r.ciphertext instanceof ArrayBuffer])).toEqual([[undefined, true, true], [undefined, true, true]]);
    expect(await raw.getAll('meta')).toEqual([]);
    raw.close();
  });

  it('maps an unavailable IndexedDB to storage-unavailable', async () => {
    const saved = globalThis.indexedDB;
    // @ts-expect-error simulate a context without IndexedDB (blocked storage)
    delete globalThis.indexedDB;
    try {
      const store = new IdbTemplateStore({ dbName: 'x' });
      await expect(store.listUsers()).rejects.toMatchObject({ code: 'storage-unavailable' });
    } finally {
      globalThis.indexedDB = saved;
    }
  });

  it('maps a failing open (e.g. SecurityError in a sandboxed frame) to storage-unavailable', async () => {
    const saved = globalThis.indexedDB;
    globalThis.indexedDB = { open: () => { throw new DOMException('denied', 'SecurityError'); } } as unknown as IDBFactory;
    try {
      await expect(new IdbTemplateStore().listUsers()).rejects.toMatchObject({ code: 'storage-unavailable', message: expect.stringContaining('SecurityError') });
    } finally {
      globalThis.indexedDB = saved;
    }
  });
});

describe('IdbTemplateStore revision across tabs', () => {
  it("sees another connection's writes (another tab on the same database)", async () => {
    const a = new IdbTemplateStore({ dbName: 'shared' });
    const b = new IdbTemplateStore({ dbName: 'shared' });
    const before = await a.revision();
    await b.saveTemplates('cat', MODEL, [{ embedding: emb(4), pose: 'center' }]);
    expect(await a.revision()).not.toBe(before);
    a.close();
    b.close();
  });
});

describe('IdbTemplateStore seals templates at rest', () => {
  /** A v3 database as the code before sealing wrote it: plaintext Float32Array embeddings. */
  async function v3Database(name: string, embeddings: Float32Array[]): Promise<void> {
    const v3 = await openDB(name, 3, {
      upgrade(db) {
        db.createObjectStore('users', { keyPath: 'userId' });
        const t = db.createObjectStore('templates', { keyPath: 'id', autoIncrement: true });
        t.createIndex('byUser', 'userId');
        t.createIndex('byModel', 'modelId');
        t.createIndex('byUserModel', ['userId', 'modelId']);
        db.createObjectStore('outbox', { keyPath: 'userId' });
      },
    });
    await v3.put('users', { userId: 'ann', createdAt: 1, updatedAt: 1 });
    for (const e of embeddings) await v3.add('templates', { userId: 'ann', modelId: MODEL, size: e.length, embedding: e, pose: 'center', createdAt: 1 });
    v3.close();
  }

  it('writes no embedding in the clear, and the key cannot be exported', async () => {
    const store = new IdbTemplateStore({ dbName: 'fresh' });
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    store.close();
    const raw = await openDB('fresh');
    const [row] = await raw.getAll('templates');
    expect(row.embedding).toBeUndefined();
    expect(new Uint8Array(row.ciphertext).subarray(0, 16)).not.toEqual(new Uint8Array(emb(1).buffer).subarray(0, 16));
    const [k] = await raw.getAll('keys');
    expect(k.key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', k.key)).rejects.toThrow();
    raw.close();
  });

  it('a plaintext row planted after the migration, one sealed under another key, and one moved to another user are never returned', async () => {
    const unsealed: { userId: string; reason: string }[] = [];
    const store = new IdbTemplateStore({ dbName: 'planted', onUnsealed: (r) => unsealed.push(r) });
    await store.saveTemplates('ann', MODEL, [{ embedding: emb(1), pose: 'center' }]);
    await store.saveTemplates('bob', MODEL, [{ embedding: emb(2), pose: 'center' }]);
    const raw = await openDB('planted');
    const bobRow = (await raw.getAll('templates')).find((r) => r.userId === 'bob');
    await raw.add('templates', { userId: 'eve', modelId: MODEL, size: 192, embedding: emb(9), pose: 'center', createdAt: 2 });
    const foreign = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const aad = new TextEncoder().encode(JSON.stringify(['face-login-template/1', 'mallory', MODEL, 'center', 192]));
    const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, foreign, emb(8).buffer);
    await raw.add('templates', { userId: 'mallory', modelId: MODEL, size: 192, iv, ciphertext, pose: 'center', createdAt: 2 });
    // Bob's sealed embedding relabelled as Ann's: the AAD no longer matches.
    const { id: _bobId, ...moved } = bobRow;
    await raw.add('templates', { ...moved, userId: 'ann' });
    raw.close();

    expect((await store.templatesOf('ann', MODEL)).map((t) => Array.from(t.embedding))).toEqual([Array.from(emb(1))]);
    expect(await store.templatesOf('eve', MODEL)).toEqual([]);
    expect(await store.templatesOf('mallory', MODEL)).toEqual([]);
    expect((await store.allTemplates(MODEL)).map((t) => t.userId).sort()).toEqual(['ann', 'bob']);
    expect((await store.exportAll()).templates.map((t) => t.userId).sort()).toEqual(['ann', 'bob']);
    expect(unsealed.map((u) => [u.userId, u.reason]).sort()).toEqual([['ann', 'unauthenticated'], ['eve', 'plaintext'], ['mallory', 'unauthenticated']]);
    expect((await store.unsealedTemplates()).length).toBe(3);
    store.close();
  });

  it('seals a v3 database\'s plaintext rows after open, and an interrupted pass resumes on the next open', async () => {
    await v3Database('legacy3', [emb(1), emb(2), emb(3)]);
    // Interrupted: the upgrade ran (mark written) and one row was sealed, then the tab closed.
    // Simulated by failing the encryption of the second row once.
    const encrypt = crypto.subtle.encrypt.bind(crypto.subtle);
    let calls = 0;
    const spy = Object.defineProperty(crypto.subtle, 'encrypt', {
      configurable: true,
      value: (...a: Parameters<SubtleCrypto['encrypt']>) => (++calls === 2 ? Promise.reject(new DOMException('boom', 'OperationError')) : encrypt(...a)),
    });
    try {
      await expect(new IdbTemplateStore({ dbName: 'legacy3' }).listUsers()).rejects.toMatchObject({ code: 'storage-unavailable' });
    } finally {
      delete (spy as { encrypt?: unknown }).encrypt;
    }
    let raw = await openDB('legacy3');
    expect(raw.version).toBe(4);
    expect((await raw.getAll('templates')).map((r) => r.embedding === undefined)).toEqual([true, false, false]);
    expect(await raw.getAll('meta')).toHaveLength(1);
    raw.close();

    const store = new IdbTemplateStore({ dbName: 'legacy3', onUnsealed: () => expect.unreachable() });
    expect((await store.templatesOf('ann', MODEL)).map((t) => Array.from(t.embedding))).toEqual([emb(1), emb(2), emb(3)].map((e) => Array.from(e)));
    store.close();
    raw = await openDB('legacy3');
    expect((await raw.getAll('templates')).every((r) => r.embedding === undefined && r.ciphertext instanceof ArrayBuffer)).toBe(true);
    expect(await raw.getAll('meta')).toEqual([]);
    raw.close();
  });
});
