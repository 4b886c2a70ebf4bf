import { FaceLoginError } from '../../core/errors.js';
import type { Pose } from '../../core/types.js';

/**
 * Templates at rest in IndexedDB: AES-GCM (256-bit) under a non-extractable CryptoKey that the
 * device generated and keeps in the same database (a CryptoKey is structured-cloneable; script
 * can use it but never read its bytes). Each row is sealed with a fresh 96-bit IV and additional
 * authenticated data naming the row's user, model, pose and size, so a ciphertext copied to
 * another user's or model's row, or with its pose or size edited, fails to open.
 *
 * What it is for: a template this device did not seal (a plaintext row, or one sealed under
 * another key, written straight into IndexedDB by a tool or a copied profile) is never matched.
 * What it is not: protection from script running in this origin (it can use the key through
 * the store, like the element does) or from someone who copies the browser profile (the browser
 * keeps the key's bytes in the same profile).
 */

/** The sealed form of one embedding, as a template row stores it. */
export interface SealedEmbedding {
  /** 12 random bytes, never reused under one key. */
  iv: Uint8Array<ArrayBuffer>;
  /** AES-GCM output: the little-endian float32 bytes of the embedding, then the 16-byte tag. */
  ciphertext: ArrayBuffer;
}

/** What a sealed row is bound to: its AAD. */
export interface SealBinding {
  userId: string;
  modelId: string;
  pose: Pose;
  size: number;
}

const AAD_VERSION = 'face-login-template/1';
const IV_BYTES = 12;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new FaceLoginError(
      'storage-unavailable',
      'WebCrypto (crypto.subtle) is not available: templates are encrypted at rest, which needs a secure context (https or localhost).',
    );
  }
  return s;
}

/** The additional authenticated data of a row: its binding as UTF-8 JSON (unambiguous for any user id). */
export function sealAad(b: SealBinding): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify([AAD_VERSION, b.userId, b.modelId, b.pose, b.size]));
}

/** A new AES-GCM 256 key that can encrypt and decrypt but never be exported. */
export function generateTemplateKey(): Promise<CryptoKey> {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export async function sealEmbedding(key: CryptoKey, embedding: Float32Array, binding: SealBinding): Promise<SealedEmbedding> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  // A copy: the caller's array may be a view into a larger buffer.
  const plain = new Float32Array(embedding);
  const ciphertext = await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: sealAad(binding) }, key, plain.buffer);
  return { iv, ciphertext };
}

/** Why a stored template row cannot be used: see IdbTemplateStore's `onUnsealed`. */
export type UnsealedReason =
  /** The row holds a raw embedding: not written by this store since templates are sealed. */
  | 'plaintext'
  /** The ciphertext does not authenticate under this device's key with this row's user, model, pose and size. */
  | 'unauthenticated'
  /** Not a template row this store writes (fields missing or of the wrong type). */
  | 'malformed';

/** The embedding of a sealed row, or why it cannot be opened. */
export async function openEmbedding(
  key: CryptoKey,
  sealed: { iv?: unknown; ciphertext?: unknown },
  binding: SealBinding,
): Promise<Float32Array | UnsealedReason> {
  const { iv, ciphertext } = sealed;
  if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES || !(iv.buffer instanceof ArrayBuffer) || !(ciphertext instanceof ArrayBuffer)) return 'malformed';
  if (!Number.isInteger(binding.size) || binding.size <= 0) return 'malformed';
  let plain: ArrayBuffer;
  try {
    plain = await subtle().decrypt({ name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer>, additionalData: sealAad(binding) }, key, ciphertext);
  } catch (e) {
    if ((e as { name?: string })?.name === 'OperationError') return 'unauthenticated';
    throw e;
  }
  if (plain.byteLength !== binding.size * 4) return 'malformed';
  const embedding = new Float32Array(plain);
  return embedding.every(Number.isFinite) ? embedding : 'malformed';
}
