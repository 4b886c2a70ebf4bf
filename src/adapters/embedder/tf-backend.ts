import * as tf from '@tensorflow/tfjs-core';
import { FaceLoginError } from '../../core/errors.js';
import { ASSET_FIX } from '../../asset-base.js';
import { probeAsset } from '../models/model-files.js';
import type { TfBackendName } from '../../core/types.js';

export type BackendPreference = 'auto' | TfBackendName;

export interface BackendChoice {
  readonly backend: TfBackendName;
  /** Why this backend: 'forced', 'hardware-gpu', 'software-gl' (WebGL is emulated), 'no-webgl', 'webgl-failed'. */
  readonly reason: string;
  readonly renderer?: string;
}

/**
 * Names the WebGL renderer without a TF.js context. A software rasteriser (SwiftShader,
 * llvmpipe, Microsoft Basic Render) runs shaders on the CPU ~10x slower than TF.js WASM.
 */
export function probeWebGl(): { available: boolean; software: boolean; renderer: string } {
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return { available: false, software: true, renderer: '' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    const software = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
    return { available: true, software, renderer };
  } catch {
    return { available: false, software: true, renderer: '' };
  }
}

/**
 * Each TF.js backend is its own module, imported (and so registered with TF.js) only when it is
 * tried: a page on WASM never downloads WebGL's kernels, and a site's bundler puts each backend
 * in a chunk of its own (the lean default, issue 12). The WASM module is needed for its
 * setWasmPaths and its SIMD / threads flags, so it is loaded before either is used.
 */
const BACKEND_MODULES = {
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
} as const;

/** Imports one backend's module and sets TF.js to it (false when it does not initialise). */
async function setTfBackend(name: TfBackendName): Promise<boolean> {
  await BACKEND_MODULES[name]();
  return tf.setBackend(name);
}

/**
 * The page's choice: TF.js has one active backend per page, and every model loaded on it lives
 * there, so this state is page-wide on purpose. Set by the first successful selectBackend();
 * cleared only when that attempt fails, so a failed choice may be retried.
 */
let choice: Promise<BackendChoice> | null = null;

/**
 * Chooses the TF.js backend once per page, before any model is loaded (`tf.setBackend` disposes
 * the tensors of models on the previous backend, so it is never switched later).
 * - 'auto': WebGL on a hardware GPU, WASM on a software renderer or when WebGL fails to initialise.
 * - The first successful choice is final for the page. A later call resolves with that same
 *   choice when it asks for 'auto' or for the backend already chosen; a call for a different
 *   explicit backend rejects with FaceLoginError('backend-conflict'), naming both backends (the
 *   fix: give every face-login on the page the same `backend` / `compute`, or 'auto'). Calls
 *   made while a choice is under way wait for it and are then answered by the same rule.
 * - A choice that fails (model-load-failed) is forgotten: the next call tries again.
 * `wasmUrl` is used by the choice that sets up WASM; later calls do not change it.
 */
export function selectBackend(preference: BackendPreference, wasmUrl: string): Promise<BackendChoice> {
  const prior = choice;
  if (prior) {
    return prior.then(
      (chosen) => (preference === 'auto' || preference === chosen.backend ? chosen : Promise.reject(backendConflict(chosen, preference))),
      // That attempt failed and was forgotten: this call makes its own.
      () => selectBackend(preference, wasmUrl),
    );
  }
  const attempt = doSelect(preference, wasmUrl);
  choice = attempt;
  attempt.catch(() => {
    if (choice === attempt) choice = null;
  });
  return attempt;
}

function backendConflict(chosen: BackendChoice, asked: TfBackendName): FaceLoginError {
  return new FaceLoginError(
    'backend-conflict',
    `This page already runs its face models on the ${chosen.backend} TF.js backend (${chosen.reason}); ${asked} was asked for. ` +
      'TF.js has one backend per page and switching it would free the other models: use the same backend (or "auto") everywhere on the page.',
  );
}

async function useWasm(wasmUrl: string): Promise<boolean> {
  const { setWasmPaths } = await BACKEND_MODULES.wasm();
  setWasmPaths(wasmUrl.endsWith('/') ? wasmUrl : wasmUrl + '/');
  return tf.setBackend('wasm');
}

/** The binary TF.js asks for (its getPathToWasmBinary: threads need cross-origin isolation). */
async function wasmBinaryUrl(wasmUrl: string): Promise<string> {
  await BACKEND_MODULES.wasm(); // registers the flags read below
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').catch(() => false);
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT').catch(() => false);
  const file = simd && threads ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  return (wasmUrl.endsWith('/') ? wasmUrl : wasmUrl + '/') + file;
}

/** When WASM did not start: is its binary missing at wasmUrl? Then the error names it and the fix. */
async function wasmAssetError(preference: BackendPreference, wasmUrl: string, cause?: unknown): Promise<FaceLoginError | null> {
  if (preference === 'cpu' || preference === 'webgl') return null;
  const problem = await wasmBinaryUrl(wasmUrl).then(probeAsset, () => null);
  if (!problem) return null;
  return new FaceLoginError(
    'model-load-failed',
    `The TF.js WASM backend (${preference}) could not be initialised: ${problem} (expected face-login's wasm/tfjs/ files there). ${ASSET_FIX}`,
    cause === undefined ? undefined : { cause },
  );
}

async function doSelect(preference: BackendPreference, wasmUrl: string): Promise<BackendChoice> {
  const probe = probeWebGl();
  const renderer = probe.renderer || undefined;
  try {
    if (preference === 'wasm') {
      if (await useWasm(wasmUrl)) return { backend: 'wasm', reason: 'forced', renderer };
    } else if (preference === 'cpu') {
      if (await setTfBackend('cpu')) return { backend: 'cpu', reason: 'forced', renderer };
    } else if (preference === 'webgl') {
      if (await setTfBackend('webgl')) return { backend: 'webgl', reason: 'forced', renderer };
    } else {
      if (probe.available && !probe.software) {
        if (await setTfBackend('webgl').catch(() => false)) return { backend: 'webgl', reason: 'hardware-gpu', renderer };
        if (await useWasm(wasmUrl)) return { backend: 'wasm', reason: 'webgl-failed', renderer };
      } else if (await useWasm(wasmUrl)) {
        return { backend: 'wasm', reason: probe.available ? 'software-gl' : 'no-webgl', renderer };
      }
    }
  } catch (e) {
    throw (await wasmAssetError(preference, wasmUrl, e)) ?? new FaceLoginError('model-load-failed', `The ${preference} TF.js backend could not be initialised: ${(e as Error).message ?? e}`, { cause: e });
  }
  throw (await wasmAssetError(preference, wasmUrl)) ?? new FaceLoginError('model-load-failed', `The ${preference} TF.js backend could not be initialised.`);
}
