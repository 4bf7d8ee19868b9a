/**
 * The inspector's layer table as data: one row per planned weight, filtered and sorted on the extension side
 * (the webview asks for pages), exported as CSV or JSON; and the model's size under each scheme.
 */
import { dtypeBits } from '../core/onnx/dtypes';
import { parseScheme } from '../core/quant/schemes';
import type { TensorAnalysis } from '../core/stats/analyze';
import { schemeBytes } from '../core/stats/layerDetail';
import type { LayerRow, SchemeSize, TableQuery } from '../protocol';
import type { PlannedWeight } from './analysisPlan';

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The table row of weight `index` with what has been analysed so far. */
export function layerRow(
  index: number,
  w: PlannedWeight,
  analysis: TensorAnalysis | undefined,
  schemes: readonly string[],
): LayerRow {
  const ops = [...new Set(w.layers.map((l) => l.op))];
  const s = analysis?.stats;
  return {
    index,
    name: w.name,
    layer: w.layers[0]?.node ?? '(not consumed)',
    op: ops.join(', ') || '—',
    shape: w.shape,
    params: product(w.shape),
    dtype: w.dtype,
    role: w.role,
    quantizable: w.quantizable,
    ...(w.stored ? { stored: w.stored.summary } : {}),
    ...(w.problem ? { problem: w.problem } : {}),
    ...(s ? { stats: { absmax: s.absmax, std: s.std, kurtosis: s.kurtosis, outlierRatio: s.outlierRatio } } : {}),
    sqnr: schemes.map((id) => analysis?.schemes[id]?.sqnrDb ?? null),
  };
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

const csvCell = (v: string | number | null | undefined): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The rows as CSV (RFC 4180), one column per scheme's SQNR in dB. */
export function tableCsv(rows: readonly LayerRow[], schemes: readonly string[]): string {
  const header = [
    'index',
    'layer',
    'op',
    'tensor',
    'shape',
    'parameters',
    'dtype',
    'quantizable',
    'absmax',
    'std',
    'kurtosis',
    'outlier_ratio',
    ...schemes.map((s) => `sqnr_db_${s}`),
  ];
  const lines = rows.map((r) =>
    [
      r.index,
      r.layer,
      r.op,
      r.name,
      r.shape.join('x'),
      r.params,
      r.dtype,
      r.quantizable ? 'yes' : 'no',
      r.stats?.absmax,
      r.stats?.std,
      r.stats?.kurtosis,
      r.stats?.outlierRatio,
      ...r.sqnr,
    ]
      .map(csvCell)
      .join(','),
  );
  return [header.join(','), ...lines].join('\r\n') + '\r\n';
}

/** The rows as JSON (SQNR keyed by scheme id; Infinity written as the string "Infinity"). */
export function tableJson(rows: readonly LayerRow[], schemes: readonly string[]): string {
  const num = (v: number | null | undefined): number | string | null =>
    v === undefined || v === null ? null : Number.isFinite(v) ? v : String(v);
  return (
    JSON.stringify(
      rows.map((r) => ({
        index: r.index,
        layer: r.layer,
        op: r.op,
        tensor: r.name,
        shape: r.shape,
        parameters: r.params,
        dtype: r.dtype,
        quantizable: r.quantizable,
        ...(r.stored ? { stored: r.stored } : {}),
        stats: r.stats
          ? {
              absmax: num(r.stats.absmax),
              std: num(r.stats.std),
              kurtosis: num(r.stats.kurtosis),
              outlierRatio: num(r.stats.outlierRatio),
            }
          : null,
        sqnrDb: Object.fromEntries(schemes.map((s, i) => [s, num(r.sqnr[i])])),
      })),
      null,
      2,
    ) + '\n'
  );
}

/** Bytes a weight takes as stored (packed sub-byte types round up). */
export function storedBytes(w: PlannedWeight): number {
  return Math.ceil((product(w.shape) * dtypeBits(w.dtype)) / 8);
}

/** Model weight bytes if every quantizable weight were stored under each scheme (the others as they are). */
export function modelSizes(
  plan: readonly PlannedWeight[],
  schemes: readonly string[],
): { weightBytes: number; sizes: SchemeSize[] } {
  const weightBytes = plan.reduce((sum, w) => sum + storedBytes(w), 0);
  const sizes = schemes.map((id) => {
    const scheme = parseScheme(id);
    let bytes = 0;
    for (const w of plan)
      bytes += w.quantizable ? schemeBytes(scheme, product(w.stored?.dims ?? w.shape), w.layout) : storedBytes(w);
    return { scheme: id, bytes };
  });
  return { weightBytes, sizes };
}
