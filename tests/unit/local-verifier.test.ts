import { describe, expect, it } from 'vitest';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { LocalVerifier } from '../../src/adapters/verifier/local-verifier.js';
import type { TemplateStore } from '../../src/core/types.js';
import { DEFAULT_MODEL_ID, DEFAULT_THRESHOLD, identifyThreshold } from '../../src/core/calibration.js';
import { rng } from '../../scripts/lib/seeded-random.mjs';

const DIM = 192;
const unit = (v: number[]): Float32Array => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};
const randomFace = (r: () => number) => unit(Array.from({ length: DIM }, () => r() - 0.5));
/** A unit vector at cosine c to `b`. */
function atCosine(b: Float32Array, c: number, r: () => number): Float32Array {
  const n = randomFace(r);
  const d = n.reduce((a, x, k) => a + x * b[k]!, 0);
  const o = unit(Array.from(n, (x, k) => x - d * b[k]!));
  return unit(Array.from(b, (x, k) => c * x + Math.sqrt(1 - c * c) * o[k]!));
}

describe('LocalVerifier identify is open-set with a size-aware threshold', () => {
  const MODEL = DEFAULT_MODEL_ID;
  async function gallery(users: number) {
    const r = rng(7);
    const store = new MemoryTemplateStore();
    const faces: Float32Array[] = [];
    for (let i = 0; i < users; i++) {
      const f = randomFace(r);
      faces.push(f);
      await store.saveTemplates(`u${i}`, MODEL, [{ embedding: f, pose: 'center' }]);
    }
    return { store, faces, r };
  }

  it('a near-threshold probe is someone in a tiny gallery and a stranger in a big one', async () => {
    const small = await gallery(3);
    const v3 = new LocalVerifier(small.store, () => DEFAULT_THRESHOLD);
    const probe3 = atCosine(small.faces[1]!, 0.465, small.r);
    expect(identifyThreshold(3)).toBe(DEFAULT_THRESHOLD);
    expect((await v3.identify(probe3, MODEL)).userId).toBe('u1');

    const big = await gallery(200);
    const v200 = new LocalVerifier(big.store, () => DEFAULT_THRESHOLD);
    const probe = atCosine(big.faces[1]!, 0.465, big.r);
    const res = await v200.identify(probe, MODEL);
    expect(res.userId).toBeNull();
    expect(res.threshold).toBe(identifyThreshold(200));
    expect(res.threshold).toBeGreaterThan(0.55);
    // 1:1 verify of the same probe is still decided at the 1:1 threshold.
    expect((await v200.verify('u1', probe, MODEL)).accepted).toBe(true);
    // A clear match is still found in the big gallery.
    expect((await v200.identify(atCosine(big.faces[1]!, 0.7, big.r), MODEL)).userId).toBe('u1');
    // identifyFpir: null restores the fixed threshold (and the false positive).
    const fixed = new LocalVerifier(big.store, () => DEFAULT_THRESHOLD, { identifyFpir: null });
    expect((await fixed.identify(probe, MODEL)).userId).toBe('u1');
  });

  it('a model without a measured tail (custom embedder) is identified at the 1:1 threshold', async () => {
    const r = rng(9);
    const store = new MemoryTemplateStore();
    const faces = Array.from({ length: 200 }, () => randomFace(r));
    for (const [i, f] of faces.entries()) await store.saveTemplates(`u${i}`, 'custom', [{ embedding: f, pose: 'center' }]);
    const res = await new LocalVerifier(store, () => DEFAULT_THRESHOLD).identify(atCosine(faces[3]!, 0.465, r), 'custom');
    expect(res.threshold).toBe(DEFAULT_THRESHOLD);
    expect(res.userId).toBe('u3');
  });

  it('keeps the gallery in memory until the store changes', async () => {
    const g = await gallery(50);
    let reads = 0;
    const realAll = g.store.allTemplates.bind(g.store);
    g.store.allTemplates = async (m: string) => {
      reads++;
      return realAll(m);
    };
    const v = new LocalVerifier(g.store, () => DEFAULT_THRESHOLD);
    const probe = atCosine(g.faces[7]!, 0.8, g.r);
    for (let i = 0; i < 5; i++) expect((await v.identify(probe, MODEL)).userId).toBe('u7');
    expect(reads).toBe(1);
    // A new user is found at once; a deleted one is gone at once: the store reports its own writes
    // and the packed gallery follows them without reading the store again (tests/unit/gallery.test.ts).
    const newcomer = randomFace(g.r);
    await g.store.saveTemplates('newcomer', MODEL, [{ embedding: newcomer, pose: 'center' }]);
    expect((await v.identify(atCosine(newcomer, 0.8, g.r), MODEL)).userId).toBe('newcomer');
    expect(reads).toBe(1);
    await g.store.deleteUser('u7');
    expect((await v.identify(probe, MODEL)).userId).toBeNull();
    expect(reads).toBe(1);
    // A store without revision() is read on every call.
    const plain = { allTemplates: (m: string) => g.store.allTemplates(m) } as unknown as TemplateStore; // identify needs nothing else
    const v2 = new LocalVerifier(plain, () => DEFAULT_THRESHOLD);
    await v2.identify(probe, MODEL);
    await v2.identify(probe, MODEL);
    expect(reads).toBe(3);
  });

  it('the page threshold is a floor', async () => {
    const g = await gallery(3);
    const v = new LocalVerifier(g.store, () => 0.8);
    expect((await v.identify(atCosine(g.faces[0]!, 0.7, g.r), MODEL)).userId).toBeNull();
    expect(() => new LocalVerifier(g.store, () => 0.5, { identifyFpir: 2 })).toThrow(RangeError);
  });
});
