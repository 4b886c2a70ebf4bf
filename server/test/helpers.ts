/**
 * Test support: the databases to run against (SQLite always; PostgreSQL when DATABASE_URL is set,
 * each in a fresh schema created and dropped here), an injectable clock, seeded realistic
 * embeddings (random unit vectors; a "same person" probe is a template plus small noise,
 * renormalised), and a JSON client over app.inject that fails any test whose response to the page
 * carries a `score` anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { buildApp } from '../app.js';
import { defaultConfig, DEFAULT_MODEL_ID, type DbConfig, type ServerConfig } from '../config.js';
import { gauss } from '../../scripts/lib/seeded-random.mjs';

export const MODEL = DEFAULT_MODEL_ID;
export const SIZE = 192;

export type Backend = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when DATABASE_URL is set. */
export function backends(): Backend[] {
  return process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDb {
  readonly db: DbConfig;
  drop(): Promise<void>;
}

/** A fresh database: a temp SQLite file, or a new schema in DATABASE_URL's database. */
export async function createDb(kind: Backend): Promise<TestDb> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'face-login-test-'));
    return { db: { kind: 'sqlite', path: join(dir, 'test.sqlite') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = process.env.DATABASE_URL!;
  const schema = `fl_test_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  return {
    db: { kind: 'postgres', url, schema, poolSize: 5 },
    drop: async () => {
      const d = new pg.Client({ connectionString: url });
      await d.connect();
      await d.query(`DROP SCHEMA ${schema} CASCADE`);
      await d.end();
    },
  };
}

export class Clock {
  constructor(public t = Date.UTC(2026, 10, 28, 12, 0, 0)) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const SECRET = Buffer.from('test-secret-0123456789-0123456789-abcdef');

export function testConfig(db: DbConfig, clock: Clock, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return defaultConfig({
    db,
    secret: SECRET,
    adminKey: ADMIN_KEY,
    logLevel: 'silent',
    now: clock.now,
    rateLimit: { perIp: 0, perUser: 0, windowMs: 60_000 },
    ...overrides,
  });
}

export async function makeApp(db: DbConfig, clock: Clock, overrides: Partial<ServerConfig> = {}): Promise<FastifyInstance> {
  return buildApp(testConfig(db, clock, overrides), { logger: false });
}

/** mulberry32: deterministic embeddings per test (the one copy, shared with bench/ and scripts/). */
export { rng } from '../../scripts/lib/seeded-random.mjs';

export function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

/** A random unit vector (two of them have cosine ~ N(0, 1/sqrt(192)) ~ +-0.07: strangers). */
export function randomFace(r: () => number, size = SIZE): number[] {
  return normalise(Array.from({ length: size }, () => gauss(r)));
}

/** The same person: the template plus Gaussian noise, renormalised (0.06 per dimension -> cosine ~0.77). */
export function samePerson(face: readonly number[], r: () => number, noise = 0.06): number[] {
  return normalise(face.map((x) => x + noise * gauss(r)));
}

export function cos(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Walks a JSON value; true when any object in it has a `score` key. */
export function hasScoreKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasScoreKey);
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => k === 'score' || hasScoreKey(x));
  return false;
}

export interface Res {
  readonly status: number;
  readonly body: any;
  readonly headers: Record<string, unknown>;
  readonly raw: string;
}

/** JSON client over inject. Every response to the page is checked for a `score` key. */
export class Client {
  responses = 0;
  constructor(readonly app: FastifyInstance) {}

  async req(method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const opts: InjectOptions = { method, url, headers: { ...headers } };
    if (body !== undefined) {
      opts.payload = typeof body === 'string' ? body : JSON.stringify(body);
      opts.headers = { 'content-type': 'application/json', ...headers };
    }
    const r = await this.app.inject(opts);
    this.responses++;
    let parsed: unknown = undefined;
    if (r.body) {
      try {
        parsed = JSON.parse(r.body);
      } catch {
        parsed = r.body;
      }
    }
    // Admin routes and the OpenAPI document (which describes them) may name a score.
    if (!url.startsWith('/v1/admin/') && url !== '/openapi.json' && hasScoreKey(parsed)) {
      throw new Error(`Response of ${method} ${url} carries a score: ${r.body.slice(0, 200)}`);
    }
    return { status: r.statusCode, body: parsed, headers: r.headers as Record<string, unknown>, raw: r.body };
  }

  async nonce(action: string, userId?: string): Promise<string> {
    const r = await this.req('POST', '/v1/challenges', userId === undefined ? { action } : { action, userId });
    if (r.status !== 201) throw new Error(`challenge ${action} ${userId}: ${r.status} ${r.raw}`);
    return r.body.nonce as string;
  }

  async enroll(userId: string, faces: readonly (readonly number[])[], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Res> {
    const poses = ['center', 'left', 'right', 'up', 'down'];
    return this.req(
      'POST',
      '/v1/enroll',
      {
        nonce: await this.nonce('enroll', userId),
        userId,
        modelId: MODEL,
        templates: faces.map((embedding, i) => ({ embedding, pose: poses[i % poses.length] })),
        ...extra,
      },
      headers,
    );
  }

  async verify(userId: string, embedding: readonly number[]): Promise<Res> {
    return this.req('POST', '/v1/verify', { nonce: await this.nonce('verify', userId), userId, modelId: MODEL, embedding });
  }

  async identify(embedding: readonly number[]): Promise<Res> {
    return this.req('POST', '/v1/identify', { nonce: await this.nonce('identify'), modelId: MODEL, embedding });
  }
}
