/** Head pose of photos through the product's detector and pose estimate (driven by bench/runners/pose-scan.mjs). */
import { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import { fetchManifest } from '../../src/adapters/models/model-files.js';
import { estimateHeadPose } from '../../src/core/pose.js';

declare global {
  interface Window {
    scan: (paths: string[]) => Promise<{ path: string; faces: number; score?: number; yaw?: number; pitch?: number; roll?: number; width?: number }[]>;
    scanReady: boolean;
  }
}

const detector = await MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest: await fetchManifest('/models/'), runningMode: 'IMAGE', minScore: 0.5 });
window.scan = async (paths) => {
  const out = [];
  for (const path of paths) {
    const img = new Image();
    img.src = `/__faces/${path}`;
    await img.decode();
    // As the fake camera shows it: letterboxed into 640x480.
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const ctx = c.getContext('2d')!;
    const s = Math.min(640 / img.width, 480 / img.height);
    ctx.drawImage(img, (640 - img.width * s) / 2, (480 - img.height * s) / 2, img.width * s, img.height * s);
    const faces = detector.detect({ source: c, width: 640, height: 480, timestamp: performance.now() });
    if (faces.length !== 1) {
      out.push({ path, faces: faces.length });
      continue;
    }
    const p = estimateHeadPose(faces[0]!.keypoints);
    out.push({ path, faces: 1, score: faces[0]!.score, width: faces[0]!.box.width, ...p });
  }
  return out;
};
window.scanReady = true;
