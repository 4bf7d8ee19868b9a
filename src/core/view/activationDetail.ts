/**
 * Activation statistics of an evaluation as the inspector shows them (issue 20): one summary per layer (node) for
 * the layer table's activation column, and the layer detail's activation histogram with its integer grid and
 * calibrated clipping range, and the per-channel absmax that shows outlier channels.
 */
import type { ActivationStat, EvalResults } from '../eval/results';
import { activationType, typeRange } from '../quant/activationQuant';
import type { QuantGrid } from '../stats/layerDetail';
import { ACTIVATION_LIMITS, activationRows } from './activationView';

/** The activation column of a layer row: its input activation's SQNR and flags (the worst one when several). */
export interface RowActivation {
  tensor: string;
  bits: number;
  sqnrAloneDb: number;
  sqnrAccumulatedDb: number;
  clippingRate: number;
  outlierRatio?: number;
  /** Quantized activation inputs of this layer (2 for a MatMul of two activations). */
  inputs: number;
  /** Quantizing only this layer's activations broke the budget. */
  breaksBudget: boolean;
  /** Why the activation is flagged, readable; empty when it is not. */
  warnings: string[];
}

/** Per node name: the activation summary of the layer (the input with the lowest SQNR alone). */
export function rowActivations(r: EvalResults): Map<string, RowActivation> {
  const out = new Map<string, RowActivation>();
  for (const row of activationRows(r)) {
    const s = row.stat;
    const known = out.get(s.layer);
    const breaksBudget = row.measured?.meetsBudget === false;
    if (known && known.sqnrAloneDb <= s.sqnrAloneDb) {
      out.set(s.layer, { ...known, inputs: known.inputs + 1 });
      continue;
    }
    out.set(s.layer, {
      tensor: s.tensor,
      bits: s.bits,
      sqnrAloneDb: s.sqnrAloneDb,
      sqnrAccumulatedDb: s.sqnrAccumulatedDb,
      clippingRate: s.clippingRate,
      ...(s.outlierRatio !== undefined ? { outlierRatio: s.outlierRatio } : {}),
      inputs: (known?.inputs ?? 0) + 1,
      breaksBudget: breaksBudget || (known?.breaksBudget ?? false),
      warnings: [
        ...(breaksBudget ? [`breaks the budget: ${row.effect} with only them quantized`] : []),
        ...row.warnings,
      ],
    });
  }
  return out;
}

/** The activation stats of one node, lowest SQNR alone first. */
export function layerActivationStats(stats: readonly ActivationStat[], node: string): ActivationStat[] {
  return stats.filter((s) => s.layer === node).sort((a, b) => a.sqnrAloneDb - b.sqnrAloneDb);
}

/** What the layer detail draws for one activation. */
export interface ActivationDetail {
  stat: Omit<ActivationStat, 'histogram' | 'channelAbsMax'>;
  /** Evaluation values in equal bins. */
  histogram: { min: number; max: number; counts: Uint32Array };
  /** The integer grid: levels (none for 16 bits: finer than the bins) and the clipping range it saturates at. */
  grid: QuantGrid;
  /** Values in histogram bins wholly outside the clipping range. */
  beyondGrid: number;
  /** Per-channel absmax (empty when not recorded), its median and the outlier channels (largest first). */
  channels: { absmax: Float64Array; median: number; outliers: number[] };
  /** Other activation inputs of the same layer (tensor names). */
  others: string[];
}

/** Integer range QuantizeLinear saturates a `bits`-bit activation to (uint8 [0, 255], int8 [-128, 127], uint16, int16). */
export function activationRange(bits: number, signed: boolean): { qmin: number; qmax: number } {
  return typeRange(activationType({ bits: bits === 16 ? 16 : 8, signed }));
}

/** The grid of a calibrated activation: levels (q - zeroPoint) * scale and the saturation range. */
export function activationGrid(s: Pick<ActivationStat, 'bits' | 'signed' | 'scale' | 'zeroPoint'>): QuantGrid {
  const { qmin, qmax } = activationRange(s.bits, s.signed);
  const levels: number[] = [];
  if (s.bits <= 8 && s.scale > 0) for (let q = qmin; q <= qmax; q++) levels.push((q - s.zeroPoint) * s.scale);
  return {
    group: 'one scale for the tensor',
    levels,
    clipMin: (qmin - s.zeroPoint) * s.scale,
    clipMax: (qmax - s.zeroPoint) * s.scale,
    scale: s.scale,
    zeroPoint: s.zeroPoint,
    groups: 1,
    scaleMin: s.scale,
    scaleMax: s.scale,
  };
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** The detail of an activation (and the names of the layer's other activation inputs). */
export function activationDetail(s: ActivationStat, others: readonly string[] = []): ActivationDetail {
  const { histogram, channelAbsMax, ...stat } = s;
  const grid = activationGrid(s);
  const counts = Uint32Array.from(histogram.counts);
  const width = histogram.max > histogram.min ? (histogram.max - histogram.min) / counts.length : 0;
  let beyond = 0;
  if (width > 0)
    counts.forEach((c, b) => {
      const lo = histogram.min + b * width;
      if (lo + width < grid.clipMin || lo > grid.clipMax) beyond += c;
    });
  const absmax = channelAbsMax ?? [];
  const m = median(absmax);
  const outliers = absmax
    .map((v, c) => ({ v, c }))
    .filter((x) => m > 0 && x.v > ACTIVATION_LIMITS.outlierRatio * m)
    .sort((a, b) => b.v - a.v || a.c - b.c)
    .map((x) => x.c);
  return {
    stat,
    histogram: { min: histogram.min, max: histogram.max, counts },
    grid,
    beyondGrid: beyond,
    channels: { absmax: Float64Array.from(absmax), median: m, outliers },
    others: [...others],
  };
}
