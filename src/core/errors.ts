/**
 * One error type with a stable, documented `code`. Every adapter maps the platform's
 * failures (DOMException names, fetch failures, IndexedDB errors) to one of these codes
 * in one place, so pages can switch on `code` and the element can show a localized text.
 */
export const ERROR_CODES = [
  'camera-denied',
  'camera-not-found',
  'camera-busy',
  'camera-ended',
  'camera-unsupported',
  /** An operation that needs the camera was asked for before startCamera() (or after stopCamera()). */
  'camera-not-started',
  /** A camera frame could not be processed (the detector or the aligner threw). */
  'frame-failed',
  'model-load-failed',
  /** A second TF.js backend was asked for on a page that already chose one (see selectBackend). */
  'backend-conflict',
  'no-face',
  'multiple-faces',
  'not-enrolled',
  'storage-unavailable',
  'storage-full',
  'invalid-input',
  'aborted',
  'disposed',
  'backend-unavailable',
  /** The server is up but busy (overloaded, or its database locked): retry after the wait it gave. */
  'backend-overloaded',
  /** The server's database cannot store anything now (full, read-only, unreachable): the operator must act. */
  'backend-storage',
  'backend-error',
  'locked-out',
  'rate-limited',
  'duplicate-enrollment',
  'liveness-failed',
  /** Another enroll / verify / identify of the same engine is still running. */
  'busy',
] as const;

export type FaceLoginErrorCode = (typeof ERROR_CODES)[number];

export class FaceLoginError extends Error {
  override readonly name = 'FaceLoginError';
  readonly code: FaceLoginErrorCode;

  constructor(code: FaceLoginErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isFaceLoginError(e: unknown): e is FaceLoginError {
  return e instanceof FaceLoginError;
}

/** Maps a getUserMedia failure to our codes (names per the Media Capture spec). */
export function cameraErrorFrom(e: unknown): FaceLoginError {
  if (e instanceof FaceLoginError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = (e as { message?: string } | null)?.message ?? String(e);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return new FaceLoginError('camera-denied', `Camera permission was denied (${name}).`, { cause: e });
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new FaceLoginError('camera-not-found', `No usable camera was found (${name}).`, { cause: e });
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new FaceLoginError('camera-busy', `The camera could not be started; another application may be using it (${name}).`, { cause: e });
    default:
      return new FaceLoginError('camera-busy', `The camera could not be started: ${msg}`, { cause: e });
  }
}

/** Maps an IndexedDB / idb failure to our codes. */
export function storageErrorFrom(e: unknown): FaceLoginError {
  if (e instanceof FaceLoginError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = (e as { message?: string } | null)?.message ?? String(e);
  if (name === 'QuotaExceededError') {
    return new FaceLoginError('storage-full', `Browser storage is full: ${msg}`, { cause: e });
  }
  return new FaceLoginError('storage-unavailable', `Browser storage (IndexedDB) is unavailable: ${name ? name + ': ' : ''}${msg}`, { cause: e });
}

/** A FaceAuth was used after its dispose(), or an operation of it was still running then. */
export function disposedError(): FaceLoginError {
  return new FaceLoginError('disposed', 'This FaceAuth instance has been disposed.');
}

export function abortError(reason?: unknown): FaceLoginError {
  if (reason instanceof FaceLoginError) return reason;
  return new FaceLoginError('aborted', 'The operation was aborted.', { cause: reason });
}
