/**
 * Session load benchmark (issue 10, throughput): logins per second, per worker and per server CPU
 * second, and upload latency p50 / p99, of the real server deciding verify sessions from real
 * frames, with the face examination in 1 and in 2 worker threads; and what a full queue answers.
 *
 *   node bench/runners/session-load.mjs [--workers 1,2] [--concurrency 1,2,4,8] [--rounds 4]
 *        [--segment 6] [--warm 3] [--overload-queue 1] [--overload-concurrency 8] [--out bench/results/server]
 *   node bench/runners/session-load.mjs --quick      # smoke: 1 worker, 1 round of 2 s segments (bench/runners/smoke.mjs)
 *
 * Frames: e2e/fixtures/poses/{center,left,right,up,down}.jpg (LFW photos of one person), each made
 * into a camera-like 640x480 JPEG (scaled bilinearly to 480x480, letterboxed in black, quality 90,
 * as server/test/vision-examine.test.ts does), base64, as the page uploads them.
 *
 * Servers: for each worker count, the real server as a child process (`node --import tsx
 * server/server.ts`, a fresh temporary SQLite file, FACE_LOGIN_EXAMINE_WORKERS=<n>, queue 64 so
 * that nothing is refused, rate limits off), plus one overload server (a small queue); all started
 * first, one user enrolled on each through an enrol session (the five pose frames).
 *
 * A login, by one closed-loop client on 127.0.0.1: open a verify session with the site key, upload
 * the frames its challenge asks for (centre, then the two turns in the challenge's random order:
 * 3 frames), read the result; it counts when the result is accept. A cell (worker count x clients)
 * runs its clients for `--warm` seconds, then a `--segment`-second window: the logins that complete
 * in the window / its length is the cell's rate, the uploads that complete in it its latencies (the
 * upload request: examination in a worker + decision + HTTP), the server's CPU time (all threads,
 * user + system, /proc) over it its CPU.
 *
 * The machine is shared and its load drifts, so cells are interleaved: `--rounds` rounds, each
 * running the baseline and then every cell once (the order rotated per round); a cell's logins/s
 * is the median of its rounds, its ratio to the baseline the median of the per-round ratios, its
 * latencies pooled over the rounds. "server cores used" = server CPU time / window time: under 1
 * per worker at saturation means the cores were shared with something else.
 *
 * Baseline, in each round, in this process: ServerFaceExaminer.examine() of the same 3 frames, one
 * at a time (what the route did before the pool: examination only, no HTTP, base64 or database),
 * `--baseline-reps` uploads. Ratio: logins/s / (1000 / the round's median examination ms). Also in
 * each round, in this process: ExaminerPool alone with each worker count, 12 uploads submitted at
 * once (uploads/s and the CPU this process used): the pool's scaling without the server around it.
 *
 * Overload: more clients than the overload server has slots (workers + queue): an upload past
 * them is answered 503 overloaded with Retry-After before its session is touched; the client waits
 * Retry-After seconds and retries the SAME session (it stays open). Counted: 503s, logins, and the
 * 503's own latency.
 *
 * Writes <out>/session-load.json and session-load.md (bench/results/server/ by default).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { cameraFrame } from '../../scripts/lib/camera-frame.mjs';
import { startServerProcess } from '../lib/server-process.mjs';
import { register } from 'tsx/esm/api';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
    segment: { type: 'string' },
    warm: { type: 'string' },
    'overload-queue': { type: 'string', default: '1' },
    'overload-concurrency': { type: 'string' },
    'overload-workers': { type: 'string' },
    'baseline-reps': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench/results/server') },
  },
});
const quick = values.quick;
const workerCounts = (values.workers ?? (quick ? '1' : '1,2')).split(',').map(Number);
const levels = (values.concurrency ?? (quick ? '1,2' : '1,2,4,8')).split(',').map(Number);
const rounds = Number(values.rounds ?? (quick ? 1 : 4));
const segment = Number(values.segment ?? (quick ? 2 : 6));
const warmS = Number(values.warm ?? (quick ? 1 : 3));
const overloadQueue = Number(values['overload-queue']);
const overloadWorkers = Number(values['overload-workers'] ?? workerCounts.at(-1));
const overloadConcurrency = Number(values['overload-concurrency'] ?? (quick ? 4 : 8));
const baselineReps = Number(values['baseline-reps'] ?? (quick ? 5 : 10));
const poolJobs = quick ? 4 : 12; // uploads per round for "ExaminerPool alone"
for (const n of [...workerCounts, ...levels, rounds, segment, warmS, overloadWorkers, overloadConcurrency, baselineReps]) {
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`bad option value ${n}`);
}
if (!(Number.isInteger(overloadQueue) && overloadQueue >= 0)) throw new Error(`bad --overload-queue ${overloadQueue}`);

const SITE_KEY = 'bench-site-key-0123456789-0123456789-abcdef';
const USER = 'gerhard';
const THROUGHPUT_QUEUE = 64; // nothing refused in the throughput cells: they measure queueing, not refusals
const log = (...a) => console.log(`[session-load ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------------------------------------
// Frames

/** A photo file as a 640x480 camera frame (JPEG q90), as the vision tests make them. */
const cameraFrameOf = (path) => cameraFrame(jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true }));

const POSES = ['center', 'left', 'right', 'up', 'down'];
const FRAME = Object.fromEntries(POSES.map((p) => [p, cameraFrameOf(join(ROOT, `e2e/fixtures/poses/${p}.jpg`))]));
const FRAME_B64 = Object.fromEntries(POSES.map((p) => [p, Buffer.from(FRAME[p]).toString('base64')]));
/** The upload body for a sequence of poses, frames 1/8 s apart (pre-serialised: the client does no per-request work). */
const bodyFor = (poses) => JSON.stringify({ frames: poses.map((p, i) => ({ jpeg: FRAME_B64[p], t: i * 125 })) });
const VERIFY_BODY = { 'left,right': bodyFor(['center', 'left', 'right']), 'right,left': bodyFor(['center', 'right', 'left']) };
const VERIFY_BYTES = Buffer.byteLength(VERIFY_BODY['left,right']);

// ---------------------------------------------------------------------------------------------
// Statistics

/** Linear-interpolated percentile (R type 7), as bench/lib/harness.mjs. */
function percentile(xs, p) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = (v.length - 1) * (p / 100);
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return v[lo] + (v[hi] - v[lo]) * (h - lo);
}
const median = (xs) => percentile(xs, 50);
const r1 = (x) => (x === null || x === undefined ? null : Number(x.toFixed(1)));
const r2 = (x) => (x === null || x === undefined ? null : Number(x.toFixed(2)));

// ---------------------------------------------------------------------------------------------
// Baseline: the examiner in this process, one upload at a time

let examiner = null;
/** The baseline's upload: fresh copies each time (the pool moves the buffers it is given). */
const uploadOf = () => ['center', 'left', 'right'].map((p, i) => ({ jpeg: FRAME[p].slice(), t: i * 125 }));
const BASE_CHALLENGE = { kind: 'turns', order: ['left', 'right'] };

/** `reps` timed uploads (after a warm-up) on one ServerFaceExaminer kept for the whole run. */
async function baselineTimes(reps) {
  if (!examiner) {
    register(); // this runner is plain JS: load the server's TypeScript through tsx
    const { ServerFaceExaminer } = await import(pathToFileURL(join(ROOT, 'server/vision/examine.ts')).href);
    examiner = await ServerFaceExaminer.create();
  }
  const upload = uploadOf;
  const challenge = BASE_CHALLENGE;
  for (let i = 0; i < 3; i++) {
    const o = await examiner.examine(upload(), challenge);
    if (!o.ok) throw new Error(`baseline upload refused: ${o.refusal}: ${o.message}`);
  }
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await examiner.examine(upload(), challenge);
    times.push(performance.now() - t);
  }
  return times;
}

const pools = new Map();

/**
 * ExaminerPool alone, in this process (no HTTP, base64, session or database): `jobs` uploads
 * submitted at once to a pool of `workers`; uploads/s and the CPU this process used (all threads).
 */
async function poolAlone(workers, jobs) {
  if (!pools.has(workers)) {
    const { ExaminerPool } = await import(pathToFileURL(join(ROOT, 'server/vision/examiner-pool.ts')).href);
    const pool = await ExaminerPool.create({ size: workers, queue: jobs });
    pools.set(workers, pool);
    // Warm-up: every worker once or twice.
    await Promise.all(Array.from({ length: 2 * workers }, () => pool.examine(uploadOf(), BASE_CHALLENGE)));
  }
  const pool = pools.get(workers);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const outcomes = await Promise.all(Array.from({ length: jobs }, () => pool.examine(uploadOf(), BASE_CHALLENGE)));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (outcomes.some((o) => !o.ok)) throw new Error('pool-alone: an upload was refused');
  return { jobs, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// The server

async function startServer(workers, queue) {
  const dir = mkdtempSync(join(tmpdir(), 'face-login-session-load-'));
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    FACE_LOGIN_SITE_KEYS: SITE_KEY,
    FACE_LOGIN_SQLITE: join(dir, 'bench.sqlite'),
    FACE_LOGIN_RATE_LIMIT_IP: '0',
    FACE_LOGIN_RATE_LIMIT_USER: '0',
    FACE_LOGIN_LOG_LEVEL: 'warn',
    FACE_LOGIN_EXAMINE_WORKERS: String(workers),
    FACE_LOGIN_EXAMINE_QUEUE: String(queue),
  };
  delete env.DATABASE_URL;
  delete env.NODE_ENV; // production would want deployment keys; nothing measured here depends on it
  return { ...(await startServerProcess(env)), dir };
}

function stopServer(s) {
  return new Promise((res) => {
    s.child.once('exit', () => {
      rmSync(s.dir, { recursive: true, force: true });
      res();
    });
    s.child.kill('SIGTERM');
  });
}

/** CPU milliseconds (user + system, all threads) used so far by a process (Linux /proc; null elsewhere). */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch {
    return null;
  }
}

const SITE = { 'x-face-login-site-key': SITE_KEY };

async function call(url, method, body, headers = {}) {
  const res = await fetch(url, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, retryAfter: res.headers.get('retry-after') };
}

async function openSession(s, action) {
  const r = await call(`${s.url}/v1/sessions`, 'POST', JSON.stringify({ action, userId: USER, siteNonce: 'bench-nonce-1234' }), SITE);
  if (r.status !== 201) throw new Error(`open ${action}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function enrol(s) {
  const { sessionId, challenge } = await openSession(s, 'enroll');
  const up = await call(`${s.url}/v1/sessions/${sessionId}/frames`, 'POST', bodyFor(challenge.poses));
  const res = await call(`${s.url}/v1/sessions/${sessionId}/result`, 'GET', undefined, SITE);
  if (up.status !== 200 || res.body?.decision !== 'accept') throw new Error(`enrol failed: ${up.status} ${JSON.stringify(up.body)} ${JSON.stringify(res.body)}`);
}

/**
 * One login: open a verify session, upload the frames its challenge asks for (on 503: wait
 * Retry-After, retry the same session), read the result. `seen(kind, ms, at)` records each event.
 */
async function login(s, seen) {
  const { sessionId, challenge } = await openSession(s, 'verify');
  const body = VERIFY_BODY[challenge.order.join(',')];
  for (;;) {
    const t = performance.now();
    const up = await call(`${s.url}/v1/sessions/${sessionId}/frames`, 'POST', body);
    const at = performance.now();
    if (up.status === 503) {
      if (up.body?.error?.code !== 'overloaded' || !up.retryAfter) throw new Error(`503 without overloaded / Retry-After: ${JSON.stringify(up.body)}`);
      seen('503', at - t, at);
      await new Promise((r) => setTimeout(r, Number(up.retryAfter) * 1000));
      continue;
    }
    if (up.status !== 200) return seen('error', at - t, at);
    seen('upload', at - t, at);
    break;
  }
  const res = await call(`${s.url}/v1/sessions/${sessionId}/result`, 'GET', undefined, SITE);
  seen(res.body?.decision === 'accept' ? 'login' : 'error', 0, performance.now());
}

/** Clients log in for warm + segment seconds; what completes inside the segment's window is measured. */
async function segmentRun(s, concurrency) {
  const t0 = performance.now();
  const from = t0 + warmS * 1000;
  const to = from + segment * 1000;
  const m = { logins: 0, errors: 0, overloaded: 0, uploadMs: [], overloadedMs: [], cpuMs: null };
  let cpuFrom = null;
  const cpuTimers = [
    setTimeout(() => (cpuFrom = cpuMs(s.child.pid)), from - t0),
    setTimeout(() => {
      const c = cpuMs(s.child.pid);
      m.cpuMs = cpuFrom === null || c === null ? null : c - cpuFrom;
    }, to - t0),
  ];
  const seen = (kind, ms, at) => {
    if (at < from || at > to) return;
    if (kind === 'login') m.logins++;
    else if (kind === 'error') m.errors++;
    else if (kind === 'upload') m.uploadMs.push(ms);
    else if (kind === '503') {
      m.overloaded++;
      m.overloadedMs.push(ms);
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < to) await login(s, seen);
    }),
  );
  cpuTimers.forEach(clearTimeout);
  return m;
}

function summarizeCell(cell, segs, baselineRates) {
  const rates = segs.map((m) => m.logins / segment);
  const upload = segs.flatMap((m) => m.uploadMs);
  const over = segs.flatMap((m) => m.overloadedMs);
  const logins = segs.reduce((a, m) => a + m.logins, 0);
  const cpu = segs.every((m) => m.cpuMs !== null) ? segs.reduce((a, m) => a + m.cpuMs, 0) : null;
  const loginsPerSecond = median(rates);
  return {
    ...cell,
    rounds: segs.length,
    loginsPerSecond: r2(loginsPerSecond),
    loginsPerSecondRounds: rates.map(r2),
    serverCoresUsedRounds: segs.map((m) => (m.cpuMs === null ? null : r2(m.cpuMs / (segment * 1000)))),
    loginsPerSecondPerWorker: r2(loginsPerSecond / cell.workers),
    logins,
    errors: segs.reduce((a, m) => a + m.errors, 0),
    overloaded503: segs.reduce((a, m) => a + m.overloaded, 0),
    uploadMs: { p50: r1(percentile(upload, 50)), p99: r1(percentile(upload, 99)), max: r1(upload.length ? Math.max(...upload) : null), n: upload.length },
    overloadedMs: over.length ? { p50: r1(percentile(over, 50)), p99: r1(percentile(over, 99)), n: over.length } : null,
    serverCpuMsPerLogin: cpu !== null && logins ? r1(cpu / logins) : null,
    loginsPerCpuSecond: cpu ? r2((1000 * logins) / cpu) : null,
    serverCoresUsed: cpu !== null ? r2(cpu / (segs.length * segment * 1000)) : null,
    vsBaseline: r2(median(rates.map((r, k) => r / baselineRates[k]))),
  };
}

// ---------------------------------------------------------------------------------------------

const env = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  availableParallelism: availableParallelism(),
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  quick,
  rounds,
  segmentSeconds: segment,
  warmSeconds: warmS,
  frames: `3 frames (centre + the challenge's two turns), 640x480 JPEG q90, a ${Math.round(VERIFY_BYTES / 1024)} KiB upload body`,
  note: 'Servers (all threads), clients and the in-process baseline share the same cores on loopback.',
};
log(JSON.stringify(env));

const cells = [
  ...workerCounts.flatMap((workers) => levels.map((concurrency) => ({ kind: 'throughput', workers, queue: THROUGHPUT_QUEUE, concurrency }))),
  { kind: 'overload', workers: overloadWorkers, queue: overloadQueue, concurrency: overloadConcurrency },
];
const servers = new Map();
const serverKey = (c) => `${c.workers}/${c.queue}`;
const started = [];
try {
  for (const c of cells) {
    if (servers.has(serverKey(c))) continue;
    const s = await startServer(c.workers, c.queue);
    servers.set(serverKey(c), s);
    await enrol(s);
    started.push({ workers: c.workers, queue: c.queue, startMs: Math.round(s.startMs) });
    log(`server: ${c.workers} worker(s), queue ${c.queue}, ready in ${Math.round(s.startMs)} ms, user enrolled`);
  }

  const segs = cells.map(() => []);
  const baseline = [];
  const alone = new Map(workerCounts.map((w) => [w, []]));
  for (let round = 0; round < rounds; round++) {
    const times = await baselineTimes(baselineReps);
    baseline.push(times);
    log(`round ${round + 1}/${rounds}: baseline median ${r1(median(times))} ms`);
    for (const w of workerCounts) {
      const m = await poolAlone(w, poolJobs);
      alone.get(w).push(m);
      log(`  ExaminerPool alone, ${w} worker(s): ${poolJobs} uploads in ${Math.round(m.ms)} ms, ${(m.cpuMs / m.ms).toFixed(2)} cores`);
    }
    for (let k = 0; k < cells.length; k++) {
      const i = (k + round) % cells.length;
      const c = cells[i];
      const m = await segmentRun(servers.get(serverKey(c)), c.concurrency);
      segs[i].push(m);
      log(`  ${c.kind} ${c.workers} worker(s), queue ${c.queue}, ${c.concurrency} clients: ${(m.logins / segment).toFixed(2)} logins/s, ${m.overloaded} x 503, ${m.errors} errors, cpu ${m.cpuMs} ms`);
    }
  }
  examiner?.dispose();
  env.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));

  const baseMedians = baseline.map((t) => median(t));
  const baselineRates = baseMedians.map((ms) => 1000 / ms);
  const allBase = baseline.flat();
  const base = {
    what: 'ServerFaceExaminer.examine() of the same 3 frames, in the benchmark process, one at a time',
    reps: allBase.length,
    medianMs: r1(median(allBase)),
    p99Ms: r1(percentile(allBase, 99)),
    roundMedianMs: baseMedians.map(r1),
    uploadsPerSecond: r2(1000 / median(allBase)),
  };
  const results = cells.map((c, i) => summarizeCell(c, segs[i], baselineRates));
  const poolResults = workerCounts.map((w) => {
    const ms = alone.get(w);
    const rates = ms.map((m) => (1000 * m.jobs) / m.ms);
    return {
      workers: w,
      jobs: poolJobs,
      uploadsPerSecond: r2(median(rates)),
      uploadsPerSecondRounds: rates.map(r2),
      uploadsPerSecondPerWorker: r2(median(rates) / w),
      processCoresUsed: r2(median(ms.map((m) => m.cpuMs / m.ms))),
      vsBaseline: r2(median(rates.map((r, k) => r / baselineRates[k]))),
    };
  });
  writeReport(env, base, started, results, poolResults);
} finally {
  examiner?.dispose();
  await Promise.all([...pools.values()].map((p) => p.dispose()));
  await Promise.all([...servers.values()].map(stopServer));
}

// ---------------------------------------------------------------------------------------------
// Results

function writeReport(env, base, started, results, poolResults) {
  const throughput = results.filter((r) => r.kind === 'throughput');
  const overload = results.find((r) => r.kind === 'overload');
  const table = (headers, body) => [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const na = (x) => (x === null || x === undefined ? 'n/a' : x);
  const mainTable = table(
    ['workers', 'clients', 'logins/s', 'rounds: logins/s @ server cores', 'logins/s per worker', 'logins per server CPU-second', 'server CPU ms/login', 'server cores used', 'upload p50 ms', 'upload p99 ms', '503s', 'accepted', 'vs baseline'],
    throughput.map((r) => [
      r.workers,
      r.concurrency,
      r.loginsPerSecond,
      r.loginsPerSecondRounds.map((x, k) => `${x} @${na(r.serverCoresUsedRounds[k])}`).join(', '),
      r.loginsPerSecondPerWorker,
      na(r.loginsPerCpuSecond),
      na(r.serverCpuMsPerLogin),
      na(r.serverCoresUsed),
      r.uploadMs.p50,
      r.uploadMs.p99,
      r.overloaded503,
      `${r.logins}/${r.logins + r.errors}`,
      `${r.vsBaseline}x`,
    ]),
  );
  const overloadTable = table(
    ['workers', 'queue', 'clients', 'logins/s', '503s', '503 p50 ms', '503 p99 ms', 'accepted upload p50 ms', 'accepted upload p99 ms', 'accepted'],
    [[overload.workers, overload.queue, overload.concurrency, overload.loginsPerSecond, overload.overloaded503, overload.overloadedMs?.p50 ?? '-', overload.overloadedMs?.p99 ?? '-', overload.uploadMs.p50, overload.uploadMs.p99, `${overload.logins}/${overload.logins + overload.errors}`]],
  );
  const bestOf = (w) => throughput.filter((r) => r.workers === w).reduce((a, b) => (b.loginsPerSecond > a.loginsPerSecond ? b : a));
  const one = throughput.find((r) => r.workers === workerCounts[0] && r.concurrency === 1);
  const scaling = workerCounts.length > 1 ? r2(bestOf(workerCounts.at(-1)).loginsPerSecond / bestOf(workerCounts[0]).loginsPerSecond) : null;
  const cmd = `node bench/runners/session-load.mjs${quick ? ' --quick' : ''}`;
  const md = [
    '# Session load benchmark (the server examines the frames)',
    '',
    `\`${cmd}\` on ${env.date}: Node ${env.node}, ${env.cpus} (availableParallelism ${env.availableParallelism}), ${env.memoryGiB} GiB. ` +
      `Load average at start ${env.loadAverageAtStart.join(' / ')}, at end ${env.loadAverageAtEnd.join(' / ')} (a shared machine: other jobs ran at the same time; see "server cores used").`,
    '',
    `A login: open a verify session (site key), upload ${env.frames} in the order the challenge asks, read the result (accept). ` +
      `Closed-loop clients on 127.0.0.1 against the real server (\`node --import tsx server/server.ts\`, SQLite, FACE_LOGIN_EXAMINE_WORKERS as below, ` +
      `queue ${THROUGHPUT_QUEUE} so that nothing is refused here). ${rounds} interleaved round(s); per cell and round ${warmS} s of warm-up, then a ${segment} s window. ` +
      'logins/s: median over the rounds; latencies: the upload request (examination in a worker + decision + HTTP), pooled over the rounds.',
    '',
    mainTable,
    '',
    `Baseline (same run, each round): ${base.what}: median ${base.medianMs} ms, p99 ${base.p99Ms} ms over ${base.reps} uploads ` +
      `(round medians ${base.roundMedianMs.join(', ')} ms), i.e. ${base.uploadsPerSecond} uploads/s on one thread. ` +
      '"vs baseline": logins/s / (1000 / the same round\'s median), median over the rounds; before the pool, the route examined one upload at a time on the request thread, ' +
      'so this rate, less the HTTP, base64, session and database work, was its ceiling.' +
      (one ? ` One client, ${one.workers} worker: upload p50 ${one.uploadMs.p50} ms against the in-process ${base.medianMs} ms.` : ''),
    '',
    ...(scaling !== null ? [`Best logins/s with ${workerCounts.at(-1)} workers / best with ${workerCounts[0]}: ${scaling}x.`, ''] : []),
    `ExaminerPool alone, in the benchmark process (no HTTP, base64, session or database): ${poolJobs} uploads submitted at once, median over the rounds.`,
    '',
    table(
      ['workers', 'uploads/s', 'uploads/s per worker', 'process cores used', 'vs baseline'],
      poolResults.map((p) => [p.workers, p.uploadsPerSecond, p.uploadsPerSecondPerWorker, p.processCoresUsed, `${p.vsBaseline}x`]),
    ),
    '',
    '"logins per server CPU-second" = accepted logins / the server process\'s CPU time (every thread, user + system, /proc): what one fully used core sustains. ' +
      '"per worker" = logins/s / worker threads. "server cores used" = server CPU time / wall time: at saturation it would approach workers + the request thread\'s share; ' +
      'below that, the cores were taken by the clients, the baseline process or other jobs on the machine.',
    '',
    `## Overload: ${overload.workers + overload.queue} slots (${overload.workers} worker(s) + queue ${overload.queue}), ${overload.concurrency} clients`,
    '',
    'An upload that finds every slot taken is answered 503 `overloaded` with Retry-After before its session is touched; the client waits Retry-After seconds and retries the same session, which stays open.',
    '',
    overloadTable,
    '',
    `Servers: ${started.map((s) => `${s.workers} worker(s) / queue ${s.queue} ready in ${s.startMs} ms`).join('; ')} (process start + every worker's models loaded).`,
    '',
  ];
  const text = md.join('\n');
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'session-load.json'), JSON.stringify({ env, baseline: base, servers: started, cells: results, poolAlone: poolResults }, null, 2) + '\n');
  writeFileSync(join(values.out, 'session-load.md'), text);
  console.log('\n' + text);
  const failed = results.some((r) => r.errors > 0 || r.logins === 0);
  if (failed) {
    console.error('session-load: some logins were not accepted, or a cell completed none');
    process.exitCode = 1;
  }
}
