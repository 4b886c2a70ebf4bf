/**
 * Fake-camera clips for Chromium (--use-file-for-fake-video-capture), made with ffmpeg from
 * still photos. Chromium reads y4m; a one-frame y4m loops forever at the capture rate.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(here, '../fixtures');
export const CLIPS = resolve(here, '../.clips');

const FIT = 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,format=yuv420p';

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function fresh(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  return inputs.every((i) => statSync(i).mtimeMs <= t);
}

/** A 640x480 clip showing one still photo (letterboxed). */
export function clipFromPhoto(photo: string, name: string): string {
  mkdirSync(CLIPS, { recursive: true });
  const out = join(CLIPS, `${name}.y4m`);
  if (!fresh(out, [photo])) ffmpeg(['-loop', '1', '-i', photo, '-vf', FIT, '-frames:v', '1', '-r', '15', out]);
  return out;
}

/** Two photos side by side in one frame: two faces in view. */
export function clipSideBySide(left: string, right: string, name: string): string {
  mkdirSync(CLIPS, { recursive: true });
  const out = join(CLIPS, `${name}.y4m`);
  if (!fresh(out, [left, right])) {
    ffmpeg(['-i', left, '-i', right, '-filter_complex', `[0:v][1:v]hstack=inputs=2,${FIT}`, '-frames:v', '1', '-r', '15', out]);
  }
  return out;
}

/** A synthetic frame with no face in it (a Mandelbrot rendering). */
export function clipNoFace(name = 'no-face'): string {
  mkdirSync(CLIPS, { recursive: true });
  const out = join(CLIPS, `${name}.y4m`);
  if (!existsSync(out)) ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=640x480:rate=15', '-vf', 'format=yuv420p', '-frames:v', '1', out]);
  return out;
}

export const fixture = (file: string) => join(FIXTURES, file);

export type Segment = { photo: string; seconds: number } | { blank: true; seconds: number };

/**
 * Several photos (and empty frames) in a row, each held for `seconds`: a head turning through
 * poses, or people stepping in front of a kiosk one after another. The clip loops when it ends.
 */
export function clipSequence(segments: Segment[], name: string, fps = 8): string {
  mkdirSync(CLIPS, { recursive: true });
  const out = join(CLIPS, `${name}.y4m`);
  const photos = segments.flatMap((s) => ('photo' in s ? [s.photo] : []));
  if (fresh(out, photos)) return out;
  const inputs: string[] = [];
  const chains: string[] = [];
  segments.forEach((s, i) => {
    if ('photo' in s) inputs.push('-loop', '1', '-framerate', String(fps), '-t', String(s.seconds), '-i', s.photo);
    else inputs.push('-f', 'lavfi', '-t', String(s.seconds), '-i', `color=c=0x202020:size=640x480:rate=${fps}`);
    chains.push(`[${i}:v]${FIT},fps=${fps},setsar=1[v${i}]`);
  });
  const concat = `${segments.map((_, i) => `[v${i}]`).join('')}concat=n=${segments.length}:v=1:a=0[out]`;
  ffmpeg([...inputs, '-filter_complex', `${chains.join(';')};${concat}`, '-map', '[out]', '-r', String(fps), out]);
  return out;
}
