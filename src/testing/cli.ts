#!/usr/bin/env node
/**
 * face-login-fake-camera: photos or a video -> a y4m clip for Chromium's fake camera.
 *   face-login-fake-camera -o clip.y4m alice.jpg:2 blank:1 bob.jpg:2 [--fps 8] [--size 640x480]
 * Each input is PHOTO[:seconds] (default 2 s), VIDEO[:seconds], or blank:seconds.
 */
import { makeFakeCameraClip, type ClipSegment } from './fake-camera.js';

const argv = process.argv.slice(2);
let out = '';
let fps = 8;
let width = 640;
let height = 480;
const segments: ClipSegment[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '-o' || a === '--out') out = argv[++i] ?? '';
  else if (a === '--fps') fps = Number(argv[++i]);
  else if (a === '--size') [width, height] = (argv[++i] ?? '').split('x').map(Number) as [number, number];
  else {
    const m = /^(.*?)(?::([\d.]+))?$/.exec(a)!;
    const path = m[1]!;
    const seconds = m[2] ? Number(m[2]) : undefined;
    if (path === 'blank') segments.push({ blank: true, seconds: seconds ?? 1 });
    else if (/\.(mp4|webm|mov|mkv|avi|y4m)$/i.test(path)) segments.push({ video: path, ...(seconds ? { seconds } : {}) });
    else segments.push({ photo: path, seconds: seconds ?? 2 });
  }
}
if (!out || segments.length === 0) {
  console.error('usage: face-login-fake-camera -o clip.y4m photo.jpg[:seconds] [blank:seconds] [video.mp4[:seconds]] [--fps 8] [--size 640x480]');
  process.exit(2);
}
console.log(makeFakeCameraClip({ segments, out, fps, width, height }));
