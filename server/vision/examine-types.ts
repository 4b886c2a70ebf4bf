/**
 * The contract between the session routes (server/sessions/) and the server's face examination
 * (server/vision/examine.ts): what the page uploaded for one session, what the session asked of it,
 * and what the server concluded from the pixels alone. Nothing here is computed by the page.
 */
import type { Pose } from '../../src/protocol/fields.js';

/** One frame the page captured during the session, as uploaded. */
export interface UploadedFrame {
  /** JPEG bytes (the decoder bounds size and dimensions). */
  readonly jpeg: Uint8Array;
  /** Milliseconds since the first frame of this upload, on the page's clock (strictly increasing). */
  readonly t: number;
}

/** What the server asked the person to do, chosen at random when the session opened: the wire type of src/protocol. */
export type { SessionChallenge } from '../../src/protocol/routes/sessions.js';
import type { CaptureRefusal, SessionChallenge } from '../../src/protocol/routes/sessions.js';

/**
 * Why the server refused to decide from an upload (no decision was made, nothing is stored):
 * bad-frames (undecodable, out of bounds, timestamps not increasing, too many or too few), no-face,
 * multiple-faces, liveness-failed (the challenge not performed), identity-changed (not one person).
 */
export type ExamineRefusal = CaptureRefusal;

export type ExamineOutcome =
  | {
      readonly ok: true;
      /** L2-normalised probe: the mean of the frontal frames' embeddings, renormalised. */
      readonly probe: Float32Array;
      /** Enrolment only: one template per requested pose, in the challenge's order. */
      readonly templates: readonly { readonly pose: Pose; readonly embedding: Float32Array }[];
      /** The challenge was performed, as seen in the frames. */
      readonly liveness: 'passed';
      readonly modelId: string;
      /** For the audit log (server-side only, never sent to the page). */
      readonly framesUsed: number;
    }
  | { readonly ok: false; readonly refusal: ExamineRefusal; readonly message: string; readonly framesUsed: number };

/** Examines one upload against its challenge: detection, alignment, embedding, liveness, on the server. */
export interface FaceExaminer {
  readonly modelId: string;
  examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome>;
  /**
   * Admission (optional; ExaminerPool has it): a slot for one examination, reserved before the
   * caller commits to anything (the upload route reserves before it consumes the session), or null
   * when every worker is busy and the queue is full (the route answers 503 overloaded and the
   * session stays open). An examiner without it is admitted one upload at a time by the route
   * (admissionFor in examiner-pool.ts).
   */
  tryReserve?(): ExamineTicket | null;
  /** With tryReserve: seconds after which a slot is likely free again (Retry-After of the 503). */
  retryAfterSeconds?(): number;
  dispose(): void;
}

/** One reserved examination: use it once (examine) or give it back (release). */
export interface ExamineTicket {
  /** Runs the examination in the reserved slot; a second call throws. The slot is freed when it settles. */
  examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome>;
  /** Frees the slot without examining (the session could not be consumed). Idempotent; a no-op once examine was called. */
  release(): void;
}
