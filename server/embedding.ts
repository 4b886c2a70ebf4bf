/**
 * Embeddings on the server: checked, L2-normalised Float32Arrays. The wire format is a JSON
 * number array (`Embedding` in src/protocol/fields.ts: its schema bounds the length, this module
 * checks it against the model); the database format is the little-endian float32 bytes of the
 * unit vector.
 * Scores are cosines of unit vectors, i.e. plain dot products.
 */
import { ApiError } from './errors.js';
import type { ModelSpec } from './config.js';

/**
 * Validates one embedding for a model and returns it L2-normalised. Refuses (invalid-embedding)
 * a wrong length, a non-number, NaN / +-Infinity (JSON numbers like 1e999 parse to Infinity) and a
 * vector whose norm is zero or not finite (e.g. 1e200 entries overflow the sum of squares).
 */
export function toUnitVector(values: readonly unknown[], model: ModelSpec, where: string): Float32Array {
  if (values.length !== model.size) {
    throw new ApiError('invalid-embedding', `${where} has ${values.length} numbers; this model needs ${model.size}.`);
  }
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new ApiError('invalid-embedding', `${where}[${i}] is not a finite number.`);
    }
    ss += x * x;
  }
  if (!(ss > 0) || !Number.isFinite(ss)) {
    throw new ApiError('invalid-embedding', `${where} has a zero or non-finite norm.`);
  }
  const inv = 1 / Math.sqrt(ss);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] as number) * inv;
  // float32 rounding of tiny components can still underflow everything to 0.
  let check = 0;
  for (let i = 0; i < out.length; i++) check += out[i]! * out[i]!;
  if (!(check > 0.5)) throw new ApiError('invalid-embedding', `${where} cannot be represented as a float32 unit vector.`);
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Best cosine of a unit probe against unit templates (a user's score); -Infinity for none. */
export function bestScore(probe: Float32Array, templates: readonly Float32Array[]): number {
  let best = -Infinity;
  for (const t of templates) {
    if (t.length !== probe.length) continue;
    const s = dot(probe, t);
    if (s > best) best = s;
  }
  return best;
}

export function encodeEmbedding(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copies (a Buffer from a driver may be unaligned or pooled). */
export function decodeEmbedding(b: Uint8Array): Float32Array {
  if (b.byteLength % 4 !== 0) throw new Error(`Stored embedding has ${b.byteLength} bytes, not a multiple of 4.`);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
