/** The `inspect` report: overview plus every weight with its label, statistics and scheme metrics. */
import { consumersByTensor } from '../core/onnx/consumers';
import { dtypeInfo } from '../core/onnx/dtypes';
import type { ModelOverview } from '../core/onnx/overview';
import { planWeight, type WeightRole } from '../core/quant/roles';
import type { Scheme } from '../core/quant/schemes';
import { analyzeTensor, type TensorStats } from '../core/stats/analyze';
import { loadModelFile } from './modelFile';
import { readWeightValues } from './weightValues';

/** Metrics of one scheme in the report. */
export interface ReportSchemeMetrics {
  sqnrDb: number;
  mse: number;
  maxAbsError: number;
  cosine: number;
  clippedFraction: number;
  zeroedFraction: number;
}

/** One weight in the report. */
export interface ReportWeight {
  name: string;
  layers: { node: string; op: string; input: number }[];
  dtype: string;
  shape: number[];
  role: WeightRole;
  quantizable: boolean;
  stats: TensorStats;
  schemes: Record<string, ReportSchemeMetrics>;
}

/** The whole report. */
export interface InspectReport {
  model: ModelOverview;
  schemes: string[];
  weights: ReportWeight[];
}

/** Inspects a model file: reads it, then analyses each weight (quantizable ones under every scheme). */
export async function inspectModel(modelPath: string, schemes: Scheme[], onProgress?: (done: number, total: number, name: string) => void): Promise<InspectReport> {
  const { bytes, model, weights, overview, externalPaths } = await loadModelFile(modelPath);
  const consumers = consumersByTensor(model);
  const loaded = { path: modelPath, bytes, model, externalPaths };
  const report: ReportWeight[] = [];
  for (const [index, ref] of weights.entries()) {
    onProgress?.(index, weights.length, ref.name);
    const plan = planWeight(ref, consumers);
    const numeric = dtypeInfo(ref.dtype).bits > 0 && ref.dtype !== 14 && ref.dtype !== 15;
    const values = numeric ? await readWeightValues(loaded, ref) : new Float32Array(0);
    const floats = values instanceof Float32Array ? values : Float32Array.from(values);
    const analysis = analyzeTensor(floats, plan.layout, plan.quantizable ? schemes : []);
    report.push({
      name: ref.name,
      layers: plan.layers.map((l) => ({ node: l.node, op: l.domain ? `${l.domain}.${l.op}` : l.op, input: l.input })),
      dtype: dtypeInfo(ref.dtype).name,
      shape: ref.dims,
      role: plan.role,
      quantizable: plan.quantizable,
      stats: analysis.stats,
      schemes: Object.fromEntries(
        Object.entries(analysis.schemes).map(([id, m]) => [id, {
          sqnrDb: m.sqnrDb, mse: m.mse, maxAbsError: m.maxAbsError, cosine: m.cosine,
          clippedFraction: m.clippedFraction, zeroedFraction: m.zeroedFraction,
        }]),
      ),
    });
  }
  onProgress?.(weights.length, weights.length, '');
  return { model: overview, schemes: schemes.map((s) => s.id), weights: report };
}
