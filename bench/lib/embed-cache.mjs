/**
 * On-disk cache of face embeddings and detection records for the accuracy benchmarks, under the
 * OS temp folder by default (never in the repo: these are embeddings of real people).
 *
 *   <cacheRoot>/<name>/meta.json            what produced it (fingerprint inputs)
 *   <cacheRoot>/<name>/det.jsonl            one detection record per image (last line wins)
 *   <cacheRoot>/<name>/<variant>.f32/.keys  float32 embeddings appended in the order of the keys
 *
 * <name> = <system>-<frame mode>-<fingerprint>: a change of model files, of the pipeline's source
 * or of the framing starts a fresh folder, so stale vectors are never mixed in.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import os from 'node:os';
import { ROOT } from './harness.mjs';

export const DEFAULT_CACHE_ROOT = process.env.BENCH_CACHE_DIR ?? join(os.tmpdir(), 'face-login-bench-cache');

/** sha256 (hex) of the given repo-relative files (missing files hash as 'missing'). */
/**
 * sha256 of `files` (relative to the repo). `views[file]` maps a file's bytes to what is hashed
 * instead, so that an unrelated change (another model added to the manifest) keeps the key.
 */
export function hashFiles(files, { views = {} } = {}) {
  const h = createHash('sha256');
  const per = {};
  for (const f of files) {
    const p = join(ROOT, f);
    let body = existsSync(p) ? readFileSync(p) : Buffer.from('missing');
    // A view hashes only the part of a file that matters (e.g. one model's manifest entry).
    if (views[f] && existsSync(p)) body = Buffer.from(views[f](body));
    const d = createHash('sha256').update(body).digest('hex');
    per[f] = d.slice(0, 16);
    h.update(f).update('\0').update(d);
  }
  return { digest: h.digest('hex'), per };
}

export const fromBase64 = (b64) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
};

export class EmbedCache {
  /** @param {{ root?: string, name: string, meta: object, dim: number, disabled?: boolean }} o */
  constructor({ root = DEFAULT_CACHE_ROOT, name, meta, dim, disabled = false }) {
    this.dir = join(root, name);
    this.dim = dim;
    this.disabled = disabled;
    this.det = new Map();
    this.emb = new Map(); // variant -> Map(key -> Float32Array)
    if (disabled) return;
    mkdirSync(this.dir, { recursive: true });
    const metaPath = join(this.dir, 'meta.json');
    if (!existsSync(metaPath)) writeFileSync(metaPath, JSON.stringify({ created: new Date().toISOString(), ...meta }, null, 1) + '\n');
    const detPath = join(this.dir, 'det.jsonl');
    if (existsSync(detPath)) {
      for (const line of readFileSync(detPath, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line);
          this.det.set(r.key, r);
        } catch {
          /* a torn last line after a crash */
        }
      }
    }
  }

  variant(id) {
    let m = this.emb.get(id);
    if (m) return m;
    m = new Map();
    this.emb.set(id, m);
    if (this.disabled) return m;
    const kp = join(this.dir, `${id}.keys`);
    const fp = join(this.dir, `${id}.f32`);
    if (existsSync(kp) && existsSync(fp)) {
      const keys = readFileSync(kp, 'utf8').split('\n').filter(Boolean);
      const buf = readFileSync(fp);
      const n = Math.min(keys.length, Math.floor(buf.byteLength / (4 * this.dim)));
      const all = new Float32Array(buf.buffer, buf.byteOffset, n * this.dim).slice();
      for (let i = 0; i < n; i++) m.set(keys[i], all.subarray(i * this.dim, (i + 1) * this.dim));
    }
    return m;
  }

  getDet(key) {
    return this.det.get(key);
  }

  getEmb(variantId, key) {
    return this.variant(variantId).get(key);
  }

  putDet(records) {
    const lines = [];
    for (const r of records) {
      this.det.set(r.key, r);
      lines.push(JSON.stringify(r));
    }
    if (!this.disabled && lines.length) appendFileSync(join(this.dir, 'det.jsonl'), lines.join('\n') + '\n');
  }

  /** entries: [key, Float32Array][] for one variant. Vectors first, then keys (a torn write loses only the tail). */
  putEmb(variantId, entries) {
    const m = this.variant(variantId);
    const fresh = entries.filter(([k]) => !m.has(k));
    for (const [k, v] of fresh) {
      if (v.length !== this.dim) throw new Error(`embedding of ${k} has ${v.length} values, expected ${this.dim}`);
      m.set(k, v);
    }
    if (this.disabled || fresh.length === 0) return;
    const buf = new Float32Array(fresh.length * this.dim);
    fresh.forEach(([, v], i) => buf.set(v, i * this.dim));
    appendFileSync(join(this.dir, `${variantId}.f32`), Buffer.from(buf.buffer));
    appendFileSync(join(this.dir, `${variantId}.keys`), fresh.map(([k]) => k).join('\n') + '\n');
  }
}
