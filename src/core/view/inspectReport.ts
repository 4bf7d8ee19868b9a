/** The `inspect` report: overview plus every weight with its label, statistics and scheme metrics. */
import type { ModelOverview } from '../onnx/overview';
import type { TensorAnalysis, TensorStats } from '../stats/analyze';
import type { LayerKind } from '../onnx/layerKinds';
import {
  schemeSummary,
  storedDescription,
  type SchemeSummary,
  type StoredDescription,
  type WeightInfo,
} from './weightInfo';

/** One weight in the report: its label and role as planned, then what the analysis found. */
export interface ReportWeight extends Pick<
  WeightInfo,
  'name' | 'layers' | 'dtype' | 'shape' | 'role' | 'quantizable' | 'reason' | 'problem'
> {
  /** What the layer reading it is, inferred from the graph. */
  kind: LayerKind;
  /** How the model stores the weight quantized (statistics and schemes are of the dequantized values). */
  stored?: StoredDescription;
  stats: TensorStats;
  /** Metrics of each scheme (the per-cell grid stays out). */
  schemes: Record<string, SchemeSummary>;
}

/** The whole report. */
export interface InspectReport {
  model: ModelOverview;
  schemes: string[];
  weights: ReportWeight[];
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
  planned: readonly WeightInfo[],
  analyses: readonly (TensorAnalysis | undefined)[],
  schemes: string[],
): InspectReport {
  const weights: ReportWeight[] = planned.map((w, i) => {
    const analysis = analyses[i];
    return {
      name: w.name,
      layers: w.layers,
      dtype: w.dtype,
      shape: w.shape,
      role: w.role,
      kind: w.kind ?? 'unknown',
      quantizable: w.quantizable,
      ...(w.reason ? { reason: w.reason } : {}),
      ...(w.stored ? { stored: storedDescription(w.stored) } : {}),
      ...(w.problem ? { problem: w.problem } : {}),
      stats: analysis?.stats ?? EMPTY_STATS,
      schemes: Object.fromEntries(Object.entries(analysis?.schemes ?? {}).map(([id, m]) => [id, schemeSummary(m)])),
    };
  });
  return { model: overview, schemes, weights };
}
