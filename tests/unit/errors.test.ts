import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FaceLoginError, cameraErrorFrom, storageErrorFrom } from '../../src/core/errors.js';
import { en } from '../../src/element/i18n.js';

const dom = (name: string) => new DOMException('platform message', name);

describe('error mapping', () => {
  it.each([
    ['NotAllowedError', 'camera-denied'],
    ['SecurityError', 'camera-denied'],
    ['NotFoundError', 'camera-not-found'],
    ['OverconstrainedError', 'camera-not-found'],
    ['NotReadableError', 'camera-busy'],
    ['AbortError', 'camera-busy'],
  ])('getUserMedia %s -> %s', (name, code) => {
    const e = cameraErrorFrom(dom(name));
    expect(e).toBeInstanceOf(FaceLoginError);
    expect(e.code).toBe(code);
    expect(e.cause).toBeInstanceOf(DOMException);
  });

  it('storage quota -> storage-full, anything else -> storage-unavailable', () => {
    expect(storageErrorFrom(dom('QuotaExceededError')).code).toBe('storage-full');
    expect(storageErrorFrom(dom('InvalidStateError')).code).toBe('storage-unavailable');
    expect(storageErrorFrom(new Error('boom')).code).toBe('storage-unavailable');
  });

  it('keeps an existing FaceLoginError as it is', () => {
    const e = new FaceLoginError('no-face', 'x');
    expect(cameraErrorFrom(e)).toBe(e);
    expect(storageErrorFrom(e)).toBe(e);
  });

  it('every error code has an English message for the status line', () => {
    for (const code of ERROR_CODES) expect(en[code], code).toMatch(/\w{3,}/);
  });
});
