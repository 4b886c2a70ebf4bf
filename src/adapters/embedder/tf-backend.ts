import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { FaceLoginError } from '../../core/errors.js';
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

let chosen: Promise<BackendChoice> | null = null;
let chosenFor = '';

/**
 * Chooses the TF.js backend once per page, before any model is loaded (switching later would
 * dispose live tensors). 'auto': WebGL on a hardware GPU, WASM on a software renderer or when
 * WebGL fails to initialise. A later call with a different preference switches backend.
 */
export function selectBackend(preference: BackendPreference, wasmUrl: string): Promise<BackendChoice> {
  const key = `${preference}|${wasmUrl}`;
  if (chosen && chosenFor === key) return chosen;
  chosenFor = key;
  chosen = doSelect(preference, wasmUrl).catch((e: unknown) => {
    chosen = null;
    throw e;
  });
  return chosen;
}

async function useWasm(wasmUrl: string): Promise<boolean> {
  setWasmPaths(wasmUrl.endsWith('/') ? wasmUrl : wasmUrl + '/');
  return tf.setBackend('wasm');
}

async function doSelect(preference: BackendPreference, wasmUrl: string): Promise<BackendChoice> {
  const probe = probeWebGl();
  const renderer = probe.renderer || undefined;
  try {
    if (preference === 'wasm') {
      if (await useWasm(wasmUrl)) return { backend: 'wasm', reason: 'forced', renderer };
    } else if (preference === 'cpu') {
      if (await tf.setBackend('cpu')) return { backend: 'cpu', reason: 'forced', renderer };
    } else if (preference === 'webgl') {
      if (await tf.setBackend('webgl')) return { backend: 'webgl', reason: 'forced', renderer };
    } else {
      if (probe.available && !probe.software) {
        if (await tf.setBackend('webgl').catch(() => false)) return { backend: 'webgl', reason: 'hardware-gpu', renderer };
        if (await useWasm(wasmUrl)) return { backend: 'wasm', reason: 'webgl-failed', renderer };
      } else if (await useWasm(wasmUrl)) {
        return { backend: 'wasm', reason: probe.available ? 'software-gl' : 'no-webgl', renderer };
      }
    }
  } catch (e) {
    throw new FaceLoginError('model-load-failed', `The ${preference} TF.js backend could not be initialised: ${(e as Error).message ?? e}`, { cause: e });
  }
  throw new FaceLoginError('model-load-failed', `The ${preference} TF.js backend could not be initialised.`);
}
