/** What the inspector's views and reports need of a planned weight, and the summaries they share. */
import type { LayerKind } from '../onnx/layerKinds';
import type { NotAnalysed } from '../onnx/overview';
import type { Layout2D } from '../quant/fakeQuant';
import type { WeightRole } from '../quant/roles';
import type { StoredQuantization } from '../quant/storedQuant';
import type { SchemeMetrics } from '../stats/analyze';

/** A weight as planned for analysis (src/node/analysisPlan.ts PlannedWeight is one), as far as the views read it. */
export interface WeightInfo {
  name: string;
  layers: { node: string; op: string; input: number }[];
  /** Stored element type name. */
  dtype: string;
  shape: number[];
  role: WeightRole;
  /** What the layer reading it is, inferred from the graph (absent: unknown). */
  kind?: LayerKind;
  quantizable: boolean;
  /** Why the weight is not analysed under the schemes (or only per tensor). */
  reason?: string;
  /** Set when the model stores this weight quantized. */
  stored?: StoredQuantization;
  layout?: Layout2D;
  /** Where the values are (opaque here); undefined for tensors that hold no numbers or cannot be read. */
  source?: unknown;
  /** Why the weight is listed but not analysed. */
  problem?: string;
}

/** How the model stores a weight quantized, as the model describes it (without the analysis's matrix view). */
export type StoredDescription = Omit<StoredQuantization, 'layout'>;

/** The stored quantization without the analysis's layout. */
export function storedDescription(q: StoredQuantization): StoredDescription {
  const copy: Partial<StoredQuantization> = { ...q };
  delete copy.layout;
  return copy as StoredDescription;
}

/** Error metrics of one scheme on one weight without the per-cell grid (detail view, reports). */
export type SchemeSummary = Pick<
  SchemeMetrics,
  'sqnrDb' | 'mse' | 'maxAbsError' | 'cosine' | 'clippedFraction' | 'zeroedFraction'
>;

/** A scheme's metrics without the grid. */
export function schemeSummary(m: SchemeMetrics): SchemeSummary {
  return {
    sqnrDb: m.sqnrDb,
    mse: m.mse,
    maxAbsError: m.maxAbsError,
    cosine: m.cosine,
    clippedFraction: m.clippedFraction,
    zeroedFraction: m.zeroedFraction,
  };
}

/** Groups the weights that are not analysed by their reason. */
export function notAnalysedSummary(plan: readonly WeightInfo[]): NotAnalysed[] {
  const size = (w: WeightInfo): number => w.shape.reduce((a, b) => a * b, 1);
  const total = plan.reduce((s, w) => s + size(w), 0);
  const groups = new Map<string, NotAnalysed>();
  for (const w of plan) {
    if (w.quantizable) continue;
    const reason = w.reason ?? 'not a layer weight';
    const g = groups.get(reason) ?? { reason, weights: 0, parameters: 0, percent: 0 };
    g.weights += 1;
    g.parameters += size(w);
    g.percent = total > 0 ? (100 * g.parameters) / total : 0;
    groups.set(reason, g);
  }
  return [...groups.values()].sort((a, b) => b.parameters - a.parameters || a.reason.localeCompare(b.reason));
}

/** "3 weights, 12.5% of parameters, not analysed: biases stay in float". */
export function notAnalysedLine(n: NotAnalysed): string {
  const pct = n.percent >= 0.1 || n.percent === 0 ? n.percent.toFixed(1) : '<0.1';
  return `${n.weights} weight${n.weights === 1 ? '' : 's'}, ${pct}% of parameters, not analysed: ${n.reason}`;
}

/** A layer name with an If-branch prefix shortened: `If_0_else_branch__Inline_0__/x/MatMul` -> `else / x/MatMul`. */
export function shortLayerName(name: string): string {
  const m = /^(?:.*?_)?(then|else)_branch__(?:Inline_\d+__)?(.*)$/.exec(name);
  return m && m[2] ? `${m[1]} / ${m[2].replace(/^\//, '')}` : name;
}
