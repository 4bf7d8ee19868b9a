/**
 * Analysis of one weight tensor: statistics, a histogram and every selected scheme's error, computed with
 * one range pass (min/max, per-group scales) and one fused pass over the values for everything else.
 */
import { fp8Scale, intParams, type IntParams, type Layout2D } from '../quant/fakeQuant';
import { FP16, FP8_E4M3FN, FP8_E5M2, type MiniFloat } from '../quant/rounding';
import { intRange, type Scheme } from '../quant/schemes';
import { scratch } from '../scratch';

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

const KIND_INT = 0;
const KIND_FP16 = 1;
const KIND_BF16 = 2;
const KIND_FP8 = 3;
/** 1.5 * 2^52: in float64, (v + RNE) - RNE rounds v to an integer with ties to even (|v| < 2^51). */
const RNE = 6755399441055744;
const POW2 = Float64Array.from({ length: 300 }, (_, k) => 2 ** (k - 150));
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
const fround = Math.fround;

/** Rounds a finite float32 value to a narrower binary float (ties to even); overflow saturates or gives Infinity. */
function roundMini(y: number, mantissaBits: number, minExponent: number, max: number, saturate: boolean): number {
  const a = y < 0 ? -y : y;
  if (a === 0) return y;
  scratchF32[0] = a;
  let e = ((scratchU32[0] >>> 23) & 0xff) - 127;
  if (e < minExponent) e = minExponent;
  const c = POW2[e - mantissaBits + 150] * RNE;
  let r = a + c - c;
  if (r > max) r = saturate ? max : Infinity;
  return y < 0 ? -r : r;
}

/** One scheme prepared for the fused pass: its parameters and accumulators (one hidden class for all kinds). */
class Prepared {
  noise: Float64Array;
  /** Sum of x * e (e = x - x_hat): with signal and noise it gives cosine without two more accumulators. */
  xe = 0;
  maxAbs = 0;
  clips = 0;
  zeroed = 0;
  constructor(
    readonly id: string,
    readonly kind: number,
    readonly blocks: number,
    readonly blockSize: number,
    readonly perTensor: boolean,
    readonly scales: Float32Array,
    readonly zeroPoints: Int32Array,
    readonly qmin: number,
    readonly qmax: number,
    readonly mantissaBits: number,
    readonly minExponent: number,
    readonly fmax: number,
    readonly scale: number,
    cells: number,
    slot: number,
  ) {
    // Internal accumulator: reused scratch memory (see core/scratch.ts).
    this.noise = scratch.float64(1 + slot, cells);
  }
}

const sqnr = (signal: number, noise: number): number => (noise === 0 ? Infinity : 10 * Math.log10(signal / noise));

function prepare(scheme: Scheme, data: Float32Array, layout: Layout2D | undefined, channels: number, reduction: number, slot: number): Prepared {
  const none = new Float32Array(0);
  const noZp = new Int32Array(0);
  if (scheme.kind === 'int') {
    const perTensor = scheme.granularity.kind === 'tensor' || !layout;
    const effective = layout ?? { rows: 1, cols: data.length, channelAxis: 0 as const };
    const params: IntParams = intParams(data, effective, perTensor ? { ...scheme, granularity: { kind: 'tensor' } } : scheme);
    const blockSize = scheme.granularity.kind === 'block' && layout ? scheme.granularity.size : reduction;
    const blocks = Math.ceil(reduction / blockSize);
    const { qmin, qmax } = intRange(scheme);
    return new Prepared(scheme.id, KIND_INT, blocks, blockSize, perTensor, params.scales, params.zeroPoints, qmin, qmax, 0, 0, 0, 1, channels * blocks, slot);
  }
  const make = (kind: number, mantissaBits: number, minExponent: number, fmax: number, scale: number): Prepared =>
    new Prepared(scheme.id, kind, 1, reduction, true, none, noZp, 0, 0, mantissaBits, minExponent, fmax, scale, channels, slot);
  switch (scheme.format) {
    case 'fp16': return make(KIND_FP16, FP16.mantissaBits, FP16.minExponent, FP16.max, 1);
    case 'bf16': return make(KIND_BF16, 7, -126, 0, 1);
    default: {
      const f: MiniFloat = scheme.format === 'fp8-e4m3' ? FP8_E4M3FN : FP8_E5M2;
      return make(KIND_FP8, f.mantissaBits, f.minExponent, f.max, fp8Scale(data, scheme.format));
    }
  }
}

// One loop per scheme kind, so each stays monomorphic and tight. Element i of data[start, end) falls in
// error-grid cell `cell + (i - start) * step`; integer groups are the cells unless the scheme is per tensor.

/**
 * Integer scheme over a run whose values share one error cell and one scale (rows of channel-major
 * layouts, per-tensor chunks). Two interleaved accumulator sets halve the add-latency chains.
 */
function intConst(p: Prepared, data: Float32Array, start: number, end: number, cell: number): void {
  const g = p.perTensor ? 0 : cell;
  const s = p.scales[g];
  if (s === 0) {
    intRun(p, data, start, end, cell, 0);
    return;
  }
  const zp = p.zeroPoints[g];
  const { qmin, qmax } = p;
  let n0 = 0;
  let n1 = 0;
  let xe0 = 0;
  let xe1 = 0;
  let maxAbs = p.maxAbs;
  let clips = 0;
  let zeroed = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const x = data[i];
    const y = data[i + 1];
    if (x - x === 0) {
      let q = fround(x / s) + RNE - RNE + zp;
      if (q < qmin) {
        q = qmin;
        clips++;
      } else if (q > qmax) {
        q = qmax;
        clips++;
      }
      const hat = fround((q - zp) * s);
      const e = x - hat;
      n0 += e * e;
      xe0 += x * e;
      maxAbs = Math.max(maxAbs, Math.abs(e));
      if (hat === 0 && x !== 0) zeroed++;
    }
    if (y - y === 0) {
      let q = fround(y / s) + RNE - RNE + zp;
      if (q < qmin) {
        q = qmin;
        clips++;
      } else if (q > qmax) {
        q = qmax;
        clips++;
      }
      const hat = fround((q - zp) * s);
      const e = y - hat;
      n1 += e * e;
      xe1 += y * e;
      maxAbs = Math.max(maxAbs, Math.abs(e));
      if (hat === 0 && y !== 0) zeroed++;
    }
  }
  p.noise[cell] += n0 + n1;
  p.xe += xe0 + xe1;
  p.maxAbs = maxAbs;
  p.clips += clips;
  p.zeroed += zeroed;
  if (i < end) intRun(p, data, i, end, cell, 0);
}

/**
 * Integer scheme over a run where element k falls in cell `cell + k * step` (rows of MatMul [K, N] weights:
 * one channel per element). Scales are per cell unless the scheme is per tensor.
 */
function intRun(p: Prepared, data: Float32Array, start: number, end: number, cell: number, step: number): void {
  const { scales, zeroPoints, qmin, qmax, noise } = p;
  const grouped = !p.perTensor;
  let xe0 = 0;
  let maxAbs = p.maxAbs;
  let clips = 0;
  let zeroed = 0;
  for (let i = start; i < end; i++, cell += step) {
    const x = data[i];
    if (x - x !== 0) continue; // NaN or +-Infinity: counted in the stats, not in the errors
    const g = grouped ? cell : 0;
    const s = scales[g];
    let hat = 0;
    if (s !== 0) {
      const zp = zeroPoints[g];
      let q = fround(x / s) + RNE - RNE + zp;
      if (q < qmin) {
        q = qmin;
        clips++;
      } else if (q > qmax) {
        q = qmax;
        clips++;
      }
      hat = fround((q - zp) * s);
    }
    const e = x - hat;
    noise[cell] += e * e;
    xe0 += x * e;
    maxAbs = Math.max(maxAbs, Math.abs(e)); // (a compare-and-branch here is twice as slow in V8)
    if (hat === 0 && x !== 0) zeroed++;
  }
  p.xe += xe0;
  p.maxAbs = maxAbs;
  p.clips += clips;
  p.zeroed += zeroed;
}

function floatRun(p: Prepared, data: Float32Array, start: number, end: number, cell: number, step: number): void {
  const { kind, noise, mantissaBits, minExponent, fmax, scale } = p;
  let xe = 0;
  let maxAbs = p.maxAbs;
  let clips = 0;
  let zeroed = 0;
  for (let i = start; i < end; i++, cell += step) {
    const x = data[i];
    if (x - x !== 0) continue;
    let hat: number;
    if (kind === KIND_FP16) {
      hat = roundMini(x, mantissaBits, minExponent, fmax, false);
      if (x > fmax || x < -fmax) clips++;
    } else if (kind === KIND_BF16) {
      scratchF32[0] = x;
      const u = scratchU32[0];
      scratchU32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
      hat = scratchF32[0];
      if (hat - hat !== 0) clips++;
    } else if (scale === 0) {
      hat = 0;
    } else {
      const y = fround(x / scale);
      if (y > fmax || y < -fmax) clips++;
      hat = fround(roundMini(y, mantissaBits, minExponent, fmax, true) * scale);
    }
    const e = x - hat;
    noise[cell] += e * e;
    xe += x * e;
    maxAbs = Math.max(maxAbs, Math.abs(e));
    if (hat === 0 && x !== 0) zeroed++;
  }
  p.xe += xe;
  p.maxAbs = maxAbs;
  p.clips += clips;
  p.zeroed += zeroed;
}

function accumulate(p: Prepared, data: Float32Array, start: number, end: number, cell: number, step: number): void {
  if (p.kind === KIND_INT) {
    if (step === 0) intConst(p, data, start, end, cell);
    else intRun(p, data, start, end, cell, step);
  } else {
    floatRun(p, data, start, end, cell, step);
  }
}

/** Min, max and sum of the finite values. (Hot loops live in small functions: V8 optimises those best.) */
function range(data: Float32Array): { min: number; max: number; sum: number; finite: number } {
  let min = Infinity;
  let max = -Infinity;
  // Two partial sums: halves the add-latency chain.
  let sum0 = 0;
  let sum1 = 0;
  let finite = 0;
  const n = data.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = data[i];
    const u = data[i + 1];
    if (v - v === 0 && u - u === 0) {
      // Compare-and-branch: the branch is almost never taken, unlike Math.min's NaN/-0 handling.
      if (v < min) min = v;
      if (v > max) max = v;
      if (u < min) min = u;
      if (u > max) max = u;
      sum0 += v;
      sum1 += u;
      finite += 2;
    } else {
      if (v - v === 0) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum0 += v;
        finite++;
      }
      if (u - u === 0) {
        if (u < min) min = u;
        if (u > max) max = u;
        sum1 += u;
        finite++;
      }
    }
  }
  for (; i < n; i++) {
    const v = data[i];
    if (v - v === 0) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum0 += v;
      finite++;
    }
  }
  return { min, max, sum: sum0 + sum1, finite };
}

/** Moments, zeros, histogram and signal per fine cell of runs of values. */
class StatsState {
  m2 = 0;
  m4 = 0;
  zeros = 0;
  constructor(
    readonly mean: number,
    readonly min: number,
    readonly invWidth: number,
    readonly counts: Uint32Array,
    readonly fineSignal: Float64Array,
  ) {}
}

// Statistics over data[start, end): "const" runs add their signal to one fine cell, "strided" runs to cell,
// cell + step, ... (one per element). The total signal is the sum of the fine cells.

function statsConst(st: StatsState, data: Float32Array, start: number, end: number, cell: number): void {
  const { mean, min, invWidth, counts } = st;
  const last = counts.length - 1;
  let m2 = 0;
  let m4 = 0;
  let zeros = 0;
  let signal = 0;
  for (let i = start; i < end; i++) {
    const x = data[i];
    if (x - x === 0) {
      const d = x - mean;
      const d2 = d * d;
      m2 += d2;
      m4 += d2 * d2;
      if (x === 0) zeros++;
      const bin = ((x - min) * invWidth) | 0;
      counts[bin < last ? bin : last]++;
      signal += x * x;
    }
  }
  st.fineSignal[cell] += signal;
  st.m2 += m2;
  st.m4 += m4;
  st.zeros += zeros;
}

function statsStrided(st: StatsState, data: Float32Array, start: number, end: number, cell: number, step: number): void {
  const { mean, min, invWidth, counts, fineSignal } = st;
  const last = counts.length - 1;
  let m2 = 0;
  let m4 = 0;
  let zeros = 0;
  for (let i = start; i < end; i++, cell += step) {
    const x = data[i];
    if (x - x === 0) {
      const d = x - mean;
      const d2 = d * d;
      m2 += d2;
      m4 += d2 * d2;
      if (x === 0) zeros++;
      const bin = ((x - min) * invWidth) | 0;
      counts[bin < last ? bin : last]++;
      fineSignal[cell] += x * x;
    }
  }
  st.m2 += m2;
  st.m4 += m4;
  st.zeros += zeros;
}

function signalConst(st: StatsState, data: Float32Array, start: number, end: number, cell: number): void {
  let s0 = 0;
  let s1 = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const x = data[i];
    const y = data[i + 1];
    if (x - x === 0) s0 += x * x;
    if (y - y === 0) s1 += y * y;
  }
  if (i < end && data[i] - data[i] === 0) s0 += data[i] * data[i];
  st.fineSignal[cell] += s0 + s1;
}

function signalStrided(st: StatsState, data: Float32Array, start: number, end: number, cell: number, step: number): void {
  const { fineSignal } = st;
  for (let i = start; i < end; i++, cell += step) {
    const x = data[i];
    if (x - x === 0) fineSignal[cell] += x * x;
  }
}

/** Counts of the finite values in `bins` equal bins over [min, max] (what the histogram view re-bins with). */
export function histogram(data: Float32Array, bins = 256): Histogram {
  const { min, max, finite } = range(data);
  const counts = new Uint32Array(bins);
  const invWidth = max > min ? bins / (max - min) : 0;
  const last = bins - 1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x === 0) {
      const bin = ((x - min) * invWidth) | 0;
      counts[bin < last ? bin : last]++;
    }
  }
  return { min: finite ? min : 0, max: finite ? max : 0, counts };
}

/** Options of analyzeTensor. */
export interface AnalyzeOptions {
  /** Histogram bins (default 256). */
  bins?: number;
  /** Compute moments, zeros and the histogram (default true); false gives scheme errors and range only. */
  statistics?: boolean;
  /** Fill the per-channel x per-block SQNR grids (default true); false leaves them empty (shape kept). */
  grids?: boolean;
}

/** Rows of this many values are processed at once when a tensor has no layout (keeps them in cache). */
const CHUNK = 4096;

/**
 * Analyses a tensor. `layout` (rows x cols with channels on one axis) enables per-channel and block schemes
 * and the per-channel error grid; without it integer schemes fall back to per-tensor scaling.
 * Memory is read in rows: each row is read once from RAM, then statistics, histogram and every scheme run
 * over it while it is in cache.
 */
export function analyzeTensor(data: Float32Array, layout: Layout2D | undefined, schemes: readonly Scheme[], options: number | AnalyzeOptions = {}): TensorAnalysis {
  const { bins = 256, statistics = true, grids = true } = typeof options === 'number' ? { bins: options } : options;
  const runConst = statistics ? statsConst : signalConst;
  const runStrided = statistics ? statsStrided : signalStrided;
  // Range pass: min, max, sum of finite values (integer scales are found by intParams in prepare()).
  const { min, max, sum, finite } = range(data);
  let nans = 0;
  let infs = 0;
  if (finite < data.length) {
    for (let i = 0; i < data.length; i++) {
      if (Number.isNaN(data[i])) nans++;
      else if (!Number.isFinite(data[i])) infs++;
    }
  }
  const mean = finite ? sum / finite : 0;
  const channels = layout ? (layout.channelAxis === 0 ? layout.rows : layout.cols) : 1;
  const reduction = layout ? (layout.channelAxis === 0 ? layout.cols : layout.rows) : data.length;
  const prepared = schemes.map((s, i) => prepare(s, data, layout, channels, reduction, i));
  const counts = new Uint32Array(bins);
  const invWidth = max > min ? bins / (max - min) : 0;
  const rows = layout ? layout.rows : Math.ceil(data.length / CHUNK);
  const cols = layout ? layout.cols : CHUNK;
  // Signal (sum of x^2) per channel and per `fine` values along the reduction axis, once for all schemes:
  // every scheme's grid cell is a union of fine cells (block sizes are multiples of the smallest one).
  const fine = layout ? Math.min(reduction, ...prepared.map((p) => p.blockSize)) : reduction;
  const fineBlocks = Math.ceil(reduction / fine);
  const fineSignal = scratch.float64(0, channels * fineBlocks);
  const st = new StatsState(mean, min, invWidth, counts, fineSignal);

  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    const end = Math.min(start + cols, data.length);
    if (!layout) {
      runConst(st, data, start, end, 0);
    } else if (layout.channelAxis === 1) {
      runStrided(st, data, start, end, (r / fine) | 0, fineBlocks);
    } else {
      for (let s = start, cell = r * fineBlocks; s < end; s += fine, cell++) runConst(st, data, s, Math.min(s + fine, end), cell);
    }
    for (const p of prepared) {
      if (!layout) {
        accumulate(p, data, start, end, 0, 0);
      } else if (layout.channelAxis === 1) {
        // Row r is one step of the reduction axis: element c is channel c, block r / blockSize.
        accumulate(p, data, start, end, p.blocks === 1 ? 0 : (r / p.blockSize) | 0, p.blocks);
      } else {
        // Row r is channel r: runs of blockSize values share one cell.
        for (let b = 0, s = start; s < end; b++, s += p.blockSize) {
          accumulate(p, data, s, Math.min(s + p.blockSize, end), r * p.blocks + b, 0);
        }
      }
    }
  }
  const { m2, m4, zeros } = st;
  let signalTotal = 0;
  for (const f of fineSignal) signalTotal += f;
  const variance = finite ? m2 / finite : 0;
  const std = Math.sqrt(variance);
  const absmax = finite ? Math.max(-min, max) : 0;
  const nonZero = finite - zeros;
  const result: Record<string, SchemeMetrics> = {};
  for (const p of prepared) {
    let noise = 0;
    for (const n of p.noise) noise += n;
    const sqnrGrid = new Float64Array(grids ? p.noise.length : 0);
    const perCell = layout ? p.blockSize / fine : 1;
    for (let j = 0; j < sqnrGrid.length; j++) {
      let signal = layout ? 0 : signalTotal;
      if (layout) {
        const channel = Math.floor(j / p.blocks);
        const first = channel * fineBlocks + (j % p.blocks) * perCell;
        const last = Math.min(first + perCell, (channel + 1) * fineBlocks);
        for (let f = first; f < last; f++) signal += fineSignal[f];
      }
      sqnrGrid[j] = sqnr(signal, p.noise[j]);
    }
    // x . x_hat = sum x^2 - sum x e;  |x_hat|^2 = sum x^2 - 2 sum x e + sum e^2
    const dot = signalTotal - p.xe;
    const hatSq = signalTotal - 2 * p.xe + noise;
    const norms = Math.sqrt(signalTotal) * Math.sqrt(hatSq);
    result[p.id] = {
      sqnrDb: sqnr(signalTotal, noise),
      mse: finite ? noise / finite : 0,
      maxAbsError: p.maxAbs,
      cosine: norms === 0 ? (signalTotal === hatSq ? 1 : 0) : dot / norms,
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
