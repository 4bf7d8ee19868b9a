/** The model heatmap: SQNR of every quantizable weight (graph order) under every scheme. */
import type { TensorAnalysis } from '../stats/analyze';
import { shortLayerName, type WeightInfo } from './weightInfo';

/** The model heatmap: quantizable weights (graph order) x schemes. */
export interface ModelHeatmap {
  rows: { index: number; name: string; label: string }[];
  schemes: string[];
  /** Row-major rows x schemes; NaN where not yet analysed. */
  sqnr: Float32Array;
}

/** SQNR of every quantizable weight with values under every scheme (NaN where not analysed yet). */
export function modelHeatmap(
  plan: readonly WeightInfo[],
  analyses: readonly (TensorAnalysis | undefined)[],
  schemes: string[],
): ModelHeatmap {
  const rows = plan.flatMap((w, index) =>
    w.quantizable && w.source ? [{ index, name: w.name, label: heatmapLabel(w) }] : [],
  );
  const sqnr = new Float32Array(rows.length * schemes.length).fill(NaN);
  rows.forEach((r, i) =>
    schemes.forEach((s, j) => {
      const v = analyses[r.index]?.schemes[s]?.sqnrDb;
      if (v !== undefined) sqnr[i * schemes.length + j] = v;
    }),
  );
  return { rows, schemes, sqnr };
}

/** A heatmap row's label: the layer (If-branch prefix shortened), its kind when known, and the tensor. */
export function heatmapLabel(w: WeightInfo): string {
  const layer = shortLayerName(w.layers[0]?.node ?? w.name);
  return `${layer}${w.kind && w.kind !== 'unknown' ? ` (${w.kind})` : ''} · ${w.name}`;
}
