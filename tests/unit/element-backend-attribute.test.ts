/**
 * <face-login>'s `server` / `backend` / `compute` / `offline` attributes into createFaceAuth
 * options: the new split (server = verification server URL, backend = TF.js backend), and the
 * old forms kept for one release with a one-time console warning each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBackendAttributes, type BackendAttributes, type BackendDeprecation } from '../../src/element/backend-attribute.js';
import { FaceLoginError } from '../../src/core/errors.js';

const attrs = (a: Partial<BackendAttributes>): BackendAttributes => ({ server: '', backend: '', compute: '', offline: 'deny', ...a });

function parse(a: Partial<BackendAttributes>) {
  const warned: BackendDeprecation[] = [];
  const options = parseBackendAttributes(attrs(a), (w) => warned.push(w));
  return { options, warned };
}

describe('server and backend attributes', () => {
  it('backend names the TF.js backend; nothing set is auto on the device', () => {
    expect(parse({})).toEqual({ options: { backend: 'auto' }, warned: [] });
    for (const b of ['auto', 'webgl', 'wasm', 'cpu'] as const) expect(parse({ backend: b })).toEqual({ options: { backend: b }, warned: [] });
  });

  it('server is the verification server; offline="allow" lets the device decide while it is down', () => {
    expect(parse({ server: 'https://auth.example', backend: 'wasm' })).toEqual({
      options: { backend: 'wasm', server: { url: 'https://auth.example', allowOffline: false } },
      warned: [],
    });
    expect(parse({ server: ' /api ', offline: 'allow' }).options).toEqual({ backend: 'auto', server: { url: '/api', allowOffline: true } });
  });

  it('removed attributes (null) count as not set', () => {
    expect(parseBackendAttributes({ server: null, backend: null, compute: null, offline: null }, () => undefined)).toEqual({ backend: 'auto' });
  });

  it('an unknown backend or compute name is invalid-input, not a server URL', () => {
    for (const a of [{ backend: 'webgpu' }, { compute: 'gpu' }]) {
      let err: unknown;
      try {
        parse(a);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FaceLoginError);
      expect((err as FaceLoginError).code).toBe('invalid-input');
    }
  });
});

describe('backend and offline outside their sets', () => {
  const thrown = (a: Partial<BackendAttributes>) => {
    try {
      parse(a);
    } catch (e) {
      return e as FaceLoginError;
    }
    throw new Error(`no error for ${JSON.stringify(a)}`);
  };

  it.each(['webgpu', 'GPU', '__proto__', 'constructor'])('backend=%j is invalid-input naming auto, webgl, wasm and cpu', (backend) => {
    const e = thrown({ backend });
    expect(e).toMatchObject({ code: 'invalid-input' });
    for (const b of ['auto', 'webgl', 'wasm', 'cpu']) expect(e.message).toContain(b);
  });

  it.each(['yes', 'true', 'Allow', 'on', '__proto__'])('offline=%j is invalid-input naming allow and deny, with or without a server', (offline) => {
    for (const server of ['', 'https://auth.example']) {
      const e = thrown({ offline, server });
      expect(e).toMatchObject({ code: 'invalid-input' });
      expect(e.message).toContain('allow');
      expect(e.message).toContain('deny');
    }
  });

  it('offline allow, deny, empty and removed are fine', () => {
    for (const offline of ['allow', 'deny', '', null]) expect(() => parse({ offline, server: 'https://a.example' })).not.toThrow();
  });
});

describe('deprecated forms (one release)', () => {
  it('backend="<URL>" is taken as server=, with a deprecation', () => {
    expect(parse({ backend: 'https://auth.example', offline: 'allow' })).toEqual({
      options: { backend: 'auto', server: { url: 'https://auth.example', allowOffline: true } },
      warned: ['backend-url'],
    });
    expect(parse({ backend: '/api' }).options).toEqual({ backend: 'auto', server: { url: '/api', allowOffline: false } });
  });

  it('compute="wasm" is taken as backend=, with a deprecation; an explicit backend wins', () => {
    expect(parse({ compute: 'wasm' })).toEqual({ options: { backend: 'wasm' }, warned: ['compute'] });
    expect(parse({ backend: 'webgl', compute: 'wasm' })).toEqual({ options: { backend: 'webgl' }, warned: ['compute'] });
  });

  it('the old pair backend="<URL>" compute="wasm" still means server + wasm (two deprecations)', () => {
    expect(parse({ backend: 'https://auth.example', compute: 'wasm' })).toEqual({
      options: { backend: 'wasm', server: { url: 'https://auth.example', allowOffline: false } },
      warned: ['backend-url', 'compute'],
    });
  });

  it('server= wins over a URL in backend=', () => {
    expect(parse({ server: 'https://new.example', backend: 'https://old.example' }).options.server?.url).toBe('https://new.example');
  });

  describe('console.warn', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('warns once per page for each deprecated form, naming the replacement', async () => {
      vi.resetModules(); // a fresh module: no warning given yet on this "page"
      const { parseBackendAttributes: fresh } = await import('../../src/element/backend-attribute.js');
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      fresh(attrs({ server: 'https://a.example', backend: 'wasm' }));
      expect(warn).not.toHaveBeenCalled();
      for (let i = 0; i < 3; i++) fresh(attrs({ backend: 'https://a.example', compute: 'wasm' }));
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[0]![0]).toMatch(/backend=.*deprecated.*server=/);
      expect(warn.mock.calls[1]![0]).toMatch(/compute=.*deprecated.*backend=/);
      fresh(attrs({ compute: 'cpu' }));
      expect(warn).toHaveBeenCalledTimes(2);
    });
  });
});
