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

/** What the server asked the person to do, chosen at random by the server when the session opened. */
export type SessionChallenge =
  /** Enrolment: one frame per pose, in this order (each checked by head pose). */
  | { readonly kind: 'poses'; readonly poses: readonly Pose[] }
  /** Verify / identify: frontal, then turn the head in this order (active liveness). */
  | { readonly kind: 'turns'; readonly order: readonly ('left' | 'right')[] };

/** Why the server refused to decide from an upload (no decision was made, nothing is stored). */
export type ExamineRefusal =
  | 'bad-frames' // not decodable / out of bounds / timestamps not increasing / too many or too few
  | 'no-face' // a frame the decision needs shows no face
  | 'multiple-faces' // a frame shows more than one face
  | 'liveness-failed' // the challenge was not performed (poses missing or out of order)
  | 'identity-changed'; // the frames do not show one and the same person

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
  dispose(): void;
}
