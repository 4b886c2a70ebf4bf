/**
 * 1:N on PostgreSQL + pgvector (issue 14): HNSW build time, recall of the index against the exact scan
 * (rank-1 and the open-set decision), and the latency / throughput of the store's search (the HNSW
 * candidates re-ranked exactly: PostgresStore.searchGallery, what POST /v1/identify calls on PostgreSQL).
 *
 *   DATABASE_URL=... npx tsx bench/runners/pgvector-1n.mjs [--sizes 10000,100000] [--probes 2000]
 *       [--grid 16:40,32:80,64:160] [--seconds 8] [--concurrency 8]
 *       [--hnsw-m 16] [--hnsw-ef-construction 64] [--name pgvector-1n]
 *
 * Synthetic templates (no real faces at this scale): unit vectors of an anisotropic Gaussian (variance
 * exp(-i / tau) along dimension i, tau chosen so that two random templates have the cosine spread of
 * real impostor pairs: LFW impostor mean 0.008, p1 -0.317, p99 0.344, i.e. sd ~0.148, from
 * bench/results/lfw-ours-s1.00.json.gz; isotropic random 192-d vectors would have sd 0.072, an easier
 * index), one template per user. Genuine probes: an enrolled template plus isotropic noise (sigma
 * 0.05-0.09 per dimension: cosine ~0.65-0.85, around LFW's genuine mean 0.72); impostor probes: fresh
 * draws. The exact reference is the server's own exact scan (server/index/gallery.ts ModelGallery),
 * the decision is the server's rule (identifyThreshold for the gallery size, best template per user,
 * the ambiguity rule).
 *
 * Per size: a fresh schema, templates seeded through the store (encrypted, with their transformed
 * vectors) with the HNSW index dropped, then the index built once (timed, maintenance_work_mem 2GB),
 * then for each K:ef_search pair of the grid: every probe through the store (sequential: p50 / p99)
 * and `--concurrency` concurrent searches for `--seconds` (req/s).
 * --hnsw-m / --hnsw-ef-construction build the index with other parameters than the migration's
 * (HNSW_M, HNSW_EF_CONSTRUCTION); --name picks the results' file name (default pgvector-1n).
 * Writes bench/results/server/<name>.json and .md.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openStore } from '../../server/store/open.ts';
import { ModelGallery } from '../../server/index/gallery.ts';
import { DEFAULT_MODEL_ID, DEFAULT_MODELS } from '../../server/config.ts';
import { identifyThreshold } from '../../src/core/calibration.ts';
import { HNSW_EF_CONSTRUCTION, HNSW_M } from '../../server/store/migrations.ts';
import { createDb, rng } from '../../server/test/helpers.ts';
import { gauss } from '../../scripts/lib/seeded-random.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench/results/server');
const D = 192;
const MODEL = DEFAULT_MODEL_ID;
const spec = DEFAULT_MODELS[MODEL];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    probes: { type: 'string', default: '2000' },
    grid: { type: 'string', default: '16:40,32:80,64:160' },
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '8' },
    out: { type: 'string', default: OUT },
    'hnsw-m': { type: 'string', default: String(HNSW_M) },
    'hnsw-ef-construction': { type: 'string', default: String(HNSW_EF_CONSTRUCTION) },
    name: { type: 'string', default: 'pgvector-1n' },
  },
});
if (!process.env.DATABASE_URL) throw new Error('pgvector-1n needs DATABASE_URL (PostgreSQL with the vector extension)');
const sizes = values.sizes.split(',').map(Number);
const probesN = Number(values.probes);
const grid = values.grid.split(',').map((s) => s.split(':').map(Number));
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const hnswM = Number(values['hnsw-m']);
const hnswEfc = Number(values['hnsw-ef-construction']);
if (!Number.isInteger(hnswM) || hnswM < 2 || hnswM > 100) throw new RangeError(`--hnsw-m must be an integer in 2..100 (pgvector's range), got ${values['hnsw-m']}`);
if (!Number.isInteger(hnswEfc) || hnswEfc < 2 * hnswM || hnswEfc > 1000) throw new RangeError(`--hnsw-ef-construction must be an integer in 2m..1000, got ${values['hnsw-ef-construction']}`);
if (!/^[\w.-]+$/.test(values.name)) throw new RangeError(`--name must be a plain file name, got ${values.name}`);

// ---- synthetic templates ----------------------------------------------------------------------
const TAU = 23;
const sdev = Float64Array.from({ length: D }, (_, i) => Math.sqrt(Math.exp(-i / TAU)));
const unit = (v) => {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return Float32Array.from(v, (x) => x / n);
};
const draw = (r) => unit(Array.from({ length: D }, (_, i) => sdev[i] * gauss(r)));
const noisy = (t, r, sigma) => unit(Array.from(t, (x) => x + sigma * gauss(r)));
const dot = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, mean: +mean.toFixed(4), sd: +sd.toFixed(4), p1: +q(0.01).toFixed(4), p99: +q(0.99).toFixed(4) };
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2);
};

const rc = rng(7);
const calib = {
  impostor: stats(Array.from({ length: 20000 }, () => dot(draw(rc), draw(rc)))),
  genuine: stats(Array.from({ length: 5000 }, () => {
    const t = draw(rc);
    return dot(t, noisy(t, rc, 0.05 + 0.04 * rc()));
  })),
  lfwImpostor: { mean: 0.0078, p1: -0.3167, p99: 0.344, source: 'bench/results/lfw-ours-s1.00.json.gz scoreStats.impostor' },
  lfwGenuine: { mean: 0.7191, median: 0.7378, source: 'bench/results/lfw-ours-s1.00.json.gz scoreStats.genuine' },
};
console.log('synthetic cosine distributions', JSON.stringify(calib));

function decide(found, templates) {
  const t = identifyThreshold(templates, { floor: spec.threshold, tail: spec.impostorTail });
  if (!found.best || found.best.score < t) return 'reject';
  if (found.runnerUp && found.runnerUp.score >= t) return 'ambiguous';
  return `accept:${found.best.userId}`;
}

async function sql(db, text, params = []) {
  const c = new pg.Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

async function runSize(n) {
  const r = rng(1000 + n);
  const tdb = await createDb('postgres');
  const db = tdb.db;
  const result = { size: n };
  try {
    let store = await openStore({ ...db, vectorIndex: 'require' });
    await store.migrate();
    const migrated = (await sql(db, "SELECT pg_get_indexdef('template_vectors_hnsw'::regclass) AS d"))[0].d;
    const indexDef = migrated.replace(/WITH \(m='?\d+'?, ef_construction='?\d+'?\)/, `WITH (m='${hnswM}', ef_construction='${hnswEfc}')`);
    if (!indexDef.includes(`m='${hnswM}'`)) throw new Error(`could not set the HNSW parameters in: ${migrated}`);
    await sql(db, 'DROP INDEX template_vectors_hnsw');
    const exact = new ModelGallery(D);
    const templates = [];
    let t0 = performance.now();
    const CHUNK = 10_000;
    for (let i = 0; i < n; i += CHUNK) {
      const rows = [];
      for (let j = i; j < Math.min(n, i + CHUNK); j++) {
        const e = draw(r);
        templates.push(e);
        exact.setUser(`u${j}`, [e]);
        rows.push({ userId: `u${j}`, modelId: MODEL, embedding: e });
      }
      await store.seedTemplates(rows, Date.now());
    }
    result.seedS = +((performance.now() - t0) / 1000).toFixed(1);
    console.log(`[${n}] seeded in ${result.seedS} s (encrypted templates + transformed vectors)`);
    t0 = performance.now();
    const c = new pg.Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
    await c.connect();
    await c.query("SET maintenance_work_mem = '2GB'");
    await c.query('SET max_parallel_maintenance_workers = 1');
    await c.query(indexDef);
    await c.query('ANALYZE template_vectors');
    const size = (await c.query("SELECT pg_relation_size('template_vectors_hnsw') AS i, pg_total_relation_size('template_vectors') AS t, pg_total_relation_size('templates') AS tt")).rows[0];
    await c.end();
    result.hnswBuildS = +((performance.now() - t0) / 1000).toFixed(1);
    result.bytes = { hnswIndex: Number(size.i), vectorTable: Number(size.t), templatesTable: Number(size.tt) };
    console.log(`[${n}] HNSW (m ${hnswM}, ef_construction ${hnswEfc}) built in ${result.hnswBuildS} s, ${JSON.stringify(result.bytes)}`);
    await store.close();

    // Probes and the exact reference.
    const probes = [];
    for (let i = 0; i < probesN; i++) {
      const genuine = i % 2 === 0;
      const p = genuine ? noisy(templates[Math.floor(r() * n)], r, 0.05 + 0.04 * r()) : draw(r);
      const best = exact.best([p]);
      const runnerUp = best ? exact.best([p], best.userId) : null;
      probes.push({ p, genuine, best, decision: decide({ best, runnerUp }, n) });
    }
    t0 = performance.now();
    for (const q of probes.slice(0, 200)) exact.best([q.p]);
    result.exactScanMsInProcess = +((performance.now() - t0) / 200).toFixed(3);

    result.settings = [];
    for (const [k, ef] of grid) {
      store = await openStore({ ...db, vectorIndex: 'require', vectorCandidates: k, vectorEfSearch: ef, poolSize: concurrency + 2 });
      await store.migrate();
      const lat = [];
      let rank1 = { genuine: 0, impostor: 0 };
      let decisionAgree = 0;
      const misses = [];
      for (const q of probes.slice(0, 50)) await store.searchGallery({ modelId: MODEL, probes: [q.p] }); // warm-up
      for (const q of probes) {
        const s = performance.now();
        const found = await store.searchGallery({ modelId: MODEL, probes: [q.p] });
        lat.push(performance.now() - s);
        if (found.best?.userId === q.best?.userId) rank1[q.genuine ? 'genuine' : 'impostor']++;
        const d = decide(found, found.templates);
        if (d === q.decision) decisionAgree++;
        else if (misses.length < 5) misses.push({ genuine: q.genuine, exact: q.decision, index: d });
      }
      // Throughput: `concurrency` searches in flight for `seconds`.
      let done = 0;
      const until = performance.now() + seconds * 1000;
      const worker = async (w) => {
        for (let i = w; performance.now() < until; i += concurrency) {
          await store.searchGallery({ modelId: MODEL, probes: [probes[i % probes.length].p] });
          done++;
        }
      };
      const t1 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
      const rps = done / ((performance.now() - t1) / 1000);
      await store.close();
      const half = probes.length / 2;
      const row = {
        candidates: k,
        efSearch: ef,
        rank1Genuine: +((100 * rank1.genuine) / half).toFixed(2),
        rank1Impostor: +((100 * rank1.impostor) / half).toFixed(2),
        decisionAgreement: +((100 * decisionAgree) / probes.length).toFixed(2),
        decisionDisagreements: probes.length - decisionAgree,
        p50Ms: pct(lat, 0.5),
        p99Ms: pct(lat, 0.99),
        reqPerS: Math.round(rps),
        misses,
      };
      result.settings.push(row);
      console.log(`[${n}] K ${k} ef ${ef}: ${JSON.stringify(row)}`);
    }
    result.acceptsExact = probes.filter((q) => q.decision.startsWith('accept')).length;
    result.probes = probes.length;
    return result;
  } finally {
    await tdb.drop();
  }
}

const pgInfo = (await sql({ url: process.env.DATABASE_URL, schema: 'public' }, "SELECT version() AS v, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS x"))[0];
const started = Date.now();
const results = [];
for (const n of sizes) results.push(await runSize(n));
const env = {
  date: new Date().toISOString(),
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  postgres: pgInfo.v.split(',')[0],
  pgvector: pgInfo.x,
  hnsw: { m: hnswM, efConstruction: hnswEfc, migrationDefault: { m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION }, column: 'halfvec(192) of Q x (secret orthogonal transform)', ops: 'halfvec_cosine_ops' },
  node: process.version,
  wallS: Math.round((Date.now() - started) / 1000),
};
const indexArgs = hnswM !== HNSW_M || hnswEfc !== HNSW_EF_CONSTRUCTION ? ` --hnsw-m ${hnswM} --hnsw-ef-construction ${hnswEfc}` : '';
const nameArg = values.name !== 'pgvector-1n' ? ` --name ${values.name}` : '';
const command = `DATABASE_URL=... npx tsx bench/runners/pgvector-1n.mjs --sizes ${values.sizes} --probes ${probesN} --grid ${values.grid} --seconds ${seconds} --concurrency ${concurrency}${indexArgs}${nameArg}`;
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, `${values.name}.json`), JSON.stringify({ benchmark: 'pgvector 1:N', command, env, synthetic: { tau: TAU, ...calib }, results }, null, 1) + '\n');

const md = [
  '### 1:N on PostgreSQL + pgvector: HNSW candidates re-ranked exactly, against the exact scan',
  '',
  `\`${command}\` (${env.date.slice(0, 10)}; ${env.cpus}, ${env.memGiB} GiB; ${env.postgres}, pgvector ${env.pgvector}; wall ${env.wallS} s)`,
  '',
  `Synthetic templates, one per user: unit vectors of an anisotropic Gaussian (variance exp(-i/${TAU}) on dimension i) so that random pairs spread like real impostors: ` +
    `cosine mean ${calib.impostor.mean}, sd ${calib.impostor.sd}, p1 ${calib.impostor.p1}, p99 ${calib.impostor.p99} (LFW impostors: mean 0.008, p1 -0.317, p99 0.344). ` +
    `Genuine probes: a template + isotropic noise (cosine mean ${calib.genuine.mean}, sd ${calib.genuine.sd}; LFW genuine mean 0.719). Half the probes genuine, half impostors (never enrolled).`,
  '',
  `Index: HNSW m ${hnswM}, ef_construction ${hnswEfc}${indexArgs ? ` (the migration's default is m ${HNSW_M}, ef_construction ${HNSW_EF_CONSTRUCTION})` : ''}, halfvec_cosine_ops on Q x. Search: the store call (PostgresStore.searchGallery = what identify and the duplicate check run on PostgreSQL, ` +
    'one SQL statement: K candidates from the index with their approximate cosine, the templates and data keys of the users within 0.02 of the second-best (the only ones that can be best or runner-up exactly), the gallery count; then decryption and exact cosine in Node). ' +
    'Rank-1: same best user as the exact scan. Decision: the open-set rule (threshold for the gallery size, ambiguity) gives the same accept(user) / reject / ambiguous.',
  '',
  '| templates | seed (s) | HNSW build (s) | index MB | K | ef_search | rank-1 genuine | rank-1 impostor | decision agreement | p50 ms | p99 ms | req/s (' + concurrency + ' in flight) | exact scan in RAM (ms) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) =>
    r.settings.map(
      (s) =>
        `| ${r.size.toLocaleString('en')} | ${r.seedS} | ${r.hnswBuildS} | ${(r.bytes.hnswIndex / 2 ** 20).toFixed(0)} | ${s.candidates} | ${s.efSearch} | ${s.rank1Genuine} % | ${s.rank1Impostor} % | ${s.decisionAgreement} % (${s.decisionDisagreements} of ${r.probes}) | ${s.p50Ms} | ${s.p99Ms} | ${s.reqPerS} | ${r.exactScanMsInProcess} |`,
    ),
  ),
  '',
  `Probes per size: ${probesN}. "exact scan in RAM": the in-memory int8+float32 exact scan (ModelGallery) this process would need with the whole gallery loaded (what SQLite keeps).`,
  '',
];
writeFileSync(join(values.out, `${values.name}.md`), md.join('\n'));
console.log(md.join('\n'));
