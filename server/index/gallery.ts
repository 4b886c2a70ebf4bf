/**
 * One model's in-memory gallery: every template's unit vector, with the owner of each row. A
 * user's score is their best template, so the best row's owner is the best user.
 *
 * 1:N search is exact, in two stages:
 * 1. Every row is also kept quantised to int8 (per-row scale = max |x| / 127) in one contiguous
 *    block inside a WebAssembly memory, and scanned by the SIMD kernel of simd-dot.ts: a quarter
 *    of the memory traffic of float32, which is what bounds a 100k-row scan.
 * 2. Each approximate cosine is within a rigorous error bound E of the exact one (below), so only
 *    the rows within 2E of the best approximate score can be the true best; those few are
 *    rescored exactly in float32. The result is the same as a float32 scan of everything.
 *
 * Error bound: with x = s_x q_x + e_x, |e_x,i| <= s_x / 2 (same for the probe p), and unit x, p,
 *   |approx - x.p| <= (s_x + s_p) / 2 * sqrt(d) + d s_x s_p / 4      (Cauchy-Schwarz on each term),
 * taken with the largest row scale ever stored (s_x <= 1/127) as one bound for every row.
 *
 * Where WebAssembly SIMD is missing, a plain float32 JS scan does stage 2 over every row.
 * Memory per template: 4 x size (float32) + size rounded up to 16 (int8) + 4 (scale) bytes.
 */
import { createDotsKernel, type DotsKernel } from './simd-dot.js';
import { MAX_EMBEDDING_LENGTH } from '../../src/protocol/constants.js';

export interface Match {
  readonly userId: string;
  readonly score: number;
}

const PROBE_BYTES = MAX_EMBEDDING_LENGTH; // int8 probe area: the largest model size allowed by config
const PAGE_BYTES = 65_536;

export class ModelGallery {
  readonly size: number;
  /** Bytes per int8 row (size rounded up to a multiple of 16; the padding stays 0). */
  readonly strideQ: number;
  readonly simd: boolean;
  private readonly kernel: DotsKernel | null;
  private readonly sqrtD: number;
  private f32: Float32Array;
  /** Per-row int8 scale (inside the kernel memory when there is a kernel). */
  private scale: Float32Array;
  private maxScale = 0;
  private i8: Int8Array = new Int8Array(0);
  private mf32: Float32Array = new Float32Array(0);
  private cap = 0;
  private count = 0;
  private owners: string[] = [];
  private readonly rowsOf = new Map<string, number[]>();

  constructor(size: number, options: { simd?: boolean } = {}) {
    if (size > PROBE_BYTES) throw new Error(`Gallery size ${size} is over ${PROBE_BYTES}.`);
    this.size = size;
    this.sqrtD = Math.sqrt(size);
    this.strideQ = Math.ceil(size / 16) * 16;
    this.kernel = options.simd === false ? null : createDotsKernel();
    this.simd = this.kernel !== null;
    this.f32 = new Float32Array(0);
    this.scale = new Float32Array(0);
    this.reserve(1024);
  }

  get templates(): number {
    return this.count;
  }

  get users(): number {
    return this.rowsOf.size;
  }

  has(userId: string): boolean {
    return this.rowsOf.has(userId);
  }

  /*
   * Kernel memory layout (bytes):
   *   [0, PROBE_BYTES)                          the int8 probe
   *   [PROBE_BYTES, +cap*strideQ)               int8 rows (never move; grow at the end)
   *   [scalesBase, +cap*4)                      f32 row scales
   *   [outBase, +cap*4)                         f32 scratch: one approximate score per row
   */
  private scalesBase(cap = this.cap): number {
    return PROBE_BYTES + cap * this.strideQ;
  }

  private get outBase(): number {
    return this.scalesBase() + this.cap * 4;
  }

  private reserve(rows: number): void {
    if (rows <= this.cap) return;
    const cap = Math.max(rows, this.cap * 2);
    const f32 = new Float32Array(cap * this.size);
    f32.set(this.f32.subarray(0, this.count * this.size));
    this.f32 = f32;
    if (this.kernel) {
      const mem = this.kernel.memory;
      const need = this.scalesBase(cap) + cap * 8 - mem.buffer.byteLength;
      if (need > 0) mem.grow(Math.ceil(need / PAGE_BYTES));
      this.i8 = new Int8Array(mem.buffer);
      this.mf32 = new Float32Array(mem.buffer);
      // The scales move up past the grown rows (memmove: the regions may overlap).
      const from = this.scalesBase() >> 2;
      this.mf32.copyWithin(this.scalesBase(cap) >> 2, from, from + this.count);
      this.scale = this.mf32.subarray(this.scalesBase(cap) >> 2, (this.scalesBase(cap) >> 2) + cap);
    } else {
      const scale = new Float32Array(cap);
      scale.set(this.scale.subarray(0, this.count));
      this.scale = scale;
    }
    this.cap = cap;
  }

  /** Writes `v` quantised at byte offset `at` (strideQ bytes, zero padded); returns the scale. */
  private quantise(v: Float32Array, at: number): number {
    let max = 0;
    for (let i = 0; i < v.length; i++) {
      const a = Math.abs(v[i]!);
      if (a > max) max = a;
    }
    const s = max > 0 ? max / 127 : 1;
    const inv = 1 / s;
    const q = this.i8;
    for (let i = 0; i < v.length; i++) q[at + i] = Math.round(v[i]! * inv);
    q.fill(0, at + v.length, at + this.strideQ);
    return s;
  }

  /** Replaces the user's rows with these embeddings (unit vectors of length `size`). */
  setUser(userId: string, embeddings: readonly Float32Array[]): void {
    this.removeUser(userId);
    if (embeddings.length === 0) return;
    this.reserve(this.count + embeddings.length);
    const rows: number[] = [];
    for (const e of embeddings) {
      if (e.length !== this.size) throw new Error(`Gallery of size ${this.size} got an embedding of ${e.length}.`);
      const r = this.count++;
      this.f32.set(e, r * this.size);
      const sr = this.kernel ? this.quantise(e, PROBE_BYTES + r * this.strideQ) : 1;
      this.scale[r] = sr;
      if (sr > this.maxScale) this.maxScale = sr;
      this.owners[r] = userId;
      rows.push(r);
    }
    this.rowsOf.set(userId, rows);
  }

  removeUser(userId: string): void {
    const rows = this.rowsOf.get(userId);
    if (!rows) return;
    this.rowsOf.delete(userId);
    // Highest first, so a row moved down from the end is never one still to be removed.
    for (const r of [...rows].sort((a, b) => b - a)) {
      const last = --this.count;
      if (r !== last) {
        const moved = this.owners[last]!;
        this.f32.copyWithin(r * this.size, last * this.size, (last + 1) * this.size);
        this.scale[r] = this.scale[last]!;
        if (this.kernel) {
          this.i8.copyWithin(PROBE_BYTES + r * this.strideQ, PROBE_BYTES + last * this.strideQ, PROBE_BYTES + (last + 1) * this.strideQ);
        }
        this.owners[r] = moved;
        const movedRows = this.rowsOf.get(moved)!;
        movedRows[movedRows.indexOf(last)] = r;
      }
      this.owners.length = this.count;
    }
  }

  private exact(r: number, probe: Float32Array): number {
    const f = this.f32;
    const off = r * this.size;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < probe.length; i += 2) {
      s0 += f[off + i]! * probe[i]!;
      s1 += f[off + i + 1]! * probe[i + 1]!;
    }
    if (i < probe.length) s0 += f[off + i]! * probe[i]!;
    return s0 + s1;
  }

  /**
   * The best (user, score) over all probes and all rows, skipping `excludeUser`'s rows; null when
   * there is no other row. The score is the exact float32 cosine.
   */
  best(probes: readonly Float32Array[], excludeUser?: string): Match | null {
    let best = -Infinity;
    let bestRow = -1;
    const n = this.count;
    const owners = this.owners;
    const skip = (r: number) => excludeUser !== undefined && owners[r] === excludeUser;
    for (const probe of probes) {
      if (probe.length !== this.size) throw new Error(`Probe of ${probe.length} for a gallery of size ${this.size}.`);
      if (!this.kernel) {
        for (let r = 0; r < n; r++) {
          const s = this.exact(r, probe);
          if (s > best && !skip(r)) {
            best = s;
            bestRow = r;
          }
        }
        continue;
      }
      // Stage 1: approximate scores (in units of 1/sp) from the int8 kernel.
      const sp = this.quantise(probe, 0);
      this.kernel.dots8(PROBE_BYTES, n, this.strideQ, 0, this.outBase, this.scalesBase());
      const out = this.outBase >> 2;
      const approx = this.mf32.subarray(out, out + n);
      let top = -Infinity;
      if (excludeUser === undefined) {
        for (let r = 0; r < n; r++) if (approx[r]! > top) top = approx[r]!;
      } else {
        for (let r = 0; r < n; r++) if (approx[r]! > top && owners[r] !== excludeUser) top = approx[r]!;
      }
      if (top === -Infinity) continue;
      // Stage 2: exact scores for every row within 2E of the best approximate one.
      // (+0.1 % and 1e-6: slack for the float32 rounding of the approximate scores themselves)
      const e = (0.5 * this.sqrtD * (this.maxScale + sp) + 0.25 * this.size * this.maxScale * sp) * 1.001 + 1e-6;
      const bar = top - (2 * e) / sp;
      for (let r = 0; r < n; r++) {
        if (approx[r]! < bar || skip(r)) continue;
        const s = this.exact(r, probe);
        if (s > best) {
          best = s;
          bestRow = r;
        }
      }
    }
    return bestRow < 0 ? null : { userId: owners[bestRow]!, score: best };
  }
}
