/**
 * QuantLens's analysis kernels in WebAssembly SIMD (AssemblyScript, compiled by `node scripts/buildWasm.mjs`).
 *
 * The float32 values are processed four at a time with exactly the arithmetic of onnxruntime's
 * QuantizeLinear -> DequantizeLinear and of the casts (see src/core/quant): division, round half to even,
 * saturation and the rescale in float32; errors, moments and signal in float64, as in the scalar reference.
 * Memory is laid out by the caller (src/core/stats/analyze.ts through src/core/wasm/kernels.ts); every
 * pointer is a byte offset into this module's memory. Values come in rows padded with NaN to a multiple of
 * 4 lanes; non-finite values (and so the padding) take no part in any error, moment or count. Per-cell arrays
 * read four lanes at a time are padded by the caller too.
 *
 * Shapes: "strided" kernels see rows whose element c has its own cell c (channels along the row:
 * MatMul [K, N]); "runs" kernels see rows cut into runs of `runLen` values that share a cell (blocks along
 * the row: Conv / Gemm-transB rows, or whole rows).
 *
 * Scheme accumulators (float64 at `acc`): [0] sum x * e with e = x - x_hat, [1] max |e|, [2] clipped count,
 * [3] lanes reconstructed as 0. Every lane that holds 0 (zeros, padding and non-finite values masked to 0)
 * reconstructs as 0, so the caller subtracts those to count the non-zero values zeroed.
 */

import { high64, low64, sum64 } from './simd';

export { expArray, referenceRows, sampleScores, scoreRows } from './scoring';

const SIGN: v128 = i32x4.splat(0x80000000);
const INF: v128 = f32x4.splat(Infinity);
const MAGIC: v128 = f64x2.splat(4503599627370496);

const KIND_INT: i32 = 0;
const KIND_FP16: i32 = 1;
const KIND_BF16: i32 = 2;
const KIND_FP8: i32 = 3;

/** Start of the memory the caller may use. */
export function heapBase(): usize {
  return __heap_base;
}


@inline function max64(v: v128): f64 {
  return Math.max(f64x2.extract_lane(v, 0), f64x2.extract_lane(v, 1));
}

@inline function count32(v: v128): f64 {
  return <f64>(i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

@inline function addAcc(acc: usize, xe: v128, maxAbs: v128, clips: v128, zeroed: v128): void {
  store<f64>(acc, load<f64>(acc) + sum64(xe));
  store<f64>(acc, Math.max(load<f64>(acc, 8), max64(maxAbs)), 8);
  store<f64>(acc, load<f64>(acc, 16) + count32(clips), 16);
  store<f64>(acc, load<f64>(acc, 24) + count32(zeroed), 24);
}

/**
 * Integer quantization before saturation: round(x / s) + zp (x_hat = (clamp(q) - zp) * s). Scales are never
 * 0 here: a group whose scale is 0 (all its values zero or below 2^-140) gets scale 1 from the caller, which
 * reconstructs those values as 0 exactly as a zero scale would, without a mask.
 */
@inline function intQ(x: v128, s: v128, zp: v128): v128 {
  return f32x4.add(f32x4.nearest(f32x4.div(x, s)), zp);
}

/**
 * Rounds float32 lanes to a binary float with `mb` mantissa bits (ties to even): adding and subtracting
 * 1.5 * 2^(e - mb + 23) leaves a multiple of 2^(e - mb), the format's quantum at exponent e (clamped to the
 * subnormal range below and just past the largest exponent above). Overflow saturates or gives Infinity.
 */
@inline function roundMini(y: v128, mb: i32, minE: i32, maxE: i32, fmax: v128, saturate: bool): v128 {
  const a = f32x4.abs(y);
  const e = i32x4.min_s(i32x4.max_s(i32x4.sub(i32x4.shr_u(a, 23), i32x4.splat(127)), i32x4.splat(minE)), i32x4.splat(maxE));
  const c = v128.or(i32x4.shl(i32x4.add(e, i32x4.splat(150 - mb)), 23), i32x4.splat(0x400000));
  const r = f32x4.sub(f32x4.add(a, c), c);
  const over = v128.bitselect(saturate ? fmax : INF, r, f32x4.gt(r, fmax));
  return v128.or(over, v128.and(y, SIGN));
}

/** Float-format reconstruction: fp16 and bf16 casts, fp8 with a per-tensor scale (1 when the tensor's is 0). */
@inline function floatHat(kind: i32, x: v128, mb: i32, minE: i32, maxE: i32, fmax: v128, scale: v128): v128 {
  if (kind == KIND_FP16) return roundMini(x, mb, minE, maxE, fmax, false);
  if (kind == KIND_BF16) {
    const u = i32x4.add(i32x4.add(x, i32x4.splat(0x7fff)), v128.and(i32x4.shr_u(x, 16), i32x4.splat(1)));
    return i32x4.shl(i32x4.shr_u(u, 16), 16);
  }
  return f32x4.mul(roundMini(f32x4.div(x, scale), mb, minE, maxE, fmax, true), scale);
}

/** Lanes clipped by a float format: beyond its largest value (fp16, fp8 after scaling) or overflowed (bf16). */
@inline function floatClip(kind: i32, x: v128, hat: v128, fmax: v128, scale: v128): v128 {
  if (kind == KIND_FP16) return f32x4.gt(f32x4.abs(x), fmax);
  if (kind == KIND_BF16) return f32x4.ne(f32x4.sub(hat, hat), f32x4.splat(0));
  return f32x4.gt(f32x4.abs(f32x4.div(x, scale)), fmax);
}

/** The value lanes, non-finite ones replaced by 0 when `checked` (0 takes no part in any error or count). */
@inline function valueAt(checked: bool, p: usize): v128 {
  const v = v128.load(p);
  return checked ? v128.and(v, f32x4.eq(f32x4.sub(v, v), f32x4.splat(0))) : v;
}

// Scheme kernels. x points at `rows` rows of `n` values, `stride` values apart (rows are padded with zeros to
// a multiple of 4). `checked` variants mask non-finite values; the others are for tensors that have none.
// An error term e = x - x_hat is formed in float64 from the two float32 values, as in the scalar reference.

/** Reconstruction of one vector: integer (kind 0, scale s and zero point zp) or a float format. */
@inline function hatOf(kind: i32, v: v128, s: v128, zp: v128, qmin: v128, qmax: v128, mb: i32, minE: i32, maxE: i32, fmax: v128): v128 {
  if (kind == KIND_INT) return f32x4.mul(f32x4.sub(f32x4.pmin(f32x4.pmax(intQ(v, s, zp), qmin), qmax), zp), s);
  return floatHat(kind, v, mb, minE, maxE, fmax, s);
}

/** Lanes of one vector that saturate (the same rounding as hatOf, shared once inlined). */
@inline function clipOf(kind: i32, v: v128, hat: v128, s: v128, zp: v128, qmin: v128, qmax: v128, fmax: v128): v128 {
  if (kind == KIND_INT) {
    const q0 = intQ(v, s, zp);
    return f32x4.ne(f32x4.pmin(f32x4.pmax(q0, qmin), qmax), q0);
  }
  return floatClip(kind, v, hat, fmax, s);
}

/**
 * Strided: all rows lie in one block, so element c of every row has cell noise[c] and, for integer schemes,
 * scale scales[c] and zero point zps[c] (float32); each column of four is carried down the rows in registers.
 * Float formats take `scale` (fp8's, else 1) and the format (mb, minE, maxE, fmax; see roundMini).
 */
@inline function stridedImpl(checked: bool, kind: i32, x: usize, n: i32, rows: i32, stride: i32, scales: usize, zps: usize, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32, noise: usize, acc: usize): void {
  const vqmin = f32x4.splat(qmin);
  const vqmax = f32x4.splat(qmax);
  const vmax = f32x4.splat(fmax);
  const zero = f32x4.splat(0);
  const rowBytes = <usize>stride << 2;
  let xe = f64x2.splat(0);
  let maxAbs = f64x2.splat(0);
  let clips = i32x4.splat(0);
  let zeroed = i32x4.splat(0);
  for (let c = 0; c < n; c += 4) {
    const o = <usize>c << 2;
    const s = kind == KIND_INT ? v128.load(scales + o) : f32x4.splat(scale);
    const zp = kind == KIND_INT ? v128.load(zps + o) : zero;
    let n0 = f64x2.splat(0);
    let n1 = f64x2.splat(0);
    let p = x + o;
    for (let r = 0; r < rows; r++, p += rowBytes) {
      const v = valueAt(checked, p);
      const hat = hatOf(kind, v, s, zp, vqmin, vqmax, mb, minE, maxE, vmax);
      clips = i32x4.sub(clips, clipOf(kind, v, hat, s, zp, vqmin, vqmax, vmax));
      zeroed = i32x4.sub(zeroed, f32x4.eq(hat, zero));
      const xlo = low64(v);
      const xhi = high64(v);
      const elo = f64x2.sub(xlo, low64(hat));
      const ehi = f64x2.sub(xhi, high64(hat));
      n0 = f64x2.add(n0, f64x2.mul(elo, elo));
      n1 = f64x2.add(n1, f64x2.mul(ehi, ehi));
      xe = f64x2.add(xe, f64x2.add(f64x2.mul(xlo, elo), f64x2.mul(xhi, ehi)));
      maxAbs = f64x2.pmax(maxAbs, f64x2.pmax(f64x2.abs(elo), f64x2.abs(ehi)));
    }
    const q = noise + (o << 1);
    v128.store(q, f64x2.add(v128.load(q), n0));
    v128.store(q, f64x2.add(v128.load(q, 16), n1), 16);
  }
  addAcc(acc, xe, maxAbs, clips, zeroed);
}

/**
 * Runs: each row is cut into runs of runLen values (a multiple of 4, or the whole row); the runs of all rows,
 * in order, have cells noise[k] and, for integer schemes, scales and zero points at scales/zps + k * step bytes.
 */
@inline function runsImpl(checked: bool, kind: i32, x: usize, n: i32, rows: i32, stride: i32, runLen: i32, scales: usize, zps: usize, step: i32, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32, noise: usize, acc: usize): void {
  const vqmin = f32x4.splat(qmin);
  const vqmax = f32x4.splat(qmax);
  const vmax = f32x4.splat(fmax);
  const zero = f32x4.splat(0);
  let xe = f64x2.splat(0);
  let maxAbs = f64x2.splat(0);
  let clips = i32x4.splat(0);
  let zeroed = i32x4.splat(0);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * stride) << 2);
    for (let start = 0; start < n; start += runLen, k++) {
      const end = min(start + runLen, n);
      const s = kind == KIND_INT ? f32x4.splat(load<f32>(scales + <usize>(k * step))) : f32x4.splat(scale);
      const zp = kind == KIND_INT ? f32x4.splat(load<f32>(zps + <usize>(k * step))) : zero;
      let n0 = f64x2.splat(0);
      for (let i = start; i < end; i += 4) {
        const v = valueAt(checked, row + (<usize>i << 2));
        const hat = hatOf(kind, v, s, zp, vqmin, vqmax, mb, minE, maxE, vmax);
        clips = i32x4.sub(clips, clipOf(kind, v, hat, s, zp, vqmin, vqmax, vmax));
        zeroed = i32x4.sub(zeroed, f32x4.eq(hat, zero));
        const xlo = low64(v);
        const xhi = high64(v);
        const elo = f64x2.sub(xlo, low64(hat));
        const ehi = f64x2.sub(xhi, high64(hat));
        n0 = f64x2.add(n0, f64x2.add(f64x2.mul(elo, elo), f64x2.mul(ehi, ehi)));
        xe = f64x2.add(xe, f64x2.add(f64x2.mul(xlo, elo), f64x2.mul(xhi, ehi)));
        maxAbs = f64x2.pmax(maxAbs, f64x2.pmax(f64x2.abs(elo), f64x2.abs(ehi)));
      }
      const q = noise + (<usize>k << 3);
      store<f64>(q, load<f64>(q) + sum64(n0));
    }
  }
  addAcc(acc, xe, maxAbs, clips, zeroed);
}

/** Integer scheme, strided (see stridedImpl). */
export function intStrided(checked: bool, x: usize, n: i32, rows: i32, stride: i32, scales: usize, zps: usize, noise: usize, qmin: f32, qmax: f32, acc: usize): void {
  if (checked) stridedImpl(true, KIND_INT, x, n, rows, stride, scales, zps, qmin, qmax, 0, 0, 0, 0, 1, noise, acc);
  else stridedImpl(false, KIND_INT, x, n, rows, stride, scales, zps, qmin, qmax, 0, 0, 0, 0, 1, noise, acc);
}

/** Integer scheme, runs (see runsImpl). */
export function intRuns(checked: bool, x: usize, n: i32, rows: i32, stride: i32, runLen: i32, scales: usize, zps: usize, step: i32, noise: usize, qmin: f32, qmax: f32, acc: usize): void {
  if (checked) runsImpl(true, KIND_INT, x, n, rows, stride, runLen, scales, zps, step, qmin, qmax, 0, 0, 0, 0, 1, noise, acc);
  else runsImpl(false, KIND_INT, x, n, rows, stride, runLen, scales, zps, step, qmin, qmax, 0, 0, 0, 0, 1, noise, acc);
}

/**
 * Float format, strided: kind 1 fp16 cast, 2 bf16 cast, 3 scaled saturating fp8 (mantissa bits mb, smallest
 * normal exponent minE, exponent clamp maxE, largest value fmax, scale).
 */
export function floatStrided(checked: bool, kind: i32, x: usize, n: i32, rows: i32, stride: i32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32, noise: usize, acc: usize): void {
  if (kind == KIND_FP16) {
    if (checked) stridedImpl(true, KIND_FP16, x, n, rows, stride, 0, 0, 0, 0, 10, -14, 16, 65504, 1, noise, acc);
    else stridedImpl(false, KIND_FP16, x, n, rows, stride, 0, 0, 0, 0, 10, -14, 16, 65504, 1, noise, acc);
  } else if (kind == KIND_BF16) {
    if (checked) stridedImpl(true, KIND_BF16, x, n, rows, stride, 0, 0, 0, 0, 7, -126, 128, 0, 1, noise, acc);
    else stridedImpl(false, KIND_BF16, x, n, rows, stride, 0, 0, 0, 0, 7, -126, 128, 0, 1, noise, acc);
  } else if (checked) {
    stridedImpl(true, KIND_FP8, x, n, rows, stride, 0, 0, 0, 0, mb, minE, maxE, fmax, scale, noise, acc);
  } else {
    stridedImpl(false, KIND_FP8, x, n, rows, stride, 0, 0, 0, 0, mb, minE, maxE, fmax, scale, noise, acc);
  }
}

/** Float format, runs (kinds as floatStrided). */
export function floatRuns(checked: bool, kind: i32, x: usize, n: i32, rows: i32, stride: i32, runLen: i32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32, noise: usize, acc: usize): void {
  if (kind == KIND_FP16) {
    if (checked) runsImpl(true, KIND_FP16, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, 10, -14, 16, 65504, 1, noise, acc);
    else runsImpl(false, KIND_FP16, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, 10, -14, 16, 65504, 1, noise, acc);
  } else if (kind == KIND_BF16) {
    if (checked) runsImpl(true, KIND_BF16, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, 7, -126, 128, 0, 1, noise, acc);
    else runsImpl(false, KIND_BF16, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, 7, -126, 128, 0, 1, noise, acc);
  } else if (checked) {
    runsImpl(true, KIND_FP8, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, mb, minE, maxE, fmax, scale, noise, acc);
  } else {
    runsImpl(false, KIND_FP8, x, n, rows, stride, runLen, 0, 0, 0, 0, 0, mb, minE, maxE, fmax, scale, noise, acc);
  }
}

// Reconstruction kernels: write each value's quantize-dequantize result to `out` (laid out as x), for the
// evaluation's weight variants and the layer detail. NaN stays NaN (bf16's rounding would otherwise carry a
// low NaN payload into Infinity); Infinity saturates as in hatOf.

@inline function hatKept(kind: i32, v: v128, s: v128, zp: v128, qmin: v128, qmax: v128, mb: i32, minE: i32, maxE: i32, fmax: v128): v128 {
  const hat = hatOf(kind, v, s, zp, qmin, qmax, mb, minE, maxE, fmax);
  return kind == KIND_BF16 ? v128.bitselect(v, hat, f32x4.ne(v, v)) : hat;
}

/** Strided reconstruction (cells as in stridedImpl: element c of every row has scale scales[c]). */
@inline function hatStridedImpl(kind: i32, x: usize, out: usize, n: i32, rows: i32, stride: i32, scales: usize, zps: usize, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32): void {
  const vqmin = f32x4.splat(qmin);
  const vqmax = f32x4.splat(qmax);
  const vmax = f32x4.splat(fmax);
  const vscale = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * stride) << 2;
    for (let c = 0; c < n; c += 4) {
      const o = <usize>c << 2;
      const s = kind == KIND_INT ? v128.load(scales + o) : vscale;
      const zp = kind == KIND_INT ? v128.load(zps + o) : zero;
      v128.store(out + row + o, hatKept(kind, v128.load(x + row + o), s, zp, vqmin, vqmax, mb, minE, maxE, vmax));
    }
  }
}

/** Runs reconstruction (cells as in runsImpl: the k-th run has the scale at scales + k * step bytes). */
@inline function hatRunsImpl(kind: i32, x: usize, out: usize, n: i32, rows: i32, stride: i32, runLen: i32, scales: usize, zps: usize, step: i32, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32): void {
  const vqmin = f32x4.splat(qmin);
  const vqmax = f32x4.splat(qmax);
  const vmax = f32x4.splat(fmax);
  const zero = f32x4.splat(0);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * stride) << 2;
    for (let start = 0; start < n; start += runLen, k++) {
      const end = min(start + runLen, n);
      const s = kind == KIND_INT ? f32x4.splat(load<f32>(scales + <usize>(k * step))) : f32x4.splat(scale);
      const zp = kind == KIND_INT ? f32x4.splat(load<f32>(zps + <usize>(k * step))) : zero;
      for (let i = start; i < end; i += 4) {
        const o = row + (<usize>i << 2);
        v128.store(out + o, hatKept(kind, v128.load(x + o), s, zp, vqmin, vqmax, mb, minE, maxE, vmax));
      }
    }
  }
}

/** Reconstruction, strided: kind 0 integer (scales, zps, qmin, qmax), else a float format as floatStrided. */
export function hatStrided(kind: i32, x: usize, out: usize, n: i32, rows: i32, stride: i32, scales: usize, zps: usize, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32): void {
  if (kind == KIND_INT) hatStridedImpl(KIND_INT, x, out, n, rows, stride, scales, zps, qmin, qmax, 0, 0, 0, 0, 1);
  else if (kind == KIND_FP16) hatStridedImpl(KIND_FP16, x, out, n, rows, stride, 0, 0, 0, 0, 10, -14, 16, 65504, 1);
  else if (kind == KIND_BF16) hatStridedImpl(KIND_BF16, x, out, n, rows, stride, 0, 0, 0, 0, 7, -126, 128, 0, 1);
  else hatStridedImpl(KIND_FP8, x, out, n, rows, stride, 0, 0, 0, 0, mb, minE, maxE, fmax, scale);
}

/** Reconstruction, runs (kinds as hatStrided). */
export function hatRuns(kind: i32, x: usize, out: usize, n: i32, rows: i32, stride: i32, runLen: i32, scales: usize, zps: usize, step: i32, qmin: f32, qmax: f32, mb: i32, minE: i32, maxE: i32, fmax: f32, scale: f32): void {
  if (kind == KIND_INT) hatRunsImpl(KIND_INT, x, out, n, rows, stride, runLen, scales, zps, step, qmin, qmax, 0, 0, 0, 0, 1);
  else if (kind == KIND_FP16) hatRunsImpl(KIND_FP16, x, out, n, rows, stride, runLen, 0, 0, 0, 0, 0, 10, -14, 16, 65504, 1);
  else if (kind == KIND_BF16) hatRunsImpl(KIND_BF16, x, out, n, rows, stride, runLen, 0, 0, 0, 0, 0, 7, -126, 128, 0, 1);
  else hatRunsImpl(KIND_FP8, x, out, n, rows, stride, runLen, 0, 0, 0, 0, 0, mb, minE, maxE, fmax, scale);
}

/**
 * Scales and zero points from group ranges (lo <= 0 <= hi), in float32 as onnxruntime's quantizers compute
 * them: symmetric absmax / qmax; asymmetric (hi - lo) / (qmax - qmin) with zp = clamp(round(qmin - lo / s)).
 * Scales of 0 are stored as 1, which the scheme kernels take in their place (see intQ).
 */
export function chooseScales(symmetric: bool, lo: usize, hi: usize, n: i32, qmin: f32, qmax: f32, scales: usize, zps: usize): void {
  const vqmin = f32x4.splat(qmin);
  const vqmax = f32x4.splat(qmax);
  const zero = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const l = v128.load(lo + o);
    const h = v128.load(hi + o);
    let s: v128;
    let zp = zero;
    if (symmetric) {
      s = f32x4.div(f32x4.pmax(f32x4.neg(l), h), vqmax);
    } else {
      s = f32x4.div(f32x4.sub(h, l), f32x4.sub(vqmax, vqmin));
      const z = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.sub(vqmin, f32x4.div(l, s))), vqmin), vqmax);
      zp = v128.and(z, f32x4.ne(s, zero));
    }
    v128.store(scales + o, v128.bitselect(f32x4.splat(1), s, f32x4.eq(s, zero)));
    v128.store(zps + o, zp);
  }
}

/**
 * Range pass over n values (n a multiple of 4; the caller pads with NaN, which counts as no value).
 * acc (float64): [0] min, [1] max, [2] sum of the finite values (with `withSum`), [3] finite count,
 * [4] NaN count (padding included), [5] zeros. min/max start at +-Infinity (the caller's).
 */
@inline function rangeImpl(withSum: bool, x: usize, n: i32, acc: usize): void {
  const zero = f32x4.splat(0);
  let lo = f32x4.splat(Infinity);
  let hi = f32x4.splat(-Infinity);
  let sum = f64x2.splat(0);
  let finite = i32x4.splat(0);
  let nans = i32x4.splat(0);
  let zeros = i32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const live = f32x4.eq(f32x4.sub(v, v), zero);
    lo = f32x4.pmin(lo, v128.bitselect(v, f32x4.splat(Infinity), live));
    hi = f32x4.pmax(hi, v128.bitselect(v, f32x4.splat(-Infinity), live));
    if (withSum) {
      const xl = v128.and(v, live);
      sum = f64x2.add(sum, f64x2.add(low64(xl), high64(xl)));
      zeros = i32x4.sub(zeros, f32x4.eq(v, zero));
    }
    finite = i32x4.sub(finite, live);
    nans = i32x4.sub(nans, f32x4.ne(v, v));
  }
  const mn = min<f32>(min<f32>(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min<f32>(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
  const mx = max<f32>(max<f32>(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max<f32>(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
  store<f64>(acc, Math.min(load<f64>(acc), <f64>mn));
  store<f64>(acc, Math.max(load<f64>(acc, 8), <f64>mx), 8);
  store<f64>(acc, load<f64>(acc, 16) + sum64(sum), 16);
  store<f64>(acc, load<f64>(acc, 24) + count32(finite), 24);
  store<f64>(acc, load<f64>(acc, 32) + count32(nans), 32);
  store<f64>(acc, load<f64>(acc, 40) + count32(zeros), 40);
}

/** Range, sum, counts (see rangeImpl). */
export function range(x: usize, n: i32, acc: usize): void {
  rangeImpl(true, x, n, acc);
}

/** Range and counts without the sum and zeros (what a histogram needs). */
export function minMax(x: usize, n: i32, acc: usize): void {
  rangeImpl(false, x, n, acc);
}

/**
 * Group ranges, strided (rows as in the scheme kernels, all in one block): lo[c] = min(lo[c], x[c]),
 * hi[c] = max(hi[c], x[c]) in float32. Non-finite values count as 0, which every range already holds.
 */
export function groupRangeStrided(x: usize, n: i32, rows: i32, stride: i32, lo: usize, hi: usize): void {
  const rowBytes = <usize>stride << 2;
  for (let c = 0; c < n; c += 4) {
    const o = <usize>c << 2;
    let a = v128.load(lo + o);
    let b = v128.load(hi + o);
    let p = x + o;
    for (let r = 0; r < rows; r++, p += rowBytes) {
      const v = valueAt(true, p);
      a = f32x4.pmin(a, v);
      b = f32x4.pmax(b, v);
    }
    v128.store(lo + o, a);
    v128.store(hi + o, b);
  }
}

/** Group ranges, runs: the k-th run of the rows widens lo[k], hi[k] (float32). */
export function groupRangeRuns(x: usize, n: i32, rows: i32, stride: i32, runLen: i32, lo: usize, hi: usize): void {
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * stride) << 2);
    for (let start = 0; start < n; start += runLen, k++) {
      const end = min(start + runLen, n);
      let a = f32x4.splat(0);
      let b = f32x4.splat(0);
      for (let i = start; i < end; i += 4) {
        const v = valueAt(true, row + (<usize>i << 2));
        a = f32x4.pmin(a, v);
        b = f32x4.pmax(b, v);
      }
      const p = <usize>k << 2;
      const mn = min<f32>(min<f32>(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)), min<f32>(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
      const mx = max<f32>(max<f32>(f32x4.extract_lane(b, 0), f32x4.extract_lane(b, 1)), max<f32>(f32x4.extract_lane(b, 2), f32x4.extract_lane(b, 3)));
      store<f32>(lo + p, min<f32>(load<f32>(lo + p), mn));
      store<f32>(hi + p, max<f32>(load<f32>(hi + p), mx));
    }
  }
}

/**
 * Histogram of the finite values among n (a multiple of 4; NaN padding counts as no value), and with
 * `withMoments` their central moments. acc (float64):
 * [0] sum (x - mean)^2, [1] sum (x - mean)^4. counts: four interleaved histograms of bins + 1
 * uint32 each (the last bin of each takes the lanes out of play; four copies keep repeated bins from waiting
 * on each other), bin = trunc((x - min) * invWidth) in float64, capped at bins - 1.
 */
@inline function histogramImpl(checked: bool, withMoments: bool, x: usize, n: i32, mean: f64, min: f64, invWidth: f64, counts: usize, bins: i32, acc: usize): void {
  const vmean = f64x2.splat(mean);
  const vmin = f64x2.splat(min);
  const vinv = f64x2.splat(invWidth);
  const last = i32x4.splat(bins - 1);
  const trash = i32x4.splat(bins);
  const stride = <usize>(bins + 1) << 2;
  let m2 = f64x2.splat(0);
  let m4 = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const live = checked ? f32x4.eq(f32x4.sub(v, v), f32x4.splat(0)) : i32x4.splat(-1);
    const xl = checked ? v128.and(v, live) : v;
    const xlo = low64(xl);
    const xhi = high64(xl);
    if (withMoments) {
      let dlo = f64x2.sub(xlo, vmean);
      let dhi = f64x2.sub(xhi, vmean);
      if (checked) {
        dlo = v128.and(dlo, i64x2.extend_low_i32x4_s(live));
        dhi = v128.and(dhi, i64x2.extend_high_i32x4_s(live));
      }
      const d2lo = f64x2.mul(dlo, dlo);
      const d2hi = f64x2.mul(dhi, dhi);
      m2 = f64x2.add(m2, f64x2.add(d2lo, d2hi));
      m4 = f64x2.add(m4, f64x2.add(f64x2.mul(d2lo, d2lo), f64x2.mul(d2hi, d2hi)));
    }
    // floor(y) + 2^52 holds the integer floor(y) in its low 32 bits (0 <= y <= bins for the finite lanes).
    const blo = f64x2.add(f64x2.floor(f64x2.mul(f64x2.sub(xlo, vmin), vinv)), MAGIC);
    const bhi = f64x2.add(f64x2.floor(f64x2.mul(f64x2.sub(xhi, vmin), vinv)), MAGIC);
    let bin = i32x4.min_s(v128.shuffle<i32>(blo, bhi, 0, 2, 4, 6), last);
    if (checked) bin = v128.bitselect(bin, trash, live);
    const p0 = counts + (<usize>i32x4.extract_lane(bin, 0) << 2);
    const p1 = counts + stride + (<usize>i32x4.extract_lane(bin, 1) << 2);
    const p2 = counts + 2 * stride + (<usize>i32x4.extract_lane(bin, 2) << 2);
    const p3 = counts + 3 * stride + (<usize>i32x4.extract_lane(bin, 3) << 2);
    store<u32>(p0, load<u32>(p0) + 1);
    store<u32>(p1, load<u32>(p1) + 1);
    store<u32>(p2, load<u32>(p2) + 1);
    store<u32>(p3, load<u32>(p3) + 1);
  }
  if (withMoments) {
    store<f64>(acc, load<f64>(acc) + sum64(m2));
    store<f64>(acc, load<f64>(acc, 8) + sum64(m4), 8);
  }
}

/** Histogram and moments (see histogramImpl; `checked` when some lanes are not finite). */
export function moments(checked: bool, x: usize, n: i32, mean: f64, min: f64, invWidth: f64, counts: usize, bins: i32, acc: usize): void {
  if (checked) histogramImpl(true, true, x, n, mean, min, invWidth, counts, bins, acc);
  else histogramImpl(false, true, x, n, mean, min, invWidth, counts, bins, acc);
}

/** Histogram only (see histogramImpl). */
export function histogram(checked: bool, x: usize, n: i32, min: f64, invWidth: f64, counts: usize, bins: i32): void {
  if (checked) histogramImpl(true, false, x, n, 0, min, invWidth, counts, bins, 0);
  else histogramImpl(false, false, x, n, 0, min, invWidth, counts, bins, 0);
}

/** Signal, strided (rows in one fine block): sig[c] += x[c]^2 in float64 over the finite values. */
export function signalStrided(x: usize, n: i32, rows: i32, stride: i32, sig: usize): void {
  const rowBytes = <usize>stride << 2;
  for (let c = 0; c < n; c += 4) {
    const o = <usize>c << 2;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let p = x + o;
    for (let r = 0; r < rows; r++, p += rowBytes) {
      const v = valueAt(true, p);
      const lo = low64(v);
      const hi = high64(v);
      s0 = f64x2.add(s0, f64x2.mul(lo, lo));
      s1 = f64x2.add(s1, f64x2.mul(hi, hi));
    }
    const q = sig + (o << 1);
    v128.store(q, f64x2.add(v128.load(q), s0));
    v128.store(q, f64x2.add(v128.load(q, 16), s1), 16);
  }
}

/** Signal, runs: sig[k] += sum of the k-th run's x^2 (float64) over the finite values. */
export function signalRuns(x: usize, n: i32, rows: i32, stride: i32, runLen: i32, sig: usize): void {
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * stride) << 2);
    for (let start = 0; start < n; start += runLen, k++) {
      const end = min(start + runLen, n);
      let s = f64x2.splat(0);
      for (let i = start; i < end; i += 4) {
        const v = valueAt(true, row + (<usize>i << 2));
        const lo = low64(v);
        const hi = high64(v);
        s = f64x2.add(s, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
      }
      const p = sig + (<usize>k << 3);
      store<f64>(p, load<f64>(p) + sum64(s));
    }
  }
}
