/** The `inspect` command's file part: reads a model and analyses its weights in a worker pool (the report itself: core/view/inspectReport). */
import type { Scheme } from '../core/quant/schemes';
import { buildReport, type InspectReport } from '../core/view/inspectReport';
import { readModelForAnalysis } from './analysisPlan';
import { AnalysisPool } from './analysisPool';
import { analyzePlanned } from './modelAnalyzer';

/** Options of inspectModel. */
export interface InspectOptions {
  onProgress?: (done: number, total: number, name: string) => void;
  /** Analysis threads (default: one per core). */
  threads?: number;
  signal?: AbortSignal;
  bins?: number;
}

/** Inspects a model file: reads it, then analyses each weight (quantizable ones under every scheme) in a worker pool. */
export async function inspectModel(
  modelPath: string,
  schemes: Scheme[],
  options: InspectOptions = {},
): Promise<InspectReport> {
  const { overview, plan: planned } = await readModelForAnalysis(modelPath, options.signal);
  const ids = schemes.map((s) => s.id);
  const pool = new AnalysisPool({ threads: options.threads });
  const total = planned.filter((w) => w.source).length;
  options.onProgress?.(0, total, '');
  try {
    const { analyses } = await analyzePlanned(pool, modelPath, planned, ids, {
      bins: options.bins,
      signal: options.signal,
      grids: false, // the report has no heatmaps: do not hold them for every weight
      onWeight: (i, _analysis, done) => options.onProgress?.(done, total, planned[i].name),
    });
    return buildReport(overview, planned, analyses, ids);
  } finally {
    pool.dispose();
  }
}
