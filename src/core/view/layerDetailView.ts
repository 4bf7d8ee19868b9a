/**
 * The layer detail view's data: one weight under one scheme, from its cached analysis and its detail reading
 * (cell ranges, per-channel SQNR): histogram and the scheme's grid over it, metrics, heatmap extent, channels
 * from worst to best. Heatmap cells come separately, as tiles.
 */
import { channelLabel, schemeBlockSize } from '../quant/layout';
import { parseScheme } from '../quant/schemes';
import type { Histogram, SchemeMetrics, TensorStats } from '../stats/analyze';
import { quantGrid, type DetailResult, type QuantGrid } from '../stats/layerDetail';
import type { ActivationDetail } from './activationDetail';
import type { LayerRow } from './layerTableView';
import {
  schemeSummary,
  storedDescription,
  type SchemeSummary,
  type StoredDescription,
  type WeightInfo,
} from './weightInfo';

/** Everything the layer detail draws, except heatmap cells (requested as tiles). */
export interface LayerDetail {
  row: LayerRow;
  scheme: string;
  stats: TensorStats;
  /** Finite values in equal bins over [min, max]. */
  histogram: { min: number; max: number; counts: Uint32Array };
  metrics?: SchemeSummary;
  /** The scheme's levels over the histogram (median group); null for weights that are not quantizable. */
  grid: QuantGrid | null;
  /** Values outside the grid's clipping range, counted from the histogram bins fully outside it. */
  beyondGrid: number;
  /** Heatmap size: channels x blocks of this scheme, and the SQNR range over all cells. */
  heatmap: { channels: number; blocks: number; blockSize: number; min: number; max: number };
  /** Per-channel SQNR (dB), ascending, with each value's channel. */
  channelSqnr: Float64Array;
  channelOrder: Int32Array;
  /** What a channel is for this weight ('output channel', 'column N', 'row'). */
  channelLabel: string;
  stored?: StoredDescription;
  /** The layer's input activation as the latest evaluation calibrated and measured it (the worst input when several). */
  activation?: ActivationDetail;
}

/** What the detail of one weight under one scheme is made from. */
export interface DetailInput {
  row: LayerRow;
  weight: WeightInfo;
  scheme: string;
  stats: TensorStats;
  histogram: Histogram;
  /** The weight read again for this scheme; undefined when it was not (weights that are not quantizable). */
  reading: DetailResult | undefined;
  /** The scheme's metrics from the analysis, when analysed. */
  metrics: SchemeMetrics | undefined;
}

/** The layer detail of one weight under one scheme. */
export function layerDetail(input: DetailInput): LayerDetail {
  const { weight: w, metrics, reading } = input;
  const parsed = parseScheme(input.scheme);
  const ranges = reading?.ranges;
  const grid = ranges && w.quantizable ? quantGrid(parsed, ranges, !!w.layout) : null;
  const { counts, min, max } = input.histogram;
  const [lo, hi] = finiteRange(metrics?.grid.sqnrDb);
  const channelSqnr = reading?.channelSqnr ?? new Float64Array(0);
  const order = Int32Array.from(channelSqnr.keys()).sort((a, b) => compareDb(channelSqnr[a], channelSqnr[b]));
  return {
    row: input.row,
    scheme: input.scheme,
    stats: input.stats,
    histogram: { min, max, counts },
    ...(metrics ? { metrics: schemeSummary(metrics) } : {}),
    grid,
    beyondGrid: grid ? beyondGrid(input.histogram, grid) : 0,
    heatmap: {
      channels: metrics?.grid.channels ?? 0,
      blocks: metrics?.grid.blocks ?? 0,
      // A block longer than the reduction axis holds only that many values ([8, 8] under block32: 8, not 32).
      blockSize: Math.min(
        schemeBlockSize(parsed, !!w.layout) ?? ranges?.reduction ?? 0,
        ranges?.reduction ?? Number.POSITIVE_INFINITY,
      ),
      min: lo,
      max: hi,
    },
    channelSqnr: Float64Array.from(order, (c) => channelSqnr[c]),
    channelOrder: order,
    channelLabel: channelLabel(w.layers[0]?.op, w.layout?.channelAxis),
    ...(w.stored ? { stored: storedDescription(w.stored) } : {}),
  };
}

/** Values in the histogram bins that lie fully outside the grid's clipping range. */
export function beyondGrid(h: Histogram, grid: Pick<QuantGrid, 'clipMin' | 'clipMax'>): number {
  const { counts, min, max } = h;
  let n = 0;
  if (max > min) {
    const width = (max - min) / counts.length;
    for (let b = 0; b < counts.length; b++) {
      if (min + (b + 1) * width < grid.clipMin || min + b * width > grid.clipMax) n += counts[b];
    }
  }
  return n;
}

/** Smallest and largest finite value ([Infinity, -Infinity] when there is none). */
function finiteRange(values: ArrayLike<number> | undefined): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  if (!values) return [lo, hi];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return [lo, hi];
}

/** Ascending dB with NaN (empty channels) last. */
export function compareDb(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  return a === b ? 0 : a < b ? -1 : 1;
}
