/**
 * Checking a face-login assertion: for a portal's backend in device mode (the page posts embeddings,
 * gets an `assertion` on accept and hands it to the portal), and for the verification server's own
 * proofs (server/http.ts). No DOM, no Node: `jose` (WebCrypto) and the protocol's schemas.
 *
 * An assertion is a compact JWS, one spelling only:
 *   header  exactly {"alg":"EdDSA","kid":<RFC 7638 thumbprint>,"typ":"face-login+jwt"} (those bytes)
 *   payload exactly the AssertionClaims {iss, aud, sub, act, nonce, iat, exp, jti}
 *   signature Ed25519 (64 bytes, S < L)
 * and every segment canonical base64url (no padding, unused bits zero: decoding and re-encoding
 * gives the same string), so one signature can never be presented under several spellings.
 */
import { base64url, calculateJwkThumbprint, compactVerify, errors, importJWK, type CryptoKey } from 'jose';
import { fits } from '../protocol/check.js';
import { ASSERTION_ISSUER, ASSERTION_TYPE, AssertionClaims, type AssertionAction } from '../protocol/fields.js';
import { Jwks, type PublicJwk } from '../protocol/routes/meta.js';

export { ASSERTION_ISSUER, ASSERTION_TYPE };
export type { AssertionAction, AssertionClaims, Jwks, PublicJwk };

/** Why an assertion was refused. */
export type AssertionFailure =
  /** Not three segments, not JSON, a claim missing, of the wrong type, or one too many. */
  | 'malformed'
  /** A segment that is not canonical base64url, a header in another spelling, or a signature with S >= L. */
  | 'non-canonical'
  /** A header that is not exactly {alg: 'EdDSA', kid, typ: 'face-login+jwt'} (alg none, HS256, an extra field...). */
  | 'bad-header'
  /** No key in the key set has the header's kid (even after re-fetching a remote key set). */
  | 'unknown-key'
  /** The key set could not be had, or is not a JWK Set of Ed25519 keys. */
  | 'keys-unavailable'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-subject'
  | 'wrong-action'
  | 'wrong-nonce';

export const ASSERTION_FAILURES: readonly AssertionFailure[] = [
  'malformed',
  'non-canonical',
  'bad-header',
  'unknown-key',
  'keys-unavailable',
  'bad-signature',
  'wrong-issuer',
  'wrong-audience',
  'expired',
  'not-yet-valid',
  'wrong-subject',
  'wrong-action',
  'wrong-nonce',
];

export type AssertionCheck =
  | { readonly ok: true; readonly claims: AssertionClaims }
  | { readonly ok: false; readonly reason: AssertionFailure; readonly message: string };

/**
 * The public keys: a JWK Set (GET /v1/keys, fetched once and kept), or a function that gives one
 * (`faceLoginKeys` caches and re-fetches; called again with `refresh: true` on an unknown kid).
 */
export type KeySource = Jwks | ((options: { readonly refresh: boolean }) => Promise<Jwks>);

export interface VerifyAssertionOptions {
  readonly keys: KeySource;
  /** Your portal: the server's FACE_LOGIN_AUDIENCE. Required: an assertion for another portal is refused. */
  readonly audience: string;
  /** The user you expect (e.g. the one who is logging in). */
  readonly subject?: string;
  /** 'verify' for a login of a named user; 'identify' for a kiosk. Pass it: the two have different error rates. */
  readonly action?: AssertionAction;
  /** The challenge nonce, when your backend asked for it (POST /v1/challenges) and handed it to the page. */
  readonly nonce?: string;
  /** ms since the epoch (default Date.now()). */
  readonly now?: number;
  /** Seconds of clock difference tolerated on exp and iat (default 5). */
  readonly clockToleranceS?: number;
}

/** The longest assertion read (the protocol's Authorization limit). */
const MAX_LENGTH = 4096;
/** The longest lifetime an assertion may state (the server's FACE_LOGIN_ASSERTION_TTL_S is at most 3600). */
const MAX_LIFETIME_S = 3600;
/** The order of the Ed25519 group: a signature's S must be below it (RFC 8032 5.1.7). */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const B64URL = /^[A-Za-z0-9_-]*$/;

function fail(reason: AssertionFailure, message: string): AssertionCheck {
  return { ok: false, reason, message };
}

/** The bytes of a canonical base64url segment; null for anything else (padding, stray bits, other alphabets). */
export function decodeCanonical(segment: string): Uint8Array | null {
  if (!B64URL.test(segment) || segment.length % 4 === 1) return null;
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(segment);
  } catch {
    return null;
  }
  return base64url.encode(bytes) === segment ? bytes : null;
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

function json(bytes: Uint8Array): unknown {
  const text = utf8(bytes);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** S (the signature's second half, little-endian) below the group order. */
function canonicalS(signature: Uint8Array): boolean {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
  return s < ED25519_L;
}

/** The header, byte for byte, of an assertion signed with key `kid`. */
export function assertionHeader(kid: string): string {
  return JSON.stringify({ alg: 'EdDSA', kid, typ: ASSERTION_TYPE });
}

/** Imported keys by `kid:x` (a key set fetched again gives the same keys: no new import). */
const imported = new Map<string, Promise<CryptoKey | null>>();

/** The CryptoKey of a JWK whose kid is its thumbprint; null when it is not. */
function importKey(jwk: PublicJwk): Promise<CryptoKey | null> {
  const id = `${jwk.kid}:${jwk.x}`;
  let key = imported.get(id);
  if (!key) {
    key = (async () => {
      const { kty, crv, x } = jwk;
      if ((await calculateJwkThumbprint({ kty, crv, x }, 'sha256')) !== jwk.kid) return null;
      return (await importJWK({ kty, crv, x }, 'EdDSA')) as CryptoKey;
    })().catch(() => null);
    if (imported.size > 256) imported.clear();
    imported.set(id, key);
  }
  return key;
}

async function keySet(source: KeySource, refresh: boolean): Promise<Jwks | null> {
  let set: unknown;
  try {
    set = typeof source === 'function' ? await source({ refresh }) : source;
  } catch {
    return null;
  }
  return fits(Jwks, set) ? set : null;
}

/**
 * Checks an assertion: its one canonical spelling, the header, the Ed25519 signature under one of
 * `keys` (by kid), the claims' types, issuer, audience, lifetime, and the subject, action and nonce
 * you expect. Never throws on bad input; the result names the first thing wrong.
 *
 * What it cannot do for you: make the assertion single use. Remember `claims.jti` until
 * `claims.exp` and refuse it the second time (the verification server does so for its own proofs).
 */
export async function verifyFaceLoginAssertion(token: unknown, options: VerifyAssertionOptions): Promise<AssertionCheck> {
  if (typeof token !== 'string' || token.length > MAX_LENGTH) return fail('malformed', 'An assertion is a string of at most 4096 characters.');
  const parts = token.split('.');
  if (parts.length !== 3) return fail('malformed', 'An assertion is a compact JWS: header.payload.signature.');
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = decodeCanonical(h);
  const payloadBytes = decodeCanonical(p);
  const signature = decodeCanonical(s);
  if (!headerBytes || !payloadBytes || !signature) return fail('non-canonical', 'Every segment must be canonical base64url (no padding, no stray bits).');

  const header = json(headerBytes);
  if (
    header === null ||
    typeof header !== 'object' ||
    Array.isArray(header) ||
    Object.keys(header).length !== 3 ||
    (header as { alg?: unknown }).alg !== 'EdDSA' ||
    (header as { typ?: unknown }).typ !== ASSERTION_TYPE ||
    typeof (header as { kid?: unknown }).kid !== 'string'
  ) {
    return fail('bad-header', `The header must be exactly {"alg":"EdDSA","kid":...,"typ":"${ASSERTION_TYPE}"}.`);
  }
  const kid = (header as { kid: string }).kid;
  if (utf8(headerBytes) !== assertionHeader(kid)) return fail('non-canonical', 'The header is not in its one spelling.');
  if (signature.length !== 64 || !canonicalS(signature)) return fail('non-canonical', 'An Ed25519 signature is 64 bytes with S below the group order.');

  let set = await keySet(options.keys, false);
  if (!set) return fail('keys-unavailable', 'The key set could not be read (a JWK Set of Ed25519 keys, GET /v1/keys).');
  let jwk = set.keys.find((k) => k.kid === kid);
  if (!jwk && typeof options.keys === 'function') {
    set = await keySet(options.keys, true);
    if (!set) return fail('keys-unavailable', 'The key set could not be read (a JWK Set of Ed25519 keys, GET /v1/keys).');
    jwk = set.keys.find((k) => k.kid === kid);
  }
  const key = jwk ? await importKey(jwk) : null;
  if (!key) return fail('unknown-key', 'No key of the key set has this kid (and is its own thumbprint).');

  try {
    await compactVerify(token, key, { algorithms: ['EdDSA'] });
  } catch (e) {
    if (e instanceof errors.JWSSignatureVerificationFailed) return fail('bad-signature', 'The signature does not verify.');
    return fail('malformed', `The JWS was refused (${(e as Error).message}).`);
  }

  const claims = json(payloadBytes);
  if (!fits(AssertionClaims, claims)) return fail('malformed', 'The claims are not exactly {iss, aud, sub, act, nonce, iat, exp, jti} with their types.');
  if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_LIFETIME_S) return fail('malformed', 'The lifetime (exp - iat) must be 1 to 3600 s.');
  if (claims.iss !== ASSERTION_ISSUER) return fail('wrong-issuer', `The issuer is not ${ASSERTION_ISSUER}.`);
  if (claims.aud !== options.audience) return fail('wrong-audience', 'The assertion is for another audience (FACE_LOGIN_AUDIENCE).');
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.clockToleranceS ?? 5;
  if (now >= claims.exp + tolerance) return fail('expired', 'The assertion has expired.');
  if (claims.iat > now + tolerance) return fail('not-yet-valid', 'The assertion was issued in the future (clock difference?).');
  if (options.subject !== undefined && claims.sub !== options.subject) return fail('wrong-subject', 'The assertion is for another user.');
  if (options.action !== undefined && claims.act !== options.action) return fail('wrong-action', `The assertion is for ${claims.act}, not ${options.action}.`);
  if (options.nonce !== undefined && claims.nonce !== options.nonce) return fail('wrong-nonce', 'The assertion answers another challenge.');
  return { ok: true, claims };
}
