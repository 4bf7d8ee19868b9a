/**
 * Scoring kernels of the slice evaluation (see src/core/eval/logitScorer.ts): per output position
 * (a row of `width` float32 logits), the quantities the metrics need, in float64 as the scalar reference
 * (src/core/eval/metrics.ts) computes them, with the same handling of NaN and infinities.
 */
import { high64, low64, sum64 } from './simd';

/**
 * The constants of exp64, in memory: a splat load from memory is one instruction, where V8 builds a
 * splatted constant anew in every loop iteration. Offsets in bytes.
 */
const CONSTANTS: usize = memory.data<f64>([
  -708.0, // EXP_MIN: below it exp(x) < 2^-1021, taken as 0
  1.4426950408889634, // LOG2E
  6755399441055744.0, // SHIFT = 1.5 * 2^52: adding it rounds to an integer (ties to even) held in the low bits
  6.93147180369123816490e-1, // LN2_HI: ln 2 split so that k * LN2_HI is exact for |k| < 2^21 (as in fdlibm)
  1.90821492927058770002e-10, // LN2_LO
  0, // BIAS (an int64 1023, set below)
  // Taylor coefficients 1/n!, n = 0..13
  1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0,
  1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0,
]);
const EXP_MIN_AT = 0;
const LOG2E_AT = 8;
const SHIFT_AT = 16;
const LN2_HI_AT = 24;
const LN2_LO_AT = 32;
const BIAS_AT = 40;
const TAYLOR_AT = 48;
store<i64>(CONSTANTS + BIAS_AT, 1023);

@inline function c(offset: usize): v128 {
  return v128.load64_splat(CONSTANTS + offset);
}

/**
 * exp of two float64 lanes, x <= 709: exp(x) = 2^k * exp(r) with k = round(x / ln 2) and |r| <= ln 2 / 2,
 * exp(r) by its Taylor series to r^13 (truncation under 5e-18 relative); within 2 ulp of
 * Math.exp. exp(x) for x < -708 is 0 (Math.exp gives at most 3.3e-308 there); NaN gives NaN.
 */
@inline export function exp64(x: v128): v128 {
  const under = f64x2.lt(x, c(EXP_MIN_AT));
  const xc = f64x2.pmax(c(EXP_MIN_AT), x); // NaN becomes EXP_MIN (restored below)
  // k = round(x / ln 2) to nearest even by the 1.5 * 2^52 shift, whose low bits then hold k.
  const shifted = f64x2.add(f64x2.mul(xc, c(LOG2E_AT)), c(SHIFT_AT));
  const k = f64x2.sub(shifted, c(SHIFT_AT));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(k, c(LN2_HI_AT))), f64x2.mul(k, c(LN2_LO_AT)));
  // Taylor series to r^13 by Estrin's scheme (short dependency chains).
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const a01 = f64x2.add(c(TAYLOR_AT), r);
  const a23 = f64x2.add(c(TAYLOR_AT + 16), f64x2.mul(r, c(TAYLOR_AT + 24)));
  const a45 = f64x2.add(c(TAYLOR_AT + 32), f64x2.mul(r, c(TAYLOR_AT + 40)));
  const a67 = f64x2.add(c(TAYLOR_AT + 48), f64x2.mul(r, c(TAYLOR_AT + 56)));
  const a89 = f64x2.add(c(TAYLOR_AT + 64), f64x2.mul(r, c(TAYLOR_AT + 72)));
  const a1011 = f64x2.add(c(TAYLOR_AT + 80), f64x2.mul(r, c(TAYLOR_AT + 88)));
  const a1213 = f64x2.add(c(TAYLOR_AT + 96), f64x2.mul(r, c(TAYLOR_AT + 104)));
  const b0 = f64x2.add(a01, f64x2.mul(r2, a23));
  const b1 = f64x2.add(a45, f64x2.mul(r2, a67));
  const b2 = f64x2.add(a89, f64x2.mul(r2, a1011));
  const c0 = f64x2.add(b0, f64x2.mul(r4, b1));
  const c1 = f64x2.add(b2, f64x2.mul(r4, a1213));
  const p = f64x2.add(c0, f64x2.mul(r8, c1));
  // 2^k from its exponent bits (k in [-1022, 0] for x <= 0; NaN lanes give some scale, and stay NaN).
  const scale = i64x2.shl(i64x2.add(i64x2.sub(shifted, c(SHIFT_AT)), c(BIAS_AT)), 52);
  return v128.bitselect(v128.andnot(f64x2.mul(p, scale), under), x, f64x2.eq(x, x));
}

/** exp of n float64 values at x into y (for the tests of exp64; n even). */
export function expArray(x: usize, n: i32, y: usize): void {
  for (let i = 0; i < n; i += 2) v128.store(y + (<usize>i << 3), exp64(v128.load(x + (<usize>i << 3))));
}

@inline function exp1(x: f64): f64 {
  return f64x2.extract_lane(exp64(f64x2.splat(x)), 0);
}

/** Per-position results written by scoreRows (float64 each). */
const RES = 7;

/** The largest of n float32 values at o as `if (x > max) max = x` finds it (NaN ignored; -Infinity if none). */
@inline function rowMax(o: usize, n: i32): f32 {
  const vecEnd = n & ~3;
  let m4 = f32x4.splat(-Infinity);
  for (let i = 0; i < vecEnd; i += 4) {
    const v = v128.load(o + (<usize>i << 2));
    m4 = v128.bitselect(v, m4, f32x4.gt(v, m4));
  }
  let mx: f32 = -Infinity;
  if (f32x4.extract_lane(m4, 0) > mx) mx = f32x4.extract_lane(m4, 0);
  if (f32x4.extract_lane(m4, 1) > mx) mx = f32x4.extract_lane(m4, 1);
  if (f32x4.extract_lane(m4, 2) > mx) mx = f32x4.extract_lane(m4, 2);
  if (f32x4.extract_lane(m4, 3) > mx) mx = f32x4.extract_lane(m4, 3);
  for (let i = vecEnd; i < n; i++) {
    const v = load<f32>(o + (<usize>i << 2));
    if (v > mx) mx = v;
  }
  return mx;
}

/** Index of the first of n float32 values at o equal to mx (0 when mx is -Infinity): the argmax. */
@inline function firstIndex(o: usize, n: i32, mx: f32): i32 {
  if (mx == -Infinity) return 0;
  const vecEnd = n & ~3;
  const target = f32x4.splat(mx);
  for (let i = 0; i < vecEnd; i += 4) {
    const hit = i32x4.bitmask(f32x4.eq(v128.load(o + (<usize>i << 2)), target));
    if (hit != 0) return i + ctz(hit);
  }
  for (let i = vecEnd; i < n; i++) {
    if (load<f32>(o + (<usize>i << 2)) == mx) return i;
  }
  return 0;
}

/**
 * fp32's rows: for each of `positions` rows of `width` float32 logits at `ref`, the probabilities
 * p_i = exp(x_i - lse) at `p` (float64) and at res + 8 * RES * position (float64): [0] max, [1] its first index,
 * [2] lse = max + log sum exp(x_i - max), [3] sum p_i (x_i - lse) over p_i != 0 (minus the entropy),
 * [4] sum x_i, [5] sum x_i^2.
 */
export function referenceRows(ref: usize, positions: i32, width: i32, p: usize, res: usize): void {
  const rowBytes = <usize>width << 2;
  const vecEnd = width & ~3;
  for (let pos = 0; pos < positions; pos++) {
    const o = ref + <usize>pos * rowBytes;
    const pp = p + (<usize>pos * rowBytes << 1);
    const mx = rowMax(o, width);
    const m = f64x2.splat(<f64>mx);
    let z = f64x2.splat(0);
    let sum = f64x2.splat(0);
    let sumSq = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const vlo = low64(v);
      const vhi = high64(v);
      z = f64x2.add(z, f64x2.add(exp64(f64x2.sub(vlo, m)), exp64(f64x2.sub(vhi, m))));
      sum = f64x2.add(sum, f64x2.add(vlo, vhi));
      sumSq = f64x2.add(sumSq, f64x2.add(f64x2.mul(vlo, vlo), f64x2.mul(vhi, vhi)));
    }
    let zS = sum64(z);
    let sumS = sum64(sum);
    let sumSqS = sum64(sumSq);
    for (let i = vecEnd; i < width; i++) {
      const v = <f64>load<f32>(o + (<usize>i << 2));
      zS += exp1(v - <f64>mx);
      sumS += v;
      sumSqS += v * v;
    }
    const lse = <f64>mx + Math.log(zS);
    const l = f64x2.splat(lse);
    const zero = f64x2.splat(0);
    let h = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const llo = f64x2.sub(low64(v), l);
      const lhi = f64x2.sub(high64(v), l);
      const plo = exp64(llo);
      const phi = exp64(lhi);
      v128.store(pp + (<usize>i << 3), plo);
      v128.store(pp + (<usize>i << 3), phi, 16);
      h = f64x2.add(h, f64x2.add(v128.and(f64x2.mul(plo, llo), f64x2.ne(plo, zero)), v128.and(f64x2.mul(phi, lhi), f64x2.ne(phi, zero))));
    }
    let hS = sum64(h);
    for (let i = vecEnd; i < width; i++) {
      const li = <f64>load<f32>(o + (<usize>i << 2)) - lse;
      const pi = exp1(li);
      store<f64>(pp + (<usize>i << 3), pi);
      if (pi != 0) hS += pi * li;
    }
    const at = res + (<usize>pos * RES << 3);
    store<f64>(at, <f64>mx);
    store<f64>(at, <f64>firstIndex(o, width, mx), 8);
    store<f64>(at, lse, 16);
    store<f64>(at, hS, 24);
    store<f64>(at, sumS, 32);
    store<f64>(at, sumSqS, 40);
  }
}

/**
 * Scores `positions` rows of `width` logits at `out` (float32) against fp32's rows at `ref` (float32) and
 * fp32's probabilities at `p` (float64). For each position, at res + 8 * RES * position (float64):
 * [0] max (the largest value, NaN ignored; -Infinity when there is none), [1] index of its first occurrence
 * (0 when max is -Infinity), [2] sum p_i * (x_i - max) over p_i > 0, [3] sum exp(x_i - max), [4] sum (x_i - r_i)^2 over x_i != r_i,
 * [5] sum x_i, [6] sum x_i^2.
 */
export function scoreRows(out: usize, ref: usize, p: usize, positions: i32, width: i32, res: usize): void {
  const rowBytes = <usize>width << 2;
  const vecEnd = width & ~3;
  for (let pos = 0; pos < positions; pos++) {
    const o = out + <usize>pos * rowBytes;
    const rr = ref + <usize>pos * rowBytes;
    const pp = p + (<usize>pos * rowBytes << 1);
    const mx = rowMax(o, width);
    const top = firstIndex(o, width, mx);
    // Pass 2: float64 sums.
    const m = f64x2.splat(<f64>mx);
    const zero = f64x2.splat(0);
    let dot = f64x2.splat(0);
    let z = f64x2.splat(0);
    let noise = f64x2.splat(0);
    let sum = f64x2.splat(0);
    let sumSq = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const r = v128.load(rr + (<usize>i << 2));
      const vlo = low64(v);
      const vhi = high64(v);
      // Equal values (also equal infinities, as masked logits) add no noise.
      const same = f32x4.eq(v, r);
      const dlo = v128.andnot(f64x2.sub(vlo, low64(r)), i64x2.extend_low_i32x4_s(same));
      const dhi = v128.andnot(f64x2.sub(vhi, high64(r)), i64x2.extend_high_i32x4_s(same));
      const q = pp + (<usize>i << 3);
      // Terms with p = 0 count 0 (also where x is infinite, as in a masked logit).
      // Shifted by the max, so that the KL (Σ p log p - Σ p (x - max) + log z) does not cancel large logits.
      const slo = f64x2.sub(vlo, m);
      const shi = f64x2.sub(vhi, m);
      const plo = v128.load(q);
      const phi = v128.load(q, 16);
      const tlo = v128.and(f64x2.mul(plo, slo), f64x2.gt(plo, zero));
      const thi = v128.and(f64x2.mul(phi, shi), f64x2.gt(phi, zero));
      dot = f64x2.add(dot, f64x2.add(tlo, thi));
      z = f64x2.add(z, f64x2.add(exp64(slo), exp64(shi)));
      noise = f64x2.add(noise, f64x2.add(f64x2.mul(dlo, dlo), f64x2.mul(dhi, dhi)));
      sum = f64x2.add(sum, f64x2.add(vlo, vhi));
      sumSq = f64x2.add(sumSq, f64x2.add(f64x2.mul(vlo, vlo), f64x2.mul(vhi, vhi)));
    }
    let dotS = sum64(dot);
    let zS = sum64(z);
    let noiseS = sum64(noise);
    let sumS = sum64(sum);
    let sumSqS = sum64(sumSq);
    for (let i = vecEnd; i < width; i++) {
      const v = <f64>load<f32>(o + (<usize>i << 2));
      const ri = <f64>load<f32>(rr + (<usize>i << 2));
      const d = v == ri ? 0 : v - ri;
      const pi = load<f64>(pp + (<usize>i << 3));
      if (pi > 0) dotS += pi * (v - <f64>mx);
      zS += exp1(v - <f64>mx);
      noiseS += d * d;
      sumS += v;
      sumSqS += v * v;
    }
    const at = res + (<usize>pos * RES << 3);
    store<f64>(at, <f64>mx);
    store<f64>(at, <f64>top, 8);
    store<f64>(at, dotS, 16);
    store<f64>(at, zS, 24);
    store<f64>(at, noiseS, 32);
    store<f64>(at, sumS, 40);
    store<f64>(at, sumSqS, 48);
  }
}
