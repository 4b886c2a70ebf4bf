/**
 * Five-point alignment from MediaPipe's face mesh (issue 13): the geometry around the mesh model,
 * pure (no DOM, no TF.js), shared by the page (src/adapters/aligner/mesh-aligner.ts) and the
 * server (server/vision/examine.ts) so both cut the same crops.
 *
 * The detector (BlazeFace) gives one mouth point, so the 4-point fit (align.ts ARCFACE_TEMPLATE_4)
 * maps the mouth centre onto the midpoint of the template's two corners and cannot see a mouth
 * that is wider, narrower or turned. The mesh gives 468 points; five of them, the eye centres,
 * the nose tip and the two mouth corners, are the landmarks MobileFaceNet's ArcFace template was
 * made for (ARCFACE_TEMPLATE_5).
 *
 * Steps: meshCropSimilarity (the detector's box x1.5, rotated so the eyes are level, onto the
 * mesh's 192x192 input) -> the mesh model (values in [0, 1]) -> fivePointsFromMesh (back to frame
 * pixels) -> estimateSimilarity onto ARCFACE_TEMPLATE_5 -> the 112x112 crop.
 */
import { ARCFACE_TEMPLATE_5, applySimilarity, estimateSimilarity, invertSimilarity, type Point, type Similarity } from './align.js';

/** A face box in frame pixels (Detection.box; declared here so Node code needs no DOM types). */
export interface MeshBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The mesh model's input side, in pixels. */
export const FACE_MESH_INPUT = 192;
/** Points per face in the mesh's output (x, y, z each, in input pixels). */
export const FACE_MESH_POINTS = 468;
/** The crop around the detector's box, as a multiple of its longer side. */
export const FACE_MESH_BOX_SCALE = 1.5;

/**
 * Mesh indices (MediaPipe's face mesh topology; "right" is the subject's right, image left on an
 * unmirrored photo). Each eye: its 16 contour points (upper and lower lid, corners included).
 */
export const MESH_RIGHT_EYE: readonly number[] = [246, 161, 160, 159, 158, 157, 173, 33, 7, 163, 144, 145, 153, 154, 155, 133];
export const MESH_LEFT_EYE: readonly number[] = [466, 388, 387, 386, 385, 384, 398, 263, 249, 390, 373, 374, 380, 381, 382, 362];
export const MESH_NOSE_TIP = 1;
export const MESH_MOUTH_RIGHT = 61;
export const MESH_MOUTH_LEFT = 291;

/**
 * Frame pixels -> mesh input pixels: the square of FACE_MESH_BOX_SCALE x the box's longer side,
 * centred on the box, turned so that the line from the right eye to the left eye is horizontal.
 * `rightEye`, `leftEye`: the detector's first two keypoints.
 */
export function meshCropSimilarity(box: MeshBox, rightEye: Point, leftEye: Point): Similarity {
  const side = FACE_MESH_BOX_SCALE * Math.max(box.width, box.height);
  if (!(side > 0) || ![box.x, box.y, box.width, box.height, rightEye.x, rightEye.y, leftEye.x, leftEye.y].every(Number.isFinite)) {
    throw new RangeError('meshCropSimilarity: the box and the eyes must be finite, the box not empty.');
  }
  const angle = Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x);
  const s = FACE_MESH_INPUT / side;
  const a = s * Math.cos(-angle);
  const b = s * Math.sin(-angle);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const c = FACE_MESH_INPUT / 2;
  return { a, b, tx: c - (a * cx - b * cy), ty: c - (b * cx + a * cy) };
}

/**
 * The five ArcFace landmarks in frame pixels from one face's mesh output (FACE_MESH_POINTS x 3
 * values, in mesh input pixels) and the similarity that made the mesh input from the frame:
 * right eye centre, left eye centre (means of the 16 contour points), nose tip, right and left
 * mouth corners, in ARCFACE_TEMPLATE_5's order.
 */
export function fivePointsFromMesh(mesh: ArrayLike<number>, frameToCrop: Similarity): Point[] {
  if (mesh.length < FACE_MESH_POINTS * 3) throw new RangeError(`fivePointsFromMesh: ${FACE_MESH_POINTS * 3} values needed, got ${mesh.length}.`);
  const back = invertSimilarity(frameToCrop);
  const at = (i: number): Point => ({ x: mesh[3 * i]!, y: mesh[3 * i + 1]! });
  const mean = (idx: readonly number[]): Point => {
    let x = 0, y = 0;
    for (const i of idx) { x += mesh[3 * i]!; y += mesh[3 * i + 1]!; }
    return { x: x / idx.length, y: y / idx.length };
  };
  const points = [mean(MESH_RIGHT_EYE), mean(MESH_LEFT_EYE), at(MESH_NOSE_TIP), at(MESH_MOUTH_RIGHT), at(MESH_MOUTH_LEFT)];
  if (!points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))) throw new RangeError('fivePointsFromMesh: the mesh has non-finite values.');
  return points.map((p) => applySimilarity(back, p));
}

/** The similarity that puts five frame points (fivePointsFromMesh) onto the 112x112 ArcFace template. */
export function fivePointAlignment(points: readonly Point[]): Similarity {
  if (points.length !== 5) throw new RangeError(`fivePointAlignment: 5 points needed, got ${points.length}.`);
  return estimateSimilarity(points, ARCFACE_TEMPLATE_5);
}


/**
 * The face mesh's presence probability from which a detection counts as a face when a frame shows
 * more than one. Measured on LFW (bench/results/detector.md, short range): every primary face scored
 * >= 0.5 (929 of 929), every second detection labelled "not a face" < 0.002 (4 of 4), and 93 of the
 * 103 real second faces >= 0.5 (the others: blurred or cut-off people in the background).
 */
export const MESH_PRESENCE_MIN = 0.5;

/**
 * The detections that are faces, for the multiple-faces rule: with one detection or none, `faces`
 * as given (the mesh is not run: single-face frames cost nothing more); with several, those whose
 * mesh presence is at least MESH_PRESENCE_MIN, in their order. When the mesh calls none of them a
 * face, all are kept: no evidence is not a reason to let a frame through.
 */
export function facesByMesh<F>(faces: readonly F[], presence: (face: F) => number): readonly F[] {
  if (faces.length <= 1) return faces;
  const kept = faces.filter((f) => {
    const p = presence(f);
    return Number.isFinite(p) && p >= MESH_PRESENCE_MIN;
  });
  return kept.length > 0 ? kept : faces;
}
