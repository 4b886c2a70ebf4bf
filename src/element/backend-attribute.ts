import { FaceLoginError } from '../core/errors.js';
import type { BackendPreference, CreateFaceAuthOptions } from '../face-auth.js';

const COMPUTE_BACKENDS: ReadonlySet<string> = new Set<BackendPreference>(['auto', 'webgl', 'wasm', 'cpu']);
/** The values `offline` takes ('' or none = deny). */
export const OFFLINE_VALUES = ['allow', 'deny'] as const;

/** The element's attributes that choose where faces are computed and decided (null: a removed attribute). */
export interface BackendAttributes {
  /** Verification server URL ('' = the device decides). */
  server: string | null;
  /** TF.js backend: auto | webgl | wasm | cpu ('' = auto). Deprecated: a server URL. */
  backend: string | null;
  /** Deprecated alias of `backend`. */
  compute: string | null;
  /** allow: with a server, the device may decide while it is unreachable. */
  offline: string | null;
}

export type BackendDeprecation = 'backend-url' | 'compute';

const DEPRECATIONS: Record<BackendDeprecation, string> = {
  'backend-url':
    '<face-login>: backend="<server URL>" is deprecated and goes in the next release: give the verification server as server="…"; backend names only the TF.js backend (auto | webgl | wasm | cpu).',
  compute: '<face-login>: compute="…" is deprecated and goes in the next release: use backend="…" (auto | webgl | wasm | cpu).',
};

const warned = new Set<BackendDeprecation>();

/** console.warn, once per page for each deprecated form. */
export function warnDeprecatedOnce(which: BackendDeprecation): void {
  if (warned.has(which)) return;
  warned.add(which);
  console.warn(DEPRECATIONS[which]);
}

/** A server URL in the old `backend` attribute: absolute, or a path ('/api', './api'). */
const looksLikeUrl = (value: string) => /[/:.]/.test(value);

/**
 * `server` is the verification server, `backend` the TF.js backend. The old forms still work for
 * one release, each with a one-time deprecation warning: `backend="https://…"` (taken as the
 * server) and `compute="wasm"` (taken as the backend when `backend` names none). An unknown
 * backend name or `offline` value is `invalid-input` (never a silent default).
 */
export function parseBackendAttributes(
  attrs: BackendAttributes,
  warn: (which: BackendDeprecation) => void = warnDeprecatedOnce,
): Pick<CreateFaceAuthOptions, 'backend' | 'server'> {
  const backend = (attrs.backend ?? '').trim();
  const compute = (attrs.compute ?? '').trim();
  const offline = (attrs.offline ?? '').trim();
  if (offline && !(OFFLINE_VALUES as readonly string[]).includes(offline)) {
    throw new FaceLoginError('invalid-input', `Unknown offline "${offline}": use allow or deny (default deny).`);
  }
  let url = (attrs.server ?? '').trim();
  const named = COMPUTE_BACKENDS.has(backend);
  if (backend && !named) {
    if (!looksLikeUrl(backend)) throw unknownBackend('backend', backend);
    warn('backend-url');
    url ||= backend;
  }
  if (compute) {
    warn('compute');
    if (!COMPUTE_BACKENDS.has(compute)) throw unknownBackend('compute', compute);
  }
  const preference = (named ? backend : compute || 'auto') as BackendPreference;
  return { backend: preference, ...(url ? { server: { url, allowOffline: offline === 'allow' } } : {}) };
}

function unknownBackend(attr: string, value: string): FaceLoginError {
  return new FaceLoginError('invalid-input', `Unknown ${attr} "${value}": use auto, webgl, wasm or cpu (a verification server goes in server="…").`);
}

/** @deprecated The pre-`server` signature; use parseBackendAttributes. */
export function parseBackend(backend: string, compute: string, offline: string): Pick<CreateFaceAuthOptions, 'backend' | 'server'> {
  return parseBackendAttributes({ server: '', backend, compute, offline });
}
