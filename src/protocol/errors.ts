/**
 * The server's refusals: every one is `{ "error": { "code", "message", "retryAfterSeconds"? } }`
 * with a stable kebab-case code. This table is the one list of those codes, each with the HTTP
 * status the server answers it with and the FaceLoginErrorCode the page turns it into; codes
 * that have no meaning of their own on the page become `backend-error`.
 */
import * as T from '@sinclair/typebox';
import type { FaceLoginErrorCode } from '../core/errors.js';

export const SERVER_ERRORS = {
  'invalid-body': { status: 400, page: 'backend-error' },
  'body-too-large': { status: 413, page: 'backend-error' },
  'unsupported-media-type': { status: 415, page: 'backend-error' },
  'invalid-embedding': { status: 400, page: 'backend-error' },
  'unknown-model': { status: 400, page: 'backend-error' },
  'invalid-nonce': { status: 400, page: 'backend-error' },
  'unknown-user': { status: 404, page: 'not-enrolled' },
  'duplicate-enrollment': { status: 409, page: 'duplicate-enrollment' },
  'already-enrolled': { status: 409, page: 'backend-error' },
  'too-many-templates': { status: 409, page: 'backend-error' },
  'proof-required': { status: 403, page: 'backend-error' },
  'invalid-assertion': { status: 401, page: 'backend-error' },
  unauthorized: { status: 401, page: 'backend-error' },
  'locked-out': { status: 429, page: 'locked-out' },
  'rate-limited': { status: 429, page: 'rate-limited' },
  'origin-not-allowed': { status: 403, page: 'backend-error' },
  'not-found': { status: 404, page: 'backend-error' },
  // Sessions (src/protocol/routes/sessions.ts): the session is unknown, used or expired (one code for all three).
  'invalid-session': { status: 404, page: 'backend-error' },
  // This server opens no sessions (no FACE_LOGIN_SITE_KEYS, or no face examiner).
  'sessions-disabled': { status: 403, page: 'backend-unavailable' },
  // The device routes (embeddings computed by the page) are off: FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS is not set.
  'device-routes-disabled': { status: 403, page: 'backend-error' },
  // The server's examination of an upload refused it (server/vision/examine-types.ts ExamineRefusal).
  'bad-frames': { status: 422, page: 'invalid-input' },
  'no-face': { status: 422, page: 'no-face' },
  'multiple-faces': { status: 422, page: 'multiple-faces' },
  'liveness-failed': { status: 422, page: 'liveness-failed' },
  'identity-changed': { status: 422, page: 'liveness-failed' },
  // Every face examination slot is taken (server/vision/examiner-pool.ts): retry after retryAfterSeconds (Retry-After); the session stays open.
  overloaded: { status: 503, page: 'backend-overloaded' },
  // The database cannot do the work now (server/store/faults.ts): locked by another writer (retry in a
  // moment), out of space, or not writable / not reachable. Typed so operators and pages can tell them apart.
  'storage-busy': { status: 503, page: 'backend-overloaded' },
  'storage-full': { status: 503, page: 'backend-storage' },
  'storage-unavailable': { status: 503, page: 'backend-storage' },
  internal: { status: 500, page: 'backend-unavailable' },
} as const satisfies Record<string, { readonly status: number; readonly page: FaceLoginErrorCode }>;

export type ServerErrorCode = keyof typeof SERVER_ERRORS;

export const SERVER_ERROR_CODES = Object.keys(SERVER_ERRORS) as ServerErrorCode[];

export function isServerErrorCode(code: string): code is ServerErrorCode {
  return Object.hasOwn(SERVER_ERRORS, code);
}

/** The page's code for a server's code; one this page does not know (a newer server) is backend-error. */
export function pageErrorCode(serverCode: string): FaceLoginErrorCode {
  return isServerErrorCode(serverCode) ? SERVER_ERRORS[serverCode].page : 'backend-error';
}

/**
 * The body of every 4xx / 5xx answer. `code` is a string, not an enum of today's codes, so a
 * page keeps reading the refusals of a newer server (an unknown code is backend-error).
 */
export const ErrorBody = T.Object(
  {
    error: T.Object(
      {
        code: T.String({ pattern: '^[a-z]+(-[a-z]+)*$', description: `Stable kebab-case code: ${SERVER_ERROR_CODES.join(', ')}.` }),
        message: T.String(),
        retryAfterSeconds: T.Optional(T.Integer({ minimum: 0, description: 'locked-out, rate-limited, overloaded: seconds until a retry can succeed (also sent as Retry-After).' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ErrorBody = T.Static<typeof ErrorBody>;
