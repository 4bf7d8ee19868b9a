/**
 * Analysis of one weight tensor: statistics, a histogram and every selected scheme's error, computed with
 * one range pass (min/max, per-group scales) and one fused pass over the values for everything else.
 */
import { fp8Scale, intParams, quantDequantFp8, quantDequantInt, type IntParams, type Layout2D } from '../quant/fakeQuant';
import { FP16, FP8_E4M3FN, FP8_E5M2, roundHalfEven, roundToBfloat16, roundToMiniFloat, type MiniFloat } from '../quant/rounding';
import { intRange, type Scheme } from '../quant/schemes';

/** Statistics of the finite values of a tensor (NaN and Inf are counted, not used). */
export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Excess kurtosis (0 for a Gaussian); heavy tails mean outliers. */
  kurtosis: number;
  absmax: number;
  /** absmax / std: how far the largest value is from the bulk. */
  outlierRatio: number;
  zeros: number;
  nans: number;
  infs: number;
}

/** Counts of finite values in `bins` equal bins over [min, max]. */
export interface Histogram {
  min: number;
  max: number;
  counts: Uint32Array;
}

/** Error of one scheme on one tensor. */
export interface SchemeMetrics {
  /** 10 log10(sum w^2 / sum (w - w_hat)^2) in dB; +Infinity when reconstruction is exact. */
  sqnrDb: number;
  mse: number;
  maxAbsError: number;
  cosine: number;
  relativeL2: number;
  /** Values outside the representable range (saturated, or overflowed to infinity). */
  clippedFraction: number;
  /** Non-zero values that quantize to zero. */
  zeroedFraction: number;
  /** SQNR (dB) per channel x block (row-major), the heatmap data; 1 x 1 without a layout. */
  grid: { channels: number; blocks: number; sqnrDb: Float64Array };
}

/** Everything QuantLens computes for a tensor. */
export interface TensorAnalysis {
  stats: TensorStats;
  histogram: Histogram;
  schemes: Record<string, SchemeMetrics>;
}

/** One scheme prepared for the fused pass: maps value i (in group g) to its reconstruction. */
interface Prepared {
  id: string;
  /** Group of element at (channel, k) for the error grid and integer parameters. */
  blocks: number;
  blockSize: number;
  perTensor: boolean;
  reconstruct: (x: number, group: number) => number;
  clipped: (x: number, group: number) => boolean;
  // Accumulators.
  noise: Float64Array;
  signal: Float64Array;
  dot: number;
  hatSq: number;
  maxAbs: number;
  clips: number;
  zeroed: number;
}

const fround = Math.fround;
const sqnr = (signal: number, noise: number): number => (noise === 0 ? Infinity : 10 * Math.log10(signal / noise));

function prepare(scheme: Scheme, data: Float32Array, layout: Layout2D | undefined, channels: number, reduction: number): Prepared {
  const base = { id: scheme.id, dot: 0, hatSq: 0, maxAbs: 0, clips: 0, zeroed: 0 };
  if (scheme.kind === 'int') {
    const effective = layout ?? { rows: 1, cols: data.length, channelAxis: 0 as const };
    const perTensor = scheme.granularity.kind === 'tensor' || !layout;
    const params: IntParams = intParams(data, effective, perTensor ? { ...scheme, granularity: { kind: 'tensor' } } : scheme);
    const blockSize = scheme.granularity.kind === 'block' && layout ? scheme.granularity.size : reduction;
    const blocks = Math.ceil(reduction / blockSize);
    const { qmin, qmax } = intRange(scheme);
    const { scales, zeroPoints } = params;
    const grid = channels * blocks;
    return {
      ...base, blocks, blockSize, perTensor,
      noise: new Float64Array(grid), signal: new Float64Array(grid),
      reconstruct: (x, g) => quantDequantInt(x, scales[g], zeroPoints[g], qmin, qmax),
      clipped: (x, g) => {
        const s = scales[g];
        if (s === 0) return false;
        const q = roundHalfEven(fround(x / s)) + zeroPoints[g];
        return q < qmin || q > qmax;
      },
    };
  }
  const grid = channels;
  const common = { ...base, blocks: 1, blockSize: reduction, perTensor: true, noise: new Float64Array(grid), signal: new Float64Array(grid) };
  if (scheme.format === 'bf16') {
    return { ...common, reconstruct: (x) => roundToBfloat16(x), clipped: (x) => !Number.isFinite(roundToBfloat16(x)) };
  }
  if (scheme.format === 'fp16') {
    return { ...common, reconstruct: (x) => roundToMiniFloat(x, FP16), clipped: (x) => Math.abs(x) > FP16.max };
  }
  const format: MiniFloat = scheme.format === 'fp8-e4m3' ? FP8_E4M3FN : FP8_E5M2;
  const scale = fp8Scale(data, scheme.format);
  return {
    ...common,
    reconstruct: (x) => quantDequantFp8(x, scale, format),
    clipped: (x) => scale !== 0 && Math.abs(fround(x / scale)) > format.max,
  };
}

/**
 * Analyses a tensor. `layout` (rows x cols with channels on one axis) enables per-channel and block schemes
 * and the per-channel error grid; without it integer schemes fall back to per-tensor scaling.
 */
export function analyzeTensor(data: Float32Array, layout: Layout2D | undefined, schemes: readonly Scheme[], bins = 256): TensorAnalysis {
  // Range pass: min, max, sum of finite values (integer scales are found by intParams in prepare()).
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nans = 0;
  let infs = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      finite++;
    } else if (Number.isNaN(v)) {
      nans++;
    } else {
      infs++;
    }
  }
  const mean = finite ? sum / finite : 0;
  const channels = layout ? (layout.channelAxis === 0 ? layout.rows : layout.cols) : 1;
  const reduction = layout ? (layout.channelAxis === 0 ? layout.cols : layout.rows) : data.length;
  const prepared = schemes.map((s) => prepare(s, data, layout, channels, reduction));
  const counts = new Uint32Array(bins);
  const width = max > min ? (max - min) / bins : 1;
  let m2 = 0;
  let m4 = 0;
  let zeros = 0;
  let signalTotal = 0;
  const rows = layout?.rows ?? 1;
  const cols = layout?.cols ?? data.length;
  const channelAxis = layout?.channelAxis ?? 0;

  // Fused pass, in storage order.
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const x = data[i];
      if (!Number.isFinite(x)) continue;
      const d = x - mean;
      const d2 = d * d;
      m2 += d2;
      m4 += d2 * d2;
      if (x === 0) zeros++;
      counts[Math.min(bins - 1, Math.floor((x - min) / width))]++;
      const x2 = x * x;
      signalTotal += x2;
      const channel = channelAxis === 0 ? r : c;
      const k = channelAxis === 0 ? c : r;
      for (const p of prepared) {
        const cell = channel * p.blocks + (p.blocks === 1 ? 0 : Math.floor(k / p.blockSize));
        const group = p.perTensor ? 0 : cell;
        const hat = p.reconstruct(x, group);
        const e = x - hat;
        p.noise[cell] += e * e;
        p.signal[cell] += x2;
        p.dot += x * hat;
        p.hatSq += hat * hat;
        const ae = Math.abs(e);
        if (ae > p.maxAbs || Number.isNaN(ae)) p.maxAbs = ae;
        if (x !== 0 && hat === 0) p.zeroed++;
        if (p.clipped(x, group)) p.clips++;
      }
    }
  }
  const variance = finite ? m2 / finite : 0;
  const std = Math.sqrt(variance);
  const absmax = finite ? Math.max(-min, max) : 0;
  const nonZero = finite - zeros;
  const result: Record<string, SchemeMetrics> = {};
  for (const p of prepared) {
    let noise = 0;
    for (const n of p.noise) noise += n;
    const sqnrGrid = new Float64Array(p.noise.length);
    for (let j = 0; j < sqnrGrid.length; j++) sqnrGrid[j] = sqnr(p.signal[j], p.noise[j]);
    const norms = Math.sqrt(signalTotal) * Math.sqrt(p.hatSq);
    result[p.id] = {
      sqnrDb: sqnr(signalTotal, noise),
      mse: finite ? noise / finite : 0,
      maxAbsError: p.maxAbs,
      cosine: norms === 0 ? (signalTotal === p.hatSq ? 1 : 0) : p.dot / norms,
      relativeL2: signalTotal === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / signalTotal),
      clippedFraction: finite ? p.clips / finite : 0,
      zeroedFraction: nonZero ? p.zeroed / nonZero : 0,
      grid: { channels, blocks: p.blocks, sqnrDb: sqnrGrid },
    };
  }
  return {
    stats: {
      count: data.length, min: finite ? min : NaN, max: finite ? max : NaN, mean, std,
      kurtosis: variance > 0 ? m4 / finite / (variance * variance) - 3 : 0,
      absmax, outlierRatio: std > 0 ? absmax / std : 0, zeros, nans, infs,
    },
    histogram: { min: finite ? min : 0, max: finite ? max : 0, counts },
    schemes: result,
  };
}
