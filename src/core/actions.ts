/**
 * One action of a face login box, run on a FaceAuth through its public API only: enrol, verify,
 * identify once, or the kiosk (identify continuously). The result is an outcome, one typed
 * union the element (or any page) turns into its events and status text.
 */
import type { FaceAuth, LivenessMode } from './engine.js';
import { FaceLoginError } from './errors.js';
import { runKiosk } from './kiosk.js';
import type { PoseName } from './pose.js';
import type { SessionAction } from './session.js';
import type { IdentifyResult, VerifyResult } from './types.js';

export type ActionMode = 'enroll' | 'verify' | 'identify' | 'kiosk';

export const ACTION_MODES: readonly ActionMode[] = ['enroll', 'verify', 'identify', 'kiosk'];

export type DecidedBy = 'device' | 'server';

export type ActionOutcome =
  | { readonly kind: 'enrolled'; readonly userId: string; readonly templates: number; readonly modelId: string }
  | { readonly kind: 'verified'; readonly userId: string; readonly score?: number; readonly threshold?: number; readonly assertion?: string; readonly decidedBy: DecidedBy }
  /** Verify: the person is not the claimed user. */
  | { readonly kind: 'rejected'; readonly userId: string; readonly score?: number; readonly threshold?: number; readonly decidedBy: DecidedBy }
  | { readonly kind: 'identified'; readonly userId: string; readonly score?: number; readonly threshold?: number; readonly assertion?: string; readonly decidedBy: DecidedBy }
  /** Identify: nobody enrolled matched. */
  | { readonly kind: 'unknown'; readonly score?: number; readonly threshold?: number; readonly decidedBy: DecidedBy }
  | SessionOutcome;

/**
 * A session (runSession): the frames of the server's challenge were uploaded and the server has
 * decided. The page is never told what: the site's backend reads the result. `action` is the
 * session's (the site chose it when it opened the session).
 */
export interface SessionOutcome {
  readonly kind: 'submitted';
  readonly sessionId: string;
  readonly action: SessionAction;
}

/** What identify (once or in the kiosk) can come to. */
export type IdentifyOutcome = Extract<ActionOutcome, { kind: 'identified' | 'unknown' }>;

/** One action; which fields count depends on the mode. */
export interface Action {
  readonly mode: ActionMode;
  /** enroll / verify: the user (the engine refuses an empty one with invalid-input). */
  readonly userId?: string;
  /** enroll: guided poses (true = centre, left, right, up, down). */
  readonly guided?: boolean | readonly PoseName[];
  /** kiosk: minimum time between two announcements of the same person (default 10 s). */
  readonly cooldownMs?: number;
  /** kiosk: each person who stepped in front of the camera, as they are announced. */
  readonly onOutcome?: (outcome: IdentifyOutcome) => void;
}

export interface ActionOptions {
  signal?: AbortSignal;
  /** Overrides the engine's liveness mode for verify / identify / kiosk. */
  liveness?: LivenessMode;
}

/**
 * The action for a mode name as pages write it (`mode` plus `continuous` for the kiosk). An
 * unknown mode is `invalid-input`, never a silent fallback to another action.
 */
export function assertActionMode(mode: string, continuous = false): ActionMode {
  if (mode === 'identify' && continuous) return 'kiosk';
  if (!(ACTION_MODES as readonly string[]).includes(mode)) {
    throw new FaceLoginError('invalid-input', `Unknown mode "${mode}": use enroll, verify or identify (identify with continuous for a kiosk).`);
  }
  return mode as ActionMode;
}

export function verifyOutcome(r: VerifyResult): Extract<ActionOutcome, { kind: 'verified' | 'rejected' }> {
  const decidedBy = r.decidedBy ?? 'device';
  const { userId, score, threshold } = r;
  return r.accepted ? { kind: 'verified', userId, score, threshold, assertion: r.assertion, decidedBy } : { kind: 'rejected', userId, score, threshold, decidedBy };
}

export function identifyOutcome(r: IdentifyResult): IdentifyOutcome {
  const decidedBy = r.decidedBy ?? 'device';
  const { score, threshold } = r;
  return r.userId !== null ? { kind: 'identified', userId: r.userId, score, threshold, assertion: r.assertion, decidedBy } : { kind: 'unknown', score, threshold, decidedBy };
}

/**
 * Runs one action. Enrol, verify and identify resolve with their outcome; the kiosk reports each
 * outcome through `onOutcome` and resolves with null once the signal aborts. Errors (no face,
 * camera gone, aborted, an unknown mode, ...) reject as FaceLoginError.
 */
export async function runAction(auth: FaceAuth, action: Action, options: ActionOptions = {}): Promise<Exclude<ActionOutcome, SessionOutcome> | null> {
  const { signal, liveness } = options;
  const { mode, userId = '' } = action;
  switch (mode) {
    case 'enroll': {
      const r = await auth.enroll(userId, { signal, guided: action.guided });
      return { kind: 'enrolled', userId: r.userId, templates: r.templates, modelId: r.modelId };
    }
    case 'verify':
      return verifyOutcome(await auth.verify(userId, { signal, liveness }));
    case 'identify':
      return identifyOutcome(await auth.identify({ signal, liveness }));
    case 'kiosk': {
      const { onOutcome } = action;
      if (!onOutcome) throw new FaceLoginError('invalid-input', 'The kiosk reports through onOutcome: give one.');
      await runKiosk(auth, { signal, liveness, cooldownMs: action.cooldownMs, onResult: (r) => onOutcome(identifyOutcome(r)) });
      return null;
    }
    default:
      throw new FaceLoginError('invalid-input', `Unknown mode "${mode as string}": use ${ACTION_MODES.join(', ')}.`);
  }
}
