/** Types of seeded-random.mjs. */
export function rng(seed: number): () => number;
export function gauss(u: () => number): number;
