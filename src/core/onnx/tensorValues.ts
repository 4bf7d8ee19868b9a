/** Exact decoding of stored tensor bytes (every ONNX numeric dtype) into JavaScript numbers. */
import { DType, dtypeInfo } from './dtypes';

/** Decoded values: Float32Array where float32 holds every value exactly, else Float64Array. */
export type NumericArray = Float32Array | Float64Array;

const F16 = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  F16[h] =
    e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes one float8 byte. `bias`, NaN/Inf conventions per format (ONNX float8 types). */
function float8Table(expBits: 4 | 5, bias: number, kind: 'fn' | 'fnuz' | 'ieee'): Float32Array {
  const table = new Float32Array(256);
  const mBits = 7 - expBits;
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1;
    const e = (b >> mBits) & ((1 << expBits) - 1);
    const m = b & ((1 << mBits) - 1);
    let v = e === 0 ? m * 2 ** (1 - bias - mBits) : (1 + m / (1 << mBits)) * 2 ** (e - bias);
    if (kind === 'fn' && e === 15 && m === 7) v = NaN; // e4m3fn: S.1111.111 is NaN, no infinities
    if (kind === 'ieee' && e === 31) v = m ? NaN : Infinity; // e5m2
    if (kind === 'fnuz' && b === 0x80) v = NaN; // fnuz: the negative zero pattern is NaN
    table[b] = Number.isNaN(v) ? NaN : sign * v;
  }
  return table;
}

const FP8: Record<number, Float32Array> = {
  [DType.float8e4m3fn]: float8Table(4, 7, 'fn'),
  [DType.float8e4m3fnuz]: float8Table(4, 8, 'fnuz'),
  [DType.float8e5m2]: float8Table(5, 15, 'ieee'),
  [DType.float8e5m2fnuz]: float8Table(5, 16, 'fnuz'),
};
const FP4_E2M1 = Float32Array.from({ length: 16 }, (_, n) => (n & 8 ? -1 : 1) * [0, 0.5, 1, 1.5, 2, 3, 4, 6][n & 7]);

/**
 * Copies `bytes` into a fresh, aligned buffer (raw_data views are often unaligned). Not `bytes.slice()`:
 * on a Node Buffer that is a view of the whole underlying memory, not a copy.
 */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * Decodes `count` little-endian values of ONNX dtype `dtype` from raw bytes. Throws for strings.
 * `owned`: the caller hands over the memory of `bytes`, so aligned float32 and float64 values are viewed in
 * place instead of copied (the result then shares that memory).
 */
export function decodeRaw(bytes: Uint8Array, dtype: number, count: number, owned = false): NumericArray {
  const view = rawView(bytes, dtype, count);
  const values =
    decodeFloatRaw(view, dtype, count, owned) ??
    decodeIntegerRaw(view, dtype, count) ??
    decodeNibbles(view, dtype, count);
  if (!values) throw new Error(`decoding ${dtypeInfo(dtype).name} tensors is not supported`);
  return values;
}

/** The bytes holding `count` values of `dtype`; throws for a bad count, a type without numbers, too few bytes. */
function rawView(bytes: Uint8Array, dtype: number, count: number): Uint8Array {
  const { name, bits } = dtypeInfo(dtype);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new Error(`${count} is not a valid number of values`);
  }
  const need = Math.ceil((count * bits) / 8);
  if (bits === 0) {
    throw new Error(`tensors of type ${name} hold no numbers`);
  }
  if (bytes.length < need) {
    throw new Error(`${count} ${name} values need ${need} bytes, found ${bytes.length}`);
  }
  return bytes.subarray(0, need);
}

/** Floating-point types of 8 bits and more; undefined for other types. */
function decodeFloatRaw(view: Uint8Array, dtype: number, count: number, owned: boolean): NumericArray | undefined {
  switch (dtype) {
    case DType.float32:
      return owned && view.byteOffset % 4 === 0
        ? new Float32Array(view.buffer, view.byteOffset, count)
        : new Float32Array(aligned(view));
    case DType.float64:
      return owned && view.byteOffset % 8 === 0
        ? new Float64Array(view.buffer, view.byteOffset, count)
        : new Float64Array(aligned(view));
    case DType.float16: {
      const h = new Uint16Array(aligned(view));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = F16[h[i]];
      return out;
    }
    case DType.bfloat16: {
      const h = new Uint16Array(aligned(view));
      const u = new Uint32Array(count);
      for (let i = 0; i < count; i++) u[i] = h[i] << 16;
      return new Float32Array(u.buffer);
    }
    case DType.float8e4m3fn:
    case DType.float8e4m3fnuz:
    case DType.float8e5m2:
    case DType.float8e5m2fnuz: {
      const table = FP8[dtype];
      return Float32Array.from(view, (b) => table[b]);
    }
    default:
      return undefined;
  }
}

/** Integer and boolean types of 8 bits and more; undefined for other types. */
function decodeIntegerRaw(view: Uint8Array, dtype: number, count: number): NumericArray | undefined {
  switch (dtype) {
    case DType.uint8:
    case DType.bool:
      return Float32Array.from(view);
    case DType.int8:
      return Float32Array.from(new Int8Array(view.buffer, view.byteOffset, count));
    case DType.uint16:
      return Float32Array.from(new Uint16Array(aligned(view)));
    case DType.int16:
      return Float32Array.from(new Int16Array(aligned(view)));
    case DType.int32:
      return Float64Array.from(new Int32Array(aligned(view)));
    case DType.uint32:
      return Float64Array.from(new Uint32Array(aligned(view)));
    case DType.int64:
      return Float64Array.from(new BigInt64Array(aligned(view)), Number);
    case DType.uint64:
      return Float64Array.from(new BigUint64Array(aligned(view)), Number);
    default:
      return undefined;
  }
}

/** The 4-bit types, two values per byte, the first in the low nibble (ONNX spec); undefined for other types. */
function decodeNibbles(view: Uint8Array, dtype: number, count: number): NumericArray | undefined {
  if (dtype !== DType.uint4 && dtype !== DType.int4 && dtype !== DType.float4e2m1) return undefined;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const nibble = (view[i >> 1] >> ((i & 1) * 4)) & 0x0f;
    out[i] = dtype === DType.uint4 ? nibble : dtype === DType.int4 ? (nibble << 28) >> 28 : FP4_E2M1[nibble];
  }
  return out;
}

/** Types whose typed-field values are bit patterns (or packed bytes), decoded through decodeRaw. */
const BIT_PATTERN_TYPES: ReadonlySet<number> = new Set([
  DType.float16,
  DType.bfloat16,
  DType.float8e4m3fn,
  DType.float8e4m3fnuz,
  DType.float8e5m2,
  DType.float8e5m2fnuz,
  DType.uint4,
  DType.int4,
  DType.float4e2m1,
]);

/**
 * Decodes values held in TensorProto's typed repeated fields (`float_data`, `int32_data`, ...), where
 * 16-bit floats, float8 and sub-byte types store their bit patterns (packed bytes for 4-bit types).
 */
export function decodeTyped(
  values: ArrayLike<number | { toNumber(): number }>,
  dtype: number,
  count: number,
): NumericArray {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new Error(`${count} is not a valid number of values`);
  }
  const nums = Array.from(values, (v) => (typeof v === 'number' ? v : v.toNumber()));
  const packed = BIT_PATTERN_TYPES.has(dtype);
  if (!packed && nums.length < count) {
    throw new Error(`its shape needs ${count} values, the tensor holds ${nums.length}`);
  }
  switch (dtype) {
    case DType.float16:
    case DType.bfloat16:
      return decodeRaw(new Uint8Array(new Uint16Array(nums).buffer), dtype, count);
    case DType.float8e4m3fn:
    case DType.float8e4m3fnuz:
    case DType.float8e5m2:
    case DType.float8e5m2fnuz:
    case DType.uint4:
    case DType.int4:
    case DType.float4e2m1:
      return decodeRaw(Uint8Array.from(nums), dtype, count);
    case DType.float32:
    case DType.uint8:
    case DType.int8:
    case DType.uint16:
    case DType.int16:
    case DType.bool:
      return Float32Array.from(nums.slice(0, count));
    default:
      return Float64Array.from(nums.slice(0, count));
  }
}
