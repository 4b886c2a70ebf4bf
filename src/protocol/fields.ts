/**
 * The schemas the routes share: ids, nonces, embeddings, poses, the proof headers. Every object
 * schema of a request sets `additionalProperties: false`, and the server's Ajv neither removes
 * nor coerces, so an unknown field or a wrongly typed value is refused (invalid-body).
 */
import * as T from '@sinclair/typebox';
import {
  ASSERTION,
  ATTEMPT_ACTIONS,
  ATTEMPT_DECISIONS,
  ATTEMPT_LABELS,
  CHALLENGE_ACTIONS,
  MAX_ADMIN_KEY_LENGTH,
  MAX_AUTHORIZATION_LENGTH,
  MAX_EMBEDDING_LENGTH,
  MODEL_ID,
  NONCE,
  POSES,
  USER_ID,
} from './constants.js';

const STRING_ENUM = 'StringEnum';

/**
 * A string that is one of `values`, as JSON Schema's `{ type: 'string', enum }` (the TypeBox
 * recipe for OpenAPI enums: a Union of Literals would be an anyOf of consts, wordier in the
 * document and in Ajv's messages). Its kind is registered here, once, for `Value.Check` (./check.ts).
 */
export function OneOf<const V extends readonly string[]>(values: V, options: T.SchemaOptions = {}): T.TUnsafe<V[number]> {
  if (!T.TypeRegistry.Has(STRING_ENUM)) {
    T.TypeRegistry.Set<{ enum: readonly string[] }>(STRING_ENUM, (schema, value) => typeof value === 'string' && schema.enum.includes(value));
  }
  return T.Unsafe<V[number]>({ ...options, [T.Kind]: STRING_ENUM, type: 'string', enum: [...values] });
}

/** `schema` or null. */
export function Nullable<S extends T.TSchema>(schema: S) {
  return T.Union([schema, T.Null()]);
}

/** An object that takes no other properties. */
export function Closed<P extends T.TProperties>(properties: P, options: T.ObjectOptions = {}) {
  return T.Object(properties, { additionalProperties: false, ...options });
}

export const UserId = T.String({ ...USER_ID, description: 'The portal\'s user id: 1-128 characters from A-Z a-z 0-9 . _ @ + : -' });

export const Nonce = T.String({ ...NONCE, description: 'A challenge nonce from POST /v1/challenges (base64url).' });

export const ModelId = T.String({
  ...MODEL_ID,
  description: 'The embedder\'s model id (e.g. mobilefacenet-expo-1.0.24+flip); see GET /v1/health for the configured ones.',
});

/** Length and finiteness are checked against the model by the handler (invalid-embedding). */
export const Embedding = T.Array(T.Number(), {
  minItems: 1,
  maxItems: MAX_EMBEDDING_LENGTH,
  description: 'The embedding as JSON numbers; its length must be the model\'s size, every value finite, the norm non-zero. The server L2-normalises it.',
});

export const Pose = OneOf(POSES);
export type Pose = T.Static<typeof Pose>;

export const ChallengeAction = OneOf(CHALLENGE_ACTIONS);
export type ChallengeAction = T.Static<typeof ChallengeAction>;

export const AttemptAction = OneOf(ATTEMPT_ACTIONS);
export type AttemptAction = T.Static<typeof AttemptAction>;
export const AttemptDecision = OneOf(ATTEMPT_DECISIONS);
export type AttemptDecision = T.Static<typeof AttemptDecision>;
export const AttemptLabel = OneOf(ATTEMPT_LABELS);
export type AttemptLabel = T.Static<typeof AttemptLabel>;

export const Assertion = T.String({
  ...ASSERTION,
  description:
    'A compact JWS (EdDSA, Ed25519; header {alg: "EdDSA", kid, typ: "face-login+jwt"}) over the AssertionClaims, signed by the ' +
    'server with its key (FACE_LOGIN_SIGNING_KEY) and checked by the portal\'s backend against the public keys of GET /v1/keys ' +
    '(face-login/server-client verifyFaceLoginAssertion).',
});

/** Who signs assertions (`iss`), and the JWS `typ` of one. */
export const ASSERTION_ISSUER = 'face-login';
export const ASSERTION_TYPE = 'face-login+jwt';
/** What an assertion says happened: a 1:1 verify of the user, or a 1:N identify that named them. */
export const ASSERTION_ACTIONS = ['verify', 'identify'] as const;
export const AssertionAction = OneOf(ASSERTION_ACTIONS);
export type AssertionAction = T.Static<typeof AssertionAction>;

/**
 * The claims of an assertion, exactly these (another claim is refused). `iss` is any string here so
 * that a wrong issuer reads as such (the verifier compares it with ASSERTION_ISSUER).
 */
export const AssertionClaims = Closed({
  iss: T.String({ maxLength: 64 }),
  aud: T.String({ minLength: 1, maxLength: 256, description: 'The portal the assertion is for (FACE_LOGIN_AUDIENCE).' }),
  sub: UserId,
  act: AssertionAction,
  nonce: T.String({ ...NONCE, description: 'The challenge nonce the verify / identify request consumed.' }),
  iat: T.Integer({ minimum: 0, description: 'Issued at, seconds since the epoch.' }),
  exp: T.Integer({ minimum: 0, description: 'Expires at, seconds since the epoch.' }),
  jti: T.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Unique id: single use on the server; a portal remembers it until exp.' }),
});
export type AssertionClaims = T.Static<typeof AssertionClaims>;

/** ms since the epoch. */
export const EpochMs = T.Integer({ minimum: 0, description: 'ms since the epoch' });

export const DateTime = T.String({ format: 'date-time' });

export const UserParams = Closed({ userId: UserId });

/** A template as the widget keeps it: what a backup stores and a restore gives back. */
export const BackupTemplate = Closed({ embedding: Embedding, pose: Pose, createdAt: EpochMs });

/** One row of the audit log as a user's export shows it (the score withheld; admins see more). */
export const Attempt = Closed({
  at: DateTime,
  action: AttemptAction,
  claimedUser: Nullable(UserId),
  matchedUser: Nullable(UserId),
  decision: AttemptDecision,
  modelId: ModelId,
  ip: Nullable(T.String()),
  userAgent: Nullable(T.String()),
  origin: Nullable(T.String()),
});

/** The answer of a route that answers 204. */
export const NoContent = T.Null({ description: 'No content.' });

const Authorization = T.String({
  maxLength: MAX_AUTHORIZATION_LENGTH,
  description:
    'Bearer <assertion> for this user from an accepted VERIFY (an identify assertion is no proof): the proof needed to delete, ' +
    'export, restore, or re-enroll / re-back-up a user whose new face does not match the old one. Single use: a second request ' +
    'with the same assertion is invalid-assertion.',
});

const AdminKey = T.String({ maxLength: MAX_ADMIN_KEY_LENGTH, description: 'The admin key (FACE_LOGIN_ADMIN_KEY): a portal backend acting for any user.' });

/** Optional proof of acting for the user (headers are never closed: browsers add their own). */
export const ProofHeaders = T.Object({ authorization: T.Optional(Authorization), 'x-face-login-admin-key': T.Optional(AdminKey) });

/** For the routes with no body: the nonce travels as a header, with the proof. */
export const NonceAndProofHeaders = T.Object({ 'x-face-login-nonce': Nonce, ...ProofHeaders.properties });

/** Not required: a missing key is 401 unauthorized (checked by the handler), not invalid-body. */
export const AdminHeaders = T.Object({ 'x-face-login-admin-key': T.Optional(AdminKey) });
