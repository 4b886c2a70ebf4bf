import { describe, expect, it } from 'vitest';
import { ENROLL_QUALITY, VERIFY_QUALITY, assessQuality, cropStats } from '../../src/core/quality.js';
import type { Detection } from '../../src/core/types.js';

function image(w: number, h: number, f: (x: number, y: number) => number) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = f(x, y);
    data.set([v, v, v, 255], (y * w + x) * 4);
  }
  return { data, width: w, height: h };
}

const face = (x: number, y: number, w: number, score = 0.9): Detection => ({ box: { x, y, width: w, height: w }, score, keypoints: [] });
const frame = { width: 640, height: 480 };
const good = { luma: 120, clipped: 0, sharpness: 100 };

describe('cropStats', () => {
  it('measures luma, blown-out share and Laplacian variance', () => {
    const flat = cropStats(image(112, 112, () => 100));
    expect(flat).toEqual({ luma: expect.closeTo(100, 3), clipped: 0, sharpness: expect.closeTo(0, 6) });
    const checker = cropStats(image(112, 112, (x, y) => ((x + y) % 2 ? 200 : 50)));
    expect(checker.sharpness).toBeGreaterThan(1000);
    expect(cropStats(image(112, 112, () => 255)).clipped).toBe(1);
  });
});

describe('assessQuality', () => {
  it('passes a well-framed, sharp, well-lit face', () => {
    expect(assessQuality(face(250, 150, 150), frame, good, ENROLL_QUALITY)).toBeNull();
  });
  it('names the first thing to fix', () => {
    expect(assessQuality(face(300, 200, 40), frame, good, ENROLL_QUALITY)).toBe('too-far');
    expect(assessQuality(face(50, 0, 600), frame, good, ENROLL_QUALITY)).toBe('too-close');
    expect(assessQuality(face(0, 150, 120), frame, good, ENROLL_QUALITY)).toBe('off-center');
    expect(assessQuality(face(250, 150, 150, 0.65), frame, good, ENROLL_QUALITY)).toBe('low-score');
    expect(assessQuality(face(250, 150, 150), frame, { ...good, luma: 30 }, ENROLL_QUALITY)).toBe('too-dark');
    expect(assessQuality(face(250, 150, 150), frame, { ...good, clipped: 0.5 }, ENROLL_QUALITY)).toBe('too-bright');
    expect(assessQuality(face(250, 150, 150), frame, { ...good, sharpness: 20 }, ENROLL_QUALITY)).toBe('blurry');
  });
  it('verification accepts a smaller, less centred face than enrolment (kiosk distance)', () => {
    const far = face(40, 150, 60);
    expect(assessQuality(far, frame, good, ENROLL_QUALITY)).toBe('too-far');
    expect(assessQuality(far, frame, good, VERIFY_QUALITY)).toBeNull();
  });
});
