/**
 * Fake-camera clips for the e2e tests, made with the helper we ship to our users
 * (src/testing/fake-camera.ts, `face-login/testing`), cached under e2e/.clips.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFakeCameraClip, type ClipSegment } from '../../src/testing/fake-camera.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(here, '../fixtures');
export const CLIPS = resolve(here, '../.clips');
export const fixture = (file: string) => join(FIXTURES, file);

function cached(name: string, segments: ClipSegment[], fps?: number): string {
  const out = join(CLIPS, `${name}.y4m`);
  const inputs = segments.flatMap((s) => ('photo' in s ? [s.photo] : []));
  if (existsSync(out) && inputs.every((i) => statSync(i).mtimeMs <= statSync(out).mtimeMs)) return out;
  return makeFakeCameraClip({ segments, out, ...(fps ? { fps } : {}) });
}

/** One still photo (letterboxed to 640x480), looping. */
export const clipFromPhoto = (photo: string, name: string) => cached(name, [{ photo, seconds: 1 }], 15);

/** Several photos (and empty frames) in a row. */
export const clipSequence = (segments: ClipSegment[], name: string, fps = 8) => cached(name, segments, fps);

/** Two photos side by side in one frame: two faces in view. */
export function clipSideBySide(left: string, right: string, name: string): string {
  const out = join(CLIPS, `${name}.y4m`);
  if (!existsSync(out)) {
    // A one-off composition; the shipped helper covers sequences, this test needs a collage.
    const side = join(CLIPS, `${name}.png`);
    makeCollage(left, right, side);
    makeFakeCameraClip({ segments: [{ photo: side, seconds: 1 }], out, fps: 15 });
  }
  return out;
}

/** A frame with no face in it (a Mandelbrot rendering). */
export function clipNoFace(name = 'no-face'): string {
  const out = join(CLIPS, `${name}.y4m`);
  if (!existsSync(out)) {
    const png = join(CLIPS, `${name}.png`);
    ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=640x480', '-frames:v', '1', png]);
    makeFakeCameraClip({ segments: [{ photo: png, seconds: 1 }], out, fps: 15 });
  }
  return out;
}

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
function ffmpeg(args: string[]): void {
  mkdirSync(CLIPS, { recursive: true });
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}
function makeCollage(left: string, right: string, out: string): void {
  ffmpeg(['-i', left, '-i', right, '-filter_complex', '[0:v][1:v]hstack=inputs=2', '-frames:v', '1', out]);
}
