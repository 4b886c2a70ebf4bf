import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.js';
import { decodeJpeg } from '../../server/vision/jpeg-decoder.js';
import { readJpegHeader } from '../../server/vision/jpeg-header.js';
import { MAX_FRAME_BASE64 } from '../../src/protocol/routes/sessions.js';

/**
 * What a session uploads (src/adapters/verifier/jpeg-frame-encoder.ts) in real Chromium: the whole
 * camera frame downscaled to <= 640 px on its longer side (never upscaled), as a JPEG, from the
 * pixels of the moment encode() was called. Each JPEG goes back to Node and through the server's
 * own decoder (server/vision/jpeg-decoder.ts, with its default limits): its markers, its size and
 * its pixels are checked there. Sources: canvases of several sizes and a frame of Chromium's fake
 * camera (a <video>, as UserMediaCamera gives it).
 */
test.use({
  launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream'] },
  permissions: ['camera'],
});

const BLANK = '/__session-frames-test.html';
const ENCODER = '/src/adapters/verifier/jpeg-frame-encoder.ts';
const CAMERA = '/src/adapters/camera/user-media-camera.ts';

type EncoderModule = typeof import('../../src/adapters/verifier/jpeg-frame-encoder.js');
type CameraModule = typeof import('../../src/adapters/camera/user-media-camera.js');
declare global {
  interface Window {
    enc: EncoderModule;
    cam: CameraModule;
  }
}

async function open(page: Page): Promise<void> {
  await page.route(`**${BLANK}`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>frames</title>' }));
  await page.goto(BLANK);
  await page.evaluate(async ([e, c]) => {
    window.enc = await import(/* @vite-ignore */ e!);
    window.cam = await import(/* @vite-ignore */ c!);
  }, [ENCODER, CAMERA]);
}

const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

/** Mean RGB of a w x h block at (x, y) of a decoded frame. */
function meanRgb(img: { width: number; data: Uint8ClampedArray }, x: number, y: number, w: number, h: number): number[] {
  const s = [0, 0, 0];
  for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) for (let k = 0; k < 3; k++) s[k]! += img.data[(r * img.width + c) * 4 + k]!;
  return s.map((v) => v / (w * h));
}

test('canvases of every shape: <= 640 px on the longer side, aspect kept, never upscaled; the server decodes each, pixels as drawn', async ({ page }) => {
  await open(page);
  const sizes: [number, number][] = [[1920, 1080], [1280, 720], [640, 480], [480, 640], [720, 1280], [320, 240], [641, 100]];
  const out = await page.evaluate(async (list) => {
    const encoder = new window.enc.JpegFrameEncoder();
    const res: { w: number; h: number; b64: string }[] = [];
    for (const [w, h] of list) {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const ctx = c.getContext('2d')!;
      // Left half red, right half blue, a white square in the middle: where things land after scaling.
      ctx.fillStyle = '#d02020';
      ctx.fillRect(0, 0, w / 2, h);
      ctx.fillStyle = '#2040d0';
      ctx.fillRect(w / 2, 0, w / 2, h);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(w * 0.4, h * 0.4, w * 0.2, h * 0.2);
      const bytes = await encoder.encode({ source: c, width: w, height: h, timestamp: performance.now() });
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      res.push({ w, h, b64: btoa(s) });
    }
    return res;
  }, sizes);
  for (const { w, h, b64 } of out) {
    const jpeg = bytesOf(b64);
    expect([jpeg[0], jpeg[1], jpeg[2]], `${w}x${h}: SOI`).toEqual([0xff, 0xd8, 0xff]);
    expect([jpeg.at(-2), jpeg.at(-1)], `${w}x${h}: EOI`).toEqual([0xff, 0xd9]);
    expect(b64.length).toBeLessThan(MAX_FRAME_BASE64);
    const header = readJpegHeader(jpeg);
    const scale = Math.min(1, 640 / Math.max(w, h));
    const want = { width: Math.round(w * scale), height: Math.round(h * scale) };
    expect({ width: header.width, height: header.height }, `${w}x${h}`).toEqual(want);
    expect(Math.max(header.width, header.height)).toBeLessThanOrEqual(640);
    expect(header.components).toHaveLength(3);
    const img = decodeJpeg(jpeg); // the server's decoder, default limits: throws on anything it refuses
    expect({ width: img.width, height: img.height }).toEqual(want);
    if (want.height < 100) continue;
    const [W, H] = [img.width, img.height];
    const red = meanRgb(img, Math.round(W * 0.05), Math.round(H * 0.1), Math.round(W * 0.2), Math.round(H * 0.2));
    const blue = meanRgb(img, Math.round(W * 0.75), Math.round(H * 0.1), Math.round(W * 0.2), Math.round(H * 0.2));
    const white = meanRgb(img, Math.round(W * 0.45), Math.round(H * 0.45), Math.round(W * 0.1), Math.round(H * 0.1));
    for (const [got, rgb] of [[red, [0xd0, 0x20, 0x20]], [blue, [0x20, 0x40, 0xd0]], [white, [255, 255, 255]]] as const) {
      for (let k = 0; k < 3; k++) expect(Math.abs(got[k]! - rgb[k]!), `${w}x${h} ${JSON.stringify(got)} vs ${rgb}`).toBeLessThan(12);
    }
  }
});

test('the pixels are the ones of the moment encode() was called, even if the source changes before the JPEG is made', async ({ page }) => {
  await open(page);
  const b64 = await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#10a010';
    ctx.fillRect(0, 0, 640, 480);
    const pending = new window.enc.JpegFrameEncoder().encode({ source: c, width: 640, height: 480, timestamp: 1 });
    // The camera's next frame, right after: must not be what is uploaded.
    ctx.fillStyle = '#a01010';
    ctx.fillRect(0, 0, 640, 480);
    const bytes = await pending;
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  const img = decodeJpeg(bytesOf(b64));
  const [r, g, b] = meanRgb(img, 100, 100, 200, 200);
  expect(g!).toBeGreaterThan(140);
  expect(r!).toBeLessThan(40);
  expect(b!).toBeLessThan(40);
});

test('a frame of the fake camera (a playing <video>): the whole 640x480 frame as a JPEG the server decodes; quality changes the size', async ({ page }) => {
  await open(page);
  const out = await page.evaluate(async () => {
    const camera = new window.cam.UserMediaCamera({ storageKey: null });
    const video = await camera.start();
    let frame = camera.frame();
    for (let i = 0; i < 100 && !frame; i++) {
      await new Promise((r) => setTimeout(r, 20));
      frame = camera.frame();
    }
    if (!frame) throw new Error('no camera frame');
    const toB64 = (bytes: Uint8Array) => {
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    };
    const q85 = toB64(await new window.enc.JpegFrameEncoder().encode(frame));
    const q50 = toB64(await new window.enc.JpegFrameEncoder({ quality: 0.5 }).encode(frame));
    const small = toB64(await new window.enc.JpegFrameEncoder({ maxSide: 320 }).encode(frame));
    const dims = [video.videoWidth, video.videoHeight];
    camera.stop();
    return { q85, q50, small, video: dims, frame: [frame.width, frame.height] };
  });
  expect(out.frame).toEqual(out.video);
  const img = decodeJpeg(bytesOf(out.q85));
  const scale = Math.min(1, 640 / Math.max(out.frame[0]!, out.frame[1]!));
  expect([img.width, img.height]).toEqual(out.frame.map((v) => Math.round(v * scale)));
  // Chromium's fake camera draws a moving pattern on green: not a blank picture.
  const centre = meanRgb(img, Math.round(img.width / 4), Math.round(img.height / 4), Math.round(img.width / 2), Math.round(img.height / 2));
  expect(Math.max(...centre)).toBeGreaterThan(20);
  expect(bytesOf(out.q50).length).toBeLessThan(bytesOf(out.q85).length);
  const small = readJpegHeader(bytesOf(out.small));
  expect(Math.max(small.width, small.height)).toBe(320);
});
