import { expect, test, type Page } from '@playwright/test';

/**
 * One TF.js backend per page, with the real backends and models: a second engine that asks for
 * another backend is refused with backend-conflict before it loads anything, and the first
 * engine's model keeps working on its backend (tf.setBackend would have freed its tensors). An
 * abort during createFaceAuth's loads leaves no tensor behind.
 */

import type {} from './harness.js';

type FaceAuthModule = typeof import('../../src/face-auth.js');
type MemoryStoreModule = typeof import('../../src/adapters/store/memory-template-store.js');

/** The product's modules as Vite serves them to the harness page (the same instances it uses). */
const MODULES = { faceAuth: '/src/face-auth.ts', memoryStore: '/src/adapters/store/memory-template-store.ts' };

async function boot(page: Page): Promise<void> {
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
}

test('a second engine asking for another TF.js backend is refused with backend-conflict; the first engine keeps working', async ({ page }) => {
  test.setTimeout(180_000);
  await boot(page);
  const r = await page.evaluate(async (urls) => {
    const { tf } = window.api;
    const { createFaceAuth } = (await import(urls.faceAuth)) as FaceAuthModule;
    const { MemoryTemplateStore } = (await import(urls.memoryStore)) as MemoryStoreModule;
    // No camera is opened here: the test is about models and backends.
    const camera = { running: false, start: async () => document.createElement('video'), frame: () => null, onEnded: () => () => undefined, stop: () => undefined };
    const make = (backend: 'wasm' | 'webgl' | 'auto') => createFaceAuth({ backend, camera, store: new MemoryTemplateStore() });
    const crop = new ImageData(112, 112);
    for (let i = 0; i < crop.data.length; i++) crop.data[i] = (i * 37) % 256;

    const first = await make('wasm');
    const [before] = await first.auth.embedder.embed([crop]);
    const tensors = tf.memory().numTensors;
    const conflict = await make('webgl').then(
      () => null,
      (e: { name: string; code: string; message: string }) => ({ name: e.name, code: e.code, message: e.message }),
    );
    const backendAfter = tf.getBackend();
    const tensorsAfter = tf.memory().numTensors;
    const [after] = await first.auth.embedder.embed([crop]);
    // 'auto' after the choice reuses it.
    const second = await make('auto');
    const [fromSecond] = await second.auth.embedder.embed([crop]);
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    first.auth.dispose();
    second.auth.dispose();
    return {
      first: first.backend,
      second: second.backend,
      conflict,
      backendAfter,
      tensors,
      tensorsAfter,
      sameAfterConflict: cos(before!, after!),
      sameAcrossEngines: cos(before!, fromSecond!),
      final: tf.memory().numTensors,
    };
  }, MODULES);
  expect(r.first).toMatchObject({ backend: 'wasm', reason: 'forced' });
  expect(r.conflict).toMatchObject({ name: 'FaceLoginError', code: 'backend-conflict', message: expect.stringMatching(/wasm TF\.js backend.*webgl was asked for/s) });
  expect(r.backendAfter).toBe('wasm');
  expect(r.tensorsAfter).toBe(r.tensors); // nothing freed, nothing loaded
  expect(r.tensors).toBeGreaterThan(100);
  expect(r.sameAfterConflict).toBeGreaterThan(0.99999);
  expect(r.second).toEqual(r.first);
  expect(r.sameAcrossEngines).toBeGreaterThan(0.99999);
  expect(r.final).toBe(0);
});

test('aborting createFaceAuth while its models load rejects with aborted and leaves no tensor and no engine', async ({ page }) => {
  test.setTimeout(120_000);
  await boot(page);
  const r = await page.evaluate(async (urls) => {
    const { tf } = window.api;
    const { createFaceAuth } = (await import(urls.faceAuth)) as FaceAuthModule;
    const { MemoryTemplateStore } = (await import(urls.memoryStore)) as MemoryStoreModule;
    const ac = new AbortController();
    let progressEvents = 0;
    const error = await createFaceAuth({
      backend: 'wasm',
      store: new MemoryTemplateStore(),
      signal: ac.signal,
      // The first bytes of a model file: the loads are under way.
      onProgress: () => {
        if (progressEvents++ === 0) ac.abort();
      },
    }).then(
      () => null,
      (e: { code: string }) => e.code,
    );
    return { error, progressEvents, tensors: tf.memory().numTensors };
  }, MODULES);
  expect(r.progressEvents).toBeGreaterThan(0);
  expect(r.error).toBe('aborted');
  expect(r.tensors).toBe(0);
});
