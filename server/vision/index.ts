/**
 * Face embeddings on the server, on the page's models and math.
 * ServerFaceExaminer (examine.ts) examines a session's uploaded frames for the session routes (issue 10).
 */
export { VisionError, VISION_ERRORS, type VisionErrorCode } from './errors.js';
export { initTfRuntime, type TfRuntimeInfo } from './tf-runtime.js';
export { decodeJpeg, DEFAULT_JPEG_LIMITS, type JpegLimits } from './jpeg-decoder.js';
export { RgbaAligner } from './rgba-aligner.js';
export { MobileFaceNetNodeEmbedder, type NodeEmbedderOptions } from './mobilefacenet-embedder.js';
export { JpegFaceEmbedder, type JpegFaceEmbedderOptions } from './jpeg-face-embedder.js';
export type { RgbaImage } from './rgba-image.js';
export { ServerFaceExaminer, EXAMINE_MIN_FRAMES, EXAMINE_MAX_FRAMES, type FaceExaminerOptions } from './examine.js';
export type { ExamineOutcome, ExamineRefusal, FaceExaminer, SessionChallenge, UploadedFrame } from './examine-types.js';
