/**
 * The one error type of server/vision, with a stable `code`. Nothing here knows HTTP: the route
 * that takes camera frames (issue 10) maps these codes to its ApiError codes in one place
 * (image-* -> 400/413/415, runtime-unavailable / model-load-failed -> internal).
 */
/** Every code, with what it means. */
export const VISION_ERRORS = {
  'runtime-unavailable': 'TF.js or its WASM backend could not be initialised in this process.',
  'model-load-failed': 'A model file is missing, does not match the manifest\'s SHA-256, or the model fails to run.',
  'image-too-large': 'The image has more bytes, or more pixels or a longer side, than the limits allow.',
  'image-too-small': 'The image is smaller than the smallest frame a face can be embedded from.',
  'image-corrupt': 'Not a JPEG, truncated, or its data does not decode.',
  'image-unsupported': 'A JPEG this decoder does not take: arithmetic, lossless or 12-bit coding, CMYK, too many scans.',
  'invalid-input': 'Bad arguments: keypoints, crop sizes, limits.',
  disposed: 'The embedder has been disposed.',
} as const;

export type VisionErrorCode = keyof typeof VISION_ERRORS;

export class VisionError extends Error {
  override readonly name = 'VisionError';

  constructor(
    readonly code: VisionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of anything thrown, for wrapping it in a VisionError. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
