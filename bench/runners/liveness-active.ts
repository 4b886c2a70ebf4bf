/**
 * Active liveness (turn left and right in a random order within 10 s), measured end to end:
 * Chromium's fake camera plays each clip, the product's element runs its challenge.
 *
 *   npx tsx bench/runners/liveness-active.ts [--people 10]
 *
 * Presentations, per LFW identity from bench/results/pose-scan.json.gz (photos served from
 * ../shared/faces, never copied):
 *   bona fide  - "turning head": the person's centre, left, right, left, centre photos in a row
 *                (real head poses, stitched; we have no video of real head turns);
 *   attack A   - still photo: the frontal photo held still;
 *   attack B   - photo moved: the frontal photo sliding and rotating in the image plane;
 *   attack C   - photo turned: the frontal photo swung about its vertical axis (perspective),
 *                as someone tilting a print or a phone screen would.
 * APCER per attack = attacks that passed / attacks; BPCER = bona fide that failed / bona fide.
 * Writes bench/results/liveness-active.{json,md}.
 */
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, machineInfo, makeLog, readResultJson, startVite } from '../lib/harness.mjs';
import { makeFakeCameraClip } from '../../src/testing/fake-camera.js';

const args = process.argv.slice(2);
const people = Number(args[args.indexOf('--people') + 1] || 10);
const LFW = process.env.LFW_DIR ?? resolve(ROOT, '../shared/faces/lfw-deepfunneled');
const log = makeLog('liveness-active');
const scan = readResultJson(join(ROOT, 'bench/results/pose-scan.json.gz')) as Record<string, { best: Record<string, { path: string; yaw: number; pitch: number }> }>;
const work = mkdtempSync(join(tmpdir(), 'liveness-active-'));

function ffmpeg(a: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...a], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** 12 s, 8 fps y4m of `photo` (scaled to 480x360) on a dark 640x480 background, moving as `kind` says. */
function animatedPhoto(photo: string, kind: 'moved' | 'swung', out: string): string {
  const motion =
    kind === 'moved'
      ? // slides around and rotates up to +-20 degrees in the image plane
        "[1:v]scale=480:360:force_original_aspect_ratio=decrease,format=rgba,rotate='0.35*sin(2*PI*t/3)':c=none:ow=rotw(0.35):oh=roth(0.35)[fg];[0:v][fg]overlay=x='(W-w)/2+50*sin(2*PI*t/4)':y='(H-h)/2+25*cos(2*PI*t/4)'"
      : // swung about its vertical axis: one edge recedes (perspective), then the other
        "[1:v]scale=480:360:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,perspective=x0='150*max(0\\,sin(2*PI*in/24))':y0='60*max(0\\,sin(2*PI*in/24))':x1='W-150*max(0\\,-sin(2*PI*in/24))':y1='60*max(0\\,-sin(2*PI*in/24))':x2='150*max(0\\,sin(2*PI*in/24))':y2='H-60*max(0\\,sin(2*PI*in/24))':x3='W-150*max(0\\,-sin(2*PI*in/24))':y3='H-60*max(0\\,-sin(2*PI*in/24))':eval=frame:sense=destination[fg];[0:v][fg]overlay=0:0";
  ffmpeg([
    '-f', 'lavfi', '-t', '12', '-i', 'color=c=0x202020:size=640x480:rate=8',
    '-loop', '1', '-framerate', '8', '-t', '12', '-i', photo,
    '-filter_complex', `${motion},format=yuv420p[out]`, '-map', '[out]', '-r', '8', out,
  ]);
  return out;
}

type Outcome = { kind: string; person: string; passed: boolean; code: string | null; ms: number };

const vite = await startVite({ cacheDir: 'node_modules/.vite-liveness-active', log });
const outcomes: Outcome[] = [];
try {
  const ids = Object.keys(scan).slice(0, people);
  for (const id of ids) {
    const b = scan[id]!.best;
    const p = (k: string) => join(LFW, b[k]!.path);
    const clips: Record<string, string> = {
      'bona fide: turning head': makeFakeCameraClip({
        out: join(work, `${id}-turn.y4m`),
        segments: [
          { photo: p('center'), seconds: 1 },
          { photo: p('left'), seconds: 1.5 },
          { photo: p('right'), seconds: 1.5 },
          { photo: p('left'), seconds: 1.5 },
          { photo: p('center'), seconds: 3 },
        ],
      }),
      'attack: still photo': makeFakeCameraClip({ out: join(work, `${id}-still.y4m`), segments: [{ photo: p('center'), seconds: 1 }] }),
      'attack: photo moved and rotated in the image plane': animatedPhoto(p('center'), 'moved', join(work, `${id}-moved.y4m`)),
      'attack: photo swung about its vertical axis (perspective)': animatedPhoto(p('center'), 'swung', join(work, `${id}-swung.y4m`)),
    };
    for (const [kind, clip] of Object.entries(clips)) {
      const profile = mkdtempSync(join(tmpdir(), 'lv-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${clip}`],
        permissions: ['camera'],
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(`${vite.origin}/e2e/pages/element.html?mode=verify&user-id=x`);
        await page.waitForFunction(() => window.faceLoginEvents.some((e) => e.type === 'ready' || e.type === 'error'), null, { timeout: 60_000 });
        const r = await page.evaluate(async () => {
          const t0 = performance.now();
          const el = document.querySelector('face-login')!;
          try {
            await el.engine!.startCamera(); // the element opens it only on an action
            await el.engine!.challenge();
            return { passed: true, code: null, ms: performance.now() - t0 };
          } catch (e) {
            return { passed: false, code: (e as { code?: string }).code ?? String(e), ms: performance.now() - t0 };
          }
        });
        outcomes.push({ kind, person: id, ...r });
        log(`${id} ${kind}: ${r.passed ? 'PASSED' : `failed (${r.code})`} in ${(r.ms / 1000).toFixed(1)} s`);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }
  }
} finally {
  await vite.close();
  rmSync(work, { recursive: true, force: true });
}

const kinds = [...new Set(outcomes.map((o) => o.kind))];
const rows = kinds.map((kind) => {
  const os = outcomes.filter((o) => o.kind === kind);
  const passed = os.filter((o) => o.passed).length;
  const bona = kind.startsWith('bona');
  return { kind, n: os.length, passed, rate: bona ? (os.length - passed) / os.length : passed / os.length, metric: bona ? 'BPCER' : 'APCER' };
});
const md = [
  `### Active liveness (turn left / right, random order, 10 s): ${new Date().toISOString().slice(0, 10)}`,
  '',
  `\`npx tsx bench/runners/liveness-active.ts --people ${people}\`; ${people} LFW identities; each presentation is a fake-camera clip played to the element's challenge in headless Chromium.`,
  '',
  '| presentation | n | passed the challenge | metric |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.kind} | ${r.n} | ${r.passed} | ${r.metric} ${(100 * r.rate).toFixed(0)} % (${r.metric === 'BPCER' ? r.n - r.passed : r.passed}/${r.n}) |`),
  '',
  'The bona fide clips stitch real photos of each person facing left and right; a live person turning',
  'their head produces the same keypoint motion continuously. A flat photo keeps the nose fixed',
  'between the ears however it is moved, rotated or swung, so the estimated yaw never changes.',
  'Not stopped: a video replay of the person turning their head, or a 3D mask.',
].join('\n');
writeFileSync(join(ROOT, 'bench/results/liveness-active.json'), JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), people, rows, outcomes }, null, 1));
writeFileSync(join(ROOT, 'bench/results/liveness-active.md'), md + '\n');
console.log(md);
