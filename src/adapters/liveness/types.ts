/**
 * Passive liveness (presentation-attack detection) seam. The lead moves this interface into
 * src/core/types.ts; until then adapters and the engine import it from here.
 */
import type { Detection, Frame } from '../../core/types.js';

export interface PassiveLiveness {
  /** Identifies the model and its preprocessing (crop, size, normalisation). */
  readonly modelId: string;
  /**
   * How live the face looks on this frame: 0..1, higher = more likely a live person (bona fide
   * presentation), lower = more likely a print or a screen. Compare with a threshold.
   */
  score(frame: Frame, face: Detection): Promise<number>;
  /** Frees the model's tensors. Idempotent; score() afterwards rejects with `disposed`. */
  dispose(): void;
}
