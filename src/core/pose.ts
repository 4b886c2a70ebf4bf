/**
 * Head pose from BlazeFace's six keypoints, without a 3D landmark model: a small rigid head
 * model (millimetres, camera looking at the face, x to the image right, y down, z towards the
 * camera) gives closed-form inversions for yaw (nose against the ear tragions) and pitch (nose
 * between the eye line and the mouth), after removing roll (the eye line's angle). Exact for an
 * orthographic view of that model; good to a few degrees on real faces, which is what guided
 * enrolment and the turn-your-head liveness challenge need.
 *
 * Signs are the subject's: yaw > 0 = the person turns to their own left (the nose moves to the
 * image right in an unmirrored camera frame), pitch > 0 = looking up, roll > 0 = head tilted
 * clockwise in the image.
 */
import type { Point } from './align.js';

/**
 * The head model (mm). The nose/mouth drop ratio at zero pitch, 38/72 = 0.53, is the median over
 * 1,296 LFW photos of ten people as BlazeFace sees them (bench/runners/pose-scan.mjs; their median
 * yaw comes out at -1.6 degrees with these proportions, unadjusted).
 */
export const HEAD_MODEL = {
  eyeHalfWidth: 32,
  noseDrop: 38,
  noseDepth: 25,
  mouthDrop: 72,
  mouthDepth: 10,
  earHalfWidth: 70,
  earDrop: 15,
  earDepth: -85,
} as const;

export interface HeadPose {
  /** Degrees; > 0 = turned to the subject's left. */
  readonly yaw: number;
  /** Degrees; > 0 = looking up. */
  readonly pitch: number;
  /** Degrees; in-plane tilt of the eye line. */
  readonly roll: number;
}

const DEG = 180 / Math.PI;

/**
 * Estimates the pose from keypoints in BlazeFace order (subject's right eye, left eye, nose tip,
 * mouth centre, right ear tragion, left ear tragion), in pixels or normalised units alike.
 */
export function estimateHeadPose(keypoints: readonly Point[]): HeadPose {
  if (keypoints.length < 6) throw new RangeError('estimateHeadPose needs the six BlazeFace keypoints.');
  const [re, le, nose, mouth, rEar, lEar] = keypoints as [Point, Point, Point, Point, Point, Point];
  const roll = Math.atan2(le.y - re.y, le.x - re.x);
  // Undo roll about the eye midpoint so yaw and pitch read off axis-aligned coordinates.
  const cx = (re.x + le.x) / 2;
  const cy = (re.y + le.y) / 2;
  const c = Math.cos(-roll);
  const s = Math.sin(-roll);
  const un = (p: Point): Point => ({ x: c * (p.x - cx) - s * (p.y - cy), y: s * (p.x - cx) + c * (p.y - cy) });
  const n = un(nose);
  const m = un(mouth);
  const a = un(rEar);
  const b = un(lEar);
  const M = HEAD_MODEL;
  // Yaw: nose x' = noseDepth*sin(t); ear midpoint x' = earDepth*sin(t); ear half-span = earHalfWidth*cos(t).
  const earMid = (a.x + b.x) / 2;
  const earHalf = Math.abs(b.x - a.x) / 2;
  const yaw = earHalf > 1e-9 ? Math.atan(((n.x - earMid) / earHalf) * (M.earHalfWidth / (M.noseDepth - M.earDepth))) : 0;
  // Pitch, from r = nose drop / mouth drop with the model rotated by p about the eye line:
  // r = (noseDrop - noseDepth*tan p) / (mouthDrop - mouthDepth*tan p).
  const r = m.y !== 0 ? n.y / m.y : M.noseDrop / M.mouthDrop;
  const pitch = Math.atan((M.noseDrop - r * M.mouthDrop) / (M.noseDepth - r * M.mouthDepth));
  return { yaw: yaw * DEG, pitch: pitch * DEG, roll: roll * DEG };
}

export type PoseName = 'center' | 'left' | 'right' | 'up' | 'down';

export interface PoseTargets {
  /** |yaw| and |pitch| at most this for "center". Default 12°. */
  centerMax: number;
  /** |yaw| at least this for "left" / "right". Default 22°. */
  turnMin: number;
  /** |pitch| at least this for "up" / "down". Default 12°. */
  tiltMin: number;
  /** The other axis must stay within this during a turn or tilt. Default 20°. */
  offAxisMax: number;
}

export const DEFAULT_POSE_TARGETS: PoseTargets = { centerMax: 12, turnMin: 22, tiltMin: 12, offAxisMax: 20 };

/** Does the pose count as `target`? */
export function matchesPose(pose: HeadPose, target: PoseName, t: PoseTargets = DEFAULT_POSE_TARGETS): boolean {
  switch (target) {
    case 'center':
      return Math.abs(pose.yaw) <= t.centerMax && Math.abs(pose.pitch) <= t.centerMax;
    case 'left':
      return pose.yaw >= t.turnMin && Math.abs(pose.pitch) <= t.offAxisMax;
    case 'right':
      return pose.yaw <= -t.turnMin && Math.abs(pose.pitch) <= t.offAxisMax;
    case 'up':
      return pose.pitch >= t.tiltMin && Math.abs(pose.yaw) <= t.offAxisMax;
    case 'down':
      return pose.pitch <= -t.tiltMin && Math.abs(pose.yaw) <= t.offAxisMax;
  }
}

/** The direction to move from `pose` towards `target` (for the hint), or null when already there. */
export function poseHint(pose: HeadPose, target: PoseName, t: PoseTargets = DEFAULT_POSE_TARGETS): 'turn-left' | 'turn-right' | 'look-up' | 'look-down' | 'face-forward' | null {
  if (matchesPose(pose, target, t)) return null;
  switch (target) {
    case 'center':
      return 'face-forward';
    case 'left':
      return Math.abs(pose.pitch) > t.offAxisMax ? 'face-forward' : 'turn-left';
    case 'right':
      return Math.abs(pose.pitch) > t.offAxisMax ? 'face-forward' : 'turn-right';
    case 'up':
      return Math.abs(pose.yaw) > t.offAxisMax ? 'face-forward' : 'look-up';
    case 'down':
      return Math.abs(pose.yaw) > t.offAxisMax ? 'face-forward' : 'look-down';
  }
}
