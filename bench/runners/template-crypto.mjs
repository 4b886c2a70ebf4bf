/**
 * The cost of template encryption per verify (issue 11, "Template protection"): in process, the
 * same run, for a user with 10 templates, an encrypted store against a plaintext one (a database as
 * written before schema v5: legacy rows, still read), on SQLite and (with DATABASE_URL) PostgreSQL.
 *
 *   npx tsx bench/runners/template-crypto.mjs [--users 300] [--calls 3000]
 *
 * Measures, per backend: `templatesOf` (the read + decode / decrypt a verify does, inside
 * verifyAttempt) with warm data-key cache, the same with a cold cache (one unwrap more), the pure
 * decryption of 10 templates, and the gallery load (scanTemplates) per template. Writes
 * bench/results/template-crypto.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../server/store/open.ts';
import { SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS } from '../../server/store/migrations.ts';
import { randomTemplateKeyring } from '../../server/crypto/template-keys.ts';
import { TemplateCipher } from '../../server/crypto/template-cipher.ts';
import { DEFAULT_MODEL_ID } from '../../server/config.ts';
import { createDb } from '../../server/test/helpers.ts';
import { gauss, rng } from '../../scripts/lib/seeded-random.mjs';

const { values: args } = parseArgs({ options: { users: { type: 'string', default: '300' }, calls: { type: 'string', default: '3000' } } });
const USERS = Number(args.users);
const CALLS = Number(args.calls);
const PER_USER = 10;
const SIZE = 192;
const r = rng(2024);
const unit = () => {
  const v = Float32Array.from({ length: SIZE }, () => gauss(r));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const faces = Array.from({ length: USERS }, () => Array.from({ length: PER_USER }, unit));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function p99(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.99)];
}

/** A database as today's code (schema v4) leaves it: plaintext float32 rows. */
async function writeLegacy(t) {
  const migs = (t.db.kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).filter((m) => m.version <= 4);
  const rows = [];
  for (let u = 0; u < USERS; u++) for (const f of faces[u]) rows.push([`u${u}`, Buffer.from(f.buffer)]);
  if (t.db.kind === 'sqlite') {
    const db = new Database(t.db.path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of migs) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.version, Date.now());
    }
    const ins = db.prepare("INSERT INTO templates (user_id, model_id, pose, embedding, created_at) VALUES (?, ?, 'center', ?, 0)");
    db.transaction(() => {
      for (let u = 0; u < USERS; u++) db.prepare('INSERT INTO users VALUES (?, 0, 0)').run(`u${u}`);
      for (const [u, b] of rows) ins.run(u, DEFAULT_MODEL_ID, b);
    })();
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: t.db.url, options: `-c search_path=${t.db.schema}` });
  await c.connect();
  await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
  for (const m of migs) {
    await c.query(m.sql);
    await c.query('INSERT INTO schema_migrations VALUES ($1, $2)', [m.version, Date.now()]);
  }
  await c.query('INSERT INTO users SELECT u, 0, 0 FROM unnest($1::text[]) u', [faces.map((_, u) => `u${u}`)]);
  await c.query("INSERT INTO templates (user_id, model_id, pose, embedding, created_at) SELECT u, $3, 'center', e, 0 FROM unnest($1::text[], $2::bytea[]) x(u, e)", [
    rows.map((x) => x[0]),
    rows.map((x) => x[1]),
    DEFAULT_MODEL_ID,
  ]);
  await c.end();
}

async function measure(store, label, { coldCache = false } = {}) {
  const times = [];
  for (let i = 0; i < CALLS + 200; i++) {
    const u = `u${Math.floor(r() * USERS)}`;
    if (coldCache) store.cipher.forget(u);
    const t0 = performance.now();
    const ts = await store.templatesOf(u, DEFAULT_MODEL_ID);
    const dt = performance.now() - t0;
    if (ts.length !== PER_USER) throw new Error(`${label}: ${ts.length} templates`);
    if (i >= 200) times.push(dt * 1000); // µs, after a warm-up
  }
  return { median: median(times), p99: p99(times) };
}

async function galleryLoad(store) {
  const t0 = performance.now();
  let n = 0;
  for (let after = 0; ; ) {
    const page = await store.scanTemplates(after, 1000);
    n += page.length;
    if (page.length < 1000) break;
    after = page[page.length - 1].id;
  }
  return ((performance.now() - t0) * 1000) / n;
}

const backends = process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const results = [];
for (const kind of backends) {
  const keys = randomTemplateKeyring();
  const enc = await createDb(kind);
  const encStore = await openStore(enc.db, keys);
  await encStore.migrate();
  for (let u = 0; u < USERS; u++) {
    await encStore.enroll({ userId: `u${u}`, modelId: DEFAULT_MODEL_ID, templates: faces[u].map((embedding) => ({ embedding, pose: 'center' })), replace: true, now: 0, expectSeq: await encStore.changeSeq(), maxTemplates: 20 });
  }
  const plain = await createDb(kind);
  await writeLegacy(plain);
  const plainStore = await openStore(plain.db, keys);
  await plainStore.migrate();

  // Interleave the two so that load on the shared machine hits both alike.
  const rounds = { plain: [], encrypted: [], cold: [] };
  for (let round = 0; round < 3; round++) {
    rounds.plain.push(await measure(plainStore, 'plain'));
    rounds.encrypted.push(await measure(encStore, 'encrypted'));
    rounds.cold.push(await measure(encStore, 'cold', { coldCache: true }));
  }
  const pick = (xs) => ({ median: median(xs.map((x) => x.median)), p99: median(xs.map((x) => x.p99)) });
  const galleryPlain = median([await galleryLoad(plainStore), await galleryLoad(plainStore), await galleryLoad(plainStore)]);
  const galleryEnc = median([await galleryLoad(encStore), await galleryLoad(encStore), await galleryLoad(encStore)]);
  results.push({ backend: kind, plaintext: pick(rounds.plain), encrypted: pick(rounds.encrypted), encryptedColdKey: pick(rounds.cold), galleryUsPerTemplate: { plaintext: galleryPlain, encrypted: galleryEnc } });
  await encStore.close();
  await plainStore.close();
  await enc.drop();
  await plain.drop();
}

// The cryptography alone: decrypting one user's 10 templates with her data key cached / unwrapped.
const cipher = new TemplateCipher(randomTemplateKeyring());
const dk = cipher.newDataKey('alice');
const blobs = faces[0].map((f) => cipher.sealTemplate(dk, DEFAULT_MODEL_ID, f));
const pure = [];
const pureCold = [];
for (let i = 0; i < CALLS + 500; i++) {
  const t0 = performance.now();
  cipher.openTemplates('alice', DEFAULT_MODEL_ID, blobs, dk);
  const t1 = performance.now();
  cipher.forget('alice');
  cipher.openTemplates('alice', DEFAULT_MODEL_ID, blobs, { userId: 'alice', kekId: dk.kekId, wrapped: dk.wrapped });
  const t2 = performance.now();
  if (i >= 500) {
    pure.push((t1 - t0) * 1000);
    pureCold.push((t2 - t1) * 1000);
  }
}
const crypto = { decrypt10Warm: median(pure), decrypt10Cold: median(pureCold) };

const env = { date: new Date().toISOString(), node: process.version, cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, memoryGiB: Math.round(totalmem() / 2 ** 30), users: USERS, templatesPerUser: PER_USER, calls: CALLS };
const doc = { env, results, crypto };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/template-crypto.json', `${JSON.stringify(doc, null, 2)}\n`);
const f = (x) => x.toFixed(1);
const md = [
  '# Template encryption: cost per verify',
  '',
  `\`npx tsx bench/runners/template-crypto.mjs\` on ${env.date}: Node ${env.node}, ${env.cpus}, ${env.memoryGiB} GiB. ` +
    `${USERS} users x ${PER_USER} templates (192-d), ${CALLS} \`templatesOf\` calls per measurement (random users, after 200 warm-up calls), ` +
    'median of 3 interleaved rounds; times in microseconds, in process. `templatesOf` is the read a verify does inside `verifyAttempt` ' +
    '(the rest of a verify — nonce, lockout, audit row — is the same with and without encryption).',
  '',
  '| backend | plaintext p50 | encrypted p50 (data key cached) | + cost | encrypted, cold data key p50 | plaintext p99 | encrypted p99 | gallery load per template, plaintext / encrypted |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map(
    (x) =>
      `| ${x.backend} | ${f(x.plaintext.median)} | ${f(x.encrypted.median)} | ${f(x.encrypted.median - x.plaintext.median)} | ${f(x.encryptedColdKey.median)} | ${f(x.plaintext.p99)} | ${f(x.encrypted.p99)} | ${f(x.galleryUsPerTemplate.plaintext)} / ${f(x.galleryUsPerTemplate.encrypted)} |`,
  ),
  '',
  `The cryptography alone (AES-256-GCM, node:crypto): decrypting one user's 10 templates ${f(crypto.decrypt10Warm)} µs with her data key cached, ` +
    `${f(crypto.decrypt10Cold)} µs with one unwrap first. PostgreSQL with a cold data key makes one more round trip (the user_keys row).`,
  '',
];
writeFileSync('bench/results/template-crypto.md', md.join('\n'));
console.log(md.join('\n'));
process.exit(0);
