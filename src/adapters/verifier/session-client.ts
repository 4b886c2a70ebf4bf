/**
 * The page's side of sessions (issue 10; src/protocol/routes/sessions.ts). The site's backend
 * opened the session with its key and gave the page only the session id; the page
 *
 *   GET  /v1/sessions/:id          -> { action, challenge, expiresAt }    (SessionClient.info)
 *   ...films the person doing the challenge (FaceAuth.captureChallenge)...
 *   POST /v1/sessions/:id/frames   -> { status: 'done' } | a refusal      (SessionClient.upload)
 *
 * and never learns the decision: the site's backend reads it (GET /v1/sessions/:id/result).
 * runSession does the three steps on a FaceAuth. Every answer is checked against the route's
 * schema (http-call.ts); the server's refusals become FaceLoginErrors through pageErrorCode
 * (ServerRefusal, with the server's code). A session is single-use: after a capture refusal or an
 * invalid-session answer it is spent (sessionSpent), and the site must open a new one.
 */
import { FaceLoginError, abortError, isFaceLoginError } from '../../core/errors.js';
import type { FaceAuth } from '../../core/engine.js';
import type { SessionOutcome } from '../../core/actions.js';
import type { ChallengeCaptureOptions, ChallengeFrame, FrameEncoder } from '../../core/session.js';
import { fits } from '../../protocol/check.js';
import { pageErrorCode } from '../../protocol/errors.js';
import {
  CAPTURE_REFUSALS,
  MAX_FRAME_BASE64,
  MAX_SESSION_FRAMES,
  SessionId,
  sessionInfoRoute,
  uploadFramesRoute,
  type SessionAction,
  type SessionChallenge,
} from '../../protocol/routes/sessions.js';
import { callRoute, ServerRefusal, type HttpTarget } from './http-call.js';
import { JpegFrameEncoder } from './jpeg-frame-encoder.js';

export interface SessionClientOptions {
  /** Base URL of the face-login server (its routes live under /v1). */
  baseUrl: string;
  /** Timeout of reading the session. Default 10 s. */
  timeoutMs?: number;
  /** Timeout of the upload, which includes the server's examination of the frames. Default 60 s. */
  uploadTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** What a session asks of the person (GET /v1/sessions/:id). */
export interface SessionInfo {
  readonly sessionId: string;
  readonly action: SessionAction;
  readonly challenge: SessionChallenge;
  /** When the session expires (server time, ISO 8601). */
  readonly expiresAt: string;
}

/** One frame as uploaded: JPEG bytes and ms since the first frame (strictly increasing). */
export interface SessionUploadFrame {
  readonly jpeg: Uint8Array;
  readonly t: number;
}

/** The upload's `t` never exceeds this (ms since the first frame). */
const MAX_T_MS = 600_000;

/** Base64 of bytes, in chunks (no Buffer in a browser; String.fromCharCode(...all) overflows the stack). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The captured frames as the upload carries them: t = ms since the first frame, strictly increasing. */
export function uploadFrames(frames: readonly ChallengeFrame[]): SessionUploadFrame[] {
  const t0 = frames[0]?.timestamp ?? 0;
  let last = -Infinity;
  return frames.map((f, i) => {
    const t = Math.round((f.timestamp - t0) * 1000) / 1000;
    if (!(t > last)) throw new FaceLoginError('invalid-input', `Frame ${i} is not later than frame ${i - 1}: the frames of an upload must be in time order.`);
    last = t;
    return { jpeg: f.jpeg, t };
  });
}

function checkSessionId(sessionId: string): void {
  if (!fits(SessionId, sessionId)) throw new FaceLoginError('invalid-input', `"${String(sessionId).slice(0, 64)}" is not a session id (43 base64url characters from the site's POST /v1/sessions).`);
}

/**
 * True when `error` means the session cannot be used again: the server refused the capture (the
 * upload consumed the session) or says the session is unknown, used or expired. The site must open
 * a new session. Any other failure (the camera, a capture that timed out on the page, an
 * unreachable server) left it open: the same session can be tried again until it expires.
 */
export function sessionSpent(error: unknown): boolean {
  return error instanceof ServerRefusal && (error.serverCode === 'invalid-session' || (CAPTURE_REFUSALS as readonly string[]).includes(error.serverCode));
}

/** The routes a page uses with a session id (no key). */
export class SessionClient {
  private readonly target: HttpTarget;
  private readonly uploadTimeoutMs: number;

  constructor(options: SessionClientOptions) {
    this.target = {
      base: options.baseUrl.replace(/\/+$/, ''),
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
    this.uploadTimeoutMs = options.uploadTimeoutMs ?? 60_000;
  }

  /** The session's action, challenge and expiry. invalid-session (ServerRefusal, code backend-error): unknown, used or expired. */
  async info(sessionId: string, signal?: AbortSignal): Promise<SessionInfo> {
    checkSessionId(sessionId);
    const r = await callRoute(this.target, sessionInfoRoute, { params: { id: sessionId } }, signal);
    return { sessionId, action: r.action, challenge: r.challenge, expiresAt: r.expiresAt };
  }

  /**
   * Uploads the frames once; resolves when the server answered { status: 'done' } (it has decided;
   * the site reads the decision). Refusals: no-face, multiple-faces, liveness-failed (also for the
   * server's identity-changed), invalid-input (bad-frames), backend-error (invalid-session), each a
   * ServerRefusal with the server's code.
   */
  async upload(sessionId: string, frames: readonly SessionUploadFrame[], signal?: AbortSignal): Promise<void> {
    checkSessionId(sessionId);
    if (frames.length < 1 || frames.length > MAX_SESSION_FRAMES) {
      throw new FaceLoginError('invalid-input', `An upload carries 1 to ${MAX_SESSION_FRAMES} frames, not ${frames.length}.`);
    }
    let last = -Infinity;
    const body = frames.map((f, i) => {
      if (!(Number.isFinite(f.t) && f.t >= 0 && f.t <= MAX_T_MS && f.t > last)) {
        throw new FaceLoginError('invalid-input', `Frame ${i}'s time ${f.t} is not within 0..${MAX_T_MS} ms and after the previous frame's.`);
      }
      last = f.t;
      const jpeg = toBase64(f.jpeg);
      if (jpeg.length < 4 || jpeg.length > MAX_FRAME_BASE64) {
        throw new FaceLoginError('frame-failed', `Frame ${i} is ${f.jpeg.length} bytes; an uploaded frame is at most ${(MAX_FRAME_BASE64 * 3) / 4} bytes.`);
      }
      return { jpeg, t: f.t };
    });
    const r = await callRoute(this.target, uploadFramesRoute, { params: { id: sessionId }, body: { frames: body } }, signal, this.uploadTimeoutMs);
    // A refused capture: the session is used; the person hears why (sessionSpent says a new session is needed).
    if (r.status === 'refused') throw new ServerRefusal(pageErrorCode(r.refusal), r.message, r.refusal, 200);
    if (r.status !== 'done') throw new FaceLoginError('backend-error', 'The verification server\'s answer to the upload does not fit the protocol.');
  }
}

export interface RunSessionTarget {
  /** Base URL of the face-login server. */
  server: string;
  /** The session id the site's backend got from POST /v1/sessions. */
  sessionId: string;
}

export interface RunSessionOptions extends Pick<ChallengeCaptureOptions, 'timeoutMs' | 'perPose' | 'frontal' | 'perTurn'> {
  signal?: AbortSignal;
  /** The session as the server described it, before the capture starts (to show what will be asked). */
  onInfo?: (info: SessionInfo) => void;
  /** The frames are captured and about to be sent (how many). */
  onUpload?: (frames: number) => void;
  /** Encodes each kept frame. Default: JpegFrameEncoder (longer side <= 640 px, quality 0.85). */
  encoder?: FrameEncoder;
  /** The HTTP client's options (fetch, timeouts), or a client of your own. */
  client?: SessionClient | Omit<SessionClientOptions, 'baseUrl'>;
}

/**
 * One session on a running FaceAuth: reads it, films the person doing the server's challenge
 * (FaceAuth.captureChallenge: its order, its poses), uploads the frames, and resolves with
 * `{ kind: 'submitted', sessionId, action }` once the server has them and has decided. The page
 * never learns the decision: the site's backend reads it. Rejects with a FaceLoginError: the
 * capture's (no-face, liveness-failed when the turns are not done in time: then nothing is sent
 * and the session stays open), the server's refusals (ServerRefusal; sessionSpent() tells whether
 * the site must open a new session), backend-unavailable, backend-overloaded (retry after its wait), backend-storage, aborted.
 */
export async function runSession(auth: FaceAuth, target: RunSessionTarget, options: RunSessionOptions = {}): Promise<SessionOutcome> {
  const { signal, onInfo, onUpload, encoder = new JpegFrameEncoder(), client: clientOption } = options;
  const { sessionId } = target;
  if (!target.server) throw new FaceLoginError('invalid-input', 'A session needs the face-login server\'s URL (`server`).');
  const client = clientOption instanceof SessionClient ? clientOption : new SessionClient({ ...clientOption, baseUrl: target.server });
  const info = await client.info(sessionId, signal);
  if (signal?.aborted) throw abortError(signal.reason);
  onInfo?.(info);
  const frames = await auth.captureChallenge(info.challenge, {
    signal,
    encoder,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.perPose !== undefined ? { perPose: options.perPose } : {}),
    ...(options.frontal !== undefined ? { frontal: options.frontal } : {}),
    ...(options.perTurn !== undefined ? { perTurn: options.perTurn } : {}),
  });
  onUpload?.(frames.length);
  try {
    await client.upload(sessionId, uploadFrames(frames), signal);
  } catch (e) {
    throw isFaceLoginError(e) ? e : new FaceLoginError('backend-error', String((e as Error)?.message ?? e), { cause: e });
  }
  return { kind: 'submitted', sessionId, action: info.action };
}
