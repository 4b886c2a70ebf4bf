/**
 * Reads a JPEG's marker segments without decoding it: the frame header (size, sampling,
 * coding process), the Adobe colour transform, the EXIF orientation and the number of scans.
 * It runs before any pixel is decoded, so that oversized, unsupported or truncated input is
 * refused in time linear in its bytes, before the decoder allocates anything. One pass, every
 * step moves forward: it cannot hang.
 */
import { VisionError } from './errors.js';

export interface JpegComponent {
  readonly id: number;
  /** Horizontal and vertical sampling factors (1..4). */
  readonly h: number;
  readonly v: number;
}

export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /** The SOFn marker's n: 0 baseline, 1 extended sequential, 2 progressive (the ones decoded here). */
  readonly process: number;
  readonly precision: number;
  readonly components: readonly JpegComponent[];
  /** APP14 "Adobe" transform flag (0: RGB / CMYK, 1: YCbCr, 2: YCCK), or null without that segment. */
  readonly adobeTransform: number | null;
  /** Byte offset of the Adobe transform flag (the decoder patches it; see jpeg-decoder.ts). */
  readonly adobeTransformOffset: number | null;
  readonly jfif: boolean;
  /** EXIF orientation 1..8 (1 = as stored), 1 when there is no EXIF. */
  readonly orientation: number;
  readonly scans: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function corrupt(why: string): VisionError {
  return new VisionError('image-corrupt', `The image is not a readable JPEG: ${why}.`);
}

/** Parses the segments up to EOI. Throws VisionError('image-corrupt') for anything malformed or truncated. */
export function readJpegHeader(b: Uint8Array): JpegHeader {
  const n = b.length;
  if (n < 4 || b[0] !== 0xff || b[1] !== SOI) throw corrupt('it does not start with a JPEG SOI marker');
  let sof: Pick<JpegHeader, 'width' | 'height' | 'process' | 'precision' | 'components'> | null = null;
  let adobeTransform: number | null = null;
  let adobeTransformOffset: number | null = null;
  let jfif = false;
  let orientation = 1;
  let scans = 0;
  let i = 2;
  for (;;) {
    if (i + 1 >= n) throw corrupt('it ends before its EOI marker (truncated)');
    if (b[i] !== 0xff) throw corrupt(`no marker at byte ${i}`);
    let m = b[i + 1]!;
    while (m === 0xff && i + 2 < n) m = b[++i + 1]!; // fill bytes
    if (m === EOI) break;
    if (m === SOI || (m >= 0xd0 && m <= 0xd7) || m === 0x01 || m === 0x00) throw corrupt(`unexpected marker 0x${m.toString(16)} at byte ${i}`);
    if (i + 3 >= n) throw corrupt('a segment header is cut off (truncated)');
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    const start = i + 4;
    const end = i + 2 + len;
    if (len < 2 || end > n) throw corrupt(`segment 0x${m.toString(16)} at byte ${i} runs past the end (truncated)`);
    if (isSof(m)) {
      if (sof) throw corrupt('it has more than one frame header');
      if (len < 8) throw corrupt('its frame header is too short');
      const count = b[start + 5]!;
      if (len < 8 + 3 * count) throw corrupt('its frame header is too short for its components');
      const components: JpegComponent[] = [];
      for (let c = 0; c < count; c++) {
        const o = start + 6 + 3 * c;
        components.push({ id: b[o]!, h: b[o + 1]! >> 4, v: b[o + 1]! & 15 });
      }
      sof = { process: m - 0xc0, precision: b[start]!, height: (b[start + 1]! << 8) | b[start + 2]!, width: (b[start + 3]! << 8) | b[start + 4]!, components };
    } else if (m === 0xe0 && len >= 7 && ascii(b, start, 5) === 'JFIF\0') {
      jfif = true;
    } else if (m === 0xee && len >= 14 && ascii(b, start, 5) === 'Adobe') {
      adobeTransform = b[start + 11]!;
      adobeTransformOffset = start + 11;
    } else if (m === 0xe1 && len >= 16 && ascii(b, start, 6) === 'Exif\0\0') {
      orientation = exifOrientation(b, start + 6, end);
    }
    i = end;
    if (m === SOS) {
      scans++;
      // Entropy-coded data: runs to the next marker that is not a stuffed 0xFF00 or a restart marker.
      while (i + 1 < n && !(b[i] === 0xff && b[i + 1] !== 0x00 && !(b[i + 1]! >= 0xd0 && b[i + 1]! <= 0xd7))) i++;
    }
  }
  if (!sof) throw corrupt('it has no frame header (SOF)');
  if (scans === 0) throw corrupt('it has no image data (SOS)');
  return { ...sof, adobeTransform, adobeTransformOffset, jfif, orientation, scans };
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return String.fromCharCode(...b.subarray(at, at + len));
}

/** Tag 0x0112 of IFD0 in the TIFF structure at [tiff, end); 1 when absent or unreadable. */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number {
  const little = b[tiff] === 0x49 && b[tiff + 1] === 0x49;
  if (!little && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return 1;
  const u16 = (o: number): number => (o + 2 > end ? -1 : little ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!);
  const u32 = (o: number): number => (o + 4 > end ? -1 : little ? (u16(o) | (u16(o + 2) << 16)) >>> 0 : ((u16(o) << 16) | u16(o + 2)) >>> 0);
  const ifd = tiff + u32(tiff + 4);
  const entries = u16(ifd);
  if (entries < 0 || ifd < tiff) return 1;
  for (let e = 0; e < entries; e++) {
    const o = ifd + 2 + 12 * e;
    if (o + 12 > end) return 1;
    if (u16(o) === 0x0112) {
      const v = u16(o + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}
