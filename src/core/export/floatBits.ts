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
  // Every value here is a normal float32: its exponent and leading mantissa bits are the format's.
  f32[0] = a;
  const exp = ((u32[0] >>> 23) & 0xff) - 127;
  if (exp < minExp) return sign | Math.round(a / 2 ** (minExp - m));
  return sign | ((exp - minExp + 1) << m) | ((u32[0] & 0x7fffff) >>> (23 - m));
}

/** float32 values -> float16 bit patterns (round to nearest even, overflow to infinity, NaN quiet), from the bits. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i]);
  return out;
}

/** One float32 bit pattern -> float16, ties to even (the rounding roundToMiniFloat(x, FP16) does). */
function halfBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    const shift = 14 - e;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    const half = 1 << (shift - 1);
    const rem = m & ((half << 1) - 1);
    let r = m >>> shift;
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
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
