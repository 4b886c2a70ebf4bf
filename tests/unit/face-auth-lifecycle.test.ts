/**
 * createFaceAuth's lifecycle with its adapters replaced by fakes: an abort at any step frees what
 * was loaded (also when a load does not heed the signal), what createFaceAuth creates the engine
 * closes, and what the caller passes in stays the caller's. The real adapters run in tests/browser.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Camera, Frame } from '../../src/core/types.js';

/** A promise settled from the outside. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const made = vi.hoisted(() => ({
  detectors: [] as { detect: ReturnType<typeof vi.fn>; dispose: ReturnType<typeof vi.fn> }[],
  embedders: [] as { dispose: ReturnType<typeof vi.fn> }[],
  aligners: [] as { dispose: ReturnType<typeof vi.fn> }[],
  stores: [] as { close: ReturnType<typeof vi.fn> }[],
  cameras: [] as LateCamera[],
  backend: null as null | (() => Promise<unknown>),
  detector: null as null | (() => Promise<unknown>),
  embedder: null as null | (() => Promise<unknown>),
  aligner: null as null | (() => Promise<unknown>),
}));

/** The default camera's stand-in: start() resolves 100 ms late, frames are numbered. */
class LateCamera implements Camera {
  running = false;
  stop = vi.fn(() => {
    this.running = false;
  });
  private ts = 0;
  async start() {
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.running = true;
    return {} as HTMLVideoElement;
  }
  frame(): Frame | null {
    return this.running ? { source: {} as HTMLCanvasElement, width: 640, height: 480, timestamp: ++this.ts } : null;
  }
  onEnded() {
    return () => undefined;
  }
}

vi.mock('../../src/adapters/embedder/tf-backend.js', () => ({
  selectBackend: vi.fn(() => made.backend?.() ?? Promise.resolve({ backend: 'cpu', reason: 'forced' })),
}));
vi.mock('../../src/adapters/models/model-files.js', () => ({ fetchManifest: vi.fn(async () => ({ files: {} })) }));
vi.mock('../../src/adapters/detector/mediapipe-detector.js', () => ({
  MediaPipeDetector: {
    create: vi.fn(async () => {
      await made.detector?.();
      const d = { id: 'fake', detect: vi.fn(() => []), dispose: vi.fn() };
      made.detectors.push(d);
      return d;
    }),
  },
}));
vi.mock('../../src/adapters/detector/tfjs-face-detector.js', () => ({
  TfjsFaceDetector: {
    create: vi.fn(async () => {
      await made.detector?.();
      const d = { id: 'fake-tfjs', detect: vi.fn(() => []), dispose: vi.fn() };
      made.detectors.push(d);
      return d;
    }),
  },
}));
vi.mock('../../src/adapters/embedder/mobilefacenet-embedder.js', () => ({
  MobileFaceNetEmbedder: {
    create: vi.fn(async () => {
      await made.embedder?.();
      const e = { modelId: 'fake-model', size: 3, inputSize: 112, backend: 'cpu', embed: vi.fn(async () => []), dispose: vi.fn() };
      made.embedders.push(e);
      return e;
    }),
  },
}));
vi.mock('../../src/adapters/aligner/mesh-aligner.js', () => ({
  MeshAligner: {
    create: vi.fn(async () => {
      await made.aligner?.();
      const a = { id: 'mesh5', size: 112, align: vi.fn(), alignForEmbedding: vi.fn(), dispose: vi.fn() };
      made.aligners.push(a);
      return a;
    }),
  },
}));
vi.mock('../../src/adapters/aligner/canvas-aligner.js', () => ({ CanvasAligner: class { size = 112; align = vi.fn(); } }));
vi.mock('../../src/adapters/store/idb-template-store.js', async () => {
  const { MemoryTemplateStore } = await import('../../src/adapters/store/memory-template-store.js');
  return {
    IdbTemplateStore: class extends MemoryTemplateStore {
      constructor() {
        super();
        made.stores.push(this as unknown as { close: ReturnType<typeof vi.fn> });
      }
      override close = vi.fn(() => super.close());
    },
  };
});
vi.mock('../../src/adapters/camera/user-media-camera.js', () => ({
  UserMediaCamera: class {
    constructor() {
      const camera = new LateCamera();
      made.cameras.push(camera);
      return camera;
    }
  },
}));

const { createFaceAuth } = await import('../../src/face-auth.js');
const { MemoryTemplateStore } = await import('../../src/adapters/store/memory-template-store.js');
const { TfjsFaceDetector } = await import('../../src/adapters/detector/tfjs-face-detector.js');

afterEach(() => {
  made.detectors.length = made.embedders.length = made.aligners.length = made.stores.length = made.cameras.length = 0;
  made.backend = made.detector = made.embedder = made.aligner = null;
  vi.useRealTimers();
});

describe('createFaceAuth: aborts free what was loaded', () => {
  it('aborted while the models load, and the loads ignore the signal: rejects with aborted once they settle, every model freed, nothing else made', async () => {
    const detectorGate = deferred<void>();
    const embedderGate = deferred<void>();
    const alignerGate = deferred<void>();
    made.detector = () => detectorGate.promise;
    made.embedder = () => embedderGate.promise;
    made.aligner = () => alignerGate.promise;
    const ac = new AbortController();
    const p = createFaceAuth({ signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 10));
    ac.abort();
    detectorGate.resolve();
    embedderGate.resolve();
    alignerGate.resolve();
    expect(await p).toMatchObject({ code: 'aborted' });
    expect(made.detectors.map((d) => d.dispose.mock.calls.length)).toEqual([1]);
    expect(made.embedders.map((e) => e.dispose.mock.calls.length)).toEqual([1]);
    expect(made.aligners.map((a) => a.dispose.mock.calls.length)).toEqual([1]);
    expect(made.stores).toHaveLength(0);
    expect(made.cameras).toHaveLength(0);
  });

  it('aborted while one model fails and the other loads: rejects with aborted, the loaded one freed', async () => {
    const embedderGate = deferred<void>();
    made.detector = () => Promise.reject(new Error('network down'));
    made.embedder = () => embedderGate.promise;
    const ac = new AbortController();
    const p = createFaceAuth({ signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 10));
    ac.abort();
    embedderGate.resolve();
    expect(await p).toMatchObject({ code: 'aborted' });
    expect(made.embedders[0]!.dispose).toHaveBeenCalledOnce();
  });

  it('aborted while the TF.js backend is chosen: rejects with aborted and loads no model', async () => {
    const backendGate = deferred<unknown>();
    made.backend = () => backendGate.promise;
    const ac = new AbortController();
    const p = createFaceAuth({ signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    backendGate.resolve({ backend: 'cpu', reason: 'forced' });
    expect(await p).toMatchObject({ code: 'aborted' });
    expect(made.detectors).toHaveLength(0);
    expect(made.embedders).toHaveLength(0);
  });

  it('a throwing verifier factory frees the models and closes the store it created', async () => {
    await expect(createFaceAuth({ verifier: () => { throw new Error('bad factory'); } })).rejects.toThrow('bad factory');
    expect(made.detectors[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.embedders[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.aligners[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.stores[0]!.close).toHaveBeenCalledOnce();
  });

  it('the face mesh fails to load: rejects with its error, the detector and the embedder freed', async () => {
    made.aligner = () => Promise.reject(Object.assign(new Error('mesh 404'), { code: 'model-load-failed' }));
    await expect(createFaceAuth()).rejects.toThrow('mesh 404');
    expect(made.detectors[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.embedders[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.stores).toHaveLength(0);
  });

  it("alignment: 'keypoints' loads no face mesh; an unknown alignment is refused before any load", async () => {
    const { auth } = await createFaceAuth({ alignment: 'keypoints' });
    expect(made.aligners).toHaveLength(0);
    expect(auth.modelId).toBe('fake-model');
    auth.dispose();
    await expect(createFaceAuth({ alignment: 'mesh4' as never })).rejects.toMatchObject({ code: 'invalid-input' });
    expect(made.detectors).toHaveLength(1);
  });

  it("detector: 'tfjs' loads the TF.js detector instead of MediaPipe's and disposes it; an unknown one is refused before any load", async () => {
    const { auth } = await createFaceAuth({ detector: 'tfjs' });
    expect(made.detectors.map((d) => (d as unknown as { id: string }).id)).toEqual(['fake-tfjs']);
    expect(auth.detector).toBe(made.detectors[0]);
    auth.dispose();
    expect(made.detectors[0]!.dispose).toHaveBeenCalledOnce();
    await expect(createFaceAuth({ detector: 'opencv' as never })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('"mediapipe", "tfjs" or "tfjs-full"') });
    expect(made.detectors).toHaveLength(1);
    const { auth: again } = await createFaceAuth();
    expect((made.detectors[1] as unknown as { id: string }).id).toBe('fake');
    again.dispose();
  });

  it("detector: 'tfjs-full' loads the TF.js detector with range 'full'; 'tfjs' with range 'short'", async () => {
    const create = vi.mocked(TfjsFaceDetector.create);
    create.mockClear();
    const { auth } = await createFaceAuth({ detector: 'tfjs-full' });
    const { auth: short } = await createFaceAuth({ detector: 'tfjs' });
    expect(create.mock.calls.map(([o]) => o.range)).toEqual(['full', 'short']);
    auth.dispose();
    short.dispose();
  });
});

describe('createFaceAuth: ownership', () => {
  it('dispose closes the store and stops the camera createFaceAuth made, and disposes the verifier its factory made', async () => {
    const verifierDispose = vi.fn();
    const { auth } = await createFaceAuth({
      verifier: () => ({ kind: 'local', verify: vi.fn(), identify: vi.fn(), dispose: verifierDispose }),
    });
    auth.dispose();
    expect(made.stores[0]!.close).toHaveBeenCalledOnce();
    expect(made.cameras[0]!.stop).toHaveBeenCalled();
    expect(verifierDispose).toHaveBeenCalledOnce();
    expect(made.detectors[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.embedders[0]!.dispose).toHaveBeenCalledOnce();
    expect(made.aligners[0]!.dispose).toHaveBeenCalledOnce();
    expect(auth.modelId).toBe('fake-model+mesh5');
  });

  it('a store and a camera passed in are the caller\'s: dispose leaves the store open and the camera running', async () => {
    const store = new MemoryTemplateStore();
    const close = vi.spyOn(store, 'close');
    const camera = new LateCamera();
    await camera.start();
    const { auth } = await createFaceAuth({ store, camera });
    await auth.startCamera();
    auth.dispose();
    expect(close).not.toHaveBeenCalled();
    await expect(store.listUsers()).resolves.toEqual([]);
    expect(camera.stop).not.toHaveBeenCalled();
    expect(camera.running).toBe(true);
    expect(made.stores).toHaveLength(0);
    expect(made.cameras).toHaveLength(0);
  });

  it('startCamera then an immediate dispose (no signal): the late camera is stopped and no frame reaches the detector', async () => {
    vi.useFakeTimers();
    const { auth } = await createFaceAuth();
    const started = auth.startCamera().catch((e: unknown) => e);
    auth.dispose();
    await vi.advanceTimersByTimeAsync(600);
    expect(await started).toMatchObject({ code: 'disposed' });
    const camera = made.cameras[0]!;
    expect(camera.running).toBe(false);
    expect(made.detectors[0]!.detect).not.toHaveBeenCalled();
  });
});
