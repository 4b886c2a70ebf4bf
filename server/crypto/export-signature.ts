/**
 * Signed exports (issue 11: "exports encrypted or signed"). A user's export (GET
 * /v1/site/users/:id/export, GET /v1/users/:id/export) keeps its JSON body and carries a detached
 * JWS over the exact body bytes (RFC 7515 appendix F) in the `Face-Login-Export-Signature` header:
 *
 *   base64url({"alg":"EdDSA","kid":<signing key's kid>,"typ":"face-login-export+jws","iat":<s>}) + ".." + base64url(signature)
 *
 * signed with the assertion key (FACE_LOGIN_SIGNING_KEY), whose public keys are GET /v1/keys. So a
 * site, or the person the export is about, can later prove that the export came from this server
 * unchanged. To check: put base64url(body) between the two dots and verify the compact JWS with
 * the JWK Set (any JOSE library limited to EdDSA, or `verifyExportSignature` below).
 *
 * Not encrypted: the body travels to the site's backend over TLS, authenticated by its site key (or
 * to a proven user); it holds the user's templates in the clear, as it must for a subject access request.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AssertionKeys } from '../assertion.js';
import type { Jwks } from '../../src/server-client/assertion.js';

export const EXPORT_SIGNATURE_HEADER = 'face-login-export-signature';
export const EXPORT_SIGNATURE_TYPE = 'face-login-export+jws';

export interface ExportSignatureHeader {
  readonly alg: 'EdDSA';
  readonly kid: string;
  readonly typ: typeof EXPORT_SIGNATURE_TYPE;
  /** Seconds since the epoch, when the export was made. */
  readonly iat: number;
}

/** The detached compact JWS (`header..signature`) of these body bytes. */
export function signExport(keys: AssertionKeys, body: string | Uint8Array, nowMs: number): string {
  const header: ExportSignatureHeader = { alg: 'EdDSA', kid: keys.kid, typ: EXPORT_SIGNATURE_TYPE, iat: Math.floor(nowMs / 1000) };
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const input = Buffer.from(`${h}.${Buffer.from(body).toString('base64url')}`);
  return `${h}..${sign(null, input, keys.signer).toString('base64url')}`;
}

/** Checks a detached export signature against the server's JWK Set; the header, or null when it does not verify. */
export function verifyExportSignature(jwks: Jwks, body: string | Uint8Array, jws: string): ExportSignatureHeader | null {
  const m = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/.exec(jws);
  if (!m) return null;
  let header: ExportSignatureHeader;
  try {
    header = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as ExportSignatureHeader;
  } catch {
    return null;
  }
  if (header.alg !== 'EdDSA' || header.typ !== EXPORT_SIGNATURE_TYPE) return null;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return null;
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  const input = Buffer.from(`${m[1]}.${Buffer.from(body).toString('base64url')}`);
  return verify(null, input, key, Buffer.from(m[2]!, 'base64url')) ? header : null;
}

/** Route onSend hook: signs a 200 export's serialized body into the signature header. */
export function exportSignatureHook(keys: AssertionKeys, now: () => number) {
  return async (_req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    if (reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
      void reply.header(EXPORT_SIGNATURE_HEADER, signExport(keys, payload, now()));
    }
    return payload;
  };
}
