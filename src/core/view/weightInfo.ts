/** What the inspector's views and reports need of a planned weight, and the summaries they share. */
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
  quantizable: boolean;
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
