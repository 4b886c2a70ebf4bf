/**
 * Load benchmark of verify and identify on loopback (127.0.0.1 only), with 10k and 100k enrolled
 * users, on SQLite and (when DATABASE_URL is set) PostgreSQL.
 *
 *   npx tsx bench/runners/server-load.mjs [--sizes 10000,100000] [--duration 10] [--connections 10] [--backends sqlite,postgres]
 *
 * For each backend and size: a fresh database seeded directly through the store (one 192-d unit
 * template per user), nonces pre-created in bulk through the store, the real server started as a
 * child process (rate limits off, everything else as shipped), a short warm-up, then autocannon
 * for a bounded duration per route. Verify probes are the enrolled person (template + noise,
 * renormalised) so every answer is a real accept with a signed assertion; identify probes the same
 * way (a full 1:N scan + accept). Also times the in-memory 1:N index search alone.
 * Writes bench/results/server/load.json and load.md.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startServerProcess } from '../lib/server-process.mjs';
import pg from 'pg';
import { openStore } from '../../server/store/open.ts';
import { parseTemplateKeys } from '../../server/crypto/template-keys.ts';
import { hashNonce, newNonce } from '../../server/nonce.ts';
import { ModelGallery } from '../../server/index/gallery.ts';
import { DEFAULT_MODEL_ID } from '../../server/config.ts';
import { createDb, randomFace as randomUnitFace, rng, samePerson as samePersonAs } from '../../server/test/helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench/results/server');
const SIZE = 192;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    backends: { type: 'string', default: process.env.DATABASE_URL ? 'sqlite,postgres' : 'sqlite' },
    out: { type: 'string', default: OUT },
  },
});
const sizes = values.sizes.split(',').map(Number);
const duration = Number(values.duration);
const connections = Number(values.connections);
const wanted = values.backends.split(',');
if (wanted.includes('postgres') && !process.env.DATABASE_URL) throw new Error('postgres needs DATABASE_URL');

// Deterministic embeddings and fresh databases: the server tests' helpers (one copy of each).
const r = rng(42);
const randomFace = () => randomUnitFace(r);
const samePerson = (f) => samePersonAs(f, r);

async function startServer(db) {
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    // Production settings: a signing key and an audience, as a deployment has them (a fresh key per run).
    FACE_LOGIN_SIGNING_KEY: String(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' })),
    FACE_LOGIN_AUDIENCE: 'https://bench.face-login.invalid',
    FACE_LOGIN_TEMPLATE_KEYS: TEMPLATE_KEYS,
    FACE_LOGIN_RATE_LIMIT_IP: '0',
    FACE_LOGIN_RATE_LIMIT_USER: '0',
    // The verify-reject run: each of the 2,000 probed users takes a few wrong faces (at most 10 in a row
    // before a lock), and the address guard is off (every request comes from 127.0.0.1 here; real
    // rejects come from many addresses).
    FACE_LOGIN_LOCKOUT_FAILURES: '10',
    FACE_LOGIN_LOCKOUT_ADDRESS_FAILURES: '0',
    FACE_LOGIN_NONCE_TTL_S: '3600',
    FACE_LOGIN_LOG_LEVEL: 'warn',
    // This benchmark measures the device routes (embeddings in, decisions out): on only with the flag.
    FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1',
    NODE_ENV: 'production',
  };
  delete env.DATABASE_URL;
  if (db.kind === 'sqlite') env.FACE_LOGIN_SQLITE = db.path;
  else {
    env.DATABASE_URL = db.url;
    env.FACE_LOGIN_PG_SCHEMA = db.schema;
    env.FACE_LOGIN_PG_POOL = '10';
  }
  return startServerProcess(env);
}

function stopServer(s) {
  return new Promise((res) => {
    s.child.once('exit', res);
    s.child.kill('SIGTERM');
  });
}

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** CPU milliseconds (user + system) used so far by a process (Linux /proc; null elsewhere). */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return null;
  }
}

/** Runs autocannon with one pre-created nonce per request; counts accepts and the server's CPU. */
async function measured(server, path, bodyFor, seconds) {
  const c0 = cpuMs(server.child.pid);
  const run = await cannon(server.url, path, bodyFor, seconds);
  const c1 = cpuMs(server.child.pid);
  run.serverCpuMsPerRequest = c0 === null || c1 === null ? null : Number(((c1 - c0) / run.result.requests.total).toFixed(3));
  return run;
}

/** Runs autocannon with one pre-created nonce per request; counts accepts. */
function cannon(url, path, bodyFor, seconds) {
  let i = 0;
  let accepts = 0;
  let others = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: bodyFor(i++) }),
            onResponse: (status, body) => {
              if (status === 200 && body.includes('"decision":"accept"')) accepts++;
              else others++;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ result, accepts, others, used: i })),
    );
  });
}

function summary(name, run) {
  const { result, accepts, others } = run;
  return {
    route: name,
    requestsPerSecond: Math.round(result.requests.average),
    serverCpuMsPerRequest: run.serverCpuMsPerRequest,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: Number(result.latency.average.toFixed(2)),
    },
    requests: result.requests.total,
    accepts,
    notAccepted: others,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

function indexSearch(n) {
  const out = {};
  for (const simd of [true, false]) {
    const g = new ModelGallery(SIZE, { simd });
    for (let u = 0; u < n; u++) g.setUser(`u${u}`, [Float32Array.from(randomFace())]);
    const probes = Array.from({ length: 20 }, () => Float32Array.from(randomFace()));
    const reps = simd ? (n > 50_000 ? 100 : 400) : n > 50_000 ? 20 : 100;
    for (let k = 0; k < 10; k++) g.best([probes[k % 20]]);
    const times = [];
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      g.best([probes[k % 20]]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out[simd ? 'wasmSimd' : 'plainJs'] = {
      medianMs: Number(times[Math.floor(times.length / 2)].toFixed(3)),
      p99Ms: Number(times[Math.floor(times.length * 0.99)].toFixed(3)),
      searchesPerSecond: Math.round(1000 / times[Math.floor(times.length / 2)]),
    };
  }
  return out;
}

/** One template key for the run: the seeding below and the server process encrypt and decrypt with it (templates are encrypted at rest). */
const TEMPLATE_KEYS = `bench-1:${randomBytes(32).toString('base64')}`;

async function scenario(kind, n) {
  const t = await createDb(kind);
  const store = await openStore(t.db, parseTemplateKeys(TEMPLATE_KEYS, 'bench'));
  try {
    await store.migrate();
    // Seed n users, one template each, through the store.
    const t0 = performance.now();
    const hot = []; // the users the probes come from
    for (let start = 0; start < n; start += 10_000) {
      const rows = [];
      for (let u = start; u < Math.min(n, start + 10_000); u++) {
        const face = randomFace();
        if (u % Math.floor(n / 2000) === 0 && hot.length < 2000) hot.push({ userId: `user-${u}`, face });
        rows.push({ userId: `user-${u}`, modelId: DEFAULT_MODEL_ID, embedding: Float32Array.from(face) });
      }
      await store.seedTemplates(rows, Date.now());
    }
    const seedMs = performance.now() - t0;
    // Probe bodies: a genuine probe per hot user, pre-serialised.
    const probes = hot.map((h) => ({ userId: h.userId, embedding: JSON.stringify(samePerson(h.face)), stranger: JSON.stringify(randomFace()) }));
    // Nonces in bulk through the store: enough for the longest run at a generous rate.
    const per = Math.max(20_000, Math.ceil((duration + 3) * 6000));
    const mk = (action, userOf) =>
      Array.from({ length: per }, (_, i) => {
        const nonce = newNonce();
        return { nonce, userIdx: i % probes.length, seed: { hash: hashNonce(nonce), row: { action, userId: userOf(i), expiresAt: Date.now() + 3_600_000 } } };
      });
    const vNonces = mk('verify', (i) => probes[i % probes.length].userId);
    const rNonces = mk('verify', (i) => probes[i % probes.length].userId);
    const iNonces = mk('identify', () => null);
    const t1 = performance.now();
    await store.seedNonces([...vNonces, ...rNonces, ...iNonces].map((x) => x.seed), Date.now());
    const nonceMs = performance.now() - t1;
    await store.close();

    const server = await startServer(t.db);
    try {
      // Correctness spot checks before timing.
      const p0 = probes[0];
      const v = await post(`${server.url}/v1/verify`, { nonce: vNonces[0].nonce, userId: p0.userId, modelId: DEFAULT_MODEL_ID, embedding: JSON.parse(p0.embedding) });
      const id = await post(`${server.url}/v1/identify`, { nonce: iNonces[0].nonce, modelId: DEFAULT_MODEL_ID, embedding: JSON.parse(p0.embedding) });
      if (v.body.decision !== 'accept' || id.body.userId !== p0.userId) throw new Error(`spot check failed: ${JSON.stringify([v.body, id.body])}`);

      let vi = 1;
      let ii = 1;
      const verifyBody = () => {
        const x = vNonces[vi++ % vNonces.length]; // wraps (then refused as replays) only past ~6,000 req/s
        const p = probes[x.userIdx];
        return `{"nonce":"${x.nonce}","userId":"${p.userId}","modelId":"${DEFAULT_MODEL_ID}","embedding":${p.embedding}}`;
      };
      let ri = 0;
      const rejectBody = () => {
        const x = rNonces[ri++ % rNonces.length];
        const p = probes[x.userIdx];
        return `{"nonce":"${x.nonce}","userId":"${p.userId}","modelId":"${DEFAULT_MODEL_ID}","embedding":${p.stranger}}`;
      };
      const identifyBody = () => {
        const x = iNonces[ii++ % iNonces.length];
        return `{"nonce":"${x.nonce}","modelId":"${DEFAULT_MODEL_ID}","embedding":${probes[x.userIdx].embedding}}`;
      };
      await cannon(server.url, '/v1/verify', verifyBody, 2); // warm-up (JIT, caches)
      const verify = summary('verify', await measured(server, '/v1/verify', verifyBody, duration));
      // A wrong face: reject, the failure counted on the user's guard (no warm-up: the users' failures must stay under the lock).
      const verifyReject = summary('verify (reject)', await measured(server, '/v1/verify', rejectBody, duration));
      await cannon(server.url, '/v1/identify', identifyBody, 2);
      const identify = summary('identify', await measured(server, '/v1/identify', identifyBody, duration));
      return { backend: kind, users: n, seedMs: Math.round(seedMs), nonceSeedMs: Math.round(nonceMs), serverStartMs: Math.round(server.startMs), verify, verifyReject, identify };
    } finally {
      await stopServer(server);
    }
  } finally {
    await t.drop();
  }
}

async function pgVersion() {
  if (!process.env.DATABASE_URL) return null;
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const v = (await c.query('SHOW server_version')).rows[0].server_version;
  await c.end();
  return v;
}

const started = new Date().toISOString();
const env = {
  date: started,
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  postgres: await pgVersion(),
  sqlite: 'better-sqlite3 12.6.2 (WAL; hot path synchronous=NORMAL, template writes FULL)',
  duration,
  connections,
  note: 'Server, autocannon and PostgreSQL share the same cores on loopback.',
};
console.log(JSON.stringify(env));

const index = {};
for (const n of sizes) {
  index[n] = indexSearch(n);
  console.log(`index ${n}: ${JSON.stringify(index[n])}`);
}

const runs = [];
for (const kind of wanted) {
  for (const n of sizes) {
    const res = await scenario(kind, n);
    console.log(JSON.stringify(res));
    runs.push(res);
  }
}
env.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));

mkdirSync(values.out, { recursive: true });
const doc = { env, index, runs };
writeFileSync(join(values.out, 'load.json'), JSON.stringify(doc, null, 2) + '\n');

const row = (r, x) =>
  `| ${r.backend} | ${r.users.toLocaleString('en')} | ${x.route} | ${x.requestsPerSecond.toLocaleString('en')} | ${x.latencyMs.p50} | ${x.latencyMs.p97_5} | ${x.latencyMs.p99} | ${x.latencyMs.max} | ${x.serverCpuMsPerRequest ?? 'n/a'} | ${x.serverCpuMsPerRequest ? Math.floor(1000 / x.serverCpuMsPerRequest).toLocaleString('en') : 'n/a'} | ${x.accepts}/${x.requests} | ${x.errors + x.timeouts + x.non2xx} |`;
const md = [
  '# Verification backend load benchmark',
  '',
  `\`npx tsx bench/runners/server-load.mjs\` on ${env.date}: Node ${env.node}, ${env.cpus}, ${env.memoryGiB} GiB, ` +
    `PostgreSQL ${env.postgres ?? '(not run)'}, autocannon ${connections} connections x ${duration} s per route on 127.0.0.1 ` +
    `(after a 2 s warm-up). Load average at start ${env.loadAverageAtStart.join(' / ')}, at end ${env.loadAverageAtEnd.join(' / ')} ` +
    '(the machine is shared: other jobs ran at the same time, so these are lower bounds).',
  '',
  'Each request carries a fresh pre-created nonce and a genuine probe (enrolled template + noise): verify = nonce consume + lockout check + ' +
    'the user\'s templates + audit insert + HMAC assertion; verify (reject) = the same with a stranger\'s face (a reject, the failure counted on the user\'s ' +
    'lockout guard; the address guard is off for this benchmark, all requests come from 127.0.0.1); identify = nonce consume + change-sequence check + ' +
    '1:N (SQLite: full scan of the in-memory index; PostgreSQL with pgvector: HNSW candidates in the database, re-ranked exactly) + audit insert.',
  '',
  '| db | users | route | req/s | p50 ms | p97.5 ms | p99 ms | max ms | server CPU ms/req | req/s per server core | accepted | errors |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...runs.flatMap((r) => [row(r, r.verify), ...(r.verifyReject ? [row(r, r.verifyReject)] : []), row(r, r.identify)]),
  '',
  'Aim (issue 4): verify >= 2,000 req/s and p99 <= 25 ms on this 2-core machine. "server CPU ms/req" is the server process\'s own ' +
    'CPU time (user + system, from /proc) per request, so "req/s per server core" is what one uncontended core sustains ' +
    '(PostgreSQL\'s CPU not included); it is far less sensitive than req/s to what else the machine runs, though contention ' +
    'still inflates it (cache misses, steal).',
  '',
  '"accepted" for identify: the server raises the identify threshold with the gallery size (identifyThreshold() of ' +
    'src/core/calibration.ts, FPIR 1e-2: cosine 0.692 at 10k templates, 0.771 at 100k), and these synthetic genuine probes ' +
    'sit at cosine ~0.77 to their template, so about half are rejected at 100k. A rejection does the same work (scan + audit), ' +
    'so the throughput is unaffected.',
  '',
  '## The in-memory 1:N index alone (one 192-d template per user, one probe, best user, exact)',
  '',
  '| users | int8 WebAssembly SIMD + exact rescoring, median ms | p99 ms | searches/s | plain JS float32 scan median ms | p99 ms |',
  '|---|---|---|---|---|---|',
  ...sizes.map((n) => `| ${n.toLocaleString('en')} | ${index[n].wasmSimd.medianMs} | ${index[n].wasmSimd.p99Ms} | ${index[n].wasmSimd.searchesPerSecond} | ${index[n].plainJs.medianMs} | ${index[n].plainJs.p99Ms} |`),
  '',
  '## Setup times',
  '',
  '| db | users | seed through the store (ms) | nonces seeded (ms) | server start incl. index load (ms) |',
  '|---|---|---|---|---|',
  ...runs.map((r) => `| ${r.backend} | ${r.users.toLocaleString('en')} | ${r.seedMs} | ${r.nonceSeedMs} | ${r.serverStartMs} |`),
  '',
];
writeFileSync(join(values.out, 'load.md'), md.join('\n'));
console.log(md.join('\n'));
