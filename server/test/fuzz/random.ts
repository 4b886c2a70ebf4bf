/**
 * Fuzz randomness: the project's one seeded generator (scripts/lib/seeded-random.mjs, mulberry32)
 * with the few helpers the generators need. Nothing here is random unless it reads `r`.
 */
import { gauss, rng } from '../../../scripts/lib/seeded-random.mjs';

export type Rand = () => number;

export { gauss, rng };

/** An integer in [0, n). */
export function int(r: Rand, n: number): number {
  return Math.floor(r() * n);
}

/** An integer in [lo, hi]. */
export function between(r: Rand, lo: number, hi: number): number {
  return lo + int(r, hi - lo + 1);
}

export function pick<T>(r: Rand, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error('pick from an empty list');
  return xs[int(r, xs.length)]!;
}

export function chance(r: Rand, p: number): boolean {
  return r() < p;
}

/** Picks by weight: `[[weight, value], ...]`. */
export function weighted<T>(r: Rand, table: readonly (readonly [number, T])[]): T {
  const total = table.reduce((s, [w]) => s + w, 0);
  let x = r() * total;
  for (const [w, v] of table) {
    if ((x -= w) < 0) return v;
  }
  return table[table.length - 1]![1];
}

/** A 32-bit seed from the environment (FUZZ_SEED, decimal or 0x hex), else `fallback`. */
export function seedFromEnv(fallback: number): number {
  const s = process.env.FUZZ_SEED;
  if (s === undefined || s === '') return fallback;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer, not ${JSON.stringify(s)}`);
  return n >>> 0;
}
