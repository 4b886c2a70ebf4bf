/**
 * Loaded by harness.html through Vite: the product's detector and model loading, and the NOT
 * SHIPPED FaceAntiSpoofing and fr_liveness adapters (this folder), for liveness.spec.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as det from '../../src/adapters/detector/mediapipe-detector.js';
import * as be from '../../src/adapters/embedder/tf-backend.js';
import * as files from '../../src/adapters/models/model-files.js';
import * as liveness from './face-antispoofing.js';
import * as crop from './face-crop.js';
import * as frLiveness from './fr-liveness.js';

export const livenessApi = { tf, det, be, files, liveness, crop, frLiveness };
export type LivenessApi = typeof livenessApi;

declare global {
  interface Window {
    livenessApi: LivenessApi;
    livenessApiReady: boolean;
  }
}
window.livenessApi = livenessApi;
window.livenessApiReady = true;
