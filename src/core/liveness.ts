/**
 * Liveness (presentation-attack detection) for verify / identify: the mode check, the active
 * turn challenge (built on capture requests) and the passive check (a PassiveLiveness you supply
 * scores the kept probe frames).
 */
import type { CaptureSpec, CapturedFace } from './capture.js';
import { FaceLoginError, isFaceLoginError } from './errors.js';
import { poseHint } from './pose.js';
import type { QualityThresholds } from './quality.js';
import type { PassiveLiveness } from './types.js';

/**
 * Liveness (presentation-attack detection) for verify / identify:
 * - 'off': none.
 * - 'active': the person turns left and right in a random order (what ships; measured in README).
 * - 'passive': a PassiveLiveness model you supply scores the kept probe frames. face-login ships
 *   no such model (the one we measured does not work: bench/results/liveness-passive.md).
 * - 'both': the active challenge, then the passive check.
 * 'passive' and 'both' without a `passiveLiveness` are refused with `invalid-input`.
 */
export type LivenessMode = 'off' | 'active' | 'passive' | 'both';

export const LIVENESS_MODES: readonly LivenessMode[] = ['off', 'active', 'passive', 'both'];

/**
 * Checks a liveness mode against what is configured: an unknown mode, or 'passive' / 'both'
 * without a PassiveLiveness, throws FaceLoginError('invalid-input') naming the fix.
 */
export function assertLivenessMode(mode: string, passive: PassiveLiveness | null | undefined): LivenessMode {
  if (!(LIVENESS_MODES as readonly string[]).includes(mode)) {
    throw new FaceLoginError('invalid-input', `Unknown liveness mode "${mode}": use off, active, passive or both.`);
  }
  if ((mode === 'passive' || mode === 'both') && !passive) {
    throw new FaceLoginError(
      'invalid-input',
      `Liveness "${mode}" needs a passive liveness model, and face-login ships none: pass your own PassiveLiveness as \`passiveLiveness\` ` +
        '(createFaceAuth({ engine: { passiveLiveness } }), or the element\'s createEngine), or use liveness "active".',
    );
  }
  return mode as LivenessMode;
}

export const usesActiveLiveness = (mode: LivenessMode): boolean => mode === 'active' || mode === 'both';
export const usesPassiveLiveness = (mode: LivenessMode): boolean => mode === 'passive' || mode === 'both';

export interface TurnChallengeOptions {
  signal?: AbortSignal;
  /** Total time for the turn sequence. */
  challengeTimeoutMs: number;
  /** The probe quality gates (sharpness is dropped: a turning head is briefly blurred). */
  quality: QualityThresholds;
  /** Random source for the order of the turns. */
  random: () => number;
}

/**
 * Active liveness: the person turns left and right in a random order within the time limit,
 * one kept frame per turn. A still photo never changes pose, so it fails with liveness-failed.
 */
export async function turnChallenge(capture: (count: number, spec: CaptureSpec) => Promise<CapturedFace[]>, options: TurnChallengeOptions): Promise<void> {
  const steps: ('left' | 'right')[] = options.random() < 0.5 ? ['left', 'right'] : ['right', 'left'];
  const deadline = performance.now() + options.challengeTimeoutMs;
  const failed = () => new FaceLoginError('liveness-failed', 'The liveness check was not completed in time: follow the turn-your-head prompts.');
  for (let i = 0; i < steps.length; i++) {
    const target = steps[i]!;
    const left = deadline - performance.now();
    if (left <= 0) throw failed();
    await capture(1, {
      signal: options.signal,
      timeoutMs: left,
      step: `liveness-${target}`,
      // Framing only: a turning head is briefly blurred, and sharpness is not what is checked here.
      quality: { ...options.quality, minSharpness: 0 },
      accept: (p) => poseHint(p, target),
      progress: { done: i, total: steps.length },
      timeoutError: failed,
    }).catch((e: unknown) => {
      throw isFaceLoginError(e) && e.code === 'no-face' ? failed() : e;
    });
  }
}

/**
 * Passive liveness: scores the kept frames' liveness crops in one batch; their mean must reach
 * the model's threshold, else liveness-failed.
 */
export async function passiveCheck(passive: PassiveLiveness, kept: readonly CapturedFace[]): Promise<void> {
  const crops = kept.flatMap((k) => (k.livenessCrop ? [k.livenessCrop] : []));
  const scores = await passive.score(crops);
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  if (!(mean >= passive.threshold)) {
    throw new FaceLoginError('liveness-failed', 'The face did not look live to the camera (a photo or a screen?).');
  }
}
