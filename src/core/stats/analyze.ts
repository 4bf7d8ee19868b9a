/**
 * Analysis of one weight tensor: statistics, a histogram and every selected scheme's error, computed by the
 * WebAssembly SIMD kernels (assembly/kernels.ts) in one range pass (min/max, per-group ranges) and one fused
 * pass over the values for everything else.
 */
import { fakeQuantize, type Layout2D } from '../quant/fakeQuant';
import { FP8_E4M3FN, FP8_E5M2 } from '../quant/rounding';
import { intRange, type Scheme } from '../quant/schemes';
import { kernels, type KernelExports, type Kernels, type Views } from '../wasm/kernels';

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

/** Values copied into the kernels' memory at a time (whole rows): 128 KB stays in cache for every pass. */
const CHUNK_VALUES = 32768;
/** Rows of this many values when a tensor has no layout. */
const FLAT_ROW = 4096;
const KIND = { fp16: 1, bf16: 2, fp8: 3 } as const;
/** fp8 formats: parameters and the exponent clamp of the kernels' rounding (one past the largest exponent). */
const FP8 = { 'fp8-e4m3': { f: FP8_E4M3FN, maxE: 9 }, 'fp8-e5m2': { f: FP8_E5M2, maxE: 16 } } as const;

/** 10 / ln 10: dB from a natural log (Math.log is twice as fast as Math.log10; both are within an ulp or so). */
const DB_PER_NEPER = 10 / Math.LN10;
const sqnr = (signal: number, noise: number): number =>
  noise === 0 ? Infinity : DB_PER_NEPER * Math.log(signal / noise);
const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * How the kernels see a tensor: `strided` rows hold one value per channel (MatMul [K, N]: channels along
 * the row), `runs` rows are one channel each with blocks along the row (Conv, Gemm with transB), `flat` rows
 * are pieces of a tensor without a layout. In kernel memory rows are `stride` values apart (padded with
 * zeros to a multiple of 4). Per-cell arrays of strided tensors are block-major with rows of `pad`
 * (channels rounded up to 4), so a row's cells are contiguous; runs tensors are channel-major.
 */
interface Geometry {
  shape: 'strided' | 'runs' | 'flat';
  rows: number;
  cols: number;
  stride: number;
  channels: number;
  reduction: number;
  pad: number;
}

/** Strides of channel and block in a per-cell array of `blocks` blocks per channel: index c * [0] + b * [1]. */
function cellStrides(g: Geometry, blocks: number): [number, number] {
  if (g.shape === 'strided') return [1, g.pad];
  return g.shape === 'runs' ? [blocks, 1] : [0, 0];
}

/** Adds up a float64 array (indexed: `for of` over a large view is several times slower). */
function total(a: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i];
  return sum;
}

/**
 * Signal per cell of `blocks` blocks per channel (in the per-cell layout, like a scheme's noise) from the fine
 * cells, `perCell` fine cells a block; read and written in memory order.
 */
function coarseSignal(
  g: Geometry,
  fine: Float64Array,
  fineBlocks: number,
  blocks: number,
  perCell: number,
): Float64Array {
  if (blocks === fineBlocks) return fine;
  const out = new Float64Array(cellCount(g, blocks));
  if (g.shape === 'strided') {
    for (let f = 0; f < fineBlocks; f++) {
      const from = f * g.pad;
      const to = Math.floor(f / perCell) * g.pad;
      for (let c = 0; c < g.pad; c++) out[to + c] += fine[from + c];
    }
  } else if (g.shape === 'runs') {
    for (let c = 0; c < g.channels; c++) {
      for (let f = 0; f < fineBlocks; f++) out[c * blocks + Math.floor(f / perCell)] += fine[c * fineBlocks + f];
    }
  } else {
    out[0] = total(fine);
  }
  return out;
}

/** SQNR (dB) per channel x block, channel-major, from noise and signal cells in the per-cell layout. */
function sqnrGrid(g: Geometry, noise: Float64Array, signal: Float64Array, blocks: number): Float64Array {
  const out = new Float64Array(g.channels * blocks);
  const [nc, nb] = cellStrides(g, blocks);
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < g.channels; c++) {
      const i = c * nc + b * nb;
      out[c * blocks + b] = sqnr(signal[i], noise[i]);
    }
  }
  return out;
}

/** Cells of a per-cell array of `blocks` blocks per channel. */
function cellCount(g: Geometry, blocks: number): number {
  if (g.shape === 'strided') return blocks * g.pad;
  return g.shape === 'runs' ? g.channels * blocks : 1;
}

/**
 * A chunk of rows [r0, r1) in kernel memory at x: `values` of the tensor's values in `lanes` lanes (rows
 * padded to `stride`, the last to a multiple of 4, with NaN, which every kernel leaves out).
 */
interface Chunk {
  r0: number;
  r1: number;
  x: number;
  values: number;
  lanes: number;
}

/**
 * Calls fn for the rows [r0, r1) of a chunk split where a block of `size` rows ends (strided tensors' rows
 * are one reduction step each, so rows of one block share cells); fn(block, pointer, rows).
 */
function forEachBlock(g: Geometry, c: Chunk, size: number, fn: (block: number, x: number, rows: number) => void): void {
  for (let r = c.r0; r < c.r1;) {
    const b = (r / size) | 0;
    const end = Math.min(c.r1, (b + 1) * size);
    fn(b, c.x + 4 * (r - c.r0) * g.stride, end - r);
    r = end;
  }
}

/** One scheme laid out in kernel memory. */
class SchemeRun {
  readonly blockSize: number;
  readonly blocks: number;
  /** Integer schemes: one scale per group (channel x block) rather than per tensor. */
  readonly grouped: boolean;
  readonly groups: number;
  readonly noise: number;
  readonly acc: number;
  readonly lo: number;
  readonly hi: number;
  readonly scales: number;
  readonly zps: number;
  /** fp8's per-tensor scale (1 in place of 0, see assembly/kernels.ts). */
  fp8Scale = 1;

  constructor(
    readonly scheme: Scheme,
    g: Geometry,
    kern: Kernels,
  ) {
    const block =
      scheme.kind === 'int' && scheme.granularity.kind === 'block' && g.shape !== 'flat'
        ? scheme.granularity.size
        : g.reduction;
    this.blockSize = Math.max(1, Math.min(block, g.reduction)); // (1 for an empty tensor: no blocks)
    this.blocks = Math.ceil(g.reduction / this.blockSize);
    this.grouped = scheme.kind === 'int' && scheme.granularity.kind !== 'tensor' && g.shape !== 'flat';
    this.noise = kern.alloc(8 * cellCount(g, this.blocks));
    this.acc = kern.alloc(8 * 4);
    // Scales: per group when grouped; per tensor, repeated on every channel lane (strided) or one value.
    this.groups =
      scheme.kind !== 'int' ? 0 : this.grouped ? cellCount(g, this.blocks) : g.shape === 'strided' ? g.pad : 1;
    // Group ranges (per tensor: the one range, filled from the range pass).
    this.lo = this.groups ? kern.alloc(4 * (this.grouped ? this.groups : 1)) : 0;
    this.hi = this.groups ? kern.alloc(4 * (this.grouped ? this.groups : 1)) : 0;
    this.scales = this.groups ? kern.alloc(4 * this.groups) : 0;
    this.zps = this.groups ? kern.alloc(4 * this.groups) : 0;
  }

  /** Pass 1: widens the group ranges with a chunk. */
  groupRange(k: KernelExports, g: Geometry, c: Chunk): void {
    if (g.shape === 'strided') {
      forEachBlock(g, c, this.blockSize, (b, x, rows) =>
        k.groupRangeStrided(x, g.cols, rows, g.stride, this.lo + 4 * b * g.pad, this.hi + 4 * b * g.pad),
      );
    } else {
      const offset = 4 * c.r0 * this.blocks;
      k.groupRangeRuns(c.x, g.cols, c.r1 - c.r0, g.stride, this.blockSize, this.lo + offset, this.hi + offset);
    }
  }

  /** Between the passes: scales and zero points from the group ranges (or the tensor's range), fp8's scale. */
  choose(k: KernelExports, v: Views, min: number, max: number, finite: number): void {
    const { scheme } = this;
    if (scheme.kind === 'float') {
      if (scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2') {
        this.fp8Scale = Math.fround((finite ? Math.max(-min, max) : 0) / FP8[scheme.format].f.max) || 1;
      }
      return;
    }
    const { qmin, qmax } = intRange(scheme);
    if (this.grouped) {
      k.chooseScales(scheme.symmetric, this.lo, this.hi, this.groups, qmin, qmax, this.scales, this.zps);
      return;
    }
    // Per tensor: the tensor's range (widened to 0) is the one group; its scale goes on every lane.
    v.float32(this.lo, 1)[0] = finite ? Math.min(0, min) : 0;
    v.float32(this.hi, 1)[0] = finite ? Math.max(0, max) : 0;
    k.chooseScales(scheme.symmetric, this.lo, this.hi, 1, qmin, qmax, this.scales, this.zps);
    const scales = v.float32(this.scales, this.groups);
    const zps = v.float32(this.zps, this.groups);
    scales.fill(scales[0]);
    zps.fill(zps[0]);
  }

  /** Pass 2: errors of a chunk (`checked`: the tensor has non-finite values to leave out). */
  accumulate(k: KernelExports, g: Geometry, c: Chunk, checked: boolean): void {
    const { scheme, acc } = this;
    const rows = c.r1 - c.r0;
    if (scheme.kind === 'int') {
      const { qmin, qmax } = intRange(scheme);
      if (g.shape === 'strided') {
        forEachBlock(g, c, this.blockSize, (b, x, n) => {
          const group = this.grouped ? 4 * b * g.pad : 0;
          k.intStrided(
            checked,
            x,
            g.cols,
            n,
            g.stride,
            this.scales + group,
            this.zps + group,
            this.noise + 8 * b * g.pad,
            qmin,
            qmax,
            acc,
          );
        });
      } else if (g.shape === 'runs') {
        const group = this.grouped ? 4 * c.r0 * this.blocks : 0;
        k.intRuns(
          checked,
          c.x,
          g.cols,
          rows,
          g.stride,
          this.blockSize,
          this.scales + group,
          this.zps + group,
          this.grouped ? 4 : 0,
          this.noise + 8 * c.r0 * this.blocks,
          qmin,
          qmax,
          acc,
        );
      } else {
        k.intRuns(checked, c.x, c.values, 1, c.values, c.values, this.scales, this.zps, 0, this.noise, qmin, qmax, acc);
      }
      return;
    }
    const [kind, mb, minE, maxE, fmax] = floatKernel(scheme);
    if (g.shape === 'strided') {
      k.floatStrided(checked, kind, c.x, g.cols, rows, g.stride, mb, minE, maxE, fmax, this.fp8Scale, this.noise, acc);
    } else if (g.shape === 'runs') {
      k.floatRuns(
        checked,
        kind,
        c.x,
        g.cols,
        rows,
        g.stride,
        g.cols,
        mb,
        minE,
        maxE,
        fmax,
        this.fp8Scale,
        this.noise + 8 * c.r0,
        acc,
      );
    } else {
      k.floatRuns(
        checked,
        kind,
        c.x,
        c.values,
        1,
        c.values,
        c.values,
        mb,
        minE,
        maxE,
        fmax,
        this.fp8Scale,
        this.noise,
        acc,
      );
    }
  }

  /** Pass 2 of a reconstruction: writes the chunk's quantized-dequantized values at `hat` (laid out as the chunk). */
  reconstruct(k: KernelExports, g: Geometry, c: Chunk, hat: number): void {
    const { scheme } = this;
    const rows = c.r1 - c.r0;
    const out = (x: number): number => hat + (x - c.x);
    if (scheme.kind === 'int') {
      const { qmin, qmax } = intRange(scheme);
      if (g.shape === 'strided') {
        forEachBlock(g, c, this.blockSize, (b, x, n) => {
          const group = this.grouped ? 4 * b * g.pad : 0;
          k.hatStrided(
            0,
            x,
            out(x),
            g.cols,
            n,
            g.stride,
            this.scales + group,
            this.zps + group,
            qmin,
            qmax,
            0,
            0,
            0,
            0,
            1,
          );
        });
      } else if (g.shape === 'runs') {
        const group = this.grouped ? 4 * c.r0 * this.blocks : 0;
        k.hatRuns(
          0,
          c.x,
          hat,
          g.cols,
          rows,
          g.stride,
          this.blockSize,
          this.scales + group,
          this.zps + group,
          this.grouped ? 4 : 0,
          qmin,
          qmax,
          0,
          0,
          0,
          0,
          1,
        );
      } else {
        k.hatRuns(0, c.x, hat, c.values, 1, c.values, c.values, this.scales, this.zps, 0, qmin, qmax, 0, 0, 0, 0, 1);
      }
      return;
    }
    const [kind, mb, minE, maxE, fmax] = floatKernel(scheme);
    k.hatRuns(kind, c.x, hat, c.lanes, 1, c.lanes, c.lanes, 0, 0, 0, 0, 0, mb, minE, maxE, fmax, this.fp8Scale); // elementwise: layout aside
  }
}

/** A float format's kernel kind and parameters (see assembly/kernels.ts floatStrided). */
function floatKernel(
  scheme: Scheme & { kind: 'float' },
): [kind: number, mb: number, minE: number, maxE: number, fmax: number] {
  const kind = scheme.format === 'fp16' ? KIND.fp16 : scheme.format === 'bf16' ? KIND.bf16 : KIND.fp8;
  const fp8 = scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2' ? FP8[scheme.format] : undefined;
  return fp8 ? [kind, fp8.f.mantissaBits, fp8.f.minExponent, fp8.maxE, fp8.f.max] : [kind, 0, 0, 0, 0];
}

/**
 * Copies the tensor into the kernels' memory a chunk of whole rows at a time (rows `stride` apart, padded
 * with NaN) and calls fn for each chunk.
 */
function forEachChunk(
  data: Float32Array | ValueSource,
  g: Geometry,
  v: Views,
  at: number,
  fn: (c: Chunk) => void,
): void {
  const rowsPerChunk = chunkRows(g);
  const base = at / 4;
  if (g.stride !== g.cols) v.f32.fill(NaN, base, base + rowsPerChunk * g.stride);
  for (let r0 = 0; r0 < g.rows; r0 += rowsPerChunk) {
    const r1 = Math.min(g.rows, r0 + rowsPerChunk);
    const start = r0 * g.cols;
    const end = Math.min(r1 * g.cols, data.length);
    let lanes: number;
    if (!(data instanceof Float32Array)) {
      if (g.stride !== g.cols) throw new Error('a value source needs rows of a multiple of 4 values');
      data.read(start, end, v.f32.subarray(base, base + end - start));
      lanes = pad4(end - start);
      v.f32.fill(NaN, base + end - start, base + lanes);
    } else if (g.stride === g.cols) {
      v.f32.set(data.subarray(start, end), base);
      lanes = pad4(end - start);
      v.f32.fill(NaN, base + end - start, base + lanes);
    } else {
      for (let r = r0; r < r1; r++) v.f32.set(data.subarray(r * g.cols, (r + 1) * g.cols), base + (r - r0) * g.stride);
      lanes = (r1 - r0) * g.stride;
    }
    fn({ r0, r1, x: at, values: end - start, lanes });
  }
}

const chunkRows = (g: Geometry): number => Math.min(g.rows, Math.max(1, Math.floor(CHUNK_VALUES / g.stride)));

/** Geometry of a tensor without a layout: rows of FLAT_ROW values. */
const flat = (n: number): Geometry => ({
  shape: 'flat',
  rows: Math.ceil(n / FLAT_ROW),
  cols: FLAT_ROW,
  stride: FLAT_ROW,
  channels: 1,
  reduction: n,
  pad: 4,
});

/** Geometry of a tensor of n values with a layout (or without: flat). */
function geometry(n: number, layout: Layout2D | undefined): Geometry {
  if (!layout) return flat(n);
  const channels = layout.channelAxis === 0 ? layout.rows : layout.cols;
  return {
    shape: layout.channelAxis === 1 ? 'strided' : 'runs',
    rows: layout.rows,
    cols: layout.cols,
    stride: pad4(layout.cols),
    channels,
    reduction: layout.channelAxis === 0 ? layout.cols : layout.rows,
    pad: pad4(channels),
  };
}

/** Kernel memory for a chunk of `g`'s rows. */
const chunkBytes = (g: Geometry): number => 4 * chunkRows(g) * g.stride;

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
  const absmax = finite ? Math.max(-min, max) : 0;
  if (
    (scheme.kind === 'int' && infs > 0) ||
    (scheme.kind === 'float' &&
      (scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2') &&
      Math.fround(absmax / FP8[scheme.format].f.max) === 0)
  ) {
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

/** Options of analyzeTensor. */
export interface AnalyzeOptions {
  /** Histogram bins (default 256). */
  bins?: number;
  /** Compute moments, zeros and the histogram (default true); false gives scheme errors and range only. */
  statistics?: boolean;
  /** Fill the per-channel x per-block SQNR grids (default true); false leaves them empty (shape kept). */
  grids?: boolean;
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
  options: number | AnalyzeOptions = {},
): TensorAnalysis {
  const { bins = 256, statistics = true, grids = true } = typeof options === 'number' ? { bins: options } : options;
  const g = geometry(data.length, layout);
  const { channels } = g;
  const kern = kernels();
  const { k } = kern;
  kern.reset();
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
  const v = kern.commit();
  const ra = v.float64(rangeAcc, 6);
  ra[0] = Infinity;
  ra[1] = -Infinity;

  const grouped = runs.filter((p) => p.grouped);
  let lanes = 0;
  forEachChunk(data, g, v, chunk, (c) => {
    k.range(c.x, c.lanes, rangeAcc);
    lanes += c.lanes;
    for (const p of grouped) p.groupRange(k, g, c);
  });
  const [min, max, sum, finite, nanLanes, zeros] = ra;
  const nans = nanLanes - (lanes - data.length);
  const infs = data.length - finite - nans;
  for (const p of runs) p.choose(k, v, min, max, finite);

  const mean = finite ? sum / finite : 0;
  const invWidth = max > min ? bins / (max - min) : 0;
  forEachChunk(data, g, v, chunk, (c) => {
    // Kernels without checks need every lane a finite value (padding is NaN).
    const checked = finite < data.length || c.lanes !== c.values;
    if (statistics) k.moments(checked, c.x, c.lanes, mean, min, invWidth, counts, bins, momentAcc);
    if (g.shape === 'strided')
      forEachBlock(g, c, fine, (b, x, rows) => k.signalStrided(x, g.cols, rows, g.stride, signal + 8 * b * g.pad));
    else if (g.shape === 'runs') k.signalRuns(c.x, g.cols, c.r1 - c.r0, g.stride, fine, signal + 8 * c.r0 * fineBlocks);
    else k.signalRuns(c.x, c.values, 1, c.values, c.values, signal);
    for (const p of runs) p.accumulate(k, g, c, checked);
  });

  const fineSignal = v.float64(signal, cellCount(g, fineBlocks));
  const signalTotal = total(fineSignal);
  const [m2, m4] = v.float64(momentAcc, 2);
  const variance = finite ? m2 / finite : 0;
  const std = Math.sqrt(variance);
  const absmax = finite ? Math.max(-min, max) : 0;
  const nonZero = finite - zeros;
  const result: Record<string, SchemeMetrics> = {};
  // Signal per cell, by blocks per channel (schemes of one block size share it).
  const coarse = new Map<number, Float64Array>();
  for (const p of runs) {
    const cells = v.float64(p.noise, cellCount(g, p.blocks));
    const noise = total(cells);
    let signalCells = coarse.get(p.blocks);
    if (grids && !signalCells) {
      signalCells = coarseSignal(g, fineSignal, fineBlocks, p.blocks, p.blockSize / fine);
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
      grid: { channels, blocks: p.blocks, sqnrDb: grid },
    };
  }
  return {
    stats: {
      count: data.length,
      min: finite ? min : NaN,
      max: finite ? max : NaN,
      mean,
      std,
      kurtosis: variance > 0 ? m4 / finite / (variance * variance) - 3 : 0,
      absmax,
      outlierRatio: std > 0 ? absmax / std : 0,
      zeros,
      nans,
      infs,
    },
    histogram: {
      min: finite ? min : 0,
      max: finite ? max : 0,
      counts: statistics ? sumCounts(v, counts, bins) : new Uint32Array(bins),
    },
    schemes: result,
  };
}
