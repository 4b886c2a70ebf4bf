/** Types of camera-frame.mjs. */
export function cameraFrame(src: { readonly width: number; readonly height: number; readonly data: Uint8Array }, mirror?: boolean, fit?: number): Uint8Array;
