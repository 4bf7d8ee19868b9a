/** The `inspect` report: overview plus every weight with its label, statistics and scheme metrics. */
import type { ModelOverview } from '../core/onnx/overview';
import type { Scheme } from '../core/quant/schemes';
import type { StoredQuantization } from '../core/quant/storedQuant';
import type { SchemeMetrics, TensorAnalysis, TensorStats } from '../core/stats/analyze';
import { readModelForAnalysis, type PlannedWeight } from './analysisPlan';
import { AnalysisPool } from './analysisPool';
import { analyzePlanned } from './modelAnalyzer';

/** Metrics of one scheme in the report (the per-cell grid stays out). */
export type ReportSchemeMetrics = Pick<
  SchemeMetrics,
  'sqnrDb' | 'mse' | 'maxAbsError' | 'cosine' | 'clippedFraction' | 'zeroedFraction'
>;

/** One weight in the report: its label and role as planned, then what the analysis found. */
export interface ReportWeight extends Pick<
  PlannedWeight,
  'name' | 'layers' | 'dtype' | 'shape' | 'role' | 'quantizable' | 'problem'
> {
  /** How the model stores the weight quantized (statistics and schemes are of the dequantized values). */
  stored?: Omit<StoredQuantization, 'layout'>;
  stats: TensorStats;
  schemes: Record<string, ReportSchemeMetrics>;
}

/** The whole report. */
export interface InspectReport {
  model: ModelOverview;
  schemes: string[];
  weights: ReportWeight[];
}

/** Options of inspectModel. */
export interface InspectOptions {
  onProgress?: (done: number, total: number, name: string) => void;
  /** Analysis threads (default: one per core). */
  threads?: number;
  signal?: AbortSignal;
  bins?: number;
}

/** The stored layout without the analysis view (the report shows the model's own description). */
function withoutLayout(q: StoredQuantization): Omit<StoredQuantization, 'layout'> {
  const copy: Partial<StoredQuantization> = { ...q };
  delete copy.layout;
  return copy as Omit<StoredQuantization, 'layout'>;
}

const EMPTY_STATS: TensorStats = {
  count: 0,
  min: NaN,
  max: NaN,
  mean: 0,
  std: 0,
  kurtosis: 0,
  absmax: 0,
  outlierRatio: 0,
  zeros: 0,
  nans: 0,
  infs: 0,
};

/** Assembles the report from a model's overview, plan and analyses (in plan order). */
export function buildReport(
  overview: ModelOverview,
  planned: readonly PlannedWeight[],
  analyses: readonly (TensorAnalysis | undefined)[],
  schemes: string[],
): InspectReport {
  const weights: ReportWeight[] = planned.map((w, i) => {
    const analysis = analyses[i];
    const stored = w.stored ? withoutLayout(w.stored) : undefined;
    return {
      name: w.name,
      layers: w.layers,
      dtype: w.dtype,
      shape: w.shape,
      role: w.role,
      quantizable: w.quantizable,
      ...(stored ? { stored } : {}),
      ...(w.problem ? { problem: w.problem } : {}),
      stats: analysis?.stats ?? EMPTY_STATS,
      schemes: Object.fromEntries(
        Object.entries(analysis?.schemes ?? {}).map(([id, m]) => [
          id,
          {
            sqnrDb: m.sqnrDb,
            mse: m.mse,
            maxAbsError: m.maxAbsError,
            cosine: m.cosine,
            clippedFraction: m.clippedFraction,
            zeroedFraction: m.zeroedFraction,
          },
        ]),
      ),
    };
  });
  return { model: overview, schemes, weights };
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
