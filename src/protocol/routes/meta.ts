import * as T from '@sinclair/typebox';
import { MAX_EMBEDDING_LENGTH } from '../constants.js';
import { Closed, OneOf } from '../fields.js';
import { defineRoute } from '../route.js';

export const healthRoute = defineRoute({
  method: 'GET',
  url: '/v1/health',
  summary: 'Health',
  response: {
    200: Closed({
      ok: T.Boolean(),
      db: OneOf(['sqlite', 'postgres']),
      models: T.Record(T.String(), Closed({ size: T.Integer({ minimum: 1, maximum: MAX_EMBEDDING_LENGTH }) })),
    }),
  },
});

export const openapiRoute = defineRoute({
  method: 'GET',
  url: '/openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  response: { 200: T.Object({}, { additionalProperties: true }) },
});

/** base64url of 32 bytes (an Ed25519 public key, a SHA-256 thumbprint). */
const B64URL_32 = { minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]+$' } as const;

/** One public key that signs assertions: an Ed25519 JWK, `kid` its RFC 7638 thumbprint. */
export const PublicJwk = Closed({
  kty: T.Literal('OKP'),
  crv: T.Literal('Ed25519'),
  x: T.String({ ...B64URL_32, description: 'The Ed25519 public key (base64url).' }),
  kid: T.String({ ...B64URL_32, description: 'RFC 7638 JWK thumbprint (SHA-256) of {crv, kty, x}: the assertion header\'s kid.' }),
  alg: T.Literal('EdDSA'),
  use: T.Literal('sig'),
});
export type PublicJwk = T.Static<typeof PublicJwk>;

/** A JWK Set: the signing key first, then keys being retired (still accepted, never used to sign). */
export const Jwks = Closed({ keys: T.Array(PublicJwk, { minItems: 1, maxItems: 16 }) });
export type Jwks = T.Static<typeof Jwks>;

export const keysRoute = defineRoute({
  method: 'GET',
  url: '/v1/keys',
  summary: 'The public keys that sign assertions (JWKS)',
  description:
    'A JWK Set of Ed25519 public keys. An assertion (from an accepted verify / identify) is a compact JWS whose header kid ' +
    'names one of them; a portal\'s backend checks it with face-login/server-client verifyFaceLoginAssertion or any JOSE ' +
    'library (alg EdDSA only). The first key signs; the others are being retired. Cache it for minutes, re-fetch on an unknown kid.',
  response: { 200: Jwks },
});
