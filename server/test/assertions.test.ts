/**
 * Assertions under attack (device mode). The verifier (verifyFaceLoginAssertion, what a portal and
 * this server both use) against forgeries, alg none, HS256 keyed with the public key, re-encoded
 * segments, another spelling of the header, stray claims, wrong audience, expiry, and a key set
 * that lies about its kids; then the server's proofs: only a verify assertion of the same user is
 * proof (identify's never), a proof is spent by its first use (a replay changes nothing, also when
 * two race), a retired key still verifies; and the signing key's configuration.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { assertionKeysOf, randomAssertionKeys, signAssertion, type AssertionKeys } from '../assertion.js';
import { ConfigError, configFromEnv, DEFAULT_AUDIENCE } from '../config.js';
import { decodeCanonical, verifyFaceLoginAssertion, type AssertionFailure, type VerifyAssertionOptions } from '../../src/server-client/assertion.js';
import type { StoreStats } from '../store/types.js';
import { ADMIN_KEY, ASSERTION_KEYS, AUDIENCE, backends, Client, Clock, createDb, makeApp, MODEL, randomFace, rng, samePerson, type TestDb } from './helpers.js';

const b64 = (x: string | Uint8Array): string => Buffer.from(x).toString('base64url');
const NONCE = 'n'.repeat(43);
const NOW = 1_800_000_000_000;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = NOW / 1000;
  return { iss: 'face-login', aud: AUDIENCE, sub: 'alice', act: 'verify', nonce: NONCE, iat, exp: iat + 120, jti: 'jti-0123456789abcdef', ...over };
}

/** A token with exactly this header and payload text, validly signed by `keys` (or `signer`). */
function forge(header: object | string, payload: object | string, keys: AssertionKeys = ASSERTION_KEYS, signer = keys.signer): string {
  const data = `${b64(typeof header === 'string' ? header : JSON.stringify(header))}.${b64(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  return `${data}.${b64(sign(null, Buffer.from(data), signer))}`;
}

const header = (kid = ASSERTION_KEYS.kid) => ({ alg: 'EdDSA', kid, typ: 'face-login+jwt' });

/** The same bytes in another base64url spelling: the unused low bits of the last character set. */
function strayBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unused = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
  if (unused === 0) throw new Error('no unused bits in this segment');
  const last = alphabet.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + alphabet[last | 1]!;
}

const check = (token: unknown, over: Partial<VerifyAssertionOptions> = {}) =>
  verifyFaceLoginAssertion(token, { keys: ASSERTION_KEYS.jwks, audience: AUDIENCE, now: NOW, ...over });

async function reason(token: unknown, over: Partial<VerifyAssertionOptions> = {}): Promise<AssertionFailure | 'ok'> {
  const r = await check(token, over);
  return r.ok ? 'ok' : r.reason;
}

describe('the assertion verifier refuses', () => {
  const good = forge(header(), claims());

  it('nothing honest: the server\'s own tokens verify here and with plain jose (EdDSA, kid, aud, iss)', async () => {
    const tok = signAssertion(ASSERTION_KEYS, { aud: AUDIENCE, sub: 'alice', act: 'verify', nonce: NONCE }, { nowMs: NOW, ttlS: 120 });
    const r = await check(tok, { subject: 'alice', action: 'verify', nonce: NONCE });
    expect(r.ok && r.claims).toMatchObject({ iss: 'face-login', aud: AUDIENCE, sub: 'alice', act: 'verify', nonce: NONCE, iat: NOW / 1000, exp: NOW / 1000 + 120 });
    const jose = await jwtVerify(tok, createLocalJWKSet(ASSERTION_KEYS.jwks), {
      algorithms: ['EdDSA'],
      issuer: 'face-login',
      audience: AUDIENCE,
      typ: 'face-login+jwt',
      currentDate: new Date(NOW),
    });
    expect(jose.protectedHeader).toEqual(header());
    expect(jose.payload.sub).toBe('alice');
    // kid is the RFC 7638 thumbprint, as jose computes it.
    const { kty, crv, x } = ASSERTION_KEYS.jwks.keys[0]!;
    expect(await calculateJwkThumbprint({ kty, crv, x })).toBe(ASSERTION_KEYS.kid);
    expect(await reason(good)).toBe('ok');
  });

  it('a forged signature: a changed claim, a flipped bit, another key under our kid', async () => {
    const [h, p, s] = good.split('.') as [string, string, string];
    const mallory = b64(JSON.stringify(claims({ sub: 'mallory' })));
    expect(await reason(`${h}.${mallory}.${s}`)).toBe('bad-signature');
    const sig = Buffer.from(s, 'base64url');
    sig[5] = sig[5]! ^ 1;
    expect(await reason(`${h}.${p}.${b64(sig)}`)).toBe('bad-signature');
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(await reason(forge(header(), claims(), ASSERTION_KEYS, other))).toBe('bad-signature');
  });

  it('alg none, with and without a signature', async () => {
    const none = { alg: 'none', kid: ASSERTION_KEYS.kid, typ: 'face-login+jwt' };
    const [, p, s] = good.split('.') as [string, string, string];
    expect(await reason(`${b64(JSON.stringify(none))}.${p}.`)).toBe('bad-header');
    expect(await reason(`${b64(JSON.stringify(none))}.${p}.${s}`)).toBe('bad-header');
    expect(await reason(`${b64(JSON.stringify({ alg: 'none' }))}.${p}.`)).toBe('bad-header');
    // Our header with no signature at all.
    expect(await reason(`${good.split('.')[0]}.${p}.`)).toBe('non-canonical');
  });

  it('HS256 keyed with the public key (raw bytes, JWK text, PEM): alg confusion', async () => {
    const jwk = ASSERTION_KEYS.jwks.keys[0]!;
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }); // shape only; and ours below
    const ours = Buffer.from(jwk.x, 'base64url');
    for (const secret of [ours, Buffer.from(JSON.stringify(jwk)), Buffer.from(String(pem)), Buffer.from(jwk.x)]) {
      for (const alg of ['HS256', 'HS512']) {
        const data = `${b64(JSON.stringify({ alg, kid: jwk.kid, typ: 'face-login+jwt' }))}.${b64(JSON.stringify(claims()))}`;
        const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret).update(data).digest();
        expect(await reason(`${data}.${b64(mac)}`)).toBe('bad-header');
      }
      // Even under our exact header, an HMAC is not an Ed25519 signature.
      const data = `${good.split('.')[0]}.${b64(JSON.stringify(claims()))}`;
      expect(await reason(`${data}.${b64(createHmac('sha256', secret).update(data).digest())}`)).toBe('non-canonical');
    }
  });

  it('a re-encoded signature or payload (same bytes, other spelling), padding, the standard alphabet, S + L', async () => {
    // A payload whose base64url has unused bits (its length is not a multiple of 3).
    let tok = good;
    for (let i = 0; tok.split('.')[1]!.length % 4 === 0; i++) tok = forge(header(), claims({ sub: `alice${'x'.repeat(i)}` }));
    const [h, p, s] = tok.split('.') as [string, string, string];
    expect(await reason(tok)).toBe('ok');
    // The attack is real: a lenient decoder reads the same bytes from both spellings.
    expect(Buffer.from(strayBits(s), 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    expect(Buffer.from(strayBits(p), 'base64url')).toEqual(Buffer.from(p, 'base64url'));
    expect(await reason(`${h}.${p}.${strayBits(s)}`)).toBe('non-canonical');
    expect(await reason(`${h}.${strayBits(p)}.${s}`)).toBe('non-canonical');
    expect(await reason(`${h}.${p}.${s}==`)).toBe('non-canonical');
    expect(await reason(`${h}=.${p}.${s}`)).toBe('non-canonical');
    // Standard base64 pads a 64-byte signature with '==': always refused. Unpadded, it differs from
    // base64url only where the signature has '-' or '_' (about 94 % of signatures): refused then, and
    // byte-for-byte the canonical token otherwise.
    const standard = Buffer.from(s, 'base64url').toString('base64');
    expect(standard.endsWith('==')).toBe(true);
    expect(await reason(`${h}.${p}.${standard}`)).toBe('non-canonical');
    const unpadded = standard.replace(/=+$/, '');
    expect(await reason(`${h}.${p}.${unpadded}`)).toBe(unpadded === s ? 'ok' : 'non-canonical');
    expect(await reason(` ${tok}`)).toBe('non-canonical');
    expect(await reason(`${tok}\n`)).toBe('non-canonical');
    // S + L is the same signature to a lax Ed25519 verifier (RFC 8032 requires S < L).
    const sig = Buffer.from(s, 'base64url');
    let S = 0n;
    for (let i = 63; i >= 32; i--) S = (S << 8n) | BigInt(sig[i]!);
    S += L;
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(S & 255n);
      S >>= 8n;
    }
    expect(await reason(`${h}.${p}.${b64(sig)}`)).toBe('non-canonical');
    expect(decodeCanonical('')).toEqual(new Uint8Array());
    expect(decodeCanonical('A')).toBeNull();
  });

  it('a header in another spelling, with another field, or another type, even validly signed', async () => {
    const kid = ASSERTION_KEYS.kid;
    expect(await reason(forge({ typ: 'face-login+jwt', alg: 'EdDSA', kid }, claims()))).toBe('non-canonical');
    expect(await reason(forge(`{"alg": "EdDSA","kid":"${kid}","typ":"face-login+jwt"}`, claims()))).toBe('non-canonical');
    expect(await reason(forge({ ...header(), crit: ['b64'], b64: false }, claims()))).toBe('bad-header');
    expect(await reason(forge({ ...header(), jwk: ASSERTION_KEYS.jwks.keys[0] }, claims()))).toBe('bad-header');
    expect(await reason(forge({ alg: 'EdDSA', kid }, claims()))).toBe('bad-header');
    expect(await reason(forge({ alg: 'EdDSA', kid, typ: 'JWT' }, claims()))).toBe('bad-header');
    expect(await reason(forge({ alg: 'Ed25519', kid, typ: 'face-login+jwt' }, claims()))).toBe('bad-header');
    expect(await reason(forge({ alg: 'EdDSA', kid: 7, typ: 'face-login+jwt' }, claims()))).toBe('bad-header');
    expect(await reason(forge('[1,2,3]', claims()))).toBe('bad-header');
  });

  it('claims that are not exactly the claim set, or say something else', async () => {
    const { jti: _jti, ...noJti } = claims();
    expect(await reason(forge(header(), noJti))).toBe('malformed');
    expect(await reason(forge(header(), claims({ admin: true })))).toBe('malformed');
    expect(await reason(forge(header(), claims({ act: 'enroll' })))).toBe('malformed');
    expect(await reason(forge(header(), claims({ exp: 'never' })))).toBe('malformed');
    expect(await reason(forge(header(), claims({ exp: NOW / 1000 + 86_400 })))).toBe('malformed'); // lifetime over an hour
    expect(await reason(forge(header(), 'not json'))).toBe('malformed');
    expect(await reason(forge(header(), claims({ iss: 'someone-else' })))).toBe('wrong-issuer');
    for (const bad of ['', 'a.b', 'a.b.c.d', 'x'.repeat(5000), 42, null, undefined, {}]) expect(await reason(bad)).not.toBe('ok');
  });

  it('another audience, expired, not yet valid (5 s of tolerance), another user, action or nonce', async () => {
    expect(await reason(good, { audience: 'https://other-portal.example' })).toBe('wrong-audience');
    expect(await reason(forge(header(), claims({ aud: 'https://other-portal.example' })))).toBe('wrong-audience');
    expect(await reason(good, { now: NOW + 124_999 })).toBe('ok');
    expect(await reason(good, { now: NOW + 125_000 })).toBe('expired');
    expect(await reason(good, { now: NOW + 120_000, clockToleranceS: 0 })).toBe('expired');
    expect(await reason(good, { now: NOW - 5_000 })).toBe('ok');
    expect(await reason(good, { now: NOW - 6_000 })).toBe('not-yet-valid');
    expect(await reason(good, { subject: 'bob' })).toBe('wrong-subject');
    expect(await reason(good, { action: 'identify' })).toBe('wrong-action');
    expect(await reason(good, { nonce: 'm'.repeat(43) })).toBe('wrong-nonce');
    expect(await reason(good, { subject: 'alice', action: 'verify', nonce: NONCE })).toBe('ok');
  });

  it('keys it does not hold, a key set that lies about its kids, or no key set at all', async () => {
    const other = randomAssertionKeys();
    expect(await reason(forge(header(other.kid), claims(), other))).toBe('unknown-key');
    // An attacker's key listed under our kid: the kid is not its thumbprint.
    const lying = { keys: [{ ...other.jwks.keys[0]!, kid: ASSERTION_KEYS.kid }] };
    expect(await reason(forge(header(), claims(), other), { keys: lying })).toBe('unknown-key');
    expect(await reason(good, { keys: { keys: [] } as never })).toBe('keys-unavailable');
    expect(await reason(good, { keys: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } as never })).toBe('keys-unavailable');
    expect(await reason(good, { keys: async () => Promise.reject(new Error('down')) })).toBe('keys-unavailable');
    // A key source is asked again (refresh) when the kid is new: a rotation.
    const asked: boolean[] = [];
    const rotating = async ({ refresh }: { refresh: boolean }) => (asked.push(refresh), refresh ? other.jwks : ASSERTION_KEYS.jwks);
    expect(await reason(forge(header(other.kid), claims(), other), { keys: rotating })).toBe('ok');
    expect(asked).toEqual([false, true]);
  });
});

describe.each(backends())('proofs on the server (device mode) on %s', (backend) => {
  let tdb: TestDb;
  let app: FastifyInstance;
  let c: Client;
  const clock = new Clock();
  const r = rng(backend === 'sqlite' ? 31 : 32);
  const alice = randomFace(r);
  const bob = randomFace(r);

  beforeAll(async () => {
    tdb = await createDb(backend);
    app = await makeApp(tdb.db, clock);
    c = new Client(app);
    expect((await c.enroll('alice', [alice])).status).toBe(201);
    expect((await c.enroll('bob', [bob])).status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  const stats = (): Promise<StoreStats> => app.store.stats();
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const verified = async (user: string, face: number[]): Promise<string> => {
    const v = await c.verify(user, samePerson(face, r));
    expect(v.body.decision).toBe('accept');
    return v.body.assertion as string;
  };
  const reEnroll = async (user: string, token: string) => c.enroll(user, [randomFace(r)], {}, bearer(token));
  const del = async (user: string, token: string) => c.req('DELETE', `/v1/users/${user}`, undefined, { ...bearer(token), 'x-face-login-nonce': await c.nonce('delete', user) });
  const exp = async (user: string, token: string) => c.req('GET', `/v1/users/${user}/export`, undefined, { ...bearer(token), 'x-face-login-nonce': await c.nonce('export', user) });
  const restore = async (user: string, token: string) => c.req('POST', `/v1/restore/${user}`, { nonce: await c.nonce('restore', user) }, bearer(token));
  const backup = async (user: string, token: string) =>
    c.req('PUT', `/v1/backup/${user}`, { nonce: await c.nonce('backup', user), modelId: MODEL, templates: [{ embedding: randomFace(r), pose: 'center', createdAt: 1 }] }, bearer(token));

  /** Runs fn and checks nothing but nonces changed, and alice still has her own face. */
  async function changesNothing(fn: () => Promise<void>): Promise<void> {
    const before = await stats();
    const templates = await app.store.templatesOf('alice', MODEL);
    await fn();
    expect({ ...(await stats()), nonces: 0 }).toEqual({ ...before, nonces: 0 });
    expect(await app.store.templatesOf('alice', MODEL)).toEqual(templates);
  }

  it('serves its public keys at GET /v1/keys, and its assertions name the user, action, nonce and audience', async () => {
    const keys = await c.req('GET', '/v1/keys');
    expect(keys.status).toBe(200);
    expect(keys.headers['cache-control']).toBe('public, max-age=300');
    expect(keys.body).toEqual(ASSERTION_KEYS.jwks);
    expect(keys.raw).not.toMatch(/"d"/); // no private part
    const nonce = await c.nonce('verify', 'alice');
    const v = await c.req('POST', '/v1/verify', { nonce, userId: 'alice', modelId: MODEL, embedding: samePerson(alice, r) });
    const ok = await verifyFaceLoginAssertion(v.body.assertion, { keys: keys.body, audience: AUDIENCE, subject: 'alice', action: 'verify', nonce, now: clock.now() });
    expect(ok.ok).toBe(true);
  });

  it('an identify assertion is no proof: not for re-enrolment, delete, export, restore or backup', async () => {
    const who = await c.identify(samePerson(alice, r));
    expect(who.body).toMatchObject({ decision: 'accept', userId: 'alice' });
    const token = who.body.assertion as string;
    await changesNothing(async () => {
      for (const res of [await reEnroll('alice', token), await del('alice', token), await exp('alice', token), await restore('alice', token), await backup('alice', token)]) {
        expect([res.status, res.body.error.code]).toEqual([401, 'invalid-assertion']);
        expect(res.body.error.message).toMatch(/wrong-action/);
      }
    });
    expect(await app.store.userExists('alice')).toBe(true);
  });

  it('a verify proof is spent by its first use: replayed, it is refused and changes nothing', async () => {
    const token = await verified('alice', alice);
    const first = await exp('alice', token);
    expect(first.status).toBe(200);
    expect((await stats()).spentAssertions).toBeGreaterThan(0);
    await changesNothing(async () => {
      for (const res of [await reEnroll('alice', token), await del('alice', token), await exp('alice', token), await restore('alice', token), await backup('alice', token)]) {
        expect([res.status, res.body.error.code]).toEqual([401, 'invalid-assertion']);
        expect(res.body.error.message).toMatch(/already used/);
      }
    });
    expect(await app.store.userExists('alice')).toBe(true);
    // A refusal before its nonce does not spend it: with a wrong nonce first, the proof still works once.
    const fresh = await verified('alice', alice);
    const wrong = await c.req('GET', '/v1/users/alice/export', undefined, { ...bearer(fresh), 'x-face-login-nonce': await c.nonce('delete', 'alice') });
    expect(wrong.body.error.code).toBe('invalid-nonce');
    expect((await exp('alice', fresh)).status).toBe(200);
    expect((await exp('alice', fresh)).body.error.code).toBe('invalid-assertion');
  });

  it('two requests racing with one proof: exactly one gets through', async () => {
    const token = await verified('bob', bob);
    const [x, y] = await Promise.all([exp('bob', token), exp('bob', token)]);
    expect([x.status, y.status].sort()).toEqual([200, 401]);
  });

  it('someone else\'s verify, another audience, an expired one, a forgery: refused, nothing changes', async () => {
    const bobs = await verified('bob', bob);
    const now = clock.now();
    const signed = (over: Partial<Parameters<typeof signAssertion>[1]>, keys = ASSERTION_KEYS) =>
      signAssertion(keys, { aud: AUDIENCE, sub: 'alice', act: 'verify', nonce: NONCE, ...over }, { nowMs: now, ttlS: 120 });
    const honest = signed({});
    const [h, p, s] = honest.split('.') as [string, string, string];
    await changesNothing(async () => {
      const tries: [string, string][] = [
        ['someone else', bobs],
        ['another audience', signed({ aud: 'https://other-portal.example' })],
        ['another key', signed({}, randomAssertionKeys())],
        ['alg none', `${b64(JSON.stringify({ alg: 'none', kid: ASSERTION_KEYS.kid, typ: 'face-login+jwt' }))}.${p}.`],
        ['HS256 with the public key', (() => {
          const data = `${b64(JSON.stringify({ alg: 'HS256', kid: ASSERTION_KEYS.kid, typ: 'face-login+jwt' }))}.${p}`;
          return `${data}.${b64(createHmac('sha256', Buffer.from(ASSERTION_KEYS.jwks.keys[0]!.x, 'base64url')).update(data).digest())}`;
        })()],
        ['bob\'s, its subject changed', (() => {
          const [bh, bp, bs] = bobs.split('.') as [string, string, string];
          return `${bh}.${b64(JSON.stringify({ ...JSON.parse(Buffer.from(bp, 'base64url').toString()), sub: 'alice' }))}.${bs}`;
        })()],
        ['re-encoded', `${h}.${p}.${strayBits(s)}`],
      ];
      for (const [what, token] of tries) {
        const res = await reEnroll('alice', token);
        expect([res.status, res.body.error.code], what).toEqual([401, 'invalid-assertion']);
        const d = await del('alice', token);
        expect([d.status, d.body.error.code], what).toEqual([401, 'invalid-assertion']);
      }
      clock.advance(120_000); // exactly at exp: the server gives no tolerance on its own proofs
      expect((await del('alice', honest)).body.error.code).toBe('invalid-assertion');
    });
    expect(await app.store.userExists('alice')).toBe(true);
    // And the honest proof does what it is for.
    const token = await verified('alice', alice);
    const renewed = randomFace(r);
    expect((await c.enroll('alice', [renewed], {}, bearer(token))).status).toBe(201);
    expect((await c.verify('alice', samePerson(renewed, r))).body.decision).toBe('accept');
  });

  it('after a key rotation, an assertion of the retired key is still proof; the JWKS lists both', async () => {
    const next = assertionKeysOf(generateKeyPairSync('ed25519').privateKey, [ASSERTION_KEYS.signer]);
    const rotated = await makeApp(tdb.db, clock, { assertionKeys: next });
    try {
      const rc = new Client(rotated);
      expect((await rc.req('GET', '/v1/keys')).body.keys.map((k: { kid: string }) => k.kid)).toEqual([next.kid, ASSERTION_KEYS.kid]);
      const old = await verified('bob', bob); // signed by the old instance's key
      const res = await rc.req('GET', '/v1/users/bob/export', undefined, { ...bearer(old), 'x-face-login-nonce': await rc.nonce('export', 'bob') });
      expect(res.status).toBe(200);
      const v = await rc.verify('bob', samePerson(bob, r));
      expect(JSON.parse(Buffer.from(v.body.assertion.split('.')[0], 'base64url').toString()).kid).toBe(next.kid);
      // The old instance does not know the new key.
      expect((await exp('bob', v.body.assertion)).body.error.message).toMatch(/unknown-key/);
      // Spent on one instance is spent on all (the store is shared).
      expect((await exp('bob', old)).body.error.code).toBe('invalid-assertion');
    } finally {
      await rotated.close();
    }
  });

  it('the admin key is still proof, and spends nothing', async () => {
    const before = (await stats()).spentAssertions;
    const res = await c.req('GET', '/v1/users/bob/export', undefined, { 'x-face-login-admin-key': ADMIN_KEY, 'x-face-login-nonce': await c.nonce('export', 'bob') });
    expect(res.status).toBe(200);
    expect((await stats()).spentAssertions).toBe(before);
  });

  it('spent ids are purged once their assertion has expired', async () => {
    expect((await stats()).spentAssertions).toBeGreaterThan(0);
    await app.store.purgeExpiredNonces(clock.now() + 3_600_000);
    expect((await stats()).spentAssertions).toBe(0);
  });
});

describe('the signing key from the environment', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = String(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const dir = mkdtempSync(join(tmpdir(), 'face-login-keys-'));
  const file = join(dir, 'signing-key.pem');
  writeFileSync(file, pem);

  it('reads a PKCS#8 PEM inline, in one line with \\n, or from a file; kid = thumbprint', async () => {
    const kids = new Set<string>();
    for (const value of [pem, pem.replace(/\n/g, '\\n'), file]) {
      const { config, warnings } = configFromEnv({ FACE_LOGIN_SIGNING_KEY: value });
      kids.add(config.assertionKeys.kid);
      expect(warnings.join()).not.toMatch(/FACE_LOGIN_SIGNING_KEY/);
    }
    expect(kids.size).toBe(1);
    const jwk = publicKey.export({ format: 'jwk' }) as { kty: 'OKP'; crv: string; x: string };
    expect([...kids][0]).toBe(await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }));
    // Retired keys: public (SPKI) or private, several PEM blocks in one value.
    const old1 = generateKeyPairSync('ed25519');
    const old2 = generateKeyPairSync('ed25519');
    const previous = `${old1.publicKey.export({ type: 'spki', format: 'pem' })}${old2.privateKey.export({ type: 'pkcs8', format: 'pem' })}`;
    const { config } = configFromEnv({ FACE_LOGIN_SIGNING_KEY: file, FACE_LOGIN_SIGNING_KEY_PREVIOUS: previous });
    expect(config.assertionKeys.jwks.keys).toHaveLength(3);
    expect(config.assertionKeys.jwks.keys[0]!.kid).toBe(config.assertionKeys.kid);
  });

  it('refuses anything else by name, and a missing key in production', () => {
    const rsa = String(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const encrypted = String(privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }));
    const spki = String(publicKey.export({ type: 'spki', format: 'pem' }));
    for (const [env, name] of [
      [{ FACE_LOGIN_SIGNING_KEY: rsa }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: encrypted }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: spki }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: pem + pem }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: join(dir, 'missing.pem') }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ FACE_LOGIN_SIGNING_KEY: pem, FACE_LOGIN_SIGNING_KEY_PREVIOUS: rsa }, 'FACE_LOGIN_SIGNING_KEY_PREVIOUS'],
      [{ FACE_LOGIN_SIGNING_KEY_PREVIOUS: spki }, 'FACE_LOGIN_SIGNING_KEY_PREVIOUS'],
      [{ NODE_ENV: 'production' }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ NODE_ENV: 'production', FACE_LOGIN_SECRET: 's'.repeat(40) }, 'FACE_LOGIN_SIGNING_KEY'],
      [{ NODE_ENV: 'production', FACE_LOGIN_SIGNING_KEY: pem, FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1' }, 'FACE_LOGIN_AUDIENCE'],
      [{ FACE_LOGIN_AUDIENCE: 'has space' }, 'FACE_LOGIN_AUDIENCE'],
    ] as const) {
      expect(() => configFromEnv(env), JSON.stringify(env).slice(0, 120)).toThrow(ConfigError);
      expect(() => configFromEnv(env)).toThrow(name);
    }
  });

  it('without a key: a random one and a warning; FACE_LOGIN_SECRET is ignored with a warning; the audience default says so', () => {
    const a = configFromEnv({});
    const b = configFromEnv({});
    expect(a.config.assertionKeys.kid).not.toBe(b.config.assertionKeys.kid);
    expect(a.warnings.join()).toMatch(/FACE_LOGIN_SIGNING_KEY is not set/);
    expect(configFromEnv({ FACE_LOGIN_SECRET: 's'.repeat(40), FACE_LOGIN_SIGNING_KEY: pem }).warnings.join()).toMatch(/FACE_LOGIN_SECRET is no longer used/);
    expect(a.config.assertionAudience).toBe(DEFAULT_AUDIENCE);
    expect(configFromEnv({ FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1' }).warnings.join()).toMatch(/FACE_LOGIN_AUDIENCE is not set/);
    const prod = configFromEnv({ NODE_ENV: 'production', FACE_LOGIN_SIGNING_KEY: file, FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1', FACE_LOGIN_AUDIENCE: 'https://portal.example', FACE_LOGIN_TEMPLATE_KEYS: `k1:${'A'.repeat(43)}=` });
    expect(prod.config.assertionAudience).toBe('https://portal.example');
    expect(prod.warnings.join()).not.toMatch(/FACE_LOGIN_(SIGNING_KEY|AUDIENCE)/);
  });
});
