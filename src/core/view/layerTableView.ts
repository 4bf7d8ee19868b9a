/**
 * The inspector's layer table as data: one row per planned weight, filtered and sorted where the rows are
 * (the webview asks for pages), with the sensitivity an evaluation measured. The table itself: layerTable.ts.
 */
import type { TensorAnalysis, TensorStats } from '../stats/analyze';
import type { RowActivation } from './activationDetail';
import { shortLayerName, type WeightInfo } from './weightInfo';

/** Layer table columns that can be sorted (`sqnr:<scheme id>` sorts by that scheme's SQNR). */
export type SortKey =
  | 'index'
  | 'layer'
  | 'name'
  | 'params'
  | 'dtype'
  | 'absmax'
  | 'std'
  | 'kurtosis'
  | 'outlierRatio'
  | 'sensitivity'
  | 'activation'
  | `sqnr:${string}`;

/** Which rows of the layer table, in which order. */
export interface TableQuery {
  sort: SortKey;
  descending: boolean;
  /** Case-insensitive text found in the layer, op or tensor name. */
  text: string;
  /** Only weights consumed by this op type ('' for all). */
  op: string;
  quantizableOnly: boolean;
}

/** One row of the layer table: one weight tensor. */
export interface LayerRow {
  /** Position in graph order (the key of every per-layer request). */
  index: number;
  name: string;
  /** First consuming node and the op types of all consumers. */
  layer: string;
  /** The layer name with an If-branch prefix shortened ("else / x/MatMul"); `layer` holds the full name. */
  layerShort: string;
  op: string;
  /** What the layer is, inferred from the graph (embedding, attention-q, mlp-up, classifier, ...; unknown). */
  kind: string;
  shape: number[];
  params: number;
  dtype: string;
  role: string;
  quantizable: boolean;
  /** Readable stored quantization, for already-quantized weights. */
  stored?: string;
  /** Why the weight has no numbers. */
  problem?: string;
  /** Why the weight is not analysed under the schemes (or only per tensor). */
  reason?: string;
  /** Undefined until analysed. */
  stats?: Pick<TensorStats, 'absmax' | 'std' | 'kurtosis' | 'outlierRatio'>;
  /** SQNR (dB) per scheme of AnalysisStatus.schemes; null when not (yet) analysed or not quantizable. */
  sqnr: (number | null)[];
  /** Measured by the latest slice evaluation of this model, when there is one. */
  sensitivity?: RowSensitivity;
  /** The layer's input activation as the latest evaluation quantized and measured it, when it did. */
  activation?: RowActivation;
}

/** A layer's measured sensitivity: rank, effect (accuracy drop pp, perplexity %, ...) and the flag, if flagged. */
export interface RowSensitivity {
  rank: number;
  /** The ranking's effect (larger is more sensitive). */
  effect: number;
  /** "-1.5 pp on digit=2 (int3-block32 alone)". */
  text: string;
  /** The diagnostic's message when the layer is flagged. */
  flag?: string;
  /** The scheme the ranking quantized each layer to (alone). */
  scheme?: string;
  /** Rank of the layer's static SQNR under `scheme` among the measured layers (1 = lowest SQNR), when analysed. */
  sqnrRank?: number;
  /** How many measured layers the ranks are among. */
  ranked?: number;
}

/** A page of the layer table. */
export interface TablePage {
  /** Rows matching the query. */
  total: number;
  offset: number;
  rows: LayerRow[];
  schemes: string[];
  /** Position of the weight named in the request's `find` among the matching rows (-1: not among them). */
  found?: number;
}

/** Rows a page holds at most. */
const PAGE_LIMIT = 1000;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The table row of weight `index` with what has been analysed so far. */
export function layerRow(
  index: number,
  w: WeightInfo,
  analysis: TensorAnalysis | undefined,
  schemes: readonly string[],
): LayerRow {
  const ops = [...new Set(w.layers.map((l) => l.op))];
  const s = analysis?.stats;
  const layer = w.layers[0]?.node ?? '(not consumed)';
  return {
    index,
    name: w.name,
    layer,
    layerShort: shortLayerName(layer),
    op: ops.join(', ') || '—',
    kind: w.kind ?? 'unknown',
    shape: w.shape,
    params: product(w.shape),
    dtype: w.dtype,
    role: w.role,
    quantizable: w.quantizable,
    ...(w.stored ? { stored: w.stored.summary } : {}),
    ...(w.problem ? { problem: w.problem } : {}),
    ...(w.reason ? { reason: w.reason } : {}),
    ...(s ? { stats: { absmax: s.absmax, std: s.std, kurtosis: s.kurtosis, outlierRatio: s.outlierRatio } } : {}),
    sqnr: schemes.map((id) => analysis?.schemes[id]?.sqnrDb ?? null),
  };
}

/** Op types of the weights' consumers, sorted (the table's op filter). */
export function consumerOps(plan: readonly WeightInfo[]): string[] {
  const ops = new Set<string>();
  for (const w of plan) for (const l of w.layers) ops.add(l.op);
  return [...ops].sort();
}

/** Sort value of a row; missing numbers sort last in either direction. */
function sortValue(row: LayerRow, key: TableQuery['sort'], schemes: readonly string[]): number | string | null {
  switch (key) {
    case 'index':
      return row.index;
    case 'layer':
      return row.layer.toLowerCase();
    case 'name':
      return row.name.toLowerCase();
    case 'params':
      return row.params;
    case 'dtype':
      return row.dtype;
    case 'sensitivity':
      return row.sensitivity?.effect ?? null;
    case 'activation':
      return row.activation?.sqnrAloneDb ?? null;
    case 'absmax':
    case 'std':
    case 'kurtosis':
    case 'outlierRatio': {
      const v = row.stats?.[key];
      return v === undefined || Number.isNaN(v) ? null : v;
    }
    default: {
      const v = row.sqnr[schemes.indexOf(key.slice(5))];
      return v === null || v === undefined || Number.isNaN(v) ? null : v;
    }
  }
}

/** Rows matching the query's filters, in its order (ties keep graph order). */
export function queryRows(rows: readonly LayerRow[], query: TableQuery, schemes: readonly string[]): LayerRow[] {
  const text = query.text.trim().toLowerCase();
  const matches = rows.filter(
    (r) =>
      (!query.quantizableOnly || r.quantizable) &&
      (!query.op || r.op.split(', ').includes(query.op)) &&
      (!text ||
        r.layer.toLowerCase().includes(text) ||
        r.name.toLowerCase().includes(text) ||
        r.op.toLowerCase().includes(text)),
  );
  const keyed = matches.map((r) => ({ r, v: sortValue(r, query.sort, schemes) }));
  const sign = query.descending ? -1 : 1;
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === b.v ? a.r.index - b.r.index : a.v === null ? 1 : -1;
    const c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    return c === 0 ? a.r.index - b.r.index : sign * c;
  });
  return keyed.map((k) => k.r);
}

/** Rows [offset, offset + limit) of the queried rows (at most 1000), and where the weight named `find` is among them. */
export function tablePage(
  rows: readonly LayerRow[],
  schemes: string[],
  offset: number,
  limit: number,
  find?: string,
): TablePage {
  const start = Math.max(0, Math.min(offset, rows.length));
  const page: TablePage = {
    total: rows.length,
    offset: start,
    rows: rows.slice(start, start + Math.max(0, Math.min(limit, PAGE_LIMIT))),
    schemes,
  };
  return find === undefined ? page : { ...page, found: rows.findIndex((r) => r.name === find) };
}

/**
 * The rows with each measured layer's SQNR rank under the ranking scheme (1 = lowest SQNR, the layer SQNR would
 * call most sensitive), so the table and the detail can say where the static estimate and the measurement disagree.
 */
export function withSqnrRanks(rows: readonly LayerRow[], schemes: readonly string[]): LayerRow[] {
  const measured = rows.filter((r) => r.sensitivity);
  const scheme = measured.find((r) => r.sensitivity?.scheme)?.sensitivity?.scheme;
  const col = scheme === undefined ? -1 : schemes.indexOf(scheme);
  const sqnr = (r: LayerRow): number | null => {
    const v = col < 0 ? null : r.sqnr[col];
    return v === null || v === undefined || Number.isNaN(v) ? null : v;
  };
  const order = measured
    .filter((r) => sqnr(r) !== null)
    .sort((a, b) => sqnr(a)! - sqnr(b)! || a.index - b.index)
    .map((r) => r.index);
  const rank = new Map(order.map((index, i) => [index, i + 1]));
  return rows.map((r) => {
    if (!r.sensitivity) return r;
    const s = { ...r.sensitivity };
    delete s.sqnrRank;
    delete s.ranked;
    const k = rank.get(r.index);
    return { ...r, sensitivity: k === undefined ? s : { ...s, sqnrRank: k, ranked: order.length } };
  });
}

/** True when the SQNR rank and the measured rank of a layer are far apart (a third of the ranked layers, at least 2). */
export function ranksDisagree(s: RowSensitivity): boolean {
  if (s.sqnrRank === undefined || s.ranked === undefined || s.ranked < 3) return false;
  return Math.abs(s.sqnrRank - s.rank) >= Math.max(2, Math.ceil(s.ranked / 3));
}
