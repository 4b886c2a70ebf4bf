import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeJpeg } from '../../server/vision/jpeg-decoder.js';
import { MobileFaceNetNodeEmbedder } from '../../server/vision/mobilefacenet-embedder.js';
import { RgbaAligner } from '../../server/vision/rgba-aligner.js';
import { NodeMeshAligner } from '../../server/vision/mesh-aligner.js';
import type { MeshAligner } from '../../src/adapters/aligner/mesh-aligner.js';
import { initTfRuntime } from '../../server/vision/tf-runtime.js';
import { loadBlazeFaceDetector } from '../../server/vision/model-files.js';
import { MESH_PRESENCE_MIN } from '../../src/core/face-mesh.js';
import type { CanvasAligner } from '../../src/adapters/aligner/canvas-aligner.js';
import type { MediaPipeDetector } from '../../src/adapters/detector/mediapipe-detector.js';
import type { MobileFaceNetEmbedder } from '../../src/adapters/embedder/mobilefacenet-embedder.js';
import type {} from './harness.js';

/**
 * The server's embedding pipeline (server/vision: jpeg-js decode, RgbaAligner, MobileFaceNet on
 * TF.js WASM in Node) against the page's (Chromium's decoder, CanvasAligner, MobileFaceNetEmbedder
 * on WASM) on the same JPEG frames and the same keypoints: the page's MediaPipe detector finds the
 * face once and both sides get its keypoints, so only decoding, alignment and embedding are
 * compared. Every face must reach cosine 0.999, with and without flip TTA.
 *
 * Frames: the committed fixtures (e2e/fixtures, poses/ included); 50 LFW photos when
 * ../shared/faces exists; and frames made from fixtures in the page, JPEG-encoded by Chromium,
 * for the other regimes the aligner meets: a 640x480 "camera" frame with a big face (crop
 * downscaled ~2.3x: mipmaps), a small face (upscaled ~1.6x), a face cut by the frame's edge, and
 * frames stored sideways or upside down with an EXIF orientation that turns them upright.
 *
 * The page's keypoints of the five top-level fixtures are checked against
 * server/test/fixtures/keypoints.json (the vitest suite's input); UPDATE_VISION_FIXTURES=1
 * rewrites that file.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'e2e/fixtures');
const LFW = resolve(ROOT, '../shared/faces/lfw-deepfunneled');
const KEYPOINTS_FIXTURE = join(ROOT, 'server/test/fixtures/keypoints.json');
const MIN_COSINE = 0.999;
/** The five-point crops (the default) add the face mesh on each side's own 192x192 resample: held to the same bound (measured min 0.99979). */
const MIN_MESH_COSINE = MIN_COSINE;

interface Frame {
  name: string;
  bytes: Uint8Array;
}

/** What the page keeps between frames (window.parity). */
interface Parity {
  detector: MediaPipeDetector;
  flip: MobileFaceNetEmbedder;
  plain: MobileFaceNetEmbedder;
  aligner: CanvasAligner;
  mesh: MeshAligner;
}

interface PageFace {
  name: string;
  faces: number;
  width: number;
  height: number;
  score: number;
  keypoints: { x: number; y: number }[];
  box: { x: number; y: number; width: number; height: number };
  flip: number[];
  plain: number[];
  /** The default pipeline: five-point crop (MeshAligner), no flip. */
  mesh: number[];
}

function committedFrames(): Frame[] {
  const top = readdirSync(FIXTURES).filter((f) => f.endsWith('.jpg')).sort().map((f) => ({ name: f, bytes: readFileSync(join(FIXTURES, f)) }));
  const poses = readdirSync(join(FIXTURES, 'poses')).filter((f) => f.endsWith('.jpg')).sort().map((f) => ({ name: `poses/${f}`, bytes: readFileSync(join(FIXTURES, 'poses', f)) }));
  return [...top, ...poses];
}

/** The first photo of every (n/50)-th LFW identity, in name order: a fixed, varied sample. */
function lfwFrames(count: number): Frame[] {
  if (!existsSync(LFW)) return [];
  const ids = readdirSync(LFW, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const step = Math.floor(ids.length / count);
  return Array.from({ length: count }, (_, i) => {
    const id = ids[i * step]!;
    const file = readdirSync(join(LFW, id)).filter((f) => f.endsWith('.jpg')).sort()[0]!;
    return { name: `lfw/${file}`, bytes: readFileSync(join(LFW, id, file)) };
  });
}

/**
 * An APP1 EXIF segment holding only IFD0's Orientation tag, inserted after SOI: the file then
 * shows its pixels turned by that orientation.
 */
function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, len >> 8, len & 0xff, ...payload, ...jpeg.subarray(2)]);
}

type Derivation = 'camera' | 'small' | 'edge' | 'rot90' | 'rot180' | 'rot270';

/** A new JPEG frame made by Chromium's canvas from a fixture (see the file comment). */
async function derive(page: Page, source: Frame, how: Derivation): Promise<Frame> {
  const bytes = await page.evaluate(
    async ({ b64, how }) => {
      const bmp = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
      const { width: w, height: h } = bmp;
      const size = { camera: [640, 480], small: [320, 240], edge: [w, h], rot90: [h, w], rot180: [w, h], rot270: [h, w] }[how];
      const canvas = new OffscreenCanvas(size[0]!, size[1]!);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingQuality = 'high';
      if (how === 'camera') ctx.drawImage(bmp, 80, 0, 480, 480);
      else if (how === 'small') ctx.drawImage(bmp, 97, 57, w / 2, h / 2);
      else if (how === 'edge') ctx.drawImage(bmp, -0.3 * w, 0);
      else {
        // Stored turned the other way, so that the EXIF orientation (6, 3, 8) shows it upright.
        const turn = { rot90: -Math.PI / 2, rot180: Math.PI, rot270: Math.PI / 2 }[how];
        ctx.translate(canvas.width / 2, canvas.height / 2);
        ctx.rotate(turn);
        ctx.drawImage(bmp, -w / 2, -h / 2);
      }
      const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
      let s = '';
      for (const b of jpeg) s += String.fromCharCode(b);
      return btoa(s);
    },
    { b64: Buffer.from(source.bytes).toString('base64'), how },
  );
  const jpeg = new Uint8Array(Buffer.from(bytes, 'base64'));
  const orientation = { rot90: 6, rot180: 3, rot270: 8 }[how as string];
  return { name: `${how}/${source.name}`, bytes: orientation ? withExifOrientation(jpeg, orientation) : jpeg };
}

/** The page's side: detect (the face nearest the centre), CanvasAligner, MobileFaceNet with and without flip. */
async function pageEmbeddings(page: Page, frames: Frame[]): Promise<PageFace[]> {
  await page.evaluate(async () => {
    const { det, emb, be, files, align, meshAlign } = window.api;
    const choice = await be.selectBackend('wasm', '/wasm/tfjs/');
    const manifest = await files.fetchManifest('/models/');
    (window as unknown as { parity: Parity }).parity = {
      detector: await det.MediaPipeDetector.create({ modelsUrl: '/models/', wasmUrl: '/wasm/mediapipe', manifest, runningMode: 'IMAGE' }),
      flip: await emb.MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: choice.backend, flip: true }),
      plain: await emb.MobileFaceNetEmbedder.create({ modelsUrl: '/models/', manifest, backend: choice.backend, flip: false }),
      aligner: new align.CanvasAligner(),
      mesh: await meshAlign.MeshAligner.create({ modelsUrl: '/models/', manifest }),
    };
  });
  const out: PageFace[] = [];
  for (const frame of frames) {
    out.push(
      await page.evaluate(
        async ({ name, b64 }) => {
          const p = (window as unknown as { parity: Parity }).parity;
          const frame = await window.api.jpegFrame(b64);
          const faces = p.detector.detect(frame);
          const centre = (f: (typeof faces)[number]) => Math.hypot(f.box.x + f.box.width / 2 - frame.width / 2, f.box.y + f.box.height / 2 - frame.height / 2);
          const face = [...faces].sort((a, b) => centre(a) - centre(b))[0];
          if (!face) return { name, faces: 0, width: frame.width, height: frame.height, score: 0, keypoints: [], box: { x: 0, y: 0, width: 0, height: 0 }, flip: [], plain: [], mesh: [] };
          const crop = p.aligner.align(frame, face);
          const [flip] = await p.flip.embed([crop]);
          const [plain] = await p.plain.embed([crop]);
          const [mesh] = await p.plain.embed([p.mesh.alignForEmbedding(frame, face)]);
          const box = { x: face.box.x, y: face.box.y, width: face.box.width, height: face.box.height };
          return { name, faces: faces.length, width: frame.width, height: frame.height, score: face.score, keypoints: face.keypoints.map((k) => ({ x: k.x, y: k.y })), box, flip: Array.from(flip!), plain: Array.from(plain!), mesh: Array.from(mesh!) };
        },
        { name: frame.name, b64: Buffer.from(frame.bytes).toString('base64') },
      ),
    );
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The five top-level fixtures' keypoints, as server/test/vision-embedder.test.ts reads them. */
function checkKeypointFixture(faces: PageFace[], detectorId: string, browser: string): void {
  const top = faces.filter((f) => !f.name.includes('/'));
  if (process.env.UPDATE_VISION_FIXTURES === '1') {
    const fixture = {
      $comment:
        'Keypoints (frame pixels; right eye, left eye, nose tip, mouth centre, right ear, left ear) of the one face in each e2e/fixtures/*.jpg, ' +
        'found by the page\'s MediaPipeDetector (IMAGE mode, CPU, WASM) in headless Chromium. Written by ' +
        '`UPDATE_VISION_FIXTURES=1 npx playwright test tests/browser/embedding-parity.spec.ts`; that spec checks them on every run.',
      detector: detectorId,
      browser,
      frames: Object.fromEntries(top.map((f) => [f.name, { width: f.width, height: f.height, score: +f.score.toFixed(4), keypoints: f.keypoints.map((k) => [+k.x.toFixed(3), +k.y.toFixed(3)]) }])),
    };
    // One [x, y] pair a line.
    const json = JSON.stringify(fixture, null, 2).replace(/\[\s+(-?[\d.]+),\s+(-?[\d.]+)\s+\]/g, '[$1, $2]');
    writeFileSync(KEYPOINTS_FIXTURE, json + '\n');
  }
  const fixture = JSON.parse(readFileSync(KEYPOINTS_FIXTURE, 'utf8')) as { detector: string; frames: Record<string, { keypoints: [number, number][] }> };
  expect(fixture.detector).toBe(detectorId);
  expect(Object.keys(fixture.frames).sort()).toEqual(top.map((f) => f.name).sort());
  for (const f of top) {
    const kp = fixture.frames[f.name]!.keypoints;
    const off = Math.max(...f.keypoints.map((k, i) => Math.hypot(k.x - kp[i]![0], k.y - kp[i]![1])));
    expect(off, `${f.name}: the detector moved its keypoints by ${off.toFixed(3)} px`).toBeLessThan(0.05);
  }
}

test('the server pipeline (jpeg-js, RgbaAligner, MobileFaceNet on Node WASM) embeds as the page does: cosine >= 0.999 on every face', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);

  const committed = committedFrames();
  const derived: Frame[] = [];
  for (const f of committed.slice(0, 5)) derived.push(await derive(page, f, 'camera'));
  for (const f of committed.slice(5, 8)) derived.push(await derive(page, f, 'camera'));
  for (const f of committed.slice(0, 3)) derived.push(await derive(page, f, 'small'));
  for (const f of committed.slice(3, 6)) derived.push(await derive(page, f, 'edge'));
  derived.push(await derive(page, committed[0]!, 'rot90'), await derive(page, committed[3]!, 'rot180'), await derive(page, committed[6]!, 'rot270'));
  const lfw = lfwFrames(50);
  const frames = [...committed, ...derived, ...lfw];

  const t0 = Date.now();
  const faces = await pageEmbeddings(page, frames);
  const pageMs = Date.now() - t0;
  writeFileSync(test.info().outputPath('page-embeddings.json'), JSON.stringify(faces));
  const missed = faces.filter((f) => f.faces === 0).map((f) => f.name);
  expect(missed, 'the page found no face in these frames').toEqual([]);
  checkKeypointFixture(faces, await page.evaluate(() => window.api.det.DETECTOR_ID), `Chromium ${page.context().browser()?.version() ?? '?'}`);

  // The server's side, in this (Node) process, from the same bytes and keypoints.
  const runtime = await initTfRuntime();
  const flip = await MobileFaceNetNodeEmbedder.create({ flip: true });
  const plain = await MobileFaceNetNodeEmbedder.create({ flip: false });
  const aligner = new RgbaAligner();
  const meshAligner = await NodeMeshAligner.create();
  const rows: { name: string; flip: number; plain: number; mesh: number }[] = [];
  const t1 = Date.now();
  for (let i = 0; i < frames.length; i++) {
    const face = faces[i]!;
    const image = decodeJpeg(frames[i]!.bytes);
    expect([image.width, image.height], `${face.name}: decoded size`).toEqual([face.width, face.height]);
    const crop = aligner.align(image, face.keypoints);
    const [ef] = await flip.embed([crop]);
    const [ep] = await plain.embed([crop]);
    const [em] = await plain.embed([meshAligner.align(image, face.box, face.keypoints)]);
    rows.push({ name: face.name, flip: dot(ef!, face.flip), plain: dot(ep!, face.plain), mesh: dot(em!, face.mesh) });
  }
  const nodeMs = Date.now() - t1;

  // Node per-face time, align + embed with flip (the frame decoded once), median of 20.
  const sample = decodeJpeg(frames[0]!.bytes);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await flip.embed([aligner.align(sample, faces[0]!.keypoints)]);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  flip.dispose();
  plain.dispose();
  meshAligner.dispose();

  const byGroup = new Map<string, number[]>();
  for (const r of rows) {
    const g = r.name.includes('/') ? r.name.slice(0, r.name.indexOf('/')) : 'fixtures';
    byGroup.set(g, [...(byGroup.get(g) ?? []), r.flip]);
  }
  const flips = rows.map((r) => r.flip).sort((a, b) => a - b);
  const plains = rows.map((r) => r.plain).sort((a, b) => a - b);
  const meshes = rows.map((r) => r.mesh).sort((a, b) => a - b);
  const summary =
    `${rows.length} faces; flip: min ${flips[0]!.toFixed(6)} median ${quantile(flips, 0.5).toFixed(6)}; ` +
    `no flip: min ${plains[0]!.toFixed(6)} median ${quantile(plains, 0.5).toFixed(6)}; ` +
    `five-point (default): min ${meshes[0]!.toFixed(6)} median ${quantile(meshes, 0.5).toFixed(6)}, worst ${rows.find((r) => r.mesh === meshes[0])?.name}; by frame kind (flip min): ` +
    [...byGroup].map(([g, c]) => `${g} ${Math.min(...c).toFixed(6)} (${c.length})`).join(', ') +
    `; Node ${runtime.wasmFile.split('/').pop()} x${runtime.threads} thread: align + embed (flip) median ${quantile(times, 0.5).toFixed(1)} ms of 20` +
    `; page side ${pageMs} ms, Node side ${nodeMs} ms for all frames`;
  test.info().annotations.push({ type: 'parity', description: summary });
  console.log(`embedding parity: ${summary}`);
  const below = rows.filter((r) => !(r.flip >= MIN_COSINE && r.plain >= MIN_COSINE));
  expect(below, `faces below cosine ${MIN_COSINE}`).toEqual([]);
  const meshBelow = rows.filter((r) => !(r.mesh >= MIN_MESH_COSINE));
  expect(meshBelow, `five-point crops below cosine ${MIN_MESH_COSINE}`).toEqual([]);
});

/**
 * The multiple-faces rule's evidence (facesByMesh): the face mesh's presence probability, read by
 * the page's MeshAligner.facePresence and the server's NodeMeshAligner.presence on the same
 * detections. Jennifer_Capriati_0011 (server/test/fixtures/examine) uploaded raw gives the server's
 * BlazeFace a second "face" on the background: both sides must score it below MESH_PRESENCE_MIN
 * and her face above, and the committed fixtures' faces above it, within 0.02 of each other.
 */
test('face presence: the page and the server call the same detections faces (the background patch is none)', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/tests/browser/harness.html');
  await page.waitForFunction(() => window.apiReady === true);
  const photo = readFileSync(join(ROOT, 'server/test/fixtures/examine/Jennifer_Capriati_0011.jpg'));
  await initTfRuntime();
  const detector = await loadBlazeFaceDetector();
  const meshAligner = await NodeMeshAligner.create();
  try {
    const frames: { name: string; bytes: Uint8Array; detections: { box: { x: number; y: number; width: number; height: number }; keypoints: { x: number; y: number }[]; score: number }[] }[] = [];
    for (const f of [{ name: 'Jennifer_Capriati_0011.jpg', bytes: new Uint8Array(photo) }, ...committedFrames().slice(0, 5)]) {
      const d = detector.detect(decodeJpeg(f.bytes));
      frames.push({ ...f, detections: d.map((x) => ({ box: { ...x.box }, keypoints: x.keypoints.map((k) => ({ x: k.x, y: k.y })), score: x.score })) });
    }
    expect(frames[0]!.detections.length, 'the server detector sees two "faces" in the raw Capriati photo').toBe(2);
    const pagePresence = await page.evaluate(
      async (frames) => {
        const { be, files, meshAlign } = window.api;
        await be.selectBackend('wasm', '/wasm/tfjs/');
        const manifest = await files.fetchManifest('/models/');
        const mesh = await meshAlign.MeshAligner.create({ modelsUrl: '/models/', manifest });
        try {
          const out: number[][] = [];
          for (const f of frames) {
            const frame = await window.api.jpegFrame(f.b64);
            out.push(f.detections.map((d) => mesh.facePresence(frame, d)));
          }
          return out;
        } finally {
          mesh.dispose();
        }
      },
      frames.map((f) => ({ b64: Buffer.from(f.bytes).toString('base64'), detections: f.detections })),
    );
    const serverPresence = frames.map((f) => f.detections.map((d) => meshAligner.presence(decodeJpeg(f.bytes), d.box, d.keypoints)));
    const summary = frames.map((f, i) => `${f.name}: ${f.detections.map((d, j) => `det ${d.score.toFixed(3)} page ${pagePresence[i]![j]!.toFixed(4)} server ${serverPresence[i]![j]!.toFixed(4)}`).join('; ')}`).join(' | ');
    test.info().annotations.push({ type: 'presence', description: summary });
    console.log(`face presence: ${summary}`);
    const [her, patch] = [0, 1];
    expect(pagePresence[0]![her]!, summary).toBeGreaterThanOrEqual(MESH_PRESENCE_MIN);
    expect(pagePresence[0]![patch]!, summary).toBeLessThan(MESH_PRESENCE_MIN);
    expect(serverPresence[0]![her]!, summary).toBeGreaterThanOrEqual(MESH_PRESENCE_MIN);
    expect(serverPresence[0]![patch]!, summary).toBeLessThan(MESH_PRESENCE_MIN);
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.detections.length, frames[i]!.name).toBe(1);
      expect(pagePresence[i]![0]!, summary).toBeGreaterThanOrEqual(MESH_PRESENCE_MIN);
    }
    for (let i = 0; i < frames.length; i++) {
      for (let j = 0; j < frames[i]!.detections.length; j++) expect(Math.abs(pagePresence[i]![j]! - serverPresence[i]![j]!), summary).toBeLessThan(0.02);
    }
  } finally {
    meshAligner.dispose();
    detector.dispose();
  }
});
