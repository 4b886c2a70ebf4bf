/**
 * PackedGallery: the 1:N gallery of one model in one contiguous Float32Array (a user index beside
 * it), for identify on the device (LocalVerifier, hence the kiosk). It gives decideIdentify()'s
 * decision on the same templates, with the same scores bit for bit:
 *
 * 1. fast scan: every row's dot product with the probe, times 1/|row| and 1/|probe|, best per user
 *    in a Float64Array scratch indexed by the user's ordinal. With WebAssembly SIMD (dim a multiple
 *    of 16): float32 lanes, four accumulators, in WASM memory; else plain JS, four float64
 *    accumulators per row. Either sums in another order (and the WASM one in float32) than
 *    match.ts's cosine(), so a fast score is close to the exact one, within a bound (below);
 * 2. exact re-rank: each user whose fast score is within that bound (twice over) of the 5th best
 *    fast score is scored again with cosine()'s own arithmetic over their rows (the exact top 5 is
 *    always among them), then ranked as scoreUsers() ranks (score, then user id);
 * 3. open set: the best user is named only when their exact score reaches the threshold (the
 *    caller's: LocalVerifier sizes it with identifyThreshold(size)).
 *
 * add appends; remove swaps the last row into the hole (O(dim) per row): enrol / delete never
 * rebuild. The arrays double as they fill. No allocation per probe beyond the small result.
 */
import { FaceLoginError } from './errors.js';
import type { IdentifyDecision, TemplateLike, UserScore } from './match.js';
import type { Template } from './types.js';

/** How many candidates identify() reports (decideIdentify's `ranked.slice(0, 5)`). */
export const GALLERY_CANDIDATES = 5;

export type GalleryEmbedding = Float32Array | { readonly embedding: Float32Array };

export interface GalleryIdentifyOptions {
  /** Cosine threshold: the best user is named only at or above it. */
  threshold: number;
}

export interface PackedGalleryOptions {
  /** Rows to allocate up front (the array then doubles as it fills). Default 64. */
  capacity?: number;
  /**
   * The fast scan: 'auto' (default) = WebAssembly SIMD where the runtime has it (and the page's
   * CSP allows WebAssembly) and the dimension is a multiple of 16, else JS; 'js' = always JS.
   * Both give the same decisions and scores.
   */
  kernel?: 'auto' | 'js';
}

/**
 * The SIMD kernel, 349 bytes (assembled by hand; WebAssembly text):
 *
 *   (module (import "m" "mem" (memory 1))
 *     (func (export "dots") (param $vec i32) (param $rows i32) (param $dim i32) (param $probe i32) (param $out i32)
 *       (local $r i32) (local $p i32) (local $q i32) (local $end i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
 *       (block (loop                                          ;; one row per turn
 *         (br_if 1 (i32.ge_u (local.get $r) (local.get $rows)))
 *         (local.set $a0 (v128.const i32x4 0 0 0 0)) ... (local.set $a3 (v128.const i32x4 0 0 0 0))
 *         (local.set $p (local.get $vec)) (local.set $q (local.get $probe))
 *         (local.set $end (i32.add (local.get $vec) (i32.shl (local.get $dim) (i32.const 2))))
 *         (loop                                               ;; 16 floats per turn, 4 accumulators
 *           (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $p)) (v128.load offset=0 (local.get $q)))))
 *           ... $a1 offset=16, $a2 offset=32, $a3 offset=48 ...
 *           (local.set $p (i32.add (local.get $p) (i32.const 64))) (local.set $q (i32.add (local.get $q) (i32.const 64)))
 *           (br_if 0 (i32.lt_u (local.get $p) (local.get $end))))
 *         (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
 *         (f32.store (local.get $out) (f32.add (f32.add (lane 0) (lane 1)) (f32.add (lane 2) (lane 3))))
 *         (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *         (local.set $vec (local.get $end)) (local.set $r (i32.add (local.get $r) (i32.const 1)))
 *         (br 0))))
 *
 * dots(vec, rows, dim, probe, out): out[r] = sum_k vec[r * dim + k] * probe[k] in float32, for
 * r < rows (byte offsets; dim a multiple of 16).
 */
const DOTS_WASM =
  'AGFzbQEAAAABCQFgBX9/f39/AAIKAQFtA21lbQIAAQMCAQAHCAEEZG90cwAACq0CAaoCAgR/BHsCQANAIAUgAU8NAf0MAAAAAAAAAAAAAAAAAAAAACEJ/QwAAAAAAAAAAAAAAAAAAAAAIQr9DAAAAAAAAAAAAAAAAAAAAAAhC/0MAAAAAAAAAAAAAAAAAAAAACEMIAAhBiADIQcgACACQQJ0aiEIA0AgCSAG/QAEACAH/QAEAP3mAf3kASEJIAogBv0ABBAgB/0ABBD95gH95AEhCiALIAb9AAQgIAf9AAQg/eYB/eQBIQsgDCAG/QAEMCAH/QAEMP3mAf3kASEMIAZBwABqIQYgB0HAAGohByAGIAhJDQALIAkgCv3kASALIAz95AH95AEhCSAEIAn9HwAgCf0fAZIgCf0fAiAJ/R8DkpI4AgAgBEEEaiEEIAghACAFQQFqIQUMAAsLCw==';

type DotsFn = (vec: number, rows: number, dim: number, probe: number, out: number) => void;

let dotsModule: WebAssembly.Module | null | undefined;
/** The compiled kernel, or null where WebAssembly (or its SIMD) is missing or forbidden (CSP). */
function simdModule(): WebAssembly.Module | null {
  if (dotsModule !== undefined) return dotsModule;
  dotsModule = null;
  try {
    const W = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (W && typeof atob === 'function') {
      const bytes = Uint8Array.from(atob(DOTS_WASM), (c) => c.charCodeAt(0));
      if (W.validate(bytes)) dotsModule = new W.Module(bytes); // 349 bytes: synchronous compile is allowed
    }
  } catch {
    dotsModule = null;
  }
  return dotsModule;
}

/**
 * How far a fast score may be from the exact cosine. JS: float64 sums of exact products in another
 * order, times 1/|row| and 1/|probe| instead of a division: below 1e-12. WASM: float32 products
 * and sums, the longest chain dim/16 + 4 additions, each rounding by at most 2^-24 of the sum of
 * |products| <= |probe| |row|: (dim/16 + 5) 2^-24 in cosine units, taken four times over. Only for
 * rows and probes of moderate norm (WASM_NORMS), where float32 neither overflows nor underflows.
 */
const JS_MARGIN = 1e-9;
const wasmMargin = (dim: number): number => 4 * (dim / 16 + 5) * 2 ** -24;
/** Squared norms for which the float32 kernel's bound holds (embeddings are unit vectors). */
const WASM_NORMS = [1e-6, 1e6] as const;
const wasmSafe = (ss: number): boolean => ss >= WASM_NORMS[0] && ss <= WASM_NORMS[1];
/** A row the float32 kernel must not score (from its stored 1/|row|, the same test on add and remove). */
const oddRow = (inv: number): boolean => inv !== 0 && !wasmSafe(1 / (inv * inv)); // a zero row scores 0 either way

const embeddingOf = (t: GalleryEmbedding): Float32Array => (t instanceof Float32Array ? t : t.embedding);

export class PackedGallery {
  private dim = 0;
  private rows = 0;
  private users = 0;
  private capacity: number;
  private vectors: Float32Array;
  /** 1 / |row| (0 for a zero row), for the fast scores. */
  private invNorms: Float64Array;
  /** Row -> user ordinal. */
  private userOf: Int32Array;
  /** Ordinal -> user id, and the user's rows (in no particular order). */
  private userIds: string[] = [];
  private rowsOf: number[][] = [];
  private ordinal = new Map<string, number>();
  /** Scratch: best score per user ordinal during one identify. */
  private best: Float64Array;
  private disposed = false;
  private readonly wantWasm: boolean;
  /** WASM mode: the memory holds [vectors: capacity x dim][dots: capacity][probe: dim] (float32). */
  private mem: WebAssembly.Memory | null = null;
  private dotsFn: DotsFn | null = null;
  private dots: Float32Array = new Float32Array(0);
  private probeBuf: Float32Array = new Float32Array(0);
  /** Rows outside WASM_NORMS (never, for embeddings): while there are any, the JS scan runs. */
  private oddRows = 0;

  constructor(options: PackedGalleryOptions = {}) {
    this.capacity = Math.max(1, Math.ceil(options.capacity ?? 64));
    this.wantWasm = (options.kernel ?? 'auto') === 'auto';
    this.vectors = new Float32Array(0);
    this.invNorms = new Float64Array(this.capacity);
    this.userOf = new Int32Array(this.capacity);
    this.best = new Float64Array(16);
  }

  /** The fast scan in use: 'wasm-simd' or 'js' (see PackedGalleryOptions.kernel). */
  get kernel(): 'wasm-simd' | 'js' {
    return this.dotsFn && this.oddRows === 0 ? 'wasm-simd' : 'js';
  }

  /** A gallery of these templates (e.g. a store's allTemplates(modelId)). */
  static from(templates: Iterable<TemplateLike>, options: PackedGalleryOptions = {}): PackedGallery {
    const list = Array.isArray(templates) ? (templates as readonly TemplateLike[]) : [...templates];
    const g = new PackedGallery({ ...options, capacity: options.capacity ?? list.length });
    for (const t of list) g.addRow(t.userId, t.embedding);
    return g;
  }

  /** Templates (rows). The identify threshold counts these: a user with five templates counts five. */
  get size(): number {
    return this.rows;
  }

  /** Users with at least one template. */
  get userCount(): number {
    return this.users;
  }

  /** Embedding length, or 0 while nothing was ever added. */
  get dimension(): number {
    return this.dim;
  }

  /** Bytes held by the packed arrays (vectors, norms, user index), for reports. */
  get bytes(): number {
    return this.vectors.byteLength + this.invNorms.byteLength + this.userOf.byteLength + this.best.byteLength;
  }

  has(userId: string): boolean {
    return this.ordinal.has(userId);
  }

  /** Templates of one user. */
  templatesOf(userId: string): number {
    const u = this.ordinal.get(userId);
    return u === undefined ? 0 : this.rowsOf[u]!.length;
  }

  /** Adds templates to `userId` (creating the user). */
  add(userId: string, templates: readonly GalleryEmbedding[]): void {
    this.live();
    const es = templates.map(embeddingOf);
    this.checkDims(es);
    this.reserve(this.rows + es.length);
    for (const e of es) this.addRow(userId, e);
  }

  /** Removes the user and every template of theirs. False when there was no such user. */
  remove(userId: string): boolean {
    this.live();
    const u = this.ordinal.get(userId);
    if (u === undefined) return false;
    const mine = this.rowsOf[u]!;
    while (mine.length) this.removeRow(mine.pop()!);
    // Keep ordinals dense: the last user takes this one's ordinal.
    const last = this.users - 1;
    if (u !== last) {
      const movedId = this.userIds[last]!;
      const movedRows = this.rowsOf[last]!;
      this.userIds[u] = movedId;
      this.rowsOf[u] = movedRows;
      for (const r of movedRows) this.userOf[r] = u;
      this.ordinal.set(movedId, u);
    }
    this.userIds.pop();
    this.rowsOf.pop();
    this.ordinal.delete(userId);
    this.users--;
    return true;
  }

  /** The user's templates become exactly these (none: the user is removed). */
  replace(userId: string, templates: readonly GalleryEmbedding[]): void {
    this.live();
    this.checkDims(templates.map(embeddingOf)); // a bad call changes nothing
    this.remove(userId);
    if (templates.length) this.add(userId, templates);
  }

  /** Empties the gallery (keeps its memory for refilling). */
  clear(): void {
    this.live();
    this.rows = 0;
    this.users = 0;
    this.dim = 0;
    this.oddRows = 0;
    this.userIds = [];
    this.rowsOf = [];
    this.ordinal.clear();
  }

  /** Frees the arrays. Idempotent; any later call but dispose() fails with `disposed`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rows = 0;
    this.users = 0;
    this.vectors = new Float32Array(0);
    this.invNorms = new Float64Array(0);
    this.userOf = new Int32Array(0);
    this.best = new Float64Array(0);
    this.mem = null;
    this.dotsFn = null;
    this.dots = new Float32Array(0);
    this.probeBuf = new Float32Array(0);
    this.userIds = [];
    this.rowsOf = [];
    this.ordinal.clear();
  }

  /**
   * 1:N open set, decideIdentify's decision on this gallery's templates: the best user when
   * their best template's cosine reaches `threshold`, else unknown (userId null); the score is
   * the best user's (-1 for an empty gallery); candidates are the top 5 users, best first.
   */
  identify(probe: Float32Array, options: GalleryIdentifyOptions): IdentifyDecision {
    this.live();
    const { threshold } = options;
    if (this.rows === 0) return { userId: null, score: -1, threshold, candidates: [] };
    if (probe.length !== this.dim) {
      throw new FaceLoginError('invalid-input', `Embedding sizes differ (${probe.length} vs ${this.dim}).`);
    }
    const margin = this.scan(probe);
    const candidates = this.top(probe, GALLERY_CANDIDATES, 2 * margin);
    const top = candidates[0]!;
    return { userId: top.score >= threshold ? top.userId : null, score: top.score, threshold, candidates };
  }

  /** best[u] ~ max over u's rows of cosine(probe, row) (WASM or JS); returns the bound on |fast - exact|. */
  private scan(probe: Float32Array): number {
    const dim = this.dim;
    let na = 0;
    for (let k = 0; k < dim; k++) na += probe[k]! * probe[k]!;
    const invA = na > 0 ? 1 / Math.sqrt(na) : 0;
    const best = this.best;
    best.fill(-Infinity, 0, this.users);
    const n = this.rows;
    const inv = this.invNorms;
    const userOf = this.userOf;
    if (this.dotsFn && this.oddRows === 0 && wasmSafe(na)) {
      this.probeBuf.set(probe);
      this.dotsFn(0, n, dim, this.probeBuf.byteOffset, this.dots.byteOffset);
      const dots = this.dots;
      for (let r = 0; r < n; r++) {
        const s = dots[r]! * inv[r]! * invA;
        const u = userOf[r]!;
        if (s > best[u]!) best[u] = s;
      }
      return wasmMargin(dim);
    }
    const v = this.vectors;
    const d4 = dim - (dim % 4);
    for (let r = 0, o = 0; r < n; r++, o += dim) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k < d4; k += 4) {
        s0 += probe[k]! * v[o + k]!;
        s1 += probe[k + 1]! * v[o + k + 1]!;
        s2 += probe[k + 2]! * v[o + k + 2]!;
        s3 += probe[k + 3]! * v[o + k + 3]!;
      }
      for (; k < dim; k++) s0 += probe[k]! * v[o + k]!;
      const s = (s0 + s1 + (s2 + s3)) * inv[r]! * invA;
      const u = userOf[r]!;
      if (s > best[u]!) best[u] = s;
    }
    return JS_MARGIN;
  }

  /**
   * The k best users, best first, with exact scores: every user whose fast score is within
   * `margin` (twice the fast scan's bound) of the k-th fast score, ties and near-ties included, is
   * scored again exactly (cosine()'s arithmetic over their rows), then ranked as scoreUsers()
   * ranks them. A user of the exact top k has a fast score >= (exact k-th) - bound >= (fast k-th)
   * - 2 bound, so the exact top k is always among them.
   */
  private top(probe: Float32Array, k: number, margin: number): UserScore[] {
    const best = this.best;
    const users = this.users;
    // The k-th largest fast score: a short descending list.
    const kth: number[] = [];
    for (let u = 0; u < users; u++) {
      const s = best[u]!;
      if (kth.length === k && !(s > kth[k - 1]!)) continue;
      let j = kth.length < k ? kth.length : k - 1;
      while (j > 0 && kth[j - 1]! < s) {
        kth[j] = kth[j - 1]!;
        j--;
      }
      kth[j] = s;
    }
    const cut = kth[kth.length - 1]! - margin;
    const out: UserScore[] = [];
    for (let u = 0; u < users; u++) if (best[u]! >= cut) out.push({ userId: this.userIds[u]!, score: this.exactBest(probe, u) });
    out.sort((a, b) => b.score - a.score || (a.userId < b.userId ? -1 : 1));
    if (out.length > k) out.length = k;
    return out;
  }

  /** max over u's rows of cosine(probe, row), computed exactly as match.ts's cosine() does. */
  private exactBest(probe: Float32Array, u: number): number {
    const dim = this.dim;
    const v = this.vectors;
    let best: number | undefined;
    for (const r of this.rowsOf[u]!) {
      const o = r * dim;
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let k = 0; k < dim; k++) {
        const x = probe[k]!;
        const y = v[o + k]!;
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      const s = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
      if (best === undefined || s > best) best = s;
    }
    return best!;
  }

  private live(): void {
    if (this.disposed) throw new FaceLoginError('disposed', 'This gallery has been disposed.');
  }

  private checkDims(es: readonly Float32Array[]): void {
    let dim = this.rows > 0 ? this.dim : 0;
    for (const e of es) {
      if (!(e instanceof Float32Array) || e.length === 0) throw new FaceLoginError('invalid-input', 'A gallery template must be a non-empty Float32Array.');
      if (dim === 0) dim = e.length;
      else if (e.length !== dim) throw new FaceLoginError('invalid-input', `Embedding sizes differ (${e.length} vs ${dim}).`);
    }
  }

  /** Room for `rows` rows: the arrays double until they fit (the vectors once the dimension is known). */
  private reserve(rows: number): void {
    let cap = this.capacity;
    while (cap < rows) cap *= 2;
    if (cap !== this.capacity) {
      const invNorms = new Float64Array(cap);
      invNorms.set(this.invNorms.subarray(0, this.rows));
      const userOf = new Int32Array(cap);
      userOf.set(this.userOf.subarray(0, this.rows));
      this.invNorms = invNorms;
      this.userOf = userOf;
      this.capacity = cap;
    }
    const dim = this.dim;
    if (dim === 0) return;
    if (this.mem || (this.wantWasm && dim % 16 === 0 && this.vectors.length === 0 && this.useWasm())) {
      if (this.vectors.length === cap * dim && this.probeBuf.length === dim) return;
      // [vectors][dots][probe]: the vectors stay where they are as the memory grows.
      const mem = this.mem!;
      const bytes = (cap * dim + cap + dim) * 4;
      try {
        if (mem.buffer.byteLength < bytes) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
      } catch {
        // The memory cannot grow (the engine's limit): go on in JS memory.
        const vectors = new Float32Array(cap * dim);
        vectors.set(this.vectors.subarray(0, this.rows * dim));
        this.vectors = vectors;
        this.mem = null;
        this.dotsFn = null;
        return;
      }
      this.vectors = new Float32Array(mem.buffer, 0, cap * dim);
      this.dots = new Float32Array(mem.buffer, cap * dim * 4, cap);
      this.probeBuf = new Float32Array(mem.buffer, (cap * dim + cap) * 4, dim);
      return;
    }
    if (this.vectors.length < cap * dim) {
      const vectors = new Float32Array(cap * dim);
      vectors.set(this.vectors.subarray(0, this.rows * dim));
      this.vectors = vectors;
    }
  }

  /** WASM mode from now on, if the kernel can be instantiated here. */
  private useWasm(): boolean {
    const m = simdModule();
    if (!m) return false;
    try {
      const mem = new WebAssembly.Memory({ initial: 1 });
      const instance = new WebAssembly.Instance(m, { m: { mem } });
      this.dotsFn = instance.exports['dots'] as DotsFn;
      this.mem = mem;
      return true;
    } catch {
      return false;
    }
  }

  /** Appends one row (dimension already checked by the caller, or checked here for from()). */
  private addRow(userId: string, e: Float32Array): void {
    if (this.rows === 0 && this.dim !== e.length) {
      this.checkDims([e]);
      // The first row (again, once the gallery is empty) sets the dimension: a fresh layout.
      this.dim = e.length;
      this.vectors = new Float32Array(0);
      this.mem = null;
      this.dotsFn = null;
      this.oddRows = 0;
    } else if (e.length !== this.dim) {
      this.checkDims([e]);
    }
    this.reserve(this.rows + 1);
    const r = this.rows++;
    const dim = this.dim;
    this.vectors.set(e, r * dim);
    let nb = 0;
    for (let k = 0; k < dim; k++) nb += e[k]! * e[k]!;
    this.invNorms[r] = nb > 0 ? 1 / Math.sqrt(nb) : 0;
    if (oddRow(this.invNorms[r]!)) this.oddRows++;
    let u = this.ordinal.get(userId);
    if (u === undefined) {
      u = this.users++;
      this.ordinal.set(userId, u);
      this.userIds[u] = userId;
      this.rowsOf[u] = [];
      if (this.best.length < this.users) {
        const best = new Float64Array(Math.max(16, this.best.length * 2));
        this.best = best;
      }
    }
    this.userOf[r] = u;
    this.rowsOf[u]!.push(r);
  }

  /** Swap-remove: the last row moves into `r`. The caller has taken `r` out of its user's list. */
  private removeRow(r: number): void {
    const last = this.rows - 1;
    if (oddRow(this.invNorms[r]!)) this.oddRows--;
    if (r !== last) {
      const dim = this.dim;
      this.vectors.copyWithin(r * dim, last * dim, last * dim + dim);
      this.invNorms[r] = this.invNorms[last]!;
      const u = this.userOf[last]!;
      this.userOf[r] = u;
      const list = this.rowsOf[u]!;
      list[list.indexOf(last)] = r;
    }
    this.rows--;
  }
}

// ---------------------------------------------------------------------------------------------
// Following a TemplateStore without re-reading it

/** One write to a template store, as the store saw it commit. */
export type TemplateChange =
  | { readonly kind: 'save'; readonly userId: string; readonly modelId: string; readonly replace: boolean; readonly templates: readonly Template[] }
  | { readonly kind: 'delete'; readonly userId: string };

/**
 * A committed write with the store's revision() just before and just after it (read in the
 * write's own transaction for IndexedDB). A gallery read at revision `before` plus `change` is the
 * store at revision `after`; one read at any other revision must be read again.
 */
export interface TemplateChangeEvent {
  readonly before: string;
  readonly after: string;
  readonly change: TemplateChange;
}

/** Stores that report their own writes (MemoryTemplateStore, IdbTemplateStore): LocalVerifier then updates its gallery in place. */
export interface TemplateChangeSource {
  /** Calls `listener` after each save / delete made through this object commits. Returns the unsubscribe. */
  onTemplateChange(listener: (e: TemplateChangeEvent) => void): () => void;
}

/** The listeners of one TemplateChangeSource: a listener's failure never reaches the write that is already committed. */
export class TemplateChangeListeners {
  private readonly set = new Set<(e: TemplateChangeEvent) => void>();

  get size(): number {
    return this.set.size;
  }

  add(listener: (e: TemplateChangeEvent) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(e: TemplateChangeEvent): void {
    for (const l of this.set) {
      try {
        l(e);
      } catch {
        // The write is committed: a listener's failure is its own.
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}

export function isTemplateChangeSource(store: unknown): store is TemplateChangeSource {
  return typeof (store as Partial<TemplateChangeSource> | null)?.onTemplateChange === 'function';
}

/**
 * Applies a store change to a gallery of `modelId`. A save of another model leaves the gallery as
 * it is (its revision still moves); a delete removes the user whatever the model.
 */
export function applyTemplateChange(gallery: PackedGallery, modelId: string, change: TemplateChange): void {
  if (change.kind === 'delete') {
    gallery.remove(change.userId);
    return;
  }
  if (change.modelId !== modelId) return;
  if (change.replace) gallery.replace(change.userId, change.templates);
  else gallery.add(change.userId, change.templates);
}
