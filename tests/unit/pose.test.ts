import { describe, expect, it } from 'vitest';
import { estimateHeadPose, matchesPose, poseHint } from '../../src/core/pose.js';
import { project } from '../support/head-projection.js';

describe('estimateHeadPose', () => {
  it('reads a frontal face as (0, 0, 0)', () => {
    const p = estimateHeadPose(project(0, 0, 0));
    expect(p.yaw).toBeCloseTo(0, 6);
    expect(p.pitch).toBeCloseTo(0, 6);
    expect(p.roll).toBeCloseTo(0, 6);
  });

  it.each([[-40], [-25], [-10], [10], [25], [40]])('recovers pure yaw %i° exactly', (yaw) => {
    expect(estimateHeadPose(project(yaw, 0, 0)).yaw).toBeCloseTo(yaw, 6);
  });

  it.each([[-25], [-12], [12], [25]])('recovers pure pitch %i° exactly', (pitch) => {
    expect(estimateHeadPose(project(0, pitch, 0)).pitch).toBeCloseTo(pitch, 6);
  });

  it('removes roll before reading yaw and pitch', () => {
    const p = estimateHeadPose(project(0, 0, 20));
    expect(p.roll).toBeCloseTo(20, 6);
    expect(p.yaw).toBeCloseTo(0, 6);
    expect(p.pitch).toBeCloseTo(0, 6);
  });

  it('is within a few degrees for combined turns, at any scale and position', () => {
    for (const [y, p, r] of [[25, 10, 5], [-30, -8, -10], [15, 15, 0], [-20, 12, 8]] as const) {
      const e = estimateHeadPose(project(y, p, r, 0.7, 100, 50));
      expect(Math.abs(e.yaw - y)).toBeLessThan(4);
      expect(Math.abs(e.pitch - p)).toBeLessThan(4);
      expect(Math.abs(e.roll - r)).toBeLessThan(3);
    }
  });

  it('matches LFW-like frontal keypoints (from the detector test photo) as near frontal', () => {
    // Colin_Powell_0001.jpg keypoints measured by tests/browser/detector.spec.ts (normalised).
    const kp = [[0.421, 0.465], [0.579, 0.464], [0.528, 0.541], [0.517, 0.63], [0.29, 0.519], [0.623, 0.513]].map(([x, y]) => ({ x: x!, y: y! }));
    const p = estimateHeadPose(kp);
    expect(Math.abs(p.pitch)).toBeLessThan(20);
    expect(p.yaw).toBeGreaterThan(0); // his nose is right of the ear midpoint: turned a little to his left
    expect(p.yaw).toBeLessThan(25);
  });
});

describe('pose targets and hints', () => {
  it('classifies the five enrolment poses', () => {
    expect(matchesPose({ yaw: 3, pitch: -4, roll: 0 }, 'center')).toBe(true);
    expect(matchesPose({ yaw: 30, pitch: 2, roll: 0 }, 'left')).toBe(true);
    expect(matchesPose({ yaw: -30, pitch: 2, roll: 0 }, 'right')).toBe(true);
    expect(matchesPose({ yaw: 2, pitch: 18, roll: 0 }, 'up')).toBe(true);
    expect(matchesPose({ yaw: 2, pitch: -18, roll: 0 }, 'down')).toBe(true);
    expect(matchesPose({ yaw: 30, pitch: 2, roll: 0 }, 'center')).toBe(false);
    expect(matchesPose({ yaw: 30, pitch: 30, roll: 0 }, 'left')).toBe(false);
  });

  it('says which way to move', () => {
    expect(poseHint({ yaw: 0, pitch: 0, roll: 0 }, 'left')).toBe('turn-left');
    expect(poseHint({ yaw: 0, pitch: 0, roll: 0 }, 'right')).toBe('turn-right');
    expect(poseHint({ yaw: 0, pitch: 0, roll: 0 }, 'up')).toBe('look-up');
    expect(poseHint({ yaw: 0, pitch: 0, roll: 0 }, 'down')).toBe('look-down');
    expect(poseHint({ yaw: 40, pitch: 0, roll: 0 }, 'center')).toBe('face-forward');
    expect(poseHint({ yaw: 30, pitch: 0, roll: 0 }, 'left')).toBeNull();
  });
});
