/**
 * Where the assets are looked for (setBasePath, asset-base, the meta tag face-login/vite writes,
 * models-url / wasm-url) and what a missing or wrong asset says: the URL, what was expected, and
 * the fix. The real browser cases (wasm included) run in tests/browser/assets.spec.ts.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchManifest, fetchModelFile, manifestEntry } from '../../src/adapters/models/model-files.js';
import { resolveAssetUrls, setBasePath } from '../../src/asset-base.js';

const FIX = /face-login\/vite.*npx face-login assets <dir>.*asset-base=.*setBasePath/s;

function answer(body: string | Uint8Array, init: { status?: number; type?: string } = {}) {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(body as BodyInit, { status: init.status ?? 200, headers: { 'content-type': init.type ?? 'application/octet-stream' } })));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setBasePath(null);
});

describe('asset URLs', () => {
  it('default /models/ and /wasm/; setBasePath moves both; asset-base beats it; models-url / wasm-url beat both', () => {
    expect(resolveAssetUrls()).toMatchObject({ modelsUrl: '/models/', wasmUrl: '/wasm/', source: 'default' });
    setBasePath('/static/face-login');
    expect(resolveAssetUrls()).toMatchObject({ modelsUrl: '/static/face-login/models/', wasmUrl: '/static/face-login/wasm/', source: 'setBasePath' });
    expect(resolveAssetUrls({ assetBase: 'https://cdn.example/fl/' })).toMatchObject({ modelsUrl: 'https://cdn.example/fl/models/', wasmUrl: 'https://cdn.example/fl/wasm/' });
    expect(resolveAssetUrls({ assetBase: '/a/', modelsUrl: '/m/' })).toMatchObject({ modelsUrl: '/m/', wasmUrl: '/a/wasm/' });
    expect(resolveAssetUrls({ modelsUrl: '/m/', wasmUrl: '/w/' })).toMatchObject({ modelsUrl: '/m/', wasmUrl: '/w/', source: 'explicit' });
    setBasePath(null);
    expect(resolveAssetUrls()).toMatchObject({ modelsUrl: '/models/', wasmUrl: '/wasm/' });
  });

  it('the page meta tag (face-login/vite) is the base when setBasePath was not called', () => {
    const meta = { getAttribute: (name: string) => (name === 'content' ? '/face-login/' : null) };
    vi.stubGlobal('document', { querySelector: (sel: string) => (sel === 'meta[name="face-login-asset-base"]' ? meta : null) });
    expect(resolveAssetUrls()).toMatchObject({ modelsUrl: '/face-login/models/', wasmUrl: '/face-login/wasm/', source: 'meta' });
    setBasePath('/mine/');
    expect(resolveAssetUrls().modelsUrl).toBe('/mine/models/');
  });
});

describe('a missing or wrong asset: model-load-failed naming the URL, what was expected and the fix', () => {
  it('manifest 404', async () => {
    answer('Not found', { status: 404, type: 'text/plain' });
    const e = await fetchManifest('/face-login/models/').catch((x) => x);
    expect(e).toMatchObject({ code: 'model-load-failed' });
    expect(e.message).toMatch(/\/face-login\/models\/manifest\.json is missing \(HTTP 404\): expected face-login's models\/manifest\.json there/);
    expect(e.message).toMatch(FIX);
  });

  it('manifest that is an HTML page (an SPA fallback), with or without its content-type', async () => {
    for (const type of ['text/html; charset=utf-8', 'application/octet-stream']) {
      answer('<!doctype html><html><body>app</body></html>', { type });
      const e = await fetchManifest('/models/').catch((x) => x);
      expect(e).toMatchObject({ code: 'model-load-failed' });
      expect(e.message).toMatch(/\/models\/manifest\.json is missing: the server answered with an HTML page/);
      expect(e.message).not.toMatch(/valid JSON/);
      expect(e.message).toMatch(FIX);
    }
  });

  it('a manifest that is not face-login\'s', async () => {
    answer('{"name":"something else"}', { type: 'application/json' });
    await expect(fetchManifest('/models/')).rejects.toMatchObject({ message: expect.stringMatching(/has no "files" list: expected face-login's/) });
    answer('{"files":[]}', { type: 'application/json' });
    const manifest = await fetchManifest('/models/');
    expect(() => manifestEntry(manifest, 'mobilefacenet/model.json')).toThrow(/\/models\/manifest\.json does not list mobilefacenet\/model\.json/);
  });

  it('a model file 404 or an HTML page names the URL, the bytes and sha256 expected', async () => {
    const sha256 = 'ab'.repeat(32);
    answer('nope', { status: 404, type: 'text/plain' });
    const e404 = await fetchModelFile('/models/mobilefacenet/weights.bin', { sha256, expectedBytes: 5171976 }).catch((x) => x);
    expect(e404.message).toMatch(/\/models\/mobilefacenet\/weights\.bin could not be loaded \(HTTP 404\) \(expected: the file the manifest lists, 5171976 bytes, sha256 abababababab…\)/);
    expect(e404.message).toMatch(FIX);
    answer('<!doctype html>', { type: 'text/html' });
    const html = await fetchModelFile('/models/mobilefacenet/weights.bin', { sha256, expectedBytes: 5171976 }).catch((x) => x);
    expect(html).toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/weights\.bin is missing: the server answered with an HTML page/) });
  });

  it('a model file with the wrong sha256', async () => {
    const right = new Uint8Array([1, 2, 3, 4]);
    const sha256 = createHash('sha256').update(right).digest('hex');
    answer(right);
    expect(await fetchModelFile('/models/x.bin', { sha256, expectedBytes: 4 })).toEqual(right);
    answer(new Uint8Array([1, 2, 3, 5]));
    const e = await fetchModelFile('/models/x.bin', { sha256, expectedBytes: 4 }).catch((x) => x);
    expect(e).toMatchObject({ code: 'model-load-failed' });
    expect(e.message).toMatch(new RegExp(`/models/x\\.bin is corrupt or from another face-login version: SHA-256 [0-9a-f]{12}… \\(4 bytes\\) does not match the manifest's ${sha256.slice(0, 12)}… \\(4 bytes\\)`));
    expect(e.message).toMatch(FIX);
  });
});
