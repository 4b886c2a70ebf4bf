/**
 * The API's one error type. Every refusal the server gives a client is an ApiError with a stable
 * kebab-case `code`; the app's error handler turns it into
 * `{ "error": { "code", "message", ...extra } }` with its HTTP status. Anything that is not an
 * ApiError (and not a Fastify 4xx it knows how to map) becomes `internal` with no details.
 * The codes and their statuses are the protocol's (src/protocol/errors.ts), shared with the page.
 */
import { SERVER_ERRORS, type ServerErrorCode } from '../src/protocol/index.js';

export type ApiErrorCode = ServerErrorCode;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** Extra fields sent next to code and message (only `retryAfterSeconds` today). */
  readonly extra: { retryAfterSeconds?: number };

  constructor(code: ApiErrorCode, message: string, extra: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.code = code;
    this.statusCode = SERVER_ERRORS[code].status;
    this.extra = extra;
  }
}
