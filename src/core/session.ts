/**
 * Sessions, the page's part of the capture (issue 10): the site's backend opened a session, the
 * server chose its challenge, and the page films the person doing it. This is the capture plan
 * for such a challenge, built on the capture requests of guided enrolment and of the turn
 * challenge (same gates, same guidance), in the SERVER's order. Each kept frame keeps the whole
 * camera frame, encoded while it is current, with its timestamp: that is what is uploaded, and
 * the server decides from those pixels alone.
 *
 * What the server checks (server/vision/examine.ts), and how the plan meets it:
 * - every frame shows exactly one face: only frames the page's own detector saw one face in are kept;
 * - enroll ('poses'): the poses in order -> `perPose` frames of each pose, in the server's order;
 * - verify / identify ('turns'): a frontal frame, then order[0], then order[1] -> `frontal` frames
 *   gated as 'center', then `perTurn` frames of each turn; the turns within `turnTimeoutMs`
 *   (liveness-failed after it: a still photo never turns, and then nothing is uploaded);
 * - every frame matches every frontal frame (cosine >= the 1:1 threshold) -> every kept frame
 *   passed the quality gates, sharpness included, so no blurred mid-turn frame goes up.
 */
import type { CaptureOptions, CaptureSpec, CapturedFace, CaptureStep } from './capture.js';
import { FaceLoginError, abortError, isFaceLoginError } from './errors.js';
import { poseHint, type HeadPose, type PoseName } from './pose.js';
import type { QualityThresholds } from './quality.js';
import type { Frame } from './types.js';
import { MAX_SESSION_FRAMES, type SessionAction, type SessionChallenge } from '../protocol/routes/sessions.js';

export type { SessionAction, SessionChallenge };

/**
 * Encodes one whole camera frame for an upload (the default: JpegFrameEncoder, the frame
 * downscaled to at most 640 px on its longer side, JPEG quality 0.85).
 */
export interface FrameEncoder {
  /**
   * Called synchronously while `frame` is current (its source shows the next frame right after):
   * copy the pixels before the first await; the bytes may come later.
   */
  encode(frame: Frame): Promise<Uint8Array>;
}

/** One frame of a session's capture, as it is uploaded. */
export interface ChallengeFrame {
  /** The whole camera frame, as the encoder gave it (JPEG bytes by default). */
  readonly jpeg: Uint8Array;
  /** The camera frame's timestamp (monotonic ms); strictly increasing from frame to frame. */
  readonly timestamp: number;
  /** What it was kept for: a pose ('center' also for the frontal frames of a turn challenge) or a turn. */
  readonly step: PoseName;
  /** The head pose the page read on it. */
  readonly pose: HeadPose;
}

export interface ChallengeCaptureOptions extends CaptureOptions {
  /** Encodes each kept frame (required: the upload is the frames). */
  encoder: FrameEncoder;
  /** Poses challenge: frames kept per pose (1 or 2; default 2). */
  perPose?: number;
  /** Turns challenge: frontal frames kept first (default 2). */
  frontal?: number;
  /** Turns challenge: frames kept per turn (1 or 2; default 2). */
  perTurn?: number;
}

/** What the plan needs from the engine. */
export interface ChallengeCaptureContext {
  capture(count: number, spec: CaptureSpec): Promise<CapturedFace[]>;
  /** The gates of enrolment (poses) and of verify / identify (turns). */
  enrollQuality: QualityThresholds;
  verifyQuality: QualityThresholds;
  /** Time for all the turns together, from the end of the frontal frames (the engine's challengeTimeoutMs). */
  turnTimeoutMs: number;
}

/** The most frames one step (a pose, the frontal view, a turn) may keep; a whole plan keeps at most MAX_SESSION_FRAMES. */
const MAX_PER_STEP = 2;

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > MAX_PER_STEP) throw new FaceLoginError('invalid-input', `${name} must be an integer from ${min} to ${MAX_PER_STEP}, got ${n}.`);
  return n;
}

const livenessFailed = () => new FaceLoginError('liveness-failed', 'The head turns were not completed in time: follow the turn-your-head prompts.');

/**
 * Films the person doing the server's challenge and returns the kept frames, encoded, in the
 * order they were seen. Fails as the engine's captures do (no-face on a timeout, multiple-faces,
 * aborted, camera-ended, ...), liveness-failed when the turns are not done in time, invalid-input
 * for a challenge this page does not know, frame-failed when a frame cannot be encoded.
 */
export async function captureChallenge(ctx: ChallengeCaptureContext, challenge: SessionChallenge, options: ChallengeCaptureOptions): Promise<ChallengeFrame[]> {
  const { signal, timeoutMs, encoder } = options;
  if (!encoder || typeof encoder.encode !== 'function') throw new FaceLoginError('invalid-input', 'A session capture needs a FrameEncoder (`encoder`).');
  const encodeFrame = (frame: Frame) => encoder.encode(frame);
  const frames: ChallengeFrame[] = [];
  // Each step's JPEGs are awaited before the next step (a few ms): an encoder that fails stops the capture there.
  const keep = async (faces: readonly CapturedFace[], step: PoseName) => {
    for (const face of faces) frames.push({ jpeg: await encoded(face), timestamp: face.timestamp, step, pose: face.pose });
  };
  if (challenge?.kind === 'poses') {
    const perPose = count('perPose', options.perPose, 2, 1);
    const poses = challenge.poses;
    if (!Array.isArray(poses) || poses.length === 0 || poses.length * perPose > MAX_SESSION_FRAMES) throw unknownChallenge(challenge);
    for (let i = 0; i < poses.length; i++) {
      const target = poses[i]!;
      if (!isPose(target)) throw unknownChallenge(challenge);
      await keep(
        await ctx.capture(perPose, {
          signal,
          timeoutMs,
          step: target,
          quality: ctx.enrollQuality,
          accept: (p) => poseHint(p, target),
          progress: { done: i, total: poses.length },
          encodeFrame,
        }),
        target,
      );
    }
  } else if (challenge?.kind === 'turns') {
    const frontal = count('frontal', options.frontal, 2, 1);
    const perTurn = count('perTurn', options.perTurn, 2, 1);
    const order = challenge.order;
    if (!Array.isArray(order) || order.length === 0 || order.length > 4 || !order.every((o) => o === 'left' || o === 'right')) throw unknownChallenge(challenge);
    // Frontal first: the server's probe is the mean of the frontal frames, and the turns must follow one.
    await keep(
      await ctx.capture(frontal, { signal, timeoutMs, step: 'probe', quality: ctx.verifyQuality, accept: (p) => poseHint(p, 'center'), encodeFrame }),
      'center',
    );
    const deadline = performance.now() + ctx.turnTimeoutMs;
    for (let i = 0; i < order.length; i++) {
      const target = order[i]!;
      const left = deadline - performance.now();
      if (left <= 0) throw livenessFailed();
      const step: CaptureStep = `liveness-${target}`;
      const faces = await ctx
        .capture(perTurn, {
          signal,
          timeoutMs: left,
          step,
          // The full gates, sharpness included (unlike the device's own turn challenge): the server
          // compares every uploaded frame with the frontal ones, and a blurred one could fail that.
          quality: ctx.verifyQuality,
          accept: (p) => poseHint(p, target),
          progress: { done: i, total: order.length },
          timeoutError: livenessFailed,
          encodeFrame,
        })
        .catch((e: unknown) => {
          throw isFaceLoginError(e) && e.code === 'no-face' ? livenessFailed() : e;
        });
      await keep(faces, target);
    }
  } else {
    throw unknownChallenge(challenge);
  }
  if (signal?.aborted) throw abortError(signal.reason);
  return frames;
}

async function encoded(face: CapturedFace): Promise<Uint8Array> {
  let jpeg: Uint8Array | undefined;
  try {
    jpeg = await face.encoded;
  } catch (e) {
    throw new FaceLoginError('frame-failed', `A camera frame could not be encoded for the upload: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  if (!(jpeg instanceof Uint8Array) || jpeg.length === 0) throw new FaceLoginError('frame-failed', 'A camera frame was encoded to nothing.');
  return jpeg;
}

const POSE_NAMES: ReadonlySet<string> = new Set<PoseName>(['center', 'left', 'right', 'up', 'down']);
const isPose = (p: unknown): p is PoseName => typeof p === 'string' && POSE_NAMES.has(p);

function unknownChallenge(challenge: unknown): FaceLoginError {
  let shown: string;
  try {
    shown = JSON.stringify(challenge)?.slice(0, 200) ?? String(challenge);
  } catch {
    shown = String(challenge);
  }
  return new FaceLoginError('invalid-input', `This page cannot perform the session's challenge ${shown}: it knows the five poses and the left / right turns.`);
}
