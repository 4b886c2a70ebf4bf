/**
 * Test page: mounts one <face-login> configured from the query string and records every event
 * it fires in window.faceLoginEvents, so e2e tests assert on real outcomes.
 */
import '../../src/index.js';
import type { FaceLoginElement } from '../../src/index.js';
import * as tf from '@tensorflow/tfjs-core';

declare global {
  interface Window {
    faceLoginEvents: { type: string; detail: unknown; t: number }[];
    /** Live tensor count of the page's TF.js (leak checks). */
    numTensors: () => number;
  }
}

window.faceLoginEvents = [];
window.numTensors = () => tf.memory().numTensors;
const q = new URLSearchParams(location.search);
const el = document.createElement('face-login') as FaceLoginElement;
for (const [k, v] of q) el.setAttribute(k, v);
for (const type of ['ready', 'enrolled', 'verified', 'identified', 'rejected', 'error', 'status', 'synced', 'cancelled', 'submitted']) {
  el.addEventListener(`face-login-${type}`, (e) => {
    window.faceLoginEvents.push({ type, detail: (e as CustomEvent).detail, t: performance.now() });
  });
}
document.querySelector('#host')!.append(el);
