/** A photo as a 640x480 camera frame (JPEG), for tests and benchmarks that play a webcam. */
import jpeg from 'jpeg-js';

/**
 * `src` (RGBA pixels: { width, height, data }) scaled (bilinear) to fit 640x480, centred on black,
 * optionally mirrored, as a quality-90 JPEG: a photo as a webcam frame would show it. Shared by the
 * server's vision tests and the session load benchmark. `fit` (pixels, default the frame's 480):
 * the photo is scaled to fit a fit x fit square instead, so a small `fit` plays a person standing
 * far from the camera (an LFW face is ~0.42 of its photo's side).
 */
export function cameraFrame(src, mirror = false, fit = 480) {
  const W = 640;
  const H = 480;
  const scale = Math.min(W / src.width, H / src.height, fit / src.width, fit / src.height);
  const w = Math.round(src.width * scale);
  const h = Math.round(src.height * scale);
  const ox = Math.floor((W - w) / 2);
  const oy = Math.floor((H - h) / 2);
  const out = new Uint8Array(W * H * 4);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  const px = (x, y, c) => src.data[(y * src.width + x) * 4 + c];
  for (let y = 0; y < h; y++) {
    const sy = Math.min(src.height - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.min(src.height - 2, Math.floor(sy));
    const fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(src.width - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.min(src.width - 2, Math.floor(sx));
      const fx = sx - x0;
      const o = ((oy + y) * W + ox + (mirror ? w - 1 - x : x)) * 4;
      for (let c = 0; c < 3; c++) {
        out[o + c] = Math.round((1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) + fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c)));
      }
    }
  }
  return new Uint8Array(jpeg.encode({ data: out, width: W, height: H }, 90).data);
}

