/**
 * face-login/server-client: for the site's backend, never the page (no DOM, no Node-only API:
 * fetch, WebCrypto and `jose`; Node >= 20, Deno, Bun, workers).
 *
 * - Main mode (sessions): `new FaceLoginSiteClient({ serverUrl, siteKey })`, then `openSession`,
 *   hand `sessionId` to the page, `readResult`; `deleteUser`, `exportUser`. Every answer is checked
 *   against the protocol's schemas; every refusal is a FaceLoginServerError { code, status, retryAfterSeconds? }.
 * - Device mode (FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS): the page hands you an `assertion`;
 *   `verifyFaceLoginAssertion(token, { keys: faceLoginKeys({ serverUrl }), audience, subject, action })`
 *   gives its claims or a typed reason, and you make it single use by remembering `jti` until `exp`.
 */
export {
  FaceLoginServerError,
  FaceLoginSiteClient,
  faceLoginKeys,
  type FaceLoginKeysOptions,
  type FaceLoginSiteClientOptions,
  type FetchLike,
  type Jwks,
  type OpenSessionInput,
  type OpenedSession,
  type SessionAction,
  type SessionChallenge,
  type SessionResult,
  type UserExport,
} from './client.js';
export {
  ASSERTION_FAILURES,
  ASSERTION_ISSUER,
  ASSERTION_TYPE,
  verifyFaceLoginAssertion,
  type AssertionAction,
  type AssertionCheck,
  type AssertionClaims,
  type AssertionFailure,
  type KeySource,
  type PublicJwk,
  type VerifyAssertionOptions,
} from './assertion.js';
