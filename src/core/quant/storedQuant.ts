/**
 * Weights a model already stores quantized: DequantizeLinear (per tensor, per axis, blocked), com.microsoft
 * MatMulNBits and QLinearConv / QLinearMatMul. Describes the stored layout in readable form and dequantizes
 * with onnxruntime's arithmetic, (q - zero_point) * scale in float32, so statistics, histograms and scheme
 * errors are computed on the values the model actually computes with.
 */
import type { Consumer } from '../onnx/consumers';
import { dtypeInfo } from '../onnx/dtypes';
import type { WeightRef } from '../onnx/weights';
import type { Layout2D } from './fakeQuant';
import { FP16, roundToMiniFloat } from './rounding';

/** How a stored-quantized weight is laid out. */
export interface StoredQuantization {
  op: 'DequantizeLinear' | 'MatMulNBits' | 'QLinearConv' | 'QLinearMatMul';
  /** Node that dequantizes (or consumes) the weight. */
  node: string;
  /** Stored element type (int8, uint4, float8e4m3fn, ...; MatMulNBits: uint4 / uint2 / uint8 packed in bytes). */
  storedType: string;
  bits: number;
  granularity: 'tensor' | 'axis' | 'block';
  /** Axis of the scales (per-axis and blocked). */
  axis?: number;
  blockSize?: number;
  /** Initializer names of the scale and zero point (zero point absent: 0, or 2^(bits-1) for MatMulNBits). */
  scale: string;
  zeroPoint?: string;
  /** Shape of the dequantized weight, as the consuming layer sees it (MatMulNBits: [N, K]). */
  dims: number[];
  /** Matrix view of the dequantized weight for per-channel and block schemes. */
  layout?: Layout2D;
  /** One line: "int4 blocks of 32 along axis 1, scale fc.scales [8, 1], no zero point (8)". */
  summary: string;
  /** Why the node's attributes cannot describe this weight (block_size 0, bits 3, axis out of range...). */
  problem?: string;
}

/** What dequantize() needs besides the stored values: the description plus scale and zero point values. */
export interface DequantInput {
  q: StoredQuantization;
  /** Stored dims (MatMulNBits: the packed uint8 [N, blocks, blob] tensor). */
  storedDims: number[];
  scale: ArrayLike<number>;
  zeroPoint?: ArrayLike<number>;
  /** Round the result to float16 (DequantizeLinear with a float16 scale outputs float16). */
  toFloat16: boolean;
  /** MatMulNBits zero points given as floats, one per block (instead of packed uint8). */
  zeroPointFloat?: boolean;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const fround = Math.fround;

/** Finds how a weight is stored quantized, from the node that reads it directly; undefined for float weights. */
export function storedQuantization(
  ref: WeightRef,
  direct: readonly Consumer[],
  weights: ReadonlyMap<string, WeightRef>,
): StoredQuantization | undefined {
  const dims = (name: string | undefined): number[] => (name ? weights.get(name)?.dims : undefined) ?? [];
  for (const c of direct) {
    if (c.domain === '' && c.op === 'DequantizeLinear' && c.input === 0) {
      return dequantizeLinearLayout(ref, c, dims(c.inputs[1]));
    }
    if (c.domain === 'com.microsoft' && c.op === 'MatMulNBits' && c.input === 1) {
      return nbitsLayout(c, dims(c.inputs[2]));
    }
    if (c.domain === '' && (c.op === 'QLinearConv' || c.op === 'QLinearMatMul') && c.input === 3) {
      return qlinearLayout(ref, c, dims(c.inputs[4]));
    }
  }
  return undefined;
}

/** DequantizeLinear: per tensor, per axis, or blocked along the axis (opset 21 `block_size`). */
function dequantizeLinearLayout(ref: WeightRef, c: Consumer, scaleDims: number[]): StoredQuantization {
  const { inputs } = c;
  const { name: storedType, bits } = dtypeInfo(ref.dtype);
  const blockSize = c.attrs.block_size ?? 0;
  const rank = ref.dims.length;
  const rawAxis = c.attrs.axis ?? 1;
  const axis = rank ? ((rawAxis % rank) + rank) % rank : 0;
  const granularity = product(scaleDims) <= 1 && scaleDims.length <= 1 ? 'tensor' : blockSize > 0 ? 'block' : 'axis';
  const problem =
    granularity !== 'tensor' && (!Number.isInteger(rawAxis) || rawAxis < -rank || rawAxis >= rank)
      ? `${c.node}: axis ${rawAxis} is outside the weight's ${rank} dimensions`
      : !Number.isSafeInteger(blockSize) || blockSize < 0
        ? `${c.node}: block_size ${blockSize} is not a whole number of elements`
        : undefined;
  return {
    ...(problem ? { problem } : {}),
    op: 'DequantizeLinear',
    node: c.node,
    storedType,
    bits,
    granularity,
    axis: granularity === 'tensor' ? undefined : axis,
    blockSize: granularity === 'block' ? blockSize : undefined,
    scale: inputs[1] ?? '',
    zeroPoint: inputs[2] || undefined,
    dims: ref.dims,
    summary: describe(storedType, granularity, axis, blockSize, inputs[1], scaleDims, inputs[2], '0'),
  };
}

/** com.microsoft MatMulNBits: B packed [N, blocks, blob], blocks along K. */
function nbitsLayout(c: Consumer, scaleDims: number[]): StoredQuantization {
  const { inputs } = c;
  const K = c.attrs.K ?? 0;
  const N = c.attrs.N ?? 0;
  const nbits = c.attrs.bits ?? 4;
  const blockSize = c.attrs.block_size ?? 0;
  const type = `uint${nbits}`;
  const problem = nbitsAttributeProblem(K, N, nbits, blockSize);
  return {
    ...(problem ? { problem: `${c.node}: ${problem}` } : {}),
    op: 'MatMulNBits',
    node: c.node,
    storedType: type,
    bits: nbits,
    granularity: 'block',
    axis: 1,
    blockSize,
    scale: inputs[2] ?? '',
    zeroPoint: inputs[3] || undefined,
    dims: [N, K],
    layout: { rows: N, cols: K, channelAxis: 0 },
    summary:
      describe(type, 'block', 1, blockSize, inputs[2], scaleDims, inputs[3], String(2 ** (nbits - 1))) +
      ` (packed [N=${N}, K=${K}])`,
  };
}

/** QLinearConv / QLinearMatMul weight (input 3): per tensor or per output channel. */
function qlinearLayout(ref: WeightRef, c: Consumer, scaleDims: number[]): StoredQuantization {
  const { inputs } = c;
  const { name: storedType, bits } = dtypeInfo(ref.dtype);
  const perAxis = product(scaleDims) > 1;
  // QLinearConv scales run along the output channels (axis 0); QLinearMatMul's along the columns of B.
  const axis = c.op === 'QLinearConv' ? 0 : Math.max(0, ref.dims.length - 1);
  return {
    op: c.op as 'QLinearConv' | 'QLinearMatMul',
    node: c.node,
    storedType,
    bits,
    granularity: perAxis ? 'axis' : 'tensor',
    axis: perAxis ? axis : undefined,
    scale: inputs[4] ?? '',
    zeroPoint: inputs[5] || undefined,
    dims: ref.dims,
    layout:
      ref.dims.length >= 2
        ? c.op === 'QLinearConv'
          ? { rows: ref.dims[0], cols: product(ref.dims.slice(1)), channelAxis: 0 }
          : { rows: product(ref.dims.slice(0, -1)), cols: ref.dims[ref.dims.length - 1], channelAxis: 1 }
        : undefined,
    summary: describe(storedType, perAxis ? 'axis' : 'tensor', axis, 0, inputs[4], scaleDims, inputs[5], '0'),
  };
}

/** Why MatMulNBits attributes cannot be used (checked before anything is allocated from them). */
function nbitsAttributeProblem(K: number, N: number, bits: number, blockSize: number): string | undefined {
  if (!Number.isSafeInteger(K) || K < 1 || !Number.isSafeInteger(N) || N < 1) {
    return `K=${K} and N=${N} must be whole numbers, at least 1`;
  }
  if (![1, 2, 4, 8].includes(bits)) {
    return `bits=${bits} is not supported (1, 2, 4 or 8)`;
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 2 || (blockSize * bits) % 8 !== 0) {
    return `block_size=${blockSize} is not usable: it must be at least 2 and fill whole bytes`;
  }
  return undefined;
}

/** How many scale values a blocked or per-axis layout needs: dims with the axis replaced by its block count. */
function scaleCount(dims: readonly number[], axis: number, block: number): number {
  return dims.reduce((n, d, i) => n * (i === axis ? Math.ceil(d / block) : d), 1);
}

/**
 * Why `values` (the stored elements), the scales and the zero points are too few for what the description
 * asks, or undefined. Checked before dequantize() allocates: memory follows the stored bytes, never an attribute.
 */
export function dequantProblem(values: ArrayLike<number>, input: DequantInput): string | undefined {
  const { q, scale, zeroPoint } = input;
  if (q.problem) return q.problem;
  const short = (what: string, need: number, have: number): string =>
    `${q.node}: ${what} needs ${need} values, the model stores ${have}`;
  if (q.op === 'MatMulNBits') {
    const [N, K] = q.dims;
    const block = q.blockSize ?? K;
    const attrs = nbitsAttributeProblem(K, N, q.bits, block);
    if (attrs) return `${q.node}: ${attrs}`;
    const blocks = Math.ceil(K / block);
    const bytes = N * blocks * ((block * q.bits) / 8);
    if (values.length < bytes) return short(`the packed weight [N=${N}, K=${K}]`, bytes, values.length);
    if (scale.length < N * blocks) return short('the scale', N * blocks, scale.length);
    const zpNeed = input.zeroPointFloat ? N * blocks : N * Math.ceil((blocks * q.bits) / 8);
    if (zeroPoint && zeroPoint.length < zpNeed) return short('the zero point', zpNeed, zeroPoint.length);
    return undefined;
  }
  if (q.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) return `${q.node}: the weight's shape is not usable`;
  if (q.granularity === 'block' && !(Number.isSafeInteger(q.blockSize) && q.blockSize! > 0)) {
    return `${q.node}: block_size ${q.blockSize} is not a whole number of elements`;
  }
  const n = product(q.dims);
  if (values.length < n) return short('the weight', n, values.length);
  const axis = q.axis ?? 0;
  const along = q.dims[axis] ?? 1;
  const need =
    q.granularity === 'tensor'
      ? 1
      : q.granularity === 'axis'
        ? along
        : scaleCount(q.dims, axis, q.blockSize && q.blockSize > 0 ? q.blockSize : along);
  if (scale.length < need) return short('the scale', need, scale.length);
  if (zeroPoint && zeroPoint.length < need) return short('the zero point', need, zeroPoint.length);
  return undefined;
}

function describe(
  type: string,
  granularity: string,
  axis: number,
  blockSize: number,
  scale: string | undefined,
  scaleDims: number[],
  zp: string | undefined,
  defaultZp: string,
): string {
  const how =
    granularity === 'tensor'
      ? 'per tensor'
      : granularity === 'axis'
        ? `per axis ${axis}`
        : `blocks of ${blockSize} along axis ${axis}`;
  return `${type} ${how}, scale ${scale ?? '?'} [${scaleDims.join(', ')}], ${zp ? `zero point ${zp}` : `no zero point (${defaultZp})`}`;
}

/**
 * Dequantizes stored values. `values` are the stored elements decoded as numbers (MatMulNBits: the packed
 * bytes). Returns float32 values of the weight as the layer uses it: (q - zp) * scale in float32.
 */
export function dequantize(values: ArrayLike<number>, input: DequantInput): Float32Array {
  const { q, scale, zeroPoint } = input;
  const problem = dequantProblem(values, input);
  if (problem) {
    throw new Error(problem);
  }
  if (q.op === 'MatMulNBits') {
    return dequantizeNBits(values, input);
  }
  const dims = q.dims;
  const n = product(dims);
  const out = new Float32Array(n);
  // Index of the scale for element i: per tensor 0; per axis the coordinate along the axis; blocked the
  // coordinate along the axis divided by the block size, with the other coordinates kept.
  const axis = q.axis ?? 0;
  const inner = product(dims.slice(axis + 1));
  const along = dims[axis] ?? 1;
  const block = q.granularity === 'block' ? (q.blockSize ?? along) : along;
  const scaleAlong = q.granularity === 'block' ? Math.ceil(along / block) : along;
  for (let i = 0; i < n; i++) {
    let s = 0;
    if (q.granularity !== 'tensor') {
      const k = Math.floor(i / inner) % along;
      if (q.granularity === 'axis') {
        s = k;
      } else {
        const outer = Math.floor(i / (inner * along));
        s = (outer * scaleAlong + Math.floor(k / block)) * inner + (i % inner);
      }
    }
    const zp = zeroPoint ? zeroPoint[s] : 0;
    const v = fround(fround(values[i] - zp) * scale[s]);
    out[i] = input.toFloat16 ? roundToMiniFloat(v, FP16) : v;
  }
  return out;
}

/** MatMulNBits B: [N, blocks, blob] bytes, values packed low bits first; scales [N * blocks]; zero points packed the same way. */
function dequantizeNBits(bytes: ArrayLike<number>, input: DequantInput): Float32Array {
  const { q, scale, zeroPoint } = input;
  const [N, K] = q.dims;
  const bits = q.bits;
  const block = q.blockSize ?? K;
  const blocks = Math.ceil(K / block);
  const blob = (block * bits) / 8;
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const zpBytesPerRow = Math.ceil((blocks * bits) / 8);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const s = scale[n * blocks + b];
      let zp = 2 ** (bits - 1);
      if (zeroPoint) {
        if (input.zeroPointFloat) {
          zp = zeroPoint[n * blocks + b];
        } else {
          const j = b * bits;
          zp = (zeroPoint[n * zpBytesPerRow + (j >> 3)] >> (j & 7)) & mask;
        }
      }
      for (let k = b * block; k < Math.min(K, (b + 1) * block); k++) {
        const within = k - b * block;
        const byte = bytes[(n * blocks + b) * blob + Math.floor(within / perByte)];
        const v = (byte >> ((within % perByte) * bits)) & mask;
        out[n * K + k] = fround(fround(v - zp) * s);
      }
    }
  }
  return out;
}
