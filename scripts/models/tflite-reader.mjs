// @ts-check
/**
 * Minimal TFLite flatbuffer reader (no generated schema): only the tables and
 * fields the face-login model tools need, written from the public TFLite
 * schema (tensorflow/lite/schema/schema.fbs).
 *
 * Supports float32 graphs using CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, ABS,
 * RELU and RESHAPE (MobileFaceNet), plus what FaceAntiSpoofing.tflite (a Deep Tree
 * Network) needs: DEQUANTIZE of FLOAT16 constants, LEAKY_RELU, MAX_POOL_2D,
 * AVERAGE_POOL_2D, FULLY_CONNECTED, STRIDED_SLICE, GREATER_EQUAL, LESS, CAST and
 * CONCATENATION, with BOOL activations; PAD (BlazeFace short range, the face detector); and
 * RESIZE_BILINEAR (BlazeFace full range's upsampling path). Anything else throws a clear Error.
 */
import { ByteBuffer } from 'flatbuffers';

/** BuiltinOperator codes we understand (schema.fbs `enum BuiltinOperator`). */
export const BUILTIN = Object.freeze({
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  MAX_POOL_2D: 17,
  MUL: 18,
  RELU: 19,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  PAD: 34,
  SUB: 41,
  STRIDED_SLICE: 45,
  CAST: 53,
  LESS: 58,
  GREATER_EQUAL: 62,
  LEAKY_RELU: 98,
  ABS: 101,
});
/** @type {Map<number, string>} */
const OP_NAME = new Map(Object.entries(BUILTIN).map(([k, v]) => [v, k]));

/** BuiltinOptions union tags we understand (schema.fbs `union BuiltinOptions`). */
const OPTIONS_TAG = Object.freeze({
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  ReshapeOptions: 17,
  MulOptions: 21,
  PadOptions: 22,
  SubOptions: 28,
  StridedSliceOptions: 32,
  CastOptions: 37,
  LeakyReluOptions: 75,
});

/** TensorType enum values we support (FLOAT16 only as constant data, BOOL only as activations). */
const TENSOR_TYPE = Object.freeze({ 0: 'float32', 1: 'float16', 2: 'int32', 6: 'bool' });
/** All TensorType names, for error messages only. */
const TENSOR_TYPE_NAME = ['FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8', 'FLOAT64'];

/** Padding enum. */
const PADDING = Object.freeze({ 0: 'SAME', 1: 'VALID' });

/** ActivationFunctionType enum. */
const ACTIVATION = Object.freeze({
  0: 'NONE',
  1: 'RELU',
  2: 'RELU_N1_TO_1',
  3: 'RELU6',
  4: 'TANH',
  5: 'SIGN_BIT',
});

/**
 * @typedef {'SAME'|'VALID'} Padding
 * @typedef {'NONE'|'RELU'|'RELU_N1_TO_1'|'RELU6'|'TANH'|'SIGN_BIT'} Activation
 *
 * @typedef {object} TfliteTensor
 * @property {number} index
 * @property {string} name
 * @property {'float32'|'float16'|'int32'|'bool'} dtype
 * @property {number[]} shape
 * @property {number[]|null} shapeSignature
 * @property {Float32Array|Int32Array|Uint16Array|null} data  constant data (null for activations /
 *   graph inputs); FLOAT16 constants are the raw IEEE half bits (see DEQUANTIZE)
 *
 * @typedef {object} Conv2DOptions
 * @property {Padding} padding
 * @property {number} strideW
 * @property {number} strideH
 * @property {Activation} fusedActivation
 * @property {number} dilationW
 * @property {number} dilationH
 *
 * @typedef {object} DepthwiseConv2DOptions
 * @property {Padding} padding
 * @property {number} strideW
 * @property {number} strideH
 * @property {number} depthMultiplier
 * @property {Activation} fusedActivation
 * @property {number} dilationW
 * @property {number} dilationH
 *
 * @typedef {{ fusedActivation: Activation }} ElementwiseOptions
 * @typedef {{ newShape: number[]|null }} ReshapeOptions
 * @typedef {{ padding: Padding, strideW: number, strideH: number, filterWidth: number, filterHeight: number, fusedActivation: Activation }} Pool2DOptions
 * @typedef {{ fusedActivation: Activation, weightsFormat: number, keepNumDims: boolean }} FullyConnectedOptions
 * @typedef {{ axis: number, fusedActivation: Activation }} ConcatenationOptions
 * @typedef {{ beginMask: number, endMask: number, ellipsisMask: number, newAxisMask: number, shrinkAxisMask: number, offset: boolean }} StridedSliceOptions
 * @typedef {{ alpha: number }} LeakyReluOptions
 * @typedef {{ alignCorners: boolean, halfPixelCenters: boolean }} ResizeBilinearOptions
 *
 * @typedef {'ADD'|'AVERAGE_POOL_2D'|'CONCATENATION'|'CONV_2D'|'DEPTHWISE_CONV_2D'|'DEQUANTIZE'|'FULLY_CONNECTED'|'MAX_POOL_2D'|'MUL'|'RELU'|'RESHAPE'|'SUB'|'STRIDED_SLICE'|'CAST'|'LESS'|'GREATER_EQUAL'|'LEAKY_RELU'|'ABS'|'PAD'|'RESIZE_BILINEAR'} OpName
 *
 * @typedef {object} TfliteOperator
 * @property {number} index
 * @property {OpName} op
 * @property {number[]} inputs   tensor indices (-1 = optional input absent)
 * @property {number[]} outputs  tensor indices
 * @property {any} options       parsed builtin options (shape depends on op)
 *
 * @typedef {object} TfliteGraph
 * @property {number} version
 * @property {string} description
 * @property {string} subgraphName
 * @property {TfliteTensor[]} tensors
 * @property {TfliteOperator[]} operators
 * @property {number[]} inputs
 * @property {number[]} outputs
 */

/** Tiny table helper over a flatbuffers ByteBuffer. */
class Table {
  /** @param {ByteBuffer} bb @param {number} pos */
  constructor(bb, pos) {
    this.bb = bb;
    this.pos = pos;
  }
  /** @param {number} field */
  off(field) {
    return this.bb.__offset(this.pos, 4 + 2 * field);
  }
  /** @param {number} field */
  has(field) {
    return this.off(field) !== 0;
  }
  /** @param {number} field @param {number} def */
  i8(field, def) {
    const o = this.off(field);
    return o ? this.bb.readInt8(this.pos + o) : def;
  }
  /** @param {number} field @param {number} def */
  u8(field, def) {
    const o = this.off(field);
    return o ? this.bb.readUint8(this.pos + o) : def;
  }
  /** @param {number} field @param {number} def */
  i32(field, def) {
    const o = this.off(field);
    return o ? this.bb.readInt32(this.pos + o) : def;
  }
  /** @param {number} field @param {number} def */
  f32(field, def) {
    const o = this.off(field);
    return o ? this.bb.readFloat32(this.pos + o) : def;
  }
  /** @param {number} field @param {number} def */
  u32(field, def) {
    const o = this.off(field);
    return o ? this.bb.readUint32(this.pos + o) : def;
  }
  /** @param {number} field @param {bigint} def */
  u64(field, def) {
    const o = this.off(field);
    return o ? this.bb.readUint64(this.pos + o) : def;
  }
  /** @param {number} field @returns {string|null} */
  str(field) {
    const o = this.off(field);
    return o ? /** @type {string} */ (this.bb.__string(this.pos + o)) : null;
  }
  /** @param {number} field @returns {Table|null} */
  table(field) {
    const o = this.off(field);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  /** Vector of tables. @param {number} field @returns {Table[]} */
  tables(field) {
    const o = this.off(field);
    if (!o) return [];
    const n = this.bb.__vector_len(this.pos + o);
    const start = this.bb.__vector(this.pos + o);
    /** @type {Table[]} */
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push(new Table(this.bb, this.bb.__indirect(start + 4 * i)));
    }
    return out;
  }
  /** Vector of int32 (or null when absent). @param {number} field @returns {number[]|null} */
  ints(field) {
    const o = this.off(field);
    if (!o) return null;
    const n = this.bb.__vector_len(this.pos + o);
    const start = this.bb.__vector(this.pos + o);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.bb.readInt32(start + 4 * i);
    return out;
  }
  /** Vector of bytes as {start,length} in the underlying buffer. @param {number} field */
  byteRange(field) {
    const o = this.off(field);
    if (!o) return null;
    return { start: this.bb.__vector(this.pos + o), length: this.bb.__vector_len(this.pos + o) };
  }
}

/**
 * @template T
 * @param {Record<number, T>} map @param {number} v @param {string} what
 * @returns {T}
 */
function enumValue(map, v, what) {
  const r = map[v];
  if (r === undefined) throw new Error(`tflite-reader: unsupported ${what} value ${v}`);
  return r;
}

/**
 * Copy-or-view bytes as a typed array of element type `Ctor`.
 * @template {Float32ArrayConstructor|Int32ArrayConstructor|Uint16ArrayConstructor} C
 * @param {C} Ctor @param {Uint8Array} bytes @param {number} start @param {number} length
 * @returns {InstanceType<C>}
 */
function typedView(Ctor, bytes, start, length) {
  const el = Ctor.BYTES_PER_ELEMENT;
  if (length % el !== 0) {
    throw new Error(`tflite-reader: buffer of ${length} bytes is not a multiple of ${el}`);
  }
  const abs = bytes.byteOffset + start;
  if (abs % el === 0) {
    return /** @type {InstanceType<C>} */ (new Ctor(/** @type {ArrayBuffer} */ (bytes.buffer), abs, length / el));
  }
  // Unaligned: copy (little-endian host assumed, as TFLite data is little-endian).
  const copy = bytes.slice(start, start + length);
  return /** @type {InstanceType<C>} */ (new Ctor(copy.buffer, 0, length / el));
}

/**
 * @param {number} opcode
 * @param {Table|null} t  options table (may be null when absent -> schema defaults)
 * @param {number} tag    builtin_options_type
 */
function parseOptions(opcode, t, tag) {
  /** @param {number} expected */
  const checkTag = (expected) => {
    if (t && tag !== expected) {
      throw new Error(`tflite-reader: ${OP_NAME.get(opcode)} has options of union type ${tag}, expected ${expected}`);
    }
  };
  /** @param {Table|null} tt @param {number} f @param {number} d */
  const i32 = (tt, f, d) => (tt ? tt.i32(f, d) : d);
  /** @param {Table|null} tt @param {number} f @param {number} d */
  const i8 = (tt, f, d) => (tt ? tt.i8(f, d) : d);
  switch (opcode) {
    case BUILTIN.CONV_2D:
      checkTag(OPTIONS_TAG.Conv2DOptions);
      return /** @type {Conv2DOptions} */ ({
        padding: enumValue(PADDING, i8(t, 0, 0), 'padding'),
        strideW: i32(t, 1, 0),
        strideH: i32(t, 2, 0),
        fusedActivation: enumValue(ACTIVATION, i8(t, 3, 0), 'fused activation'),
        dilationW: i32(t, 4, 1),
        dilationH: i32(t, 5, 1),
      });
    case BUILTIN.DEPTHWISE_CONV_2D:
      checkTag(OPTIONS_TAG.DepthwiseConv2DOptions);
      return /** @type {DepthwiseConv2DOptions} */ ({
        padding: enumValue(PADDING, i8(t, 0, 0), 'padding'),
        strideW: i32(t, 1, 0),
        strideH: i32(t, 2, 0),
        depthMultiplier: i32(t, 3, 0),
        fusedActivation: enumValue(ACTIVATION, i8(t, 4, 0), 'fused activation'),
        dilationW: i32(t, 5, 1),
        dilationH: i32(t, 6, 1),
      });
    case BUILTIN.ADD:
      checkTag(OPTIONS_TAG.AddOptions);
      return { fusedActivation: enumValue(ACTIVATION, i8(t, 0, 0), 'fused activation') };
    case BUILTIN.SUB:
      checkTag(OPTIONS_TAG.SubOptions);
      return { fusedActivation: enumValue(ACTIVATION, i8(t, 0, 0), 'fused activation') };
    case BUILTIN.MUL:
      checkTag(OPTIONS_TAG.MulOptions);
      return { fusedActivation: enumValue(ACTIVATION, i8(t, 0, 0), 'fused activation') };
    case BUILTIN.RESHAPE:
      checkTag(OPTIONS_TAG.ReshapeOptions);
      return { newShape: t ? t.ints(0) : null };
    case BUILTIN.MAX_POOL_2D:
    case BUILTIN.AVERAGE_POOL_2D:
      checkTag(OPTIONS_TAG.Pool2DOptions);
      return /** @type {Pool2DOptions} */ ({
        padding: enumValue(PADDING, i8(t, 0, 0), 'padding'),
        strideW: i32(t, 1, 0),
        strideH: i32(t, 2, 0),
        filterWidth: i32(t, 3, 0),
        filterHeight: i32(t, 4, 0),
        fusedActivation: enumValue(ACTIVATION, i8(t, 5, 0), 'fused activation'),
      });
    case BUILTIN.FULLY_CONNECTED:
      checkTag(OPTIONS_TAG.FullyConnectedOptions);
      return /** @type {FullyConnectedOptions} */ ({
        fusedActivation: enumValue(ACTIVATION, i8(t, 0, 0), 'fused activation'),
        weightsFormat: i8(t, 1, 0),
        keepNumDims: i8(t, 2, 0) !== 0,
      });
    case BUILTIN.CONCATENATION:
      checkTag(OPTIONS_TAG.ConcatenationOptions);
      return /** @type {ConcatenationOptions} */ ({
        axis: i32(t, 0, 0),
        fusedActivation: enumValue(ACTIVATION, i8(t, 1, 0), 'fused activation'),
      });
    case BUILTIN.STRIDED_SLICE:
      checkTag(OPTIONS_TAG.StridedSliceOptions);
      return /** @type {StridedSliceOptions} */ ({
        beginMask: i32(t, 0, 0),
        endMask: i32(t, 1, 0),
        ellipsisMask: i32(t, 2, 0),
        newAxisMask: i32(t, 3, 0),
        shrinkAxisMask: i32(t, 4, 0),
        offset: i8(t, 5, 0) !== 0,
      });
    case BUILTIN.LEAKY_RELU:
      checkTag(OPTIONS_TAG.LeakyReluOptions);
      return /** @type {LeakyReluOptions} */ ({ alpha: t ? t.f32(0, 0) : 0 });
    case BUILTIN.CAST:
      checkTag(OPTIONS_TAG.CastOptions);
      return {};
    case BUILTIN.PAD:
      checkTag(OPTIONS_TAG.PadOptions);
      return {};
    case BUILTIN.RESIZE_BILINEAR:
      checkTag(OPTIONS_TAG.ResizeBilinearOptions);
      // ResizeBilinearOptions{new_height (deprecated), new_width (deprecated), align_corners, half_pixel_centers}
      return /** @type {ResizeBilinearOptions} */ ({ alignCorners: i8(t, 2, 0) !== 0, halfPixelCenters: i8(t, 3, 0) !== 0 });
    case BUILTIN.RELU:
    case BUILTIN.ABS:
    case BUILTIN.DEQUANTIZE:
    case BUILTIN.LESS:
    case BUILTIN.GREATER_EQUAL:
      return {};
    default:
      throw new Error(`tflite-reader: unsupported op code ${opcode}`);
  }
}

/**
 * Parse a TFLite model (first subgraph) into a plain object graph.
 * Constant tensors get `data` as a Float32Array / Int32Array / Uint16Array (FLOAT16 bits)
 * view into `bytes` (a copy when the buffer is unaligned).
 * @param {Uint8Array} bytes
 * @returns {TfliteGraph}
 */
export function readTflite(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('readTflite: expected a Uint8Array');
  if (bytes.length < 8) throw new Error('readTflite: file too small');
  const ident = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (ident !== 'TFL3') throw new Error(`readTflite: not a TFLite flatbuffer (identifier "${ident}")`);

  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());

  const version = model.u32(0, 0);
  const description = model.str(3) ?? '';

  const opcodes = model.tables(1).map((oc, i) => {
    const deprecated = oc.i8(0, 0);
    const builtin = oc.i32(3, 0);
    const code = Math.max(deprecated, builtin);
    const custom = oc.str(1);
    if (custom !== null && code === 32 /* CUSTOM */) {
      throw new Error(`readTflite: custom op "${custom}" (operator_codes[${i}]) is not supported`);
    }
    return code;
  });

  const buffers = model.tables(4).map((b) => {
    const range = b.byteRange(0);
    if (range && range.length > 0) return range;
    const offset = b.u64(1, 0n);
    const size = b.u64(2, 0n);
    if (offset > 1n && size > 0n) {
      // Data stored after the flatbuffer (models > 2 GB); offset is from file start.
      const start = Number(offset);
      const length = Number(size);
      if (start + length > bytes.length) throw new Error('readTflite: buffer offset/size out of range');
      return { start, length };
    }
    return null;
  });

  const subgraphs = model.tables(2);
  if (subgraphs.length !== 1) {
    throw new Error(`readTflite: expected exactly one subgraph, found ${subgraphs.length}`);
  }
  const sg = subgraphs[0];

  /** @type {TfliteTensor[]} */
  const tensors = sg.tables(0).map((t, index) => {
    const name = t.str(3) ?? `tensor_${index}`;
    const type = t.i8(1, 0);
    if (!(type in TENSOR_TYPE)) {
      throw new Error(`tflite-reader: tensor "${name}" has unsupported type ${TENSOR_TYPE_NAME[type] ?? type} (only FLOAT32, FLOAT16, INT32 and BOOL)`);
    }
    const dtype = /** @type {TfliteTensor['dtype']} */ (enumValue(TENSOR_TYPE, type, 'tensor type'));
    if (t.has(4)) {
      const q = /** @type {Table} */ (t.table(4));
      // QuantizationParameters{min, max, scale, zero_point, details_type, details, quantized_dimension}
      if (q.has(2) || q.has(3) || q.has(5)) {
        throw new Error(`readTflite: quantized tensor "${name}" is not supported`);
      }
    }
    if (t.has(6)) throw new Error(`readTflite: sparse tensor "${name}" is not supported`);
    if (t.u8(5, 0)) throw new Error(`readTflite: variable tensor "${name}" is not supported`);
    const shape = t.ints(0) ?? [];
    const shapeSignature = t.ints(7);
    const bufIdx = t.u32(2, 0);
    const range = buffers[bufIdx] ?? null;
    /** @type {Float32Array|Int32Array|Uint16Array|null} */
    let data = null;
    if (bufIdx !== 0 && range) {
      if (dtype === 'bool') throw new Error(`readTflite: constant BOOL tensor "${name}" is not supported`);
      const Ctor = dtype === 'float32' ? Float32Array : dtype === 'float16' ? Uint16Array : Int32Array;
      data = typedView(Ctor, bytes, range.start, range.length);
      const expected = shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) {
        throw new Error(`readTflite: tensor "${name}" has ${data.length} values, shape [${shape}] needs ${expected}`);
      }
    }
    if (dtype === 'float16' && !data) throw new Error(`readTflite: FLOAT16 activation "${name}" is not supported (only FLOAT16 constants)`);
    return { index, name, dtype, shape, shapeSignature, data };
  });

  /** @type {TfliteOperator[]} */
  const operators = sg.tables(3).map((o, index) => {
    const opcodeIndex = o.u32(0, 0);
    const code = opcodes[opcodeIndex];
    if (code === undefined) throw new Error(`readTflite: operator ${index} has bad opcode_index ${opcodeIndex}`);
    const op = OP_NAME.get(code);
    if (!op) throw new Error(`readTflite: unsupported builtin operator code ${code} (operator ${index}); supported: ${[...OP_NAME.values()].join(', ')}`);
    const tag = o.u8(3, 0);
    const options = parseOptions(code, tag ? o.table(4) : null, tag);
    if (o.has(5)) throw new Error(`readTflite: operator ${index} (${op}) has custom options`);
    return {
      index,
      op: /** @type {TfliteOperator['op']} */ (op),
      inputs: o.ints(1) ?? [],
      outputs: o.ints(2) ?? [],
      options,
    };
  });

  return {
    version,
    description,
    subgraphName: sg.str(4) ?? '',
    tensors,
    operators,
    inputs: sg.ints(1) ?? [],
    outputs: sg.ints(2) ?? [],
  };
}
