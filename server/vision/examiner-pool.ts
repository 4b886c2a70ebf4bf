/**
 * ExaminerPool: the server's face examination off the request thread (issue 10, throughput).
 *
 * `size` worker threads (examine-worker.ts, default os.availableParallelism()), each holding its
 * own ServerFaceExaminer: the same examine(frames, challenge) contract and the same outcomes as
 * one ServerFaceExaminer (same models, same WASM kernels, same code), `size` uploads examined at
 * once, and the request thread left free for HTTP, the database and the 1:N index.
 *
 * Admission. At most `size` examinations run and `queue` more wait (default 2 x size); past that
 * the pool is full. `tryReserve()` takes a slot before the caller commits to anything and returns
 * null when full: the upload route reserves first and consumes the session only with a ticket, so
 * an upload refused with 503 `overloaded` (+ Retry-After, `retryAfterSeconds()`) leaves its
 * session open and usable. `examine()` on its own reserves and throws PoolFullError when full.
 * A ticket is used once (its examine) or released; the slot is freed when the examination settles.
 * Queued jobs run in arrival order.
 *
 * Frames travel to the worker by transfer: a JPEG Uint8Array that owns its whole ArrayBuffer is
 * moved, not copied, so the caller's array is detached (length 0) once examine() returns its
 * promise (the route drops the frames anyway); a view into a larger or shared buffer is copied
 * first. The outcome's vectors come back by transfer too.
 *
 * Failures. A refusal is an outcome, as with ServerFaceExaminer. A throw in the worker (a model
 * failing at run time: VisionError 'model-load-failed', or anything unexpected) rejects that job
 * with the same error (VisionError keeps its code); unless it was a malformed challenge
 * ('invalid-input', a caller bug), that worker is then replaced. A worker that dies (crash, OOM,
 * `killWorker`) or exceeds `jobTimeoutMs` on one job rejects its job with WorkerCrashedError and is
 * replaced; the others keep serving and queued jobs wait for a free worker. A replacement that
 * cannot load its models is retried with back-off (1 s doubling to 30 s); while no worker is up,
 * such a failure also rejects the queued jobs, so nothing waits forever.
 *
 * Start-up. `ExaminerPool.create()` resolves once every worker has loaded and run both models;
 * one that cannot (missing or corrupt model files, no WASM, TypeScript not loadable) fails create
 * with that worker's error and every worker is terminated.
 *
 * TypeScript. The server and the tests run TypeScript through tsx (`node --import tsx`, vitest),
 * and Node 20 applies neither a parent's `--import` nor its loader hooks to a worker thread. So
 * when this module is itself a .ts file the worker starts from a two-line bootstrap that registers
 * tsx's ESM loader inside the thread (tsx/esm/api, resolved from this package) and then imports
 * examine-worker.ts; compiled to .js, it starts examine-worker.js directly.
 *
 * `dispose()` is idempotent: workers terminated, queued and running jobs rejected with
 * VisionError('disposed'); examine / tryReserve after it throw VisionError('disposed').
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VisionError, type VisionErrorCode } from './errors.js';
import type { FaceExaminerOptions } from './examine.js';
import type { ExamineOutcome, ExamineTicket, FaceExaminer, SessionChallenge, UploadedFrame } from './examine-types.js';
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from './examine-worker.js';

export interface ExaminerPoolOptions {
  /** Worker threads (default os.availableParallelism()). */
  readonly size?: number;
  /** Jobs that may wait beyond the `size` running ones before the pool is full (default 2 x size; 0: none wait). */
  readonly queue?: number;
  /** Passed to each worker's ServerFaceExaminer.create (plain data: it is structured-cloned). */
  readonly examiner?: FaceExaminerOptions;
  /** How long create() waits for every worker to load its models (default 120 s). */
  readonly startTimeoutMs?: number;
  /** A job running longer than this on one worker is failed and the worker replaced (default 60 s). */
  readonly jobTimeoutMs?: number;
  /**
   * Move each frame's JPEG buffer to the worker instead of copying it (default true): the caller's
   * Uint8Arrays are detached once examine() has returned its promise. False: copied, left intact.
   */
  readonly transferFrames?: boolean;
  /** Worker lifecycle events, for the server's log (never frames or embeddings). */
  readonly onEvent?: (event: PoolEvent) => void;
}

export type PoolEvent =
  | { readonly kind: 'worker-failed'; readonly worker: number; readonly reason: string }
  | { readonly kind: 'worker-replaced'; readonly worker: number; readonly loadMs: number }
  | { readonly kind: 'respawn-failed'; readonly worker: number; readonly reason: string; readonly retryInMs: number };

export interface PoolStats {
  readonly size: number;
  /** Workers with models loaded (busy or idle). */
  readonly ready: number;
  readonly busy: number;
  /** Jobs waiting for a worker. */
  readonly queued: number;
  /** Slots taken: reserved tickets not yet used + queued + running. */
  readonly reserved: number;
  /** size + queue: the most slots there are. */
  readonly capacity: number;
  /** Workers replaced after a crash, a timeout or a model failure. */
  readonly replaced: number;
  readonly completed: number;
  readonly failed: number;
}

/** examine() without a ticket, when the pool is full. */
export class PoolFullError extends Error {
  override readonly name = 'PoolFullError';
  readonly code = 'pool-full';
  constructor(readonly retryAfterSeconds: number) {
    super(`Every face examination slot is taken; retry in about ${retryAfterSeconds} s.`);
  }
}

/** The worker running a job died (crash, out of memory, killWorker) or took longer than jobTimeoutMs. */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
  readonly code = 'worker-crashed';
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_JOB_TIMEOUT_MS = 60_000;
const RESPAWN_MIN_MS = 1_000;
const RESPAWN_MAX_MS = 30_000;
/** Examination time assumed before any has been measured (a 3-frame verify upload on one core is ~0.3-0.6 s). */
const INITIAL_JOB_MS = 600;

interface Job {
  readonly frames: readonly UploadedFrame[];
  readonly challenge: SessionChallenge;
  readonly resolve: (o: ExamineOutcome) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  ready: boolean;
  job: { readonly id: number; readonly job: Job; readonly started: number; timer: NodeJS.Timeout | null } | null;
  /** Set once this thread is being replaced or disposed: its later events are ignored. */
  gone: boolean;
}

/** How to start examine-worker: directly when compiled to .js; through tsx's loader when this file is TypeScript. */
function startWorker(workerData: WorkerInit): Worker {
  const self = import.meta.url;
  if (!/\.ts$/.test(new URL(self).pathname)) {
    return new Worker(new URL('./examine-worker.js', self), { workerData });
  }
  const entry = new URL('./examine-worker.ts', self).href;
  const tsxApi = new URL('esm/api/index.mjs', pathToFileURL(createRequire(self).resolve('tsx'))).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

function toError(e: SerializedError, prefix = ''): Error {
  if (e.name === 'VisionError' && e.code) return new VisionError(e.code as VisionErrorCode, prefix + e.message);
  const err = new Error(prefix + e.message);
  err.name = e.name;
  return err;
}

/** Frames as posted: each JPEG moved when it owns its ArrayBuffer, else copied into one that it does. */
function framesForTransfer(frames: readonly UploadedFrame[], move: boolean): { frames: readonly UploadedFrame[]; transfer: ArrayBuffer[] } {
  if (!Array.isArray(frames)) return { frames, transfer: [] }; // the worker's examiner refuses it (bad-frames)
  if (!move) return { frames, transfer: [] }; // structured clone copies
  const transfer = new Set<ArrayBuffer>();
  const out = frames.map((f) => {
    const jpeg: unknown = f?.jpeg;
    if (!(jpeg instanceof Uint8Array)) return f;
    let own: Uint8Array = jpeg;
    const whole = jpeg.buffer instanceof ArrayBuffer && jpeg.byteOffset === 0 && jpeg.byteLength === jpeg.buffer.byteLength;
    if (!whole || transfer.has(jpeg.buffer as ArrayBuffer)) own = new Uint8Array(jpeg); // a view, a shared buffer, or one buffer twice: copy
    transfer.add(own.buffer as ArrayBuffer);
    return { jpeg: own, t: f.t };
  });
  return { frames: out, transfer: [...transfer] };
}

export class ExaminerPool implements FaceExaminer {
  readonly modelId: string;
  readonly size: number;
  /** Jobs that may wait beyond the running ones. */
  readonly queueLimit: number;
  private readonly slots: Slot[];
  private readonly waiting: Job[] = [];
  private readonly options: ExaminerPoolOptions;
  private readonly jobTimeoutMs: number;
  private reserved = 0;
  private nextId = 1;
  private disposed: Promise<void> | null = null;
  private jobMs = INITIAL_JOB_MS;
  private replacedCount = 0;
  private completedCount = 0;
  private failedCount = 0;
  private respawnDelay = RESPAWN_MIN_MS;

  private constructor(slots: Slot[], modelId: string, size: number, queue: number, options: ExaminerPoolOptions) {
    this.slots = slots;
    this.modelId = modelId;
    this.size = size;
    this.queueLimit = queue;
    this.options = options;
    this.jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    for (const s of slots) this.watch(s);
  }

  /** Starts `size` workers and resolves when every one has loaded and run its models. */
  static async create(options: ExaminerPoolOptions = {}): Promise<ExaminerPool> {
    const size = options.size ?? availableParallelism();
    const queue = options.queue ?? 2 * size;
    if (!(Number.isInteger(size) && size >= 1)) throw new VisionError('invalid-input', `The pool size must be an integer >= 1, got ${size}.`);
    if (!(Number.isInteger(queue) && queue >= 0)) throw new VisionError('invalid-input', `The pool queue must be an integer >= 0, got ${queue}.`);
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const init: WorkerInit = { options: options.examiner ?? {} };
    const workers: Worker[] = [];
    try {
      const started = await Promise.all(
        Array.from({ length: size }, async (_, index) => {
          const worker = startWorker(init);
          workers.push(worker);
          const { modelId } = await waitReady(worker, index, timeoutMs);
          return { index, worker, modelId };
        }),
      );
      const ids = new Set(started.map((s) => s.modelId));
      if (ids.size !== 1) throw new VisionError('model-load-failed', `The examination workers loaded different models: ${[...ids].join(', ')}.`);
      const slots: Slot[] = started.map(({ index, worker }) => ({ index, worker, ready: true, job: null, gone: false }));
      for (const s of slots) s.worker.unref(); // ref'd only while a job runs on it
      return new ExaminerPool(slots, started[0]!.modelId, size, queue, options);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate().catch(() => {})));
      throw e;
    }
  }

  /** A slot for one examination, or null when `size` run and `queue` wait. Throws VisionError('disposed') after dispose. */
  tryReserve(): ExamineTicket | null {
    this.checkOpen();
    if (this.reserved >= this.size + this.queueLimit) return null;
    this.reserved++;
    let state: 'reserved' | 'used' | 'released' = 'reserved';
    return {
      examine: (frames, challenge) => {
        if (state !== 'reserved') return Promise.reject(new Error(`This examination ticket was already ${state}.`));
        state = 'used';
        return this.run(frames, challenge);
      },
      release: () => {
        if (state !== 'reserved') return;
        state = 'released';
        this.reserved--;
      },
    };
  }

  /** Seconds until a slot is likely free: the work ahead spread over the workers, at the measured examination time (>= 1). */
  retryAfterSeconds(): number {
    const ahead = this.reserved - this.size + 1;
    return Math.max(1, Math.ceil((Math.max(1, ahead) * this.jobMs) / this.size / 1000));
  }

  /** Reserves and examines; rejects with PoolFullError when full (use tryReserve to refuse before committing to anything). */
  async examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    const ticket = this.tryReserve();
    if (!ticket) throw new PoolFullError(this.retryAfterSeconds());
    return ticket.examine(frames, challenge);
  }

  stats(): PoolStats {
    return {
      size: this.size,
      ready: this.slots.filter((s) => s.ready).length,
      busy: this.slots.filter((s) => s.job !== null).length,
      queued: this.waiting.length,
      reserved: this.reserved,
      capacity: this.size + this.queueLimit,
      replaced: this.replacedCount,
      completed: this.completedCount,
      failed: this.failedCount,
    };
  }

  /** The worker threads' ids (worker i's current thread), for tests and diagnostics. */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  /**
   * Terminates worker `index` as a crash would (for tests and operators): its job, if any, fails
   * with WorkerCrashedError and the worker is replaced. Resolves once the thread has stopped.
   */
  async killWorker(index: number): Promise<void> {
    const s = this.slots[index];
    if (!s) throw new RangeError(`No worker ${index} (the pool has ${this.slots.length}).`);
    await s.worker.terminate();
  }

  /** Terminates every worker and rejects every queued and running job. Idempotent; resolves when the threads have stopped. */
  dispose(): Promise<void> {
    if (this.disposed) return this.disposed;
    const gone = new VisionError('disposed', 'The face examiner pool has been disposed.');
    const stops: Promise<unknown>[] = [];
    for (const s of this.slots) {
      s.gone = true;
      s.ready = false;
      const running = s.job;
      s.job = null;
      if (running) {
        if (running.timer) clearTimeout(running.timer);
        running.job.reject(gone);
      }
      stops.push(s.worker.terminate().catch(() => {}));
    }
    for (const job of this.waiting.splice(0)) job.reject(gone);
    this.disposed = Promise.all(stops).then(() => {});
    return this.disposed;
  }

  private checkOpen(): void {
    if (this.disposed) throw new VisionError('disposed', 'The face examiner pool has been disposed.');
  }

  private run(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    return new Promise<ExamineOutcome>((resolve, reject) => {
      if (this.disposed) {
        this.reserved--;
        reject(new VisionError('disposed', 'The face examiner pool has been disposed.'));
        return;
      }
      const settle = (fn: () => void) => {
        this.reserved--;
        fn();
      };
      this.waiting.push({
        frames,
        challenge,
        resolve: (o) => settle(() => resolve(o)),
        reject: (e) => settle(() => reject(e)),
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.disposed) return;
    for (const s of this.slots) {
      if (this.waiting.length === 0) return;
      if (!s.ready || s.job !== null || s.gone) continue;
      const job = this.waiting.shift()!;
      const id = this.nextId++;
      const { frames, transfer } = framesForTransfer(job.frames, this.options.transferFrames !== false);
      const msg: ToWorker = { type: 'examine', id, frames, challenge: job.challenge };
      try {
        s.worker.postMessage(msg, transfer);
      } catch (e) {
        // Not structured-cloneable (a caller bug): this job fails, the worker is untouched.
        this.failedCount++;
        job.reject(e);
        continue;
      }
      s.worker.ref();
      const timer = setTimeout(() => this.fail(s, new WorkerCrashedError(`The face examination took over ${this.jobTimeoutMs} ms; its worker was replaced.`)), this.jobTimeoutMs);
      timer.unref();
      s.job = { id, job, started: performance.now(), timer };
    }
  }

  private watch(s: Slot): void {
    const w = s.worker;
    w.on('message', (m: FromWorker) => {
      if (s.gone || w !== s.worker) return;
      if (m.type !== 'done' && m.type !== 'failed') return;
      const running = s.job;
      if (!running || running.id !== m.id) return;
      if (running.timer) clearTimeout(running.timer);
      s.job = null;
      w.unref();
      const ms = performance.now() - running.started;
      this.jobMs = 0.8 * this.jobMs + 0.2 * ms;
      if (m.type === 'done') {
        this.completedCount++;
        this.respawnDelay = RESPAWN_MIN_MS;
        running.job.resolve(m.outcome);
        this.dispatch();
        return;
      }
      this.failedCount++;
      running.job.reject(toError(m.error));
      if (m.error.code === 'invalid-input') this.dispatch();
      else this.replace(s, `its examination threw ${m.error.name}${m.error.code ? ` (${m.error.code})` : ''}: ${m.error.message}`);
    });
    w.on('error', (e) => {
      if (s.gone || w !== s.worker) return;
      this.fail(s, new WorkerCrashedError(`The face examination worker crashed: ${e.message}`));
    });
    w.on('exit', (code) => {
      if (s.gone || w !== s.worker) return;
      this.fail(s, new WorkerCrashedError(`The face examination worker stopped (exit code ${code}).`));
    });
  }

  /** The worker is unusable: its job fails with `err`, it is replaced. */
  private fail(s: Slot, err: Error): void {
    if (s.gone) return;
    const running = s.job;
    s.job = null;
    if (running) {
      if (running.timer) clearTimeout(running.timer);
      this.failedCount++;
      running.job.reject(err);
    }
    this.replace(s, err.message);
  }

  /** Retires the slot's thread and starts a new one in its place (retried with back-off if it cannot load). */
  private replace(s: Slot, reason: string): void {
    if (this.disposed) return;
    s.gone = true;
    s.ready = false;
    const old = s.worker;
    void old.terminate().catch(() => {});
    this.options.onEvent?.({ kind: 'worker-failed', worker: s.index, reason });
    const t0 = performance.now();
    const next = startWorker({ options: this.options.examiner ?? {} });
    s.worker = next;
    waitReady(next, s.index, this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS).then(
      ({ modelId }) => {
        if (this.disposed || s.worker !== next) {
          void next.terminate().catch(() => {});
          return;
        }
        if (modelId !== this.modelId) throw new VisionError('model-load-failed', `A replacement worker loaded ${modelId}, not ${this.modelId}.`);
        next.unref();
        s.gone = false;
        s.ready = true;
        this.replacedCount++;
        this.watch(s);
        this.options.onEvent?.({ kind: 'worker-replaced', worker: s.index, loadMs: performance.now() - t0 });
        this.dispatch();
      },
    ).catch((e: unknown) => {
      void next.terminate().catch(() => {});
      if (this.disposed || s.worker !== next) return;
      const why = e instanceof Error ? e.message : String(e);
      const retryInMs = this.respawnDelay;
      this.respawnDelay = Math.min(RESPAWN_MAX_MS, this.respawnDelay * 2);
      this.options.onEvent?.({ kind: 'respawn-failed', worker: s.index, reason: why, retryInMs });
      // Nobody can run the queued jobs now: fail them rather than let them wait for an unknown time.
      if (!this.slots.some((x) => x.ready)) {
        for (const job of this.waiting.splice(0)) {
          this.failedCount++;
          job.reject(e);
        }
      }
      const timer = setTimeout(() => {
        if (!this.disposed && s.worker === next) this.replace(s, why);
      }, retryInMs);
      timer.unref();
    });
  }
}

/** Resolves with the worker's model id once it says ready; rejects with its load error, its crash, or the timeout. */
function waitReady(worker: Worker, index: number, timeoutMs: number): Promise<{ modelId: string }> {
  return new Promise((resolve, reject) => {
    const prefix = `Face examination worker ${index} could not start: `;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      fn();
    };
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready') done(() => resolve({ modelId: m.modelId }));
      else if (m.type === 'load-failed') done(() => reject(toError(m.error, prefix)));
    };
    const onError = (e: Error) =>
      done(() => reject(new VisionError('runtime-unavailable', `${prefix}${e.message} (the worker loads examine-worker.ts through tsx, or examine-worker.js when compiled).`)));
    const onExit = (code: number) => done(() => reject(new VisionError('runtime-unavailable', `${prefix}it exited with code ${code} before loading its models.`)));
    const timer = setTimeout(
      () => done(() => reject(new VisionError('model-load-failed', `${prefix}its models did not load within ${timeoutMs} ms.`))),
      timeoutMs,
    );
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * Admission for any FaceExaminer: its own (ExaminerPool) when it has one, else one examination at
 * a time with `queue` more waiting (the route's bound for examiners without a pool, e.g. a test
 * double or one in-process ServerFaceExaminer).
 */
export interface Admission {
  tryReserve(): ExamineTicket | null;
  retryAfterSeconds(): number;
}

export function admissionFor(examiner: FaceExaminer, options: { readonly queue: number }): Admission {
  if (typeof examiner.tryReserve === 'function') {
    return {
      tryReserve: () => examiner.tryReserve!(),
      retryAfterSeconds: () => examiner.retryAfterSeconds?.() ?? 1,
    };
  }
  const capacity = 1 + Math.max(0, options.queue);
  let reserved = 0;
  let chain: Promise<unknown> = Promise.resolve();
  let jobMs = INITIAL_JOB_MS;
  return {
    tryReserve: () => {
      if (reserved >= capacity) return null;
      reserved++;
      let state: 'reserved' | 'used' | 'released' = 'reserved';
      return {
        examine: (frames, challenge) => {
          if (state !== 'reserved') return Promise.reject(new Error(`This examination ticket was already ${state}.`));
          state = 'used';
          const fn = async () => {
            const t0 = performance.now();
            try {
              return await examiner.examine(frames, challenge);
            } finally {
              jobMs = 0.8 * jobMs + 0.2 * (performance.now() - t0);
            }
          };
          const run = chain.then(fn, fn);
          chain = run.catch(() => {});
          return run.finally(() => {
            reserved--;
          });
        },
        release: () => {
          if (state !== 'reserved') return;
          state = 'released';
          reserved--;
        },
      };
    },
    retryAfterSeconds: () => Math.max(1, Math.ceil((reserved * jobMs) / 1000)),
  };
}
