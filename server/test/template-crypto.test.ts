/**
 * Template protection (issue 11): templates and backups encrypted at rest under per-user data keys
 * wrapped by the configured KEKs (server/crypto/), on SQLite and PostgreSQL; the rotation command;
 * legacy plaintext databases; signed exports.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { ConfigError, configFromEnv, DEFAULT_MODEL_ID } from '../config.js';
import { verifyExportSignature, EXPORT_SIGNATURE_HEADER } from '../crypto/export-signature.js';
import { rotateTemplateKeys, templateKeyStatus } from '../crypto/rotation.js';
import { TemplateProtectionError } from '../crypto/template-cipher.js';
import { DevKeyFileKeyring, generateKeyEntry, parseTemplateKeys, randomTemplateKeyring, templateKeysFromEnv, type TemplateKeyring } from '../crypto/template-keys.js';
import { encodeBackupTemplates } from '../store/codec.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../store/migrations.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { ADMIN_KEY, backends, Client, Clock, createDb, fakeRig, JWKS, makeApp, makeSessionApp, MODEL, randomFace, rng, samePerson, SITE_KEY, SIZE, testConfig, type Backend, type TestDb } from './helpers.js';

/** The unit float32 vector the server stores for a face (what a leak of plaintext would contain). */
function unitBytes(face: readonly number[]): Buffer {
  const n = Math.sqrt(face.reduce((s, x) => s + x * x, 0));
  return Buffer.from(Float32Array.from(face, (x) => x / n).buffer);
}

function unit(face: readonly number[]): Float32Array {
  return new Float32Array(unitBytes(face).buffer.slice(0));
}

/** Raw SQL on a test database ($1 placeholders on both). */
interface Raw {
  all(sql: string, params?: unknown[]): Promise<Record<string, any>[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function raw(tdb: TestDb): Promise<Raw> {
  if (tdb.db.kind === 'sqlite') {
    const db = new Database(tdb.db.path);
    const q = (s: string) => s.replace(/\$(\d+)/g, '@p$1');
    const named = (p: unknown[]) => (p.length ? [Object.fromEntries(p.map((v, i) => [`p${i + 1}`, v]))] : []);
    return {
      all: async (s, p = []) => db.prepare(q(s)).all(...named(p)) as Record<string, any>[],
      run: async (s, p = []) => void (p.length ? db.prepare(q(s)).run(...named(p)) : db.exec(s)),
      close: async () => void db.close(),
    };
  }
  const c = new pg.Client({ connectionString: tdb.db.url, options: `-c search_path=${tdb.db.schema}` });
  await c.connect();
  return { all: async (s, p = []) => (await c.query(s, p)).rows, run: async (s, p = []) => void (await c.query(s, p)), close: () => c.end() };
}

/** Every byte the database holds for the templates / backups: the SQLite file and its WAL, or the PG rows. */
async function storedBytes(tdb: TestDb): Promise<Buffer> {
  if (tdb.db.kind === 'sqlite') {
    return Buffer.concat([tdb.db.path, `${tdb.db.path}-wal`].filter(existsSync).map((p) => readFileSync(p)));
  }
  const r = await raw(tdb);
  try {
    const rows = [...(await r.all('SELECT embedding AS b FROM templates')), ...(await r.all('SELECT convert_to(templates, \'UTF8\') AS b FROM backups'))];
    return Buffer.concat(rows.map((x) => x.b as Buffer));
  } finally {
    await r.close();
  }
}

/** Whether any template's plaintext (raw float32 bytes, or the base64 a plaintext backup holds) is in these bytes. */
function leaks(bytes: Buffer, faces: readonly (readonly number[])[]): boolean {
  return faces.some((f) => {
    const b = unitBytes(f);
    return bytes.includes(b.subarray(0, 32)) || bytes.includes(Buffer.from(b.toString('base64').slice(0, 40)));
  });
}

/** A database as today's code (schema v4, before encryption) left it: plaintext templates and backups. */
async function legacyDatabase(tdb: TestDb, users: readonly { userId: string; faces: readonly (readonly number[])[] }[], now: number): Promise<void> {
  const r = await raw(tdb);
  try {
    await r.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    for (const m of (tdb.db.kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).filter((x) => x.version <= 4)) {
      await r.run(m.sql);
      await r.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, now]);
    }
    for (const u of users) {
      await r.run('INSERT INTO users (user_id, created_at, updated_at) VALUES ($1, $2, $2)', [u.userId, now]);
      for (const f of u.faces) {
        await r.run('INSERT INTO templates (user_id, model_id, pose, embedding, created_at) VALUES ($1, $2, $3, $4, $5)', [u.userId, MODEL, 'center', unitBytes(f), now]);
      }
      const backup = encodeBackupTemplates(u.faces.map((f) => ({ pose: 'center' as const, createdAt: now, embedding: unit(f) })));
      await r.run('INSERT INTO backups (user_id, model_id, templates, updated_at) VALUES ($1, $2, $3, $4)', [u.userId, MODEL, backup, now]);
    }
  } finally {
    await r.close();
  }
}

for (const backend of backends() as Backend[]) {
  describe(`template protection on ${backend}`, () => {
    const open: { close(): Promise<unknown> }[] = [];
    const dbs: TestDb[] = [];
    afterEach(async () => {
      for (const x of open.splice(0).reverse()) await x.close();
      for (const d of dbs.splice(0)) await d.drop();
    });
    async function fresh(): Promise<TestDb> {
      const d = await createDb(backend);
      dbs.push(d);
      return d;
    }
    async function app(tdb: TestDb, clock: Clock, templateKeys: TemplateKeyring) {
      const a = await makeApp(tdb.db, clock, { templateKeys });
      open.push(a);
      return { app: a, client: new Client(a) };
    }
    async function store(tdb: TestDb, keys: TemplateKeyring): Promise<Store> {
      const s = await openStore(tdb.db, keys);
      await s.migrate();
      open.push(s);
      return s;
    }

    it('stores no plaintext template or backup bytes; verify, identify, restore and export still work', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const r = rng(11);
      const keys = randomTemplateKeyring();
      const { client } = await app(tdb, clock, keys);
      const alice = Array.from({ length: 5 }, () => randomFace(r));
      const bob = randomFace(r);
      expect((await client.enroll('alice', alice)).status).toBe(201);
      expect((await client.enroll('bob', [bob])).status).toBe(201);
      const backup = { nonce: await client.nonce('backup', 'bob'), modelId: MODEL, templates: [{ embedding: bob, pose: 'center', createdAt: clock.t }] };
      expect((await client.req('PUT', '/v1/backup/bob', backup, { 'x-face-login-admin-key': ADMIN_KEY })).status).toBe(204);

      expect(leaks(await storedBytes(tdb), [...alice, bob])).toBe(false);
      const x = await raw(tdb);
      try {
        const blobs = await x.all('SELECT embedding FROM templates');
        expect(blobs.map((b) => (b.embedding as Buffer).length)).toEqual(Array(6).fill(1 + 12 + SIZE * 4 + 16));
        expect(String((await x.all('SELECT templates FROM backups'))[0]!.templates)).toMatch(/^v1:/);
        const k = await x.all('SELECT user_id, kek_id FROM user_keys ORDER BY user_id');
        expect(k).toEqual([{ user_id: 'alice', kek_id: keys.current().id }, { user_id: 'bob', kek_id: keys.current().id }]);
      } finally {
        await x.close();
      }

      expect((await client.verify('alice', samePerson(alice[2]!, r))).body.decision).toBe('accept');
      expect((await client.verify('alice', bob)).body.decision).toBe('reject');
      expect((await client.identify(samePerson(bob, r))).body).toMatchObject({ decision: 'accept', userId: 'bob' });
      const restored = await client.req('POST', '/v1/restore/bob', { nonce: await client.nonce('restore', 'bob') }, { 'x-face-login-admin-key': ADMIN_KEY });
      expect(restored.status).toBe(200);
      expect(Buffer.from(Float32Array.from(restored.body.templates[0].embedding as number[]).buffer)).toEqual(unitBytes(bob));

      // A second app on the same database and keys (another instance, or a restart) reads everything.
      const second = await app(tdb, clock, keys);
      expect((await second.client.identify(samePerson(alice[0]!, r))).body).toMatchObject({ decision: 'accept', userId: 'alice' });
    });

    it('a template moved to another user does not decrypt: verify fails closed, the gallery leaves it out', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const r = rng(12);
      const keys = randomTemplateKeyring();
      const { client } = await app(tdb, clock, keys);
      const alice = randomFace(r);
      const mallory = randomFace(r);
      await client.enroll('alice', [alice]);
      await client.enroll('mallory', [mallory]);
      const x = await raw(tdb);
      try {
        const m = (await x.all("SELECT embedding FROM templates WHERE user_id = 'mallory'"))[0]!.embedding as Buffer;
        await x.run("UPDATE templates SET embedding = $1 WHERE user_id = 'alice'", [m]); // mallory's own template, now filed under alice
      } finally {
        await x.close();
      }
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const s = await store(tdb, keys);
        await expect(s.templatesOf('alice', MODEL)).rejects.toMatchObject({ name: 'TemplateProtectionError', reason: 'unreadable', userId: 'alice' });
        const gallery = await s.scanTemplates(0, 100);
        expect(gallery.map((g) => g.userId)).toEqual(['mallory']);

        const second = await app(tdb, clock, keys); // loads its gallery: skips alice's row, keeps serving
        const v = await second.client.verify('alice', mallory);
        expect(v.status).toBe(500);
        expect(v.body.error.code).toBe('internal');
        expect((await second.client.identify(mallory)).body).toMatchObject({ decision: 'accept', userId: 'mallory' });
        await new Promise((res) => setImmediate(res));
        expect(warnings.some((w) => w.name === 'TemplateProtectionWarning' && /alice/.test(w.message))).toBe(true);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('a wrong or missing key stops the start with a clear error', async () => {
      const tdb = await fresh();
      const keys = parseTemplateKeys(`k1:${Buffer.alloc(32, 1).toString('base64')}`, 'test');
      const s = await store(tdb, keys);
      await s.enroll({ userId: 'alice', modelId: MODEL, templates: [{ embedding: unit(randomFace(rng(1))), pose: 'center' }], replace: true, now: 1, expectSeq: await s.changeSeq(), maxTemplates: 20 });
      await s.close();
      const sameIdOtherKey = parseTemplateKeys(`k1:${Buffer.alloc(32, 2).toString('base64')}`, 'test');
      const otherId = parseTemplateKeys(`k2:${Buffer.alloc(32, 1).toString('base64')}`, 'FACE_LOGIN_TEMPLATE_KEYS');
      for (const [k, message] of [
        [sameIdOtherKey, /does not unwrap under template key "k1"/],
        [otherId, /wrapped under template key "k1", which FACE_LOGIN_TEMPLATE_KEYS does not have \(it has: k2\)/],
      ] as const) {
        const attempt = (async () => {
          const t = await openStore(tdb.db, k);
          try {
            await t.migrate();
          } finally {
            await t.close();
          }
        })();
        await expect(attempt).rejects.toThrow(message);
        await expect(buildApp(testConfig(tdb.db, new Clock(), { templateKeys: k }), { logger: false })).rejects.toBeInstanceOf(TemplateProtectionError);
      }
      // A store opened without keys (a read-only tool) refuses to read templates.
      const bare = await openStore(tdb.db, null);
      open.push(bare);
      await bare.migrate();
      await expect(bare.templatesOf('alice', MODEL)).rejects.toMatchObject({ reason: 'no-keys' });
    });

    it('rotation re-wraps every data key under the new key; the old key can then be removed; a running server keeps working', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const r = rng(13);
      const oldKey = `old:${Buffer.alloc(32, 7).toString('base64')}`;
      const newKey = `new:${Buffer.alloc(32, 9).toString('base64')}`;
      const faces = Array.from({ length: 7 }, () => randomFace(r));
      // Step 1 of a rotation: every instance gets the new key as a decrypt-only key (old,new).
      const running = await app(tdb, clock, parseTemplateKeys(`${oldKey},${newKey}`, 'old,new'));
      for (const [i, f] of faces.entries()) expect((await running.client.enroll(`u${i}`, [f])).status).toBe(201);

      const both = parseTemplateKeys(`${newKey},${oldKey}`, 'new,old');
      const report = await rotateTemplateKeys(tdb.db, both, { batch: 3 });
      expect(report).toMatchObject({ rewrapped: 7, templatesEncrypted: 0, backupsEncrypted: 0, dataKeysCreated: 0 });
      expect(report.after.dataKeys).toEqual({ new: 7 });
      expect((await rotateTemplateKeys(tdb.db, both)).rewrapped).toBe(0); // idempotent

      // A server started before the rotation still verifies (its data keys are unchanged, re-wrapped).
      expect((await running.client.verify('u3', samePerson(faces[3]!, r))).body.decision).toBe('accept');
      // Without the old key: everything reads.
      const onlyNew = await app(tdb, clock, parseTemplateKeys(newKey, 'new'));
      for (const [i, f] of faces.entries()) expect((await onlyNew.client.verify(`u${i}`, samePerson(f, r))).body.decision).toBe('accept');
      await expect(templateKeyStatus(tdb.db, parseTemplateKeys(oldKey, 'old'))).rejects.toThrow(/template key "new"/);
    });

    it('a database written before encryption opens and verifies; rotation encrypts every row, then plaintext is refused', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const r = rng(14);
      const users = Array.from({ length: 3 }, (_, i) => ({ userId: `legacy${i}`, faces: Array.from({ length: 3 }, () => randomFace(r)) }));
      await legacyDatabase(tdb, users, clock.t);
      const all = users.flatMap((u) => u.faces);
      expect(leaks(await storedBytes(tdb), all)).toBe(true); // the check can see plaintext

      const keys = randomTemplateKeyring();
      const running = await app(tdb, clock, keys);
      expect((await running.client.verify('legacy1', samePerson(users[1]!.faces[2]!, r))).body.decision).toBe('accept');
      expect((await running.client.identify(samePerson(users[2]!.faces[0]!, r))).body).toMatchObject({ decision: 'accept', userId: 'legacy2' });
      const before = await templateKeyStatus(tdb.db, keys);
      expect(before).toMatchObject({ plaintextTemplates: 9, plaintextBackups: 3, legacyPlaintextReadable: true, dataKeys: {} });

      const report = await rotateTemplateKeys(tdb.db, keys, { batch: 2, vacuum: true });
      expect(report).toMatchObject({ templatesEncrypted: 9, backupsEncrypted: 3, dataKeysCreated: 3, rewrapped: 0 });
      expect(report.after).toMatchObject({ plaintextTemplates: 0, plaintextBackups: 0, encryptedTemplates: 9, encryptedBackups: 3, legacyPlaintextReadable: false });
      expect(await rotateTemplateKeys(tdb.db, keys)).toMatchObject({ templatesEncrypted: 0, backupsEncrypted: 0, dataKeysCreated: 0 });
      expect(leaks(await storedBytes(tdb), all)).toBe(false);

      // The server that ran through the rotation, and a fresh one, still verify and restore.
      expect((await running.client.verify('legacy0', samePerson(users[0]!.faces[1]!, r))).body.decision).toBe('accept');
      const after = await app(tdb, clock, keys);
      expect((await after.client.verify('legacy2', samePerson(users[2]!.faces[2]!, r))).body.decision).toBe('accept');
      const restored = await after.client.req('POST', '/v1/restore/legacy1', { nonce: await after.client.nonce('restore', 'legacy1') }, { 'x-face-login-admin-key': ADMIN_KEY });
      expect(restored.body.templates).toHaveLength(3);

      // A plaintext row slipped in now (someone with write access to the database) is refused, never matched.
      const x = await raw(tdb);
      await x.run('INSERT INTO templates (user_id, model_id, pose, embedding, created_at) VALUES ($1, $2, $3, $4, $5)', ['legacy0', MODEL, 'center', unitBytes(users[1]!.faces[0]!), clock.t]);
      await x.close();
      const s = await store(tdb, keys);
      await expect(s.templatesOf('legacy0', MODEL)).rejects.toMatchObject({ reason: 'plaintext-refused' });
    });

    it('deleting a user deletes her data key: her rows copied back from an old dump no longer decrypt', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const r = rng(15);
      const keys = randomTemplateKeyring();
      const { client } = await app(tdb, clock, keys);
      const alice = randomFace(r);
      await client.enroll('alice', [alice]);
      const x = await raw(tdb);
      try {
        const dump = (await x.all("SELECT user_id, model_id, pose, embedding, created_at FROM templates WHERE user_id = 'alice'"))[0]!;
        expect(await x.all("SELECT user_id FROM user_keys WHERE user_id = 'alice'")).toHaveLength(1);
        expect((await client.req('DELETE', '/v1/users/alice', undefined, { 'x-face-login-nonce': await client.nonce('delete', 'alice'), 'x-face-login-admin-key': ADMIN_KEY })).status).toBe(204);
        expect(await x.all('SELECT user_id FROM user_keys')).toHaveLength(0);
        await x.run('INSERT INTO users (user_id, created_at, updated_at) VALUES ($1, $2, $2)', ['alice', clock.t]);
        await x.run('INSERT INTO templates (user_id, model_id, pose, embedding, created_at) VALUES ($1, $2, $3, $4, $5)', [dump.user_id, dump.model_id, dump.pose, dump.embedding, dump.created_at]);
      } finally {
        await x.close();
      }
      const s = await store(tdb, keys);
      await expect(s.templatesOf('alice', MODEL)).rejects.toMatchObject({ reason: 'no-data-key' });
    });

    it('a site export carries an Ed25519 signature of its exact body', async () => {
      const tdb = await fresh();
      const clock = new Clock();
      const rig = fakeRig(rng(16));
      const a = await makeSessionApp(tdb.db, clock, rig.examiner, { templateKeys: randomTemplateKeyring() });
      open.push(a);
      await a.store.enroll({ userId: 'carol', modelId: DEFAULT_MODEL_ID, templates: [{ embedding: Float32Array.from(rig.examiner.face('carol')), pose: 'center' }], replace: true, now: clock.t, expectSeq: await a.store.changeSeq(), maxTemplates: 20 });
      const res = await a.inject({ method: 'GET', url: '/v1/site/users/carol/export', headers: { 'x-face-login-site-key': SITE_KEY } });
      expect(res.statusCode).toBe(200);
      const jws = res.headers[EXPORT_SIGNATURE_HEADER] as string;
      expect(jws).toMatch(/^[\w-]+\.\.[\w-]+$/);
      expect(verifyExportSignature(JWKS, res.body, jws)).toMatchObject({ alg: 'EdDSA', kid: JWKS.keys[0]!.kid, typ: 'face-login-export+jws' });
      expect(verifyExportSignature(JWKS, res.body.replace('carol', 'carot'), jws)).toBeNull();
      expect(JSON.parse(res.body).templates[0].embedding).toHaveLength(SIZE);
    });
  });
}

describe('template key configuration', () => {
  it('parses id:base64 lists (current first), inline or from a file, and refuses bad ones by name', () => {
    const a = generateKeyEntry();
    const b = generateKeyEntry(new Date(0));
    const ring = parseTemplateKeys(`${a}, ${b}`, 'x');
    expect(ring.ids()).toEqual([a.split(':')[0], b.split(':')[0]]);
    expect(ring.current().id).toBe(a.split(':')[0]);
    const file = join(createTmp(), 'keys');
    writeFileSync(file, `# comment\n${b}\n${a}\n`);
    expect(configFromEnv({ FACE_LOGIN_TEMPLATE_KEYS: file }).config.templateKeys.current().id).toBe(b.split(':')[0]);
    expect(configFromEnv({ FACE_LOGIN_TEMPLATE_KEYS: a }).config.templateKeys.current().id).toBe(a.split(':')[0]);
    for (const bad of ['k1:short', `k1:${Buffer.alloc(16).toString('base64')}`, `bad id:${Buffer.alloc(32).toString('base64')}`, `${a},${a}`, 'no-such-file']) {
      expect(() => configFromEnv({ FACE_LOGIN_TEMPLATE_KEYS: bad }), bad).toThrow(ConfigError);
      expect(() => configFromEnv({ FACE_LOGIN_TEMPLATE_KEYS: bad }), bad).toThrow(/FACE_LOGIN_TEMPLATE_KEYS/);
    }
  });

  it('production needs FACE_LOGIN_TEMPLATE_KEYS; development gets a key file next to the database, created once with mode 0600', () => {
    expect(() => templateKeysFromEnv(undefined, { kind: 'sqlite', path: '/x/db.sqlite' }, true, [])).toThrow(/FACE_LOGIN_TEMPLATE_KEYS is required when NODE_ENV=production/);
    const dir = createTmp();
    const warnings: string[] = [];
    const ring = templateKeysFromEnv(undefined, { kind: 'sqlite', path: join(dir, 'face-login.sqlite') }, false, warnings);
    expect(ring).toBeInstanceOf(DevKeyFileKeyring);
    expect(warnings.join()).toContain(join(dir, 'template-keys'));
    expect(existsSync(join(dir, 'template-keys'))).toBe(false); // reading the configuration writes nothing
    const id = ring.current().id;
    expect(statSync(join(dir, 'template-keys')).mode & 0o777).toBe(0o600);
    expect(new DevKeyFileKeyring(join(dir, 'template-keys')).current().id).toBe(id); // the next start reads the same key
  });
});

function createTmp(): string {
  return mkdtempSync(join(tmpdir(), 'face-login-keys-'));
}
