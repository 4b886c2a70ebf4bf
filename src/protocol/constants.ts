/**
 * The wire constants of the face-login protocol: what the page may send and what the server
 * accepts. Plain values only (no DOM, no Node, no Lit), so the browser bundle and the server
 * (through tsx) read the same numbers; the schemas (./fields.ts, ./routes/) are built from them,
 * and the types (Pose, ChallengeAction, ...) come from those schemas.
 */

/** Head poses an enrolment captures, one template each. */
export const POSES = ['center', 'left', 'right', 'up', 'down'] as const;

/** What a challenge nonce is for; a nonce is good for its action only. */
export const CHALLENGE_ACTIONS = ['enroll', 'verify', 'identify', 'backup', 'restore', 'delete', 'export'] as const;

/** A challenge nonce: this many random bytes, sent as base64url (43 characters for 32 bytes). */
export const NONCE_BYTES = 32;
export const NONCE = { minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' } as const;

/** The portal's user id. */
export const USER_ID = { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@+:-]+$' } as const;

/** The embedder's model id (`Embedder.modelId`). */
export const MODEL_ID = { minLength: 1, maxLength: 64 } as const;

/** Embedding length of every model the widget ships (MobileFaceNet); a server may configure others. */
export const EMBEDDING_SIZE = 192;
/** The longest embedding any model may have (the server's configured sizes stay within it). */
export const MAX_EMBEDDING_LENGTH = 2048;

/** Most templates one enrolment may carry (one per pose and capture). */
export const MAX_ENROLL_TEMPLATES = 10;
/** Most templates one backup may carry. */
export const MAX_BACKUP_TEMPLATES = 20;

/** Longest `Authorization: Bearer <assertion>` header and admin key the server reads. */
export const MAX_AUTHORIZATION_LENGTH = 4096;
export const MAX_ADMIN_KEY_LENGTH = 512;

/** A signed assertion: a compact JWS (header.payload.signature, base64url). */
export const ASSERTION = { minLength: 1, maxLength: MAX_AUTHORIZATION_LENGTH, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' } as const;

/** The audit log: what an attempt was, how it ended, and how an admin may label it. */
/** enroll: a session's enrolment (accepted, or refused); refused: no decision was made (the capture was refused, or the enrolment was a duplicate). */
export const ATTEMPT_ACTIONS = ['verify', 'identify', 'restore', 'enroll', 'backup'] as const;
export const ATTEMPT_DECISIONS = ['accept', 'reject', 'locked-out', 'refused'] as const;
export const ATTEMPT_LABELS = ['genuine', 'impostor'] as const;

/** GET /v1/admin/attempts pages: `limit` defaults to and is clamped within these. */
export const ATTEMPTS_PAGE = { default: 100, max: 1000 } as const;
