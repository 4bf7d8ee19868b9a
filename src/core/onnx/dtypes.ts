/** ONNX TensorProto.DataType numbers, names and storage widths (onnx.proto, IR 10+). */

/** Description of one ONNX element type. */
export interface DTypeInfo {
  readonly code: number;
  /** Readable name used throughout QuantLens (reports, UI, CLI). */
  readonly name: string;
  /** Storage bits per element; 0 for variable-size types (string). */
  readonly bits: number;
}

const TABLE: readonly DTypeInfo[] = [
  { code: 0, name: 'undefined', bits: 0 },
  { code: 1, name: 'float32', bits: 32 },
  { code: 2, name: 'uint8', bits: 8 },
  { code: 3, name: 'int8', bits: 8 },
  { code: 4, name: 'uint16', bits: 16 },
  { code: 5, name: 'int16', bits: 16 },
  { code: 6, name: 'int32', bits: 32 },
  { code: 7, name: 'int64', bits: 64 },
  { code: 8, name: 'string', bits: 0 },
  { code: 9, name: 'bool', bits: 8 },
  { code: 10, name: 'float16', bits: 16 },
  { code: 11, name: 'float64', bits: 64 },
  { code: 12, name: 'uint32', bits: 32 },
  { code: 13, name: 'uint64', bits: 64 },
  { code: 14, name: 'complex64', bits: 64 },
  { code: 15, name: 'complex128', bits: 128 },
  { code: 16, name: 'bfloat16', bits: 16 },
  { code: 17, name: 'float8e4m3fn', bits: 8 },
  { code: 18, name: 'float8e4m3fnuz', bits: 8 },
  { code: 19, name: 'float8e5m2', bits: 8 },
  { code: 20, name: 'float8e5m2fnuz', bits: 8 },
  { code: 21, name: 'uint4', bits: 4 },
  { code: 22, name: 'int4', bits: 4 },
  { code: 23, name: 'float4e2m1', bits: 4 },
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

/** ONNX TensorProto.DataType numbers by their onnx.proto names (use these instead of bare numbers). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;
