import type { BackendPreference } from '../adapters/embedder/tf-backend.js';
import type { CreateFaceAuthOptions } from '../face-auth.js';

const COMPUTE_BACKENDS = new Set(['auto', 'webgl', 'wasm', 'cpu']);

/** `backend` is a compute backend name or a server URL; `compute` names the compute backend explicitly. */
export function parseBackend(backend: string, compute: string, offline: string): Pick<CreateFaceAuthOptions, 'backend' | 'server'> {
  const value = backend.trim();
  const isCompute = COMPUTE_BACKENDS.has(value);
  const computeName = (COMPUTE_BACKENDS.has(compute) ? compute : isCompute ? value : 'auto') as BackendPreference;
  const server = value && !isCompute ? { url: value, allowOffline: offline === 'allow' } : undefined;
  return { backend: computeName, ...(server ? { server } : {}) };
}

