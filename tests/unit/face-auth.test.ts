/**
 * createFaceAuth (what <face-login> calls on connect): a liveness mode that cannot run is refused
 * with a typed error before anything is downloaded. The element shows that error's code
 * (face-login-error, status "invalid-input"); see src/element/face-login.component.ts onError.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const selectBackend = vi.fn(async () => {
  throw new Error('selectBackend must not be reached');
});
vi.mock('../../src/adapters/embedder/tf-backend.js', () => ({ selectBackend, probeWebGl: vi.fn() }));

const { createFaceAuth } = await import('../../src/face-auth.js');

afterEach(() => {
  selectBackend.mockClear();
  vi.unstubAllGlobals();
});

describe('createFaceAuth liveness options', () => {
  it.each(['passive', 'both'] as const)('liveness %s without a passiveLiveness rejects with invalid-input before loading anything', async (liveness) => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    await expect(createFaceAuth({ engine: { liveness } })).rejects.toMatchObject({
      name: 'FaceLoginError',
      code: 'invalid-input',
      message: expect.stringMatching(/needs a passive liveness model, and face-login ships none/),
    });
    expect(selectBackend).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('an unknown liveness mode (an attribute typo) is refused, not silently treated as off', async () => {
    await expect(createFaceAuth({ engine: { liveness: 'pasive' as 'passive' } })).rejects.toMatchObject({ code: 'invalid-input' });
    expect(selectBackend).not.toHaveBeenCalled();
  });

  it('with a passiveLiveness, or with off / active, it goes on to load the models', async () => {
    const pad = { modelId: 'x', threshold: 0.5, crop: () => new Uint8Array() as unknown as ImageData, score: async () => [], dispose: () => undefined };
    for (const engine of [{ liveness: 'passive' as const, passiveLiveness: pad }, { liveness: 'active' as const }, { liveness: 'off' as const }, {}]) {
      await expect(createFaceAuth({ engine })).rejects.toThrow('selectBackend must not be reached');
    }
    expect(selectBackend).toHaveBeenCalledTimes(4);
  });
});
