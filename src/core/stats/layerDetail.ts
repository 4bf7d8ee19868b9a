/**
 * What the layer detail view shows beyond the cached analysis: value ranges per (channel, block) cell
 * (heatmap tooltips, the quantization grid of a group), per-channel SQNR under one scheme, and the
 * grid of levels a scheme puts over the histogram. Computed on demand for one tensor.
 */
import { fp8Scale, scalesFromRanges, type Layout2D } from '../quant/fakeQuant';
import { reconstruct } from './analyze';
import { FP16, FP8_E4M3FN, FP8_E5M2, type MiniFloat } from '../quant/rounding';
import { channelGeometry, hasGroupScales, scaleGroups, schemeBlockSize } from '../quant/layout';
import { intRange, type FloatScheme, type Scheme } from '../quant/schemes';

/** Smallest block along the reduction axis that cell ranges are kept for (the smallest scheme block size). */
export const FINE_BLOCK = 16;

/** Min and max (widened to include 0) of the finite values per channel x fine block, channel-major. */
export interface CellRanges {
  channels: number;
  /** Values per channel along the reduction axis. */
  reduction: number;
  /** Values per fine block (the last block of a channel may be shorter). */
  fine: number;
  fineBlocks: number;
  lo: Float32Array;
  hi: Float32Array;
}

/** Ranges per channel x block of `fine` values along the reduction axis (one cell per channel without a layout). */
export function cellRanges(data: Float32Array, layout: Layout2D | undefined, fine = FINE_BLOCK): CellRanges {
  const { channels, reduction } = channelGeometry(data.length, layout);
  const size = layout ? Math.min(fine, Math.max(reduction, 1)) : Math.max(reduction, 1);
  const fineBlocks = Math.max(1, Math.ceil(reduction / size));
  const lo = new Float32Array(channels * fineBlocks);
  const hi = new Float32Array(channels * fineBlocks);
  const axis = layout?.channelAxis ?? 0;
  const cols = layout ? layout.cols : data.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) continue;
    const r = (i / cols) | 0;
    const c = i - r * cols;
    const cell = axis === 0 ? r * fineBlocks + ((c / size) | 0) : c * fineBlocks + ((r / size) | 0);
    if (v < lo[cell]) lo[cell] = v;
    if (v > hi[cell]) hi[cell] = v;
  }
  return { channels, reduction, fine: size, fineBlocks, lo, hi };
}

/** What reading one weight again for its detail under a scheme gives: cell ranges and per-channel SQNR. */
export interface DetailResult {
  ranges: CellRanges;
  channelSqnr: Float64Array;
}

/** Cell ranges merged to a scheme's error grid: channels x blocks exactly as the analysis grid of that scheme. */
export function schemeCells(
  r: CellRanges,
  scheme: Scheme,
  hasLayout: boolean,
): { channels: number; blocks: number; lo: Float32Array; hi: Float32Array } {
  const blockSize = schemeBlockSize(scheme, hasLayout) ?? r.reduction;
  const blocks = Math.max(1, Math.ceil(r.reduction / blockSize));
  const per = Math.max(1, Math.round(blockSize / r.fine));
  const lo = new Float32Array(r.channels * blocks);
  const hi = new Float32Array(r.channels * blocks);
  for (let c = 0; c < r.channels; c++) {
    for (let f = 0; f < r.fineBlocks; f++) {
      const src = c * r.fineBlocks + f;
      const dst = c * blocks + Math.min(blocks - 1, (f / per) | 0);
      if (r.lo[src] < lo[dst]) lo[dst] = r.lo[src];
      if (r.hi[src] > hi[dst]) hi[dst] = r.hi[src];
    }
  }
  return { channels: r.channels, blocks, lo, hi };
}

/** The levels a scheme can represent over the histogram, for one group (channel or block) of values. */
export interface QuantGrid {
  /** Which group's grid this is, readable ("the only scale", "median of 64 channels", ...). */
  group: string;
  /** Representable values within the clipping range, ascending; empty when finer than a histogram can show (fp16, bf16). */
  levels: number[];
  /** Values outside [clipMin, clipMax] saturate (or overflow) in this group. */
  clipMin: number;
  clipMax: number;
  /** Scale of this group (1 for plain casts) and its zero point. */
  scale: number;
  zeroPoint: number;
  /** Number of groups with their own scale, and the spread of their scales. */
  groups: number;
  scaleMin: number;
  scaleMax: number;
}

/** The finite non-negative values of a binary mini-float format, ascending. */
export function miniFloatValues(format: MiniFloat): number[] {
  const values = [0];
  const m = 2 ** format.mantissaBits;
  for (let k = 1; k < m; k++) values.push((k / m) * 2 ** format.minExponent);
  for (let e = format.minExponent; ; e++) {
    for (let k = 0; k < m; k++) {
      const v = (1 + k / m) * 2 ** e;
      if (v > format.max) return values;
      values.push(v);
    }
  }
}

/**
 * The grid of `scheme` over a tensor with the given cell ranges. Integer schemes with several groups show the
 * group whose scale is the median (`pick: 'median'`) or the largest (`'widest'`).
 */
export function quantGrid(
  scheme: Scheme,
  r: CellRanges,
  hasLayout: boolean,
  pick: 'median' | 'widest' = 'median',
): QuantGrid {
  if (scheme.kind === 'float') return floatGrid(scheme, r);
  const perTensor = !hasGroupScales(scheme, hasLayout);
  let lo: Float32Array;
  let hi: Float32Array;
  if (perTensor) {
    lo = Float32Array.of(Math.min(0, ...minMax(r.lo)));
    hi = Float32Array.of(Math.max(0, ...minMax(r.hi)));
  } else {
    ({ lo, hi } = schemeCells(r, scheme, hasLayout));
  }
  const groups = lo.length;
  const { scales, zeroPoints } = scalesFromRanges(lo, hi, groups, scheme);
  const order = Array.from({ length: groups }, (_, g) => g).sort((a, b) => scales[a] - scales[b]);
  const g = pick === 'widest' ? order[groups - 1] : order[(groups - 1) >> 1];
  const { qmin, qmax } = intRange(scheme);
  const scale = scales[g];
  const zeroPoint = zeroPoints[g];
  const levels: number[] = [];
  if (scale > 0) for (let q = qmin; q <= qmax; q++) levels.push(Math.fround((q - zeroPoint) * scale));
  const unit = schemeBlockSize(scheme, hasLayout) !== undefined ? 'blocks' : 'channels';
  const group =
    groups === 1 ? 'one scale for the tensor' : `${pick === 'widest' ? 'widest' : 'median'} of ${groups} ${unit}`;
  return {
    group,
    levels,
    clipMin: (qmin - zeroPoint) * scale,
    clipMax: (qmax - zeroPoint) * scale,
    scale,
    zeroPoint,
    groups,
    scaleMin: scales[order[0]],
    scaleMax: scales[order[groups - 1]],
  };
}

/** The grid of a float scheme: none to show for plain casts (fp16, bf16), fp8's levels at the tensor's scale. */
function floatGrid(scheme: FloatScheme, r: CellRanges): QuantGrid {
  if (scheme.format === 'fp16' || scheme.format === 'bf16') {
    const max = scheme.format === 'fp16' ? FP16.max : 3.3895313892515355e38;
    return {
      group: 'a plain cast (no scale)',
      levels: [],
      clipMin: -max,
      clipMax: max,
      scale: 1,
      zeroPoint: 0,
      groups: 1,
      scaleMin: 1,
      scaleMax: 1,
    };
  }
  const format = scheme.format === 'fp8-e4m3' ? FP8_E4M3FN : FP8_E5M2;
  let absmax = 0;
  for (let i = 0; i < r.lo.length; i++) absmax = Math.max(absmax, -r.lo[i], r.hi[i]);
  const scale = fp8Scale(Float32Array.of(absmax), scheme.format);
  const positive = miniFloatValues(format).map((v) => Math.fround(v * scale));
  const levels = [
    ...positive
      .slice(1)
      .reverse()
      .map((v) => -v),
    ...positive,
  ];
  return {
    group: 'one scale for the tensor',
    levels,
    clipMin: -format.max * scale,
    clipMax: format.max * scale,
    scale,
    zeroPoint: 0,
    groups: 1,
    scaleMin: scale,
    scaleMax: scale,
  };
}

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

/** SQNR (dB) of each channel under `scheme` (one value without a layout); +Infinity for exact channels, NaN for all-zero ones. */
export function channelSqnr(data: Float32Array, layout: Layout2D | undefined, scheme: Scheme): Float64Array {
  const effective = layout ?? { rows: 1, cols: data.length, channelAxis: 0 as const };
  const hat = reconstruct(data, layout, scheme);
  const { channels } = channelGeometry(data.length, layout);
  const signal = new Float64Array(channels);
  const noise = new Float64Array(channels);
  const { cols, channelAxis } = effective;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) continue;
    const r = (i / cols) | 0;
    const c = channelAxis === 0 ? r : i - r * cols;
    const e = x - hat[i];
    signal[c] += x * x;
    noise[c] += e * e;
  }
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++)
    out[c] = signal[c] === 0 ? (noise[c] === 0 ? NaN : -Infinity) : 10 * Math.log10(signal[c] / noise[c]);
  return out;
}

/** Bytes to store a weight of `elements` values under a scheme: packed values plus float32 scales and packed zero points. */
export function schemeBytes(scheme: Scheme, elements: number, layout: Layout2D | undefined): number {
  if (scheme.kind === 'float') {
    return scheme.format === 'fp16' || scheme.format === 'bf16' ? 2 * elements : elements + 4;
  }
  const groups = scaleGroups(scheme, elements, layout);
  const values = Math.ceil((elements * scheme.bits) / 8);
  const zeroPoints = scheme.symmetric ? 0 : Math.ceil((groups * scheme.bits) / 8);
  return values + 4 * groups + zeroPoints;
}
