/**
 * selectBackend's page-wide choice, with TF.js replaced by a fake setBackend: the first
 * successful choice is final, 'auto' and the same backend reuse it, a different explicit backend
 * is refused with backend-conflict (TF.js is never switched), and a failed choice can be retried.
 * The real backends (and a model that survives the refusal) run in tests/browser/backend.spec.ts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const setBackend = vi.hoisted(() => vi.fn<(name: string) => Promise<boolean>>());
vi.mock('@tensorflow/tfjs-core', () => ({ setBackend }));
/** Which backend modules were imported (each mock's factory runs when its module is first imported). */
const imported = vi.hoisted(() => [] as string[]);
vi.mock('@tensorflow/tfjs-backend-webgl', () => (imported.push('webgl'), {}));
vi.mock('@tensorflow/tfjs-backend-cpu', () => (imported.push('cpu'), {}));
vi.mock('@tensorflow/tfjs-backend-wasm', () => (imported.push('wasm'), { setWasmPaths: vi.fn() }));

/** A fresh page: the module (and its choice) loaded anew. */
async function freshPage() {
  vi.resetModules();
  return (await import('../../src/adapters/embedder/tf-backend.js')).selectBackend;
}

beforeEach(() => {
  imported.length = 0;
  setBackend.mockReset();
  setBackend.mockResolvedValue(true);
});

describe('selectBackend: one TF.js backend per page', () => {
  it('imports only the backend it tries: nothing on import, wasm alone when wasm is chosen (the lean default)', async () => {
    const selectBackend = await freshPage();
    expect(imported).toEqual([]);
    await selectBackend('wasm', '/wasm/tfjs/');
    expect(imported).toEqual(['wasm']);
  });

  it('the first choice is final: auto and the same backend reuse it, another explicit backend is refused, TF.js is set once', async () => {
    const selectBackend = await freshPage();
    const first = await selectBackend('wasm', '/wasm/tfjs/');
    expect(first).toMatchObject({ backend: 'wasm', reason: 'forced' });
    expect(await selectBackend('auto', '/wasm/tfjs/')).toBe(first);
    expect(await selectBackend('wasm', '/elsewhere/')).toBe(first);
    await expect(selectBackend('webgl', '/wasm/tfjs/')).rejects.toMatchObject({
      name: 'FaceLoginError',
      code: 'backend-conflict',
      message: expect.stringMatching(/already runs .* on the wasm TF\.js backend.*webgl was asked for.*same backend \(or "auto"\)/s),
    });
    await expect(selectBackend('cpu', '/wasm/tfjs/')).rejects.toMatchObject({ code: 'backend-conflict' });
    expect(setBackend.mock.calls).toEqual([['wasm']]);
  });

  it("'auto' first (no WebGL here: WASM), then an explicit cpu is refused", async () => {
    const selectBackend = await freshPage();
    expect(await selectBackend('auto', '/wasm/tfjs/')).toMatchObject({ backend: 'wasm', reason: 'no-webgl' });
    await expect(selectBackend('cpu', '/wasm/tfjs/')).rejects.toMatchObject({ code: 'backend-conflict' });
    expect(setBackend).toHaveBeenCalledTimes(1);
  });

  it('a call made while the choice is under way waits for it, then follows the same rule', async () => {
    const selectBackend = await freshPage();
    let finish!: (ok: boolean) => void;
    setBackend.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    const first = selectBackend('cpu', '/wasm/tfjs/');
    const same = selectBackend('auto', '/wasm/tfjs/');
    const other = selectBackend('wasm', '/wasm/tfjs/').catch((e: unknown) => e);
    // The backend's module is imported first (dynamic import): setBackend comes a few ticks later.
    await vi.waitFor(() => expect(setBackend).toHaveBeenCalled());
    finish(true);
    expect(await first).toMatchObject({ backend: 'cpu' });
    expect(await same).toBe(await first);
    expect(await other).toMatchObject({ code: 'backend-conflict' });
    expect(setBackend.mock.calls).toEqual([['cpu']]);
  });

  it('a failed choice is forgotten: the next call (even for another backend) chooses afresh, and that one is final', async () => {
    const selectBackend = await freshPage();
    setBackend.mockRejectedValueOnce(new Error('no WebGL context'));
    const failed = selectBackend('webgl', '/wasm/tfjs/');
    // Asked for while the failing choice is under way: it makes its own once that fails.
    const retry = selectBackend('cpu', '/wasm/tfjs/');
    await expect(failed).rejects.toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/no WebGL context/) });
    expect(await retry).toMatchObject({ backend: 'cpu', reason: 'forced' });
    await expect(selectBackend('webgl', '/wasm/tfjs/')).rejects.toMatchObject({ code: 'backend-conflict' });
    expect(setBackend.mock.calls).toEqual([['webgl'], ['cpu']]);
  });
});
