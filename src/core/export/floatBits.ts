/** Bit patterns of float16, bfloat16 and float8 values (the stored form of values the rounding already chose). */
import { FP16, FP8_E4M3FN, FP8_E5M2, roundToBfloat16, roundToMiniFloat, type MiniFloat } from '../quant/rounding';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Sign, exponent and mantissa widths of a format, with its NaN and infinity patterns. */
interface Layout {
  format: MiniFloat;
  exponentBits: number;
  nan: number;
  /** Bit pattern of +infinity (formats with one). */
  infinity?: number;
}

const LAYOUTS = {
  fp16: { format: FP16, exponentBits: 5, nan: 0x7e00, infinity: 0x7c00 },
  e4m3fn: { format: FP8_E4M3FN, exponentBits: 4, nan: 0x7f },
  e5m2: { format: FP8_E5M2, exponentBits: 5, nan: 0x7e, infinity: 0x7c },
} satisfies Record<string, Layout>;

/** The bit pattern of `v`, a value `layout`'s format holds exactly (what roundToMiniFloat returns). */
function miniFloatBits(v: number, layout: Layout): number {
  const m = layout.format.mantissaBits;
  const signBit = 1 << (m + layout.exponentBits);
  if (Number.isNaN(v)) return layout.nan;
  const sign = v < 0 || Object.is(v, -0) ? signBit : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | (layout.infinity ?? layout.nan);
  const minExp = layout.format.minExponent;
  const e = Math.floor(Math.log2(a));
  // log2 may be off by one near powers of two: correct it so that 1 <= a / 2^e < 2.
  const exp = a >= 2 ** (e + 1) ? e + 1 : a < 2 ** e ? e - 1 : e;
  if (exp < minExp) return sign | Math.round(a / 2 ** (minExp - m));
  const mantissa = Math.round((a / 2 ** exp - 1) * 2 ** m);
  return sign | ((exp - minExp + 1) << m) | mantissa;
}

/** float32 values -> float16 bit patterns (round to nearest even, overflow to infinity). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = miniFloatBits(roundToMiniFloat(values[i], FP16), LAYOUTS.fp16);
  return out;
}

/** float32 values -> bfloat16 bit patterns (round to nearest even). */
export function toBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = roundToBfloat16(values[i]);
    out[i] = Number.isNaN(f32[0]) ? 0x7fc0 : u32[0] >>> 16;
  }
  return out;
}

/** float32 values divided by `scale` -> saturating float8 bit patterns, as the simulation rounds them. */
export function toFloat8Bits(values: Float32Array, scale: number, format: 'fp8-e4m3' | 'fp8-e5m2'): Uint8Array {
  const layout = format === 'fp8-e4m3' ? LAYOUTS.e4m3fn : LAYOUTS.e5m2;
  const out = new Uint8Array(values.length);
  if (scale === 0) return out;
  for (let i = 0; i < values.length; i++) {
    out[i] = miniFloatBits(roundToMiniFloat(Math.fround(values[i] / scale), layout.format), layout);
  }
  return out;
}
