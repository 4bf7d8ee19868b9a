/** The layer table's rows written out: CSV (RFC 4180) or JSON, one SQNR column per scheme. */
import type { LayerRow } from './layerTableView';

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
