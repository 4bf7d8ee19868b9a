/** The detail readings of a model's weights (histogram, cell ranges, per-channel SQNR), read in a worker and kept for the few weights last shown. */
import { parseScheme } from '../core/quant/schemes';
import type { Histogram, TensorStats } from '../core/stats/analyze';
import { schemeCells, type DetailResult } from '../core/stats/layerDetail';
import { cellAbsmax } from '../core/view/heatmapTiles';
import type { PlannedWeight } from '../node/analysisPlan';
import type { AnalysisService } from './analysisService';

const DETAILS_KEPT = 4;
const DEFAULT_BINS = 64;

/** One weight read again under one scheme. */
export interface DetailReading {
  result: DetailResult | undefined;
  histogram: Histogram;
  stats: TensorStats;
  /** Per scheme-grid cell absmax, by scheme id. */
  cellAbsmax: Map<string, Float32Array>;
}

/** The last few detail readings of one model file, by (weight, scheme, bins). */
export class DetailReadings {
  private readonly entries = new Map<string, Promise<DetailReading>>();

  constructor(
    private readonly service: AnalysisService,
    private readonly file: string,
  ) {}

  /** Forgets every reading (the model was read again). */
  clear(): void {
    this.entries.clear();
  }

  /** The detail reading of weight `index` under a scheme; any histogram resolution will do when `bins` is not given. */
  get(index: number, w: PlannedWeight, scheme: string, bins?: number): Promise<DetailReading> {
    const prefix = `${index}|${scheme}|`;
    const key = `${prefix}${bins ?? DEFAULT_BINS}`;
    let entry = bins === undefined ? [...this.entries].find(([k]) => k.startsWith(prefix))?.[1] : this.entries.get(key);
    if (!entry) {
      entry = this.service.detail(this.file, w, scheme, bins ?? DEFAULT_BINS).then((r) => ({
        result: r.detail,
        histogram: r.analysis.histogram,
        stats: r.analysis.stats,
        cellAbsmax: new Map(),
      }));
      entry.catch(() => this.entries.delete(key));
      this.entries.set(key, entry);
      while (this.entries.size > DETAILS_KEPT) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry;
  }

  /** Absmax per cell of the scheme's grid, from a reading's cell ranges (undefined without them). */
  static cellAbsmax(entry: DetailReading, w: PlannedWeight, scheme: string): Float32Array | undefined {
    let absmax = entry.cellAbsmax.get(scheme);
    if (!absmax && entry.result) {
      absmax = cellAbsmax(schemeCells(entry.result.ranges, parseScheme(scheme), !!w.layout));
      entry.cellAbsmax.set(scheme, absmax);
    }
    return absmax;
  }
}
