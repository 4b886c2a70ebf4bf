import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE_5, applySimilarity, estimateSimilarity } from '../../src/core/align.js';
import {
  FACE_MESH_INPUT,
  FACE_MESH_POINTS,
  MESH_LEFT_EYE,
  MESH_MOUTH_LEFT,
  MESH_MOUTH_RIGHT,
  MESH_NOSE_TIP,
  MESH_RIGHT_EYE,
  fivePointAlignment,
  fivePointsFromMesh,
  meshCropSimilarity,
} from '../../src/core/face-mesh.js';

const box = { x: 100, y: 80, width: 120, height: 140 };

describe('meshCropSimilarity', () => {
  it('centres the box, 1.5x its longer side across 192 px, eyes level', () => {
    const re = { x: 130, y: 120 };
    const le = { x: 190, y: 150 }; // tilted eye line
    const m = meshCropSimilarity(box, re, le);
    const c = applySimilarity(m, { x: 160, y: 150 });
    expect(c.x).toBeCloseTo(FACE_MESH_INPUT / 2, 9);
    expect(c.y).toBeCloseTo(FACE_MESH_INPUT / 2, 9);
    expect(Math.hypot(m.a, m.b)).toBeCloseTo(192 / (1.5 * 140), 12);
    const a = applySimilarity(m, re);
    const b = applySimilarity(m, le);
    expect(a.y).toBeCloseTo(b.y, 9);
    expect(b.x).toBeGreaterThan(a.x); // the subject's right eye stays on the image left
  });

  it('refuses an empty box or non-finite eyes', () => {
    expect(() => meshCropSimilarity({ ...box, width: 0, height: 0 }, { x: 0, y: 0 }, { x: 1, y: 0 })).toThrow(RangeError);
    expect(() => meshCropSimilarity(box, { x: Number.NaN, y: 0 }, { x: 1, y: 0 })).toThrow(RangeError);
  });
});

describe('fivePointsFromMesh', () => {
  /** A mesh whose chosen points sit where the similarity puts the given frame points. */
  function meshAt(m: ReturnType<typeof meshCropSimilarity>, pts: { x: number; y: number }[]): Float32Array {
    const mesh = new Float32Array(FACE_MESH_POINTS * 3).fill(Number.NaN);
    const put = (i: number, p: { x: number; y: number }) => {
      const q = applySimilarity(m, p);
      mesh.set([q.x, q.y, 0], 3 * i);
    };
    // Each eye's contour points on a small ring around the eye centre: their mean is the centre.
    MESH_RIGHT_EYE.forEach((i, k) => put(i, { x: pts[0]!.x + 4 * Math.cos((k * Math.PI) / 8), y: pts[0]!.y + 2 * Math.sin((k * Math.PI) / 8) }));
    MESH_LEFT_EYE.forEach((i, k) => put(i, { x: pts[1]!.x + 4 * Math.cos((k * Math.PI) / 8), y: pts[1]!.y + 2 * Math.sin((k * Math.PI) / 8) }));
    put(MESH_NOSE_TIP, pts[2]!);
    put(MESH_MOUTH_RIGHT, pts[3]!);
    put(MESH_MOUTH_LEFT, pts[4]!);
    for (let i = 0; i < mesh.length; i++) if (Number.isNaN(mesh[i]!)) mesh[i] = 0;
    return mesh;
  }

  it('maps the eye centres, nose tip and mouth corners back to frame pixels', () => {
    const pts = [{ x: 130, y: 120 }, { x: 190, y: 126 }, { x: 160, y: 160 }, { x: 137, y: 190 }, { x: 183, y: 193 }];
    const m = meshCropSimilarity(box, pts[0]!, pts[1]!);
    const got = fivePointsFromMesh(meshAt(m, pts), m);
    // The mesh is a Float32Array (as the model returns it): a point near 100 px carries ~1e-5 of
    // rounding, so the round trip is held to 1e-3 px, not to float64 precision.
    got.forEach((p, i) => {
      expect(p.x).toBeCloseTo(pts[i]!.x, 3);
      expect(p.y).toBeCloseTo(pts[i]!.y, 3);
    });
  });

  it('a face that is exactly the template, moved and scaled, aligns onto it with no residual', () => {
    const frame = estimateSimilarity(ARCFACE_TEMPLATE_5, ARCFACE_TEMPLATE_5.map((p) => ({ x: 3 * p.x + 50, y: 3 * p.y + 20 })));
    const pts = ARCFACE_TEMPLATE_5.map((p) => applySimilarity(frame, p));
    const fit = fivePointAlignment(pts);
    pts.forEach((p, i) => {
      const q = applySimilarity(fit, p);
      expect(q.x).toBeCloseTo(ARCFACE_TEMPLATE_5[i]!.x, 6);
      expect(q.y).toBeCloseTo(ARCFACE_TEMPLATE_5[i]!.y, 6);
    });
  });

  it('refuses a short or non-finite mesh, and a point count other than five', () => {
    const m = meshCropSimilarity(box, { x: 130, y: 120 }, { x: 190, y: 120 });
    expect(() => fivePointsFromMesh(new Float32Array(10), m)).toThrow(RangeError);
    expect(() => fivePointsFromMesh(new Float32Array(FACE_MESH_POINTS * 3).fill(Number.NaN), m)).toThrow(RangeError);
    expect(() => fivePointAlignment([{ x: 0, y: 0 }, { x: 1, y: 1 }])).toThrow(RangeError);
  });

  it("the graph's face-presence output is already a probability: it comes out of a Sigmoid (no second logistic)", () => {
    // bench/runners/detector.mjs once applied a logistic to it, so every presence read 0.50..0.73.
    const model = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../public/models/facemesh/model.json'), 'utf8')) as {
      modelTopology: { node: { name: string; op: string; input?: string[] }[] };
      signature: { outputs: Record<string, { name: string }> };
    };
    const nodes = new Map(model.modelTopology.node.map((n) => [n.name, n]));
    let node = nodes.get(model.signature.outputs.output_faceflag!.name.replace(/:0$/, ''));
    const path: string[] = [];
    while (node && (node.op === 'Identity' || node.op === 'Reshape')) {
      path.push(node.op);
      node = nodes.get(node.input![0]!);
    }
    expect(path.length).toBeGreaterThan(0);
    expect(node?.op).toBe('Sigmoid');
  });
});
