// @ts-check
/**
 * Independent, plain-JS float64 reference interpreter for float32 TFLite graphs
 * made of CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, ABS, RELU and RESHAPE, plus
 * DEQUANTIZE (FLOAT16 constants), LEAKY_RELU, MAX_POOL_2D, AVERAGE_POOL_2D,
 * FULLY_CONNECTED, STRIDED_SLICE, GREATER_EQUAL, LESS, CAST and CONCATENATION
 * (FaceAntiSpoofing.tflite), PAD (BlazeFace short range) and RESIZE_BILINEAR (BlazeFace full
 * range). Booleans are carried as 0 / 1.
 *
 * Works on NHWC activations and the TFLite weight layouts directly (conv OHWI,
 * depthwise [1,H,W,C*M]); shares nothing with tflite-to-tfjs.mjs except the
 * flatbuffer reader. Each op is evaluated exactly as written in the graph (the
 * written-out PReLU stays relu(x) + c*(x - |x|)). Slow but simple: it exists to
 * check conversions, not to run in production.
 *
 * The batch is free: shapes are recomputed from the actual input, and a RESHAPE
 * whose leading target dim is the model's fixed batch uses the actual batch.
 */
import { readTflite } from './tflite-reader.mjs';

/**
 * @typedef {{ shape: number[], data: Float64Array }} Value
 */

/** @param {number[]} s */
const numel = (s) => s.reduce((a, b) => a * b, 1);

/**
 * IEEE half bits -> number, through the float32 bit pattern (written independently of
 * the converter's decoder).
 * @param {Uint16Array} h @returns {Float64Array}
 */
function halfToNumbers(h) {
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const out = new Float64Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const sign = (h[i] & 0x8000) << 16;
    const e = (h[i] >> 10) & 0x1f;
    const m = h[i] & 0x3ff;
    if (e === 0) {
      out[i] = (sign ? -1 : 1) * m * 5.9604644775390625e-8; // m * 2^-24
      continue;
    }
    bits[0] = e === 31 ? sign | 0x7f800000 | (m << 13) : sign | ((e - 15 + 127) << 23) | (m << 13);
    out[i] = f[0];
  }
  return out;
}

/**
 * MAX_POOL_2D / AVERAGE_POOL_2D (padded cells are ignored: max over, and average over,
 * the cells inside the input only, as TFLite does).
 * @param {Value} x @param {any} o @param {boolean} isMax @returns {Value}
 */
function pool2d(x, o, isMax) {
  const [N, H, W, C] = x.shape;
  const [OH, padT] = convDim(o.padding, H, o.filterHeight, o.strideH, 1);
  const [OW, padL] = convDim(o.padding, W, o.filterWidth, o.strideW, 1);
  const out = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          let acc = isMax ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < o.filterHeight; ky++) {
            const iy = oy * o.strideH - padT + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < o.filterWidth; kx++) {
              const ix = ox * o.strideW - padL + kx;
              if (ix < 0 || ix >= W) continue;
              const v = x.data[((n * H + iy) * W + ix) * C + c];
              acc = isMax ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          out[((n * OH + oy) * OW + ox) * C + c] = isMax ? acc : acc / count;
        }
  applyActivation(o.fusedActivation, out);
  return { shape: [N, OH, OW, C], data: out };
}

/**
 * TFLite padding: returns [outSize, padBefore].
 * @param {'SAME'|'VALID'} padding @param {number} inSize @param {number} k
 * @param {number} stride @param {number} dil
 */
function convDim(padding, inSize, k, stride, dil) {
  const effK = (k - 1) * dil + 1;
  if (padding === 'SAME') {
    const out = Math.floor((inSize + stride - 1) / stride);
    const total = Math.max((out - 1) * stride + effK - inSize, 0);
    return [out, Math.floor(total / 2)];
  }
  const out = Math.floor((inSize - effK + stride) / stride);
  return [out, 0];
}

/** @param {string|undefined} act @param {Float64Array} d */
function applyActivation(act, d) {
  switch (act ?? 'NONE') {
    case 'NONE':
      return;
    case 'RELU':
      for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] = 0;
      return;
    case 'RELU6':
      for (let i = 0; i < d.length; i++) d[i] = Math.min(6, Math.max(0, d[i]));
      return;
    case 'RELU_N1_TO_1':
      for (let i = 0; i < d.length; i++) d[i] = Math.min(1, Math.max(-1, d[i]));
      return;
    case 'TANH':
      for (let i = 0; i < d.length; i++) d[i] = Math.tanh(d[i]);
      return;
    default:
      throw new Error(`tflite-reference: unsupported activation ${act}`);
  }
}

/**
 * CONV_2D with OHWI filter.
 * @param {Value} x @param {Float32Array} w @param {number[]} wShape @param {Float32Array|null} bias
 * @param {any} o options
 * @returns {Value}
 */
function conv2d(x, w, wShape, bias, o) {
  const [N, H, W, C] = x.shape;
  const [O, KH, KW, I] = wShape;
  if (I !== C) throw new Error(`tflite-reference: conv in-channels ${I} != ${C}`);
  const [OH, padT] = convDim(o.padding, H, KH, o.strideH, o.dilationH);
  const [OW, padL] = convDim(o.padding, W, KW, o.strideW, o.dilationW);
  const out = new Float64Array(N * OH * OW * O);
  const wd = Float64Array.from(w);
  const xd = x.data;
  const acc = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let oc = 0; oc < O; oc++) acc[oc] = bias ? bias[oc] : 0;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * o.strideH - padT + ky * o.dilationH;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * o.strideW - padL + kx * o.dilationW;
            if (ix < 0 || ix >= W) continue;
            const xBase = ((n * H + iy) * W + ix) * C;
            for (let oc = 0; oc < O; oc++) {
              const wBase = ((oc * KH + ky) * KW + kx) * I;
              let s = 0;
              for (let ic = 0; ic < C; ic++) s += xd[xBase + ic] * wd[wBase + ic];
              acc[oc] += s;
            }
          }
        }
        out.set(acc, ((n * OH + oy) * OW + ox) * O);
      }
    }
  }
  applyActivation(o.fusedActivation, out);
  return { shape: [N, OH, OW, O], data: out };
}

/**
 * DEPTHWISE_CONV_2D with [1,KH,KW,C*M] filter; output channel c*M+m reads input channel c.
 * @param {Value} x @param {Float32Array} w @param {number[]} wShape @param {Float32Array|null} bias
 * @param {any} o options
 * @returns {Value}
 */
function depthwiseConv2d(x, w, wShape, bias, o) {
  const [N, H, W, C] = x.shape;
  const [, KH, KW, OC] = wShape;
  const M = OC / C;
  if (!Number.isInteger(M)) throw new Error(`tflite-reference: depthwise channels ${OC} not a multiple of ${C}`);
  const [OH, padT] = convDim(o.padding, H, KH, o.strideH, o.dilationH);
  const [OW, padL] = convDim(o.padding, W, KW, o.strideW, o.dilationW);
  const out = new Float64Array(N * OH * OW * OC);
  const xd = x.data;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const oBase = ((n * OH + oy) * OW + ox) * OC;
        for (let oc = 0; oc < OC; oc++) {
          const ic = Math.floor(oc / M);
          let s = bias ? bias[oc] : 0;
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * o.strideH - padT + ky * o.dilationH;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * o.strideW - padL + kx * o.dilationW;
              if (ix < 0 || ix >= W) continue;
              s += xd[((n * H + iy) * W + ix) * C + ic] * w[(ky * KW + kx) * OC + oc];
            }
          }
          out[oBase + oc] = s;
        }
      }
    }
  }
  applyActivation(o.fusedActivation, out);
  return { shape: [N, OH, OW, OC], data: out };
}

/**
 * RESIZE_BILINEAR as TFLite's reference kernel computes it (reference_ops.h ResizeBilinear with
 * ComputeInterpolationValues): source position (o + 0.5) * in / out - 0.5 with half-pixel
 * centres (o * scale without; align_corners: scale (in - 1) / (out - 1)), taps floor (clamped at
 * 0) and ceil (clamped at in - 1), weights from the position's distance to the lower tap.
 * @param {Value} x @param {number[]} size [outH, outW] @param {{ alignCorners: boolean, halfPixelCenters: boolean }} o
 * @returns {Value}
 */
function resizeBilinear(x, size, o) {
  const [N, H, W, C] = x.shape;
  const [OH, OW] = size;
  const scale = (/** @type {number} */ i, /** @type {number} */ out) => (o.alignCorners && out > 1 ? (i - 1) / (out - 1) : i / out);
  /** @param {number} v @param {number} s @param {number} len */
  const interp = (v, s, len) => {
    const pos = o.halfPixelCenters ? (v + 0.5) * s - 0.5 : v * s;
    const lo = Math.max(Math.floor(pos), 0);
    const hi = Math.min(Math.ceil(pos), len - 1);
    return { pos, lo, hi };
  };
  const sy = scale(H, OH);
  const sx = scale(W, OW);
  const out = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < OH; y++) {
      const { pos: py, lo: y0, hi: y1 } = interp(y, sy, H);
      const dy = py - y0;
      for (let xo = 0; xo < OW; xo++) {
        const { pos: px, lo: x0, hi: x1 } = interp(xo, sx, W);
        const dx = px - x0;
        const at = (/** @type {number} */ yy, /** @type {number} */ xx, /** @type {number} */ c) => x.data[((n * H + yy) * W + xx) * C + c];
        const base = ((n * OH + y) * OW + xo) * C;
        for (let c = 0; c < C; c++) {
          out[base + c] = at(y0, x0, c) * (1 - dy) * (1 - dx) + at(y1, x0, c) * dy * (1 - dx) + at(y0, x1, c) * (1 - dy) * dx + at(y1, x1, c) * dy * dx;
        }
      }
    }
  return { shape: [N, OH, OW, C], data: out };
}

/**
 * Numpy-style broadcasting binary op.
 * @param {Value} a @param {Value} b @param {(p: number, q: number) => number} f
 * @returns {Value}
 */
function broadcast(a, b, f) {
  const rank = Math.max(a.shape.length, b.shape.length);
  const as = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const bs = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const os = as.map((d, i) => {
    if (d === bs[i] || bs[i] === 1) return d;
    if (d === 1) return bs[i];
    throw new Error(`tflite-reference: cannot broadcast [${a.shape}] with [${b.shape}]`);
  });
  const total = numel(os);
  const out = new Float64Array(total);
  // strides (0 where broadcast)
  /** @param {number[]} s */
  const strides = (s) => {
    const st = new Array(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const sa = strides(as);
  const sb = strides(bs);
  const idx = new Array(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let k = 0; k < total; k++) {
    out[k] = f(a.data[ia], b.data[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < os[d]) break;
      ia -= sa[d] * os[d];
      ib -= sb[d] * os[d];
      idx[d] = 0;
    }
  }
  return { shape: os, data: out };
}

/**
 * Run a single-output TFLite graph in float64.
 * @param {Uint8Array} tfliteBytes
 * @param {Float32Array|Float64Array} input  NHWC, `batch` images
 * @param {number} batch
 * @returns {Float64Array} flat output (batch x ...)
 */
export function runTfliteReference(tfliteBytes, input, batch) {
  const outs = runTfliteReferenceOutputs(tfliteBytes, input, batch);
  if (outs.length !== 1) throw new Error('tflite-reference: expected a single-input, single-output graph');
  return outs[0].data;
}

/**
 * Run the TFLite graph in float64; every graph output, in order.
 * @param {Uint8Array} tfliteBytes
 * @param {Float32Array|Float64Array} input  NHWC, `batch` images
 * @param {number} batch
 * @returns {Value[]}
 */
export function runTfliteReferenceOutputs(tfliteBytes, input, batch) {
  const g = readTflite(tfliteBytes);
  if (g.inputs.length !== 1) {
    throw new Error('tflite-reference: expected a single-input graph');
  }
  const inT = g.tensors[g.inputs[0]];
  const fixedBatch = inT.shape[0];
  const inShape = [batch, ...inT.shape.slice(1)];
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`tflite-reference: bad batch ${batch}`);
  if (input.length !== numel(inShape)) {
    throw new Error(`tflite-reference: input has ${input.length} values, [${inShape}] needs ${numel(inShape)}`);
  }

  /** @type {Map<number, Value>} */
  const values = new Map();
  values.set(g.inputs[0], { shape: inShape, data: Float64Array.from(input) });

  /** @param {number} t @returns {Value} */
  const get = (t) => {
    const v = values.get(t);
    if (v) return v;
    const tensor = g.tensors[t];
    if (tensor.data) {
      if (tensor.dtype === 'float16') throw new Error(`tflite-reference: FLOAT16 tensor "${tensor.name}" read without DEQUANTIZE`);
      const c = { shape: tensor.shape, data: Float64Array.from(tensor.data) };
      values.set(t, c);
      return c;
    }
    throw new Error(`tflite-reference: tensor ${t} ("${tensor.name}") has no value`);
  };

  for (const op of g.operators) {
    /** @type {Value} */
    let out;
    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const [xi, wi, bi = -1] = op.inputs;
        const wv = get(wi);
        const bias = bi >= 0 ? get(bi).data : null;
        out = op.op === 'CONV_2D'
          ? conv2d(get(xi), wv.data, wv.shape, bias, op.options)
          : depthwiseConv2d(get(xi), wv.data, wv.shape, bias, op.options);
        break;
      }
      case 'DEQUANTIZE': {
        const src = g.tensors[op.inputs[0]];
        if (src.dtype !== 'float16' || !(src.data instanceof Uint16Array)) throw new Error('tflite-reference: DEQUANTIZE of a non-FLOAT16 constant');
        out = { shape: src.shape, data: halfToNumbers(src.data) };
        break;
      }
      case 'LEAKY_RELU': {
        const x = get(op.inputs[0]);
        const a = op.options.alpha;
        out = { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : a * v)) };
        break;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D':
        out = pool2d(get(op.inputs[0]), op.options, op.op === 'MAX_POOL_2D');
        break;
      case 'FULLY_CONNECTED': {
        const x = get(op.inputs[0]);
        const w = get(op.inputs[1]);
        const b = op.inputs.length > 2 && op.inputs[2] >= 0 ? get(op.inputs[2]).data : null;
        const [O, I] = w.shape;
        const rows = x.data.length / I;
        const data = new Float64Array(rows * O);
        for (let r = 0; r < rows; r++)
          for (let o = 0; o < O; o++) {
            let s = b ? b[o] : 0;
            for (let i = 0; i < I; i++) s += x.data[r * I + i] * w.data[o * I + i];
            data[r * O + o] = s;
          }
        applyActivation(op.options.fusedActivation, data);
        out = { shape: [rows, O], data };
        break;
      }
      case 'STRIDED_SLICE': {
        const x = get(op.inputs[0]);
        const [begin, end, strides] = op.inputs.slice(1).map((i) => Array.from(get(i).data));
        const o = op.options;
        if (o.ellipsisMask || o.newAxisMask || o.shrinkAxisMask) throw new Error('tflite-reference: STRIDED_SLICE masks beyond begin/end are not supported');
        const lo = x.shape.map((d, i) => ((o.beginMask >> i) & 1 ? 0 : Math.min(d, begin[i] < 0 ? begin[i] + d : begin[i])));
        const hi = x.shape.map((d, i) => ((o.endMask >> i) & 1 ? d : Math.min(d, end[i] < 0 ? end[i] + d : end[i])));
        if (strides.some((st) => st !== 1)) throw new Error('tflite-reference: STRIDED_SLICE strides other than 1 are not supported');
        const shape = lo.map((l, i) => hi[i] - l);
        const data = new Float64Array(numel(shape));
        const idx = new Array(shape.length).fill(0);
        for (let k = 0; k < data.length; k++) {
          let src = 0;
          for (let d = 0; d < shape.length; d++) src = src * x.shape[d] + lo[d] + idx[d];
          data[k] = x.data[src];
          for (let d = shape.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
          }
        }
        out = { shape, data };
        break;
      }
      case 'GREATER_EQUAL':
        out = broadcast(get(op.inputs[0]), get(op.inputs[1]), (p, q) => (p >= q ? 1 : 0));
        break;
      case 'LESS':
        out = broadcast(get(op.inputs[0]), get(op.inputs[1]), (p, q) => (p < q ? 1 : 0));
        break;
      case 'CAST': {
        const x = get(op.inputs[0]);
        out = { shape: x.shape, data: Float64Array.from(x.data) };
        break;
      }
      case 'CONCATENATION': {
        const xs = op.inputs.map(get);
        const rank = xs[0].shape.length;
        const axis = op.options.axis < 0 ? op.options.axis + rank : op.options.axis;
        const outer = numel(xs[0].shape.slice(0, axis));
        const shape = [...xs[0].shape];
        shape[axis] = xs.reduce((n, v) => n + v.shape[axis], 0);
        const data = new Float64Array(numel(shape));
        let k = 0;
        for (let r = 0; r < outer; r++)
          for (const v of xs) {
            const inner = numel(v.shape.slice(axis));
            data.set(v.data.subarray(r * inner, (r + 1) * inner), k);
            k += inner;
          }
        applyActivation(op.options.fusedActivation, data);
        out = { shape, data };
        break;
      }
      case 'ADD':
        out = broadcast(get(op.inputs[0]), get(op.inputs[1]), (p, q) => p + q);
        applyActivation(op.options.fusedActivation, out.data);
        break;
      case 'SUB':
        out = broadcast(get(op.inputs[0]), get(op.inputs[1]), (p, q) => p - q);
        applyActivation(op.options.fusedActivation, out.data);
        break;
      case 'MUL':
        out = broadcast(get(op.inputs[0]), get(op.inputs[1]), (p, q) => p * q);
        applyActivation(op.options.fusedActivation, out.data);
        break;
      case 'ABS': {
        const x = get(op.inputs[0]);
        out = { shape: x.shape, data: x.data.map(Math.abs) };
        break;
      }
      case 'RELU': {
        const x = get(op.inputs[0]);
        out = { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : 0)) };
        break;
      }
      case 'PAD': {
        const x = get(op.inputs[0]);
        const p = Array.from(get(op.inputs[1]).data);
        const rank = x.shape.length;
        if (p.length !== 2 * rank) throw new Error(`tflite-reference: PAD paddings [${p}] do not fit rank ${rank}`);
        const shape = x.shape.map((d, i) => p[2 * i] + d + p[2 * i + 1]);
        const data = new Float64Array(numel(shape)); // zeros outside the input
        const idx = new Array(rank).fill(0);
        for (let k = 0; k < x.data.length; k++) {
          let dst = 0;
          for (let d = 0; d < rank; d++) dst = dst * shape[d] + p[2 * d] + idx[d];
          data[dst] = x.data[k];
          for (let d = rank - 1; d >= 0; d--) {
            if (++idx[d] < x.shape[d]) break;
            idx[d] = 0;
          }
        }
        out = { shape, data };
        break;
      }
      case 'RESIZE_BILINEAR':
        out = resizeBilinear(get(op.inputs[0]), Array.from(get(op.inputs[1]).data), op.options);
        break;
      case 'RESHAPE': {
        const x = get(op.inputs[0]);
        const st = op.inputs.length > 1 && op.inputs[1] >= 0 ? g.tensors[op.inputs[1]] : null;
        /** @type {number[]} */
        let target = st && st.data ? Array.from(st.data) : op.options.newShape;
        if (!target) throw new Error('tflite-reference: reshape without a target shape');
        // Treat the reshape's batch as -1 when it is the model's fixed batch; a -1 after it
        // (BlazeFace: [1, -1, 16]) is then the size of one example over the other dims.
        if (target[0] === fixedBatch && g.tensors[op.inputs[0]].shape[0] === fixedBatch) {
          target = [-1, ...target.slice(1)];
        }
        const perExample = numel(x.shape.slice(1));
        const innerKnown = numel(target.slice(1).filter((d) => d !== -1));
        if (target[0] === -1) target = [-1, ...target.slice(1).map((d) => (d === -1 ? perExample / innerKnown : d))];
        const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const shape = target.map((d) => (d === -1 ? x.data.length / known : d));
        if (numel(shape) !== x.data.length || shape.some((d) => !Number.isInteger(d))) {
          throw new Error(`tflite-reference: cannot reshape [${x.shape}] to [${target}]`);
        }
        out = { shape, data: x.data };
        break;
      }
      default:
        throw new Error(`tflite-reference: unsupported op ${op.op}`);
    }
    values.set(op.outputs[0], out);
  }
  return g.outputs.map(get);
}
