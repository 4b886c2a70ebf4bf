// @ts-check
/**
 * ONNX (NCHW) -> TF.js graph-model (NHWC) converter for small float32 CNNs, written for
 * fr_liveness.onnx from faceplugin-face-recognition-js@0.0.1 (a MiniFASNet-style PAD model,
 * pytorch 1.7 export, opset 9). The house style of tflite-to-tfjs.mjs: model.json with
 * modelTopology NodeDefs + weightsManifest + weights.bin, byte-for-byte deterministic.
 *
 * The converted graph takes NHWC [-1, H, W, C] (fr_liveness: [-1, 128, 128, 3]) in the SAME
 * channel order and value range as the ONNX input (fr_liveness: B, G, R, 0..255; see
 * bench/liveness/fr-liveness.ts), and returns `logits` (the ONNX output) and `probabilities`
 * (Softmax of the logits, appended here).
 *
 * What it does, and nothing more:
 *  - Conv, group 1          -> _FusedConv2D (fused_ops BiasAdd[, Prelu|Relu|Sigmoid]), filter
 *                              OIHW -> HWIO.
 *  - Conv, group = in chans -> FusedDepthwiseConv2dNative (same fused ops), filter
 *                              [C*M, 1, H, W] -> [H, W, C, M] (ONNX out channel c*M + m is TF's).
 *    Any other group count throws. Pads: VALID when zero, SAME where TF's SAME pads exactly the
 *    same rows / columns for the static input size, else EXPLICIT (explicit_paddings).
 *  - A PRelu with one slope per channel, a Relu or a Sigmoid that is the only consumer of a
 *    conv output is fused into the conv (the same function in the same kernel).
 *  - GlobalAveragePool      -> Mean over axes [1, 2], keep_dims (NHWC).
 *  - Add / Mul of two 4-D activations (residuals; squeeze-excitation's [N,C,H,W] x [N,C,1,1])
 *                           -> AddV2 / Mul: NumPy broadcasting is unchanged by permuting both.
 *  - Shape / Constant / Gather / Unsqueeze / Concat feeding a Reshape are folded at conversion
 *    time (the batch is kept symbolic) into one Reshape with a constant int32 target
 *    (fr_liveness: [-1, 512]). Reshaping NHWC [N, H, W, C] gives NCHW's order only when
 *    H = W = 1: asserted, anything else throws.
 *  - MatMul [N, K] x const [K, M] followed by its only consumer BatchNormalization (1-D, inference)
 *    -> _FusedMatMul with the BN folded in float64: W' = W * s, b' = beta - mean * s,
 *    s = gamma / sqrt(var + eps). A MatMul without a BN -> MatMul.
 *  - Weights are float32; float32 subnormals (0 < |w| < 2^-126, slow on WASM and irrelevant to the
 *    result) are zeroed and counted in userDefinedMetadata.zeroedDenormalWeights.
 *  - Batch is free: Placeholder [-1, ...].
 *
 * Everything else throws a clear Error. Pure JS (no Node-only imports).
 */
import { readOnnx } from './onnx-reader.mjs';

/**
 * @typedef {import('./onnx-reader.mjs').OnnxGraph} OnnxGraph
 * @typedef {import('./onnx-reader.mjs').OnnxNode} OnnxNode
 * @typedef {import('./onnx-reader.mjs').OnnxTensor} OnnxTensor
 * @typedef {import('./tflite-to-tfjs.mjs').NodeDef} NodeDef
 * @typedef {import('./tflite-to-tfjs.mjs').WeightSpec} WeightSpec
 * @typedef {import('./tflite-to-tfjs.mjs').GraphModelJson} GraphModelJson
 */

const CONVERTED_BY = 'face-login onnx-to-tfjs';
const FLT_MIN = 1.1754943508222875e-38;

function b64(/** @type {string} */ s) {
  let bin = '';
  for (const ch of new TextEncoder().encode(s)) bin += String.fromCharCode(ch);
  return btoa(bin);
}
const attrType = (/** @type {'DT_FLOAT'|'DT_INT32'} */ t) => ({ type: t });
const attrStr = (/** @type {string} */ s) => ({ s: b64(s) });
const attrInt = (/** @type {number} */ i) => ({ i: String(i) });
const attrInts = (/** @type {number[]} */ xs) => ({ list: { i: xs.map(String) } });
const attrStrs = (/** @type {string[]} */ xs) => ({ list: { s: xs.map(b64) } });
const attrShape = (/** @type {number[]} */ dims) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } });
const numel = (/** @type {number[]} */ s) => s.reduce((a, b) => a * b, 1);
const sanitize = (/** @type {string} */ name) => name.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[^A-Za-z0-9.]+/, '') || 't';
/** The symbolic batch in folded shape values. */
const BATCH = 'N';

/**
 * Convert an ONNX model into a TF.js graph model.
 * @param {Uint8Array} onnxBytes
 * @param {{ inputName?: string, logitsName?: string, probabilitiesName?: string, fuseActivations?: boolean, zeroDenormals?: boolean }} [options]
 *   fuseActivations (default true) can be turned off to get one node per activation;
 *   zeroDenormals (default true) off keeps float32 subnormal weights as they are.
 * @returns {{ modelJson: GraphModelJson, weightData: Uint8Array, stats: { zeroedDenormalWeights: number, fused: number, ops: Record<string, number> } }}
 */
export function convertOnnxToGraphModel(onnxBytes, options = {}) {
  const { inputName = 'input', logitsName = 'logits', probabilitiesName = 'probabilities', fuseActivations = true, zeroDenormals = true } = options;
  const g = readOnnx(onnxBytes);
  if (g.opsets.some((o) => (o.domain === '' || o.domain === 'ai.onnx') && o.version > 12)) {
    throw new Error(`onnx-to-tfjs: opset ${JSON.stringify(g.opsets)} is not supported (Unsqueeze with an axes attribute needs opset < 13)`);
  }
  if (g.inputs.length !== 1 || g.outputs.length !== 1) throw new Error(`onnx-to-tfjs: expected 1 input and 1 output, found ${g.inputs.length} and ${g.outputs.length}`);
  const inp = g.inputs[0];
  if (inp.dtype !== 'float32' || inp.shape.length !== 4 || inp.shape.slice(1).some((d) => typeof d !== 'number')) {
    throw new Error(`onnx-to-tfjs: the input must be float32 NCHW with static C, H, W; got ${inp.dtype} [${inp.shape}]`);
  }
  const [, C0, H0, W0] = /** @type {number[]} */ (inp.shape);

  // ---- weights: float32 subnormals zeroed (counted) ----
  let zeroedDenormalWeights = 0;
  /** @param {Float32Array} a */
  const flush = (a) => {
    if (!zeroDenormals) return a;
    for (let i = 0; i < a.length; i++) if (a[i] !== 0 && Math.abs(a[i]) < FLT_MIN) { a[i] = 0; zeroedDenormalWeights++; }
    return a;
  };

  /** consumers of each tensor name */
  /** @type {Map<string, OnnxNode[]>} */
  const users = new Map();
  for (const n of g.nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  for (const o of g.outputs) users.set(o.name, [...(users.get(o.name) ?? []), /** @type {any} */ ({ opType: '<graph output>' })]);
  /** @param {string} t */
  const onlyUser = (t) => { const u = users.get(t) ?? []; return u.length === 1 ? u[0] : null; };
  /** @param {string} name */
  const constOf = (name) => {
    const t = g.initializers.get(name);
    if (!t) return null;
    return t;
  };
  /** @param {string} name @param {string} where @returns {{ dims: number[], data: Float32Array }} */
  const floatConst = (name, where) => {
    const t = constOf(name);
    if (!t || t.dtype !== 'float32') throw new Error(`onnx-to-tfjs: ${where}: "${name}" must be a float32 initializer`);
    return { dims: t.dims, data: /** @type {Float32Array} */ (t.data) };
  };
  /** Integer tensor values as numbers. @param {OnnxTensor} t */
  const intValues = (t) => Array.from(/** @type {ArrayLike<number|bigint>} */ (t.data), (d) => Number(d));

  /** @type {NodeDef[]} */
  const nodes = [];
  /** @type {WeightSpec[]} */
  const weights = [];
  /** @type {Uint8Array[]} */
  const chunks = [];
  let weightBytes = 0;
  const usedNames = new Set([logitsName, probabilitiesName]);
  /** @param {string} base */
  const uniqueName = (base) => { let n = sanitize(base); for (let k = 1; usedNames.has(n); k++) n = `${sanitize(base)}_${k}`; usedNames.add(n); return n; };

  /** @param {string} baseName @param {Float32Array|Int32Array} data @param {number[]} shape */
  function addConst(baseName, data, shape) {
    if (numel(shape) !== data.length) throw new Error(`onnx-to-tfjs: const ${baseName} shape/data mismatch`);
    const dtype = data instanceof Float32Array ? 'float32' : 'int32';
    const tf = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    const name = uniqueName(baseName);
    nodes.push({ name, op: 'Const', attr: { dtype: attrType(tf), value: { tensor: { dtype: tf, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    weights.push({ name, shape: [...shape], dtype });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    chunks.push(bytes);
    weightBytes += bytes.length;
    return name;
  }

  /**
   * What each ONNX tensor is on the TF side: an activation (node name + static NCHW shape, batch
   * as -1; 4-D ones are NHWC in TF) or a folded shape value.
   * @type {Map<string, { node: string, nchw: number[] } | { value: (number|string)[] }>}
   */
  const vals = new Map();
  const inName = uniqueName(inputName);
  nodes.push({ name: inName, op: 'Placeholder', attr: { dtype: attrType('DT_FLOAT'), shape: attrShape([-1, H0, W0, C0]) } });
  vals.set(inp.name, { node: inName, nchw: [-1, C0, H0, W0] });
  /** @param {string} t @param {string} where */
  const act = (t, where) => {
    const v = vals.get(t);
    if (!v || !('node' in v)) throw new Error(`onnx-to-tfjs: ${where}: "${t}" is not an activation produced earlier (constant activations are not supported)`);
    return v;
  };
  /** @param {string} t @param {string} where @returns {(number|string)[]} */
  const shapeValue = (t, where) => {
    const v = vals.get(t);
    if (v && 'value' in v) return v.value;
    const c = constOf(t);
    if (c && c.dtype !== 'float32') return intValues(c);
    throw new Error(`onnx-to-tfjs: ${where}: "${t}" is not a constant or folded shape value`);
  };

  const skip = new Set();
  let fused = 0;
  const ops = /** @type {Record<string, number>} */ ({});
  const note = (/** @type {string} */ op) => { ops[op] = (ops[op] ?? 0) + 1; };

  for (const node of g.nodes) {
    if (skip.has(node)) continue;
    const where = `${node.opType} "${node.name || node.outputs[0]}"`;
    const a = node.attrs;
    const out = node.outputs[0];
    if (node.outputs.filter(Boolean).length !== 1) throw new Error(`onnx-to-tfjs: ${where} has ${node.outputs.length} outputs`);
    switch (node.opType) {
      case 'Conv': {
        const x = act(node.inputs[0], where);
        const wT = floatConst(node.inputs[1], where);
        const bT = node.inputs[2] ? floatConst(node.inputs[2], where) : null;
        if (a.auto_pad !== undefined && a.auto_pad !== 'NOTSET') throw new Error(`onnx-to-tfjs: ${where}: auto_pad ${a.auto_pad} is not supported`);
        if (x.nchw.length !== 4 || wT.dims.length !== 4) throw new Error(`onnx-to-tfjs: ${where}: only 2-D convolutions are supported`);
        const [, C, H, W] = x.nchw;
        const [M, Cg, KH, KW] = wT.dims;
        const group = /** @type {number} */ (a.group ?? 1);
        const [sh, sw] = /** @type {number[]} */ (a.strides ?? [1, 1]);
        const [dh, dw] = /** @type {number[]} */ (a.dilations ?? [1, 1]);
        const [pt, pl, pb, pr] = /** @type {number[]} */ (a.pads ?? [0, 0, 0, 0]);
        const OH = Math.floor((H + pt + pb - dh * (KH - 1) - 1) / sh) + 1;
        const OW = Math.floor((W + pl + pr - dw * (KW - 1) - 1) / sw) + 1;
        const w = wT.data;
        let depthwise;
        /** @type {Float32Array} */
        let filter;
        /** @type {number[]} */
        let fshape;
        if (group === 1) {
          if (Cg !== C) throw new Error(`onnx-to-tfjs: ${where}: filter in-channels ${Cg} != input channels ${C}`);
          depthwise = false;
          filter = new Float32Array(w.length);
          for (let o = 0; o < M; o++) for (let i = 0; i < C; i++) for (let h = 0; h < KH; h++) for (let k = 0; k < KW; k++) filter[((h * KW + k) * C + i) * M + o] = /** @type {number} */ (w[((o * C + i) * KH + h) * KW + k]);
          fshape = [KH, KW, C, M];
        } else if (group === C && Cg === 1 && M % C === 0) {
          depthwise = true;
          const mult = M / C;
          filter = new Float32Array(w.length);
          for (let o = 0; o < M; o++) for (let h = 0; h < KH; h++) for (let k = 0; k < KW; k++) filter[(h * KW + k) * M + o] = /** @type {number} */ (w[(o * KH + h) * KW + k]);
          fshape = [KH, KW, C, mult];
        } else {
          throw new Error(`onnx-to-tfjs: ${where}: grouped convolution (group ${group}, ${C} input channels, filter [${wT.dims}]) is not supported, only group 1 or depthwise`);
        }
        // TF's SAME for this static size, or explicit pads.
        const same = (/** @type {number} */ n, /** @type {number} */ k, /** @type {number} */ s, /** @type {number} */ d, /** @type {number} */ on) => {
          const total = Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);
          return Math.ceil(n / s) === on ? [Math.floor(total / 2), total - Math.floor(total / 2)] : null;
        };
        const sH = same(H, KH, sh, dh, OH);
        const sW = same(W, KW, sw, dw, OW);
        let padding = 'EXPLICIT';
        if (pt === 0 && pl === 0 && pb === 0 && pr === 0) padding = 'VALID';
        else if (sH && sW && sH[0] === pt && sH[1] === pb && sW[0] === pl && sW[1] === pr) padding = 'SAME';
        const base = sanitize(out);
        const filterName = addConst(`${base}/filter`, flush(filter), fshape);
        const biasName = addConst(`${base}/bias`, flush(bT ? Float32Array.from(bT.data) : new Float32Array(M)), [M]);
        const fusedOps = ['BiasAdd'];
        const args = [biasName];
        let produced = out;
        const next = fuseActivations ? onlyUser(out) : null;
        if (next && next.opType === 'PRelu' && next.inputs[0] === out) {
          const s = constOf(next.inputs[1]);
          if (s && s.dtype === 'float32' && s.data.length === M && s.dims.length <= 3 && (s.dims.length < 2 || s.dims.slice(1).every((d) => d === 1))) {
            fusedOps.push('Prelu');
            args.push(addConst(`${base}/prelu_alpha`, flush(Float32Array.from(/** @type {Float32Array} */ (s.data))), [M]));
            produced = next.outputs[0];
            skip.add(next);
          }
        } else if (next && (next.opType === 'Relu' || next.opType === 'Sigmoid')) {
          fusedOps.push(next.opType);
          produced = next.outputs[0];
          skip.add(next);
        }
        if (produced !== out) fused++;
        /** @type {Record<string, any>} */
        const attr = {
          T: attrType('DT_FLOAT'),
          data_format: attrStr('NHWC'),
          dilations: attrInts([1, dh, dw, 1]),
          fused_ops: attrStrs(fusedOps),
          num_args: attrInt(args.length),
          padding: attrStr(padding),
          strides: attrInts([1, sh, sw, 1]),
          explicit_paddings: padding === 'EXPLICIT' ? attrInts([0, 0, pt, pb, pl, pr, 0, 0]) : { list: {} },
        };
        if (!depthwise) {
          attr.epsilon = { f: 0 };
          attr.use_cudnn_on_gpu = { b: true };
        }
        const name = uniqueName(produced);
        const op = depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D';
        note(op);
        nodes.push({ name, op, input: [x.node, filterName, ...args], attr });
        vals.set(produced, { node: name, nchw: [-1, M, OH, OW] });
        break;
      }
      case 'PRelu':
      case 'Relu':
      case 'Sigmoid': {
        const x = act(node.inputs[0], where);
        const name = uniqueName(out);
        if (node.opType === 'PRelu') {
          const s = floatConst(node.inputs[1], where);
          const Cx = x.nchw[1];
          if (s.data.length !== Cx || (s.dims.length >= 2 && !s.dims.slice(1).every((d) => d === 1))) throw new Error(`onnx-to-tfjs: ${where}: only one slope per channel is supported, got [${s.dims}]`);
          const alpha = addConst(`${sanitize(out)}/alpha`, flush(Float32Array.from(s.data)), [Cx]);
          nodes.push({ name, op: 'Prelu', input: [x.node, alpha], attr: { T: attrType('DT_FLOAT') } });
        } else {
          nodes.push({ name, op: node.opType, input: [x.node], attr: { T: attrType('DT_FLOAT') } });
        }
        note(node.opType);
        vals.set(out, { node: name, nchw: x.nchw });
        break;
      }
      case 'Add':
      case 'Mul': {
        const x = act(node.inputs[0], where);
        const y = act(node.inputs[1], where);
        if (x.nchw.length !== y.nchw.length) throw new Error(`onnx-to-tfjs: ${where}: operands of rank ${x.nchw.length} and ${y.nchw.length} are not supported`);
        const shape = x.nchw.map((d, i) => {
          const e = y.nchw[i];
          if (d !== e && d !== 1 && e !== 1) throw new Error(`onnx-to-tfjs: ${where}: [${x.nchw}] and [${y.nchw}] do not broadcast`);
          return d === 1 ? e : d;
        });
        const name = uniqueName(out);
        const op = node.opType === 'Add' ? 'AddV2' : 'Mul';
        note(op);
        nodes.push({ name, op, input: [x.node, y.node], attr: { T: attrType('DT_FLOAT') } });
        vals.set(out, { node: name, nchw: shape });
        break;
      }
      case 'GlobalAveragePool': {
        const x = act(node.inputs[0], where);
        if (x.nchw.length !== 4) throw new Error(`onnx-to-tfjs: ${where}: only 4-D inputs are supported`);
        const axes = addConst(`${sanitize(out)}/axes`, Int32Array.from([1, 2]), [2]);
        const name = uniqueName(out);
        note('Mean');
        nodes.push({ name, op: 'Mean', input: [x.node, axes], attr: { T: attrType('DT_FLOAT'), Tidx: attrType('DT_INT32'), keep_dims: { b: true } } });
        vals.set(out, { node: name, nchw: [x.nchw[0], x.nchw[1], 1, 1] });
        break;
      }
      // ---- the flatten chain, folded ----
      case 'Shape': {
        const x = act(node.inputs[0], where);
        vals.set(out, { value: x.nchw.map((d, i) => (i === 0 ? BATCH : d)) });
        break;
      }
      case 'Constant': {
        const v = a.value;
        if (!v || typeof v !== 'object' || Array.isArray(v) || v.dtype === 'float32') throw new Error(`onnx-to-tfjs: ${where}: only integer tensor constants (shape arithmetic) are supported`);
        vals.set(out, { value: intValues(v) });
        break;
      }
      case 'Gather': {
        const data = shapeValue(node.inputs[0], where);
        const idx = shapeValue(node.inputs[1], where);
        if ((a.axis ?? 0) !== 0) throw new Error(`onnx-to-tfjs: ${where}: only axis 0 of a shape vector is supported`);
        vals.set(out, { value: idx.map((i) => data[/** @type {number} */ (i) < 0 ? /** @type {number} */ (i) + data.length : /** @type {number} */ (i)]) });
        break;
      }
      case 'Unsqueeze': {
        const axes = /** @type {number[]} */ (a.axes);
        if (!axes || axes.join() !== '0') throw new Error(`onnx-to-tfjs: ${where}: only Unsqueeze(axes=[0]) of a folded scalar is supported`);
        vals.set(out, { value: shapeValue(node.inputs[0], where) });
        break;
      }
      case 'Concat': {
        if ((a.axis ?? 0) !== 0) throw new Error(`onnx-to-tfjs: ${where}: only axis 0 of shape vectors is supported`);
        vals.set(out, { value: node.inputs.flatMap((i) => shapeValue(i, where)) });
        break;
      }
      case 'Reshape': {
        const x = act(node.inputs[0], where);
        const target = shapeValue(node.inputs[1], where).map((d, i) => (d === 0 ? (i === 0 ? BATCH : x.nchw[i]) : d));
        if (target[0] !== BATCH && target[0] !== -1) throw new Error(`onnx-to-tfjs: ${where}: the target [${target}] must keep the batch first`);
        const rest = target.slice(1).map(Number);
        if (rest.some((d) => !Number.isInteger(d) || d < -1) || rest.filter((d) => d === -1).length > 1) throw new Error(`onnx-to-tfjs: ${where}: cannot resolve the target [${target}]`);
        const per = numel(x.nchw.slice(1));
        const known = numel(rest.filter((d) => d !== -1));
        const resolved = rest.map((d) => (d === -1 ? per / known : d));
        if (numel(resolved) !== per || !resolved.every(Number.isInteger)) throw new Error(`onnx-to-tfjs: ${where}: cannot reshape [${x.nchw}] to [${target}]`);
        if (x.nchw.length === 4 && !(x.nchw[2] === 1 && x.nchw[3] === 1)) {
          throw new Error(`onnx-to-tfjs: ${where}: reshaping a 4-D activation [${x.nchw}] with H or W > 1: NHWC and NCHW orders differ (a Transpose would be needed; not supported)`);
        }
        if (x.nchw.length !== 4 && x.nchw.length !== 2) throw new Error(`onnx-to-tfjs: ${where}: only 4-D or 2-D inputs are supported`);
        if (resolved.length !== 1) throw new Error(`onnx-to-tfjs: ${where}: only a flatten to [N, K] is supported, got [${target}]`);
        const shapeName = addConst(`${sanitize(out)}/shape`, Int32Array.from([-1, ...resolved]), [1 + resolved.length]);
        const name = uniqueName(out);
        note('Reshape');
        nodes.push({ name, op: 'Reshape', input: [x.node, shapeName], attr: { T: attrType('DT_FLOAT'), Tshape: attrType('DT_INT32') } });
        vals.set(out, { node: name, nchw: [-1, ...resolved] });
        break;
      }
      case 'MatMul': {
        const x = act(node.inputs[0], where);
        const wT = floatConst(node.inputs[1], where);
        if (x.nchw.length !== 2 || wT.dims.length !== 2 || wT.dims[0] !== x.nchw[1]) throw new Error(`onnx-to-tfjs: ${where}: only [N, K] x const [K, M] is supported, got [${x.nchw}] x [${wT.dims}]`);
        const [K, M] = wT.dims;
        const next = onlyUser(out);
        const base = sanitize(out);
        if (next && next.opType === 'BatchNormalization' && next.inputs[0] === out && next.outputs.filter(Boolean).length === 1) {
          const [gm, bt, mu, vr] = next.inputs.slice(1, 5).map((n) => floatConst(n, `${where} + BatchNormalization`).data);
          if ([gm, bt, mu, vr].some((t) => t.length !== M)) throw new Error(`onnx-to-tfjs: ${where}: BatchNormalization size does not match ${M}`);
          const eps = /** @type {number} */ (next.attrs.epsilon ?? 1e-5);
          const s = Array.from({ length: M }, (_, m) => gm[m] / Math.sqrt(vr[m] + eps));
          const wf = new Float32Array(K * M);
          for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) wf[k * M + m] = /** @type {number} */ (wT.data[k * M + m]) * s[m];
          const bf = Float32Array.from({ length: M }, (_, m) => bt[m] - mu[m] * s[m]);
          const wn = addConst(`${base}/weights_bn_folded`, flush(wf), [K, M]);
          const bn = addConst(`${base}/bias_bn_folded`, flush(bf), [M]);
          const produced = next.outputs[0];
          skip.add(next);
          const name = uniqueName(produced);
          note('_FusedMatMul');
          nodes.push({ name, op: '_FusedMatMul', input: [x.node, wn, bn], attr: { T: attrType('DT_FLOAT'), fused_ops: attrStrs(['BiasAdd']), num_args: attrInt(1), transpose_a: { b: false }, transpose_b: { b: false }, epsilon: { f: 0 } } });
          vals.set(produced, { node: name, nchw: [-1, M] });
        } else {
          const wn = addConst(`${base}/weights`, flush(Float32Array.from(wT.data)), [K, M]);
          const name = g.outputs[0].name === out ? logitsName : uniqueName(out);
          note('MatMul');
          nodes.push({ name, op: 'MatMul', input: [x.node, wn], attr: { T: attrType('DT_FLOAT'), transpose_a: { b: false }, transpose_b: { b: false } } });
          vals.set(out, { node: name, nchw: [-1, M] });
        }
        break;
      }
      default:
        throw new Error(`onnx-to-tfjs: ${where} is not supported`);
    }
  }

  const outT = act(g.outputs[0].name, 'graph output');
  if (outT.nchw.length !== 2) throw new Error(`onnx-to-tfjs: the output must be [N, classes], got [${outT.nchw}]`);
  if (outT.node !== logitsName) nodes.push({ name: logitsName, op: 'Identity', input: [outT.node], attr: { T: attrType('DT_FLOAT') } });
  nodes.push({ name: probabilitiesName, op: 'Softmax', input: [logitsName], attr: { T: attrType('DT_FLOAT') } });

  const weightData = new Uint8Array(weightBytes);
  let off = 0;
  for (const c of chunks) { weightData.set(c, off); off += c.length; }
  const outShape = attrShape(outT.nchw).shape;
  /** @type {GraphModelJson} */
  const modelJson = {
    format: 'graph-model',
    generatedBy: `ONNX IR v${g.irVersion}, opset ${g.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(',')}${g.producer ? ` (${g.producer})` : ''}`,
    convertedBy: CONVERTED_BY,
    signature: {
      inputs: { [inputName]: { name: `${inName}:0`, dtype: 'DT_FLOAT', tensorShape: attrShape([-1, H0, W0, C0]).shape } },
      outputs: {
        [logitsName]: { name: `${logitsName}:0`, dtype: 'DT_FLOAT', tensorShape: outShape },
        [probabilitiesName]: { name: `${probabilitiesName}:0`, dtype: 'DT_FLOAT', tensorShape: outShape },
      },
    },
    userDefinedMetadata: {
      onnxNodes: g.nodes.length,
      inputLayout: 'NHWC (the ONNX graph is NCHW; same channel order and value range)',
      fusedActivations: fused,
      zeroedDenormalWeights,
    },
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  return { modelJson, weightData, stats: { zeroedDenormalWeights, fused, ops } };
}
