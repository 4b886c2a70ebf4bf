/**
 * The API's one error type. Every refusal the server gives a client is an ApiError with a stable
 * kebab-case `code`; the app's error handler turns it into
 * `{ "error": { "code", "message", ...extra } }` with its HTTP status. Anything that is not an
 * ApiError (and not a Fastify 4xx it knows how to map) becomes `internal` with no details.
 */
export const API_ERROR_CODES = [
  'invalid-body',
  'body-too-large',
  'unsupported-media-type',
  'invalid-embedding',
  'unknown-model',
  'invalid-nonce',
  'unknown-user',
  'duplicate-enrollment',
  'already-enrolled',
  'too-many-templates',
  'proof-required',
  'invalid-assertion',
  'unauthorized',
  'locked-out',
  'rate-limited',
  'origin-not-allowed',
  'not-found',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

const STATUS: Record<ApiErrorCode, number> = {
  'invalid-body': 400,
  'body-too-large': 413,
  'unsupported-media-type': 415,
  'invalid-embedding': 400,
  'unknown-model': 400,
  'invalid-nonce': 400,
  'unknown-user': 404,
  'duplicate-enrollment': 409,
  'already-enrolled': 409,
  'too-many-templates': 409,
  'proof-required': 403,
  'invalid-assertion': 401,
  unauthorized: 401,
  'locked-out': 429,
  'rate-limited': 429,
  'origin-not-allowed': 403,
  'not-found': 404,
  internal: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** Extra fields sent next to code and message (only `retryAfterSeconds` today). */
  readonly extra: { retryAfterSeconds?: number };

  constructor(code: ApiErrorCode, message: string, extra: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.code = code;
    this.statusCode = STATUS[code];
    this.extra = extra;
  }
}
