/**
 * Quantize-dequantize ("fake quantization") of a weight under a scheme, with onnxruntime's arithmetic:
 * float32 scale, q = saturate(roundHalfEven(x / scale) + zp), x_hat = (q - zp) * scale in float32.
 */
import { scratch } from '../scratch';
import { channelGeometry } from './layout';
import {
  FP16,
  FP8_E4M3FN,
  FP8_E5M2,
  roundHalfEven,
  roundToBfloat16,
  roundToMiniFloat,
  type MiniFloat,
} from './rounding';
import { intRange, type FloatScheme, type IntScheme, type Scheme } from './schemes';

/**
 * A weight viewed as a rows x cols matrix (row-major). Channels run along `channelAxis`; blocks run along
 * the other axis, the reduction axis (MatMul B [K, N]: channelAxis 1; Conv [O, C*kh*kw] and Gemm with
 * transB [N, K]: channelAxis 0).
 */
export interface Layout2D {
  rows: number;
  cols: number;
  channelAxis: 0 | 1;
}

/** Scales and zero points chosen for an integer scheme: one per (channel, group), channel-major. */
export interface IntParams {
  channels: number;
  groupsPerChannel: number;
  scales: Float32Array;
  zeroPoints: Int32Array;
}

const fround = Math.fround;

/** One value through QuantizeLinear -> DequantizeLinear: (saturate(round(x / s) + zp) - zp) * s in float32. */
export function quantDequantInt(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  if (scale === 0) {
    return Number.isNaN(x) ? NaN : 0;
  }
  const q = Math.min(qmax, Math.max(qmin, roundHalfEven(fround(x / scale)) + zeroPoint));
  return fround((q - zeroPoint) * scale);
}

/** One value through a scaled float8 QuantizeLinear -> DequantizeLinear (saturating). */
export function quantDequantFp8(x: number, scale: number, format: MiniFloat): number {
  return scale === 0 ? 0 : fround(roundToMiniFloat(fround(x / scale), format) * scale);
}

/** Number of channels, groups per channel and group size along the reduction axis. */
function grouping(layout: Layout2D, scheme: IntScheme): { channels: number; reduction: number; groupSize: number } {
  const { channels, reduction } = channelGeometry(layout.rows * layout.cols, layout);
  const g = scheme.granularity;
  if (g.kind === 'tensor') {
    return { channels: 1, reduction: channels * reduction, groupSize: channels * reduction };
  }
  return { channels, reduction, groupSize: g.kind === 'block' ? g.size : reduction };
}

/**
 * How the groups run along row r (for groupRange and quantDequantRange): the first element's group, the
 * step after every element, and the run of elements after which the group advances by one.
 */
function rowGroups(
  r: number,
  layout: Layout2D,
  groups: number,
  groupsPerChannel: number,
  groupSize: number,
): [group: number, step: number, run: number] {
  if (groups === 1) return [0, 0, Infinity];
  if (layout.channelAxis === 0) return [r * groupsPerChannel, 0, groupSize];
  return [(r / groupSize) | 0, groupsPerChannel, Infinity];
}

/**
 * Min and max (widened to include 0) per group over data[start, end): the group advances by `step` after
 * every element and by one after every `run` elements.
 */
function groupRange(
  data: Float32Array,
  start: number,
  end: number,
  group: number,
  step: number,
  run: number,
  lo: Float32Array,
  hi: Float32Array,
): void {
  let left = run;
  for (let i = start; i < end; i++) {
    const v = data[i];
    if (v - v === 0) {
      lo[group] = Math.min(lo[group], v);
      hi[group] = Math.max(hi[group], v);
    }
    group += step;
    if (--left === 0) {
      left = run;
      group++;
    }
  }
}

/** Chooses scale and zero point per group (symmetric: absmax / qmax; asymmetric: range widened to 0). */
export function intParams(data: Float32Array, layout: Layout2D, scheme: IntScheme): IntParams {
  const { channels, reduction, groupSize } = grouping(layout, scheme);
  const groupsPerChannel = scheme.granularity.kind === 'tensor' ? 1 : Math.ceil(reduction / groupSize);
  const groups = scheme.granularity.kind === 'tensor' ? 1 : channels * groupsPerChannel;
  // float32 holds every float32 min/max exactly, in half the memory (block schemes have many groups).
  const lo = scratch.float32(0, groups);
  const hi = scratch.float32(1, groups);
  // Plain loops in a small function (no per-element callback): this runs over every weight of a model.
  const { rows, cols } = layout;
  for (let r = 0; r < rows; r++) {
    const [group, step, run] = rowGroups(r, layout, groups, groupsPerChannel, groupSize);
    groupRange(data, r * cols, (r + 1) * cols, group, step, run, lo, hi);
  }
  const { scales, zeroPoints } = scalesFromRanges(lo, hi, groups, scheme);
  return { channels: scheme.granularity.kind === 'tensor' ? 1 : channels, groupsPerChannel, scales, zeroPoints };
}

/** Scale and zero point per group from its range (lo <= 0 <= hi): symmetric absmax / qmax, asymmetric (hi - lo) / (qmax - qmin). */
export function scalesFromRanges(
  lo: Float32Array,
  hi: Float32Array,
  groups: number,
  scheme: IntScheme,
): { scales: Float32Array; zeroPoints: Int32Array } {
  const { qmin, qmax } = intRange(scheme);
  const scales = new Float32Array(groups);
  const zeroPoints = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    if (scheme.symmetric) {
      scales[g] = fround(Math.max(-lo[g], hi[g]) / qmax);
    } else {
      const scale = fround(fround(hi[g] - lo[g]) / (qmax - qmin));
      scales[g] = scale;
      zeroPoints[g] = scale === 0 ? 0 : Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - fround(lo[g] / scale))));
    }
  }
  return { scales, zeroPoints };
}

/**
 * quantDequantInt over data[start, end) into out, the group advancing as in groupRange (a plain loop: this
 * runs over every value of every variant of a model).
 */
function quantDequantRange(
  data: Float32Array,
  out: Float32Array,
  start: number,
  end: number,
  group: number,
  step: number,
  run: number,
  params: IntParams,
  qmin: number,
  qmax: number,
): void {
  const { scales, zeroPoints } = params;
  let left = run;
  for (let i = start; i < end; i++) {
    const scale = scales[group];
    const x = data[i];
    if (scale === 0) {
      out[i] = Number.isNaN(x) ? NaN : 0;
    } else {
      const zp = zeroPoints[group];
      out[i] = (Math.min(qmax, Math.max(qmin, roundHalfEven(fround(x / scale)) + zp)) - zp) * scale; // the store rounds to float32
    }
    group += step;
    if (--left === 0) {
      left = run;
      group++;
    }
  }
}

/** Quantizes and dequantizes `data` under an integer scheme into `out`; returns the parameters used. */
export function fakeQuantizeInt(data: Float32Array, layout: Layout2D, scheme: IntScheme, out: Float32Array): IntParams {
  const params = intParams(data, layout, scheme);
  const { qmin, qmax } = intRange(scheme);
  const { rows, cols } = layout;
  const { groupsPerChannel } = params;
  const groupSize = grouping(layout, scheme).groupSize;
  for (let r = 0; r < rows; r++) {
    const [group, step, run] = rowGroups(r, layout, params.scales.length, groupsPerChannel, groupSize);
    quantDequantRange(data, out, r * cols, (r + 1) * cols, group, step, run, params, qmin, qmax);
  }
  return params;
}

/** The per-tensor scale fp8 uses: absmax / largest finite value of the format. */
export function fp8Scale(data: Float32Array, format: 'fp8-e4m3' | 'fp8-e5m2'): number {
  let absmax = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a > absmax && a !== Infinity) absmax = a;
  }
  return fround(absmax / (format === 'fp8-e4m3' ? FP8_E4M3FN.max : FP8_E5M2.max));
}

/** Quantizes and dequantizes `data` under a float scheme into `out`; returns the scale (1 for plain casts). */
export function fakeQuantizeFloat(data: Float32Array, scheme: FloatScheme, out: Float32Array): number {
  switch (scheme.format) {
    case 'fp16':
      for (let i = 0; i < data.length; i++) out[i] = roundToMiniFloat(data[i], FP16);
      return 1;
    case 'bf16':
      for (let i = 0; i < data.length; i++) out[i] = roundToBfloat16(data[i]);
      return 1;
    default: {
      const format = scheme.format === 'fp8-e4m3' ? FP8_E4M3FN : FP8_E5M2;
      const scale = fp8Scale(data, scheme.format);
      for (let i = 0; i < data.length; i++) out[i] = quantDequantFp8(data[i], scale, format);
      return scale;
    }
  }
}

/** Quantizes and dequantizes `data` under any scheme (float schemes ignore the layout). */
export function fakeQuantize(
  data: Float32Array,
  layout: Layout2D,
  scheme: Scheme,
  out = new Float32Array(data.length),
): Float32Array {
  if (scheme.kind === 'int') {
    fakeQuantizeInt(data, layout, scheme, out);
  } else {
    fakeQuantizeFloat(data, scheme, out);
  }
  return out;
}
