/**
 * The page's side of sessions against the REAL server (server/app.ts with the session routes,
 * listening on a loopback port), as the site's backend and the page use it: the site opens a
 * session with its key, the page (no key) reads it, films the challenge with a FaceAuth and
 * uploads, and the site reads what the server decided. The engine runs on scripted adapters (a
 * camera, a detector whose keypoints are a head model turned to the pose the guidance asks for);
 * the examiner is the server's test double (server/test/helpers.ts FakeExaminer: a "JPEG" is the
 * text FAKE:<person>:<pose>, and it keeps the real examiner's rules), so the encoder here writes
 * who is in view and in which pose, while the frame is current. The real models, JPEGs and the
 * real examiner run in e2e/sessions.e2e.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { FaceAuth } from '../../src/core/engine.js';
import { FaceLoginError } from '../../src/core/errors.js';
import { l2normalize } from '../../src/core/match.js';
import { project } from '../support/head-projection.js';
import type { FrameEncoder } from '../../src/core/session.js';
import type { Aligner, Camera, Detection, Embedder, FaceDetector, Frame } from '../../src/core/types.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { LocalVerifier } from '../../src/adapters/verifier/local-verifier.js';
import { ServerFailure, ServerRefusal } from '../../src/adapters/verifier/http-call.js';
import { runSession, SessionClient, sessionSpent, toBase64, uploadFrames } from '../../src/adapters/verifier/session-client.js';
import { backends, Clock, createDb, fakeRig, makeSessionApp, rng, SITE_KEY, type TestDb } from '../../server/test/helpers.js';
import type { ExamineOutcome, FaceExaminer, SessionChallenge, UploadedFrame } from '../../server/vision/examine-types.js';

type PoseLabel = 'center' | 'left' | 'right' | 'up' | 'down';
const ANGLES: Record<PoseLabel, { yaw: number; pitch: number }> = {
  center: { yaw: 0, pitch: 0 },
  left: { yaw: 32, pitch: 0 },
  right: { yaw: -32, pitch: 0 },
  up: { yaw: 0, pitch: 22 },
  down: { yaw: 0, pitch: -22 },
};

/** BlazeFace's six keypoints of the head model (src/core/pose.ts) at this yaw and pitch, as a camera sees them. */
const keypoints = (yaw: number, pitch: number): { x: number; y: number }[] => project(yaw, pitch, 0, 0.9, 260, 140);

/** Who stands in front of the camera, and how they hold their head. */
class Person {
  name = 'alice';
  pose: PoseLabel = 'center';
  /** Does what the guidance asks (else keeps its pose: a photo held up). */
  cooperative = true;
}

class ScriptedCamera implements Camera {
  running = false;
  private ts = 0;
  async start() {
    this.running = true;
    return {} as HTMLVideoElement;
  }
  frame(): Frame | null {
    return this.running ? { source: {} as HTMLCanvasElement, width: 640, height: 480, timestamp: (this.ts += 33.3) } : null;
  }
  onEnded() {
    return () => undefined;
  }
  stop() {
    this.running = false;
  }
}

class PersonDetector implements FaceDetector {
  id = 'scripted';
  constructor(private readonly person: Person) {}
  detect(): Detection[] {
    const { yaw, pitch } = ANGLES[this.person.pose];
    return [{ box: { x: 200, y: 100, width: 120, height: 120 }, score: 0.9, keypoints: keypoints(yaw, pitch) }];
  }
  dispose() {}
}

/** A well-lit, textured crop: passes the exposure and sharpness gates. */
class TexturedAligner implements Aligner {
  size = 112;
  align(): ImageData {
    const data = new Uint8ClampedArray(112 * 112 * 4);
    for (let i = 0; i < 112 * 112; i++) data.fill(i % 7 === 0 ? 200 : 110, i * 4, i * 4 + 3), (data[i * 4 + 3] = 255);
    return { data, width: 112, height: 112, colorSpace: 'srgb' } as ImageData;
  }
}

class NoEmbedder implements Embedder {
  modelId = 'unused';
  size = 3;
  inputSize = 112;
  backend = 'cpu' as const;
  async embed(crops: readonly ImageData[]) {
    return crops.map(() => l2normalize([1, 0, 0]));
  }
  dispose() {}
}

/** The FakeExaminer's "JPEG" of what is in view now: FAKE:<person>:<pose>, written while the frame is current. */
function fakeEncoder(person: Person, lie?: (n: number) => string): FrameEncoder & { calls: number } {
  const enc = {
    calls: 0,
    encode: async (_frame: Frame) => new TextEncoder().encode(lie ? lie(enc.calls++) : (enc.calls++, `FAKE:${person.name}:${person.pose}`)),
  };
  return enc;
}

/** Wraps the examiner: keeps what each upload carried (decoded back to text). */
class Recording implements FaceExaminer {
  uploads: { frames: string[]; t: number[]; challenge: SessionChallenge }[] = [];
  constructor(private readonly inner: FaceExaminer) {}
  get modelId() {
    return this.inner.modelId;
  }
  examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    this.uploads.push({ frames: frames.map((f) => new TextDecoder().decode(f.jpeg)), t: frames.map((f) => f.t), challenge });
    return this.inner.examine(frames, challenge);
  }
  dispose() {}
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
}

describe.each(backends())('sessions from the page against the real server on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let base: string;
  let examiner: Recording;
  const clock = new Clock();
  let sent: Sent[];
  const pageFetch: typeof fetch = async (url, init = {}) => {
    const u = new URL(String(url));
    sent.push({ method: init.method ?? 'GET', path: u.pathname, headers: { ...(init.headers as Record<string, string>) }, credentials: init.credentials });
    return fetch(url, init);
  };

  /** The site's backend: opens sessions and reads results with its key. */
  const site = {
    async open(action: 'enroll' | 'verify' | 'identify', userId?: string): Promise<{ sessionId: string; challenge: SessionChallenge }> {
      const r = await fetch(`${base}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-face-login-site-key': SITE_KEY },
        body: JSON.stringify({ action, ...(userId ? { userId } : {}), siteNonce: 'site-nonce-0001' }),
      });
      expect(r.status).toBe(201);
      return r.json();
    },
    async result(sessionId: string): Promise<Record<string, unknown>> {
      const r = await fetch(`${base}/v1/sessions/${sessionId}/result`, { headers: { 'x-face-login-site-key': SITE_KEY } });
      expect(r.status).toBe(200);
      return r.json();
    },
  };

  beforeAll(async () => {
    tdb = await createDb(backend);
    examiner = new Recording(fakeRig(rng(7)).examiner);
    app = await makeSessionApp(tdb.db, clock, examiner);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });
  beforeEach(() => {
    sent = [];
  });

  /** A running engine on the scripted parts, with `person` in front of the camera. */
  async function engine(person: Person, challengeTimeoutMs = 10_000) {
    const store = new MemoryTemplateStore();
    const auth = new FaceAuth({
      camera: new ScriptedCamera(),
      detector: new PersonDetector(person),
      aligner: new TexturedAligner(),
      embedder: new NoEmbedder(),
      store,
      verifier: new LocalVerifier(store, () => 0.5),
      threshold: 0.5,
      challengeTimeoutMs,
      sampleIntervalMs: 40,
    });
    // A cooperative person turns as the guidance says (a turn step or a pose; 'probe' = face the camera).
    const steps: string[] = [];
    auth.addEventListener('guidance', (e) => {
      if (steps.at(-1) !== e.detail.step) steps.push(e.detail.step);
      if (!person.cooperative) return;
      const s = e.detail.step;
      person.pose = s === 'probe' ? 'center' : s.startsWith('liveness-') ? (s.slice('liveness-'.length) as PoseLabel) : (s as PoseLabel);
    });
    await auth.startCamera();
    return { auth, steps };
  }

  it('enroll: the page reads the session without a key, films the five poses in the server\'s order, uploads; the site reads accept', async () => {
    const person = new Person();
    const { auth, steps } = await engine(person);
    try {
      const { sessionId, challenge } = await site.open('enroll', 'alice');
      expect(challenge).toEqual({ kind: 'poses', poses: ['center', 'left', 'right', 'up', 'down'] });
      expect(await site.result(sessionId)).toMatchObject({ state: 'pending' });
      const infos: unknown[] = [];
      const encoder = fakeEncoder(person);
      const out = await runSession(auth, { server: `${base}/`, sessionId }, { encoder, client: { fetch: pageFetch }, onInfo: (i) => infos.push(i) });
      expect(out).toEqual({ kind: 'submitted', sessionId, action: 'enroll' });
      expect(infos).toEqual([{ sessionId, action: 'enroll', challenge, expiresAt: expect.any(String) }]);
      // The page's two requests: no site key, no cookies.
      expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([`GET /v1/sessions/${sessionId}`, `POST /v1/sessions/${sessionId}/frames`]);
      for (const s of sent) {
        expect(Object.keys(s.headers).map((h) => h.toLowerCase())).not.toContain('x-face-login-site-key');
        expect(s.credentials).toBe('omit');
      }
      expect(steps).toEqual(['center', 'left', 'right', 'up', 'down']);
      // Two frames per pose, in order, with times from 0 strictly increasing.
      const up = examiner.uploads.at(-1)!;
      expect(up.frames).toEqual(['center', 'center', 'left', 'left', 'right', 'right', 'up', 'up', 'down', 'down'].map((p) => `FAKE:alice:${p}`));
      expect(up.t[0]).toBe(0);
      for (let i = 1; i < up.t.length; i++) expect(up.t[i]).toBeGreaterThan(up.t[i - 1]!);
      expect(await site.result(sessionId)).toMatchObject({ action: 'enroll', userId: 'alice', state: 'done', decision: 'accept', liveness: 'passed' });
      expect(await app.store.templatesOf('alice', examiner.modelId)).toHaveLength(5);
    } finally {
      auth.dispose();
    }
  });

  it('verify: frontal frames, then the turns in the server\'s order; the right person is accepted, another rejected, and the page hears only "submitted"', async () => {
    const person = new Person();
    const { auth, steps } = await engine(person);
    try {
      const orders = new Set<string>();
      for (const [who, decision] of [['alice', 'accept'], ['bob', 'reject'], ['alice', 'accept'], ['bob', 'reject']] as const) {
        person.name = who;
        steps.length = 0;
        const { sessionId, challenge } = await site.open('verify', 'alice');
        if (challenge.kind !== 'turns') throw new Error('a verify session is a turns challenge');
        orders.add(challenge.order.join(','));
        const out = await runSession(auth, { server: base, sessionId }, { encoder: fakeEncoder(person), client: { fetch: pageFetch } });
        expect(out).toEqual({ kind: 'submitted', sessionId, action: 'verify' });
        expect(JSON.stringify(out)).not.toMatch(/accept|reject|score/);
        const [a, b] = challenge.order as ['left' | 'right', 'left' | 'right'];
        expect(steps).toEqual(['probe', `liveness-${a}`, `liveness-${b}`]);
        expect(examiner.uploads.at(-1)!.frames).toEqual(['center', 'center', a, a, b, b].map((p) => `FAKE:${who}:${p}`));
        expect(await site.result(sessionId)).toMatchObject({ action: 'verify', userId: 'alice', state: 'done', decision, liveness: 'passed' });
      }
      // (Not asserted: that both orders came up; the server draws them at random.)
      expect(orders.size).toBeGreaterThanOrEqual(1);
    } finally {
      auth.dispose();
    }
  });

  it('identify: the site reads who it was (the page never does)', async () => {
    const person = new Person();
    const { auth } = await engine(person);
    try {
      const { sessionId } = await site.open('identify');
      expect(await runSession(auth, { server: base, sessionId }, { encoder: fakeEncoder(person) })).toEqual({ kind: 'submitted', sessionId, action: 'identify' });
      expect(await site.result(sessionId)).toMatchObject({ action: 'identify', userId: 'alice', state: 'done', decision: 'accept' });
    } finally {
      auth.dispose();
    }
  });

  it('a photo that never turns: the page gives up with liveness-failed, uploads nothing, and the session stays open for another try', async () => {
    const person = new Person();
    person.cooperative = false;
    const { auth } = await engine(person, 800);
    try {
      const { sessionId } = await site.open('verify', 'alice');
      const uploadsBefore = examiner.uploads.length;
      const e = await runSession(auth, { server: base, sessionId }, { encoder: fakeEncoder(person), client: { fetch: pageFetch } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(FaceLoginError);
      expect(e).toMatchObject({ code: 'liveness-failed' });
      expect(sessionSpent(e)).toBe(false);
      expect(sent.map((s) => s.method)).toEqual(['GET']);
      expect(examiner.uploads.length).toBe(uploadsBefore);
      expect(await site.result(sessionId)).toMatchObject({ state: 'pending' });
      // The same session, now with someone who turns.
      person.cooperative = true;
      expect(await runSession(auth, { server: base, sessionId }, { encoder: fakeEncoder(person) })).toMatchObject({ kind: 'submitted' });
      expect(await site.result(sessionId)).toMatchObject({ state: 'done', decision: 'accept' });
    } finally {
      auth.dispose();
    }
  });

  it('the engine refuses a challenge it does not know (invalid-input) and reports a frame it cannot encode (frame-failed)', async () => {
    const person = new Person();
    const { auth } = await engine(person);
    try {
      const encoder = fakeEncoder(person);
      for (const bad of [{ kind: 'blink' }, { kind: 'turns', order: ['up'] }, { kind: 'turns', order: [] }, { kind: 'poses', poses: ['sideways'] }, null]) {
        await expect(auth.captureChallenge(bad as unknown as SessionChallenge, { encoder })).rejects.toMatchObject({ code: 'invalid-input' });
      }
      expect(encoder.calls).toBe(0);
      const broken: FrameEncoder = {
        encode: () => {
          throw new Error('no canvas');
        },
      };
      await expect(auth.captureChallenge({ kind: 'turns', order: ['left', 'right'] }, { encoder: broken })).rejects.toMatchObject({ code: 'frame-failed', message: expect.stringContaining('no canvas') });
      // The engine is free again afterwards, and the frames it keeps are the ones encoded while current.
      const frames = await auth.captureChallenge({ kind: 'turns', order: ['right', 'left'] }, { encoder, perTurn: 1, frontal: 1 });
      expect(frames.map((f) => [f.step, new TextDecoder().decode(f.jpeg)])).toEqual([
        ['center', 'FAKE:alice:center'],
        ['right', 'FAKE:alice:right'],
        ['left', 'FAKE:alice:left'],
      ]);
      expect(frames[1]!.pose.yaw).toBeLessThan(-22);
      expect(frames[2]!.pose.yaw).toBeGreaterThan(22);
    } finally {
      auth.dispose();
    }
  });

  it('an aborted capture sends nothing', async () => {
    const person = new Person();
    person.cooperative = false;
    const { auth } = await engine(person);
    try {
      const { sessionId } = await site.open('verify', 'alice');
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await expect(runSession(auth, { server: base, sessionId }, { encoder: fakeEncoder(person), signal: ac.signal, client: { fetch: pageFetch } })).rejects.toMatchObject({ code: 'aborted' });
      expect(sent.map((s) => s.method)).toEqual(['GET']);
      expect(await site.result(sessionId)).toMatchObject({ state: 'pending' });
    } finally {
      auth.dispose();
    }
  });

  describe('the server\'s refusals become FaceLoginErrors (pageErrorCode); the session is then spent', () => {
    const frames = (texts: string[]) => texts.map((s, i) => ({ jpeg: new TextEncoder().encode(s), t: i * 100 }));
    const turns = (who: string, order: readonly string[]) => ['center', ...order].map((p) => `FAKE:${who}:${p}`);
    const cases: [string, string, string, (order: readonly string[]) => string[]][] = [
      ['no face in a frame', 'no-face', 'no-face', (o) => ['FAKE:noface:center', ...turns('alice', o)]],
      ['two faces', 'multiple-faces', 'multiple-faces', (o) => [...turns('alice', o), 'FAKE:twofaces:center']],
      ['no turns (a photo)', 'liveness-failed', 'liveness-failed', () => ['FAKE:alice:center', 'FAKE:alice:center', 'FAKE:alice:center']],
      ['another person mid-way', 'liveness-failed', 'identity-changed', (o) => ['FAKE:alice:center', `FAKE:alice:${o[0]}`, `FAKE:bob:${o[1]}`]],
      ['not a JPEG', 'invalid-input', 'bad-frames', () => ['not an image', 'at all']],
    ];
    it.each(cases)('%s -> %s (server: %s)', async (_what, code, serverCode, make) => {
      const client = new SessionClient({ baseUrl: base });
      const { sessionId } = await site.open('verify', 'alice');
      const { challenge } = await client.info(sessionId);
      if (challenge.kind !== 'turns') throw new Error('turns expected');
      const e = await client.upload(sessionId, frames(make(challenge.order))).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ServerRefusal);
      expect(e).toMatchObject({ code, serverCode, status: 200 });
      expect(sessionSpent(e)).toBe(true);
      expect(await site.result(sessionId)).toMatchObject({ state: 'refused', refusal: serverCode });
      // Used up: reading or uploading again is invalid-session.
      // One after the other: each promise is made only when it is awaited (no rejection left unhandled meanwhile).
      for (const again of [() => client.info(sessionId), () => client.upload(sessionId, frames(turns('alice', challenge.order)))]) {
        const x = await again().catch((y: unknown) => y);
        expect(x).toMatchObject({ code: 'backend-error', serverCode: 'invalid-session', status: 404 });
        expect(sessionSpent(x)).toBe(true);
      }
    });

    it('an unknown session is invalid-session; a malformed id is invalid-input and is never sent', async () => {
      const client = new SessionClient({ baseUrl: base, fetch: pageFetch });
      const unknown = 'A'.repeat(43);
      await expect(client.info(unknown)).rejects.toMatchObject({ code: 'backend-error', serverCode: 'invalid-session' });
      for (const bad of ['', 'short', 'A'.repeat(42) + '!', '../../v1/health']) {
        await expect(client.info(bad)).rejects.toMatchObject({ code: 'invalid-input' });
        await expect(client.upload(bad, frames(['FAKE:alice:center']))).rejects.toMatchObject({ code: 'invalid-input' });
      }
      expect(sent.map((s) => s.path)).toEqual([`/v1/sessions/${unknown}`]);
    });

    it('frames the server would refuse unread are refused on the page first (count, time order)', async () => {
      const client = new SessionClient({ baseUrl: base, fetch: pageFetch });
      const { sessionId } = await site.open('verify', 'alice');
      await expect(client.upload(sessionId, [])).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(client.upload(sessionId, frames(Array(25).fill('FAKE:alice:center')))).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(client.upload(sessionId, [{ jpeg: new Uint8Array([1, 2, 3]), t: 5 }, { jpeg: new Uint8Array([1, 2, 3]), t: 5 }])).rejects.toMatchObject({ code: 'invalid-input' });
      expect(() => uploadFrames([
        { jpeg: new Uint8Array(1), timestamp: 10, step: 'center', pose: { yaw: 0, pitch: 0, roll: 0 } },
        { jpeg: new Uint8Array(1), timestamp: 10, step: 'center', pose: { yaw: 0, pitch: 0, roll: 0 } },
      ])).toThrowError(FaceLoginError);
      expect(sent).toEqual([]);
      expect(await site.result(sessionId)).toMatchObject({ state: 'pending' });
    });
  });
});

describe('answers no honest server gives are backend-error; outages and overload backend-unavailable', () => {
  const ID = 'B'.repeat(43);
  const scripted = (status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch =>
    (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })) as typeof fetch;
  const client = (f: typeof fetch) => new SessionClient({ baseUrl: 'http://127.0.0.1:9', fetch: f });
  const one = [{ jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), t: 0 }];

  it.each([
    ['an unknown challenge kind', { action: 'verify', challenge: { kind: 'blink', times: 3 }, expiresAt: '2026-01-01T00:00:00Z' }],
    ['a turn that is not left or right', { action: 'verify', challenge: { kind: 'turns', order: ['up'] }, expiresAt: '2026-01-01T00:00:00Z' }],
    ['a user id the page must never see', { action: 'verify', userId: 'alice', challenge: { kind: 'turns', order: ['left', 'right'] }, expiresAt: '2026-01-01T00:00:00Z' }],
    ['no expiry', { action: 'enroll', challenge: { kind: 'poses', poses: ['center'] } }],
    ['not JSON', '<html>captive portal</html>'],
  ])('session info with %s', async (_what, body) => {
    await expect(client(scripted(200, body)).info(ID)).rejects.toMatchObject({ code: 'backend-error' });
  });

  it.each([
    ['another status word', { status: 'accepted' }],
    ['a decision the page must never see', { status: 'done', decision: 'accept' }],
    ['a score', { status: 'done', score: 0.9 }],
    ['nothing', ''],
  ])('upload answered with %s', async (_what, body) => {
    await expect(client(scripted(200, body)).upload(ID, one)).rejects.toMatchObject({ code: 'backend-error' });
  });

  it('a 4xx that is not the server\'s own error body is backend-error, never a refusal with a code', async () => {
    const e = await client(scripted(422, { error: 'no-face' })).upload(ID, one).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'backend-error' });
    expect(e).not.toBeInstanceOf(ServerRefusal);
    expect(sessionSpent(e)).toBe(false);
  });

  it('a refusal code this page does not know (a newer server) is backend-error, keeping the server\'s code', async () => {
    const e = await client(scripted(422, { error: { code: 'too-dark', message: 'm' } })).upload(ID, one).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'backend-error', serverCode: 'too-dark' });
  });

  it('overloaded (503 with Retry-After) is backend-overloaded; a 5xx, an outage and a timeout are backend-unavailable; all leave the session usable', async () => {
    const busy = await client(scripted(503, { error: { code: 'overloaded', message: 'Try again soon.' } }, { 'retry-after': '7' })).upload(ID, one).catch((x: unknown) => x);
    expect(busy).toBeInstanceOf(ServerFailure);
    expect(busy).toMatchObject({ code: 'backend-overloaded', retryAfterSeconds: 7, serverCode: 'overloaded', status: 503 });
    expect(sessionSpent(busy)).toBe(false);
    await expect(client(scripted(502, 'Bad gateway')).info(ID)).rejects.toMatchObject({ code: 'backend-unavailable' });
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(client(down).upload(ID, one)).rejects.toMatchObject({ code: 'backend-unavailable' });
    const never = ((_u: unknown, init?: RequestInit) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    await expect(new SessionClient({ baseUrl: 'http://x', fetch: never, timeoutMs: 50 }).info(ID)).rejects.toMatchObject({ code: 'backend-unavailable', message: expect.stringContaining('timed out') });
  });

  it('the caller\'s abort is aborted, not an outage', async () => {
    const never = ((_u: unknown, init?: RequestInit) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    const ac = new AbortController();
    const p = new SessionClient({ baseUrl: 'http://x', fetch: never }).info(ID, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'aborted' });
  });

  it('base64 of the JPEG bytes, in chunks (large frames too)', () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(toBase64(new Uint8Array())).toBe('');
  });
});
