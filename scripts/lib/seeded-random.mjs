// @ts-check
/**
 * Seeded randomness for tests, checks and benchmarks: the same numbers in every run, on Node and
 * in a page. The one copy for scripts/models/, bench/, tests/unit/ and server/test/ (types in
 * seeded-random.d.mts, for the TypeScript that imports it).
 */

/**
 * mulberry32: a uniform generator in [0, 1) from a 32-bit seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal sample (Box-Muller) from a uniform source.
 * @param {() => number} u
 */
export function gauss(u) {
  return Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}
