/**
 * Assertions: how a portal's own backend learns a face decision without trusting the page.
 *
 * On accept, /v1/verify and /v1/identify return `assertion`, a compact JWS (JWT) signed with
 * HMAC-SHA256 under FACE_LOGIN_SECRET:
 *   header  {"alg":"HS256","typ":"JWT"}
 *   payload {"iss":"face-login","sub":<userId>,"action":"verify"|"identify","iat":<s>,"exp":<s>,"jti":<random>}
 * The page forwards it to the portal backend, which calls `verifyAssertion(token, secret)` (or
 * any JWT library with HS256 and the same secret) and checks `sub`, `action`, `exp`, and that
 * `jti` was not used before. This module has no dependency besides node:crypto, so a portal can
 * copy it as is.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface AssertionClaims {
  readonly iss: 'face-login';
  readonly sub: string;
  readonly action: 'verify' | 'identify';
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
  /** Unique id: a portal should remember used ids until `exp` to make the assertion single-use. */
  readonly jti: string;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(data: string, secret: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signAssertion(
  sub: string,
  action: AssertionClaims['action'],
  secret: Buffer | string,
  options: { nowMs?: number; ttlS?: number } = {},
): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const claims: AssertionClaims = {
    iss: 'face-login',
    sub,
    action,
    iat,
    exp: iat + (options.ttlS ?? 120),
    jti: randomUUID(),
  };
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${sign(body, secret).toString('base64url')}`;
}

export type AssertionCheck =
  | { readonly ok: true; readonly claims: AssertionClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-subject' | 'wrong-action' };

/**
 * Verifies an assertion: signature (constant-time), structure, expiry (with `leewayS`, default 5),
 * and optionally the expected subject and action. Never throws on bad input.
 */
export function verifyAssertion(
  token: string,
  secret: Buffer | string,
  expect: { sub?: string; action?: AssertionClaims['action']; nowMs?: number; leewayS?: number } = {},
): AssertionCheck {
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(parts[2]!, 'base64url');
  const wanted = sign(`${parts[0]}.${parts[1]}`, secret);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'bad-signature' };
  let c: Partial<AssertionClaims>;
  try {
    c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<AssertionClaims>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    c === null ||
    typeof c !== 'object' ||
    c.iss !== 'face-login' ||
    typeof c.sub !== 'string' ||
    (c.action !== 'verify' && c.action !== 'identify') ||
    !Number.isInteger(c.iat) ||
    !Number.isInteger(c.exp) ||
    typeof c.jti !== 'string'
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const now = Math.floor((expect.nowMs ?? Date.now()) / 1000);
  if (now > c.exp! + (expect.leewayS ?? 5)) return { ok: false, reason: 'expired' };
  if (expect.sub !== undefined && c.sub !== expect.sub) return { ok: false, reason: 'wrong-subject' };
  if (expect.action !== undefined && c.action !== expect.action) return { ok: false, reason: 'wrong-action' };
  return { ok: true, claims: c as AssertionClaims };
}
