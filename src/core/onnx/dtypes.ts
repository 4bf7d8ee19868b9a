/** ONNX TensorProto.DataType numbers, names and storage widths (onnx.proto, IR 10+). */

/** Description of one ONNX element type. */
export interface DTypeInfo {
  readonly code: number;
  /** Readable name used throughout QuantLens (reports, UI, CLI). */
  readonly name: string;
  /** Storage bits per element; 0 for variable-size types (string). */
  readonly bits: number;
}

/** ONNX element type numbers by QuantLens's readable name (TensorProto.DataType). */
export const DType = {
  undefined: 0,
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  complex64: 14,
  complex128: 15,
  bfloat16: 16,
  float8e4m3fn: 17,
  float8e4m3fnuz: 18,
  float8e5m2: 19,
  float8e5m2fnuz: 20,
  uint4: 21,
  int4: 22,
  float4e2m1: 23,
} as const;

const TABLE: readonly DTypeInfo[] = [
  { code: DType.undefined, name: 'undefined', bits: 0 },
  { code: DType.float32, name: 'float32', bits: 32 },
  { code: DType.uint8, name: 'uint8', bits: 8 },
  { code: DType.int8, name: 'int8', bits: 8 },
  { code: DType.uint16, name: 'uint16', bits: 16 },
  { code: DType.int16, name: 'int16', bits: 16 },
  { code: DType.int32, name: 'int32', bits: 32 },
  { code: DType.int64, name: 'int64', bits: 64 },
  { code: DType.string, name: 'string', bits: 0 },
  { code: DType.bool, name: 'bool', bits: 8 },
  { code: DType.float16, name: 'float16', bits: 16 },
  { code: DType.float64, name: 'float64', bits: 64 },
  { code: DType.uint32, name: 'uint32', bits: 32 },
  { code: DType.uint64, name: 'uint64', bits: 64 },
  { code: DType.complex64, name: 'complex64', bits: 64 },
  { code: DType.complex128, name: 'complex128', bits: 128 },
  { code: DType.bfloat16, name: 'bfloat16', bits: 16 },
  { code: DType.float8e4m3fn, name: 'float8e4m3fn', bits: 8 },
  { code: DType.float8e4m3fnuz, name: 'float8e4m3fnuz', bits: 8 },
  { code: DType.float8e5m2, name: 'float8e5m2', bits: 8 },
  { code: DType.float8e5m2fnuz, name: 'float8e5m2fnuz', bits: 8 },
  { code: DType.uint4, name: 'uint4', bits: 4 },
  { code: DType.int4, name: 'int4', bits: 4 },
  { code: DType.float4e2m1, name: 'float4e2m1', bits: 4 },
];

const BY_CODE = new Map(TABLE.map((d) => [d.code, d]));

/** Looks up a dtype by its ONNX number; unknown numbers get a descriptive placeholder. */
export function dtypeInfo(code: number): DTypeInfo {
  return BY_CODE.get(code) ?? { code, name: `dtype(${code})`, bits: 0 };
}

const BY_NAME = new Map(TABLE.map((d) => [d.name, d]));

/** Storage bits per element of a dtype by its readable name (0 when unknown or variable-size). */
export function dtypeBits(name: string): number {
  return BY_NAME.get(name)?.bits ?? 0;
}

/** Bytes needed to store `count` elements of a dtype packed densely (sub-byte types round up). */
export function packedByteLength(code: number, count: number): number {
  const { bits } = dtypeInfo(code);
  return Math.ceil((count * bits) / 8);
}
