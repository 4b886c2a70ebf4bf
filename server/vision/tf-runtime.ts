/**
 * TF.js for the server: the WASM backend, set up once per process.
 *
 * Why WASM and not @tensorflow/tfjs-node or onnxruntime-node: their install scripts download
 * native binaries (libtensorflow, the onnxruntime shared library) from hosts that deployments
 * like ours cannot reach, so `npm install` fails or leaves a broken package. The WASM backend
 * is plain npm content, already a dependency of the page, and runs the same kernels (XNNPACK)
 * on the same model as the browser's WASM backend: that is what makes the server's embeddings
 * equal to the page's (tests/browser/embedding-parity.spec.ts).
 *
 * Which binary Node loads: tfjs-backend-wasm picks `tfjs-backend-wasm-simd.wasm` when
 * WebAssembly SIMD validates (Node 20: yes) and never the threaded one in Node (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node, tensorflow/tfjs#3830), so one thread.
 * The files are read from the installed package, the same bytes as public/wasm/tfjs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { VisionError, messageOf } from './errors.js';

export interface TfRuntimeInfo {
  readonly backend: 'wasm';
  readonly simd: boolean;
  readonly threads: number;
  /** The .wasm file the backend runs (absolute path). */
  readonly wasmFile: string;
  readonly tfjsVersion: string;
}

/** The installed @tensorflow/tfjs-backend-wasm's dist folder (holds the three .wasm variants). */
export function installedWasmDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

let runtime: Promise<TfRuntimeInfo> | null = null;

/**
 * Initialises TF.js on the WASM backend (once per process; later calls get the same answer).
 * Rejects with VisionError('runtime-unavailable'); a failed attempt is forgotten, so it may be
 * retried. Call it before loading any model: switching backends would free the models' tensors.
 */
export function initTfRuntime(): Promise<TfRuntimeInfo> {
  if (runtime) return runtime;
  const attempt = init();
  runtime = attempt;
  attempt.catch(() => {
    if (runtime === attempt) runtime = null;
  });
  return attempt;
}

async function init(): Promise<TfRuntimeInfo> {
  const dir = installedWasmDir();
  try {
    if (tf.getBackend() !== 'wasm') {
      setWasmPaths(dir + '/');
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    }
    await tf.ready();
  } catch (e) {
    throw new VisionError('runtime-unavailable', `TF.js could not start its WASM backend (from ${dir}): ${messageOf(e)}`, { cause: e });
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const file = simd ? (threaded ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm') : 'tfjs-backend-wasm.wasm';
  return { backend: 'wasm', simd, threads: getThreadsCount(), wasmFile: join(dir, file), tfjsVersion: tf.version_core };
}
