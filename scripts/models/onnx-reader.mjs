// @ts-check
/**
 * Minimal ONNX ModelProto reader (no generated schema, no dependency): a protobuf wire-format
 * decoder for only the messages and fields the face-login model tools need, written from the
 * public schema (onnx/onnx.proto, IR version <= 8).
 *
 * Reads: ir_version, opset_import, producer name/version, and the main graph: nodes (inputs,
 * outputs, name, op_type, domain, attributes of type FLOAT, INT, STRING, TENSOR, FLOATS, INTS,
 * STRINGS), initializers (FLOAT -> Float32Array, INT64 -> BigInt64Array, INT32 -> Int32Array,
 * from raw_data or the typed repeated fields) and graph inputs / outputs with their tensor
 * element type and shape (dim_value as a number, dim_param as its name).
 * Throws a clear Error on anything else it meets: sub-graph attributes, sparse or external
 * tensors, other element types, a non-default domain, malformed varints.
 * Pure JS (no Node-only imports).
 */

/** TensorProto.DataType values we decode. */
export const ONNX_DTYPE = Object.freeze({ FLOAT: 1, INT32: 6, INT64: 7 });
const DTYPE_NAME = /** @type {Record<number, 'float32'|'int32'|'int64'>} */ ({ 1: 'float32', 6: 'int32', 7: 'int64' });
/** AttributeProto.AttributeType */
const ATTR = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 });

/**
 * @typedef {{ name: string, dtype: 'float32'|'int32'|'int64', dims: number[], data: Float32Array|Int32Array|BigInt64Array }} OnnxTensor
 * @typedef {number|bigint|string|OnnxTensor|number[]|string[]} OnnxAttrValue
 *   INT / INTS come back as numbers when they are safe integers (all that conv / reshape
 *   attributes hold), else as bigint.
 * @typedef {{ name: string, opType: string, domain: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttrValue> }} OnnxNode
 * @typedef {{ name: string, dtype: 'float32'|'int32'|'int64', shape: (number|string)[] }} OnnxValueInfo
 * @typedef {object} OnnxGraph
 * @property {number} irVersion
 * @property {{ domain: string, version: number }[]} opsets
 * @property {string} producer  "name version"
 * @property {string} name
 * @property {OnnxNode[]} nodes
 * @property {Map<string, OnnxTensor>} initializers
 * @property {OnnxValueInfo[]} inputs  graph inputs that are not initializers
 * @property {OnnxValueInfo[]} outputs
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A protobuf wire-format cursor over one message's bytes. */
class Reader {
  /** @param {Uint8Array} buf @param {string} what */
  constructor(buf, what) {
    this.buf = buf;
    this.pos = 0;
    this.what = what;
  }

  get done() {
    return this.pos >= this.buf.length;
  }

  /** @param {string} msg */
  fail(msg) {
    return new Error(`onnx-reader: ${this.what} at byte ${this.pos}: ${msg}`);
  }

  /** Unsigned varint as a bigint (up to 64 bits). */
  varintBig() {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result & 0xffffffffffffffffn;
      shift += 7n;
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** Varint as a JS number (must be a safe integer once read as int64). */
  varint() {
    const v = BigInt.asIntN(64, this.varintBig());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw this.fail(`integer ${v} is out of the safe range`);
    return Number(v);
  }

  /** int64 varint: a number when safe, else a bigint. */
  int64() {
    const v = BigInt.asIntN(64, this.varintBig());
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }

  /** Length-delimited field body. */
  bytes() {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.buf.length) throw this.fail(`length ${n} runs past the end`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string() {
    return utf8.decode(this.bytes());
  }

  float32() {
    if (this.pos + 4 > this.buf.length) throw this.fail('truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** @returns {[number, number]} field number, wire type */
  tag() {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }

  /** Skip a field of an unknown number. @param {number} wire */
  skip(wire) {
    switch (wire) {
      case 0: this.varintBig(); break;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); break;
      case 5: this.pos += 4; break;
      default: throw this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.buf.length) throw this.fail('field runs past the end');
  }

  /** Repeated int64, packed (wire 2) or not (wire 0). @param {number} wire @param {(number|bigint)[]} out */
  repeatedInt64(wire, out) {
    if (wire === 0) out.push(this.int64());
    else if (wire === 2) {
      const r = new Reader(this.bytes(), this.what);
      while (!r.done) out.push(r.int64());
    } else throw this.fail(`repeated int64 with wire type ${wire}`);
  }

  /** Repeated float, packed (wire 2) or not (wire 5). @param {number} wire @param {number[]} out */
  repeatedFloat(wire, out) {
    if (wire === 5) out.push(this.float32());
    else if (wire === 2) {
      const b = this.bytes();
      if (b.length % 4) throw this.fail('packed floats not a multiple of 4 bytes');
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < b.length; i += 4) out.push(dv.getFloat32(i, true));
    } else throw this.fail(`repeated float with wire type ${wire}`);
  }
}

/** @param {(number|bigint)[]} xs @param {string} what */
function toNumbers(xs, what) {
  return xs.map((x) => {
    if (typeof x === 'bigint') throw new Error(`onnx-reader: ${what}: integer ${x} is out of the safe range`);
    return x;
  });
}

/** TensorProto. @param {Uint8Array} buf @param {string} what @returns {OnnxTensor} */
function readTensor(buf, what) {
  const r = new Reader(buf, what);
  /** @type {(number|bigint)[]} */
  const dims = [];
  let dataType = 0;
  let name = '';
  /** @type {Uint8Array|null} */
  let raw = null;
  /** @type {number[]} */
  const floats = [];
  /** @type {(number|bigint)[]} */
  const int32s = [];
  /** @type {(number|bigint)[]} */
  const int64s = [];
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: r.repeatedInt64(w, dims); break;
      case 2: dataType = r.varint(); break;
      case 4: r.repeatedFloat(w, floats); break;
      case 5: r.repeatedInt64(w, int32s); break;
      case 7: r.repeatedInt64(w, int64s); break;
      case 8: name = r.string(); break;
      case 9: raw = r.bytes(); break;
      case 12: r.skip(w); break; // doc_string
      case 3: throw r.fail('segmented tensors are not supported');
      case 13: case 14: throw r.fail(`tensor "${name}" uses external data, which is not supported`);
      default:
        if (f === 6 || f === 10 || f === 11) throw r.fail(`tensor "${name}": string / double / uint64 data is not supported`);
        r.skip(w);
    }
  }
  const dtype = DTYPE_NAME[dataType];
  const where = `${what} "${name}"`;
  if (!dtype) throw new Error(`onnx-reader: ${where}: element type ${dataType} is not supported (only FLOAT, INT32, INT64)`);
  const shape = toNumbers(dims, where);
  const n = shape.reduce((a, b) => a * b, 1);
  /** @type {Float32Array|Int32Array|BigInt64Array} */
  let data;
  if (raw) {
    const width = dtype === 'int64' ? 8 : 4;
    if (raw.length !== n * width) throw new Error(`onnx-reader: ${where}: raw_data has ${raw.length} bytes, expected ${n * width}`);
    const copy = raw.slice(); // aligned, owned
    const dv = new DataView(copy.buffer);
    if (dtype === 'float32') { data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true); }
    else if (dtype === 'int32') { data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getInt32(4 * i, true); }
    else { data = new BigInt64Array(n); for (let i = 0; i < n; i++) data[i] = dv.getBigInt64(8 * i, true); }
  } else if (dtype === 'float32') data = Float32Array.from(floats);
  else if (dtype === 'int32') data = Int32Array.from(toNumbers(int32s, where));
  else data = BigInt64Array.from(int64s.map((v) => BigInt(v)));
  if (data.length !== n) throw new Error(`onnx-reader: ${where}: ${data.length} values for shape [${shape}]`);
  return { name, dtype, dims: shape, data };
}

/** AttributeProto. @param {Uint8Array} buf @param {string} what @returns {[string, OnnxAttrValue]} */
function readAttribute(buf, what) {
  const r = new Reader(buf, what);
  let name = '';
  let type = 0;
  /** @type {number} */ let f32 = 0;
  /** @type {number|bigint} */ let i64 = 0;
  /** @type {Uint8Array|null} */ let s = null;
  /** @type {OnnxTensor|null} */ let t = null;
  /** @type {number[]} */ const floats = [];
  /** @type {(number|bigint)[]} */ const ints = [];
  /** @type {string[]} */ const strings = [];
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: name = r.string(); break;
      case 20: type = r.varint(); break;
      case 2: f32 = r.float32(); break;
      case 3: i64 = r.int64(); break;
      case 4: s = r.bytes(); break;
      case 5: t = readTensor(r.bytes(), `${what} "${name}" tensor`); break;
      case 7: r.repeatedFloat(w, floats); break;
      case 8: r.repeatedInt64(w, ints); break;
      case 9: strings.push(r.string()); break;
      case 6: case 10: case 11: case 22: case 23:
        throw r.fail(`attribute "${name}": graph / tensor-list / sparse attributes are not supported`);
      case 21: throw r.fail(`attribute "${name}": reference attributes (functions) are not supported`);
      default: r.skip(w);
    }
  }
  switch (type) {
    case ATTR.FLOAT: return [name, f32];
    case ATTR.INT: return [name, i64];
    case ATTR.STRING: return [name, s ? utf8.decode(s) : ''];
    case ATTR.TENSOR:
      if (!t) throw new Error(`onnx-reader: ${what}: attribute "${name}" has no tensor`);
      return [name, t];
    case ATTR.FLOATS: return [name, floats];
    case ATTR.INTS: return [name, toNumbers(ints, `${what} attribute "${name}"`)];
    case ATTR.STRINGS: return [name, strings];
    default: throw new Error(`onnx-reader: ${what}: attribute "${name}" has type ${type}, which is not supported`);
  }
}

/** NodeProto. @param {Uint8Array} buf @param {number} index @returns {OnnxNode} */
function readNode(buf, index) {
  const what = `node ${index}`;
  const r = new Reader(buf, what);
  /** @type {OnnxNode} */
  const node = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: {} };
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: node.inputs.push(r.string()); break;
      case 2: node.outputs.push(r.string()); break;
      case 3: node.name = r.string(); break;
      case 4: node.opType = r.string(); break;
      case 5: {
        const [k, v] = readAttribute(r.bytes(), `${what} (${node.opType || '?'})`);
        if (k in node.attrs) throw new Error(`onnx-reader: ${what}: attribute "${k}" appears twice`);
        node.attrs[k] = v;
        break;
      }
      case 7: node.domain = r.string(); break;
      default: r.skip(w);
    }
  }
  if (node.domain && node.domain !== 'ai.onnx') throw new Error(`onnx-reader: ${what} (${node.opType}): domain "${node.domain}" is not supported`);
  return node;
}

/** ValueInfoProto (tensor types only). @param {Uint8Array} buf @param {string} what @returns {OnnxValueInfo} */
function readValueInfo(buf, what) {
  const r = new Reader(buf, what);
  let name = '';
  /** @type {Uint8Array|null} */
  let typeBytes = null;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) name = r.string();
    else if (f === 2) typeBytes = r.bytes();
    else r.skip(w);
  }
  if (!typeBytes) throw new Error(`onnx-reader: ${what} "${name}" has no type`);
  // TypeProto: 1 = tensor_type; anything else (sequence, map, optional, sparse) is unsupported.
  const tr = new Reader(typeBytes, `${what} "${name}" type`);
  /** @type {Uint8Array|null} */
  let tensorType = null;
  while (!tr.done) {
    const [f, w] = tr.tag();
    if (f === 1) tensorType = tr.bytes();
    else if (f === 6) tr.skip(w); // denotation
    else throw tr.fail('only tensor types are supported');
  }
  if (!tensorType) throw new Error(`onnx-reader: ${what} "${name}" is not a tensor`);
  const tt = new Reader(tensorType, `${what} "${name}" tensor type`);
  let elem = 0;
  /** @type {(number|string)[]} */
  const shape = [];
  while (!tt.done) {
    const [f, w] = tt.tag();
    if (f === 1) elem = tt.varint();
    else if (f === 2) {
      const sr = new Reader(tt.bytes(), `${what} "${name}" shape`);
      while (!sr.done) {
        const [sf, sw] = sr.tag();
        if (sf !== 1) { sr.skip(sw); continue; }
        const dr = new Reader(sr.bytes(), `${what} "${name}" dim`);
        /** @type {number|string} */
        let d = '?';
        while (!dr.done) {
          const [df, dw] = dr.tag();
          if (df === 1) d = dr.varint();
          else if (df === 2) d = dr.string();
          else dr.skip(dw);
        }
        shape.push(d);
      }
    } else tt.skip(w);
  }
  const dtype = DTYPE_NAME[elem];
  if (!dtype) throw new Error(`onnx-reader: ${what} "${name}": element type ${elem} is not supported`);
  return { name, dtype, shape };
}

/**
 * Parse an ONNX model file.
 * @param {Uint8Array} bytes
 * @returns {OnnxGraph}
 */
export function readOnnx(bytes) {
  const r = new Reader(bytes, 'ModelProto');
  let irVersion = 0;
  /** @type {{ domain: string, version: number }[]} */
  const opsets = [];
  let producer = '';
  let producerVersion = '';
  /** @type {Uint8Array|null} */
  let graphBytes = null;
  while (!r.done) {
    const [f, w] = r.tag();
    switch (f) {
      case 1: irVersion = r.varint(); break;
      case 8: {
        const o = new Reader(r.bytes(), 'opset_import');
        let domain = '';
        let version = 0;
        while (!o.done) {
          const [of, ow] = o.tag();
          if (of === 1) domain = o.string();
          else if (of === 2) version = o.varint();
          else o.skip(ow);
        }
        opsets.push({ domain, version });
        break;
      }
      case 2: producer = r.string(); break;
      case 3: producerVersion = r.string(); break;
      case 7: graphBytes = r.bytes(); break;
      case 25: throw r.fail('model-local functions are not supported');
      default: r.skip(w);
    }
  }
  if (!graphBytes) throw new Error('onnx-reader: the model has no graph (is this an ONNX file?)');
  if (irVersion < 3 || irVersion > 9) throw new Error(`onnx-reader: IR version ${irVersion} is not supported (3..9)`);
  const g = new Reader(graphBytes, 'GraphProto');
  let name = '';
  /** @type {OnnxNode[]} */
  const nodes = [];
  /** @type {Map<string, OnnxTensor>} */
  const initializers = new Map();
  /** @type {OnnxValueInfo[]} */
  const inputs = [];
  /** @type {OnnxValueInfo[]} */
  const outputs = [];
  while (!g.done) {
    const [f, w] = g.tag();
    switch (f) {
      case 1: nodes.push(readNode(g.bytes(), nodes.length)); break;
      case 2: name = g.string(); break;
      case 5: {
        const t = readTensor(g.bytes(), 'initializer');
        if (initializers.has(t.name)) throw new Error(`onnx-reader: initializer "${t.name}" appears twice`);
        initializers.set(t.name, t);
        break;
      }
      case 11: inputs.push(readValueInfo(g.bytes(), 'graph input')); break;
      case 12: outputs.push(readValueInfo(g.bytes(), 'graph output')); break;
      case 15: throw g.fail('sparse initializers are not supported');
      default: g.skip(w);
    }
  }
  return {
    irVersion,
    opsets,
    producer: `${producer} ${producerVersion}`.trim(),
    name,
    nodes,
    initializers,
    // IR < 4 lists initializers among the inputs too.
    inputs: inputs.filter((i) => !initializers.has(i.name)),
    outputs,
  };
}
