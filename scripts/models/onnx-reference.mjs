// @ts-check
/**
 * Float64 reference interpreter for small ONNX CNN graphs (NCHW, as ONNX defines them), used to
 * check conversions (onnx-to-tfjs.mjs) to ~1e-5. Written for fr_liveness.onnx
 * (faceplugin-face-recognition-js@0.0.1, a MiniFASNet-style PAD model, opset 9) and nothing more:
 *
 *   Conv (any group count, explicit pads, strides, dilations; auto_pad NOTSET only), PRelu,
 *   Add, Mul (NumPy broadcasting), Relu, Sigmoid, GlobalAveragePool, Shape, Constant, Gather,
 *   Unsqueeze (opset < 13: `axes` attribute), Concat, Reshape (0 and -1), MatMul (2-D),
 *   BatchNormalization (inference form, any rank >= 2).
 *
 * Anything else throws. Every value is a float64 (initializers are widened exactly); integer
 * tensors (shapes, indices) are float64 too, holding exact integers. Slow and simple on purpose.
 */
import { readOnnx } from './onnx-reader.mjs';

/**
 * @typedef {import('./onnx-reader.mjs').OnnxGraph} OnnxGraph
 * @typedef {import('./onnx-reader.mjs').OnnxNode} OnnxNode
 * @typedef {{ shape: number[], data: Float64Array, int?: boolean }} RefTensor
 */

/** @param {number[]} s */
const numel = (s) => s.reduce((a, b) => a * b, 1);
/** @param {number[]} s */
function strides(s) {
  const st = new Array(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) st[i] = st[i + 1] * s[i + 1];
  return st;
}

/** @param {import('./onnx-reader.mjs').OnnxTensor} t @returns {RefTensor} */
export function fromOnnxTensor(t) {
  const data = new Float64Array(t.data.length);
  if (t.data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) {
      const v = t.data[i];
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`onnx-reference: "${t.name}" holds ${v}, out of the safe range`);
      data[i] = Number(v);
    }
  } else data.set(t.data);
  return { shape: [...t.dims], data, int: t.dtype !== 'float32' };
}

/** NumPy broadcasting of two tensors with f. @param {RefTensor} a @param {RefTensor} b @param {(x: number, y: number) => number} f @param {string} where */
function broadcast(a, b, f, where) {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(rank - b.shape.length).fill(1), ...b.shape];
  const out = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error(`onnx-reference: ${where}: shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const so = strides(out);
  const sa = strides(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = strides(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  const n = numel(out);
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let ia = 0;
    let ib = 0;
    let r = k;
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(r / so[d]);
      r -= q * so[d];
      ia += q * sa[d];
      ib += q * sb[d];
    }
    data[k] = f(a.data[ia], b.data[ib]);
  }
  return { shape: out, data, int: Boolean(a.int && b.int) };
}

/** @param {RefTensor} x @param {RefTensor} w @param {RefTensor|undefined} b @param {OnnxNode} node */
function conv(x, w, b, node) {
  const a = node.attrs;
  if (a.auto_pad !== undefined && a.auto_pad !== 'NOTSET') throw new Error(`onnx-reference: Conv "${node.name}": auto_pad ${a.auto_pad} is not supported`);
  if (x.shape.length !== 4 || w.shape.length !== 4) throw new Error(`onnx-reference: Conv "${node.name}": only 2-D convolutions are supported`);
  const [N, C, H, W] = x.shape;
  const [M, Cg, KH, KW] = w.shape;
  const group = /** @type {number} */ (a.group ?? 1);
  if (C !== Cg * group || M % group !== 0) throw new Error(`onnx-reference: Conv "${node.name}": ${C} input channels, filter [${w.shape}], group ${group} do not fit`);
  const [sh, sw] = /** @type {number[]} */ (a.strides ?? [1, 1]);
  const [dh, dw] = /** @type {number[]} */ (a.dilations ?? [1, 1]);
  const [pt, pl, pb, pr] = /** @type {number[]} */ (a.pads ?? [0, 0, 0, 0]);
  if (a.kernel_shape && /** @type {number[]} */ (a.kernel_shape).join() !== `${KH},${KW}`) throw new Error(`onnx-reference: Conv "${node.name}": kernel_shape does not match the filter`);
  const OH = Math.floor((H + pt + pb - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (KW - 1) - 1) / sw) + 1;
  const Mg = M / group;
  const out = new Float64Array(N * M * OH * OW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      const bias = b ? b.data[m] : 0;
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = bias;
          for (let c = 0; c < Cg; c++) {
            const xc = ((n * C + g * Cg + c) * H) * W;
            const wc = ((m * Cg + c) * KH) * KW;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * sh - pt + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= W) continue;
                s += x.data[xc + iy * W + ix] * w.data[wc + ky * KW + kx];
              }
            }
          }
          out[((n * M + m) * OH + oy) * OW + ox] = s;
        }
    }
  return { shape: [N, M, OH, OW], data: out };
}

/** @param {RefTensor} x @param {(v: number) => number} f @returns {RefTensor} */
const unary = (x, f) => ({ shape: x.shape, data: x.data.map(f) });

/** @param {RefTensor} t @param {string} what */
function intValues(t, what) {
  if (!t.int) throw new Error(`onnx-reference: ${what} must be an integer tensor`);
  return Array.from(t.data);
}

/**
 * Run one node. @param {OnnxNode} node @param {RefTensor[]} ins @returns {RefTensor}
 */
function runNode(node, ins) {
  const a = node.attrs;
  const where = `${node.opType} "${node.name || node.outputs[0]}"`;
  switch (node.opType) {
    case 'Conv':
      return conv(ins[0], ins[1], ins[2], node);
    case 'PRelu':
      return broadcast(ins[0], ins[1], (x, s) => (x < 0 ? s * x : x), where);
    case 'Add':
      return broadcast(ins[0], ins[1], (x, y) => x + y, where);
    case 'Mul':
      return broadcast(ins[0], ins[1], (x, y) => x * y, where);
    case 'Relu':
      return unary(ins[0], (v) => (v > 0 ? v : 0));
    case 'Sigmoid':
      return unary(ins[0], (v) => 1 / (1 + Math.exp(-v)));
    case 'GlobalAveragePool': {
      const [N, C, ...sp] = ins[0].shape;
      const S = numel(sp);
      const out = new Float64Array(N * C);
      for (let i = 0; i < N * C; i++) {
        let s = 0;
        for (let k = 0; k < S; k++) s += ins[0].data[i * S + k];
        out[i] = s / S;
      }
      return { shape: [N, C, ...sp.map(() => 1)], data: out };
    }
    case 'Shape':
      return { shape: [ins[0].shape.length], data: Float64Array.from(ins[0].shape), int: true };
    case 'Constant': {
      const v = a.value;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`onnx-reference: ${where}: only a tensor "value" is supported`);
      return fromOnnxTensor(v);
    }
    case 'Gather': {
      const [x, idx] = ins;
      const axis0 = /** @type {number} */ (a.axis ?? 0);
      const axis = axis0 < 0 ? axis0 + x.shape.length : axis0;
      const ind = intValues(idx, `${where} indices`).map((i) => (i < 0 ? i + x.shape[axis] : i));
      const outer = numel(x.shape.slice(0, axis));
      const inner = numel(x.shape.slice(axis + 1));
      const out = new Float64Array(outer * ind.length * inner);
      for (let o = 0; o < outer; o++)
        ind.forEach((i, j) => {
          if (i < 0 || i >= x.shape[axis]) throw new Error(`onnx-reference: ${where}: index out of range`);
          for (let k = 0; k < inner; k++) out[(o * ind.length + j) * inner + k] = x.data[(o * x.shape[axis] + i) * inner + k];
        });
      return { shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], data: out, int: x.int };
    }
    case 'Unsqueeze': {
      const axes = /** @type {number[]} */ (a.axes);
      if (!axes) throw new Error(`onnx-reference: ${where}: needs the axes attribute (opset < 13)`);
      const rank = ins[0].shape.length + axes.length;
      const norm = axes.map((x) => (x < 0 ? x + rank : x)).sort((p, q) => p - q);
      const shape = [...ins[0].shape];
      for (const ax of norm) shape.splice(ax, 0, 1);
      return { shape, data: ins[0].data, int: ins[0].int };
    }
    case 'Concat': {
      const r = ins[0].shape.length;
      const axis0 = /** @type {number} */ (a.axis);
      const axis = axis0 < 0 ? axis0 + r : axis0;
      const outer = numel(ins[0].shape.slice(0, axis));
      const shape = [...ins[0].shape];
      shape[axis] = ins.reduce((s, t) => s + t.shape[axis], 0);
      const parts = [];
      for (let o = 0; o < outer; o++)
        for (const t of ins) {
          const chunk = numel(t.shape.slice(axis));
          parts.push(...t.data.subarray(o * chunk, (o + 1) * chunk));
        }
      return { shape, data: Float64Array.from(parts), int: ins.every((t) => t.int) };
    }
    case 'Reshape': {
      const target = intValues(ins[1], `${where} shape`).map((d, i) => (d === 0 ? ins[0].shape[i] : d));
      const known = numel(target.filter((d) => d !== -1));
      const n = numel(ins[0].shape);
      const shape = target.map((d) => (d === -1 ? n / known : d));
      if (numel(shape) !== n || !shape.every(Number.isInteger)) throw new Error(`onnx-reference: ${where}: cannot reshape [${ins[0].shape}] to [${target}]`);
      return { shape, data: ins[0].data, int: ins[0].int };
    }
    case 'MatMul': {
      const [x, w] = ins;
      if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[0]) throw new Error(`onnx-reference: ${where}: only [N, K] x [K, M] is supported, got [${x.shape}] x [${w.shape}]`);
      const [N, K] = x.shape;
      const M = w.shape[1];
      const out = new Float64Array(N * M);
      for (let n = 0; n < N; n++)
        for (let m = 0; m < M; m++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += x.data[n * K + k] * w.data[k * M + m];
          out[n * M + m] = s;
        }
      return { shape: [N, M], data: out };
    }
    case 'BatchNormalization': {
      if (node.outputs.filter(Boolean).length !== 1) throw new Error(`onnx-reference: ${where}: training-mode outputs are not supported`);
      const [x, scale, bias, mean, variance] = ins;
      const eps = /** @type {number} */ (a.epsilon ?? 1e-5);
      const C = x.shape[1];
      const S = numel(x.shape.slice(2));
      const out = new Float64Array(x.data.length);
      for (let i = 0; i < x.data.length; i++) {
        const c = Math.floor(i / S) % C;
        out[i] = ((x.data[i] - mean.data[c]) / Math.sqrt(variance.data[c] + eps)) * scale.data[c] + bias.data[c];
      }
      return { shape: x.shape, data: out };
    }
    default:
      throw new Error(`onnx-reference: op ${node.opType} (${where}) is not supported`);
  }
}

/**
 * Run the graph on one NCHW float input.
 * @param {Uint8Array|OnnxGraph} model the .onnx bytes or readOnnx()'s result
 * @param {Float32Array|Float64Array} input NCHW, batch x the input's [C, H, W]
 * @param {number} batch
 * @param {{ onValue?: (name: string, t: RefTensor) => void }} [options] onValue sees every
 *   intermediate value (statistics, debugging)
 * @returns {{ name: string, shape: number[], data: Float64Array }[]} the graph outputs, in order
 */
export function runOnnxReference(model, input, batch, options = {}) {
  const g = model instanceof Uint8Array ? readOnnx(model) : model;
  if (g.inputs.length !== 1) throw new Error(`onnx-reference: expected 1 graph input, found ${g.inputs.length}`);
  const inp = g.inputs[0];
  const per = inp.shape.slice(1);
  if (per.some((d) => typeof d !== 'number')) throw new Error(`onnx-reference: input "${inp.name}" has a symbolic non-batch dim`);
  const shape = [batch, .../** @type {number[]} */ (per)];
  if (input.length !== numel(shape)) throw new Error(`onnx-reference: input has ${input.length} values, expected ${numel(shape)} for [${shape}]`);
  /** @type {Map<string, RefTensor>} */
  const env = new Map();
  for (const [k, t] of g.initializers) env.set(k, fromOnnxTensor(t));
  env.set(inp.name, { shape, data: Float64Array.from(input) });
  for (const node of g.nodes) {
    const ins = node.inputs.map((n) => {
      if (n === '') return /** @type {any} */ (undefined);
      const t = env.get(n);
      if (!t) throw new Error(`onnx-reference: ${node.opType} "${node.name}" reads "${n}" before it is produced`);
      return t;
    });
    const out = runNode(node, ins);
    env.set(node.outputs[0], out);
    options.onValue?.(node.outputs[0], out);
  }
  return g.outputs.map((o) => {
    const t = env.get(o.name);
    if (!t) throw new Error(`onnx-reference: output "${o.name}" was never produced`);
    return { name: o.name, shape: t.shape, data: t.data };
  });
}
