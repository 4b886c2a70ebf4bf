/** Loaded by harness.html through Vite: the product's modules, one copy each, for page.evaluate. */
import * as tf from '@tensorflow/tfjs-core';
import * as det from '../../src/adapters/detector/mediapipe-detector.js';
import * as bf from '../../src/adapters/detector/blazeface-tfjs.js';
import * as emb from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import * as be from '../../src/adapters/embedder/tf-backend.js';
import * as files from '../../src/adapters/models/model-files.js';
import * as align from '../../src/adapters/aligner/canvas-aligner.js';
import * as meshAlign from '../../src/adapters/aligner/mesh-aligner.js';
import * as match from '../../src/core/match.js';
import * as cal from '../../src/core/calibration.js';
import * as quality from '../../src/core/quality.js';
import * as pose from '../../src/core/pose.js';
import * as idbStore from '../../src/adapters/store/idb-template-store.js';
import * as seal from '../../src/adapters/store/template-seal.js';
import * as localVerifier from '../../src/adapters/verifier/local-verifier.js';
import * as idb from 'idb';
import type { Frame } from '../../src/core/types.js';

/** A frame (an <img> decoded by Chromium) from a base64 JPEG sent by the test. */
async function jpegFrame(b64: string): Promise<Frame> {
  const url = URL.createObjectURL(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { source: img, width: img.naturalWidth, height: img.naturalHeight, timestamp: performance.now() };
  } finally {
    URL.revokeObjectURL(url);
  }
}

export const api = { tf, det, bf, emb, be, files, align, meshAlign, match, cal, quality, pose, idbStore, seal, localVerifier, idb, jpegFrame };
export type Api = typeof api;

declare global {
  interface Window {
    api: Api;
    apiReady: boolean;
  }
}
window.api = api;
window.apiReady = true;
