/**
 * Calibration over ALL pairs of a labelled face set (bench/runners/accuracy.mjs, section calib):
 * every cross-identity pair of images is an impostor comparison, every same-identity pair a
 * genuine one. LFW has 11,817 images -> ~69.6 M impostor comparisons, so scores are never stored:
 * they go into fine histograms (bins of 1e-4 on the cosine, aligned on the 4-decimal grid the
 * product's thresholds use), from which the thresholds are exact; the impostor tail (scores above
 * a floor) is kept as (bin, identity a, identity b) for the bootstrap over identities.
 *
 * Pure code (no I/O); the decision rule is the product's: accept when score >= threshold.
 */
import { rng } from '../../scripts/lib/seeded-random.mjs';

export const BIN = 1e-4;
export const NBINS = 20001; // bin j = scores in [-1 + j * BIN, -1 + (j + 1) * BIN); the last one holds 1.0
/** Bin of a cosine score (clamped to [-1, 1]). */
export const binOf = (s) => {
  const j = Math.floor(s * 1e4) + 10000;
  return j < 0 ? 0 : j >= NBINS ? NBINS - 1 : j;
};
/** Threshold (4 decimals) at the lower edge of bin j, and the bin of a 4-decimal threshold. */
export const edgeOf = (j) => Number(((j - 10000) / 1e4).toFixed(4));
export const binOfThreshold = (t) => Math.round(t * 1e4) + 10000;

/** Unordered cross-identity and same-identity pair counts for per-identity image counts `ns`. */
export function countPairs(ns) {
  let n = 0;
  let sq = 0;
  let gen = 0;
  for (const k of ns) {
    n += k;
    sq += k * k;
    gen += (k * (k - 1)) / 2;
  }
  return { images: n, impostor: (n * n - sq) / 2, genuine: gen };
}

/**
 * Packs [{ ident, emb }] (emb: Float32Array or null = no face) into one row-major Float32Array
 * of the images with a face; `ident` = integer identity index (global over the sets pooled).
 */
export function packEmbeddings(items, dim) {
  const kept = items.filter((x) => x.emb);
  const mat = new Float32Array(kept.length * dim);
  const ident = new Int32Array(kept.length);
  kept.forEach((x, i) => {
    if (x.emb.length !== dim) throw new Error(`embedding of length ${x.emb.length}, expected ${dim}`);
    mat.set(x.emb, i * dim);
    ident[i] = x.ident;
  });
  return { mat, ident, n: kept.length, dim, skipped: items.length - kept.length };
}

/** Growable parallel typed arrays. */
class Cols {
  constructor(types, cap = 1 << 16) {
    this.types = types;
    this.n = 0;
    this.cols = types.map((T) => new T(cap));
  }
  _grow() {
    this.cols = this.cols.map((c) => {
      const d = new c.constructor(c.length * 2);
      d.set(c);
      return d;
    });
  }
  push2(x, y) {
    if (this.n === this.cols[0].length) this._grow();
    this.cols[0][this.n] = x;
    this.cols[1][this.n] = y;
    this.n++;
  }
  push3(x, y, z) {
    if (this.n === this.cols[0].length) this._grow();
    this.cols[0][this.n] = x;
    this.cols[1][this.n] = y;
    this.cols[2][this.n] = z;
    this.n++;
  }
  view(i) {
    return this.cols[i].subarray(0, this.n);
  }
}

/**
 * Accumulates impostor and genuine scores. impostor / genuine: Float64Array histograms over NBINS.
 * tail: impostor comparisons with bin >= tailBin as (bin, ident a, ident b); when it outgrows
 * `tailCap` the floor is raised so that at most half of the cap is kept (a threshold whose false
 * matches exceed what is kept can then not be bootstrapped: see `covered`).
 * genuine pairs are kept as (bin, ident) for the bootstrap (LFW: 242 k).
 */
export class PairAccumulator {
  constructor({ tailFloor = 0.3, tailCap = 4_000_000, topK = 10 } = {}) {
    this.impostor = new Float64Array(NBINS);
    this.genuine = new Float64Array(NBINS);
    this.impostorCount = 0;
    this.genuineCount = 0;
    this.tailBin = binOf(tailFloor);
    this.tailCap = tailCap;
    this.tail = new Cols([Uint16Array, Int32Array, Int32Array]);
    this.gen = new Cols([Uint16Array, Int32Array]);
    this.topK = topK;
    this.top = []; // highest impostor scores: { score, a, b } (row indices of the packed sets + their tags)
  }

  /** Keeps the tail entries with bin >= floor (and makes floor the new tail floor). */
  raiseTailFloor(floor) {
    if (floor <= this.tailBin) return this;
    const [bins, as, bs] = [this.tail.view(0), this.tail.view(1), this.tail.view(2)];
    let w = 0;
    for (let i = 0; i < bins.length; i++) {
      if (bins[i] < floor) continue;
      this.tail.cols[0][w] = bins[i];
      this.tail.cols[1][w] = as[i];
      this.tail.cols[2][w] = bs[i];
      w++;
    }
    this.tail.n = w;
    this.tailBin = floor;
    return this;
  }

  _compactTail() {
    const bins = this.tail.view(0);
    const h = new Float64Array(NBINS);
    for (let i = 0; i < bins.length; i++) h[bins[i]]++;
    let keep = 0;
    let j = NBINS - 1;
    for (; j > this.tailBin; j--) {
      if (keep + h[j] > this.tailCap / 2) break;
      keep += h[j];
    }
    this.raiseTailFloor(j + 1);
  }

  _top(score, ra, rb) {
    if (this.top.length >= this.topK && score <= this.top[this.top.length - 1].score) return;
    this.top.push({ score, a: ra, b: rb });
    this.top.sort((x, y) => y.score - x.score);
    if (this.top.length > this.topK) this.top.pop();
  }

  /**
   * Every pair of rows of packed set A with packed set B (A === B: each unordered pair i < j once).
   * Pairs with the same identity index are genuine, the others impostors. `tagA`/`tagB` name the
   * sets in `top` entries.
   */
  addBlock(A, B = A, { tagA = 'A', tagB = 'B' } = {}) {
    if (A.dim !== B.dim) throw new Error('dimension mismatch');
    const dim = A.dim;
    const ma = A.mat;
    const mb = B.mat;
    const same = A === B;
    const imp = this.impostor;
    const gen = this.genuine;
    let topMin = this.top.length >= this.topK ? this.top[this.top.length - 1].score : -Infinity;
    let nImp = 0;
    let nGen = 0;
    const row = new Float64Array(B.n);
    for (let i = 0; i < A.n; i++) {
      const oa = i * dim;
      const ia = A.ident[i];
      const j0 = same ? i + 1 : 0;
      // The dot products of row i first (a tight numeric loop), then their bookkeeping.
      for (let j = j0; j < B.n; j++) {
        const ob = j * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let k = 0;
        for (; k + 3 < dim; k += 4) {
          s0 += ma[oa + k] * mb[ob + k];
          s1 += ma[oa + k + 1] * mb[ob + k + 1];
          s2 += ma[oa + k + 2] * mb[ob + k + 2];
          s3 += ma[oa + k + 3] * mb[ob + k + 3];
        }
        for (; k < dim; k++) s0 += ma[oa + k] * mb[ob + k];
        row[j] = s0 + s1 + s2 + s3;
      }
      for (let j = j0; j < B.n; j++) {
        const s = row[j];
        let bin = Math.floor(s * 1e4) + 10000;
        if (bin < 0) bin = 0;
        else if (bin >= NBINS) bin = NBINS - 1;
        const ib = B.ident[j];
        if (ia === ib) {
          gen[bin]++;
          nGen++;
          this.gen.push2(bin, ia);
        } else {
          imp[bin]++;
          nImp++;
          if (bin >= this.tailBin) {
            this.tail.push3(bin, ia, ib);
            if (this.tail.n >= this.tailCap) this._compactTail();
          }
          if (s > topMin) {
            this._top(s, `${tagA}:${i}`, `${tagB}:${j}`);
            if (this.top.length >= this.topK) topMin = this.top[this.top.length - 1].score;
          }
        }
      }
    }
    this.impostorCount += nImp;
    this.genuineCount += nGen;
    return this;
  }

  /** A new accumulator holding this one's and `others`' counts (tail floor = the highest of them). */
  merge(...others) {
    const all = [this, ...others];
    const m = new PairAccumulator({ tailCap: Math.max(...all.map((x) => x.tailCap)) * all.length, topK: this.topK });
    m.tailBin = Math.max(...all.map((x) => x.tailBin));
    for (const x of all) {
      for (let j = 0; j < NBINS; j++) {
        m.impostor[j] += x.impostor[j];
        m.genuine[j] += x.genuine[j];
      }
      m.impostorCount += x.impostorCount;
      m.genuineCount += x.genuineCount;
      const [b, a, c] = [x.tail.view(0), x.tail.view(1), x.tail.view(2)];
      for (let i = 0; i < b.length; i++) if (b[i] >= m.tailBin) m.tail.push3(b[i], a[i], c[i]);
      const [gb, gi] = [x.gen.view(0), x.gen.view(1)];
      for (let i = 0; i < gb.length; i++) m.gen.push2(gb[i], gi[i]);
      m.top.push(...x.top);
    }
    m.top.sort((x, y) => y.score - x.score);
    m.top.length = Math.min(m.top.length, m.topK);
    return m;
  }
}

/** suffix[j] = sum of h[j..]; length NBINS + 1 (suffix[NBINS] = 0). */
export function suffixSums(h) {
  const s = new Float64Array(h.length + 1);
  for (let j = h.length - 1; j >= 0; j--) s[j] = s[j + 1] + h[j];
  return s;
}

/**
 * The lowest 4-decimal threshold whose false-match rate is <= target: the lowest bin edge t with
 * (impostor scores >= t) <= floor(target * total) (the rounded point of metrics.tarAtFar, exactly).
 * `suffix` = suffixSums(impostor histogram); `total` = the number of comparisons (a weighted total
 * in the bootstrap: then floor is not applied). Returns { bin, threshold, accepted, fmr } or null
 * when the point lies below `minBin` (the kept tail does not reach it).
 */
export function thresholdAtFmr(suffix, total, target, { minBin = 0, integer = true } = {}) {
  const allowed = integer ? Math.floor(target * total + 1e-9) : target * total;
  // suffix is non-increasing in j: find the lowest j with suffix[j] <= allowed.
  let lo = 0;
  let hi = NBINS; // suffix[NBINS] = 0 <= allowed
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (suffix[mid] <= allowed) hi = mid;
    else lo = mid + 1;
  }
  if (lo < minBin) return null;
  return { bin: lo, threshold: lo >= NBINS ? 1.0001 : edgeOf(lo), accepted: suffix[lo], allowed, fmr: suffix[lo] / total };
}

/** Rates at a 4-decimal threshold t from a histogram's suffix sums. */
export function rateAt(suffix, total, t) {
  const j = Math.max(0, Math.min(NBINS, binOfThreshold(t)));
  return { threshold: t, accepted: suffix[j], total, rate: total ? suffix[j] / total : null };
}

/**
 * Rows [fmr, lowest 4-decimal cosine with FMR <= fmr] for the rates at which at least
 * `minAccepted` false matches are allowed (the shape of IMPOSTOR_TAIL in src/core/calibration.ts).
 */
export function tailTable(suffix, total, fmrs = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6], minAccepted = 10) {
  const out = [];
  for (const f of fmrs) {
    if (Math.floor(f * total + 1e-9) < minAccepted) break;
    out.push([f, thresholdAtFmr(suffix, total, f).threshold]);
  }
  return out;
}

/** The project's one seeded generator (mulberry32), under the name the tests use. */
export { rng as mulberry32 };

/** Percentile interval of xs (nulls dropped): { lower, upper, level, n }. */
export function percentileInterval(xs, level = 0.95) {
  const v = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { lower: null, upper: null, level, n: 0 };
  const q = (p) => {
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    return v[lo] + (v[Math.min(v.length - 1, lo + 1)] - v[lo]) * (h - lo);
  };
  return { lower: q((1 - level) / 2), upper: q(1 - (1 - level) / 2), level, n: v.length };
}

/**
 * Bootstrap over identities (pairs sharing an identity are not independent). Each replicate draws,
 * within each group (data set), as many identities as the group has, with replacement; identity a
 * drawn w_a times weighs its genuine pairs by w_a and its impostor pairs with b by w_a * w_b (the
 * pairs between two copies of one identity are not counted). For each replicate: the threshold at
 * each target FMR (exact on the weighted histogram of the kept tail), TAR there for each genuine
 * set, and the FMR at each fixed threshold.
 *
 * acc: a PairAccumulator; identities: [{ ident, n (images with a face), group }];
 * genuineSets: { name: { bins: Int32Array (-1 = never accepted, e.g. no face), ident: Int32Array } }.
 * Returns { replicates, fmr: { [target]: { threshold: [..], tar: { [set]: [..] } } }, fixed: { [t]: [..] } }.
 */
export function bootstrapIdentities(acc, { identities, genuineSets, targets, fixed = [], replicates = 200, seed = 1 }) {
  const rnd = rng(seed);
  const maxId = Math.max(...identities.map((x) => x.ident)) + 1;
  const groups = new Map();
  for (const x of identities) {
    if (!groups.has(x.group)) groups.set(x.group, []);
    groups.get(x.group).push(x);
  }
  const nOf = new Float64Array(maxId);
  for (const x of identities) nOf[x.ident] = x.n;
  const [tb, ta, tc] = [acc.tail.view(0), acc.tail.view(1), acc.tail.view(2)];
  const out = { replicates, tailFloor: edgeOf(acc.tailBin), fmr: {}, fixed: {}, uncovered: 0 };
  for (const t of targets) out.fmr[t] = { threshold: [], tar: Object.fromEntries(Object.keys(genuineSets).map((k) => [k, []])) };
  for (const t of fixed) out.fixed[t] = [];
  const w = new Float64Array(maxId);
  const h = new Float64Array(NBINS);
  for (let r = 0; r < replicates; r++) {
    w.fill(0);
    for (const members of groups.values()) for (let i = 0; i < members.length; i++) w[members[Math.floor(rnd() * members.length)].ident]++;
    // Weighted impostor total: sum over a < b of w_a w_b n_a n_b = ((sum w n)^2 - sum (w n)^2) / 2.
    let s1 = 0;
    let s2 = 0;
    for (let a = 0; a < maxId; a++) {
      const v = w[a] * nOf[a];
      s1 += v;
      s2 += v * v;
    }
    const total = (s1 * s1 - s2) / 2;
    h.fill(0);
    for (let i = 0; i < tb.length; i++) {
      const x = w[ta[i]] * w[tc[i]];
      if (x) h[tb[i]] += x;
    }
    const suf = suffixSums(h);
    for (const t of targets) {
      const p = thresholdAtFmr(suf, total, t, { minBin: acc.tailBin + 1, integer: false });
      out.fmr[t].threshold.push(p ? p.threshold : null);
      if (!p) out.uncovered++;
      for (const [name, g] of Object.entries(genuineSets)) {
        if (!p) {
          out.fmr[t].tar[name].push(null);
          continue;
        }
        let acc1 = 0;
        let tot = 0;
        for (let i = 0; i < g.bins.length; i++) {
          const x = w[g.ident[i]];
          if (!x) continue;
          tot += x;
          if (g.bins[i] >= p.bin) acc1 += x;
        }
        out.fmr[t].tar[name].push(tot ? acc1 / tot : null);
      }
    }
    for (const t of fixed) {
      const j = binOfThreshold(t);
      out.fixed[t].push(j >= acc.tailBin ? suf[j] / total : null);
    }
  }
  return out;
}
