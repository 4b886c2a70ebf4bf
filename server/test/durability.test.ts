/**
 * Durability: the real server as a child process (node --import tsx server/server.ts), concurrent
 * enrollments over HTTP, SIGKILL while requests are in flight, restart on the same database.
 * Every enrollment that got its 201 must be there in full, and no user may have a partial set of
 * templates (each enrollment is one transaction).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID } from '../config.js';
import { openStore } from '../store/open.js';
import { backends, createDb, randomFace, rng, samePerson, type TestDb } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = 'durability-admin-key-0123456789';

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
}

function envFor(tdb: TestDb): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    FACE_LOGIN_ADMIN_KEY: ADMIN,
    FACE_LOGIN_RATE_LIMIT_IP: '0',
    FACE_LOGIN_RATE_LIMIT_USER: '0',
    FACE_LOGIN_LOG_LEVEL: 'warn',
    FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1',
  };
  delete env.DATABASE_URL;
  if (tdb.db.kind === 'sqlite') env.FACE_LOGIN_SQLITE = tdb.db.path;
  else {
    env.DATABASE_URL = tdb.db.url;
    env.FACE_LOGIN_PG_SCHEMA = tdb.db.schema;
  }
  return env;
}

async function start(tdb: TestDb): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts'], { cwd: ROOT, env: envFor(tdb), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${out}`));
    });
  });
  return { child, url };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const ROUNDS = 3;

describe.each(backends())('durability on %s', (backend) => {
  it(`keeps every acknowledged enrollment, and none half-written, across ${ROUNDS} SIGKILLs`, { timeout: 120_000 }, async () => {
    const tdb = await createDb(backend);
    let server: Running | null = null;
    try {
      const r = rng(backend === 'sqlite' ? 31 : 32);
      const plan = new Map<string, number>(); // user -> templates in their enrollment
      const faces = new Map<string, number[]>();
      const acked = new Set<string>();
      let next = 0;
      const log: string[] = [];

      for (let round = 0; round < ROUNDS; round++) {
        server = await start(tdb);
        const base = server.url;
        let inFlight = 0;
        let failedInFlight = 0;
        let stop = false;
        const ackedBefore = acked.size;
        const worker = async () => {
          while (!stop) {
            const userId = `user-${next++}`;
            const n = 2 + (next % 4); // 2..5 poses
            const face = randomFace(r);
            const templates = Array.from({ length: n }, (_, i) => ({ embedding: i === 0 ? face : samePerson(face, r), pose: ['center', 'left', 'right', 'up', 'down'][i] }));
            plan.set(userId, n);
            faces.set(userId, face);
            inFlight++;
            try {
              const ch = await post(`${base}/v1/challenges`, { action: 'enroll', userId });
              const res = await post(`${base}/v1/enroll`, { nonce: ch.body.nonce, userId, modelId: DEFAULT_MODEL_ID, templates });
              if (res.status === 201) {
                expect(res.body).toEqual({ userId, templates: n });
                acked.add(userId);
              } else throw new Error(`enroll ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
            } catch (e) {
              if (!stop) throw e;
              failedInFlight++;
            } finally {
              inFlight--;
            }
          }
        };
        const workers = Array.from({ length: 8 }, worker);
        // Kill once a good number of enrollments were acknowledged in this round, with requests in flight.
        while (acked.size < ackedBefore + 30) await new Promise((res) => setTimeout(res, 5));
        const inFlightAtKill = inFlight;
        stop = true;
        const child = server.child;
        child.kill('SIGKILL');
        await Promise.allSettled(workers);
        await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(null) : child.once('exit', res)));
        expect(child.signalCode).toBe('SIGKILL');
        expect(inFlightAtKill).toBeGreaterThan(0);
        expect(failedInFlight).toBeGreaterThan(0);
        log.push(`round ${round + 1}: acked ${acked.size - ackedBefore}, in flight at SIGKILL ${inFlightAtKill}`);
        server = null;
      }

      // Restart on the same database: every acknowledged enrollment is complete, none is partial.
      server = await start(tdb);
      const store = await openStore(tdb.db);
      try {
        const users = new Map<string, number>();
        for (const row of await store.scanTemplates(0, 1_000_000)) users.set(row.userId, (users.get(row.userId) ?? 0) + 1);
        for (const u of acked) expect(users.get(u), `acknowledged ${u}`).toBe(plan.get(u));
        for (const [u, count] of users) expect(count, `partial ${u}`).toBe(plan.get(u)); // all or nothing
        const unacknowledgedButCommitted = [...users.keys()].filter((u) => !acked.has(u)).length;
        console.info(
          `[durability ${backend}] ${log.join('; ')}; acknowledged ${acked.size}, all complete; stored ${users.size} ` +
            `(committed but never acknowledged: ${unacknowledgedButCommitted}); partial: 0`,
        );
      } finally {
        await store.close();
      }
      const someone = [...acked][0]!;
      const ch = await post(`${server.url}/v1/challenges`, { action: 'identify' });
      const who = await post(`${server.url}/v1/identify`, { nonce: ch.body.nonce, modelId: DEFAULT_MODEL_ID, embedding: samePerson(faces.get(someone)!, r) });
      expect(who.body).toMatchObject({ decision: 'accept', userId: someone });
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) {
        const child = server.child;
        child.kill('SIGTERM');
        await new Promise((res) => child.once('exit', res));
      }
      await tdb.drop();
    }
  });
});
