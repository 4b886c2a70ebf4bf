/**
 * Kiosk (attendance) mode: identify whoever stands in front of the camera, one after another,
 * for hours. One result per person per presence: a known person is announced again only after
 * they left the view and their cooldown has passed; a stranger is announced as unknown once per
 * presence. Built only on FaceAuth's public API.
 */
import type { FaceAuth, FrameObservation, LivenessMode } from './engine.js';
import { isFaceLoginError } from './errors.js';
import type { IdentifyResult } from './types.js';

export interface KioskOptions {
  /** Minimum time between two announcements of the same person. Default 10 s. */
  cooldownMs?: number;
  /** Frames without a face that end a presence. Default 8 (~0.5 s). */
  leaveFrames?: number;
  liveness?: LivenessMode;
  signal?: AbortSignal;
  onResult: (r: IdentifyResult) => void;
  /** Errors that do not stop the kiosk (no face for a while, several faces, liveness failed). */
  onSoftError?: (e: unknown) => void;
}

/** Runs until the signal aborts or a hard error (camera gone, disposed) ends it. */
export async function runKiosk(auth: FaceAuth, options: KioskOptions): Promise<void> {
  const { cooldownMs = 10_000, leaveFrames = 8, signal, onResult } = options;
  const lastAnnounced = new Map<string, number>();
  // Who is in front of the camera now ('' = a stranger), or null when nobody has been seen since
  // the last person left. People are re-identified continuously; only a change is announced.
  let current: string | null = null;
  let emptyRun = 0;
  const onFrame = (e: CustomEvent<FrameObservation>) => {
    if (e.detail.status !== 'no-face') emptyRun = 0;
    else if (++emptyRun >= leaveFrames) current = null;
  };
  auth.addEventListener('frame', onFrame);
  try {
    while (!signal?.aborted) {
      let r: IdentifyResult;
      try {
        r = await auth.identify({ signal, timeoutMs: 60 * 60 * 1000, liveness: options.liveness });
      } catch (e) {
        if (signal?.aborted) return;
        if (isFaceLoginError(e) && ['no-face', 'multiple-faces', 'liveness-failed'].includes(e.code)) {
          options.onSoftError?.(e);
          continue;
        }
        throw e;
      }
      const key = r.userId ?? '';
      if (key !== current) {
        current = key;
        const now = performance.now();
        if (r.userId === null) onResult(r);
        else if (now - (lastAnnounced.get(key) ?? -Infinity) >= cooldownMs) {
          lastAnnounced.set(key, now);
          onResult(r);
        }
        // Hours of traffic: forget announcements older than the cooldown so the map stays small.
        if (lastAnnounced.size > 1000) for (const [k, t] of lastAnnounced) if (now - t >= cooldownMs) lastAnnounced.delete(k);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    auth.removeEventListener('frame', onFrame as EventListener);
  }
}
