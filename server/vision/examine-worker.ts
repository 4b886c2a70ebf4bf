/**
 * One examination worker of ExaminerPool (examiner-pool.ts): a `node:worker_threads` thread holding
 * its own ServerFaceExaminer (its own TF.js WASM instance and models), examining one upload at a
 * time off the request thread.
 *
 * Protocol (structured clone; the pool's side is the only one that posts here):
 *
 *   worker -> pool  { type: 'ready', modelId, loadMs }                 once, models loaded and run once
 *   worker -> pool  { type: 'load-failed', error }                     instead of ready; the thread then exits
 *   pool -> worker  { type: 'examine', id, frames, challenge }         the JPEG buffers transferred, not copied
 *   worker -> pool  { type: 'done', id, outcome }                      the outcome's Float32Array buffers transferred
 *   worker -> pool  { type: 'failed', id, error }                      examine threw (not a refusal: a refusal is an outcome)
 *
 * `error` is { name, code?, message } (a VisionError keeps its code). Nothing here logs frames,
 * pixels or embeddings; the frames are dropped when the examination ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ServerFaceExaminer, type FaceExaminerOptions } from './examine.js';
import type { ExamineOutcome, SessionChallenge, UploadedFrame } from './examine-types.js';
import { VisionError, messageOf } from './errors.js';

export interface WorkerInit {
  readonly options: FaceExaminerOptions;
}

export interface SerializedError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
}

export type ToWorker = { readonly type: 'examine'; readonly id: number; readonly frames: readonly UploadedFrame[]; readonly challenge: SessionChallenge };

export type FromWorker =
  | { readonly type: 'ready'; readonly modelId: string; readonly loadMs: number }
  | { readonly type: 'load-failed'; readonly error: SerializedError }
  | { readonly type: 'done'; readonly id: number; readonly outcome: ExamineOutcome }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof VisionError) return { name: e.name, code: e.code, message: e.message };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: messageOf(e) };
}

/** The distinct ArrayBuffers under an outcome's vectors (probe and templates may share one). */
export function outcomeBuffers(outcome: ExamineOutcome): ArrayBuffer[] {
  if (!outcome.ok) return [];
  const set = new Set<ArrayBuffer>();
  for (const v of [outcome.probe, ...outcome.templates.map((t) => t.embedding)]) {
    if (v.buffer instanceof ArrayBuffer) set.add(v.buffer);
  }
  return [...set];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('examine-worker.ts runs as a worker thread of ExaminerPool.');
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const { options } = workerData as WorkerInit;
  const t0 = performance.now();
  let examiner: ServerFaceExaminer;
  try {
    examiner = await ServerFaceExaminer.create(options);
  } catch (e) {
    post({ type: 'load-failed', error: serializeError(e) });
    port.close();
    return;
  }
  post({ type: 'ready', modelId: examiner.modelId, loadMs: performance.now() - t0 });
  port.on('message', (m: ToWorker) => {
    if (m?.type !== 'examine') return;
    examiner.examine(m.frames, m.challenge).then(
      (outcome) => {
        const buffers = outcomeBuffers(outcome);
        try {
          post({ type: 'done', id: m.id, outcome }, buffers);
        } catch {
          post({ type: 'done', id: m.id, outcome }); // a buffer that cannot be transferred is copied
        }
      },
      (e: unknown) => post({ type: 'failed', id: m.id, error: serializeError(e) }),
    );
  });
}

void main();
