/**
 * Fake cameras for testing pages that embed <face-login> (Node only; needs ffmpeg on PATH).
 * Chromium can play a y4m file as the webcam. Turn photos (or a video) into such a clip, then
 * launch Chromium with the options below:
 *
 *   import { makeFakeCameraClip, fakeCameraLaunchOptions } from 'face-login/testing';
 *   const clip = makeFakeCameraClip({ segments: [{ photo: 'alice.jpg', seconds: 2 }] , out: 'alice.y4m' });
 *   const context = await chromium.launchPersistentContext(dir, fakeCameraLaunchOptions(clip));
 *
 * The clip is fixed per browser launch (one launch per clip), loops when it ends, and starts
 * from its first frame when the page opens the camera. A persistent profile keeps IndexedDB
 * between launches, so a test can enrol with one clip and verify with another.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type ClipSegment =
  | { photo: string; seconds: number }
  | { video: string; seconds?: number }
  | { blank: true; seconds: number };

export interface FakeCameraClipOptions {
  /** Photos (held for `seconds`), videos (or a part of one) and empty frames, in order. */
  segments: ClipSegment[];
  /** Output .y4m path. */
  out: string;
  width?: number;
  height?: number;
  /** Frames per second. Lower is smaller: y4m is raw, 460 KB per 640x480 frame. Default 8. */
  fps?: number;
  /** ffmpeg binary. Default 'ffmpeg'. */
  ffmpeg?: string;
}

/** Builds the clip with ffmpeg (letterboxed to width x height, yuv420p) and returns its absolute path. */
export function makeFakeCameraClip(options: FakeCameraClipOptions): string {
  const { segments, width = 640, height = 480, fps = 8, ffmpeg = 'ffmpeg' } = options;
  if (segments.length === 0) throw new Error('makeFakeCameraClip: at least one segment is needed.');
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,format=yuv420p`;
  const inputs: string[] = [];
  const chains: string[] = [];
  segments.forEach((s, i) => {
    if ('photo' in s) inputs.push('-loop', '1', '-framerate', String(fps), '-t', String(s.seconds), '-i', s.photo);
    else if ('video' in s) inputs.push(...(s.seconds ? ['-t', String(s.seconds)] : []), '-i', s.video);
    else inputs.push('-f', 'lavfi', '-t', String(s.seconds), '-i', `color=c=0x202020:size=${width}x${height}:rate=${fps}`);
    chains.push(`[${i}:v]${fit},fps=${fps},setsar=1[v${i}]`);
  });
  const concat = `${segments.map((_, i) => `[v${i}]`).join('')}concat=n=${segments.length}:v=1:a=0[out]`;
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, '-filter_complex', `${chains.join(';')};${concat}`, '-map', '[out]', '-r', String(fps), out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}

/** Chromium flags that replace the webcam with `clip` (and auto-accept the camera prompt). */
export function fakeCameraArgs(clip: string): string[] {
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${resolve(clip)}`];
}

/**
 * Launch options for Playwright's chromium.launch / launchPersistentContext. Pass
 * `executablePath` for a system Chromium (e.g. /usr/bin/chromium where Playwright cannot
 * download its own browser).
 */
export function fakeCameraLaunchOptions(clip: string, options: { executablePath?: string; headless?: boolean; args?: string[] } = {}) {
  return {
    ...(options.executablePath ? { executablePath: options.executablePath } : {}),
    headless: options.headless ?? true,
    args: [...fakeCameraArgs(clip), ...(options.args ?? [])],
    permissions: ['camera'],
  };
}
