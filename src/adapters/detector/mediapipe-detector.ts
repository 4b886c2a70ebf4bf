import { FaceDetector as MpFaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import { FaceLoginError } from '../../core/errors.js';
import type { Detection, FaceDetector, Frame } from '../../core/types.js';
import { disableUsageLogging } from './mediapipe-telemetry.js';
import { withBenignMediaPipeLogsDropped } from './mediapipe-console.js';
import { ASSET_FIX } from '../../asset-base.js';
import { fetchModelFile, joinUrl, manifestEntry, probeAsset, type FetchModelOptions, type ModelManifest } from '../models/model-files.js';

export const DETECTOR_FILE = 'face_detection_short_range.tflite';
export const DETECTOR_ID = 'blazeface-short-range-0.4.1657300184';

export interface MediaPipeDetectorOptions {
  /** Base URL of public/models (holds manifest.json and the detector). */
  modelsUrl: string;
  /** Base URL of the tasks-vision wasm files (public/wasm/mediapipe). */
  wasmUrl: string;
  manifest: ModelManifest;
  /** Faces below this score are ignored. Chromium's synthetic camera pattern fires at 0.5, so 0.6 by default. */
  minScore?: number;
  /** 'VIDEO' for a camera stream (timestamps must increase), 'IMAGE' for independent stills. */
  runningMode?: 'VIDEO' | 'IMAGE';
  signal?: AbortSignal;
  onProgress?: FetchModelOptions['onProgress'];
}

/**
 * MediaPipe BlazeFace (short range) through @mediapipe/tasks-vision, loaded from our own
 * origin: the model bytes are fetched and hash-checked by us and handed over as a buffer, the
 * wasm comes from wasmUrl. CPU delegate: on machines without a real GPU it is ~8x faster.
 */
export class MediaPipeDetector implements FaceDetector {
  readonly id = DETECTOR_ID;
  private closed = false;

  /** How many tasks-vision usage loggers were switched off (1 expected; see mediapipe-telemetry.ts). */
  readonly usageLoggersDisabled: number;

  private constructor(
    private readonly task: MpFaceDetector,
    private readonly runningMode: 'VIDEO' | 'IMAGE',
  ) {
    this.usageLoggersDisabled = disableUsageLogging(task);
  }

  static async create(options: MediaPipeDetectorOptions): Promise<MediaPipeDetector> {
    const { modelsUrl, wasmUrl, manifest, minScore = 0.6, runningMode = 'VIDEO', signal, onProgress } = options;
    const entry = manifestEntry(manifest, DETECTOR_FILE);
    const bytes = await fetchModelFile(joinUrl(modelsUrl, DETECTOR_FILE), {
      sha256: entry.sha256,
      expectedBytes: entry.bytes,
      signal,
      onProgress,
    });
    const fileset = await FilesetResolver.forVisionTasks(wasmUrl.replace(/\/$/, ''));
    try {
      // The wasm binds its stderr writer while it is created: TFLite's INFO lines (console.error
      // otherwise) are dropped from then on, every other error still reaches the console.
      const task = await withBenignMediaPipeLogsDropped(() =>
        MpFaceDetector.createFromOptions(fileset, {
          baseOptions: { modelAssetBuffer: bytes, delegate: 'CPU' },
          runningMode,
          minDetectionConfidence: minScore,
          minSuppressionThreshold: 0.3,
        }),
      );
      return new MediaPipeDetector(task, runningMode);
    } catch (e) {
      // A missing wasm surfaces as a script error Event or an abort: name the file that failed.
      const problems = (await Promise.all([fileset.wasmLoaderPath, fileset.wasmBinaryPath].map((u) => probeAsset(u)))).filter((p) => p !== null);
      if (problems.length > 0) {
        throw new FaceLoginError(
          'model-load-failed',
          `The face detector's MediaPipe wasm could not be loaded: ${problems.join('; ')} (expected face-login's wasm/mediapipe/ files there). ${ASSET_FIX}`,
          { cause: e },
        );
      }
      const reason = e instanceof Error ? e.message : e instanceof Event ? `${e.type} event` : String(e);
      throw new FaceLoginError('model-load-failed', `The face detector could not be started: ${reason}`, { cause: e });
    }
  }

  detect(frame: Frame): Detection[] {
    if (this.closed) throw new FaceLoginError('disposed', 'The face detector has been closed.');
    const result = this.runningMode === 'VIDEO'
      ? this.task.detectForVideo(frame.source, frame.timestamp)
      : this.task.detect(frame.source);
    const out: Detection[] = [];
    for (const d of result.detections) {
      const bb = d.boundingBox;
      if (!bb) continue;
      out.push({
        box: { x: bb.originX, y: bb.originY, width: bb.width, height: bb.height },
        score: d.categories[0]?.score ?? 0,
        keypoints: (d.keypoints ?? []).map((k) => ({ x: k.x * frame.width, y: k.y * frame.height })),
      });
    }
    return out;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.task.close();
  }
}
