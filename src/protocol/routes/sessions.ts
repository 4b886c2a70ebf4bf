/**
 * Sessions: the site's backend opens one (site key), the page uploads the captured frames once
 * (the session id is the capability), the server examines the frames itself and decides, the
 * site's backend reads the result (site key). The page never sees a score or the decision.
 */
import * as T from '@sinclair/typebox';
import { Closed, DateTime, Nullable, OneOf, Pose, UserId } from '../fields.js';
import { defineRoute } from '../route.js';

export const SESSION_ACTIONS = ['enroll', 'verify', 'identify'] as const;
export const SESSION_STATES = ['pending', 'done', 'refused', 'expired'] as const;
/** The examiner's refusals of an upload: about the capture, not whose face it is, so the page hears them. */
export const CAPTURE_REFUSALS = ['bad-frames', 'no-face', 'multiple-faces', 'liveness-failed', 'identity-changed'] as const;
export type CaptureRefusal = (typeof CAPTURE_REFUSALS)[number];
/** Why a session ended without a decision (the capture refusals, then the decision's: told to the site only). */
export const SESSION_REFUSALS = [
  ...CAPTURE_REFUSALS,
  'duplicate-enrollment',
  'unknown-user',
  'locked-out',
  'internal',
  // identify: two users' templates both reached the threshold (the same face under two ids): nobody is named.
  'ambiguous',
] as const;

/** A session id: 256 random bits as base64url (43 characters). */
export const SESSION_ID = { minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]+$' } as const;
/** Most frames one upload may carry, and the longest base64 JPEG of one frame (~384 KiB of bytes). */
export const MAX_SESSION_FRAMES = 24;
export const MAX_FRAME_BASE64 = 512 * 1024;
/** The site's own nonce, echoed in the result. */
export const SITE_NONCE = { minLength: 8, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' } as const;
/** The longest site key the server reads from the header. */
export const MAX_SITE_KEY_LENGTH = 512;

export const SessionAction = OneOf(SESSION_ACTIONS);
export type SessionAction = T.Static<typeof SessionAction>;
export const SessionState = OneOf(SESSION_STATES);
export type SessionState = T.Static<typeof SessionState>;
export const SessionRefusal = OneOf(SESSION_REFUSALS);
export type SessionRefusal = T.Static<typeof SessionRefusal>;

export const SessionId = T.String({ ...SESSION_ID, description: 'A session id from POST /v1/sessions (base64url, 256 bits).' });
export const SiteNonce = T.String({ ...SITE_NONCE, description: 'The site\'s own nonce (printable ASCII), echoed in the result.' });

/** Not required by the schema: a missing key is 401 unauthorized (checked by the handler), not invalid-body. */
export const SiteKeyHeaders = T.Object({
  'x-face-login-site-key': T.Optional(
    T.String({ maxLength: MAX_SITE_KEY_LENGTH, description: 'The site\'s API key (FACE_LOGIN_SITE_KEYS). Server-to-server only: CORS never allows this header.' }),
  ),
});

const SessionParams = Closed({ id: SessionId });

/** What the server asked the person to do (chosen at random by the server). */
export const SessionChallenge = T.Union([
  Closed({ kind: T.Literal('poses'), poses: T.Array(Pose) }),
  Closed({ kind: T.Literal('turns'), order: T.Array(OneOf(['left', 'right'] as const)) }),
]);
export type SessionChallenge = T.Static<typeof SessionChallenge>;

export const createSessionRoute = defineRoute({
  method: 'POST',
  url: '/v1/sessions',
  summary: 'Open a session (site backend)',
  description:
    'The site\'s backend, with its site key, opens a single-use session for one action and user (no user for identify). ' +
    'The server picks the challenge at random: enroll = the five poses, verify / identify = turns in a random order. ' +
    'Hand the sessionId to the page; read the result with GET /v1/sessions/{id}/result.',
  headers: SiteKeyHeaders,
  body: Closed({ action: SessionAction, userId: T.Optional(UserId), siteNonce: SiteNonce }),
  response: { 201: Closed({ sessionId: SessionId, expiresAt: DateTime, challenge: SessionChallenge }) },
});

export const sessionInfoRoute = defineRoute({
  method: 'GET',
  url: '/v1/sessions/:id',
  summary: 'What a session asks of the person (page)',
  description:
    'No key: the session id is the capability. The action, the server\'s challenge and when the session expires, so the ' +
    'page can guide the person through it. Never the user, the site\'s nonce or a result. An unknown, used or expired ' +
    'session is invalid-session.',
  params: SessionParams,
  response: { 200: Closed({ action: SessionAction, challenge: SessionChallenge, expiresAt: DateTime }) },
});

export const uploadFramesRoute = defineRoute({
  method: 'POST',
  url: '/v1/sessions/:id/frames',
  summary: 'Upload a session\'s frames (page)',
  description:
    'The captured frames (JPEG, base64) with their times. Consumes the session (one upload only) once the body is valid: ' +
    'the server examines the frames and decides. The page gets { status: "done" } or, when the frames could not be ' +
    'decided from, { status: "refused", refusal } (no-face, multiple-faces, liveness-failed, identity-changed, ' +
    'bad-frames: about the capture; the session is used either way); never the decision or a score. A 200 both: the ' +
    'upload was examined (a refused capture is an outcome, not an HTTP error). A body that is refused before ' +
    'examination (invalid-body, body-too-large) leaves the session open, as does 503 overloaded (every examination ' +
    'slot taken: retry after Retry-After).',
  params: SessionParams,
  body: Closed({
    frames: T.Array(
      Closed({
        jpeg: T.String({ minLength: 4, maxLength: MAX_FRAME_BASE64, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'The JPEG bytes, base64.' }),
        t: T.Number({ minimum: 0, maximum: 600_000, description: 'ms since the first frame (strictly increasing).' }),
      }),
      { minItems: 1, maxItems: MAX_SESSION_FRAMES },
    ),
  }),
  response: {
    200: T.Union([
      Closed({ status: T.Literal('done') }),
      Closed({ status: T.Literal('refused'), refusal: OneOf(CAPTURE_REFUSALS), message: T.String({ maxLength: 500, description: 'For developers: which frame, and why.' }) }),
    ]),
  },
});

export const sessionResultRoute = defineRoute({
  method: 'GET',
  url: '/v1/sessions/:id/result',
  summary: 'Read a session\'s result (site backend)',
  description:
    'Site key only. The session\'s action, user (identify: who was recognised, or null for unknown), the site\'s nonce, ' +
    'its state, and once decided the decision and liveness (never a score); refused sessions name the refusal. ' +
    'A pending session can be polled; a final result (done, refused, expired) is read once: it is deleted as it is ' +
    'read, and a second read is invalid-session.',
  params: SessionParams,
  headers: SiteKeyHeaders,
  response: {
    200: Closed({
      sessionId: SessionId,
      action: SessionAction,
      userId: Nullable(UserId),
      siteNonce: SiteNonce,
      state: SessionState,
      decision: T.Optional(OneOf(['accept', 'reject'] as const)),
      liveness: T.Optional(OneOf(['passed', 'failed'] as const)),
      refusal: T.Optional(SessionRefusal),
      decidedAt: T.Optional(DateTime),
    }),
  },
});
