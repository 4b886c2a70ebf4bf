/**
 * The server decides from pixels (issue 10): the frames a page captured for one session (JPEG +
 * timestamp each) and the challenge the server chose go in; out comes the server's own
 * conclusion (examine-types.ts): exactly one face per frame, the challenge performed, one and the
 * same person throughout, and the embeddings. Nothing the page computed is used.
 *
 * Pipeline, frame by frame: decodeJpeg (bounded) -> BlazeFace on TF.js WASM (the page's detector,
 * src/adapters/detector/blazeface-tfjs.ts) -> head pose from its six keypoints (src/core/pose.ts,
 * the page's gates) -> the 112x112 crop aligned on five points of MediaPipe's face mesh
 * (NodeMeshAligner, the page's MeshAligner; `alignment: 'keypoints'`: the detector's four,
 * RgbaAligner). The decoded frame is dropped as soon as its crop is cut, so at most one frame's
 * pixels are held at a time. Once every frame has passed and the challenge is seen performed, all
 * crops are embedded in one batch (MobileFaceNetNodeEmbedder, float16 weights, no flip: the page's
 * default model id).
 *
 * The rules, in the order they are checked (the first that fails decides the refusal):
 *
 * 1. Bounds -> `bad-frames`. `minFrames`..`maxFrames` frames (default 2..32); each `jpeg` a
 *    Uint8Array, each `t` a finite number >= 0, strictly increasing from frame to frame; every frame
 *    decodable within the decoder's limits (DEFAULT_JPEG_LIMITS unless `limits` says otherwise).
 *    Any VisionError from decoding becomes `bad-frames` (never a throw). Frames are examined in
 *    upload order, so a corrupt frame after a faceless one is reported as `no-face`.
 * 2. Faces -> `no-face` / `multiple-faces`. Every frame must show exactly one face at or above the
 *    detector's score (`minScore`, default 0.6, the page's VERIFY_QUALITY.minScore and the
 *    MediaPipe adapter's). No frame without a face is tolerated, not even mid-turn: the page
 *    uploads only frames in which its own detector (same model) saw one face, and a gap in the
 *    sequence is exactly where one face could be swapped for another unseen. A second face is
 *    always refused (a helper, or a photo held next to the face) once the face mesh confirms it:
 *    with several detections, those of mesh presence < MESH_PRESENCE_MIN (0.5) are not faces
 *    (facesByMesh; a patch of hair or backdrop scored 0.62-0.68 by BlazeFace has presence < 0.002).
 *    The page applies the same rule, so it uploads what the server accepts.
 * 3. Challenge -> `liveness-failed`. Each frame's pose is `estimateHeadPose` of its keypoints,
 *    checked with `matchesPose` (DEFAULT_POSE_TARGETS: centre |yaw|,|pitch| <= 12 deg, turns
 *    |yaw| >= 22 deg, tilts |pitch| >= 12 deg, off-axis <= 20 deg), the page's gates.
 *    - `poses` (enrolment): the requested poses must appear as a subsequence of the upload, in
 *      order (found greedily, earliest first). One template per pose: among the frames that
 *      match that pose between its greedy position and the next pose's, the one deepest inside
 *      the gate (the smallest slack of the gate's inequalities is the largest).
 *    - `turns` (verify / identify): a frontal ('center') frame, then a frame matching order[0],
 *      then one matching order[1] (and so on), as a subsequence in that order.
 *    In both, the probe is the mean of the embeddings of every frame that matches 'center',
 *    renormalised; an upload without a frontal frame fails the challenge. A still photo never
 *    changes pose, so it fails here.
 * 4. Identity -> `identity-changed`. Every frame (all of them, not only the ones the challenge
 *    picked) must score at least `identityThreshold` (cosine) against the probe AND against each
 *    frontal frame on its own. The probe alone is not enough: the mean of a frontal frame of A and
 *    one of B is close to both (cosine ~0.75 for two unrelated people whose own cosine is ~0.1), so
 *    a B frame slipped in among A's frontal frames would pass; pairwise, it meets A's frame. The
 *    default threshold is the model's calibrated 1:1 threshold (calibrationFor(modelId);
 *    DEFAULT_THRESHOLD = 0.4580 for the default model: FMR 1e-3 over all LFW impostor pairs): each comparison
 *    lets another person through about as rarely as verification does, and all of them must pass.
 *    Same-person frames across poses score far above it: Schroeder's left / right / up / down
 *    photos against his frontal one 0.59..0.74, other people's 0.35 at most
 *    (server/test/vision-examine.test.ts). The price: one frame of the right person that scores
 *    under the threshold against one frontal frame (extreme pose, blur) refuses the whole upload; the page
 *    should upload frames that passed its own quality gates.
 *
 * `framesUsed` (for the audit log): 0 when the bounds refuse the upload, i + 1 when frame i is
 * refused (decoding, faces), else every frame (all of them are embedded and compared).
 *
 * Privacy: frames, pixels, crops and embeddings are never stored, logged or put into messages
 * (messages name frame indices and counts only). Every tensor is freed (the detector and the
 * embedder run inside tf.tidy / dispose their outputs). `dispose()` is idempotent; examine after
 * it throws VisionError('disposed').
 *
 * Throws (not refusals: the upload was not at fault) VisionError 'invalid-input' for a malformed
 * challenge (a server bug), 'disposed', and 'model-load-failed' if a model fails at run time.
 */
import type { Point } from '../../src/core/align.js';
import { facesByMesh } from '../../src/core/face-mesh.js';
import { calibrationFor, DEFAULT_THRESHOLD, pipelineModelId } from '../../src/core/calibration.js';
import { cosine, meanEmbedding } from '../../src/core/match.js';
import { DEFAULT_POSE_TARGETS, estimateHeadPose, matchesPose, type HeadPose, type PoseName, type PoseTargets } from '../../src/core/pose.js';
import { BLAZEFACE_RANGES, type BlazeFaceRange, type BlazeFaceTfjsDetector, type DetectedFace } from '../../src/adapters/detector/blazeface-tfjs.js';
import { POSES } from '../../src/protocol/constants.js';
import type { Pose } from '../../src/protocol/fields.js';
import { VisionError, messageOf } from './errors.js';
import type { ExamineOutcome, ExamineRefusal, FaceExaminer, SessionChallenge, UploadedFrame } from './examine-types.js';
import { decodeJpeg, type JpegLimits } from './jpeg-decoder.js';
import { MobileFaceNetNodeEmbedder } from './mobilefacenet-embedder.js';
import { DEFAULT_MODELS_DIR, loadBlazeFaceDetector } from './model-files.js';
import { NodeMeshAligner } from './mesh-aligner.js';
import { RgbaAligner } from './rgba-aligner.js';
import type { RgbaImage } from './rgba-image.js';
import { initTfRuntime } from './tf-runtime.js';

export const EXAMINE_MIN_FRAMES = 2;
export const EXAMINE_MAX_FRAMES = 32;

export interface FaceExaminerOptions {
  /** The folder holding manifest.json, blazeface/ and mobilefacenet/ (default: this checkout's public/models). */
  readonly modelsDir?: string;
  /** Decoder bounds per frame (DEFAULT_JPEG_LIMITS field by field). */
  readonly limits?: Partial<JpegLimits>;
  /** Fewest frames accepted (default 2). */
  readonly minFrames?: number;
  /** Most frames accepted (default 32). */
  readonly maxFrames?: number;
  /** Detector score a face needs (default 0.6, as the page). */
  readonly minScore?: number;
  /** Cosine every frame needs against the probe and each frontal frame (default: the model's calibrated 1:1 threshold). */
  readonly identityThreshold?: number;
  /** Pose gates (default DEFAULT_POSE_TARGETS, as the page). */
  readonly poseTargets?: PoseTargets;
  /** 'mesh5' (default, as the page): five points from the face mesh; 'keypoints': the detector's four. Part of the model id. */
  readonly alignment?: 'mesh5' | 'keypoints';
  /**
   * BlazeFace 'short' range (default: faces within ~2 m) or 'full' range (smaller, more distant faces
   * and people further back, so more second faces are seen and refused; ~3x the detection time:
   * bench/results/detector.md). Not part of the model id (alignment comes from the mesh).
   */
  readonly detectorRange?: BlazeFaceRange;
}

/** What is kept of one frame once its pixels are dropped. */
interface Seen {
  readonly pose: HeadPose;
  readonly crop: RgbaImage;
}

class Refused {
  constructor(
    readonly refusal: ExamineRefusal,
    readonly message: string,
    readonly framesUsed: number,
  ) {}
}

export class ServerFaceExaminer implements FaceExaminer {
  readonly modelId: string;
  /** The cosine every frame needs against the probe and against each frontal frame. */
  readonly identityThreshold: number;
  readonly minFrames: number;
  readonly maxFrames: number;
  private readonly aligner = new RgbaAligner();
  private readonly targets: PoseTargets;
  private readonly limits: Partial<JpegLimits>;
  private detector: BlazeFaceTfjsDetector | null;
  private embedder: MobileFaceNetNodeEmbedder | null;
  private mesh: NodeMeshAligner | null;

  private constructor(detector: BlazeFaceTfjsDetector, embedder: MobileFaceNetNodeEmbedder, mesh: NodeMeshAligner | null, options: FaceExaminerOptions) {
    this.detector = detector;
    this.embedder = embedder;
    this.mesh = mesh;
    this.modelId = pipelineModelId(embedder.modelId, mesh?.id);
    this.identityThreshold = options.identityThreshold ?? calibrationFor(this.modelId)?.threshold ?? DEFAULT_THRESHOLD;
    this.minFrames = options.minFrames ?? EXAMINE_MIN_FRAMES;
    this.maxFrames = options.maxFrames ?? EXAMINE_MAX_FRAMES;
    this.targets = options.poseTargets ?? DEFAULT_POSE_TARGETS;
    this.limits = options.limits ?? {};
  }

  /** Starts TF.js (once per process), loads and checks both models, runs each once. */
  static async create(options: FaceExaminerOptions = {}): Promise<ServerFaceExaminer> {
    const { modelsDir = DEFAULT_MODELS_DIR } = options;
    const { minFrames = EXAMINE_MIN_FRAMES, maxFrames = EXAMINE_MAX_FRAMES, identityThreshold } = options;
    if (!(Number.isInteger(minFrames) && Number.isInteger(maxFrames) && minFrames >= 1 && maxFrames >= minFrames)) {
      throw new VisionError('invalid-input', `Frame bounds must be integers with 1 <= minFrames <= maxFrames, got ${minFrames}..${maxFrames}.`);
    }
    if (identityThreshold !== undefined && !(identityThreshold > -1 && identityThreshold < 1)) {
      throw new VisionError('invalid-input', `identityThreshold must be a cosine in (-1, 1), got ${identityThreshold}.`);
    }
    const alignment = options.alignment ?? 'mesh5';
    if (alignment !== 'mesh5' && alignment !== 'keypoints') throw new VisionError('invalid-input', `alignment must be "mesh5" or "keypoints", got ${JSON.stringify(alignment)}.`);
    const detectorRange = options.detectorRange ?? 'short';
    if (!BLAZEFACE_RANGES.includes(detectorRange)) throw new VisionError('invalid-input', `detectorRange must be "short" or "full", got ${JSON.stringify(detectorRange)}.`);
    await initTfRuntime(); // before loading any model: the detector does not choose a backend itself
    const embedder = await MobileFaceNetNodeEmbedder.create({ modelsDir });
    let mesh: NodeMeshAligner | null = null;
    let detector: BlazeFaceTfjsDetector;
    try {
      if (alignment === 'mesh5') mesh = await NodeMeshAligner.create({ modelsDir });
      try {
        detector = await loadBlazeFaceDetector(modelsDir, { range: detectorRange, ...(options.minScore !== undefined ? { minScore: options.minScore } : {}) });
      } catch (e) {
        throw new VisionError('model-load-failed', `The face detection model could not be loaded: ${messageOf(e)}`, { cause: e });
      }
    } catch (e) {
      embedder.dispose();
      mesh?.dispose();
      throw e;
    }
    return new ServerFaceExaminer(detector, embedder, mesh, options);
  }

  async examine(frames: readonly UploadedFrame[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    if (!this.detector || !this.embedder) throw new VisionError('disposed', 'The face examiner has been disposed.');
    const steps = challengeSteps(challenge);
    try {
      this.checkBounds(frames);
      const seen = await this.look(frames);
      const picked = this.challenge(seen, steps, frames.length);
      return await this.identify(seen, picked, challenge);
    } catch (e) {
      if (e instanceof Refused) return { ok: false, refusal: e.refusal, message: e.message, framesUsed: e.framesUsed };
      throw e;
    }
  }

  /** Frees the models. Idempotent. */
  dispose(): void {
    this.detector?.dispose();
    this.embedder?.dispose();
    this.mesh?.dispose();
    this.detector = null;
    this.embedder = null;
    this.mesh = null;
  }

  private checkBounds(frames: readonly UploadedFrame[]): void {
    if (!Array.isArray(frames)) throw new Refused('bad-frames', 'The frames must be a list.', 0);
    if (frames.length < this.minFrames || frames.length > this.maxFrames) {
      throw new Refused('bad-frames', `${frames.length} frames were uploaded; ${this.minFrames} to ${this.maxFrames} are accepted.`, 0);
    }
    let last = -Infinity;
    frames.forEach((f, i) => {
      if (!(f?.jpeg instanceof Uint8Array)) throw new Refused('bad-frames', `Frame ${i} has no JPEG bytes.`, 0);
      const t = f.t;
      if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new Refused('bad-frames', `Frame ${i} has no valid timestamp (a finite number of milliseconds >= 0).`, 0);
      if (!(t > last)) throw new Refused('bad-frames', `Frame ${i}'s timestamp does not come after frame ${i - 1}'s: timestamps must strictly increase.`, 0);
      last = t;
    });
  }

  /**
   * Decodes, detects, reads the pose and cuts the aligned crop of each frame, in order; the pixels go
   * out of scope frame by frame. Decoding and detection are synchronous (~50-100 ms a 640x480 frame
   * here), so the event loop is given back between frames: other requests are served meanwhile.
   */
  private async look(frames: readonly UploadedFrame[]): Promise<Seen[]> {
    const seen: Seen[] = [];
    for (let i = 0; i < frames.length; i++) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const detector = this.detector;
      if (!detector) throw new VisionError('disposed', 'The face examiner was disposed during an examination.');
      let rgba: RgbaImage;
      try {
        rgba = decodeJpeg(frames[i]!.jpeg, this.limits);
      } catch (e) {
        if (e instanceof VisionError) throw new Refused('bad-frames', `Frame ${i} is not an acceptable JPEG (${e.code}): ${e.message}`, i + 1);
        throw e;
      }
      let faces: readonly DetectedFace[];
      try {
        faces = detector.detect(rgba);
      } catch (e) {
        throw new VisionError('model-load-failed', `The face detection model failed: ${messageOf(e)}`, { cause: e });
      }
      // Several detections: only those the face mesh calls faces count (as on the page), so a patch
      // of hair or background scored as a face does not refuse a one-person upload.
      const mesh = this.mesh;
      if (faces.length > 1 && mesh) faces = facesByMesh(faces, (f) => mesh.presence(rgba, f.box, f.keypoints));
      if (faces.length === 0) throw new Refused('no-face', `No face was found in frame ${i}.`, i + 1);
      if (faces.length > 1) throw new Refused('multiple-faces', `Frame ${i} shows ${faces.length} faces; exactly one must be in view.`, i + 1);
      const keypoints: readonly Point[] = faces[0]!.keypoints;
      let crop: RgbaImage;
      try {
        crop = this.mesh ? this.mesh.align(rgba, faces[0]!.box, keypoints) : this.aligner.align(rgba, keypoints);
      } catch (e) {
        // Keypoints that give no alignment (degenerate): no usable face in this frame.
        if (e instanceof VisionError && e.code === 'invalid-input') throw new Refused('no-face', `The face in frame ${i} cannot be aligned.`, i + 1);
        throw e;
      }
      seen.push({ pose: estimateHeadPose(keypoints), crop });
    }
    return seen;
  }

  /**
   * The frame index chosen for each step (greedy earliest subsequence, then the best frame within
   * each step's window), or liveness-failed.
   */
  private challenge(seen: readonly Seen[], steps: readonly PoseName[], n: number): number[] {
    const t = this.targets;
    const starts: number[] = [];
    let from = 0;
    for (const [k, step] of steps.entries()) {
      let j = from;
      while (j < seen.length && !matchesPose(seen[j]!.pose, step, t)) j++;
      if (j === seen.length) {
        const done = steps.slice(0, k).join(', ');
        throw new Refused('liveness-failed', `The challenge was not performed: no frame shows the pose "${step}"${k > 0 ? ` after ${done}` : ''}.`, n);
      }
      starts.push(j);
      from = j + 1;
    }
    return steps.map((step, k) => {
      const end = k + 1 < starts.length ? starts[k + 1]! : seen.length;
      let best = starts[k]!;
      for (let j = best + 1; j < end; j++) {
        if (matchesPose(seen[j]!.pose, step, t) && depth(seen[j]!.pose, step, t) > depth(seen[best]!.pose, step, t)) best = j;
      }
      return best;
    });
  }

  private async identify(seen: readonly Seen[], picked: readonly number[], challenge: SessionChallenge): Promise<ExamineOutcome> {
    const n = seen.length;
    const frontal = seen.flatMap((s, i) => (matchesPose(s.pose, 'center', this.targets) ? [i] : []));
    if (frontal.length === 0) throw new Refused('liveness-failed', 'No frame shows the face frontally.', n);
    const embedder = this.embedder;
    if (!embedder) throw new VisionError('disposed', 'The face examiner was disposed during an examination.');
    const embeddings = await embedder.embed(seen.map((s) => s.crop));
    const probe = meanEmbedding(frontal.map((i) => embeddings[i]!));
    // Every frame against the probe and against each frontal frame on its own: the probe alone is not
    // enough, since the mean of two people's frontal frames is close to both of them.
    for (let i = 0; i < n; i++) {
      const e = embeddings[i]!;
      if (cosine(e, probe) < this.identityThreshold) {
        throw new Refused('identity-changed', `Frame ${i} does not show the same person as the frontal frames.`, n);
      }
      const other = frontal.find((f) => f !== i && cosine(e, embeddings[f]!) < this.identityThreshold);
      if (other !== undefined) {
        throw new Refused('identity-changed', `Frame ${i} does not show the same person as frontal frame ${other}.`, n);
      }
    }
    const templates = challenge.kind === 'poses'
      ? challenge.poses.map((pose, k) => ({ pose, embedding: embeddings[picked[k]!]! }))
      : [];
    return { ok: true, probe, templates, liveness: 'passed', modelId: this.modelId, framesUsed: n };
  }
}

/** The poses to find in order; a malformed challenge is the server's bug, not the upload's. */
function challengeSteps(challenge: SessionChallenge): PoseName[] {
  const bad = (why: string) => new VisionError('invalid-input', `Malformed challenge: ${why}.`);
  if (challenge?.kind === 'poses') {
    const poses = challenge.poses;
    if (!Array.isArray(poses) || poses.length === 0) throw bad('a poses challenge needs at least one pose');
    for (const p of poses) if (!(POSES as readonly string[]).includes(p)) throw bad(`unknown pose "${String(p)}"`);
    return [...(poses as readonly Pose[])];
  }
  if (challenge?.kind === 'turns') {
    const order = challenge.order;
    if (!Array.isArray(order) || order.length === 0) throw bad('a turns challenge needs at least one turn');
    for (const o of order) if (o !== 'left' && o !== 'right') throw bad(`unknown turn "${String(o)}"`);
    return ['center', ...order];
  }
  throw bad('unknown kind');
}

/** How deep inside `target`'s gate the pose is: the smallest slack of the gate's inequalities (degrees). */
function depth(p: HeadPose, target: PoseName, t: PoseTargets): number {
  switch (target) {
    case 'center':
      return Math.min(t.centerMax - Math.abs(p.yaw), t.centerMax - Math.abs(p.pitch));
    case 'left':
      return Math.min(p.yaw - t.turnMin, t.offAxisMax - Math.abs(p.pitch));
    case 'right':
      return Math.min(-p.yaw - t.turnMin, t.offAxisMax - Math.abs(p.pitch));
    case 'up':
      return Math.min(p.pitch - t.tiltMin, t.offAxisMax - Math.abs(p.yaw));
    case 'down':
      return Math.min(-p.pitch - t.tiltMin, t.offAxisMax - Math.abs(p.yaw));
  }
}
