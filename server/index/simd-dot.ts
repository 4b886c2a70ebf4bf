/**
 * A tiny WebAssembly SIMD kernel for the gallery scan, assembled here byte by byte (no toolchain
 * needed, nothing fetched): `dots8(data, rows, strideBytes, probe, out, scales)` writes, for
 * each of `rows` rows of `strideBytes` int8 values starting at `data`, the integer dot product of
 * the row with the int8 probe at `probe`, times the row's f32 scale at `scales + 4 * row`, as one
 * f32 at `out + 4 * row`. `strideBytes` must be a multiple of 16 (rows zero-padded). Products of
 * two int8 in [-127, 127] fit an i16; sums of a 2048-d row fit an i32.
 *
 * Equivalent WAT:
 *   (func (export "dots8") (param $data i32) (param $rows i32) (param $stride i32) (param $probe i32) (param $out i32) (param $scales i32)
 *     (local $r i32) (local $i i32) (local $a v128) (local $x v128) (local $y v128)
 *     (block $done (loop $row
 *       (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
 *       (local.set $a (v128.const i32x4 0 0 0 0)) (local.set $i (i32.const 0))
 *       (loop $inner
 *         (local.set $x (v128.load (i32.add $data $i))) (local.set $y (v128.load (i32.add $probe $i)))
 *         (local.set $a (i32x4.add $a (i32x4.extadd_pairwise_i16x8_s (i16x8.extmul_low_i8x16_s $x $y))))
 *         (local.set $a (i32x4.add $a (i32x4.extadd_pairwise_i16x8_s (i16x8.extmul_high_i8x16_s $x $y))))
 *         (br_if $inner (i32.lt_u (local.tee $i (i32.add $i (i32.const 16))) (local.get $stride))))
 *       (f32.store $out (f32.mul (f32.convert_i32_s (sum of the 4 lanes of $a)) (f32.load $scales)))
 *       $out += 4; $scales += 4; $data += $stride; $r += 1
 *       (br $row))))
 */

const P = { data: 0, rows: 1, stride: 2, probe: 3, out: 4, scales: 5, r: 6, i: 7, a: 8, x: 9, y: 10 } as const;

const get = (x: number) => [0x20, x];
const set = (x: number) => [0x21, x];
const tee = (x: number) => [0x22, x];
const i32const = (v: number) => [0x41, v]; // v < 64 only (one-byte signed LEB128)
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const I32_LT_U = 0x49;
const F32_LOAD = [0x2a, 0x02, 0x00];
const F32_STORE = [0x38, 0x02, 0x00];
const F32_MUL = 0x94;
const F32_CONVERT_I32_S = 0xb2;
const V128_LOAD = [0xfd, 0x00, 0x04, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const I16X8_EXTMUL_LOW_I8X16_S = [0xfd, 0x9c, 0x01];
const I16X8_EXTMUL_HIGH_I8X16_S = [0xfd, 0x9d, 0x01];
const I32X4_EXTADD_PAIRWISE_I16X8_S = [0xfd, 0x7e];
const I32X4_ADD = [0xfd, 0xae, 0x01];
const LANE = (n: number) => [0xfd, 0x1b, n];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR = (d: number) => [0x0c, d];
const BR_IF = (d: number) => [0x0d, d];

function accumulate(extmul: number[]): number[] {
  return [...get(P.a), ...get(P.x), ...get(P.y), ...extmul, ...I32X4_EXTADD_PAIRWISE_I16X8_S, ...I32X4_ADD, ...set(P.a)];
}

function body(): number[] {
  return [
    // locals: 2 x i32 ($r, $i), 3 x v128 ($a, $x, $y)
    0x02, 0x02, 0x7f, 0x03, 0x7b,
    ...BLOCK,
    ...LOOP,
    ...get(P.r), ...get(P.rows), I32_GE_U, ...BR_IF(1),
    ...V128_ZERO, ...set(P.a),
    ...i32const(0), ...set(P.i),
    ...LOOP,
    ...get(P.data), ...get(P.i), I32_ADD, ...V128_LOAD, ...set(P.x),
    ...get(P.probe), ...get(P.i), I32_ADD, ...V128_LOAD, ...set(P.y),
    ...accumulate(I16X8_EXTMUL_LOW_I8X16_S),
    ...accumulate(I16X8_EXTMUL_HIGH_I8X16_S),
    ...get(P.i), ...i32const(16), I32_ADD, ...tee(P.i), ...get(P.stride), I32_LT_U, ...BR_IF(0),
    END,
    ...get(P.out),
    ...get(P.a), ...LANE(0), ...get(P.a), ...LANE(1), I32_ADD, ...get(P.a), ...LANE(2), I32_ADD, ...get(P.a), ...LANE(3), I32_ADD,
    F32_CONVERT_I32_S, ...get(P.scales), ...F32_LOAD, F32_MUL,
    ...F32_STORE,
    ...get(P.out), ...i32const(4), I32_ADD, ...set(P.out),
    ...get(P.scales), ...i32const(4), I32_ADD, ...set(P.scales),
    ...get(P.data), ...get(P.stride), I32_ADD, ...set(P.data),
    ...get(P.r), ...i32const(1), I32_ADD, ...set(P.r),
    ...BR(0),
    END,
    END,
    END, // function
  ];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

export function dotsModuleBytes(): Uint8Array {
  const code = body();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // type: (i32 x6) -> ()
    ...section(3, [0x01, 0x00]), // one function of type 0
    ...section(5, [0x01, 0x00, 0x01]), // one memory, min 1 page, growable
    ...section(7, [0x02, ...str('dots8'), 0x00, 0x00, ...str('mem'), 0x02, 0x00]),
    ...section(10, [0x01, ...uleb(code.length), ...code]),
  ]);
}

/** The few WebAssembly APIs used here (typed locally: the server is compiled without the DOM lib). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable (then the JS scan is used). */
export function dotsModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = WA ? new WA.Module(dotsModuleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export interface DotsKernel {
  readonly memory: WasmMemory;
  dots8(data: number, rows: number, strideBytes: number, probe: number, out: number, scales: number): void;
}

export function createDotsKernel(): DotsKernel | null {
  const m = dotsModule();
  if (!m || !WA) return null;
  const inst = new WA.Instance(m, {});
  return {
    memory: inst.exports.mem as WasmMemory,
    dots8: inst.exports.dots8 as DotsKernel['dots8'],
  };
}
