/**
 * The secret orthogonal transform of the pgvector index (server/store/postgres.ts, issue 14).
 *
 * PostgreSQL's HNSW index has to compare vectors inside the database, so the index column cannot be
 * AES-GCM ciphertext like `templates.embedding`. It holds `Q x` instead of the template x, where Q is
 * a random orthogonal d x d matrix: cosine(Q a, Q b) = cosine(a, b), so the nearest neighbours, and
 * therefore the index's candidates, are the same.
 *
 * Q is derived from one random 32-byte seed, created once per database and stored only wrapped by the
 * current key-encryption key (the same KEKs as the users' data keys: FACE_LOGIN_TEMPLATE_KEYS), in
 * `template_vector_key`. Key rotation re-wraps the seed; the vectors are not touched (no re-index).
 *
 * What this protects: a dump of the database without the KEK gives vectors that are not the
 * templates. They cannot be compared against templates from another system or another database
 * (each has its own Q), and inverting the embedding model back towards a face image needs x = Qᵀ y,
 * i.e. the key.
 *
 * What it does not: it is not semantic-security encryption. Cosines between stored vectors are the
 * real cosines (that is the point), so a dump still shows which rows are the same person and who
 * resembles whom. Q is linear: someone who learns ~d pairs (x, Q x) (for example templates they
 * enrolled themselves and then found in a dump) can solve for Q and undo it for every row. The
 * decision itself never trusts these vectors: candidates are re-ranked against the decrypted
 * templates.
 */
import { createCipheriv, createHash, hkdfSync } from 'node:crypto';

/** The dimension served by the HNSW index (MobileFaceNet's 192). Other sizes are searched exactly in SQL. */
export const INDEXED_DIM = 192;

/** A random orthogonal matrix (Haar-distributed), row-major, generated deterministically from the seed and the dimension. */
export function orthogonalFromSeed(seed: Uint8Array, dim: number): Float64Array {
  if (seed.length !== 32) throw new Error('The vector transform seed must be 32 bytes.');
  // A keystream: AES-256-CTR under a key derived from the seed for this dimension.
  const key = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), Buffer.from(`face-login/vector-transform/v1/d=${dim}`), 32));
  const words = dim * dim * 2;
  const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(words * 4));
  key.fill(0);
  const u32 = new Uint32Array(stream.buffer, stream.byteOffset, words);
  // Box-Muller: standard normal entries.
  const a = new Float64Array(dim * dim);
  for (let i = 0; i < dim * dim; i++) {
    const u1 = (u32[2 * i]! + 1) / 4294967297; // (0, 1)
    const u2 = u32[2 * i + 1]! / 4294967296;
    a[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  stream.fill(0);
  // Modified Gram-Schmidt on the rows (twice, for orthogonality to float64 precision); the signs of a
  // Gaussian matrix's QR make the result Haar-distributed.
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < dim; i++) {
      const ri = i * dim;
      for (let j = 0; j < i; j++) {
        const rj = j * dim;
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += a[ri + k]! * a[rj + k]!;
        for (let k = 0; k < dim; k++) a[ri + k]! -= dot * a[rj + k]!;
      }
      let n = 0;
      for (let k = 0; k < dim; k++) n += a[ri + k]! * a[ri + k]!;
      n = Math.sqrt(n);
      for (let k = 0; k < dim; k++) a[ri + k]! /= n;
    }
  }
  return a;
}

/** The transform of one database: y = Q x for each configured dimension (matrices built on first use). */
export class VectorTransform {
  private readonly byDim = new Map<number, Float64Array>();
  /** A short fingerprint of the seed (not secret-revealing: SHA-256 of it, 8 hex), for logs and tests. */
  readonly fingerprint: string;

  constructor(private readonly seed: Buffer) {
    this.fingerprint = createHash('sha256').update(seed).digest('hex').slice(0, 8);
  }

  private matrix(dim: number): Float64Array {
    let q = this.byDim.get(dim);
    if (!q) this.byDim.set(dim, (q = orthogonalFromSeed(this.seed, dim)));
    return q;
  }

  apply(x: Float32Array): Float32Array {
    const d = x.length;
    const q = this.matrix(d);
    const y = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      const r = i * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += q[r + k]! * x[k]!;
      y[i] = s;
    }
    return y;
  }

  /** pgvector's text form of Q x: '[y0,y1,...]'. */
  literal(x: Float32Array): string {
    return toVectorLiteral(this.apply(x));
  }
}

export function toVectorLiteral(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + v[i]!.toPrecision(9);
  return s + ']';
}
