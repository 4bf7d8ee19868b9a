/**
 * How the analysis kernels see a tensor: its geometry in kernel memory (rows, stride, channels, per-cell
 * arrays), the chunks of rows copied in at a time, and the per-cell signal and SQNR grids.
 */
import type { Layout2D } from '../quant/fakeQuant';
import { channelGeometry } from '../quant/layout';
import type { Views } from '../wasm/kernels';
import type { ValueSource } from './analyze';

/** Values copied into the kernels' memory at a time (whole rows): 128 KB stays in cache for every pass. */
const CHUNK_VALUES = 32768;
/** Rows of this many values when a tensor has no layout. */
const FLAT_ROW = 4096;

/** 10 / ln 10: dB from a natural log (Math.log is twice as fast as Math.log10; both are within an ulp or so). */
const DB_PER_NEPER = 10 / Math.LN10;
export const sqnr = (signal: number, noise: number): number =>
  noise === 0 ? Infinity : DB_PER_NEPER * Math.log(signal / noise);
const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * How the kernels see a tensor: `strided` rows hold one value per channel (MatMul [K, N]: channels along
 * the row), `runs` rows are one channel each with blocks along the row (Conv, Gemm with transB), `flat` rows
 * are pieces of a tensor without a layout. In kernel memory rows are `stride` values apart (padded with
 * zeros to a multiple of 4). Per-cell arrays of strided tensors are block-major with rows of `pad`
 * (channels rounded up to 4), so a row's cells are contiguous; runs tensors are channel-major.
 */
export interface Geometry {
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
export function total(a: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i];
  return sum;
}

/**
 * Signal per cell of `blocks` blocks per channel (in the per-cell layout, like a scheme's noise) from the fine
 * cells, `perCell` fine cells a block; read and written in memory order.
 */
export function coarseSignal(
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
export function sqnrGrid(g: Geometry, noise: Float64Array, signal: Float64Array, blocks: number): Float64Array {
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
export function cellCount(g: Geometry, blocks: number): number {
  if (g.shape === 'strided') return blocks * g.pad;
  return g.shape === 'runs' ? g.channels * blocks : 1;
}

/**
 * A chunk of rows [r0, r1) in kernel memory at x: `values` of the tensor's values in `lanes` lanes (rows
 * padded to `stride`, the last to a multiple of 4, with NaN, which every kernel leaves out).
 */
export interface Chunk {
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
export function forEachBlock(
  g: Geometry,
  c: Chunk,
  size: number,
  fn: (block: number, x: number, rows: number) => void,
): void {
  for (let r = c.r0; r < c.r1;) {
    const b = (r / size) | 0;
    const end = Math.min(c.r1, (b + 1) * size);
    fn(b, c.x + 4 * (r - c.r0) * g.stride, end - r);
    r = end;
  }
}

/**
 * Copies the tensor into the kernels' memory a chunk of whole rows at a time (rows `stride` apart, padded
 * with NaN) and calls fn for each chunk.
 */
export function forEachChunk(
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
export const flat = (n: number): Geometry => ({
  shape: 'flat',
  rows: Math.ceil(n / FLAT_ROW),
  cols: FLAT_ROW,
  stride: FLAT_ROW,
  channels: 1,
  reduction: n,
  pad: 4,
});

/** Geometry of a tensor of n values with a layout (or without: flat). */
export function geometry(n: number, layout: Layout2D | undefined): Geometry {
  if (!layout) return flat(n);
  const { channels, reduction } = channelGeometry(n, layout);
  return {
    shape: layout.channelAxis === 1 ? 'strided' : 'runs',
    rows: layout.rows,
    cols: layout.cols,
    stride: pad4(layout.cols),
    channels,
    reduction,
    pad: pad4(channels),
  };
}

/** Kernel memory for a chunk of `g`'s rows. */
export const chunkBytes = (g: Geometry): number => 4 * chunkRows(g) * g.stride;
