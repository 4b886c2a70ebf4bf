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
import { randomAssertionKeys } from '../assertion.js';
import { defaultConfig, DEFAULT_MODEL_ID, type DbConfig, type ServerConfig } from '../config.js';
import type { ExamineOutcome, FaceExaminer, SessionChallenge, UploadedFrame } from '../vision/examine-types.js';
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
/** One signing key for the whole test process, so that two app instances accept each other's assertions. */
export const ASSERTION_KEYS = randomAssertionKeys();
/** The public keys (what GET /v1/keys serves) and the audience of the test apps' assertions. */
export const JWKS = ASSERTION_KEYS.jwks;
export const AUDIENCE = 'https://portal.test';

export function testConfig(db: DbConfig, clock: Clock, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return defaultConfig({
    db,
    assertionKeys: ASSERTION_KEYS,
    assertionAudience: AUDIENCE,
    adminKey: ADMIN_KEY,
    logLevel: 'silent',
    now: clock.now,
    rateLimit: { perIp: 0, perUser: 0, windowMs: 60_000 },
    ...overrides,
  });
}

/** An app in device mode (FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS): the device-route tests. */
export async function makeApp(db: DbConfig, clock: Clock, overrides: Partial<ServerConfig> = {}): Promise<FastifyInstance> {
  return buildApp(testConfig(db, clock, { trustDeviceEmbeddings: true, ...overrides }), { logger: false });
}

/** The site backend's key in the session tests (FACE_LOGIN_SITE_KEYS). */
export const SITE_KEY = 'test-site-key-0123456789-0123456789-abcdef';

/** An app with the session routes on: the site key configured and this examiner. */
export async function makeSessionApp(db: DbConfig, clock: Clock, examiner: FaceExaminer, overrides: Partial<ServerConfig> = {}): Promise<FastifyInstance> {
  return buildApp(testConfig(db, clock, { siteKeys: [SITE_KEY], ...overrides }), { logger: false, examiner });
}

/** One uploaded frame as the page sends it. */
export interface WireFrame {
  readonly jpeg: string;
  readonly t: number;
}

/**
 * What the session tests need from an examiner: the examiner, and the frames a person's camera
 * would give for a challenge. `perform`: the challenge done; `still`: one frontal photo held up for
 * every frame (fails liveness with any honest examiner). The tests take a rig, so the same suite
 * runs with the double below or with the real server/vision/examine.ts and real photos.
 */
export interface SessionRig {
  readonly name: string;
  readonly examiner: FaceExaminer;
  frames(person: string, challenge: SessionChallenge, how?: 'perform' | 'still'): Promise<WireFrame[]>;
  dispose(): Promise<void>;
}

/** Expected head pose of each frame that performs the challenge. */
export function posesOf(challenge: SessionChallenge): string[] {
  return challenge.kind === 'poses' ? [...challenge.poses] : ['center', ...challenge.order];
}

/**
 * A FaceExaminer test double, for where the real one cannot run: a "JPEG" is the text
 * `FAKE:<person>:<pose>` and each person has a fixed random face. It keeps the real examiner's
 * rules (every frame one face, the challenge's poses in order, one person throughout) and gives
 * the person's face as the probe and as every template.
 */
export class FakeExaminer implements FaceExaminer {
  readonly modelId = MODEL;
  readonly faces = new Map<string, Float32Array>();
  examined = 0;
  /** The templates of the last successful examination (what an enrolment must store). */
  lastTemplates: { pose: string; embedding: Float32Array }[] = [];
  constructor(private readonly r: () => number) {}

  face(person: string): Float32Array {
    let f = this.faces.get(person);
    if (!f) this.faces.set(person, (f = Float32Array.from(randomFace(this.r))));
    return f;
  }

  async examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    this.examined++;
    const framesUsed = frames.length;
    const refuse = (refusal: Exclude<ExamineOutcome, { ok: true }>['refusal']): ExamineOutcome => ({ ok: false, refusal, message: `fake: ${refusal}`, framesUsed });
    const seen = frames.map((f) => /^FAKE:([A-Za-z0-9]+):([a-z]+)$/.exec(Buffer.from(f.jpeg).toString('latin1')));
    if (frames.length < 2 || seen.some((m) => m === null) || frames.some((f, i) => i > 0 && f.t <= frames[i - 1]!.t)) return refuse('bad-frames');
    if (seen.some((m) => m![1] === 'noface')) return refuse('no-face');
    if (seen.some((m) => m![1] === 'twofaces')) return refuse('multiple-faces');
    const want = posesOf(challenge);
    let k = 0;
    for (const m of seen) if (k < want.length && m![2] === want[k]) k++;
    if (k < want.length) return refuse('liveness-failed');
    if (new Set(seen.map((m) => m![1])).size !== 1) return refuse('identity-changed');
    const face = this.face(seen[0]![1]!);
    const templates = challenge.kind === 'poses' ? challenge.poses.map((pose) => ({ pose, embedding: face })) : [];
    this.lastTemplates = templates.map((t) => ({ pose: t.pose, embedding: t.embedding }));
    return { ok: true, probe: face, templates, liveness: 'passed', modelId: this.modelId, framesUsed };
  }

  dispose(): void {}
}

export function fakeRig(r: () => number): SessionRig & { examiner: FakeExaminer } {
  const examiner = new FakeExaminer(r);
  const frame = (person: string, pose: string, i: number): WireFrame => ({ jpeg: Buffer.from(`FAKE:${person}:${pose}`).toString('base64'), t: i * 100 });
  return {
    name: 'fake examiner',
    examiner,
    frames: async (person, challenge, how = 'perform') => {
      const poses = posesOf(challenge);
      return (how === 'still' ? poses.map(() => 'center') : poses).map((pose, i) => frame(person, pose, i));
    },
    dispose: async () => {},
  };
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

  async req(method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}, from: { remoteAddress?: string } = {}): Promise<Res> {
    const opts: InjectOptions = { method, url, headers: { ...headers }, ...from };
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

  /** `from`: the client address (the lockout counts per address too). */
  async verify(userId: string, embedding: readonly number[], from: { remoteAddress?: string } = {}): Promise<Res> {
    return this.req('POST', '/v1/verify', { nonce: await this.nonce('verify', userId), userId, modelId: MODEL, embedding }, {}, from);
  }

  async identify(embedding: readonly number[], from: { remoteAddress?: string } = {}): Promise<Res> {
    return this.req('POST', '/v1/identify', { nonce: await this.nonce('identify'), modelId: MODEL, embedding }, {}, from);
  }
}
