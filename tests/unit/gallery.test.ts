import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { applyTemplateChange, isTemplateChangeSource, PackedGallery } from '../../src/core/gallery.js';
import { decideIdentify, type TemplateLike } from '../../src/core/match.js';
import { FaceLoginError } from '../../src/core/errors.js';
import { MemoryTemplateStore } from '../../src/adapters/store/memory-template-store.js';
import { IdbTemplateStore } from '../../src/adapters/store/idb-template-store.js';
import { LocalVerifier } from '../../src/adapters/verifier/local-verifier.js';
import { DEFAULT_MODEL_ID, DEFAULT_THRESHOLD, identifyThreshold } from '../../src/core/calibration.js';
import { gauss, rng } from '../../scripts/lib/seeded-random.mjs';

function unit(dim: number, r: () => number): Float32Array {
  const v = new Float32Array(dim);
  let ss = 0;
  for (let k = 0; k < dim; k++) {
    v[k] = gauss(r);
    ss += v[k]! * v[k]!;
  }
  const inv = 1 / Math.sqrt(ss);
  for (let k = 0; k < dim; k++) v[k]! *= inv;
  return v;
}

/** `base` plus noise of norm ~`eps`, renormalised (eps 0: an exact copy). */
function near(base: Float32Array, eps: number, r: () => number): Float32Array {
  if (eps === 0) return base.slice();
  const n = unit(base.length, r);
  const v = base.map((x, k) => x + eps * n[k]!);
  const s = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / s);
}

const ops = { add: 0, remove: 0, replace: 0, probes: 0, accepted: 0, exactTies: 0, atThreshold: 0, wasm: 0, js: 0 };

/** The reference: the templates as the store would return them, in order. */
class Reference {
  templates: TemplateLike[] = [];
  add(userId: string, es: readonly Float32Array[]) {
    for (const embedding of es) this.templates.push({ userId, embedding });
  }
  remove(userId: string) {
    this.templates = this.templates.filter((t) => t.userId !== userId);
  }
  users() {
    return new Set(this.templates.map((t) => t.userId));
  }
}

/** A random probe: fresh, a copy or near-copy of a stored template, or the mean of two users' templates (near-tie). */
function probeFor(ref: Reference, dim: number, r: () => number): Float32Array {
  const ts = ref.templates;
  const pick = () => ts[Math.floor(r() * ts.length)]!.embedding;
  const c = r();
  if (ts.length === 0 || c < 0.2) return unit(dim, r);
  if (c < 0.35) return near(pick(), 0, r);
  if (c < 0.6) return near(pick(), [1e-7, 1e-4, 0.05, 0.5][Math.floor(r() * 4)]!, r);
  if (c < 0.8) {
    const a = pick();
    const b = pick();
    return near(Float32Array.from(a, (x, k) => x + b[k]!), r() < 0.5 ? 0 : 1e-6, r);
  }
  return near(pick(), 1.2, r);
}

function checkSame(g: PackedGallery, ref: Reference, probe: Float32Array, r: () => number) {
  // Threshold: the reference's own top score now and then (>= at equality), its neighbours, or a usual value.
  const plain = decideIdentify(probe, ref.templates, 0.5);
  const c = r();
  const threshold =
    c < 0.2 && ref.templates.length ? plain.score : c < 0.3 && ref.templates.length ? plain.score + 1e-12 : [0.3, 0.4240, 0.6, 0.9][Math.floor(r() * 4)]!;
  const want = decideIdentify(probe, ref.templates, threshold);
  const got = g.identify(probe, { threshold });
  // Same decision, same ranking, same scores: bit for bit (stronger than the 1e-6 asked).
  expect(got).toEqual(want);
  for (let i = 0; i < want.candidates.length; i++) expect(Math.abs(got.candidates[i]!.score - want.candidates[i]!.score)).toBeLessThanOrEqual(1e-6);
  ops.probes++;
  if (want.userId) ops.accepted++;
  if (threshold === want.score) ops.atThreshold++;
  const cs = want.candidates;
  if (cs.length > 1 && cs.some((x, i) => i > 0 && x.score === cs[i - 1]!.score)) ops.exactTies++;
  ops[g.kernel === 'wasm-simd' ? 'wasm' : 'js']++;
}

describe('PackedGallery gives decideIdentify()\'s decision (property test, seeded)', () => {
  it('300 random galleries with interleaved add / remove / replace and adversarial probes', () => {
    const r = rng(20261202);
    for (let trial = 0; trial < 300; trial++) {
      const dim = [192, 192, 192, 16, 48, 7][Math.floor(r() * 6)]!;
      const g = new PackedGallery({ capacity: 1 + Math.floor(r() * 8), kernel: r() < 0.25 ? 'js' : 'auto' });
      const ref = new Reference();
      const nUsers = 1 + Math.floor(r() ** 2 * 120);
      const ids = Array.from({ length: nUsers }, (_, i) => `user-${(i * 7919) % 1000}-${trial}`);
      const steps = 5 + Math.floor(r() * 30);
      for (let step = 0; step < steps; step++) {
        const c = r();
        const id = ids[Math.floor(r() * ids.length)]!;
        const count = 1 + Math.floor(r() * 5);
        const es = Array.from({ length: count }, () => {
          // A template of another user copied (exact ties between users) or nudged, else fresh.
          const d = r();
          if (ref.templates.length && d < 0.15) return ref.templates[Math.floor(r() * ref.templates.length)]!.embedding.slice();
          if (ref.templates.length && d < 0.3) return near(ref.templates[Math.floor(r() * ref.templates.length)]!.embedding, 1e-6, r);
          return unit(dim, r);
        });
        if (c < 0.55) {
          g.add(id, es);
          ref.add(id, es);
          ops.add++;
        } else if (c < 0.75) {
          expect(g.remove(id)).toBe(ref.users().has(id));
          ref.remove(id);
          ops.remove++;
        } else {
          g.replace(id, es);
          ref.remove(id);
          ref.add(id, es);
          ops.replace++;
        }
        expect(g.size).toBe(ref.templates.length);
        expect(g.userCount).toBe(ref.users().size);
        for (let p = 0; p < 3; p++) checkSame(g, ref, probeFor(ref, dim, r), r);
      }
      // Bulk build from the same templates: same answers.
      const h = PackedGallery.from(ref.templates);
      for (let p = 0; p < 3; p++) {
        const probe = probeFor(ref, dim, r);
        expect(h.identify(probe, { threshold: 0.5 })).toEqual(g.identify(probe, { threshold: 0.5 }));
      }
      g.dispose();
      h.dispose();
    }
    // The generator did exercise what it is meant to.
    expect(ops.probes).toBeGreaterThan(10_000);
    console.log('gallery property test:', JSON.stringify(ops));
    expect(ops.accepted).toBeGreaterThan(1000);
    expect(ops.probes - ops.accepted).toBeGreaterThan(1000);
    expect(ops.exactTies).toBeGreaterThan(100);
    expect(ops.atThreshold).toBeGreaterThan(100);
    expect(ops.remove + ops.replace).toBeGreaterThan(1000);
    expect(ops.wasm).toBeGreaterThan(1000); // the runtime has WebAssembly SIMD (Node 20+)
    expect(ops.js).toBeGreaterThan(1000);
  }, 120_000);

  it('a large gallery (10,000 templates, 2,000 users) agrees on 100 probes, near-duplicates included', () => {
    const r = rng(5);
    const dim = 192;
    const ref = new Reference();
    const g = new PackedGallery();
    for (let u = 0; u < 2000; u++) {
      const es = Array.from({ length: 5 }, () => unit(dim, r));
      g.add(`u${u}`, es);
      ref.add(`u${u}`, es);
    }
    expect(g.kernel).toBe('wasm-simd');
    for (let i = 0; i < 100; i++) {
      const probe = i % 2 ? near(ref.templates[(i * 97) % ref.templates.length]!.embedding, 0.3, r) : unit(dim, r);
      const t = identifyThreshold(g.size);
      expect(g.identify(probe, { threshold: t })).toEqual(decideIdentify(probe, ref.templates, t));
    }
  }, 60_000);
});

describe('PackedGallery edge cases', () => {
  const r = rng(3);
  const e = (dim = 16) => unit(dim, r);

  it('an empty gallery answers unknown with score -1, like decideIdentify on no templates', () => {
    const g = new PackedGallery();
    expect(g.identify(e(), { threshold: 0.4 })).toEqual(decideIdentify(e(), [], 0.4));
    expect(g.identify(e(5), { threshold: 0.4 })).toEqual({ userId: null, score: -1, threshold: 0.4, candidates: [] });
  });

  it('refuses a probe or a template of another size, and a bad call changes nothing', () => {
    const g = new PackedGallery();
    g.add('a', [e(), e()]);
    expect(() => g.identify(e(32), { threshold: 0.4 })).toThrow(/sizes differ \(32 vs 16\)/);
    expect(() => g.add('b', [e(), e(32)])).toThrow(FaceLoginError);
    expect(() => g.replace('a', [e(32)])).toThrow(FaceLoginError);
    expect(() => g.add('b', [new Float32Array(0)])).toThrow(FaceLoginError);
    expect(g.size).toBe(2);
    expect(g.userCount).toBe(1);
    expect(g.templatesOf('a')).toBe(2);
  });

  it('remove: unknown user, the last row, a user holding the last rows, everyone; then a new dimension', () => {
    const g = new PackedGallery({ capacity: 1 });
    const a = [e(), e()];
    const b = [e()];
    const c = [e(), e(), e()];
    g.add('a', a);
    g.add('b', b);
    g.add('c', c);
    g.add('a', [e()]); // a's rows are 0, 1 and the last one
    expect(g.remove('nobody')).toBe(false);
    expect(g.remove('a')).toBe(true);
    expect(g.remove('a')).toBe(false);
    expect([g.size, g.userCount, g.has('a'), g.templatesOf('c')]).toEqual([4, 2, false, 3]);
    const ref = [...b.map((x) => ({ userId: 'b', embedding: x })), ...c.map((x) => ({ userId: 'c', embedding: x }))];
    for (const p of [...b, ...c, e()]) expect(g.identify(p, { threshold: 0.5 })).toEqual(decideIdentify(p, ref, 0.5));
    expect(g.remove('c')).toBe(true);
    expect(g.remove('b')).toBe(true);
    expect([g.size, g.userCount]).toEqual([0, 0]);
    // Empty again: the next template sets the dimension anew (and the kernel with it).
    const x = e(7);
    g.add('x', [x]);
    expect(g.dimension).toBe(7);
    expect(g.kernel).toBe('js');
    expect(g.identify(x, { threshold: 0.5 })).toEqual(decideIdentify(x, [{ userId: 'x', embedding: x }], 0.5));
  });

  it('replace swaps a user\'s templates, creates a new user, and with none removes the user', () => {
    const g = new PackedGallery();
    const a1 = e();
    const a2 = e();
    g.add('a', [a1]);
    g.add('b', [e()]);
    g.replace('a', [a2, e()]);
    expect(g.templatesOf('a')).toBe(2);
    expect(g.identify(a1, { threshold: 0.99 }).userId).toBeNull();
    expect(g.identify(a2, { threshold: 0.99 }).userId).toBe('a');
    g.replace('new', [e()]);
    expect(g.userCount).toBe(3);
    g.replace('a', []);
    expect([g.has('a'), g.size, g.userCount]).toEqual([false, 2, 2]);
  });

  it('clear empties it; it can be refilled', () => {
    const g = new PackedGallery();
    g.add('a', [e()]);
    g.clear();
    expect([g.size, g.userCount, g.dimension]).toEqual([0, 0, 0]);
    const x = e(192);
    g.add('z', [x]);
    expect(g.identify(x, { threshold: 0.9 }).userId).toBe('z');
  });

  it('grows by doubling past its capacity', () => {
    const g = new PackedGallery({ capacity: 1 });
    const ref: TemplateLike[] = [];
    for (let i = 0; i < 300; i++) {
      const x = e(192);
      g.add(`u${i % 50}`, [x]);
      ref.push({ userId: `u${i % 50}`, embedding: x });
    }
    expect(g.bytes).toBeGreaterThanOrEqual(300 * 192 * 4);
    for (const t of ref.slice(0, 20)) expect(g.identify(t.embedding, { threshold: 0.5 })).toEqual(decideIdentify(t.embedding, ref, 0.5));
  });

  it('ties: two users with the same template are ranked by user id, as scoreUsers ranks them', () => {
    const g = new PackedGallery();
    const x = e();
    g.add('zed', [x]);
    g.add('amy', [x.slice()]);
    const d = g.identify(x, { threshold: 0.5 });
    expect(d.candidates.map((c) => c.userId)).toEqual(['amy', 'zed']);
    expect(d).toEqual(decideIdentify(x, [{ userId: 'zed', embedding: x }, { userId: 'amy', embedding: x }], 0.5));
  });

  it('a zero probe or a zero template scores 0, and templates of odd norm fall back to the JS scan', () => {
    const g = new PackedGallery();
    const x = e(32);
    const big = x.map((v) => v * 1e4); // |x|^2 = 1e8: outside the float32 kernel's range
    const ref: TemplateLike[] = [{ userId: 'a', embedding: x }, { userId: 'b', embedding: new Float32Array(32) }];
    g.add('a', [x]);
    g.add('b', [new Float32Array(32)]);
    expect(g.kernel).toBe('wasm-simd'); // a zero row scores 0 in either kernel
    expect(g.identify(new Float32Array(32), { threshold: 0 })).toEqual(decideIdentify(new Float32Array(32), ref, 0));
    g.add('c', [big]);
    ref.push({ userId: 'c', embedding: big });
    expect(g.kernel).toBe('js');
    expect(g.identify(x, { threshold: 0.5 })).toEqual(decideIdentify(x, ref, 0.5));
    g.remove('c');
    g.remove('b');
    expect(g.kernel).toBe('wasm-simd');
  });

  it('reports at most 5 candidates, best first', () => {
    const g = new PackedGallery();
    const ref: TemplateLike[] = [];
    for (let i = 0; i < 9; i++) {
      const x = e();
      g.add(`u${i}`, [x]);
      ref.push({ userId: `u${i}`, embedding: x });
    }
    const p = e();
    const d = g.identify(p, { threshold: 0.5 });
    expect(d.candidates).toHaveLength(5);
    expect(d).toEqual(decideIdentify(p, ref, 0.5));
  });

  it('dispose is idempotent, and a disposed gallery refuses every use', () => {
    const g = new PackedGallery();
    g.add('a', [e()]);
    g.dispose();
    g.dispose();
    expect(g.size).toBe(0);
    for (const f of [() => g.identify(e(), { threshold: 0.5 }), () => g.add('a', [e()]), () => g.remove('a'), () => g.replace('a', [e()]), () => g.clear()]) {
      expect(f).toThrow(expect.objectContaining({ code: 'disposed' }));
    }
  });

  it('applyTemplateChange: a save of another model changes nothing; a delete removes whatever the model', () => {
    const g = new PackedGallery();
    const t = (userId: string, modelId: string) => ({ id: 1, userId, modelId, size: 16, embedding: e(), pose: 'center' as const, createdAt: 0 });
    applyTemplateChange(g, 'm', { kind: 'save', userId: 'a', modelId: 'm', replace: false, templates: [t('a', 'm')] });
    applyTemplateChange(g, 'm', { kind: 'save', userId: 'a', modelId: 'other', replace: true, templates: [t('a', 'other')] });
    applyTemplateChange(g, 'm', { kind: 'save', userId: 'a', modelId: 'm', replace: false, templates: [t('a', 'm')] });
    expect(g.templatesOf('a')).toBe(2);
    applyTemplateChange(g, 'm', { kind: 'save', userId: 'a', modelId: 'm', replace: true, templates: [t('a', 'm')] });
    expect(g.templatesOf('a')).toBe(1);
    applyTemplateChange(g, 'm', { kind: 'delete', userId: 'a' });
    expect(g.size).toBe(0);
  });
});

describe('LocalVerifier keeps a packed gallery and follows the store\'s writes', () => {
  const MODEL = DEFAULT_MODEL_ID;

  async function setup(users: number) {
    const r = rng(11);
    const store = new MemoryTemplateStore();
    const faces: Float32Array[] = [];
    for (let i = 0; i < users; i++) {
      faces.push(unit(192, r));
      await store.saveTemplates(`u${i}`, MODEL, [{ embedding: faces[i]!, pose: 'center' }]);
    }
    let reads = 0;
    const realAll = store.allTemplates.bind(store);
    store.allTemplates = async (m: string) => {
      reads++;
      return realAll(m);
    };
    return { store, faces, r, reads: () => reads };
  }

  /** What LocalVerifier answered before the packed gallery: decideIdentify over allTemplates, threshold sized by its length. */
  async function oldRule(store: MemoryTemplateStore, probe: Float32Array) {
    const templates = await store.allTemplates(MODEL);
    const t = identifyThreshold(templates.length, { floor: DEFAULT_THRESHOLD });
    const d = decideIdentify(probe, templates, t);
    return { userId: d.userId, score: d.score, threshold: d.threshold, decidedBy: 'device' };
  }

  it('the stores report their writes', () => {
    expect(isTemplateChangeSource(new MemoryTemplateStore())).toBe(true);
    expect(isTemplateChangeSource({})).toBe(false);
  });

  it('enrol, re-enrol (replace), add, delete and another model\'s writes update it in place, with the old rule\'s answers', async () => {
    const s = await setup(40);
    const v = new LocalVerifier(s.store, () => DEFAULT_THRESHOLD);
    const check = async (probe: Float32Array) => {
      const got = await v.identify(probe, MODEL);
      const want = await oldRule(s.store, probe);
      expect(got).toEqual(want);
      return got;
    };
    let readsBefore = s.reads();
    expect((await check(near(s.faces[3]!, 0.2, s.r))).userId).toBe('u3');
    const firstReads = s.reads() - readsBefore - 1; // minus oldRule's own read
    expect(firstReads).toBe(1);
    readsBefore = s.reads();
    const newcomer = unit(192, s.r);
    await s.store.saveTemplates('newcomer', MODEL, [{ embedding: newcomer, pose: 'center' }]);
    expect((await check(near(newcomer, 0.2, s.r))).userId).toBe('newcomer');
    const other = unit(192, s.r);
    await s.store.saveTemplates('u5', MODEL, [{ embedding: other, pose: 'left' }], { replace: true });
    expect((await check(near(other, 0.2, s.r))).userId).toBe('u5');
    expect((await check(s.faces[5]!)).userId).toBeNull();
    await s.store.saveTemplates('u6', MODEL, [{ embedding: unit(192, s.r), pose: 'left' }]);
    expect((await check(s.faces[6]!)).userId).toBe('u6');
    await s.store.saveTemplates('u7', 'another-model', [{ embedding: unit(192, s.r), pose: 'center' }]);
    expect((await check(s.faces[7]!)).userId).toBe('u7');
    await s.store.deleteUser('u3');
    expect((await check(s.faces[3]!)).userId).toBeNull();
    await s.store.deleteUser('nobody');
    expect((await check(s.faces[4]!)).userId).toBe('u4');
    // Every identify above read the store only through oldRule: the gallery itself was never re-read.
    expect(s.reads() - readsBefore).toBe(7);
  });

  it('a write it did not see (import, another tab) makes it read the store again', async () => {
    const s = await setup(10);
    const v = new LocalVerifier(s.store, () => DEFAULT_THRESHOLD);
    await v.identify(s.faces[1]!, MODEL);
    expect(s.reads()).toBe(1);
    const imported = unit(192, s.r);
    const data = await s.store.exportAll();
    await s.store.importAll({ ...data, users: [{ userId: 'imp', createdAt: 1, updatedAt: 1 }], templates: [{ userId: 'imp', modelId: MODEL, size: 192, embedding: Array.from(imported), pose: 'center', createdAt: 1 }] });
    expect((await v.identify(imported, MODEL)).userId).toBe('imp');
    expect(s.reads()).toBe(2);
    // A write the gallery missed (its revision chain broken: another tab wrote in between) is read again too.
    const missed = unit(192, s.r);
    const realRevision = s.store.revision.bind(s.store);
    let bump = 0;
    s.store.revision = async () => `${await realRevision()}+${bump}`; // "another tab" wrote: every revision moves on
    bump = 1;
    await s.store.saveTemplates('missed', MODEL, [{ embedding: missed, pose: 'center' }]);
    expect((await v.identify(missed, MODEL)).userId).toBe('missed');
    expect(s.reads()).toBe(3);
  });

  it('dispose stops following the store, idempotently', async () => {
    const s = await setup(3);
    let subscribed = 0;
    const realOn = s.store.onTemplateChange.bind(s.store);
    s.store.onTemplateChange = (l) => {
      subscribed++;
      const off = realOn(l);
      return () => {
        subscribed--;
        off();
      };
    };
    const v = new LocalVerifier(s.store, () => DEFAULT_THRESHOLD);
    expect(subscribed).toBe(0); // only once it identifies
    await v.identify(s.faces[0]!, MODEL);
    await v.identify(s.faces[1]!, MODEL);
    expect(subscribed).toBe(1);
    v.dispose();
    v.dispose();
    expect(subscribed).toBe(0);
  });

  it('IdbTemplateStore: its writes are followed in place (revisions read in the write\'s transaction); another tab\'s make it read again', async () => {
    globalThis.indexedDB = new IDBFactory();
    const r = rng(12);
    const a = new IdbTemplateStore({ dbName: 'gallery' });
    const b = new IdbTemplateStore({ dbName: 'gallery' }); // another tab
    const faces = Array.from({ length: 20 }, () => unit(192, r));
    for (const [i, f] of faces.entries()) await a.saveTemplates(`u${i}`, MODEL, [{ embedding: f, pose: 'center' }]);
    const realAll = a.allTemplates.bind(a);
    let reads = 0;
    a.allTemplates = async (m: string) => {
      reads++;
      return realAll(m);
    };
    const events: { before: string; after: string; revisionAfter: string }[] = [];
    a.onTemplateChange((e) => void a.revision().then((rev) => events.push({ before: e.before, after: e.after, revisionAfter: rev })));
    const v = new LocalVerifier(a, () => DEFAULT_THRESHOLD);
    const same = async (probe: Float32Array) => {
      const got = await v.identify(probe, MODEL);
      const templates = await realAll(MODEL);
      const d = decideIdentify(probe, templates, identifyThreshold(templates.length));
      expect(got).toEqual({ userId: d.userId, score: d.score, threshold: d.threshold, decidedBy: 'device' });
      return got.userId;
    };
    expect(await same(near(faces[2]!, 0.2, r))).toBe('u2');
    const revBefore = await a.revision();
    const newcomer = unit(192, r);
    await a.saveTemplates('newcomer', MODEL, [{ embedding: newcomer, pose: 'center' }, { embedding: unit(192, r), pose: 'left' }]);
    expect(await same(near(newcomer, 0.2, r))).toBe('newcomer');
    const moved = unit(192, r);
    await a.saveTemplates('u4', MODEL, [{ embedding: moved, pose: 'center' }], { replace: true });
    expect(await same(faces[4]!)).toBeNull();
    expect(await same(moved)).toBe('u4');
    await a.deleteUser('u2');
    expect(await same(faces[2]!)).toBeNull();
    expect(reads).toBe(1);
    expect(events[0]!.before).toBe(revBefore);
    for (const [i, e] of events.entries()) {
      expect(e.after).toBe(e.revisionAfter);
      if (i) expect(e.before).toBe(events[i - 1]!.after);
    }
    // Another tab writes: the next identify reads the store again, and follows this tab's writes after that.
    const other = unit(192, r);
    await b.saveTemplates('tab2', MODEL, [{ embedding: other, pose: 'center' }]);
    expect(await same(other)).toBe('tab2');
    expect(reads).toBe(2);
    await a.deleteUser('tab2');
    expect(await same(other)).toBeNull();
    expect(reads).toBe(2);
    v.dispose();
    a.close();
    b.close();
  });
});
