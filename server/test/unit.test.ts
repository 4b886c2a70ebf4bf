/** Pure parts: lockout policy, assertions, the gallery and its SIMD kernel, the threshold report, config. */
import { describe, expect, it } from 'vitest';
import { randomAssertionKeys, signAssertion } from '../assertion.js';
import { verifyFaceLoginAssertion } from '../../src/server-client/assertion.js';
import { afterFailure, guardsFor, isDisabled, lockRemainingMs, type GuardState } from '../audit/lockout.js';
import { buildReport, formatReport, recommend } from '../audit/report.js';
import { ConfigError, configFromEnv, defaultConfig, DEFAULT_MODEL_ID } from '../config.js';
import { toUnitVector } from '../embedding.js';
import { ModelGallery } from '../index/gallery.js';
import { DEFAULT_THRESHOLD, IMPOSTOR_TAIL, MODEL_CALIBRATIONS } from '../../src/core/calibration.js';
import { randomFace, rng, samePerson } from './helpers.js';

describe('lockout policy', () => {
  const { user, address } = defaultConfig().lockout;
  it('a user: locks on the 5th consecutive failure however far apart, 5 then 10 min, then disabled', () => {
    let g: GuardState | null = null;
    let t = 1_000_000;
    for (let i = 0; i < 4; i++) g = afterFailure(g, (t += 30 * 24 * 3600_000), user); // a month apart
    expect(lockRemainingMs(g, t)).toBe(0);
    g = afterFailure(g, (t += 1000), user);
    expect(lockRemainingMs(g, t)).toBe(5 * 60_000);
    t = g.lockedUntil + 1;
    for (let i = 0; i < 5; i++) g = afterFailure(g, t, user);
    expect(lockRemainingMs(g, t)).toBe(10 * 60_000);
    t = g!.lockedUntil + 1;
    for (let i = 0; i < 5; i++) g = afterFailure(g, t, user);
    expect(isDisabled(g)).toBe(true);
    expect(lockRemainingMs(g, t + 10 * 365 * 24 * 3600_000)).toBeGreaterThan(0); // until unlocked
  });

  it('an address: 20 failures within 10 minutes; older ones leave the window; locks double up to a day, the level resets after a quiet day', () => {
    let g: GuardState | null = null;
    for (let i = 0; i < 19; i++) g = afterFailure(g, i * 1000, address);
    g = afterFailure(g, 10 * 60_000 + 500, address); // the first failure left the window
    expect(lockRemainingMs(g, 10 * 60_000 + 500)).toBe(0);
    expect(g.failures).toHaveLength(19);
    g = afterFailure(g, 10 * 60_000 + 600, address);
    expect(lockRemainingMs(g, 10 * 60_000 + 600)).toBe(15 * 60_000);
    const locks: number[] = [];
    for (let k = 0; k < 8; k++) {
      const t = g.lockedUntil + 1;
      for (let i = 0; i < 20; i++) g = afterFailure(g, t, address);
      locks.push(lockRemainingMs(g, t) / 60_000);
    }
    expect(locks).toEqual([30, 60, 120, 240, 480, 960, 1440, 1440]);
    expect(isDisabled(g)).toBe(false); // an address is never disabled for good
    const later = g.lockedUntil + 25 * 3600_000;
    let h: GuardState = g;
    for (let i = 0; i < 20; i++) h = afterFailure(h, later, address);
    expect(lockRemainingMs(h, later)).toBe(15 * 60_000);
  });

  it('guardsFor: the address always (unless turned off), the user when there is one; only the user resets on success', () => {
    const l = defaultConfig().lockout;
    expect(guardsFor(l, { userId: 'ann', ip: '1.2.3.4' }).map((g) => [g.key, g.resetOnSuccess])).toEqual([
      ['ip:1.2.3.4', false],
      ['user:ann', true],
    ]);
    expect(guardsFor(l, { userId: null, ip: '1.2.3.4' }).map((g) => g.key)).toEqual(['ip:1.2.3.4']);
    expect(guardsFor({ ...l, address: { ...l.address, maxFailures: 0 } }, { userId: null, ip: '1.2.3.4' })).toEqual([]);
  });
});

describe('assertions', () => {
  // The attacks (forgery, alg none / HS256, re-encodings, audience, expiry, proofs) are in assertions.test.ts.
  it('round-trip: signed in one spelling, read back with the claims, refused under another key', async () => {
    const keys = randomAssertionKeys();
    const now = 1_800_000_000_000;
    const tok = signAssertion(keys, { aud: 'https://portal.example', sub: 'alice', act: 'verify', nonce: 'n'.repeat(43) }, { nowMs: now, ttlS: 60 });
    const ok = await verifyFaceLoginAssertion(tok, { keys: keys.jwks, audience: 'https://portal.example', subject: 'alice', action: 'verify', now: now + 30_000 });
    expect(ok.ok && ok.claims).toMatchObject({ iss: 'face-login', aud: 'https://portal.example', sub: 'alice', act: 'verify', iat: now / 1000, exp: now / 1000 + 60 });
    expect(JSON.parse(Buffer.from(tok.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: keys.kid, typ: 'face-login+jwt' });
    expect((await verifyFaceLoginAssertion(tok, { keys: randomAssertionKeys().jwks, audience: 'https://portal.example', now })).ok).toBe(false);
    expect(signAssertion(keys, { aud: 'a', sub: 'alice', act: 'verify', nonce: 'n'.repeat(43) }, { nowMs: now })).not.toBe(tok); // fresh jti
  });
});

describe('embedding validation', () => {
  const m = { size: 4, threshold: 0.5 };
  it('normalises, and refuses what cannot be a unit vector', () => {
    const v = toUnitVector([3, 0, 4, 0], m, 'e');
    expect(Array.from(v)).toEqual([0.6000000238418579, 0, 0.800000011920929, 0]);
    for (const bad of [[1, 2, 3], [0, 0, 0, 0], [NaN, 1, 1, 1], [Infinity, 1, 1, 1], [1e200, 1e200, 0, 0], ['1', 1, 1, 1], [1e-300, 0, 0, 0]]) {
      expect(() => toUnitVector(bad, m, 'e')).toThrow(expect.objectContaining({ code: 'invalid-embedding' }));
    }
  });
});

describe('gallery', () => {
  function bruteForce(users: Map<string, Float32Array[]>, probe: Float32Array, exclude?: string) {
    let best = -Infinity;
    let who: string | null = null;
    for (const [u, list] of users) {
      if (u === exclude) continue;
      for (const e of list) {
        let s = 0;
        for (let i = 0; i < e.length; i++) s += e[i]! * probe[i]!;
        if (s > best) {
          best = s;
          who = u;
        }
      }
    }
    return who === null ? null : { userId: who, score: best };
  }

  it('uses the WebAssembly SIMD kernel on Node', () => {
    expect(new ModelGallery(192).simd).toBe(true);
  });

  for (const simd of [true, false]) {
    it(`${simd ? 'SIMD' : 'JS'} scan matches brute force through adds, replacements and removals (odd size 37)`, () => {
      const r = rng(3);
      const size = 37; // not a multiple of 8: exercises the padding
      const g = new ModelGallery(size, { simd });
      const users = new Map<string, Float32Array[]>();
      const f = () => Float32Array.from(randomFace(r, size));
      for (let step = 0; step < 3000; step++) {
        const u = `u${Math.floor(r() * 300)}`;
        const op = r();
        if (op < 0.15) {
          g.removeUser(u);
          users.delete(u);
        } else {
          const list = Array.from({ length: 1 + Math.floor(r() * 4) }, f);
          g.setUser(u, list);
          users.set(u, list);
        }
        if (step % 50 === 0) {
          const probe = users.size && r() < 0.5 ? Float32Array.from(samePerson(Array.from([...users.values()][0]![0]!), r, 0.1)) : f();
          const exclude = r() < 0.3 ? [...users.keys()][0] : undefined;
          const want = bruteForce(users, probe, exclude);
          const got = g.best([probe], exclude);
          expect(got?.userId).toBe(want?.userId);
          if (got && want) expect(got.score).toBeCloseTo(want.score, 5);
        }
      }
      expect(g.users).toBe(users.size);
      expect(g.templates).toBe([...users.values()].reduce((n, l) => n + l.length, 0));
    });
  }

  it('stays exact when every score is close (a tight cluster stresses the int8 pre-filter)', () => {
    const r = rng(12);
    const centre = randomFace(r);
    const users = new Map<string, Float32Array[]>();
    const g = new ModelGallery(192);
    for (let i = 0; i < 2000; i++) {
      const list = [Float32Array.from(samePerson(centre, r, 0.02))]; // all pairwise cosines ~0.93
      users.set(`u${i}`, list);
      g.setUser(`u${i}`, list);
    }
    for (let k = 0; k < 50; k++) {
      const probe = Float32Array.from(samePerson(centre, r, 0.02));
      const want = bruteForce(users, probe);
      const got = g.best([probe]);
      expect(got?.userId).toBe(want?.userId);
      expect(got!.score).toBeCloseTo(want!.score, 6);
    }
  });

  it('grows past its first capacity and finds the right user among 5,000', () => {
    const r = rng(4);
    const g = new ModelGallery(192);
    const faces: number[][] = [];
    for (let i = 0; i < 5000; i++) {
      faces.push(randomFace(r));
      g.setUser(`u${i}`, [Float32Array.from(faces[i]!)]);
    }
    const m = g.best([Float32Array.from(samePerson(faces[4321]!, r))]);
    expect(m?.userId).toBe('u4321');
    expect(m!.score).toBeGreaterThan(0.6);
  });
});

describe('threshold report', () => {
  it('computes FMR / FNMR per threshold and the lowest threshold at FMR <= target', () => {
    const r = rng(8);
    const impostor = Array.from({ length: 5000 }, () => (r() - 0.5) * 0.6); // [-0.3, 0.3)
    impostor.push(0.5, 0.45, 0.41, 0.39, 0.37); // 5 high impostors: FMR 1e-3 allows floor(5.005) = 5
    const genuine = Array.from({ length: 1000 }, () => 0.35 + r() * 0.6);
    const rec = recommend(genuine, impostor, 1e-3);
    // 5 may be at or above t, the 6th highest (< 0.3) must be below.
    expect(rec.threshold).toBeGreaterThan(0.29);
    expect(rec.threshold).toBeLessThanOrEqual(0.3001);
    expect(rec.fmr).toBeLessThanOrEqual(1e-3);
    expect(rec.reliable).toBe(true);
    const strict = recommend(genuine, impostor, 1e-4);
    expect(strict.threshold).toBe(0.5001); // no false match allowed among 5,005
    expect(strict.reliable).toBe(false);
    const report = buildReport([
      ...genuine.map((score) => ({ score, label: 'genuine' as const, modelId: 'm', action: 'verify' as const })),
      ...impostor.map((score) => ({ score, label: 'impostor' as const, modelId: 'm', action: 'verify' as const })),
    ]);
    const at40 = report.rows.find((x) => x.threshold === 0.4)!;
    expect(at40.falseMatches).toBe(3);
    expect(at40.falseNonMatches).toBe(genuine.filter((s) => s < 0.4).length);
    const text = formatReport(report, { model: 'm', current: 0.4 });
    expect(text).toContain('recommended @ FMR<=0.001');
    expect(text).toContain('| 0.4000 (current) |');
  });

  it('says so when nothing bounds the FMR', () => {
    expect(recommend([0.9], [], 1e-3)).toMatchObject({ threshold: null, reliable: false });
  });
});

describe('config from the environment', () => {
  it('defaults to SQLite, the calibrated threshold and the demo origins', () => {
    const { config, warnings } = configFromEnv({});
    expect(config.db).toEqual({ kind: 'sqlite', path: '.data/face-login.sqlite', busyWaitMs: 3000 });
    expect(config.models[DEFAULT_MODEL_ID]).toEqual({ size: 192, threshold: DEFAULT_THRESHOLD, impostorTail: IMPOSTOR_TAIL });
    expect(Object.keys(config.models).sort()).toEqual(Object.keys(MODEL_CALIBRATIONS).sort());
    expect(DEFAULT_MODEL_ID).toBe('mobilefacenet-expo-1.0.24-f16+mesh5');
    expect(config.origins).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173']);
    expect(warnings.join()).toContain('FACE_LOGIN_SIGNING_KEY');
  });

  it('reads overrides and refuses bad values by name', () => {
    const { config } = configFromEnv({
      DATABASE_URL: 'postgres://u:p@db/x',
      FACE_LOGIN_THRESHOLDS: `${DEFAULT_MODEL_ID}=0.5`,
      FACE_LOGIN_MODELS: '{"arcface-r100": {"size": 512, "threshold": 0.3}, "with-tail": {"size": 8, "threshold": 0.4, "impostorTail": [[0.001, 0.45], [0.00001, 0.6]]}}',
      FACE_LOGIN_ORIGINS: 'https://portal.example, http://localhost:3000',
      FACE_LOGIN_RATE_LIMIT_IP: '0',
    });
    expect(config.db).toMatchObject({ kind: 'postgres', url: 'postgres://u:p@db/x' });
    expect(config.models[DEFAULT_MODEL_ID]!.threshold).toBe(0.5);
    expect(config.models['arcface-r100']).toEqual({ size: 512, threshold: 0.3 });
    expect(config.models['with-tail']).toEqual({ size: 8, threshold: 0.4, impostorTail: [[0.001, 0.45], [0.00001, 0.6]] });
    expect(config.models[DEFAULT_MODEL_ID]!.impostorTail).toBe(IMPOSTOR_TAIL); // a threshold override keeps the tail
    expect(config.origins).toEqual(['https://portal.example', 'http://localhost:3000']);
    expect(config.rateLimit.perIp).toBe(0);
    for (const [env, name] of [
      [{ NODE_ENV: 'production' }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: 'no-such-file.pem' }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ PORT: 'http' }, 'PORT'],
      [{ FACE_LOGIN_ORIGINS: 'https://a.example/path' }, 'FACE_LOGIN_ORIGINS'],
      [{ FACE_LOGIN_THRESHOLDS: `${DEFAULT_MODEL_ID}=2` }, 'FACE_LOGIN_THRESHOLDS'],
      [{ FACE_LOGIN_THRESHOLDS: 'other=0.3' }, 'FACE_LOGIN_THRESHOLDS'],
      [{ FACE_LOGIN_MODELS: '{"m": {"size": 0, "threshold": 0.3}}' }, 'FACE_LOGIN_MODELS'],
      [{ FACE_LOGIN_MODELS: '{"m": {"size": 8, "threshold": 0.3, "impostorTail": [[2, 0.5], [0.1, 0.6]]}}' }, 'FACE_LOGIN_MODELS'],
      [{ FACE_LOGIN_MODELS: '{"m": {"size": 8, "threshold": 0.3, "impostorTail": [[0.001, 0.5]]}}' }, 'FACE_LOGIN_MODELS'],
      [{ FACE_LOGIN_ADMIN_KEY: 'short' }, 'FACE_LOGIN_ADMIN_KEY'],
      [{ FACE_LOGIN_OPEN_ENROLLMENT: 'maybe' }, 'FACE_LOGIN_OPEN_ENROLLMENT'],
    ] as const) {
      expect(() => configFromEnv(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => configFromEnv(env)).toThrow(name);
    }
  });
});

describe('PostgresStore search settings', () => {
  it("refuses candidates / ef_search outside pgvector's 1..1000 (PostgreSQL would drop the setting and search at ef 40)", async () => {
    const { PostgresStore } = await import('../store/postgres.js');
    const url = 'postgres://nobody@127.0.0.1:1/none'; // never connected: the constructor refuses first
    for (const bad of [{ vectorEfSearch: 1600 }, { vectorCandidates: 0 }, { vectorCandidates: 1001 }, { vectorEfSearch: 80.5 }]) {
      expect(() => new PostgresStore({ url, ...bad }), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => new PostgresStore({ url, vectorCandidates: 2000, vectorEfSearch: 80 })).toThrow(/1\.\.1000/);
    const ok = new PostgresStore({ url, vectorCandidates: 200, vectorEfSearch: 1000 });
    await ok.close();
  });
});
