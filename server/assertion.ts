/**
 * Assertions (device mode): how a portal's backend learns a face decision without trusting the page
 * and without holding a secret of ours.
 *
 * On accept, /v1/verify and /v1/identify return `assertion`, a compact JWS signed with the server's
 * Ed25519 key (FACE_LOGIN_SIGNING_KEY), in one spelling only:
 *   header  {"alg":"EdDSA","kid":<RFC 7638 thumbprint of the public key>,"typ":"face-login+jwt"}
 *   payload {"iss":"face-login","aud":<FACE_LOGIN_AUDIENCE>,"sub":<userId>,"act":"verify"|"identify",
 *            "nonce":<the challenge nonce the request consumed>,"iat":<s>,"exp":<s>,"jti":<random>}
 * The public keys are served as a JWK Set at GET /v1/keys; the portal checks an assertion with
 * `verifyFaceLoginAssertion` (face-login/server-client, src/server-client/assertion.ts: the same
 * code this server uses for its own proofs) or any JOSE library limited to EdDSA.
 *
 * Signing uses node:crypto directly (one synchronous Ed25519 signature, ~0.04 ms of CPU; jose's
 * WebCrypto path costs ~0.3 ms on this hot path); verifying uses jose. The tests check that jose
 * reads what this module writes.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { assertionHeader, ASSERTION_ISSUER, type AssertionAction, type AssertionClaims, type Jwks, type PublicJwk } from '../src/server-client/assertion.js';

export interface AssertionKeys {
  /** The private key that signs (Ed25519). */
  readonly signer: KeyObject;
  /** Its kid: the RFC 7638 thumbprint of its public JWK. */
  readonly kid: string;
  /** What GET /v1/keys serves: the signing key's public JWK first, then those being retired. */
  readonly jwks: Jwks;
}

/** RFC 7638 thumbprint of an OKP key: SHA-256 of {"crv","kty","x"} in that order, base64url. */
export function jwkThumbprint(jwk: { readonly crv: string; readonly x: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: 'OKP', x: jwk.x })).digest('base64url');
}

/** The public JWK (with kid, alg, use) of an Ed25519 key, private or public. */
export function publicJwkOf(key: KeyObject): PublicJwk {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`An assertion key must be Ed25519, not ${key.asymmetricKeyType ?? key.type}.`);
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = pub.export({ format: 'jwk' }) as { x: string };
  return { kty: 'OKP', crv: 'Ed25519', x, kid: jwkThumbprint({ crv: 'Ed25519', x }), alg: 'EdDSA', use: 'sig' };
}

/** The keys from a private signing key and the (public or private) keys still accepted while being retired. */
export function assertionKeysOf(signer: KeyObject, retired: readonly KeyObject[] = []): AssertionKeys {
  if (signer.type !== 'private') throw new TypeError('The signing key must be a private key.');
  const current = publicJwkOf(signer);
  const keys = [current];
  for (const k of retired) {
    const jwk = publicJwkOf(k);
    if (!keys.some((j) => j.kid === jwk.kid)) keys.push(jwk);
  }
  if (keys.length > 16) throw new TypeError('At most 15 retired keys.');
  return { signer, kid: current.kid, jwks: { keys } };
}

/** A fresh random key (development, tests): assertions then do not survive a restart or cross instances. */
export function randomAssertionKeys(): AssertionKeys {
  return assertionKeysOf(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The keys in a PEM text (one or more blocks). `kind` 'private': PKCS#8 "PRIVATE KEY" blocks only;
 * 'any': also SPKI "PUBLIC KEY" blocks. Throws TypeError saying what is wrong.
 */
export function keysFromPem(text: string, kind: 'private' | 'any'): KeyObject[] {
  const pem = text.replace(/\\n/g, '\n'); // a PEM pasted into one line of an env file
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  if (blocks.length === 0) throw new TypeError('no PEM block (-----BEGIN PRIVATE KEY-----) found');
  return blocks.map(([block, label]) => {
    if (label !== 'PRIVATE KEY' && !(kind === 'any' && label === 'PUBLIC KEY')) {
      throw new TypeError(`a "${label}" block: expected ${kind === 'any' ? 'PRIVATE KEY (PKCS#8) or PUBLIC KEY (SPKI)' : 'an unencrypted PKCS#8 PRIVATE KEY'}`);
    }
    let key: KeyObject;
    try {
      key = label === 'PUBLIC KEY' ? createPublicKey(block) : createPrivateKey(block);
    } catch (e) {
      throw new TypeError(`the ${label} block does not parse (${(e as Error).message})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`an ${key.asymmetricKeyType} key: assertions are signed with Ed25519 (openssl genpkey -algorithm ed25519)`);
    return key;
  });
}

export interface AssertionInput {
  readonly aud: string;
  readonly sub: string;
  readonly act: AssertionAction;
  /** The challenge nonce the request consumed. */
  readonly nonce: string;
}

/** Signs an assertion: the header and claims in their one spelling, a fresh 128-bit jti. */
export function signAssertion(keys: AssertionKeys, input: AssertionInput, options: { nowMs?: number; ttlS?: number } = {}): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims: AssertionClaims = {
    iss: ASSERTION_ISSUER,
    aud: input.aud,
    sub: input.sub,
    act: input.act,
    nonce: input.nonce,
    iat,
    exp: iat + (options.ttlS ?? 120),
    jti: randomBytes(16).toString('base64url'),
  };
  const data = `${Buffer.from(assertionHeader(keys.kid)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${data}.${sign(null, Buffer.from(data), keys.signer).toString('base64url')}`;
}
