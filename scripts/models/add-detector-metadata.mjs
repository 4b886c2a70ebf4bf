// Adds TFLite model metadata (a "TFLITE_METADATA" buffer holding a ModelMetadata
// flatbuffer, file identifier "M001") to a float image model that ships without it,
// such as BlazeFace short-range from @mediapipe/face_detection. MediaPipe Tasks needs
// it to know the input's colour space and NormalizationOptions.
//
// The original file is kept byte for byte: the output is
//   [new root Model table + new vectors + metadata buffer][original file][zero pad]
// where the new root Model table reuses every sub-object of the original file
// (operator codes, subgraphs, weight buffers, ...) by pointing forward into the
// copied original bytes, whose start stays 16-byte aligned. Field numbers follow the
// public tensorflow/lite/schema/schema.fbs and tflite-support metadata_schema.fbs.
import * as flatbuffers from 'flatbuffers';

// ---- hand-rolled flatbuffer reading -------------------------------------------------
export function reader(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (p) => dv.getUint32(p, true);
  const r = {
    bytes, dv, u32,
    root: () => u32(0),
    ident: () => String.fromCharCode(...bytes.subarray(4, 8)),
    /** absolute position of field `i` of the table at `t`, or 0 when absent */
    field(t, i) {
      const vt = t - dv.getInt32(t, true);
      const o = 4 + 2 * i;
      if (o >= dv.getUint16(vt, true)) return 0;
      const f = dv.getUint16(vt + o, true);
      return f ? t + f : 0;
    },
    numFields: (t) => (dv.getUint16(t - dv.getInt32(t, true), true) - 4) / 2,
    ref: (p) => p + u32(p),
    /** position of the object referenced by field `i`, or 0 */
    obj(t, i) { const p = r.field(t, i); return p ? r.ref(p) : 0; },
    /** [positions of elements] of a vector of tables/strings at field `i` */
    tables(t, i) {
      const v = r.obj(t, i); if (!v) return [];
      return Array.from({ length: u32(v) }, (_, k) => r.ref(v + 4 + 4 * k));
    },
    str: (p) => (p ? new TextDecoder().decode(bytes.subarray(p + 4, p + 4 + u32(p))) : null),
    strField: (t, i) => r.str(r.obj(t, i)),
    u8: (t, i, d = 0) => { const p = r.field(t, i); return p ? dv.getUint8(p) : d; },
    u32f: (t, i, d = 0) => { const p = r.field(t, i); return p ? u32(p) : d; },
    bytesField(t, i) { const v = r.obj(t, i); return v ? bytes.subarray(v + 4, v + 4 + u32(v)) : null; },
    floats(t, i) {
      const v = r.obj(t, i); if (!v) return [];
      return Array.from({ length: u32(v) }, (_, k) => dv.getFloat32(v + 4 + 4 * k, true));
    },
    ints(t, i) {
      const v = r.obj(t, i); if (!v) return [];
      return Array.from({ length: u32(v) }, (_, k) => dv.getInt32(v + 4 + 4 * k, true));
    },
  };
  return r;
}

// TFLite schema.fbs field numbers
const M = { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4, metadata_buffer: 5, metadata: 6, signature_defs: 7 };
const SG = { tensors: 0, inputs: 1, outputs: 2 };
const TENSOR_NAME = 3;
// metadata_schema.fbs unions
const CONTENT_IMAGE_PROPERTIES = 2, PROCESS_UNIT_NORMALIZATION = 1, COLOR_SPACE = { UNKNOWN: 0, RGB: 1, GRAYSCALE: 2 };

/** Summary of a TFLite model: subgraph 0 input/output tensor names, buffers, metadata entries. */
export function describeTflite(bytes) {
  const r = reader(bytes);
  if (r.ident() !== 'TFL3') throw new Error('not a TFLite flatbuffer (identifier ' + JSON.stringify(r.ident()) + ')');
  const model = r.root();
  const sg = r.tables(model, M.subgraphs)[0];
  const tensors = r.tables(sg, SG.tensors);
  const names = (ids) => ids.map((i) => r.strField(tensors[i], TENSOR_NAME));
  return {
    model, r,
    inputs: names(r.ints(sg, SG.inputs)), outputs: names(r.ints(sg, SG.outputs)),
    buffers: r.tables(model, M.buffers),
    metadata: r.tables(model, M.metadata).map((m) => ({ name: r.strField(m, 0), buffer: r.u32f(m, 1) })),
  };
}

function buildModelMetadata(opts, inputNames, outputNames) {
  const b = new flatbuffers.Builder(1024);
  const floats = (xs) => { b.startVector(4, xs.length, 4); for (let i = xs.length - 1; i >= 0; i--) b.addFloat32(xs[i]); return b.endVector(); };
  const tables = (offs) => { b.startVector(4, offs.length, 4); for (let i = offs.length - 1; i >= 0; i--) b.addOffset(offs[i]); return b.endVector(); };
  const s = (x) => b.createString(x);
  // input tensor: ImageProperties + NormalizationOptions + Stats
  const inName = s(inputNames[0]), inDesc = s(`Input image, ${opts.colorSpace} ${opts.width}x${opts.height}, normalised (x - ${opts.mean}) / ${opts.std}.`);
  b.startObject(2); b.addFieldInt32(0, opts.width, 0); b.addFieldInt32(1, opts.height, 0); const size = b.endObject(); // ImageSize
  b.startObject(2); b.addFieldInt8(0, COLOR_SPACE[opts.colorSpace], 0); b.addFieldOffset(1, size, 0); const imgProps = b.endObject(); // ImageProperties
  b.startObject(3); b.addFieldInt8(0, CONTENT_IMAGE_PROPERTIES, 0); b.addFieldOffset(1, imgProps, 0); const content = b.endObject(); // Content
  const mean = floats([opts.mean]), std = floats([opts.std]);
  b.startObject(2); b.addFieldOffset(0, mean, 0); b.addFieldOffset(1, std, 0); const norm = b.endObject(); // NormalizationOptions
  b.startObject(2); b.addFieldInt8(0, PROCESS_UNIT_NORMALIZATION, 0); b.addFieldOffset(1, norm, 0); const pu = b.endObject(); // ProcessUnit
  const pus = tables([pu]);
  const smax = floats([(255 - opts.mean) / opts.std]), smin = floats([(0 - opts.mean) / opts.std]);
  b.startObject(2); b.addFieldOffset(0, smax, 0); b.addFieldOffset(1, smin, 0); const stats = b.endObject(); // Stats
  b.startObject(7); b.addFieldOffset(0, inName, 0); b.addFieldOffset(1, inDesc, 0); b.addFieldOffset(3, content, 0);
  b.addFieldOffset(4, pus, 0); b.addFieldOffset(5, stats, 0); const inMeta = b.endObject(); // TensorMetadata
  // output tensors: names only (the task graph decodes them itself)
  const outMetas = outputNames.map((n) => { const o = s(n); b.startObject(7); b.addFieldOffset(0, o, 0); return b.endObject(); });
  const ins = tables([inMeta]), outs = tables(outMetas);
  b.startObject(10); b.addFieldOffset(2, ins, 0); b.addFieldOffset(3, outs, 0); const sub = b.endObject(); // SubGraphMetadata
  const subs = tables([sub]);
  const name = s(opts.name), desc = s(opts.description), version = opts.version ? s(opts.version) : 0, minParser = s('1.0.0');
  b.startObject(8); b.addFieldOffset(0, name, 0); b.addFieldOffset(1, desc, 0); if (version) b.addFieldOffset(2, version, 0);
  b.addFieldOffset(3, subs, 0); b.addFieldOffset(7, minParser, 0); const root = b.endObject(); // ModelMetadata
  b.finish(root, 'M001');
  return b.asUint8Array().slice();
}

/**
 * @param {Uint8Array} tfliteBytes original model (no TFLITE_METADATA)
 * @param {{width:number,height:number,mean:number,std:number,colorSpace:'RGB'|'GRAYSCALE'|'UNKNOWN',name?:string,description?:string,version?:string}} opts
 * @returns {Uint8Array} patched model
 */
export function addImageInputMetadata(tfliteBytes, opts) {
  const o = { name: 'BlazeFace short-range', description: 'Face detector (input image only metadata added for MediaPipe Tasks).', ...opts };
  if (!(o.colorSpace in COLOR_SPACE)) throw new Error('colorSpace must be RGB, GRAYSCALE or UNKNOWN');
  const old = tfliteBytes;
  const { r, model, inputs, outputs, buffers, metadata } = describeTflite(old);
  if (inputs.length !== 1) throw new Error(`expected 1 input tensor, got ${inputs.length}`);
  if (metadata.some((m) => m.name === 'TFLITE_METADATA')) throw new Error('model already has TFLITE_METADATA');
  if (r.numFields(model) > 8) throw new Error('Model table has fields unknown to this script; refusing to rebuild it');
  const metaBytes = buildModelMetadata(o, inputs, outputs);

  const b = new flatbuffers.Builder(old.length + metaBytes.length + 4096);
  // 1. the original file, last in the output, its start 16-byte aligned (zero pad after it)
  b.prep(16, old.length);
  for (let i = old.length - 1; i >= 0; i--) b.writeInt8(old[i]);
  const base = b.offset(); // builder offset of old position 0; old position p -> base - p
  const oldRef = (p) => base - p;
  // 2. new Buffer holding the metadata flatbuffer (data is [ubyte] (force_align: 16))
  b.startVector(1, metaBytes.length, 16);
  for (let i = metaBytes.length - 1; i >= 0; i--) b.writeInt8(metaBytes[i]);
  const data = b.endVector();
  b.startObject(3); b.addFieldOffset(0, data, 0); const newBuffer = b.endObject();
  const nameOff = b.createString('TFLITE_METADATA');
  b.startObject(2); b.addFieldOffset(0, nameOff, 0); b.addFieldInt32(1, buffers.length, 0); const newMeta = b.endObject();
  const vec = (offs) => { b.startVector(4, offs.length, 4); for (let i = offs.length - 1; i >= 0; i--) b.addOffset(offs[i]); return b.endVector(); };
  const buffersVec = vec([...buffers.map(oldRef), newBuffer]);
  const metadataVec = vec([...r.tables(model, M.metadata).map(oldRef), newMeta]);
  // 3. new root Model table: same fields, two new vectors
  b.startObject(8);
  b.addFieldInt32(M.version, r.u32f(model, M.version), 0);
  for (const f of [M.operator_codes, M.subgraphs, M.description, M.metadata_buffer, M.signature_defs]) {
    const p = r.obj(model, f); if (p) b.addFieldOffset(f, oldRef(p), 0);
  }
  b.addFieldOffset(M.buffers, buffersVec, 0);
  b.addFieldOffset(M.metadata, metadataVec, 0);
  b.finish(b.endObject(), 'TFL3');
  const out = b.asUint8Array().slice();
  verifyPatched(old, out, o);
  return out;
}

/** Re-read the output: original bytes intact, same sub-objects, metadata as asked. */
export function verifyPatched(old, out, o) {
  const fail = (m) => { throw new Error('metadata patch verification failed: ' + m); };
  const start = out.length - old.length - ((16 - (old.length % 16)) % 16);
  if (start % 16) fail('original bytes not 16-byte aligned');
  if (Buffer.compare(out.subarray(start, start + old.length), old) !== 0) fail('original bytes changed');
  const a = describeTflite(old), n = describeTflite(out);
  for (const f of [M.operator_codes, M.subgraphs, M.description, M.metadata_buffer, M.signature_defs]) {
    const po = a.r.obj(a.model, f), pn = n.r.obj(n.model, f);
    if ((po ? po + start : 0) !== pn) fail(`model field ${f} does not point at the original object`);
  }
  if (n.r.u32f(n.model, M.version) !== a.r.u32f(a.model, M.version)) fail('version');
  if (n.buffers.length !== a.buffers.length + 1 || a.buffers.some((p, i) => p + start !== n.buffers[i])) fail('buffers');
  const entry = n.metadata.find((m) => m.name === 'TFLITE_METADATA');
  if (!entry || entry.buffer !== a.buffers.length) fail('TFLITE_METADATA entry');
  const data = n.r.bytesField(n.buffers[entry.buffer], 0);
  if ((data.byteOffset - out.byteOffset) % 16) fail('metadata buffer not 16-byte aligned');
  const m = reader(data);
  if (m.ident() !== 'M001') fail('metadata identifier');
  const mm = m.root();
  if (m.strField(mm, 7) !== '1.0.0') fail('min_parser_version');
  const [sub] = m.tables(mm, 3);
  const ins = m.tables(sub, 2), outs = m.tables(sub, 3);
  if (ins.length !== n.inputs.length || outs.length !== n.outputs.length) fail('tensor metadata counts');
  const t = ins[0], content = m.obj(t, 3);
  if (m.u8(content, 0) !== CONTENT_IMAGE_PROPERTIES) fail('content type');
  const img = m.obj(content, 1), size = m.obj(img, 1);
  if (m.u8(img, 0) !== COLOR_SPACE[o.colorSpace] || m.u32f(size, 0) !== o.width || m.u32f(size, 1) !== o.height) fail('image properties');
  const [pu] = m.tables(t, 4), norm = m.obj(pu, 1);
  if (m.u8(pu, 0) !== PROCESS_UNIT_NORMALIZATION) fail('process unit type');
  const [mean] = m.floats(norm, 0), [std] = m.floats(norm, 1);
  if (mean !== Math.fround(o.mean) || std !== Math.fround(o.std)) fail(`normalization ${mean}/${std}`);
  return true;
}
