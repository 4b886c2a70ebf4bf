import { FaceLoginError } from '../../core/errors.js';
import { ASSET_FIX } from '../../asset-base.js';

/**
 * public/models/manifest.json, written by scripts/prepare-models.mjs. Its `files` list has paths
 * relative to the site root (`models/...`, `wasm/...`); we index the model files by their path
 * inside the models folder, so the folder itself can be served from any URL.
 */
export interface ModelManifest {
  /** Where it was loaded from (named in errors). */
  readonly url?: string;
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

interface RawManifest {
  files?: { path?: unknown; bytes?: unknown; sha256?: unknown }[];
}

export interface LoadProgress {
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
}

export interface FetchModelOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Expected SHA-256 (hex). A mismatch is reported as a corrupt model. */
  sha256?: string;
  expectedBytes?: number;
}

export function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base + path : `${base}/${path}`;
}

/**
 * An HTML page where a file was expected: a site's SPA fallback (Vite's dev server, most static
 * hosts) answers 200 with index.html for a path that does not exist.
 */
function isHtml(res: Response): boolean {
  return /^text\/html/i.test(res.headers.get('content-type') ?? '');
}

/** Why `url` is not usable as an asset, or null when it answers 200 with something other than HTML. */
export async function probeAsset(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { credentials: 'same-origin' });
    void res.body?.cancel().catch(() => {});
    if (!res.ok) return `${url} answered HTTP ${res.status}`;
    if (isHtml(res)) return `${url} answered with an HTML page (a fallback page: the file is not there)`;
    return null;
  } catch (e) {
    return `${url} could not be fetched (${(e as Error).message ?? e})`;
  }
}

const short = (hex: string) => `${hex.slice(0, 12)}…`;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Fetches one model file from our own origin, reporting bytes as they arrive, and checks its
 * SHA-256 against the manifest so a truncated or tampered file fails loudly (model-load-failed)
 * instead of producing wrong embeddings.
 */
export async function fetchModelFile(url: string, options: FetchModelOptions = {}): Promise<Uint8Array> {
  const { signal, onProgress, sha256, expectedBytes } = options;
  let res: Response;
  try {
    res = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (e) {
    if (signal?.aborted) throw new FaceLoginError('aborted', 'Model loading was aborted.', { cause: e });
    throw new FaceLoginError('model-load-failed', `Could not download model file ${url}: ${(e as Error).message}. ${ASSET_FIX}`, { cause: e });
  }
  const expected = sha256 ? ` (expected: the file the manifest lists${expectedBytes !== undefined ? `, ${expectedBytes} bytes` : ''}, sha256 ${short(sha256)})` : '';
  if (!res.ok) {
    throw new FaceLoginError('model-load-failed', `Model file ${url} could not be loaded (HTTP ${res.status})${expected}. ${ASSET_FIX}`);
  }
  if (isHtml(res)) {
    void res.body?.cancel().catch(() => {});
    throw new FaceLoginError('model-load-failed', `Model file ${url} is missing: the server answered with an HTML page (a fallback page)${expected}. ${ASSET_FIX}`);
  }
  const total = expectedBytes ?? Number(res.headers.get('content-length') ?? 0);
  let bytes: Uint8Array;
  if (res.body && onProgress) {
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress({ file: url, loaded, total: Math.max(total, loaded) });
    }
    bytes = new Uint8Array(loaded);
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.byteLength;
    }
  } else {
    bytes = new Uint8Array(await res.arrayBuffer());
    onProgress?.({ file: url, loaded: bytes.byteLength, total: bytes.byteLength });
  }
  if (sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== sha256) {
      throw new FaceLoginError(
        'model-load-failed',
        `Model file ${url} is corrupt or from another face-login version: SHA-256 ${short(actual)} (${bytes.byteLength} bytes) does not match the manifest's ${short(sha256)}${expectedBytes !== undefined ? ` (${expectedBytes} bytes)` : ''}. ` +
          `Serve the models and their manifest.json from the same face-login package. ${ASSET_FIX}`,
      );
    }
  }
  return bytes;
}

export async function fetchManifest(modelsUrl: string, signal?: AbortSignal): Promise<ModelManifest> {
  const url = joinUrl(modelsUrl, 'manifest.json');
  let res: Response;
  try {
    res = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (e) {
    if (signal?.aborted) throw new FaceLoginError('aborted', 'Model loading was aborted.', { cause: e });
    throw new FaceLoginError('model-load-failed', `Could not load the model manifest ${url} (${(e as Error).message ?? e}). ${ASSET_FIX}`, { cause: e });
  }
  const expected = "expected face-login's models/manifest.json there";
  if (!res.ok) throw new FaceLoginError('model-load-failed', `The model manifest ${url} is missing (HTTP ${res.status}): ${expected}. ${ASSET_FIX}`);
  const text = await res.text();
  if (isHtml(res) || /^\s*</.test(text)) {
    throw new FaceLoginError('model-load-failed', `The model manifest ${url} is missing: the server answered with an HTML page (a fallback page), ${expected}. ${ASSET_FIX}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FaceLoginError('model-load-failed', `The model manifest ${url} is not valid JSON: ${expected}. ${ASSET_FIX}`, { cause: e });
  }
  const list = (json as RawManifest | null)?.files;
  if (!Array.isArray(list)) {
    throw new FaceLoginError('model-load-failed', `The model manifest ${url} has no "files" list: ${expected}. ${ASSET_FIX}`);
  }
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const f of list) {
    if (typeof f?.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.bytes !== 'number') {
      throw new FaceLoginError('model-load-failed', `The model manifest ${url} has a malformed entry.`);
    }
    if (f.path.startsWith('models/')) files[f.path.slice('models/'.length)] = { bytes: f.bytes, sha256: f.sha256 };
  }
  return { url, files };
}

/** Manifest entry for a file, or a model-load-failed error naming it. */
export function manifestEntry(manifest: ModelManifest, file: string): { bytes: number; sha256: string } {
  const e = manifest.files[file];
  if (!e) throw new FaceLoginError('model-load-failed', `The model manifest${manifest.url ? ` ${manifest.url}` : ''} does not list ${file}: it is not face-login's. ${ASSET_FIX}`);
  return e;
}
