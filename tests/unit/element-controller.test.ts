/**
 * FaceAuthController reloads the engine when an option it was built from changes: once per host
 * update however many changed together, never on the first update (the load reads them), and it
 * frees the engine it replaces. A scripted host stands in for the Lit element.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FaceAuth } from '../../src/core/engine.js';
import { FaceAuthController } from '../../src/element/face-auth-controller.js';
import type { CreateFaceAuthOptions, FaceAuthReady } from '../../src/face-auth.js';

class StubAuth extends EventTarget {
  disposed = 0;
  camera = { running: false };
  /** Stands for getUserMedia: every call would open the camera. */
  cameraOpens = 0;
  failCamera: unknown = null;
  async startCamera(signal?: AbortSignal) {
    this.cameraOpens++;
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    if (this.failCamera) throw this.failCamera;
    this.camera.running = true;
  }
  dispose() {
    this.disposed++;
  }
}

function ready(built: StubAuth[]): FaceAuthReady {
  const auth = new StubAuth();
  built.push(auth);
  return { auth: auth as unknown as FaceAuth, backend: { backend: 'wasm', reason: 'test' } as FaceAuthReady['backend'], loadMs: 0 };
}

function setup(opts: { autostart?: boolean; onError?: (e: unknown) => void } = {}) {
  const values = { dbName: 'a', modelsUrl: '/models/' };
  const built: StubAuth[] = [];
  const readies: FaceAuthReady[] = [];
  const create = vi.fn(async (_o: CreateFaceAuthOptions): Promise<FaceAuthReady> => ready(built));
  const host = {
    controllers: [] as { hostUpdated?(): void }[],
    addController(c: { hostUpdated?(): void }) {
      this.controllers.push(c);
    },
    removeController() {},
    requestUpdate() {},
    updateComplete: Promise.resolve(true),
    /** One Lit update cycle: the controllers' hostUpdated. */
    update() {
      for (const c of this.controllers) c.hostUpdated?.();
    },
  };
  const controller = new FaceAuthController(host as never, {
    create,
    options: () => ({ dbName: values.dbName, modelsUrl: values.modelsUrl }),
    reloadOn: () => [values.dbName, values.modelsUrl],
    cameraOnLoad: () => opts.autostart ?? false,
    onReady: (r) => readies.push(r),
    onError:
      opts.onError ??
      ((e) => {
        throw e;
      }),
    onFrame: () => undefined,
    onGuidance: () => undefined,
  });
  return { values, built, readies, create, host, controller };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('FaceAuthController reloads on option changes', () => {
  it('the first update does not reload; a later change reloads once, with the new options, and frees the old engine', async () => {
    const { values, built, readies, create, host, controller } = setup();
    controller.hostConnected();
    host.update(); // the first update: the load reads the options after it
    await flush();
    expect(create).toHaveBeenCalledTimes(1);
    expect(readies).toHaveLength(1);
    host.update(); // an update with nothing relevant changed (e.g. threshold, mode)
    await flush();
    expect(create).toHaveBeenCalledTimes(1);

    values.dbName = 'b';
    values.modelsUrl = '/other/';
    host.update(); // both changed in one batch: one reload
    host.update(); // the reload's own update
    await flush();
    expect(create).toHaveBeenCalledTimes(2);
    expect(create.mock.calls[1]![0]).toMatchObject({ dbName: 'b', modelsUrl: '/other/' });
    expect(built[0]!.disposed).toBe(1);
    expect(controller.auth).toBe(built[1]);
    expect(readies).toHaveLength(2);
    expect(controller.state).toBe('ready');
  });

  it('a change while the engine is loading aborts that load and builds from the new options', async () => {
    const { values, built, create, host, controller } = setup();
    let release!: () => void;
    create.mockImplementationOnce(async () => {
      await new Promise<void>((r) => (release = r));
      return ready(built);
    });
    controller.hostConnected();
    await flush();
    expect(create).toHaveBeenCalledTimes(1);
    values.dbName = 'c';
    host.update();
    await flush();
    expect(create).toHaveBeenCalledTimes(2);
    expect(create.mock.calls[1]![0]).toMatchObject({ dbName: 'c' });
    expect((create.mock.calls[0]![0].signal as AbortSignal).aborted).toBe(true);
    release();
    await flush();
    // The stale engine that finished loading late is disposed, never used.
    expect(built[1]!.disposed).toBe(1);
    expect(controller.auth).toBe(built[0]);
  });

  it('after disconnect nothing reloads', async () => {
    const { values, create, host, controller } = setup();
    controller.hostConnected();
    await flush();
    controller.hostDisconnected();
    values.dbName = 'z';
    host.update();
    await flush();
    expect(create).toHaveBeenCalledTimes(1);
    expect(controller.state).toBe('disposed');
  });
});

describe('FaceAuthController opens the camera only on an action or autostart', () => {
  it('without autostart the engine loads and is ready, and the camera was never opened', async () => {
    const { built, readies, host, controller } = setup();
    controller.hostConnected();
    host.update();
    await flush();
    expect(readies).toHaveLength(1);
    expect(controller.state).toBe('ready');
    expect(built[0]!.cameraOpens).toBe(0);
    // An action (the button, start()) opens it.
    await controller.startCamera();
    expect(built[0]!.cameraOpens).toBe(1);
  });

  it('a reload reopens a camera the person had opened, and leaves a closed one closed', async () => {
    const { values, built, host, controller } = setup();
    controller.hostConnected();
    host.update();
    await flush();
    values.dbName = 'b';
    host.update();
    host.update();
    await flush();
    expect(built.map((b) => b.cameraOpens)).toEqual([0, 0]);
    await controller.startCamera();
    values.dbName = 'c';
    host.update();
    host.update();
    await flush();
    expect(built.map((b) => b.cameraOpens)).toEqual([0, 1, 1]);
  });

  it('with autostart (the page has consent) the camera opens before ready', async () => {
    const { built, readies, host, controller } = setup({ autostart: true });
    controller.hostConnected();
    host.update();
    await flush();
    expect(built[0]!.cameraOpens).toBe(1);
    expect(readies).toHaveLength(1);
  });

  it('a camera failure on an action puts the controller in error and reports it; a cancel only rejects', async () => {
    const errors: unknown[] = [];
    const { built, host, controller } = setup({ onError: (e) => errors.push(e) });
    controller.hostConnected();
    host.update();
    await flush();
    const cancel = new AbortController();
    cancel.abort();
    await expect(controller.startCamera(cancel.signal)).rejects.toThrow();
    expect([controller.state, errors.length]).toEqual(['ready', 0]);
    built[0]!.failCamera = Object.assign(new Error('denied'), { code: 'camera-denied', name: 'FaceLoginError' });
    await expect(controller.startCamera()).rejects.toThrow('denied');
    expect(controller.state).toBe('error');
    expect(errors).toHaveLength(1);
  });
});
