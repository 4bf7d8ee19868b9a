/**
 * Heatmap tiles: a window of a channels x blocks grid of SQNR cells, downsampled to what the screen shows by
 * keeping the worst SQNR (and the largest absmax) of the cells each shown cell covers. One rule for every
 * heatmap (a layer's cells, the model's layers x schemes).
 */

/** A rectangle of heatmap cells, downsampled by taking the worst SQNR (and largest absmax) per shown cell. */
export interface HeatmapTile {
  channel0: number;
  block0: number;
  /** Cells shown (rows x cols) and how many heatmap cells each one covers along each axis. */
  rows: number;
  cols: number;
  channelStep: number;
  blockStep: number;
  /** Row-major rows x cols. */
  sqnr: Float32Array;
  absmax: Float32Array;
}

/** A grid of cells, row-major channels x blocks, with the absmax of each cell where known. */
export interface CellGrid {
  channels: number;
  blocks: number;
  sqnr: ArrayLike<number>;
  absmax?: ArrayLike<number>;
}

/** Which cells to show (first channel and block, how many of each) and at most how many shown cells. */
export interface TileWindow {
  channel0: number;
  channels: number;
  block0: number;
  blocks: number;
  maxRows: number;
  maxCols: number;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * The window of `grid` in at most maxRows x maxCols shown cells, each the worst SQNR (NaN is worst) and the
 * largest absmax of the cells it covers. The window is clamped to the grid; absmax is returned when the grid
 * has it.
 */
export function downsampleTile(grid: CellGrid, w: TileWindow): Omit<HeatmapTile, 'absmax'> & { absmax?: Float32Array } {
  const { channels, blocks, sqnr, absmax } = grid;
  const c0 = clamp(Math.floor(w.channel0), 0, channels - 1);
  const b0 = clamp(Math.floor(w.block0), 0, blocks - 1);
  const nc = clamp(Math.ceil(w.channels), 1, channels - c0);
  const nb = clamp(Math.ceil(w.blocks), 1, blocks - b0);
  const channelStep = Math.max(1, Math.ceil(nc / Math.max(1, w.maxRows)));
  const blockStep = Math.max(1, Math.ceil(nb / Math.max(1, w.maxCols)));
  const rows = Math.ceil(nc / channelStep);
  const cols = Math.ceil(nb / blockStep);
  const outSqnr = new Float32Array(rows * cols).fill(Infinity);
  const outAbs = absmax ? new Float32Array(rows * cols) : undefined;
  for (let c = c0; c < c0 + nc; c++) {
    const r = ((c - c0) / channelStep) | 0;
    for (let b = b0; b < b0 + nb; b++) {
      const o = r * cols + (((b - b0) / blockStep) | 0);
      const i = c * blocks + b;
      const v = sqnr[i];
      if (v < outSqnr[o] || Number.isNaN(v)) outSqnr[o] = v;
      if (outAbs && absmax && absmax[i] > outAbs[o]) outAbs[o] = absmax[i];
    }
  }
  const tile = { channel0: c0, block0: b0, rows, cols, channelStep, blockStep, sqnr: outSqnr };
  return outAbs ? { ...tile, absmax: outAbs } : tile;
}

/** Absmax per cell from the cells' value ranges. */
export function cellAbsmax(cells: { lo: Float32Array; hi: Float32Array }): Float32Array {
  return Float32Array.from(cells.lo, (l, i) => Math.max(-l, cells.hi[i]));
}
