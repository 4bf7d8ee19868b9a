/** Rounding and float formats with ONNX / onnxruntime semantics (round half to even, saturation). */

/** Rounds to the nearest integer, ties to even (like std::nearbyint; Math.round rounds ties up). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) {
    return f + 1;
  }
  if (d < 0.5) {
    return f;
  }
  return f % 2 === 0 ? f : f + 1;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A binary floating-point format narrower than float32. */
export interface MiniFloat {
  mantissaBits: number;
  /** Exponent of the smallest normal number (1 - bias). */
  minExponent: number;
  /** Largest finite magnitude. */
  max: number;
  /** Out-of-range values: 'inf' (IEEE cast) or 'saturate' (to ±max). */
  overflow: 'inf' | 'saturate';
}

/** IEEE half precision; casts overflow to infinity. */
export const FP16: MiniFloat = { mantissaBits: 10, minExponent: -14, max: 65504, overflow: 'inf' };
/** float8 e4m3fn (no infinities); QuantizeLinear saturates. */
export const FP8_E4M3FN: MiniFloat = { mantissaBits: 3, minExponent: -6, max: 448, overflow: 'saturate' };
/** float8 e5m2; QuantizeLinear saturates. */
export const FP8_E5M2: MiniFloat = { mantissaBits: 2, minExponent: -14, max: 57344, overflow: 'saturate' };

/** Unbiased binary exponent of a finite non-zero float32 value (floor(log2|x|), exact). */
function exponentOf(x: number): number {
  f32[0] = x;
  const e = (u32[0] >>> 23) & 0xff;
  if (e === 0) {
    return Math.floor(Math.log2(Math.abs(x))); // float32 subnormal: far below every format here
  }
  return e - 127;
}

/** Powers of two 2^(k - POW2_BIAS), exact, for every quantum a format here can have. */
const POW2_BIAS = 200;
const POW2 = Float64Array.from({ length: 2 * POW2_BIAS }, (_, k) => 2 ** (k - POW2_BIAS));

/** Rounds a float32 value to the nearest value of `format` (ties to even), as a cast would. */
export function roundToMiniFloat(x: number, format: MiniFloat): number {
  if (Number.isNaN(x)) {
    return NaN;
  }
  const a = Math.abs(x);
  if (a === 0) {
    return x;
  }
  if (a === Infinity) {
    return format.overflow === 'inf' ? x : Math.sign(x) * format.max;
  }
  const e = Math.max(exponentOf(a), format.minExponent);
  const quantum = POW2[e - format.mantissaBits + POW2_BIAS]; // 2 ** (e - mantissaBits), without Math.pow per value
  const r = roundHalfEven(a / quantum) * quantum;
  if (r > format.max) {
    return format.overflow === 'inf' ? Math.sign(x) * Infinity : Math.sign(x) * format.max;
  }
  return Math.sign(x) * r;
}

/** float32 -> bfloat16 -> float32, round to nearest even (NaN stays NaN). */
export function roundToBfloat16(x: number): number {
  if (Number.isNaN(x)) {
    return NaN;
  }
  f32[0] = x;
  const u = u32[0];
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}
