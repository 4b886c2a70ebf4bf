/**
 * createFaceAuth: wires the default adapters into a FaceAuth engine. This is the headless
 * entry most pages need; the <face-login> element calls it too.
 */
import { CanvasAligner } from './adapters/aligner/canvas-aligner.js';
import { MeshAligner } from './adapters/aligner/mesh-aligner.js';
import { UserMediaCamera } from './adapters/camera/user-media-camera.js';
import { MediaPipeDetector } from './adapters/detector/mediapipe-detector.js';
import { TfjsFaceDetector } from './adapters/detector/tfjs-face-detector.js';
import { MobileFaceNetEmbedder } from './adapters/embedder/mobilefacenet-embedder.js';
import { selectBackend, type BackendChoice, type BackendPreference } from './adapters/embedder/tf-backend.js';
import { fetchManifest, type LoadProgress } from './adapters/models/model-files.js';
import { resolveAssetUrls } from './asset-base.js';
import { IdbTemplateStore } from './adapters/store/idb-template-store.js';
import { LocalVerifier } from './adapters/verifier/local-verifier.js';
import { HttpVerifier } from './adapters/verifier/http-verifier.js';
import { OnlineVerifier, type BackupEvent } from './adapters/verifier/online-verifier.js';
import { calibrationFor, DEFAULT_THRESHOLD, pipelineModelId } from './core/calibration.js';
import { FaceAuth, assertLivenessMode, type FaceAuthOptions } from './core/engine.js';
import { FaceLoginError, abortError } from './core/errors.js';
import type { Aligner, Camera, FaceDetector, TemplateStore, Verifier } from './core/types.js';

/**
 * The face detector: 'mediapipe' (default: BlazeFace through @mediapipe/tasks-vision, 3.9 MB gzip
 * of wasm) or 'tfjs' (the same BlazeFace graph on the page's TF.js backend, 0.2 MB gzip: the
 * lighter first visit, and the detector the server runs), or 'tfjs-full' (BlazeFace full range on
 * TF.js, 1.0 MB gzip: faces down to ~60-80 px in a 1280x720 frame and people further back in a group,
 * which short range misses; about 3x the detection time: bench/results/detector.md).
 */
export type DetectorChoice = 'mediapipe' | 'tfjs' | 'tfjs-full';
export const DETECTOR_CHOICES: readonly DetectorChoice[] = ['mediapipe', 'tfjs', 'tfjs-full'];

// Types the <face-login> element (and pages) need, so they never import an adapter themselves.
export type { BackendChoice, BackendPreference, LoadProgress, BackupEvent };

export interface CreateFaceAuthOptions {
  /**
   * Base URL of the models (the package's assets/models). Default `<assetBase>models/`, else
   * `<setBasePath()>models/`, else '/models/'.
   */
  modelsUrl?: string;
  /** Base URL of the runtime wasm (the package's assets/wasm). Default `<assetBase>wasm/`, else `<setBasePath()>wasm/`, else '/wasm/'. */
  wasmUrl?: string;
  /** Where the package's assets/ folder is served (models at `<assetBase>models/`, wasm at `<assetBase>wasm/`); default setBasePath()'s. */
  assetBase?: string;
  /** TF.js backend: 'auto' (WebGL on a real GPU, else WASM), or force 'webgl' | 'wasm' | 'cpu'. */
  backend?: BackendPreference;
  /**
   * 1:1 cosine threshold; default: the embedder's calibrated threshold (MODEL_CALIBRATIONS; 0.4240
   * with flip, 0.4332 without). Also the floor of the identify threshold.
   */
  threshold?: number;
  /**
   * Identify (1:N) is open-set: its threshold rises with the number of enrolled templates to hold
   * the false-positive identification rate (a stranger named as someone) at this value. Default
   * 1e-2; `null` = identify at `threshold` whatever the gallery size. See identifyThreshold().
   */
  identifyFpir?: number | null;
  /** IndexedDB database name. Default 'face-login'. */
  dbName?: string;
  /** Your own template store (else an IndexedDB one). Yours to close: auth.dispose() leaves it open. */
  store?: TemplateStore;
  /**
   * Your own camera (else getUserMedia). Yours to stop: auth.dispose() stops reading it but leaves
   * it running (auth.stopCamera() stops it).
   */
  camera?: Camera;
  /** Video element the default camera renders into. */
  video?: HTMLVideoElement;
  deviceId?: string;
  /**
   * Flip test-time augmentation (embed the mirrored crop too; twice the embedding cost). Default
   * false: with five-point alignment it adds nothing measurable (bench/results/ACCURACY.md).
   */
  flip?: boolean;
  /**
   * How kept frames are aligned before they are embedded: 'mesh5' (default) on five points from
   * MediaPipe's face mesh (eyes, nose tip, both mouth corners; one more model, 1.5 MB, run only on
   * the frames kept for a decision), or 'keypoints' on the detector's four (the pipeline of 0.1.0).
   * Part of the model id: templates made with one are not compared with the other's.
   */
  alignment?: 'mesh5' | 'keypoints';
  /**
   * The face detector: 'mediapipe' (default), 'tfjs' (same model, no MediaPipe wasm: about
   * 3.9 MB gzip less on the first visit; bench/results/bundle-size.md) or 'tfjs-full' (BlazeFace
   * full range, for kiosks where people stand further from the camera; pair it with the server's
   * FACE_LOGIN_DETECTOR_RANGE=full, which decides). Not part of the model id: templates made with
   * any of them are compared with each other.
   */
  detector?: DetectorChoice;
  /**
   * Server-side verification (server/ in this repo): the server decides; with allowOffline the
   * device decides when the server cannot be reached, and offline enrolments are sent when it is
   * back: enrolled there if the server does not know the user yet, else backed up; `onBackup`
   * hears what became of each (enrolled, backed-up, or refused, e.g. duplicate-enrollment).
   */
  server?: { url: string; allowOffline?: boolean; timeoutMs?: number; onBackup?: (e: BackupEvent) => void };
  /** A custom Verifier (overrides `server`), made for this engine: auth.dispose() disposes it. */
  verifier?: (store: TemplateStore, threshold: () => number) => Verifier;
  /**
   * Engine options. `liveness: 'passive' | 'both'` needs `passiveLiveness` (your own PAD model;
   * none ships): without one createFaceAuth rejects with `invalid-input` before loading anything.
   */
  engine?: Partial<Pick<FaceAuthOptions, 'minFaceSize' | 'probeFrames' | 'multipleFacesFrames' | 'sampleIntervalMs' | 'liveness' | 'challengeTimeoutMs' | 'enrollQuality' | 'verifyQuality' | 'passiveLiveness'>>;
  onProgress?: (p: LoadProgress) => void;
  /**
   * Aborts the load: it rejects with `aborted`, and the models loaded so far are freed (checked
   * after every step, also when a step did not heed the signal).
   */
  signal?: AbortSignal;
}

export interface FaceAuthReady {
  readonly auth: FaceAuth;
  readonly backend: BackendChoice;
  /** Milliseconds from the call to a warmed-up engine. */
  readonly loadMs: number;
}

export async function createFaceAuth(options: CreateFaceAuthOptions = {}): Promise<FaceAuthReady> {
  const t0 = performance.now();
  const { backend: preference = 'auto', signal, onProgress } = options;
  const { modelsUrl, wasmUrl } = resolveAssetUrls(options);
  // Before any download: a liveness mode that cannot run is a configuration error.
  if (options.engine?.liveness !== undefined) assertLivenessMode(options.engine.liveness, options.engine.passiveLiveness);
  const alignment = options.alignment ?? 'mesh5';
  if (alignment !== 'mesh5' && alignment !== 'keypoints') throw new FaceLoginError('invalid-input', `alignment must be "mesh5" or "keypoints", got ${JSON.stringify(alignment)}.`);
  const detectorChoice = options.detector ?? 'mediapipe';
  if (!DETECTOR_CHOICES.includes(detectorChoice)) throw new FaceLoginError('invalid-input', `detector must be ${DETECTOR_CHOICES.slice(0, -1).map((c) => JSON.stringify(c)).join(', ')} or ${JSON.stringify(DETECTOR_CHOICES.at(-1))}, got ${JSON.stringify(detectorChoice)}.`);
  const wasmBase = wasmUrl.endsWith('/') ? wasmUrl : wasmUrl + '/';
  const checkAbort = () => {
    if (signal?.aborted) throw abortError(signal.reason);
  };
  checkAbort();
  // The backend is chosen before any model loads, once per page: switching later would dispose
  // live tensors, so a different explicit backend than the page's rejects with backend-conflict.
  const backend = await selectBackend(preference, wasmBase + 'tfjs/');
  checkAbort();
  const manifest = await fetchManifest(modelsUrl, signal);
  checkAbort();
  const detectorP: Promise<FaceDetector> = detectorChoice !== 'mediapipe'
    ? TfjsFaceDetector.create({ modelsUrl, manifest, range: detectorChoice === 'tfjs-full' ? 'full' : 'short', signal, onProgress })
    : MediaPipeDetector.create({ modelsUrl, wasmUrl: wasmBase + 'mediapipe', manifest, signal, onProgress });
  const embedderP = MobileFaceNetEmbedder.create({ modelsUrl, manifest, backend: backend.backend, flip: options.flip ?? false, signal, onProgress });
  const alignerP: Promise<Aligner> = alignment === 'mesh5' ? MeshAligner.create({ modelsUrl, manifest, signal, onProgress }) : Promise.resolve(new CanvasAligner());
  // Every load settles before anything is decided, so none is left running on a failure or an abort.
  const [d, e, a] = await Promise.allSettled([detectorP, embedderP, alignerP]);
  const detector = d.status === 'fulfilled' ? d.value : null;
  const embedder = e.status === 'fulfilled' ? e.value : null;
  const aligner = a.status === 'fulfilled' ? a.value : null;
  const freeModels = () => {
    detector?.dispose();
    embedder?.dispose();
    aligner?.dispose?.();
  };
  if (!detector || !embedder || !aligner || signal?.aborted) {
    freeModels();
    checkAbort();
    throw (d.status === 'rejected' ? d.reason : e.status === 'rejected' ? e.reason : (a as PromiseRejectedResult).reason) as Error;
  }
  // What is created here the engine owns and closes; a store or camera passed in stays the caller's.
  const ownStore = options.store === undefined;
  const store = options.store ?? new IdbTemplateStore({ dbName: options.dbName });
  const camera = options.camera ?? new UserMediaCamera({ video: options.video, deviceId: options.deviceId });
  let auth: FaceAuth | null = null;
  let verifier: Verifier | null = null;
  try {
    const calibrated = calibrationFor(pipelineModelId(embedder.modelId, aligner.id))?.threshold ?? DEFAULT_THRESHOLD;
    const threshold = () => auth?.threshold ?? options.threshold ?? calibrated;
    verifier = options.verifier
      ? options.verifier(store, threshold)
      : options.server
        ? new OnlineVerifier(new HttpVerifier({ baseUrl: options.server.url, timeoutMs: options.server.timeoutMs }), store, threshold, {
            allowOffline: options.server.allowOffline ?? false,
            onBackup: options.server.onBackup,
            identifyFpir: options.identifyFpir,
          })
        : new LocalVerifier(store, threshold, { identifyFpir: options.identifyFpir });
    auth = new FaceAuth({
      camera,
      detector,
      aligner,
      embedder,
      store,
      verifier,
      threshold: options.threshold ?? calibrated,
      ...options.engine,
      owns: { camera: options.camera === undefined, store: ownStore, verifier: true },
    });
  } catch (err) {
    // A bad threshold or a throwing verifier factory: undo what was made here.
    freeModels();
    verifier?.dispose?.();
    if (ownStore) store.close();
    throw err;
  }
  return { auth, backend, loadMs: performance.now() - t0 };
}
