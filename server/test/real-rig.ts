/** The session rig on the real examiner and real photos (sessions.test.ts, attacks.test.ts). */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { ServerFaceExaminer } from '../vision/examine.js';
import type { SessionRig } from './helpers.js';

/**
 * The real examination (server/vision/examine.ts, models from public/models) on real LFW photos,
 * sent as the page would send them (JPEG bytes, base64): Gerhard Schroeder in five poses
 * (e2e/fixtures/poses/) and for verify other photos of him (server/test/fixtures/examine/), Colin
 * Powell frontal and turned (server/test/fixtures/examine/). Powell has no up / down photos, so he
 * is never enrolled: he is the impostor and the stranger.
 */
const ROOT = resolve(import.meta.dirname, '../..');
export const PHOTOS: Record<string, Record<string, string>> = {
  schroeder: {
    center: 'e2e/fixtures/poses/center.jpg',
    left: 'e2e/fixtures/poses/left.jpg',
    right: 'e2e/fixtures/poses/right.jpg',
    up: 'e2e/fixtures/poses/up.jpg',
    down: 'e2e/fixtures/poses/down.jpg',
  },
  'schroeder-verify': {
    center: 'server/test/fixtures/examine/Gerhard_Schroeder_0094.jpg',
    left: 'e2e/fixtures/poses/left.jpg',
    right: 'server/test/fixtures/examine/Gerhard_Schroeder_0067.jpg',
  },
  powell: {
    center: 'server/test/fixtures/examine/Colin_Powell_0189.jpg',
    left: 'server/test/fixtures/examine/Colin_Powell_0069.jpg',
    right: 'server/test/fixtures/examine/Colin_Powell_0233.jpg',
  },
};

export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A JPEG file decoded to RGBA (jpeg-js, as the server decodes uploads). */
export const readPhoto = (path: string): Rgba => jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true }) as Rgba;

/** Two photos of the same height side by side. */
export function sideBySide(a: Rgba, b: Rgba): Rgba {
  const width = a.width + b.width;
  const data = new Uint8Array(width * a.height * 4);
  for (let y = 0; y < a.height; y++) {
    data.set(a.data.subarray(y * a.width * 4, (y + 1) * a.width * 4), y * width * 4);
    data.set(b.data.subarray(y * b.width * 4, (y + 1) * b.width * 4), (y * width + a.width) * 4);
  }
  return { width, height: a.height, data };
}

export async function realRig(): Promise<SessionRig> {
  const examiner = await ServerFaceExaminer.create();
  return {
    name: 'real examiner',
    examiner,
    frames: async (person, challenge, how = 'perform') => {
      const photos = PHOTOS[person]!;
      const poses = challenge.kind === 'poses' ? [...challenge.poses] : ['center', ...challenge.order];
      return poses.map((pose, i) => ({ jpeg: readFileSync(join(ROOT, photos[how === 'still' ? 'center' : pose]!)).toString('base64'), t: i * 400 }));
    },
    dispose: async () => examiner.dispose(),
  };
}

