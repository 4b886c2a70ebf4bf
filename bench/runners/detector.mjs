#!/usr/bin/env node
/**
 * Face detector benchmark: BlazeFace short range vs full range (src/adapters/detector/blazeface-tfjs.ts,
 * `range: 'short' | 'full'`) on TF.js WASM in Node, as the server runs it (server/vision/model-files.ts),
 * at the product's minScore 0.6, on real photos.
 *
 *   node bench/runners/detector.mjs [--out bench/results] [--lfw <dir>] [--small-n 300] [--seed 1]
 *   node bench/runners/detector.mjs --smoke [--out <dir>]     # < 1 min, small samples (bench/runners/smoke.mjs)
 *   node bench/runners/detector.mjs --sheet /tmp/secondary    # also writes the labelling contact sheets
 *                                                             # (<prefix>-N.png + <prefix>.json), never into the repo
 *
 * Sections (results in <out>/detector.json and detector.md):
 *  0. conversion parity: the full-range TF.js graph's raw outputs vs the float64 TFLite reference
 *     (scripts/models/tflite-reference.mjs) on a few seeded LFW photos.
 *  a. single-person refusal on LFW: every image of lfw-deepfunneled as a 250x250 frame; the fraction
 *     with 0, exactly 1 and >= 2 faces (>= 2 = the product refuses it as multiple-faces).
 *  b. secondary detections (every detection of a >= 2 image but the one nearest the image centre):
 *     labelled by eye in bench/data/lfw-secondary-labels.json (a seeded uniform sample of the
 *     distinct secondaries of both ranges; --sheet draws it); the false-face fraction with its
 *     95 % Clopper-Pearson interval, real vs false score distributions, and second-stage gates:
 *     the face mesh's presence probability on the box (as server/vision/mesh-aligner.ts crops it:
 *     1.5 x the box, eyes level, 192 px) and a stricter score, each as real kept / false dropped and
 *     as the LFW refusal rate it leaves.
 *  c. group shots face-api-js-bbt/_multi_face/bbt1..5.jpg: detections per image, with found /
 *     missed / false against bench/data/bbt-group-labels.json (counted by eye).
 *  d. small faces: seeded LFW photos (pairs.txt persons) where both ranges find exactly one face,
 *     the face region (2 x the box) area-averaged so that short range's box is 20..80 px wide, pasted
 *     at a seeded position into a 1280x720 frame, on mid-grey and on clutter (another LFW photo cut
 *     into 25-px blocks, shuffled, stretched to the frame: face colours, no face); recall = a
 *     detection with IoU >= 0.5 to the range's own box, scaled; false = the other detections.
 *     Plus ms per detect() (median) at 640x480 and 1280x720.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';
import { ROOT, fmtDur, machineInfo, makeLog, mdTable, median, percentile, roundDeep, writeResultFile } from '../lib/harness.mjs';
import { FACES_DIR, lfwDir, readLfwPairs, shuffled } from '../lib/datasets.mjs';
import { clopperPearson } from '../lib/metrics.mjs';
import { rng } from '../../scripts/lib/seeded-random.mjs';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    lfw: { type: 'string' },
    'small-n': { type: 'string' },
    seed: { type: 'string', default: '1' },
    sheet: { type: 'string' },
    'group-sheet': { type: 'string' },
  },
});
const SMOKE = values.smoke;
const SEED = Number(values.seed);
const LFW = lfwDir(values.lfw);
const BBT = join(FACES_DIR, 'face-api-js-bbt/_multi_face');
const LABELS = join(ROOT, 'bench/data/lfw-secondary-labels.json');
const GROUP_LABELS = join(ROOT, 'bench/data/bbt-group-labels.json');
const MIN_SCORE = 0.6;
const RANGES = ['short', 'full'];
const SIZES = SMOKE ? [30, 60] : [20, 30, 40, 60, 80];
const SMALL_N = Number(values['small-n'] ?? (SMOKE ? 8 : 300));
const LFW_SMOKE_N = 120;
const SHEET_N = 120;
const PARITY_N = SMOKE ? 1 : 4;
const log = makeLog('detector');
const t0 = performance.now();

if (!existsSync(LFW)) {
  const msg = `detector bench ${SMOKE ? 'smoke ' : ''}SKIPPED: no LFW at ${LFW} (set FACES_DIR or LFW_DIR)`;
  if (!SMOKE || process.env.FACE_LOGIN_REQUIRE_DATASETS === '1') {
    log(`FAIL: ${msg}`);
    process.exit(1);
  }
  log(msg);
  process.exit(0);
}

register(); // this runner is plain JS: load the server's TypeScript through tsx
const tsImport = (p) => import(pathToFileURL(join(ROOT, p)).href);
const tf = await import('@tensorflow/tfjs-core');
const { initTfRuntime } = await tsImport('server/vision/tf-runtime.ts');
const { loadBlazeFaceDetector, loadCheckedGraphModel, readModelManifest, DEFAULT_MODELS_DIR } = await tsImport('server/vision/model-files.ts');
const { decodeJpeg } = await tsImport('server/vision/jpeg-decoder.ts');
const { RgbaAligner } = await tsImport('server/vision/rgba-aligner.ts');
const { blazeFaceInput } = await tsImport('src/adapters/detector/blazeface-tfjs.ts');
const { FACE_MESH_DIR, runFaceMesh } = await tsImport('src/adapters/landmarks/face-mesh-model.ts');
const { FACE_MESH_INPUT, meshCropSimilarity } = await tsImport('src/core/face-mesh.ts');
const { pinnedFile } = await import('../../scripts/lib/pinned-packages.mjs');
const { runTfliteReferenceOutputs } = await import('../../scripts/models/tflite-reference.mjs');

const runtime = await initTfRuntime();
const detectors = { short: await loadBlazeFaceDetector(DEFAULT_MODELS_DIR, { minScore: MIN_SCORE }), full: await loadBlazeFaceDetector(DEFAULT_MODELS_DIR, { range: 'full', minScore: MIN_SCORE }) };
const meshModel = await loadCheckedGraphModel(DEFAULT_MODELS_DIR, FACE_MESH_DIR, await readModelManifest(DEFAULT_MODELS_DIR));
const warper = new RgbaAligner();
log(`TF.js ${runtime.tfjsVersion} ${runtime.backend} (simd ${runtime.simd}, ${runtime.threads} thread), ${SMOKE ? 'SMOKE' : 'full run'}, LFW ${LFW}`);

// ---- helpers ------------------------------------------------------------------------------------
const readImage = (path) => decodeJpeg(new Uint8Array(readFileSync(path)), { minSide: 1 });
const rel = (path) => path.slice(LFW.length + 1);
const box4 = (b) => [b.x, b.y, b.width, b.height];
function iou(a, b) {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? (w * h) / (a.width * a.height + b.width * b.height - w * h) : 0;
}
const pct = (x, n) => (n ? `${((100 * x) / n).toFixed(2)} %` : 'n/a');
const ci = (x, n) => {
  if (!n) return 'n/a';
  const { lower, upper } = clopperPearson(x, n);
  return `${((100 * x) / n).toFixed(1)} % [${(100 * lower).toFixed(1)}, ${(100 * upper).toFixed(1)}]`;
};
const quart = (xs) => (xs.length ? `${percentile(xs, 0).toFixed(2)} / ${percentile(xs, 25).toFixed(2)} / ${median(xs).toFixed(2)} / ${percentile(xs, 75).toFixed(2)} / ${percentile(xs, 100).toFixed(2)}` : 'n/a');

/** The face mesh's presence probability for a detection, on the crop the product's mesh aligner makes. */
function meshPresence(frame, det) {
  let m;
  try {
    m = meshCropSimilarity(det.box, det.keypoints[0], det.keypoints[1]);
  } catch {
    return null; // an empty box: the aligner would refuse it
  }
  const crop = warper.warp(frame, m, FACE_MESH_INPUT);
  const out = runFaceMesh(meshModel, () => tf.expandDims(tf.browser.fromPixels({ data: new Uint8Array(crop.data.buffer, crop.data.byteOffset, crop.data.length), width: crop.width, height: crop.height }, 3), 0));
  return out.presence[0]; // the graph's own Sigmoid output: a probability already
}

/** Index of the detection whose box centre is nearest the image centre (the "subject"). */
function primaryIndex(dets, W, H) {
  let best = -1;
  let bestD = Infinity;
  dets.forEach((d, i) => {
    const dist = Math.hypot(d.box.x + d.box.width / 2 - W / 2, d.box.y + d.box.height / 2 - H / 2);
    if (dist < bestD) [best, bestD] = [i, dist];
  });
  return best;
}

/** The area-averaged resample of region (x0, y0, side) of img to n x n. */
function areaResample(img, x0, y0, side, n) {
  const out = new Uint8ClampedArray(n * n * 4);
  const k = side / n;
  for (let y = 0; y < n; y++) {
    const fy0 = y0 + y * k, fy1 = fy0 + k;
    for (let x = 0; x < n; x++) {
      const fx0 = x0 + x * k, fx1 = fx0 + k;
      let r = 0, g = 0, b = 0, wsum = 0;
      for (let sy = Math.floor(fy0); sy < Math.ceil(fy1); sy++) {
        const wy = Math.min(sy + 1, fy1) - Math.max(sy, fy0);
        if (sy < 0 || sy >= img.height || wy <= 0) continue;
        for (let sx = Math.floor(fx0); sx < Math.ceil(fx1); sx++) {
          const wx = Math.min(sx + 1, fx1) - Math.max(sx, fx0);
          if (sx < 0 || sx >= img.width || wx <= 0) continue;
          const i = (sy * img.width + sx) * 4;
          const w = wx * wy;
          r += img.data[i] * w; g += img.data[i + 1] * w; b += img.data[i + 2] * w; wsum += w;
        }
      }
      const d = (y * n + x) * 4;
      if (wsum > 0) { out[d] = r / wsum; out[d + 1] = g / wsum; out[d + 2] = b / wsum; }
      out[d + 3] = 255;
    }
  }
  return { width: n, height: n, data: out };
}

function paste(frame, img, ox, oy) {
  for (let row = 0; row < img.height; row++) {
    const y = oy + row;
    if (y < 0 || y >= frame.height) continue;
    frame.data.set(img.data.subarray(row * img.width * 4, (row + 1) * img.width * 4), (y * frame.width + ox) * 4);
  }
}
const greyFrame = (W, H) => ({ width: W, height: H, data: new Uint8ClampedArray(W * H * 4).fill(128) });

// ---- a minimal PNG writer and drawing, for the contact sheets (written to /tmp only) ------------
const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
const crc32 = (buf) => { let c = -1; for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ -1) >>> 0; };
function png(img) {
  const raw = Buffer.alloc((img.width * 3 + 1) * img.height);
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) for (let c = 0; c < 3; c++) raw[y * (img.width * 3 + 1) + 1 + x * 3 + c] = img.data[(y * img.width + x) * 4 + c];
  const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td)); return Buffer.concat([len, td, crc]); };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(img.width, 0); ihdr.writeUInt32BE(img.height, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
/** 3x5 digits. */
const DIGITS = ['111101101101111', '010110010010111', '111001111100111', '111001111001111', '101101111001001', '111100111001111', '111100111101111', '111001001001001', '111101111101111', '111101111001111'];
function drawText(img, text, x, y, scale, rgb) {
  for (const [k, ch] of [...String(text)].entries()) {
    const g = DIGITS[Number(ch)];
    if (!g) continue;
    for (let i = 0; i < 15; i++) if (g[i] === '1') fillRect(img, x + (k * 4 + (i % 3)) * scale, y + Math.floor(i / 3) * scale, scale, scale, rgb);
  }
}
function fillRect(img, x, y, w, h, rgb) {
  for (let yy = Math.max(0, Math.round(y)); yy < Math.min(img.height, Math.round(y + h)); yy++) for (let xx = Math.max(0, Math.round(x)); xx < Math.min(img.width, Math.round(x + w)); xx++) img.data.set(rgb, (yy * img.width + xx) * 4);
}
function strokeRect(img, b, rgb, t = 2) {
  fillRect(img, b.x, b.y, b.width, t, rgb); fillRect(img, b.x, b.y + b.height - t, b.width, t, rgb);
  fillRect(img, b.x, b.y, t, b.height, rgb); fillRect(img, b.x + b.width - t, b.y, t, b.height, rgb);
}
/** The axis-aligned square of 1.5 x the box's longer side, centred on it, at `n` px. */
function boxCrop(frame, box, n) {
  const side = 1.5 * Math.max(box.width, box.height, 1);
  const s = n / side;
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  return warper.warp(frame, { a: s, b: 0, tx: n / 2 - s * cx, ty: n / 2 - s * cy }, n);
}

// ---- 0. conversion parity -----------------------------------------------------------------------
const allImages = readdirSync(LFW).filter((d) => statSync(join(LFW, d)).isDirectory()).sort()
  .flatMap((d) => readdirSync(join(LFW, d)).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => join(LFW, d, f)));
log(`${allImages.length} LFW images`);
const parity = [];
{
  const tflite = pinnedFile('@mediapipe/face_detection', 'face_detection_full_range.tflite');
  const { loadConverted } = await import('../../scripts/models/load-converted.mjs');
  const dir = join(DEFAULT_MODELS_DIR, 'blazeface-full');
  const model = await loadConverted({ modelJson: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), weightData: new Uint8Array(readFileSync(join(dir, 'weights.bin'))) });
  for (const path of shuffled(allImages, SEED + 100).slice(0, PARITY_N)) {
    const input = blazeFaceInput(readImage(path), 'full');
    const got = tf.tidy(() => model.execute(tf.tensor4d(input, [1, 192, 192, 3]), ['regressors', 'classificators']).map((t) => t.dataSync()));
    const ref = runTfliteReferenceOutputs(tflite, input, 1);
    const row = { image: rel(path) };
    ref.forEach((r, k) => {
      let maxDiff = 0, maxMag = 0;
      r.data.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - got[k][i])); maxMag = Math.max(maxMag, Math.abs(v)); });
      row[k ? 'classificators' : 'regressors'] = { maxAbsDiff: maxDiff, maxAbsRef: maxMag, relative: maxDiff / maxMag };
    });
    parity.push(row);
    log(`parity ${row.image}: regressors ${row.regressors.maxAbsDiff.toExponential(2)} of ${row.regressors.maxAbsRef.toFixed(1)}, logits ${row.classificators.maxAbsDiff.toExponential(2)} of ${row.classificators.maxAbsRef.toFixed(1)}`);
  }
  model.dispose();
}

// ---- a. LFW: faces per image ----------------------------------------------------------------------
const lfwImages = SMOKE ? shuffled(allImages, SEED).slice(0, LFW_SMOKE_N) : allImages;
/** Per range: per image { image, dets: [{ box, score, keypoints }] }. */
const lfwDets = { short: [], full: [] };
const detMs = { short: [], full: [] };
{
  let i = 0;
  for (const path of lfwImages) {
    const img = readImage(path);
    for (const r of RANGES) {
      const t = performance.now();
      const dets = detectors[r].detect(img);
      detMs[r].push(performance.now() - t);
      lfwDets[r].push({ image: rel(path), width: img.width, height: img.height, dets });
    }
    if (++i % 2000 === 0) log(`LFW ${i}/${lfwImages.length} (${fmtDur((performance.now() - t0) / 1000)})`);
  }
}
const refusal = {};
for (const r of RANGES) {
  const n = lfwDets[r].length;
  const c = [0, 0, 0];
  for (const e of lfwDets[r]) c[Math.min(e.dets.length, 2)]++;
  refusal[r] = { images: n, zero: c[0], one: c[1], twoOrMore: c[2], medianMs250: median(detMs[r]) };
  log(`${r}: ${n} images, 0 faces ${pct(c[0], n)}, 1 face ${pct(c[1], n)}, >=2 ${pct(c[2], n)}`);
}

// ---- b. secondary detections ---------------------------------------------------------------------
/** Per range: every secondary detection with its mesh presence; plus the primaries' presence (images with >= 2). */
const secondaries = { short: [], full: [] };
const primaryPresence = { short: [], full: [] };
for (const r of RANGES) {
  for (const e of lfwDets[r]) {
    if (e.dets.length < 2) continue;
    const img = readImage(join(LFW, e.image));
    const p = primaryIndex(e.dets, e.width, e.height);
    e.dets.forEach((d, i) => {
      const presence = meshPresence(img, d);
      if (i === p) primaryPresence[r].push(presence ?? 0);
      else secondaries[r].push({ image: e.image, box: d.box, score: d.score, presence });
    });
  }
  log(`${r}: ${secondaries[r].length} secondary detections in ${primaryPresence[r].length} images`);
}
/** Distinct secondaries of both ranges (a full-range one overlapping a short-range one at IoU >= 0.5 is the same). */
const pool = [];
for (const r of RANGES) {
  for (const s of secondaries[r]) {
    const same = pool.find((q) => q.image === s.image && iou(q.box, s.box) >= 0.5);
    if (same) same.ranges.push(r);
    else pool.push({ image: s.image, box: s.box, score: s.score, ranges: [r] });
  }
}
const labelsFile = existsSync(LABELS) ? JSON.parse(readFileSync(LABELS, 'utf8')) : null;
const labelOf = (s) => labelsFile?.labels.find((l) => l.image === s.image && iou({ x: l.box[0], y: l.box[1], width: l.box[2], height: l.box[3] }, s.box) >= 0.5);

if (values.sheet) {
  // The labelling sample: seeded, uniform over the distinct secondaries; crops of 1.5 x the box.
  const sample = shuffled(pool, SEED + 7).slice(0, SHEET_N);
  const CELL = 128, PER = 40, COLS = 8;
  for (let s = 0; s * PER < sample.length; s++) {
    const part = sample.slice(s * PER, (s + 1) * PER);
    const rows = Math.ceil(part.length / COLS);
    const sheet = { width: COLS * CELL, height: rows * (CELL + 16), data: new Uint8ClampedArray(COLS * CELL * rows * (CELL + 16) * 4).fill(255) };
    part.forEach((q, k) => {
      const crop = boxCrop(readImage(join(LFW, q.image)), q.box, CELL - 4);
      const x = (k % COLS) * CELL, y = Math.floor(k / COLS) * (CELL + 16);
      for (let row = 0; row < crop.height; row++) sheet.data.set(crop.data.subarray(row * crop.width * 4, (row + 1) * crop.width * 4), ((y + 14 + row) * sheet.width + x + 2) * 4);
      drawText(sheet, s * PER + k, x + 3, y + 1, 2, [200, 0, 0]);
    });
    writeFileSync(`${values.sheet}-${s + 1}.png`, png(sheet));
  }
  writeFileSync(`${values.sheet}.json`, JSON.stringify(sample.map((q, i) => ({ index: i, image: q.image, box: box4(q.box), score: roundDeep(q.score, 4), ranges: q.ranges })), null, 1));
  log(`wrote the labelling sheets ${values.sheet}-*.png and ${values.sheet}.json (${sample.length} crops of ${pool.length} distinct secondaries)`);
}

const GATES = [
  { name: 'none (product today: any 2nd face >= 0.6)', pass: () => true },
  { name: 'score >= 0.70', pass: (s) => s.score >= 0.7 },
  { name: 'score >= 0.75', pass: (s) => s.score >= 0.75 },
  { name: 'score >= 0.80', pass: (s) => s.score >= 0.8 },
  { name: 'mesh presence >= 0.5', pass: (s) => (s.presence ?? 0) >= 0.5 },
  { name: 'mesh presence >= 0.9', pass: (s) => (s.presence ?? 0) >= 0.9 },
  { name: 'mesh presence >= 0.5 and score >= 0.7', pass: (s) => (s.presence ?? 0) >= 0.5 && s.score >= 0.7 },
];
const secondary = {};
for (const r of RANGES) {
  const labelled = secondaries[r].map((s) => ({ ...s, label: labelOf(s)?.label ?? null })).filter((s) => s.label);
  const real = labelled.filter((s) => s.label === 'face');
  const fake = labelled.filter((s) => s.label === 'not-face');
  const refused = (gate) => lfwDets[r].filter((e) => {
    if (e.dets.length < 2) return false;
    return secondaries[r].some((s) => s.image === e.image && gate.pass(s));
  }).length;
  secondary[r] = {
    count: secondaries[r].length,
    labelled: labelled.length,
    real: real.length,
    notFace: fake.length,
    falseFraction: labelled.length ? { value: fake.length / labelled.length, ci95: clopperPearson(fake.length, labelled.length) } : null,
    scoreReal: real.map((s) => s.score),
    scoreFalse: fake.map((s) => s.score),
    presenceReal: real.map((s) => s.presence),
    presenceFalse: fake.map((s) => s.presence),
    primaryPresenceAtLeast05: primaryPresence[r].filter((p) => p >= 0.5).length,
    primaries: primaryPresence[r].length,
    gates: GATES.map((g) => ({ gate: g.name, realKept: real.filter(g.pass).length, falseDropped: fake.filter((s) => !g.pass(s)).length, lfwRefused: refused(g) })),
  };
}

// ---- c. group shots -------------------------------------------------------------------------------
const groupLabels = existsSync(GROUP_LABELS) ? JSON.parse(readFileSync(GROUP_LABELS, 'utf8')) : null;
const groups = [];
if (existsSync(BBT)) {
  for (const f of readdirSync(BBT).filter((x) => /^bbt\d\.jpe?g$/i.test(x)).sort()) {
    const img = readImage(join(BBT, f));
    const row = { image: f, width: img.width, height: img.height };
    const lab = groupLabels?.images?.[f];
    for (const r of RANGES) {
      const dets = detectors[r].detect(img);
      const isFalse = (d) => (lab?.notFaces?.[r] ?? []).some((b) => iou({ x: b[0], y: b[1], width: b[2], height: b[3] }, d.box) >= 0.5);
      const falseN = dets.filter(isFalse).length;
      const found = dets.length - falseN;
      row[r] = { detections: dets.length, boxes: dets.map((d) => [...box4(d.box), roundDeep(d.score, 3)]), ...(lab ? { found, missed: lab.faces - found, false: falseN } : {}) };
    }
    row.facesByEye = lab?.faces ?? null;
    groups.push(row);
    if (values['group-sheet']) {
      const copy = { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data) };
      for (const [r, rgb] of [['short', [255, 0, 0]], ['full', [0, 255, 0]]]) {
        row[r].boxes.forEach((b, i) => {
          strokeRect(copy, { x: b[0], y: b[1], width: b[2], height: b[3] }, rgb, r === 'short' ? 3 : 1);
          drawText(copy, i, b[0] + (r === 'short' ? 2 : b[2] - 14), b[1] + (r === 'short' ? 2 : b[3] - 14), 2, rgb);
        });
      }
      writeFileSync(`${values['group-sheet']}-${basename(f, '.jpg')}.png`, png(copy));
    }
    log(`${f} ${img.width}x${img.height}: short ${row.short.detections}, full ${row.full.detections} detections${lab ? ` (${lab.faces} faces by eye)` : ''}`);
  }
}

// ---- d. small faces -------------------------------------------------------------------------------
const small = { sizes: SIZES, backgrounds: ['grey', 'clutter'], n: 0, cells: [] };
const timing = {};
{
  const people = new Set(readLfwPairs(LFW).pairs.flatMap((p) => [p.a, p.b]).map((p) => p.split('/')[0]));
  const candidates = shuffled(allImages.filter((p) => people.has(basename(join(p, '..')))), SEED + 3);
  const chosen = [];
  for (const path of candidates) {
    if (chosen.length >= SMALL_N) break;
    const img = readImage(path);
    const shortDets = detectors.short.detect(img);
    const fullDets = detectors.full.detect(img);
    if (shortDets.length !== 1 || fullDets.length !== 1) continue;
    chosen.push({ path, img, boxes: { short: shortDets[0].box, full: fullDets[0].box } });
  }
  small.n = chosen.length;
  const u = rng(SEED + 11);
  const W = 1280, H = 720;
  const tally = {};
  // Clutter backgrounds: each of up to 10 chosen photos in 25-px blocks, shuffled, stretched to the frame.
  const clutters = chosen.slice(0, Math.min(10, chosen.length)).map((c, j) => {
    const src = c.img;
    const blocks = shuffled([...Array(100).keys()], SEED + 20 + j);
    const scrambled = new Uint8ClampedArray(250 * 250 * 4);
    blocks.forEach((b, i) => {
      const [sx, sy, dx, dy] = [(b % 10) * 25, Math.floor(b / 10) * 25, (i % 10) * 25, Math.floor(i / 10) * 25];
      for (let row = 0; row < 25; row++) scrambled.set(src.data.subarray(((sy + row) * src.width + sx) * 4, ((sy + row) * src.width + sx + 25) * 4), ((dy + row) * 250 + dx) * 4);
    });
    const data = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++) {
      const sy = Math.floor((y * 250) / H);
      for (let x = 0; x < W; x++) {
        const si = (sy * 250 + Math.floor((x * 250) / W)) * 4;
        const di = (y * W + x) * 4;
        data[di] = scrambled[si]; data[di + 1] = scrambled[si + 1]; data[di + 2] = scrambled[si + 2]; data[di + 3] = 255;
      }
    }
    return data;
  });
  for (const [k, c] of chosen.entries()) {
    let j = k % clutters.length;
    if (j === k && clutters.length > 1) j = (j + 1) % clutters.length; // never the pasted photo's own blocks
    const clutter = { width: W, height: H, data: clutters[j] };
    const ref = c.boxes.short;
    const side = Math.min(2 * Math.max(ref.width, ref.height), c.img.width, c.img.height);
    const rx = Math.min(Math.max(ref.x + ref.width / 2 - side / 2, 0), c.img.width - side);
    const ry = Math.min(Math.max(ref.y + ref.height / 2 - side / 2, 0), c.img.height - side);
    for (const size of SIZES) {
      const scale = size / ref.width;
      const n = Math.max(1, Math.round(side * scale));
      const patch = areaResample(c.img, rx, ry, side, n);
      const ox = Math.floor(u() * (W - n)), oy = Math.floor(u() * (H - n));
      const known = (b) => ({ x: ox + (b.x - rx) * (n / side), y: oy + (b.y - ry) * (n / side), width: b.width * (n / side), height: b.height * (n / side) });
      for (const bg of small.backgrounds) {
        const frame = bg === 'grey' ? greyFrame(W, H) : { width: W, height: H, data: new Uint8ClampedArray(clutter.data) };
        paste(frame, patch, ox, oy);
        for (const r of RANGES) {
          const dets = detectors[r].detect(frame);
          const hit = dets.some((d) => iou(d.box, known(c.boxes[r])) >= 0.5);
          const key = `${r}|${bg}|${size}`;
          const t = (tally[key] ??= { range: r, background: bg, size, frames: 0, found: 0, falseDetections: 0 });
          t.frames++;
          if (hit) t.found++;
          t.falseDetections += dets.filter((d) => iou(d.box, known(c.boxes[r])) < 0.5).length;
        }
      }
    }
  }
  small.cells = Object.values(tally).map((t) => ({ ...t, recall: t.found / t.frames, recallCi95: clopperPearson(t.found, t.frames), falsePerFrame: t.falseDetections / t.frames }));
  log(`small faces: ${chosen.length} photos x ${SIZES.length} sizes x 2 backgrounds`);

  // ms per detect() on 640x480 and 1280x720 frames holding a 60-px face
  const reps = SMOKE ? 5 : 40;
  for (const [FW, FH] of [[640, 480], [1280, 720]]) {
    const frame = greyFrame(FW, FH);
    const c = chosen[0];
    const n = Math.round(2 * c.boxes.short.width * (60 / c.boxes.short.width));
    paste(frame, areaResample(c.img, Math.max(0, c.boxes.short.x - c.boxes.short.width / 2), Math.max(0, c.boxes.short.y - c.boxes.short.height / 2), 2 * c.boxes.short.width, n), Math.round(FW / 2), Math.round(FH / 2));
    for (const r of RANGES) {
      for (let i = 0; i < 3; i++) detectors[r].detect(frame);
      const ms = [];
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        detectors[r].detect(frame);
        ms.push(performance.now() - t);
      }
      (timing[r] ??= {})[`${FW}x${FH}`] = { median: median(ms), p90: percentile(ms, 90), reps };
    }
  }
}

// ---- report -------------------------------------------------------------------------------------
const wall = (performance.now() - t0) / 1000;
const command = `node bench/runners/detector.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
const machine = machineInfo({ packages: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter'], dirtyPaths: ['src', 'bench', 'server', 'scripts'] });
const rounded = roundDeep({
  $comment: 'Written by bench/runners/detector.mjs; see bench/results/detector.md.',
  date: new Date().toISOString(),
  command,
  smoke: SMOKE,
  wallSeconds: wall,
  machine,
  runtime,
  minScore: MIN_SCORE,
  models: { short: detectors.short.id, full: detectors.full.id },
  lfw: { dir: LFW, ...refusal },
  secondary: { labels: labelsFile ? { file: 'bench/data/lfw-secondary-labels.json', count: labelsFile.labels.length, labelledBy: labelsFile.labelledBy } : null, pool: pool.length, ...secondary, detections: Object.fromEntries(RANGES.map((r) => [r, secondaries[r].map((s) => ({ image: s.image, box: box4(s.box), score: s.score, presence: s.presence, label: labelOf(s)?.label ?? null }))])) },
  groups,
  small,
  timing,
}, 4);
const report = { ...rounded, parity }; // parity's differences are ~1e-6: unrounded
const md = [];
md.push('# Face detector: BlazeFace short range vs full range', '');
md.push(`${SMOKE ? '**SMOKE RUN (small samples; not the results).** ' : ''}Written by \`${command}\` on ${report.date.slice(0, 10)}, wall time ${fmtDur(wall)}.`);
md.push(`Machine: ${machine.cpu}, ${machine.cpus} cores, ${machine.memGiB} GiB, ${machine.os}, Node ${machine.node}; TF.js ${runtime.tfjsVersion} WASM (simd ${runtime.simd}, ${runtime.threads} thread), as the server runs it. Commit ${machine.gitCommit?.slice(0, 10)}${machine.gitDirty?.length ? ' + uncommitted changes' : ''}.`);
md.push(`Models: ${detectors.short.id} (128x128, 896 anchors) and ${detectors.full.id} (192x192, 2304 anchors); minScore ${MIN_SCORE}, weighted NMS at IoU 0.3, as the product.`, '');
md.push('## 0. Conversion parity (full range, TF.js graph vs float64 TFLite reference)', '');
md.push(mdTable(['LFW image', 'regressors max abs diff (of max)', 'logits max abs diff (of max)'], parity.map((p) => [p.image, `${p.regressors.maxAbsDiff.toExponential(2)} (${p.regressors.maxAbsRef.toFixed(1)})`, `${p.classificators.maxAbsDiff.toExponential(2)} (${p.classificators.maxAbsRef.toFixed(1)})`])), '');
md.push('## a. Single-person refusal on LFW (each image a 250x250 frame)', '');
md.push(mdTable(['range', 'images', '0 faces', 'exactly 1', '>= 2 (refused: multiple-faces)', 'ms / image (median)'], RANGES.map((r) => { const x = refusal[r]; return [r, x.images, pct(x.zero, x.images), pct(x.one, x.images), pct(x.twoOrMore, x.images), x.medianMs250.toFixed(1)]; }), ['l', 'r', 'r', 'r', 'r', 'r']), '');
md.push('LFW photos are nominally one centred subject, but many show other people behind: not every ">= 2" is a false face (section b).', '');
md.push('## b. Secondary detections: how many are not faces, and which gate separates them', '');
md.push(`Secondary = every detection of a ">= 2" image except the one nearest the image centre. ${pool.length} distinct secondaries over both ranges; ${labelsFile ? `${labelsFile.labels.length} of them (a seeded uniform sample) labelled by eye (${labelsFile.labelledBy}) in bench/data/lfw-secondary-labels.json` : 'NO LABELS FILE: run with --sheet and label the sample'}. Mesh presence = the face mesh's presence probability on the crop the product's mesh aligner takes (1.5 x the box, eyes level, 192 px).`, '');
md.push(mdTable(['range', 'secondaries', 'labelled', 'real faces', 'not faces', 'false-face fraction [95 % CI]', 'score real (min/q1/med/q3/max)', 'score false', 'presence real (min/q1/med/q3/max)', 'presence false'],
  RANGES.map((r) => { const x = secondary[r]; return [r, x.count, x.labelled, x.real, x.notFace, ci(x.notFace, x.labelled), quart(x.scoreReal), quart(x.scoreFalse), quart(x.presenceReal.map((p) => p ?? 0)), quart(x.presenceFalse.map((p) => p ?? 0))]; })), '');
md.push(`Primary (centre) detections of ">= 2" images with mesh presence >= 0.5: ${RANGES.map((r) => `${r} ${secondary[r].primaryPresenceAtLeast05} / ${secondary[r].primaries}`).join(', ')}.`, '');
for (const r of RANGES) {
  const x = secondary[r];
  md.push(`Gates for a second face (${r} range): a secondary counts as a face only when it passes; "LFW refused" = images the product would refuse as multiple-faces with the gate.`, '');
  md.push(mdTable(['gate', `real kept (of ${x.real})`, `false dropped (of ${x.notFace})`, `LFW refused (of ${refusal[r].images})`], x.gates.map((g) => [g.gate, `${g.realKept} (${pct(g.realKept, x.real)})`, `${g.falseDropped} (${pct(g.falseDropped, x.notFace)})`, `${g.lfwRefused} (${pct(g.lfwRefused, refusal[r].images)})`]), ['l', 'r', 'r', 'r']), '');
}
md.push('## c. Group shots (face-api-js-bbt/_multi_face)', '');
md.push(mdTable(['image', 'size', 'faces (by eye)', 'short: detections / found / missed / false', 'full: detections / found / missed / false'], groups.map((g) => [g.image, `${g.width}x${g.height}`, g.facesByEye ?? '?', ...RANGES.map((r) => (g.facesByEye != null ? `${g[r].detections} / ${g[r].found} / ${g[r].missed} / ${g[r].false}` : `${g[r].detections}`))])), '');
if (groupLabels?.note) md.push(groupLabels.note, '');
md.push('## d. Small faces in a 1280x720 frame', '');
md.push(`${small.n} LFW photos of pairs.txt persons where both ranges find exactly one face; the face region (2 x short range's box) area-averaged so that the box is the given width, pasted at a seeded position. Recall = a detection with IoU >= 0.5 to that range's own box, scaled; false = the other detections (per frame). Face width in the 192-px full-range input = width x 192 / 1280 (x 128 / 1280 for short range).`, '');
md.push(mdTable(['face width (px)', ...small.backgrounds.flatMap((bg) => RANGES.map((r) => `${r}, ${bg}: recall [95 % CI] / false per frame`))],
  SIZES.map((size) => [size, ...small.backgrounds.flatMap((bg) => RANGES.map((r) => { const c = small.cells.find((x) => x.range === r && x.background === bg && x.size === size); return `${(100 * c.recall).toFixed(1)} % [${(100 * c.recallCi95.lower).toFixed(1)}, ${(100 * c.recallCi95.upper).toFixed(1)}] / ${c.falsePerFrame.toFixed(3)}`; }))]), ['r']), '');
md.push('ms per detect() (letterbox + graph + decode + NMS), median (p90):', '');
md.push(mdTable(['range', '640x480', '1280x720', '250x250 (LFW, section a)'], RANGES.map((r) => [r, `${timing[r]['640x480'].median.toFixed(1)} (${timing[r]['640x480'].p90.toFixed(1)})`, `${timing[r]['1280x720'].median.toFixed(1)} (${timing[r]['1280x720'].p90.toFixed(1)})`, refusal[r].medianMs250.toFixed(1)]), ['l', 'r', 'r', 'r']), '');

mkdirSync(values.out, { recursive: true });
writeResultFile(join(values.out, 'detector.json'), JSON.stringify(roundDeep(report, 4), null, 1) + '\n');
writeResultFile(join(values.out, 'detector.md'), md.join('\n') + '\n');
console.log('\n' + md.join('\n'));
log(`wrote ${join(values.out, 'detector.json')} and detector.md in ${fmtDur(wall)}`);
for (const d of Object.values(detectors)) d.dispose();
meshModel.dispose();
