/** The head model of src/core/pose.ts seen by a camera: synthetic BlazeFace keypoints for a known pose (unit tests). */
import type { Point } from '../../src/core/align.js';
import { HEAD_MODEL as M } from '../../src/core/pose.js';

const R = Math.PI / 180;

/** Orthographic projection of the head model's six keypoints turned by yaw, pitch, roll (degrees), scaled and shifted like a camera frame. */
export function project(yaw: number, pitch: number, roll: number, scale = 1.6, ox = 320, oy = 200): Point[] {
  const pts3: [number, number, number][] = [
    [-M.eyeHalfWidth, 0, 0],
    [M.eyeHalfWidth, 0, 0],
    [0, M.noseDrop, M.noseDepth],
    [0, M.mouthDrop, M.mouthDepth],
    [-M.earHalfWidth, M.earDrop, M.earDepth],
    [M.earHalfWidth, M.earDrop, M.earDepth],
  ];
  const [cy, sy] = [Math.cos(yaw * R), Math.sin(yaw * R)];
  const [cp, sp] = [Math.cos(pitch * R), Math.sin(pitch * R)];
  const [cr, sr] = [Math.cos(roll * R), Math.sin(roll * R)];
  return pts3.map(([x, y, z]) => {
    // pitch about the eye line (x axis): looking up moves the nose up (-y)
    const y1 = y * cp - z * sp;
    const z1 = y * sp + z * cp;
    // yaw about the vertical axis: turning to the subject's left moves the nose to +x
    const x2 = x * cy + z1 * sy;
    // roll in the image plane
    const x3 = x2 * cr - y1 * sr;
    const y3 = x2 * sr + y1 * cr;
    return { x: ox + scale * x3, y: oy + scale * y3 };
  });
}
