/**
 * The engine's capture logic with scripted adapters: which frames are kept, when an operation
 * is refused (several faces), gives up (no face), is aborted, or the camera disappears. The
 * real detector and model run in tests/browser and e2e; here only the orchestration is under test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaceAuth, type FaceAuthOptions } from '../../src/core/engine.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { LocalVerifier } from '../../src/adapters/verifier/local-verifier.js';
import { l2normalize } from '../../src/core/match.js';
import type { Aligner, Camera, Detection, Embedder, FaceDetector, Frame, PassiveLiveness } from '../../src/core/types.js';

const face = (x: number, width = 120): Detection => ({
  box: { x, y: 100, width, height: width },
  score: 0.9,
  // A frontal face: eyes, nose, mouth, ear tragions (BlazeFace order).
  keypoints: [
    { x: x + 30, y: 140 }, { x: x + 90, y: 140 }, { x: x + 60, y: 165 }, { x: x + 60, y: 193 },
    { x: x - 5, y: 152 }, { x: x + 125, y: 152 },
  ],
});

class ScriptedCamera implements Camera {
  running = false;
  ts = 0;
  private ended = new Set<() => void>();
  stops = 0;
  starts = 0;
  /** A camera that takes this long to open, and (the worst case) does not cancel on stop(). */
  startDelayMs = 0;
  async start() {
    this.starts++;
    if (this.startDelayMs) await new Promise((resolve) => setTimeout(resolve, this.startDelayMs));
    this.running = true;
    return {} as HTMLVideoElement;
  }
  frame(): Frame | null {
    if (!this.running) return null;
    return { source: {} as HTMLCanvasElement, width: 640, height: 480, timestamp: (this.ts += 50) };
  }
  onEnded(l: () => void) {
    this.ended.add(l);
    return () => this.ended.delete(l);
  }
  unplug() {
    this.running = false;
    for (const l of this.ended) l();
  }
  stop() {
    this.running = false;
    this.stops++;
  }
}

/** Each frame shows what `scene` says: a person id (their face), 'none', or 'two'. */
class ScriptedDetector implements FaceDetector {
  id = 'scripted';
  scene: string = 'none';
  small = false;
  /** Head yaw in degrees (moves the nose between the ears like a turning head). */
  yaw = 0;
  disposed = 0;
  /** Frames that reached detect(). */
  calls = 0;
  /** Thrown by detect() while set. */
  failure: Error | null = null;
  detect(): Detection[] {
    this.calls++;
    if (this.failure) throw this.failure;
    if (this.scene === 'none') return [];
    if (this.scene === 'two') return [face(50), face(350)];
    // Ann and a patch of background the detector scores as a small face (x 480: PresenceAligner says 0.001).
    if (this.scene === 'ann+patch') return [face(200), { ...face(480, 50), score: 0.65 }];
    const f = face(200, this.small ? 30 : 120);
    const shift = Math.tan((this.yaw * Math.PI) / 180) * 65 * (110 / 70) * (this.small ? 0.25 : 1);
    return [{ ...f, keypoints: f.keypoints.map((k, i) => (i === 2 ? { x: k.x + shift, y: k.y } : k)) }];
  }
  dispose() {
    this.disposed++;
  }
}

/** The "crop" carries who was in view; the embedder maps each person to a fixed direction. */
class TaggingAligner implements Aligner {
  size = 112;
  /** A still photo: every frame the same (no per-frame view). */
  still = false;
  private view = 0;
  constructor(private readonly det: ScriptedDetector) {}
  align() {
    // A well-lit, textured 112x112 crop (passes the exposure and sharpness gates), tagged with who is in view.
    const data = new Uint8ClampedArray(112 * 112 * 4);
    for (let i = 0; i < 112 * 112; i++) data.fill(i % 7 === 0 ? 200 : 110, i * 4, i * 4 + 3), (data[i * 4 + 3] = 255);
    if (!this.still) this.view++;
    return { data, width: 112, height: 112, person: this.det.scene.split('+')[0], view: this.view } as unknown as ImageData;
  }
}

/** A landmark model's presence: the patch at x 480 is not a face, everything else is. */
class PresenceAligner extends TaggingAligner {
  presenceCalls = 0;
  facePresence(_frame: Frame, f: Detection): number {
    this.presenceCalls++;
    return f.box.x === 480 ? 0.001 : 0.99;
  }
}

const VIEWS = 256;
const DIRECTIONS: Record<string, number[]> = { ann: [1, 0, 0], bob: [0, 1, 0], eve: [0.2, 0.2, 1] };
class DirectionEmbedder implements Embedder {
  modelId = 'test-model';
  size = 3 + VIEWS;
  inputSize = 112;
  backend = 'cpu' as const;
  disposed = 0;
  async embed(crops: readonly ImageData[]) {
    // The person's direction plus 0.3 along one dimension per view: two views of one person score
    // 1 / 1.09 = 0.917 (distinct), a still photo's frames exactly 1 (near-duplicates).
    return crops.map((c) => {
      const { person, view } = c as unknown as { person: string; view: number };
      const v = new Array<number>(this.size).fill(0);
      DIRECTIONS[person]!.forEach((x, i) => (v[i] = x));
      v[3 + (view % VIEWS)] = 0.3;
      return l2normalize(v);
    });
  }
  dispose() {
    this.disposed++;
  }
}

let camera: ScriptedCamera;
let detector: ScriptedDetector;
let embedder: DirectionEmbedder;
let aligner: TaggingAligner;
let store: MemoryTemplateStore;
let auth: FaceAuth;

/** Replaces the engine and its scripted parts with fresh ones (camera not started). */
function build(options: Partial<FaceAuthOptions> | ((detector: ScriptedDetector) => Partial<FaceAuthOptions>) = {}): void {
  camera = new ScriptedCamera();
  detector = new ScriptedDetector();
  const more = typeof options === 'function' ? options(detector) : options;
  embedder = new DirectionEmbedder();
  aligner = new TaggingAligner(detector);
  store = new MemoryTemplateStore();
  auth = new FaceAuth({
    camera,
    detector,
    aligner,
    embedder,
    store,
    verifier: new LocalVerifier(store, () => auth.threshold),
    threshold: 0.8,
    ...more,
  });
}

beforeEach(async () => {
  vi.useFakeTimers();
  build();
  await auth.startCamera();
});
afterEach(() => {
  auth.dispose();
  vi.useRealTimers();
});

async function settle<T>(p: Promise<T>, ms = 2000): Promise<T> {
  await vi.advanceTimersByTimeAsync(ms);
  return p;
}

describe('FaceAuth', () => {
  it('enrolls from distinct good frames and stores one template per frame', async () => {
    detector.scene = 'ann';
    const r = await settle(auth.enroll('ann', { samples: 3 }));
    expect(r).toEqual({ userId: 'ann', templates: 3, modelId: 'test-model' });
    expect(await store.templatesOf('ann', 'test-model')).toHaveLength(3);
  });

  it('enrolling from a still photo stores its near-identical frames once', async () => {
    detector.scene = 'ann';
    aligner.still = true;
    const r = await settle(auth.enroll('ann', { samples: 3 }));
    expect(r).toEqual({ userId: 'ann', templates: 1, modelId: 'test-model' });
    expect(await store.templatesOf('ann', 'test-model')).toHaveLength(1);
  });

  it('verify accepts the enrolled person and rejects another; identify is open set', async () => {
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
    expect(await settle(auth.verify('ann'))).toMatchObject({ accepted: true, userId: 'ann' });
    detector.scene = 'bob';
    expect(await settle(auth.verify('ann'))).toMatchObject({ accepted: false, userId: 'ann' });
    expect(await settle(auth.identify())).toMatchObject({ userId: null });
    detector.scene = 'ann';
    expect(await settle(auth.identify())).toMatchObject({ userId: 'ann' });
  });

  it('verify of a user with no templates fails fast with not-enrolled', async () => {
    detector.scene = 'ann';
    await expect(auth.verify('zoe')).rejects.toMatchObject({ code: 'not-enrolled' });
  });

  it('refuses with multiple-faces after a run of frames with two faces, and stores nothing', async () => {
    detector.scene = 'two';
    const p = auth.enroll('ann');
    const check = expect(p).rejects.toMatchObject({ code: 'multiple-faces' });
    await vi.advanceTimersByTimeAsync(2000);
    await check;
    expect(await store.listUsers()).toEqual([]);
  });

  it('a second detection the aligner\'s landmark model calls no face does not refuse; a real second face still does; single faces never run it', async () => {
    let presence!: PresenceAligner;
    auth.dispose();
    build((d) => ({ aligner: (presence = new PresenceAligner(d)) }));
    await auth.startCamera();
    const seen: number[] = [];
    auth.addEventListener('frame', (e) => seen.push(e.detail.faces.length));
    detector.scene = 'ann';
    await vi.advanceTimersByTimeAsync(500);
    expect(presence.presenceCalls).toBe(0);
    detector.scene = 'ann+patch';
    const enrolled = auth.enroll('ann');
    await vi.advanceTimersByTimeAsync(3000);
    await enrolled;
    expect(await store.hasUser('ann')).toBe(true);
    expect(presence.presenceCalls).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(1);
    detector.scene = 'two';
    const p = auth.verify('ann');
    const check = expect(p).rejects.toMatchObject({ code: 'multiple-faces' });
    await vi.advanceTimersByTimeAsync(2000);
    await check;
  });

  it('without a landmark model (the aligner has no facePresence) any second detection refuses', async () => {
    detector.scene = 'ann+patch';
    const p = auth.enroll('ann');
    const check = expect(p).rejects.toMatchObject({ code: 'multiple-faces' });
    await vi.advanceTimersByTimeAsync(2000);
    await check;
    expect(await store.listUsers()).toEqual([]);
  });

  it('keeps waiting while no face is in view, reports it per frame, then gives up with no-face', async () => {
    detector.scene = 'none';
    const statuses: string[] = [];
    auth.addEventListener('frame', (e) => statuses.push(e.detail.status));
    await store.saveTemplates('ann', 'test-model', [{ embedding: l2normalize([1, 0, 0]), pose: 'center' }]);
    const p = auth.verify('ann', { timeoutMs: 5000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4000);
    expect(statuses.length).toBeGreaterThan(10);
    expect(new Set(statuses)).toEqual(new Set(['no-face']));
    await vi.advanceTimersByTimeAsync(2000);
    expect(await p).toMatchObject({ code: 'no-face' });
  });

  it('guided enrolment keeps one frame per pose, in order, and says which way to turn', async () => {
    detector.scene = 'ann';
    const hints: string[] = [];
    auth.addEventListener('guidance', (e) => hints.push(`${e.detail.step}:${e.detail.hint}:${e.detail.done}/${e.detail.total}`));
    const p = auth.enroll('ann', { guided: ['center', 'left', 'right'] });
    await vi.advanceTimersByTimeAsync(500); // centre is kept; now it waits for a left turn
    expect(hints).toContain('left:turn-left:1/3');
    detector.yaw = 30;
    await vi.advanceTimersByTimeAsync(500);
    expect(hints).toContain('right:turn-right:2/3');
    detector.yaw = -30;
    await vi.advanceTimersByTimeAsync(500);
    expect(await p).toMatchObject({ templates: 3 });
    expect((await store.templatesOf('ann', 'test-model')).map((t) => t.pose)).toEqual(['center', 'left', 'right']);
  });

  it('active liveness: a still face never completes the turn challenge', async () => {
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
    const p = auth.verify('ann', { liveness: 'active' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(await p).toMatchObject({ code: 'liveness-failed' });
  });

  it('active liveness: turning left and right (in the asked order) passes, then verifies', async () => {
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
    const steps: string[] = [];
    auth.addEventListener('guidance', (e) => steps.push(e.detail.hint));
    const p = auth.verify('ann', { liveness: 'active' });
    await vi.advanceTimersByTimeAsync(300);
    const first = steps.find((h) => h === 'turn-left' || h === 'turn-right')!;
    detector.yaw = first === 'turn-left' ? 30 : -30;
    await vi.advanceTimersByTimeAsync(300);
    detector.yaw = -detector.yaw;
    await vi.advanceTimersByTimeAsync(300);
    detector.yaw = 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(await p).toMatchObject({ accepted: true });
  });

  it('does not use a face that is too small', async () => {
    detector.scene = 'ann';
    detector.small = true;
    const statuses: string[] = [];
    auth.addEventListener('frame', (e) => statuses.push(e.detail.status));
    const p = auth.enroll('ann', { timeoutMs: 1000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1500);
    expect(await p).toMatchObject({ code: 'no-face' });
    expect(statuses.every((s) => s === 'too-small')).toBe(true);
  });

  it('an abort signal cancels a capture with aborted', async () => {
    detector.scene = 'none';
    const ac = new AbortController();
    const p = auth.identify({ signal: ac.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    ac.abort();
    expect(await p).toMatchObject({ code: 'aborted' });
  });

  it('a camera unplugged mid-capture fails the capture with camera-ended and reports it', async () => {
    detector.scene = 'none';
    const ended: string[] = [];
    auth.addEventListener('cameraended', (e) => ended.push(e.detail.error.code));
    const p = auth.identify().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    camera.unplug();
    expect(await p).toMatchObject({ code: 'camera-ended' });
    expect(ended).toEqual(['camera-ended']);
    expect(auth.phase).toBe('stopped');
  });

  it('runs one operation at a time: a second one is refused with busy', async () => {
    detector.scene = 'none';
    const first = auth.identify({ timeoutMs: 500 }).catch(() => undefined);
    await expect(auth.identify()).rejects.toMatchObject({ code: 'busy' });
    await expect(auth.enroll('ann')).rejects.toMatchObject({ code: 'busy' });
    await vi.advanceTimersByTimeAsync(600);
    await first;
  });

  it('dispose stops the camera, closes the detector, frees the model and the store; idempotent', async () => {
    auth.dispose();
    auth.dispose();
    expect(camera.running).toBe(false);
    expect(detector.disposed).toBe(1);
    expect(embedder.disposed).toBe(1);
    await expect(store.listUsers()).rejects.toMatchObject({ code: 'disposed' });
    await expect(auth.identify()).rejects.toMatchObject({ code: 'disposed' });
  });

  it('rejects an invalid threshold', () => {
    expect(() => {
      auth.threshold = 2;
    }).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});

/**
 * A scripted PassiveLiveness: its "crop" records who was in view and when; score() answers
 * from `live` (per person in view). Tests the engine's gating, not a model.
 */
class ScriptedPassive implements PassiveLiveness {
  modelId = 'scripted-pad';
  threshold = 0.5;
  live: Record<string, number> = {};
  crops: { person: string; timestamp: number }[] = [];
  batches: number[] = [];
  disposed = 0;
  constructor(private readonly det: ScriptedDetector) {}
  crop(frame: Frame, face: Detection): ImageData {
    expect(face.box.width).toBeGreaterThan(0);
    const tag = { person: this.det.scene, timestamp: frame.timestamp };
    this.crops.push(tag);
    return tag as unknown as ImageData;
  }
  async score(crops: readonly ImageData[]): Promise<number[]> {
    this.batches.push(crops.length);
    return crops.map((c) => this.live[(c as unknown as { person: string }).person] ?? 0);
  }
  dispose() {
    this.disposed++;
  }
}

describe('passive liveness (a PassiveLiveness you supply; none ships)', () => {
  let pad: ScriptedPassive;

  /** Replaces the default engine with one that has `pad`, and enrols ann. */
  async function withPad(): Promise<void> {
    auth.dispose();
    build((det) => ({ liveness: 'passive', passiveLiveness: (pad = new ScriptedPassive(det)) }));
    await auth.startCamera();
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
  }

  it('without a model, passive and both are refused with invalid-input: constructor, setter and per call', async () => {
    const make = (liveness: string) => () =>
      new FaceAuth({ camera, detector, aligner: new TaggingAligner(detector), embedder, store, verifier: new LocalVerifier(store, () => 0.8), threshold: 0.8, liveness: liveness as 'passive' });
    expect(make('passive')).toThrow(expect.objectContaining({ code: 'invalid-input', message: expect.stringMatching(/ships none.*passiveLiveness/s) }));
    expect(make('both')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(make('pasive')).toThrow(expect.objectContaining({ code: 'invalid-input', message: expect.stringMatching(/Unknown liveness mode "pasive"/) }));
    expect(() => {
      auth.liveness = 'both';
    }).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(auth.liveness).toBe('off');
    auth.liveness = 'active';
    expect(auth.liveness).toBe('active');
    auth.liveness = 'off';
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
    await expect(auth.verify('ann', { liveness: 'passive' })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(auth.identify({ liveness: 'both' })).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('crops every kept probe frame while it is current, scores them in one batch, and accepts a live face', async () => {
    await withPad();
    expect(pad.crops).toEqual([]); // enrolment does not run liveness
    pad.live = { ann: 0.9 };
    expect(await settle(auth.verify('ann'))).toMatchObject({ accepted: true, userId: 'ann' });
    expect(pad.crops).toHaveLength(3); // probeFrames
    expect(new Set(pad.crops.map((c) => c.timestamp)).size).toBe(3);
    expect(pad.batches).toEqual([3]);
    expect(await settle(auth.identify())).toMatchObject({ userId: 'ann' });
    expect(pad.batches).toEqual([3, 3]);
  });

  it('a face scored below the threshold fails with liveness-failed before any match', async () => {
    await withPad();
    pad.live = { ann: 0.2 };
    const verify = vi.spyOn(auth.verifier, 'verify');
    const p = auth.verify('ann').catch((e: unknown) => e);
    expect(await settle(p)).toMatchObject({ code: 'liveness-failed' });
    expect(verify).not.toHaveBeenCalled();
    const q = auth.identify().catch((e: unknown) => e);
    expect(await settle(q)).toMatchObject({ code: 'liveness-failed' });
  });

  it('gates on the mean score over the probe frames, inclusive of the threshold', async () => {
    await withPad();
    pad.live = { ann: 0.5 };
    expect(await settle(auth.verify('ann'))).toMatchObject({ accepted: true });
    pad.live = { ann: 0.49 };
    expect(await settle(auth.verify('ann').catch((e: unknown) => e))).toMatchObject({ code: 'liveness-failed' });
  });

  it("liveness 'off' for one call skips the model; 'both' runs the turn challenge first (a still face fails there)", async () => {
    await withPad();
    pad.live = { ann: 0 };
    expect(await settle(auth.verify('ann', { liveness: 'off' }))).toMatchObject({ accepted: true });
    expect(pad.crops).toEqual([]);
    const p = auth.verify('ann', { liveness: 'both' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(11_000);
    expect(await p).toMatchObject({ code: 'liveness-failed' });
    expect(pad.batches).toEqual([]); // never reached the passive check
  });

  it('dispose disposes the PassiveLiveness', async () => {
    await withPad();
    auth.dispose();
    auth.dispose();
    expect(pad.disposed).toBe(1);
  });
});

describe('kiosk', () => {
  it('announces each arriving person once, strangers as unknown, and respects the cooldown', async () => {
    const { runKiosk } = await import('../../src/core/kiosk.js');
    detector.scene = 'ann';
    await settle(auth.enroll('ann'));
    detector.scene = 'bob';
    await settle(auth.enroll('bob'));
    const seen: (string | null)[] = [];
    const ac = new AbortController();
    const done = runKiosk(auth, { cooldownMs: 20_000, signal: ac.signal, onResult: (r) => seen.push(r.userId) });
    const scene = async (who: string, ms: number) => {
      detector.scene = who;
      await vi.advanceTimersByTimeAsync(ms);
    };
    await scene('ann', 3000); // ann stands there for 3 s: one announcement
    await scene('bob', 3000); // bob steps in right after her
    await scene('none', 1000);
    await scene('eve', 3000); // a stranger
    await scene('none', 1000);
    await scene('ann', 2000); // ann again within her cooldown: not announced
    await scene('none', 1000);
    await vi.advanceTimersByTimeAsync(20_000);
    await scene('ann', 2000); // after the cooldown: announced again
    ac.abort();
    await vi.advanceTimersByTimeAsync(500);
    await done;
    expect(seen).toEqual(['ann', 'bob', null, 'ann']);
  });
});

describe('lifecycle', () => {
  /** A fresh engine whose camera takes 200 ms to open (and does not cancel on stop). */
  function slowCamera(options: Partial<FaceAuthOptions> = {}): void {
    auth.dispose();
    build(options);
    camera.startDelayMs = 200;
  }

  /** startCamera(signal), `interrupt()` right after, then time for the camera to open: what the start rejected with. */
  async function interruptedStart(interrupt: () => void, signal?: AbortSignal): Promise<unknown> {
    const p = auth.startCamera(signal).then(() => 'started', (e: unknown) => e);
    interrupt();
    await vi.advanceTimersByTimeAsync(700);
    return p;
  }

  it('startCamera (no signal) then an immediate dispose: start rejects with disposed, the late camera is stopped, no frame reaches the detector', async () => {
    slowCamera();
    expect(await interruptedStart(() => auth.dispose())).toMatchObject({ code: 'disposed' });
    expect(camera.running).toBe(false);
    expect(detector.calls).toBe(0);
    expect(auth.phase).toBe('disposed');
  });

  it('a camera the engine does not own is stopped too when the start it opened fails; one already running is left running', async () => {
    slowCamera({ owns: { camera: false } });
    expect(await interruptedStart(() => auth.dispose())).toMatchObject({ code: 'disposed' });
    expect(camera.running).toBe(false);
    expect(detector.calls).toBe(0);

    slowCamera({ owns: { camera: false } });
    await settle(camera.start(), 300); // the page had it running already
    expect(await interruptedStart(() => auth.dispose())).toMatchObject({ code: 'disposed' });
    expect(camera.running).toBe(true);
    expect(detector.calls).toBe(0);
  });

  it('a signal aborted while the camera opens: rejects with aborted, camera stopped, nothing runs', async () => {
    slowCamera();
    const ac = new AbortController();
    expect(await interruptedStart(() => setTimeout(() => ac.abort(), 50), ac.signal)).toMatchObject({ code: 'aborted' });
    expect(camera.running).toBe(false);
    expect(detector.calls).toBe(0);
    expect(auth.phase).toBe('stopped');
  });

  it('stopCamera while the camera opens: that start rejects with aborted; a new startCamera then runs one loop', async () => {
    slowCamera();
    const p = auth.startCamera().catch((e: unknown) => e);
    auth.stopCamera();
    const again = auth.startCamera();
    await vi.advanceTimersByTimeAsync(700);
    expect(await p).toMatchObject({ code: 'aborted' });
    await again;
    expect(camera.running).toBe(true);
    expect(auth.phase).toBe('scanning');
    const before = detector.calls;
    await vi.advanceTimersByTimeAsync(1000);
    expect(detector.calls - before).toBeLessThanOrEqual(31); // one ~30 fps loop, not two
  });

  it('two startCamera calls at once open the camera once and run one loop', async () => {
    slowCamera();
    const a = auth.startCamera();
    const b = auth.startCamera();
    await vi.advanceTimersByTimeAsync(300);
    await Promise.all([a, b]);
    expect(camera.starts).toBe(1);
    const before = detector.calls;
    await vi.advanceTimersByTimeAsync(1000);
    expect(detector.calls - before).toBeGreaterThan(20);
    expect(detector.calls - before).toBeLessThanOrEqual(31);
  });

  it('dispose during an operation rejects it with disposed, and no frame reaches the detector afterwards', async () => {
    detector.scene = 'none';
    const p = auth.identify().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    auth.dispose();
    const calls = detector.calls;
    await vi.advanceTimersByTimeAsync(500);
    expect(await p).toMatchObject({ code: 'disposed' });
    expect(detector.calls).toBe(calls);
    await expect(auth.startCamera()).rejects.toMatchObject({ code: 'disposed' });
  });

  it('dispose leaves what the caller owns (camera, store, verifier) open, and still frees the models', async () => {
    auth.dispose();
    build({ owns: { camera: false, store: false, verifier: false } });
    const verifierDispose = vi.fn();
    (auth.verifier as { dispose?: () => void }).dispose = verifierDispose;
    await auth.startCamera();
    auth.dispose();
    auth.dispose();
    expect(camera.running).toBe(true);
    expect(camera.stops).toBe(0);
    await expect(store.listUsers()).resolves.toEqual([]);
    expect(verifierDispose).not.toHaveBeenCalled();
    expect(detector.disposed).toBe(1);
    expect(embedder.disposed).toBe(1);
    const calls = detector.calls;
    await vi.advanceTimersByTimeAsync(500);
    expect(detector.calls).toBe(calls); // the engine stopped reading it
    camera.unplug(); // and no longer listens to it
    expect(auth.phase).toBe('disposed');
  });

  it('by default the engine owns its camera, store and verifier: dispose closes all three', async () => {
    const verifierDispose = vi.fn();
    (auth.verifier as { dispose?: () => void }).dispose = verifierDispose;
    auth.dispose();
    expect(camera.stops).toBe(1);
    expect(verifierDispose).toHaveBeenCalledOnce();
    await expect(store.listUsers()).rejects.toMatchObject({ code: 'disposed' });
  });
});

describe('error codes', () => {
  it('an operation before startCamera (or after stopCamera) fails with camera-not-started', async () => {
    auth.stopCamera();
    await expect(auth.enroll('ann')).rejects.toMatchObject({ code: 'camera-not-started' });
    await expect(auth.identify()).rejects.toMatchObject({ code: 'camera-not-started' });
    await expect(auth.challenge()).rejects.toMatchObject({ code: 'camera-not-started' });
  });

  it('a frame that cannot be processed fails the pending capture with frame-failed; the loop goes on', async () => {
    detector.scene = 'ann';
    detector.failure = new TypeError('detector blew up');
    const p = auth.enroll('ann').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    expect(await p).toMatchObject({ code: 'frame-failed', message: expect.stringMatching(/detector blew up/), cause: detector.failure });
    detector.failure = null;
    expect(await settle(auth.enroll('ann'))).toMatchObject({ templates: 3 });
  });
});
