import type { ActionMode, ActionOutcome } from '../core/actions.js';
import type { SessionAction } from '../core/session.js';
import type { FaceLoginErrorCode } from '../core/errors.js';
import type { TfBackendName } from '../core/types.js';
import type { FaceLoginStatus, Messages } from './i18n.js';

export type FaceLoginMode = 'enroll' | 'verify' | 'identify';

export interface FaceLoginReadyDetail {
  backend: TfBackendName;
  /** Why this backend was chosen (e.g. 'software-gl' when WebGL is emulated on the CPU). */
  backendReason: string;
  /** Milliseconds from connectedCallback to models loaded and warmed up. */
  loadMs: number;
  modelId: string;
  threshold: number;
}
export interface FaceLoginEnrolledDetail {
  userId: string;
  templates: number;
  modelId: string;
}
export interface FaceLoginVerifiedDetail {
  userId: string;
  /** Only with `expose-scores` and a decision made on the device (a server never reveals it). */
  score?: number;
  threshold?: number;
  /** Server decisions: a signed, short-lived token for the portal's backend to check. */
  assertion?: string;
  decidedBy: 'device' | 'server';
}
export interface FaceLoginIdentifiedDetail {
  userId: string;
  /** Only with `expose-scores` and a decision made on the device. */
  score?: number;
  threshold?: number;
  assertion?: string;
  decidedBy: 'device' | 'server';
}
export interface FaceLoginRejectedDetail {
  mode: 'verify' | 'identify';
  /** The claimed user (verify), or null: nobody enrolled matched (identify, "unknown"). */
  userId: string | null;
  /** Only with `expose-scores` and a decision made on the device. */
  score?: number;
  threshold?: number;
  decidedBy: 'device' | 'server';
}
export interface FaceLoginErrorDetail {
  code: FaceLoginErrorCode;
  message: string;
  /** With a `session`: the session this error is about. */
  sessionId?: string;
  /**
   * With a `session`: can the same session be tried again? false: the server refused the capture
   * (the upload used the session up) or the session is unknown, used or expired: the site's backend
   * must open a new session (and set `session` to it). true: nothing used it up (the camera, a
   * capture that timed out on the page, an unreachable server): the person may try again.
   */
  retryable?: boolean;
  /** The server's own error code when the server refused (e.g. invalid-session, identity-changed). */
  serverCode?: string;
}
/**
 * A session's frames reached the server and it has decided. The page is not told the decision:
 * the site's backend reads it (GET /v1/sessions/:id/result with its site key).
 */
export interface FaceLoginSubmittedDetail {
  sessionId: string;
  /** The session's action (the site chose it when it opened the session). */
  action: SessionAction;
}
/** An enrolment made offline (offline="allow"), once the server answered for it. */
export interface FaceLoginSyncedDetail {
  userId: string;
  modelId: string;
  /**
   * enrolled: the server did not know the user; it enrolled them (and now decides for them).
   * backed-up: the server already had the user enrolled; the device's templates were only backed up.
   * refused: the server refused (code: e.g. duplicate-enrollment); the device keeps its templates.
   */
  outcome: 'enrolled' | 'backed-up' | 'refused';
  /** Present when something was refused. */
  code?: FaceLoginErrorCode;
  message?: string;
}
/** An action was cancelled (Cancel button, Escape, or cancel()); the camera keeps running. */
export interface FaceLoginCancelledDetail {
  /** With a session: the session's action (the `mode` attribute's when it was cancelled before the session was read). */
  mode: ActionMode;
  /** With a session: the session (still open: nothing was sent). */
  sessionId?: string;
}
export interface FaceLoginProgressDetail {
  /** Model bytes received so far and expected in total (all files). */
  loaded: number;
  total: number;
}
export interface FaceLoginStatusDetail {
  status: FaceLoginStatus;
  message: string;
}

/** Every event <face-login> fires: bubbling, composed, detail typed per name. */
export interface FaceLoginEventMap {
  'face-login-ready': CustomEvent<FaceLoginReadyDetail>;
  'face-login-progress': CustomEvent<FaceLoginProgressDetail>;
  'face-login-enrolled': CustomEvent<FaceLoginEnrolledDetail>;
  'face-login-verified': CustomEvent<FaceLoginVerifiedDetail>;
  'face-login-identified': CustomEvent<FaceLoginIdentifiedDetail>;
  'face-login-rejected': CustomEvent<FaceLoginRejectedDetail>;
  'face-login-error': CustomEvent<FaceLoginErrorDetail>;
  'face-login-status': CustomEvent<FaceLoginStatusDetail>;
  'face-login-synced': CustomEvent<FaceLoginSyncedDetail>;
  'face-login-cancelled': CustomEvent<FaceLoginCancelledDetail>;
  'face-login-submitted': CustomEvent<FaceLoginSubmittedDetail>;
}

export type FaceLoginEventName = keyof FaceLoginEventMap;

export function emit<K extends FaceLoginEventName>(
  target: EventTarget,
  name: K,
  detail: FaceLoginEventMap[K]['detail'],
): boolean {
  return target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
}

type OutcomeEventName = 'face-login-enrolled' | 'face-login-verified' | 'face-login-identified' | 'face-login-rejected' | 'face-login-submitted';

/** What the element says and fires for one outcome. */
export interface Announcement {
  status: FaceLoginStatus;
  /** The status text when it is not the plain one for `status`. */
  message?: string;
  event: { [K in OutcomeEventName]: { name: K; detail: FaceLoginEventMap[K]['detail'] } }[OutcomeEventName];
}

export interface AnnouncementOptions {
  /**
   * Put the device's similarity `score` and `threshold` into face-login-verified / -identified /
   * -rejected (the element's `expose-scores`). Off by default: a score tells whoever reads the
   * events how close a face came, which helps an attacker tune a presentation; only calibration
   * UIs need it. A server never gives one either way.
   */
  exposeScores?: boolean;
}

/** The one mapping from an action's outcome to the element's status line and event. */
export function announcementFor(o: ActionOutcome, m: Messages, options: AnnouncementOptions = {}): Announcement {
  const scores = (x: { score?: number; threshold?: number }) =>
    options.exposeScores ? { ...(x.score !== undefined ? { score: x.score } : {}), ...(x.threshold !== undefined ? { threshold: x.threshold } : {}) } : {};
  const assertion = (x: { assertion?: string }) => (x.assertion !== undefined ? { assertion: x.assertion } : {});
  switch (o.kind) {
    case 'enrolled':
      return { status: 'enrolled', event: { name: 'face-login-enrolled', detail: { userId: o.userId, templates: o.templates, modelId: o.modelId } } };
    case 'verified':
      return { status: 'verified', event: { name: 'face-login-verified', detail: { userId: o.userId, ...scores(o), ...assertion(o), decidedBy: o.decidedBy } } };
    case 'rejected':
      return { status: 'rejected', event: { name: 'face-login-rejected', detail: { mode: 'verify', userId: o.userId, ...scores(o), decidedBy: o.decidedBy } } };
    case 'identified':
      return {
        status: 'identified',
        message: m.identifiedAs(o.userId),
        event: { name: 'face-login-identified', detail: { userId: o.userId, ...scores(o), ...assertion(o), decidedBy: o.decidedBy } },
      };
    case 'unknown':
      return { status: 'unknown', event: { name: 'face-login-rejected', detail: { mode: 'identify', userId: null, ...scores(o), decidedBy: o.decidedBy } } };
    case 'submitted':
      // Never a decision: the site tells the person.
      return { status: 'submitted', event: { name: 'face-login-submitted', detail: { sessionId: o.sessionId, action: o.action } } };
  }
}

declare global {
  interface GlobalEventHandlersEventMap extends FaceLoginEventMap {}
}
