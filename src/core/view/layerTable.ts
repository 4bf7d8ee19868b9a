/**
 * The layer table of one model, kept as the plan and its analyses: the sorted, filtered view is an array of
 * weight indices and a row object is built only for what is asked (a page, a detail, an export), so a model
 * with 100k weights costs no 100k row objects and no long pause when it opens or a result arrives.
 */
import type { TensorAnalysis } from '../stats/analyze';
import type { RowActivation } from './activationDetail';
import { layerRow, type LayerRow, type RowSensitivity, type TablePage, type TableQuery } from './layerTableView';
import type { WeightInfo } from './weightInfo';

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const NOT_CONSUMED = '(not consumed)';

/** The op column's text of a weight ("MatMul, Add"; "—" when nothing reads it), as layerRow writes it. */
function opsText(w: WeightInfo): string {
  return [...new Set(w.layers.map((l) => l.op))].join(', ') || '—';
}

/** The layer table of one model: rows as analysed so far, the measured sensitivity, the last query's order. */
export class LayerTable {
  private plan: readonly WeightInfo[] = [];
  private analyses: (TensorAnalysis | undefined)[] = [];
  private schemes: string[] = [];
  private sensitivity: ReadonlyMap<string, RowSensitivity> = new Map();
  /** The activation measured for each layer (node name), when an evaluation quantized activations. */
  private activations: ReadonlyMap<string, RowActivation> = new Map();
  /** Rows built for pages and details; a row is dropped when its weight changes. */
  private readonly built = new Map<number, LayerRow>();
  private sorted: { key: string; order: Uint32Array } | undefined;
  /** SQNR rank of each measured weight (by index) among the measured ones; undefined when stale. */
  private ranks: { byIndex: Map<number, number>; ranked: number } | undefined;

  /** Starts over with the weights of a plan under these schemes, nothing analysed yet (keeps the sensitivity). */
  reset(plan: readonly WeightInfo[], schemes: readonly string[]): void {
    this.plan = plan;
    this.schemes = [...schemes];
    this.analyses = new Array<TensorAnalysis | undefined>(plan.length);
    this.built.clear();
    this.changed();
  }

  /** Takes in the analysis of weight `index`. */
  update(index: number, analysis: TensorAnalysis): void {
    this.analyses[index] = analysis;
    this.built.delete(index);
    this.changed();
  }

  /** Shows the sensitivity measured by an evaluation (by weight name) and its activations (by node name). */
  setSensitivity(
    byWeight: ReadonlyMap<string, RowSensitivity>,
    byLayer: ReadonlyMap<string, RowActivation> = new Map(),
  ): void {
    this.sensitivity = byWeight;
    this.activations = byLayer;
    this.built.clear();
    this.changed();
  }

  private changed(): void {
    this.sorted = undefined;
    this.ranks = undefined;
  }

  /** Weights in the table. */
  get size(): number {
    return this.plan.length;
  }

  /** The row of weight `index`, with its sensitivity and, when measured, its SQNR rank. */
  row(index: number): LayerRow {
    const cached = this.built.get(index);
    if (cached) return cached;
    const w = this.plan[index];
    const row = layerRow(index, w, this.analyses[index], this.schemes);
    const s = this.sensitivity.get(w.name);
    if (s) {
      const sensitivity = { ...s };
      delete sensitivity.sqnrRank;
      delete sensitivity.ranked;
      const ranks = this.sqnrRanks();
      const rank = ranks.byIndex.get(index);
      row.sensitivity = rank === undefined ? sensitivity : { ...sensitivity, sqnrRank: rank, ranked: ranks.ranked };
    }
    const activation = w.quantizable ? this.activations.get(row.layer) : undefined;
    if (activation) row.activation = activation;
    this.built.set(index, row);
    return row;
  }

  /** SQNR of weight `index` under scheme `id` (null: not analysed, not quantizable or not a finite number). */
  private sqnr(index: number, id: string | undefined): number | null {
    if (id === undefined || !this.schemes.includes(id)) return null;
    const v = this.analyses[index]?.schemes[id]?.sqnrDb;
    return v === undefined || Number.isNaN(v) ? null : v;
  }

  /** Ranks of the measured weights' SQNR under the ranking's scheme (1 = lowest), as withSqnrRanks computes them. */
  private sqnrRanks(): { byIndex: Map<number, number>; ranked: number } {
    if (this.ranks) return this.ranks;
    const measured: number[] = [];
    let scheme: string | undefined;
    for (let i = 0; i < this.plan.length; i++) {
      const s = this.sensitivity.get(this.plan[i].name);
      if (!s) continue;
      measured.push(i);
      scheme ??= s.scheme;
    }
    const order = measured.filter((i) => this.sqnr(i, scheme) !== null);
    order.sort((a, b) => this.sqnr(a, scheme)! - this.sqnr(b, scheme)! || a - b);
    this.ranks = { byIndex: new Map(order.map((index, k) => [index, k + 1])), ranked: order.length };
    return this.ranks;
  }

  /** Whether weight `i` passes the query's filters (as queryRows filters rows). */
  private matches(i: number, query: TableQuery, text: string): boolean {
    const w = this.plan[i];
    if (query.quantizableOnly && !w.quantizable) return false;
    if (query.op && !w.layers.some((l) => l.op === query.op)) return false;
    if (!text) return true;
    return (
      (w.layers[0]?.node ?? NOT_CONSUMED).toLowerCase().includes(text) ||
      w.name.toLowerCase().includes(text) ||
      opsText(w).toLowerCase().includes(text)
    );
  }

  /** Sort value of weight `i` (as sortValue of its row); null sorts last in either direction. */
  private sortKey(i: number, key: TableQuery['sort']): number | string | null {
    const w = this.plan[i];
    switch (key) {
      case 'index':
        return i;
      case 'layer':
        return (w.layers[0]?.node ?? NOT_CONSUMED).toLowerCase();
      case 'name':
        return w.name.toLowerCase();
      case 'params':
        return product(w.shape);
      case 'dtype':
        return w.dtype;
      case 'sensitivity':
        return this.sensitivity.get(w.name)?.effect ?? null;
      case 'activation':
        return w.quantizable ? (this.activations.get(w.layers[0]?.node ?? NOT_CONSUMED)?.sqnrAloneDb ?? null) : null;
      case 'absmax':
      case 'std':
      case 'kurtosis':
      case 'outlierRatio': {
        const v = this.analyses[i]?.stats[key];
        return v === undefined || Number.isNaN(v) ? null : v;
      }
      default:
        return this.sqnr(i, key.slice(5));
    }
  }

  /** Indices of the weights matching a query, in its order; ties keep graph order (kept until a row changes). */
  order(query: TableQuery): Uint32Array {
    const key = JSON.stringify(query);
    if (this.sorted?.key === key) return this.sorted.order;
    const text = query.text.trim().toLowerCase();
    const filtered = !!text || !!query.op || query.quantizableOnly;
    let order: Uint32Array = new Uint32Array(this.plan.length);
    let n = 0;
    for (let i = 0; i < this.plan.length; i++) if (!filtered || this.matches(i, query, text)) order[n++] = i;
    order = order.slice(0, n);
    if (query.sort !== 'index' || query.descending) order = this.sortedBy(order, query);
    this.sorted = { key, order };
    return order;
  }

  /** `order` sorted by the query's key: missing values last in either direction, ties in graph order. */
  private sortedBy(order: Uint32Array, query: TableQuery): Uint32Array {
    const sign = query.descending ? -1 : 1;
    const keys = Array.from(order, (i) => this.sortKey(i, query.sort));
    const present = order.filter((_, k) => keys[k] !== null);
    const missing = order.filter((_, k) => keys[k] === null);
    if (keys.every((v) => v === null || typeof v === 'number')) {
      // Numbers: a typed comparator over a Float64Array of keys by weight index (100k in a few ms).
      const byIndex = new Float64Array(this.plan.length);
      order.forEach((i, k) => (byIndex[i] = keys[k] as number));
      present.sort((a, b) => sign * (byIndex[a] - byIndex[b]) || a - b);
    } else {
      const byIndex = new Map<number, string | number>();
      order.forEach((i, k) => keys[k] !== null && byIndex.set(i, keys[k]!));
      present.sort((a, b) => {
        const va = byIndex.get(a)!;
        const vb = byIndex.get(b)!;
        return va < vb ? -sign : va > vb ? sign : a - b;
      });
    }
    const sorted = new Uint32Array(order.length);
    sorted.set(present);
    sorted.set(missing, present.length);
    return sorted;
  }

  /** The rows matching a query, in its order (builds every row: for exports, not for display). */
  query(query: TableQuery): LayerRow[] {
    return Array.from(this.order(query), (i) => this.row(i));
  }

  /** A page of the rows matching a query (rows are built for the page only). */
  page(query: TableQuery, offset: number, limit: number, find?: string): TablePage {
    const order = this.order(query);
    const start = Math.max(0, Math.min(offset, order.length));
    const window = order.subarray(start, start + Math.max(0, Math.min(limit, PAGE_ROWS)));
    const page: TablePage = {
      total: order.length,
      offset: start,
      rows: Array.from(window, (i) => this.row(i)),
      schemes: this.schemes,
    };
    return find === undefined ? page : { ...page, found: order.findIndex((i) => this.plan[i].name === find) };
  }
}

/** Rows a page holds at most (as tablePage). */
const PAGE_ROWS = 1000;
