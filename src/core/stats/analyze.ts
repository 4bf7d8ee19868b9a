/**
 * Analysis of one weight tensor: statistics, a histogram and every selected scheme's error, computed by the
 * WebAssembly SIMD kernels (assembly/kernels.ts) in one range pass (min/max, per-group ranges) and one fused
 * pass over the values for everything else.
 */
import { fakeQuantize, type Layout2D } from '../quant/fakeQuant';
import type { Scheme } from '../quant/schemes';
import { kernels, type Kernels, type Views } from '../wasm/kernels';
import {
  cellCount,
  chunkBytes,
  coarseSignal,
  flat,
  forEachBlock,
  forEachChunk,
  geometry,
  sqnr,
  sqnrGrid,
  total,
  type Geometry,
} from './kernelGeometry';
import { FP8, SchemeRun } from './schemeRun';

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

/**
 * Quantizes and dequantizes `data` under a scheme into `out` with the kernels, in the analysis's two passes
 * (ranges and group ranges, then the reconstruction a chunk of rows at a time). Bit-equal to fakeQuantize
 * (src/core/quant/fakeQuant.ts, the scalar reference); the two cases where a stored scale of 1 in place of 0
 * would differ (±Infinity under an integer scheme, fp8 of a tensor without a non-zero finite value) take the
 * scalar path. Without a layout, integer schemes are per tensor, as in the analysis.
 */
export function reconstruct(
  data: Float32Array,
  layout: Layout2D | undefined,
  scheme: Scheme,
  out = new Float32Array(data.length),
): Float32Array {
  if (data.length === 0) return out;
  const g = geometry(data.length, layout);
  const kern = kernels();
  const { k } = kern;
  kern.reset();
  const chunk = kern.alloc(chunkBytes(g));
  const hat = kern.alloc(chunkBytes(g));
  const rangeAcc = kern.alloc(8 * 6);
  const run = new SchemeRun(scheme, g, kern);
  const v = kern.commit();
  const ra = v.float64(rangeAcc, 6);
  ra[0] = Infinity;
  ra[1] = -Infinity;
  let lanes = 0;
  forEachChunk(data, g, v, chunk, (c) => {
    k.minMax(c.x, c.lanes, rangeAcc);
    lanes += c.lanes;
    if (run.grouped) run.groupRange(k, g, c);
  });
  const [min, max, , finite, nanLanes] = ra;
  const infs = data.length - finite - (nanLanes - (lanes - data.length));
  if (needsScalarPath(scheme, infs, finite ? Math.max(-min, max) : 0)) {
    return fakeQuantize(
      data,
      layout ?? { rows: 1, cols: data.length, channelAxis: 0 },
      scheme.kind === 'int' && !layout ? { ...scheme, granularity: { kind: 'tensor' } } : scheme,
      out,
    );
  }
  run.choose(k, v, min, max, finite);
  const base = hat / 4;
  forEachChunk(data, g, v, chunk, (c) => {
    run.reconstruct(k, g, c, hat);
    const start = c.r0 * g.cols;
    if (g.stride === g.cols) {
      out.set(v.f32.subarray(base, base + c.values), start);
    } else {
      for (let r = c.r0; r < c.r1; r++)
        out.set(v.f32.subarray(base + (r - c.r0) * g.stride, base + (r - c.r0) * g.stride + g.cols), r * g.cols);
    }
  });
  return out;
}

/** Where a stored scale of 1 in place of 0 would make the kernels differ from fakeQuantize (see reconstruct). */
function needsScalarPath(scheme: Scheme, infs: number, absmax: number): boolean {
  if (scheme.kind === 'int') return infs > 0;
  return (
    (scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2') &&
    Math.fround(absmax / FP8[scheme.format].f.max) === 0
  );
}

/** Counts of the finite values in `bins` equal bins over [min, max] (what the histogram view re-bins with). */
export function histogram(data: Float32Array | ValueSource, bins = 256): Histogram {
  const kern = kernels();
  const { k } = kern;
  const g = flat(data.length);
  kern.reset();
  const chunk = kern.alloc(chunkBytes(g));
  const acc = kern.alloc(8 * 6);
  const counts = kern.alloc(4 * 4 * (bins + 1));
  const v = kern.commit();
  const a = v.float64(acc, 6);
  a[0] = Infinity;
  a[1] = -Infinity;
  forEachChunk(data, g, v, chunk, (c) => k.minMax(c.x, c.lanes, acc));
  const [min, max, , finite] = a;
  const invWidth = max > min ? bins / (max - min) : 0;
  forEachChunk(data, g, v, chunk, (c) =>
    k.histogram(finite < data.length || c.lanes !== c.values, c.x, c.lanes, min, invWidth, counts, bins),
  );
  return { min: finite ? min : 0, max: finite ? max : 0, counts: sumCounts(v, counts, bins) };
}

/** The four interleaved histograms of the kernels, added up. */
function sumCounts(v: Views, counts: number, bins: number): Uint32Array {
  const out = new Uint32Array(bins);
  const base = counts / 4;
  for (let h = 0; h < 4; h++) {
    for (let b = 0; b < bins; b++) out[b] += v.u32[base + h * (bins + 1) + b];
  }
  return out;
}

/**
 * A tensor's float32 values read a piece at a time (a file range, from src/node): analysing it never holds
 * the whole tensor in memory, and each piece goes straight into the kernels' memory.
 */
export interface ValueSource {
  readonly length: number;
  /** Copies values [start, end) into `into` (of length end - start); throws when they cannot be read. */
  read(start: number, end: number, into: Float32Array): void;
}

/** Options of analyzeTensor (one tensor; src/node/modelAnalyzer.ts has the options of a whole model's analysis). */
export interface TensorAnalysisOptions {
  /** Histogram bins (default 256). */
  bins?: number;
  /** Compute moments, zeros and the histogram (default true); false gives scheme errors and range only. */
  statistics?: boolean;
  /** Fill the per-channel x per-block SQNR grids (default true); false leaves them empty (shape kept). */
  grids?: boolean;
}

/** The kernel memory of one analysis: the chunk, accumulators, histogram counts, one run per scheme and the fine signal cells. */
interface AnalysisMemory {
  chunk: number;
  rangeAcc: number;
  momentAcc: number;
  counts: number;
  runs: SchemeRun[];
  /** Signal cells are `fine` values long along the reduction axis, `fineBlocks` per channel. */
  fine: number;
  fineBlocks: number;
  signal: number;
}

/** What the range pass found: min, max, sum, counts of finite, NaN, Inf and zero values, lanes visited. */
interface RangeResult {
  min: number;
  max: number;
  sum: number;
  finite: number;
  nans: number;
  infs: number;
  zeros: number;
  lanes: number;
}

function allocate(kern: Kernels, g: Geometry, schemes: readonly Scheme[], bins: number): AnalysisMemory {
  const chunk = kern.alloc(chunkBytes(g));
  const rangeAcc = kern.alloc(8 * 6);
  const momentAcc = kern.alloc(8 * 2);
  const counts = kern.alloc(4 * 4 * (bins + 1));
  const runs = schemes.map((s) => new SchemeRun(s, g, kern));
  // Signal (sum of x^2) per channel and per `fine` values along the reduction axis, once for all schemes:
  // every scheme's grid cell is a union of fine cells (block sizes are multiples of the smallest one).
  const fine = Math.max(1, Math.min(g.reduction, ...runs.map((p) => p.blockSize)));
  const fineBlocks = Math.ceil(g.reduction / fine);
  const signal = kern.alloc(8 * cellCount(g, fineBlocks));
  return { chunk, rangeAcc, momentAcc, counts, runs, fine, fineBlocks, signal };
}

/** Pass 1: range, sum, finite and zero counts, and the integer schemes' group ranges. */
function rangePass(
  data: Float32Array | ValueSource,
  g: Geometry,
  kern: Kernels,
  v: Views,
  m: AnalysisMemory,
): RangeResult {
  const { k } = kern;
  const ra = v.float64(m.rangeAcc, 6);
  ra[0] = Infinity;
  ra[1] = -Infinity;
  const grouped = m.runs.filter((p) => p.grouped);
  let lanes = 0;
  forEachChunk(data, g, v, m.chunk, (c) => {
    k.range(c.x, c.lanes, m.rangeAcc);
    lanes += c.lanes;
    for (const p of grouped) p.groupRange(k, g, c);
  });
  const [min, max, sum, finite, nanLanes, zeros] = ra;
  const nans = nanLanes - (lanes - data.length);
  return { min, max, sum, finite, nans, infs: data.length - finite - nans, zeros, lanes };
}

/** Pass 2: moments and histogram (with `statistics`), the fine signal cells and every scheme's errors. */
function errorPass(
  data: Float32Array | ValueSource,
  g: Geometry,
  kern: Kernels,
  v: Views,
  m: AnalysisMemory,
  range: RangeResult,
  statistics: boolean,
  bins: number,
): void {
  const { k } = kern;
  const { min, max, finite } = range;
  const mean = finite ? range.sum / finite : 0;
  const invWidth = max > min ? bins / (max - min) : 0;
  const { fine, fineBlocks, signal } = m;
  forEachChunk(data, g, v, m.chunk, (c) => {
    // Kernels without checks need every lane a finite value (padding is NaN).
    const checked = finite < data.length || c.lanes !== c.values;
    if (statistics) k.moments(checked, c.x, c.lanes, mean, min, invWidth, m.counts, bins, m.momentAcc);
    if (g.shape === 'strided')
      forEachBlock(g, c, fine, (b, x, rows) => k.signalStrided(x, g.cols, rows, g.stride, signal + 8 * b * g.pad));
    else if (g.shape === 'runs') k.signalRuns(c.x, g.cols, c.r1 - c.r0, g.stride, fine, signal + 8 * c.r0 * fineBlocks);
    else k.signalRuns(c.x, c.values, 1, c.values, c.values, signal);
    for (const p of m.runs) p.accumulate(k, g, c, checked);
  });
}

/** Every scheme's metrics from its accumulated errors and the signal (grids only with `grids`). */
function schemeMetrics(
  g: Geometry,
  v: Views,
  m: AnalysisMemory,
  range: RangeResult,
  grids: boolean,
): Record<string, SchemeMetrics> {
  const { finite, zeros, lanes } = range;
  const fineSignal = v.float64(m.signal, cellCount(g, m.fineBlocks));
  const signalTotal = total(fineSignal);
  const nonZero = finite - zeros;
  const result: Record<string, SchemeMetrics> = {};
  // Signal per cell, by blocks per channel (schemes of one block size share it).
  const coarse = new Map<number, Float64Array>();
  for (const p of m.runs) {
    const cells = v.float64(p.noise, cellCount(g, p.blocks));
    const noise = total(cells);
    let signalCells = coarse.get(p.blocks);
    if (grids && !signalCells) {
      signalCells = coarseSignal(g, fineSignal, m.fineBlocks, p.blocks, p.blockSize / m.fine);
      coarse.set(p.blocks, signalCells);
    }
    const grid = signalCells ? sqnrGrid(g, cells, signalCells, p.blocks) : new Float64Array(0);
    const [xe, maxAbs, clips, zeroLanes] = v.float64(p.acc, 4);
    const zeroed = zeroLanes - (lanes - finite) - zeros;
    // x . x_hat = sum x^2 - sum x e;  |x_hat|^2 = sum x^2 - 2 sum x e + sum e^2
    const dot = signalTotal - xe;
    const hatSq = signalTotal - 2 * xe + noise;
    const norms = Math.sqrt(signalTotal) * Math.sqrt(hatSq);
    result[p.scheme.id] = {
      sqnrDb: sqnr(signalTotal, noise),
      mse: finite ? noise / finite : 0,
      maxAbsError: maxAbs,
      cosine: norms === 0 ? (signalTotal === hatSq ? 1 : 0) : dot / norms,
      relativeL2: signalTotal === 0 ? (noise === 0 ? 0 : Infinity) : Math.sqrt(noise / signalTotal),
      clippedFraction: finite ? clips / finite : 0,
      zeroedFraction: nonZero ? zeroed / nonZero : 0,
      grid: { channels: g.channels, blocks: p.blocks, sqnrDb: grid },
    };
  }
  return result;
}

/** Statistics from the range pass and the central moments m2, m4 (sums over the finite values). */
function tensorStats(count: number, range: RangeResult, m2: number, m4: number): TensorStats {
  const { min, max, finite } = range;
  const variance = finite ? m2 / finite : 0;
  const std = Math.sqrt(variance);
  const absmax = finite ? Math.max(-min, max) : 0;
  return {
    count,
    min: finite ? min : NaN,
    max: finite ? max : NaN,
    mean: finite ? range.sum / finite : 0,
    std,
    kurtosis: variance > 0 ? m4 / finite / (variance * variance) - 3 : 0,
    absmax,
    outlierRatio: std > 0 ? absmax / std : 0,
    zeros: range.zeros,
    nans: range.nans,
    infs: range.infs,
  };
}

/**
 * Analyses a tensor. `layout` (rows x cols with channels on one axis) enables per-channel and block schemes
 * and the per-channel error grid; without it integer schemes fall back to per-tensor scaling.
 * Two passes over the values, each copying a chunk of rows at a time into the kernels' memory: range and
 * integer group ranges, then statistics, histogram and every scheme's error while the chunk is in cache
 * (WebAssembly SIMD kernels: assembly/kernels.ts). `data` may be a ValueSource when rows (layout.cols) are a
 * multiple of 4 values: it is then read a chunk at a time, twice.
 */
export function analyzeTensor(
  data: Float32Array | ValueSource,
  layout: Layout2D | undefined,
  schemes: readonly Scheme[],
  options: number | TensorAnalysisOptions = {},
): TensorAnalysis {
  const { bins = 256, statistics = true, grids = true } = typeof options === 'number' ? { bins: options } : options;
  const g = geometry(data.length, layout);
  const kern = kernels();
  kern.reset();
  const m = allocate(kern, g, schemes, bins);
  const v = kern.commit();
  const range = rangePass(data, g, kern, v, m);
  for (const p of m.runs) p.choose(kern.k, v, range.min, range.max, range.finite);
  errorPass(data, g, kern, v, m, range, statistics, bins);
  const [m2, m4] = v.float64(m.momentAcc, 2);
  const { min, max, finite } = range;
  return {
    stats: tensorStats(data.length, range, m2, m4),
    histogram: {
      min: finite ? min : 0,
      max: finite ? max : 0,
      counts: statistics ? sumCounts(v, m.counts, bins) : new Uint32Array(bins),
    },
    schemes: schemeMetrics(g, v, m, range, grids),
  };
}
