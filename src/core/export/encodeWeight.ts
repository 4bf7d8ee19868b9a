/**
 * The stored tensors of an exported weight: the quantized integers (or float8 / 16-bit floats), scales and zero
 * points, computed with the simulation's own parameters (intParams, fp8Scale) and rounding, so that
 * dequantizing them gives the simulated weight.
 */
import { DType } from '../onnx/dtypes';
import { fp8Scale, intParams, type IntParams, type Layout2D } from '../quant/fakeQuant';
import { transposeChannels, untransposeChannels } from '../quant/roles';
import { roundHalfEven } from '../quant/rounding';
import { intRange, type IntScheme, type Scheme } from '../quant/schemes';
import type { DqFormat, ExportFormat, ExportWeight, NBitsFormat } from './exportFormat';
import { toBfloat16Bits, toFloat16Bits, toFloat8Bits } from './floatBits';

/** A tensor to store: its element type, dims and little-endian bytes. */
export interface StoredTensor {
  dtype: number;
  dims: number[];
  bytes: Uint8Array;
}

/** The tensors a weight is exported as (scale and zero point absent for casts; zero point absent when symmetric). */
export interface EncodedWeight {
  values: StoredTensor;
  scale?: StoredTensor;
  zeroPoint?: StoredTensor;
}

const fround = Math.fround;

/** Packs 4-bit values two per byte, the first in the low nibble (ONNX int4 / uint4, MatMulNBits). */
export function packNibbles(values: ArrayLike<number>, length = values.length): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1] |= (values[i] & 0x0f) << ((i & 1) * 4);
  return out;
}

/** Integer values of `dtype` as stored bytes (8-bit types one per byte, 4-bit packed). */
function intBytes(values: Int32Array, dtype: number): Uint8Array {
  if (dtype === DType.int4 || dtype === DType.uint4) return packNibbles(values);
  return dtype === DType.int8 ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values);
}

/** The weight in the layout's matrix view (transposed for channels on a middle axis) and that layout. */
function viewOf(
  w: ExportWeight,
  data: Float32Array,
  scheme: IntScheme,
): { view: Float32Array; layout: Layout2D; scheme: IntScheme } {
  if (!w.layout) {
    return {
      view: data,
      layout: { rows: 1, cols: data.length, channelAxis: 0 },
      scheme: { ...scheme, granularity: { kind: 'tensor' } },
    };
  }
  return { view: w.transpose ? transposeChannels(data, w.transpose) : data, layout: w.layout, scheme };
}

/** The quantized integers q = saturate(roundHalfEven(x / scale) + zp), per group of the view (as fakeQuantizeInt). */
export function quantizeInts(view: Float32Array, layout: Layout2D, scheme: IntScheme, params: IntParams): Int32Array {
  const { rows, cols, channelAxis } = layout;
  const { scales, zeroPoints, groupsPerChannel } = params;
  const g = scheme.granularity;
  const groupSize = g.kind === 'block' ? g.size : channelAxis === 0 ? cols : rows;
  const q = new Int32Array(view.length);
  const range = intRange(scheme);
  if (scales.length === 1) {
    quantizeRun(view, q, 0, view.length, scales[0], zeroPoints[0], range);
  } else if (channelAxis === 0) {
    // Row r is channel r: runs of groupSize values share a group.
    for (let r = 0; r < rows; r++) {
      for (let c0 = 0, group = r * groupsPerChannel; c0 < cols; c0 += groupSize, group++) {
        const start = r * cols + c0;
        quantizeRun(view, q, start, start + Math.min(groupSize, cols - c0), scales[group], zeroPoints[group], range);
      }
    }
  } else {
    // Column c is channel c: the rows of one block share, per column, one group; gather those groups contiguously.
    const rowScales = new Float32Array(cols);
    const rowZps = new Int32Array(cols);
    for (let r = 0; r < rows; r++) {
      if (r % groupSize === 0) {
        const block = r / groupSize;
        for (let c = 0; c < cols; c++) {
          rowScales[c] = scales[c * groupsPerChannel + block];
          rowZps[c] = zeroPoints[c * groupsPerChannel + block];
        }
      }
      quantizeRow(view, q, r * cols, rowScales, rowZps, range);
    }
  }
  return q;
}

/** quantize over [start, end) with one scale and zero point. */
function quantizeRun(
  x: Float32Array,
  q: Int32Array,
  start: number,
  end: number,
  scale: number,
  zp: number,
  { qmin, qmax }: { qmin: number; qmax: number },
): void {
  for (let i = start; i < end; i++) {
    q[i] = scale === 0 ? zp : Math.min(qmax, Math.max(qmin, roundHalfEven(fround(x[i] / scale)) + zp));
  }
}

/** quantize one row from `start` with a scale and zero point per column. */
function quantizeRow(
  x: Float32Array,
  q: Int32Array,
  start: number,
  scales: Float32Array,
  zps: Int32Array,
  { qmin, qmax }: { qmin: number; qmax: number },
): void {
  for (let c = 0; c < scales.length; c++) {
    const scale = scales[c];
    const i = start + c;
    q[i] = scale === 0 ? zps[c] : Math.min(qmax, Math.max(qmin, roundHalfEven(fround(x[i] / scale)) + zps[c]));
  }
}

/** Channel-major [channel][group] values reordered to [group][channel] (blocks along axis 0 of the stored tensor). */
function groupMajor<T extends Float32Array | Int32Array>(values: T, channels: number, groups: number): T {
  const out = new (values.constructor as new (n: number) => T)(values.length);
  for (let c = 0; c < channels; c++) for (let b = 0; b < groups; b++) out[b * channels + c] = values[c * groups + b];
  return out;
}

/** Scale and zero point tensors of a DequantizeLinear format. */
function dqParams(f: DqFormat, p: IntParams): { scale: StoredTensor; zeroPoint?: StoredTensor } {
  let scales = p.scales;
  let zps = p.zeroPoints;
  let dims: number[] = [];
  if (f.granularity === 'axis') dims = [p.channels];
  if (f.granularity === 'block') {
    if (f.axis === 0) {
      scales = groupMajor(scales, p.channels, p.groupsPerChannel);
      zps = groupMajor(zps, p.channels, p.groupsPerChannel);
      dims = [p.groupsPerChannel, p.channels];
    } else {
      dims = [p.channels, p.groupsPerChannel];
    }
  }
  const scale = { dtype: DType.float32, dims, bytes: new Uint8Array(Float32Array.from(scales).buffer) };
  return f.asymmetric ? { scale, zeroPoint: { dtype: f.storage, dims, bytes: intBytes(zps, f.storage) } } : { scale };
}

/** An integer scheme through DequantizeLinear: integers in the stored dims, scales, zero points. */
function encodeDq(w: ExportWeight, data: Float32Array, scheme: IntScheme, f: DqFormat): EncodedWeight {
  const { view, layout, scheme: s } = viewOf(w, data, scheme);
  const params = intParams(view, layout, s);
  let q = quantizeInts(view, layout, s, params);
  if (w.transpose && w.layout) q = Int32Array.from(untransposeChannels(Float32Array.from(q), w.transpose));
  return { values: { dtype: f.storage, dims: f.storedDims, bytes: intBytes(q, f.storage) }, ...dqParams(f, params) };
}

/** An integer block scheme as MatMulNBits: B [N, blocks, block/2] packed uint4, scales [N * blocks], zero points [N, ceil(blocks/2)]. */
function encodeNBits(w: ExportWeight, data: Float32Array, scheme: IntScheme, f: NBitsFormat): EncodedWeight {
  const layout = w.layout!;
  const params = intParams(data, layout, scheme);
  const q = quantizeInts(data, layout, scheme, params);
  const { K, N, blockSize } = f;
  const blocks = Math.ceil(K / blockSize);
  const offset = scheme.symmetric ? 8 : 0; // symmetric values in [-7, 7] are stored as q + 8 (zero point 8)
  const packed = new Uint8Array(N * blocks * (blockSize / 2));
  // Block by block: one block's rows of q (blockSize x N) stay in cache while they are packed column by column.
  for (let b = 0; b < blocks; b++) {
    for (let n = 0; n < N; n++) {
      const zp = scheme.symmetric ? 8 : params.zeroPoints[n * blocks + b];
      const base = (n * blocks + b) * blockSize;
      for (let j = 0; j < blockSize; j++) {
        const k = b * blockSize + j;
        const v = k < K ? q[k * N + n] + offset : zp; // padding dequantizes to 0
        packed[(base + j) >> 1] |= (v & 0x0f) << ((j & 1) * 4);
      }
    }
  }
  const values = { dtype: DType.uint8, dims: [N, blocks, blockSize / 2], bytes: packed };
  const scale = {
    dtype: DType.float32,
    dims: [N * blocks],
    bytes: new Uint8Array(Float32Array.from(params.scales).buffer),
  };
  if (scheme.symmetric) return { values, scale };
  const zpPerRow = Math.ceil(blocks / 2);
  const zps = new Uint8Array(N * zpPerRow);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++)
      zps[n * zpPerRow + (b >> 1)] |= (params.zeroPoints[n * blocks + b] & 0x0f) << ((b & 1) * 4);
  }
  return { values, scale, zeroPoint: { dtype: DType.uint8, dims: [N * zpPerRow], bytes: zps } };
}

/** The stored tensors of `data` (the weight's float32 values) under `scheme` in format `f`. */
export function encodeWeight(w: ExportWeight, data: Float32Array, scheme: Scheme, f: ExportFormat): EncodedWeight {
  if (f.kind === 'float') throw new Error(`${w.name} is left float: ${f.reason}`);
  if (scheme.kind === 'float') {
    if (f.kind === 'cast') {
      const bits = f.storage === DType.float16 ? toFloat16Bits(data) : toBfloat16Bits(data);
      return { values: { dtype: f.storage, dims: w.dims, bytes: new Uint8Array(bits.buffer) } };
    }
    const format = scheme.format === 'fp8-e4m3' ? 'fp8-e4m3' : 'fp8-e5m2';
    const scale = fp8Scale(data, format);
    return {
      values: {
        dtype: f.kind === 'dq' ? f.storage : DType.float8e4m3fn,
        dims: w.dims,
        bytes: toFloat8Bits(data, scale, format),
      },
      scale: { dtype: DType.float32, dims: [], bytes: new Uint8Array(Float32Array.of(scale).buffer) },
    };
  }
  if (f.kind === 'nbits') return encodeNBits(w, data, scheme, f);
  if (f.kind !== 'dq') throw new Error(`${w.name}: an integer scheme cannot be stored as ${f.kind}`);
  return encodeDq(w, data, scheme, f);
}

/** Bytes the encoded tensors of a weight take (to size the output before writing). */
export function encodedBytes(e: EncodedWeight): number {
  return e.values.bytes.length + (e.scale?.bytes.length ?? 0) + (e.zeroPoint?.bytes.length ?? 0);
}
