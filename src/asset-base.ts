/**
 * Where the page serves face-login's assets (the package's assets/ folder: models/ and wasm/).
 * Resolution, first match wins, for each of the two folders:
 *   1. `modelsUrl` / `wasmUrl` (createFaceAuth) or `models-url` / `wasm-url` (the element);
 *   2. the element's `asset-base` attribute: `<base>models/`, `<base>wasm/`;
 *   3. setBasePath(base), once for the page;
 *   4. `<meta name="face-login-asset-base" content="...">` in the page (face-login/vite adds it);
 *   5. '/models/' and '/wasm/' (this repo's public/ at the site root).
 */

let pageBase: string | null = null;

/** The name of the `<meta>` that face-login/vite writes into the page's HTML. */
export const ASSET_BASE_META = 'face-login-asset-base';

/**
 * Sets the page's default asset base: models are then loaded from `<base>/models/` and wasm from
 * `<base>/wasm/` by every element and createFaceAuth() call that names no URL of its own. `null`
 * (or '') goes back to the default. Call it before the first element connects.
 */
export function setBasePath(base: string | null): void {
  pageBase = base ? withSlash(base) : null;
}

/** The asset base in force for the page (setBasePath, else the meta tag), or null: the defaults. */
export function getBasePath(): string | null {
  if (pageBase !== null) return pageBase;
  // No DOM types here: this module is also compiled for Node (server/, the Vite plugin).
  const doc = (globalThis as { document?: { querySelector(selector: string): { getAttribute(name: string): string | null } | null } }).document;
  const meta = doc?.querySelector(`meta[name="${ASSET_BASE_META}"]`)?.getAttribute('content');
  return meta ? withSlash(meta) : null;
}

export interface AssetUrls {
  readonly modelsUrl: string;
  readonly wasmUrl: string;
  /** Where the URLs came from, for error messages. */
  readonly source: 'explicit' | 'asset-base' | 'setBasePath' | 'meta' | 'default';
}

/** The models and wasm URLs for explicit URLs (either may be missing) and an optional per-element base. */
export function resolveAssetUrls(explicit: { modelsUrl?: string | undefined; wasmUrl?: string | undefined; assetBase?: string | undefined } = {}): AssetUrls {
  const base = explicit.assetBase ? withSlash(explicit.assetBase) : getBasePath();
  const source: AssetUrls['source'] = explicit.modelsUrl && explicit.wasmUrl ? 'explicit' : explicit.assetBase ? 'asset-base' : pageBase !== null ? 'setBasePath' : base !== null ? 'meta' : 'default';
  return {
    modelsUrl: explicit.modelsUrl || (base !== null ? `${base}models/` : '/models/'),
    wasmUrl: explicit.wasmUrl || (base !== null ? `${base}wasm/` : '/wasm/'),
    source,
  };
}

/** How to serve the assets, appended to every missing-or-wrong-asset message. */
export const ASSET_FIX =
  "Serve face-login's assets/ folder: with Vite add the plugin (import faceLogin from 'face-login/vite'; plugins: [faceLogin()]); " +
  'with any other server copy them (npx face-login assets <dir>) and point the page at that URL (asset-base="/<url>/" on the element, or setBasePath(url)).';

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}
