/**
 * ExaminerPool (server/vision/examiner-pool.ts): the face examination in worker threads, with real
 * models (public/models) and real LFW photos sent as the page sends them (JPEG bytes):
 * e2e/fixtures/poses/ (Gerhard Schroeder in five poses), Tony Blair and Colin Powell from
 * e2e/fixtures/ as other people.
 *
 * - the pool's outcomes are the in-process ServerFaceExaminer's on the same uploads (refusal,
 *   message, framesUsed; probe and templates within 1e-6), also when examined concurrently;
 * - admission through the real upload route: a full pool answers 503 overloaded with Retry-After
 *   before the session is consumed, and the same session is accepted afterwards;
 * - a killed worker fails its job and is replaced, the next jobs succeed; a crash under the route
 *   is 500 internal with the session refused 'internal';
 * - create fails fast when a worker cannot load its models; dispose is idempotent and rejects
 *   queued and running jobs; FACE_LOGIN_EXAMINE_WORKERS / _QUEUE are validated.
 *
 * Kept small (one pool of 2 workers, ~10-20 s on 2 cores): it runs in `npm test`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFaceExaminer } from '../vision/examine.js';
import { admissionFor, ExaminerPool, PoolFullError, WorkerCrashedError } from '../vision/examiner-pool.js';
import type { ExamineOutcome, FaceExaminer, SessionChallenge, UploadedFrame } from '../vision/examine-types.js';
import { VisionError } from '../vision/errors.js';
import { ConfigError, configFromEnv } from '../config.js';
import { Client, Clock, createDb, makeSessionApp, SITE_KEY, type TestDb } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const photo = (path: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, path)));
const POSE = (p: string) => photo(`e2e/fixtures/poses/${p}.jpg`);
const OTHER = (p: string) => photo(`e2e/fixtures/${p}.jpg`);
const blank = (): Uint8Array => new Uint8Array(jpeg.encode({ data: new Uint8Array(320 * 240 * 4).fill(128), width: 320, height: 240 }, 90).data);

const FIVE = ['center', 'left', 'right', 'up', 'down'] as const;
const turns = (...order: ('left' | 'right')[]): SessionChallenge => ({ kind: 'turns', order });
const poses = (...p: (typeof FIVE)[number][]): SessionChallenge => ({ kind: 'poses', poses: p });

/** Each call gives fresh bytes: the pool moves (transfers) the buffers it is given. */
const CASES: Record<string, { frames: () => UploadedFrame[]; challenge: SessionChallenge; expect: string }> = {
  'turns left, right': { frames: () => upload(POSE('center'), POSE('left'), POSE('right')), challenge: turns('left', 'right'), expect: 'ok' },
  'turns right, left': { frames: () => upload(POSE('center'), POSE('right'), POSE('left')), challenge: turns('right', 'left'), expect: 'ok' },
  'enrol five poses': { frames: () => upload(...FIVE.map(POSE)), challenge: poses(...FIVE), expect: 'ok' },
  'a still photo': { frames: () => upload(POSE('center'), POSE('center'), POSE('center')), challenge: turns('left', 'right'), expect: 'liveness-failed' },
  'another person turning right': { frames: () => upload(POSE('center'), POSE('left'), OTHER('Tony_Blair_0001')), challenge: turns('left', 'right'), expect: 'identity-changed' },
  'another person frontal': { frames: () => upload(POSE('center'), OTHER('Colin_Powell_0001'), POSE('left'), POSE('right')), challenge: turns('left', 'right'), expect: 'identity-changed' },
  'no face': { frames: () => upload(POSE('center'), blank(), POSE('left')), challenge: turns('left'), expect: 'no-face' },
  'not a JPEG': { frames: () => [{ jpeg: new Uint8Array([1, 2, 3, 4, 5]), t: 0 }, { jpeg: POSE('left'), t: 100 }], challenge: turns('left'), expect: 'bad-frames' },
  'one frame': { frames: () => upload(POSE('center')), challenge: turns('left'), expect: 'bad-frames' },
};

function upload(...jpegs: Uint8Array[]): UploadedFrame[] {
  return jpegs.map((j, i) => ({ jpeg: j, t: i * 125 }));
}

const outcomeOf = (o: ExamineOutcome) => (o.ok ? 'ok' : o.refusal);

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function expectSame(pool: ExamineOutcome, direct: ExamineOutcome): void {
  expect(outcomeOf(pool)).toBe(outcomeOf(direct));
  expect(pool.framesUsed).toBe(direct.framesUsed);
  if (!pool.ok || !direct.ok) {
    expect(pool).toEqual(direct); // refusal, message, framesUsed
    return;
  }
  expect(pool.modelId).toBe(direct.modelId);
  expect(pool.liveness).toBe('passed');
  expect(maxDiff(pool.probe, direct.probe)).toBeLessThanOrEqual(1e-6);
  expect(pool.templates.map((t) => t.pose)).toEqual(direct.templates.map((t) => t.pose));
  pool.templates.forEach((t, k) => expect(maxDiff(t.embedding, direct.templates[k]!.embedding)).toBeLessThanOrEqual(1e-6));
}

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let pool: ExaminerPool;
let direct: ServerFaceExaminer;

beforeAll(async () => {
  [pool, direct] = await Promise.all([ExaminerPool.create({ size: 2, queue: 1 }), ServerFaceExaminer.create()]);
}, 120_000);

afterAll(async () => {
  await pool?.dispose();
  direct?.dispose();
});

describe('ExaminerPool: the same outcomes as ServerFaceExaminer', () => {
  it('starts its workers with the models loaded', () => {
    expect(pool.modelId).toBe(direct.modelId);
    expect(pool.stats()).toMatchObject({ size: 2, ready: 2, busy: 0, queued: 0, reserved: 0, capacity: 3 });
    expect(new Set(pool.threadIds()).size).toBe(2);
  });

  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const [p, d] = [await pool.examine(c.frames(), c.challenge), await direct.examine(c.frames(), c.challenge)];
    expect(outcomeOf(d)).toBe(c.expect);
    expectSame(p, d);
  }, 30_000);

  it('a throw in the worker is the same throw here (a malformed challenge: invalid-input), and that worker keeps serving', async () => {
    const bad = { kind: 'wiggle' } as unknown as SessionChallenge;
    const replaced = pool.stats().replaced;
    const [p, d] = [await pool.examine(CASES['turns left, right']!.frames(), bad).catch((e: unknown) => e), await direct.examine(CASES['turns left, right']!.frames(), bad).catch((e: unknown) => e)];
    expect(p).toBeInstanceOf(VisionError);
    expect(p).toMatchObject({ code: 'invalid-input', message: (d as VisionError).message });
    expect(pool.stats()).toMatchObject({ ready: 2, replaced });
  });

  it('concurrent uploads each get their own outcome, and the JPEG buffers are moved, not copied', async () => {
    const names = ['turns left, right', 'a still photo', 'enrol five poses'] as const;
    const uploads = names.map((n) => CASES[n]!.frames());
    const sent = uploads.map((frames) => frames.map((f) => f.jpeg));
    const outcomes = await Promise.all(names.map((n, k) => pool.examine(uploads[k]!, CASES[n]!.challenge)));
    // Transferred to the worker: the caller's arrays are detached.
    for (const arrays of sent) for (const a of arrays) expect(a.byteLength).toBe(0);
    for (const [k, n] of names.entries()) expectSame(outcomes[k]!, await direct.examine(CASES[n]!.frames(), CASES[n]!.challenge));
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0, reserved: 0 });
  }, 30_000);

  it('a full pool refuses examine() with PoolFullError and frees its slots as jobs settle', async () => {
    const tickets = [pool.tryReserve(), pool.tryReserve(), pool.tryReserve()];
    expect(tickets.every((t) => t !== null)).toBe(true);
    expect(pool.tryReserve()).toBeNull();
    const full = await pool.examine(CASES['turns left, right']!.frames(), turns('left', 'right')).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(PoolFullError);
    expect((full as PoolFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    tickets[0]!.release();
    tickets[0]!.release(); // idempotent: frees one slot, once
    expect(pool.stats().reserved).toBe(2);
    const ok = await tickets[1]!.examine(CASES['turns left, right']!.frames(), turns('left', 'right'));
    expect(ok.ok).toBe(true);
    await expect(tickets[1]!.examine(CASES['turns left, right']!.frames(), turns('left', 'right'))).rejects.toThrow(/already used/);
    tickets[2]!.release();
    expect(pool.stats().reserved).toBe(0);
  }, 30_000);
});

describe('ExaminerPool behind the upload route', () => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let c: Client;
  const clock = new Clock();
  const SITE = { 'x-face-login-site-key': SITE_KEY };
  const PHOTO: Record<string, string> = { center: 'e2e/fixtures/poses/center.jpg', left: 'e2e/fixtures/poses/left.jpg', right: 'e2e/fixtures/poses/right.jpg', up: 'e2e/fixtures/poses/up.jpg', down: 'e2e/fixtures/poses/down.jpg' };
  /** The frames a person performing the challenge gives, in the order it asks for. */
  const framesFor = (challenge: SessionChallenge) =>
    (challenge.kind === 'poses' ? [...challenge.poses] : ['center', ...challenge.order]).map((p, i) => ({ jpeg: readFileSync(join(ROOT, PHOTO[p]!)).toString('base64'), t: i * 400 }));

  async function open(action: 'enroll' | 'verify'): Promise<{ id: string; challenge: SessionChallenge }> {
    const r = await c.req('POST', '/v1/sessions', { action, userId: 'gerhard', siteNonce: 'pool-nonce-1234' }, SITE);
    expect(r.status, r.raw).toBe(201);
    return { id: r.body.sessionId, challenge: r.body.challenge };
  }
  const send = (s: { id: string; challenge: SessionChallenge }) => c.req('POST', `/v1/sessions/${s.id}/frames`, { frames: framesFor(s.challenge) });
  const result = (id: string) => c.req('GET', `/v1/sessions/${id}/result`, undefined, SITE);

  beforeAll(async () => {
    tdb = await createDb('sqlite');
    app = await makeSessionApp(tdb.db, clock, pool);
    c = new Client(app);
    const e = await open('enroll');
    expect((await send(e)).body).toEqual({ status: 'done' });
    expect((await result(e.id)).body).toMatchObject({ state: 'done', decision: 'accept' });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('a full queue is 503 overloaded with Retry-After, the session stays open, and the same session is accepted afterwards', async () => {
    const s = await open('verify');
    // Every slot taken: an examination running (the real route's work) and the rest reserved.
    const running = pool.examine(CASES['enrol five poses']!.frames(), poses(...FIVE));
    const held = [pool.tryReserve()!, pool.tryReserve()!];
    expect(pool.tryReserve()).toBeNull();
    const busy = await send(s);
    expect(busy.status).toBe(503);
    expect(busy.body.error.code).toBe('overloaded');
    expect(busy.body.error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(busy.headers['retry-after']).toBe(String(busy.body.error.retryAfterSeconds));
    expect((await result(s.id)).body).toMatchObject({ state: 'pending' });
    for (const t of held) t.release();
    expect((await running).ok).toBe(true);
    const again = await send(s);
    expect(again.status, again.raw).toBe(200);
    expect(again.body).toEqual({ status: 'done' });
    expect((await result(s.id)).body).toMatchObject({ state: 'done', decision: 'accept', liveness: 'passed' });
    expect(pool.stats().reserved).toBe(0);
  }, 60_000);

  it('uploads to a used or unknown session give their slot back', async () => {
    const before = pool.stats().reserved;
    const r = await c.req('POST', `/v1/sessions/${'x'.repeat(43)}/frames`, { frames: framesFor(turns('left', 'right')) });
    expect(r.body.error.code).toBe('invalid-session');
    expect(pool.stats().reserved).toBe(before);
  });

  it('a worker killed during an upload: 500 internal, the session refused internal, the worker replaced, the next login accepted', async () => {
    const replaced = pool.stats().replaced;
    const s = await open('verify');
    const pending = send(s);
    await until(() => pool.stats().busy > 0);
    // Which worker got it: the busy one.
    const stats = pool.stats();
    expect(stats.busy).toBe(1);
    await pool.killWorker(0).catch(() => {});
    await pool.killWorker(1).catch(() => {});
    const r = await pending;
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('internal');
    expect((await result(s.id)).body).toMatchObject({ state: 'refused', refusal: 'internal' });
    await until(() => pool.stats().ready === 2);
    expect(pool.stats().replaced).toBe(replaced + 2);
    const next = await open('verify');
    expect((await send(next)).body).toEqual({ status: 'done' });
    expect((await result(next.id)).body).toMatchObject({ decision: 'accept' });
  }, 60_000);
});

describe('ExaminerPool: crashes, start-up, dispose', () => {
  it('a killed worker fails its job with WorkerCrashedError and is replaced; the next jobs succeed', async () => {
    const replaced = pool.stats().replaced;
    const before = pool.threadIds();
    const job = pool.examine(CASES['turns left, right']!.frames(), turns('left', 'right'));
    await until(() => pool.stats().busy === 1);
    await pool.killWorker(0); // an idle pool gives the first job to worker 0
    await expect(job).rejects.toBeInstanceOf(WorkerCrashedError);
    // Worker 1 keeps serving meanwhile.
    expect((await pool.examine(CASES['turns left, right']!.frames(), turns('left', 'right'))).ok).toBe(true);
    await until(() => pool.stats().ready === 2);
    expect(pool.stats().replaced).toBe(replaced + 1);
    expect(pool.threadIds()[0]).not.toBe(before[0]);
    expect(pool.threadIds()[1]).toBe(before[1]);
    const both = await Promise.all([0, 1].map(() => pool.examine(CASES['turns right, left']!.frames(), turns('right', 'left'))));
    for (const o of both) expectSame(o, await direct.examine(CASES['turns right, left']!.frames(), turns('right', 'left')));
  }, 60_000);

  it('create fails fast, with the reason, when a worker cannot load its models', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'face-login-no-models-'));
    try {
      const t0 = performance.now();
      const e = await ExaminerPool.create({ size: 1, examiner: { modelsDir: empty } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(VisionError);
      expect((e as VisionError).code).toBe('model-load-failed');
      expect((e as VisionError).message).toMatch(/worker 0 could not start: .*manifest/);
      expect(performance.now() - t0).toBeLessThan(20_000);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 30_000);

  it('is sized by FACE_LOGIN_EXAMINE_WORKERS and FACE_LOGIN_EXAMINE_QUEUE, its detector set by FACE_LOGIN_DETECTOR_RANGE (validated, named in the error)', () => {
    const cfg = (env: Record<string, string>) => configFromEnv(env).config;
    expect(cfg({}).examineWorkers).toBe(availableParallelism());
    expect(cfg({}).examineQueue).toBe(2 * availableParallelism());
    expect(cfg({ FACE_LOGIN_EXAMINE_WORKERS: '3' })).toMatchObject({ examineWorkers: 3, examineQueue: 6 });
    expect(cfg({ FACE_LOGIN_EXAMINE_WORKERS: '3', FACE_LOGIN_EXAMINE_QUEUE: '0' })).toMatchObject({ examineWorkers: 3, examineQueue: 0 });
    expect(cfg({}).detectorRange).toBe('short');
    expect(cfg({ FACE_LOGIN_DETECTOR_RANGE: 'full' }).detectorRange).toBe('full');
    for (const [name, bad] of [['FACE_LOGIN_EXAMINE_WORKERS', '0'], ['FACE_LOGIN_EXAMINE_WORKERS', '1.5'], ['FACE_LOGIN_EXAMINE_WORKERS', 'many'], ['FACE_LOGIN_EXAMINE_QUEUE', '-1'], ['FACE_LOGIN_DETECTOR_RANGE', 'far']] as const) {
      expect(() => cfg({ [name]: bad }), `${name}=${bad}`).toThrow(ConfigError);
      expect(() => cfg({ [name]: bad })).toThrow(name);
    }
  });

  it('admits a plain FaceExaminer one at a time, with the same bound', async () => {
    let release: () => void = () => {};
    let running = 0;
    let most = 0;
    const slow: FaceExaminer = {
      modelId: 'x',
      examine: async () => {
        most = Math.max(most, ++running);
        await new Promise<void>((r) => (release = r));
        running--;
        return { ok: false, refusal: 'no-face', message: 'm', framesUsed: 1 };
      },
      dispose: () => {},
    };
    const a = admissionFor(slow, { queue: 1 });
    const t1 = a.tryReserve()!;
    const t2 = a.tryReserve()!;
    expect(a.tryReserve()).toBeNull();
    expect(a.retryAfterSeconds()).toBeGreaterThanOrEqual(1);
    const j1 = t1.examine([], turns('left'));
    const j2 = t2.examine([], turns('left'));
    await until(() => running === 1);
    release();
    await j1;
    await until(() => running === 1);
    release();
    await j2;
    expect(most).toBe(1);
    expect(a.tryReserve()).not.toBeNull();
    // An examiner with its own admission keeps it.
    expect(admissionFor(pool, { queue: 99 }).tryReserve).toBeTypeOf('function');
  });

  it('dispose is idempotent, rejects running and queued jobs, and examine after it throws disposed', async () => {
    // Settled into values at once: TF.js's WASM module (loaded here by the direct examiner) makes any unhandled rejection fatal.
    const jobs = [0, 1, 2].map(() => pool.examine(CASES['enrol five poses']!.frames(), poses(...FIVE)).then(() => null, (e: unknown) => e));
    await until(() => pool.stats().busy === 2);
    expect(pool.stats().queued).toBe(1);
    const first = pool.dispose();
    expect(pool.dispose()).toBe(first);
    await first;
    for (const e of await Promise.all(jobs)) expect(e).toMatchObject({ name: 'VisionError', code: 'disposed' });
    await expect(pool.examine(CASES['turns left, right']!.frames(), turns('left', 'right'))).rejects.toMatchObject({ name: 'VisionError', code: 'disposed' });
    expect(() => pool.tryReserve()).toThrow(VisionError);
    await pool.dispose();
  }, 30_000);
});
