/** Plain-text cost table (the CLI's `eval` and `bench` output): size, load, memory, latency per batch, vs fp32. */
import { bytesText } from '../bytes';
import type { ModelCost, Ratio } from './costTypes';

/** A measured model: its name and cost (the first is the reference). */
export interface CostRow {
  name: string;
  cost: ModelCost;
}

/** Milliseconds with 3 significant digits. */
export const msText = (ms: number): string =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toPrecision(3);

/** "x0.42 (0.40-0.45)": a ratio with its spread over the rounds. */
export function ratioText(r: Ratio | number | undefined): string {
  if (r === undefined) return '';
  if (typeof r === 'number') return ` x${r.toFixed(2)}`;
  const spread = r.low !== r.high ? ` (${r.low.toFixed(2)}-${r.high.toFixed(2)})` : '';
  return ` x${r.value.toFixed(2)}${spread}`;
}

/** The batch sizes measured by any row, ascending. */
const batchesOf = (rows: readonly CostRow[]): string[] =>
  [...new Set(rows.flatMap((r) => Object.keys(r.cost.latency)))].sort((a, b) => Number(a) - Number(b));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

/** What replaces the cost table when only fp32 was measured: nothing to compare it with. */
export const NO_COST_VARIANTS =
  'Cost is measured for model-file and exported variants; this spec has none: add {"model": ...} to variants or run quantlens export.';

/** Whether measured costs compare anything: a row besides the reference (fp32 alone has no ratios). */
export const costCompares = (measured: number): boolean => measured > 1;

/** Which accuracy-vs-cost charts have two points or more to compare (a one-point chart compares nothing). */
export function costChartsShown(measured: number, variants: number): { latency: boolean; bytes: boolean } {
  return { latency: costCompares(measured), bytes: variants > 1 };
}

/** What replaces the latency chart when only fp32's latency was measured. */
export const NO_LATENCY_CHART =
  'Accuracy against latency: only fp32 was measured, nothing to compare it with (cost is measured for model-file and exported variants).';

/** The cost table and, under it, where a model costs more than the reference, in words. */
export function costTable(rows: readonly CostRow[]): string {
  const batches = batchesOf(rows);
  const header = [
    'model',
    'size',
    'load',
    'peak memory',
    ...batches.flatMap((b) => [`p50 b${b}`, `p90 b${b}`, `samples/s b${b}`]),
  ];
  const body = rows.map(({ name, cost }) => {
    const r = cost.ratioToFp32;
    return [
      name,
      `${bytesText(cost.fileBytes)}${ratioText(r?.fileBytes)}`,
      `${msText(cost.sessionMs)} ms${ratioText(r?.sessionMs)}`,
      `${bytesText(cost.peakRssBytes)}${ratioText(r?.peakRssBytes)}`,
      ...batches.flatMap((b) => {
        const l = cost.latency[b];
        if (!l || l.p50Ms === undefined) return ['skipped', '', ''];
        const lr = r?.latency[b];
        return [
          `${msText(l.p50Ms)} ms${ratioText(lr?.p50Ms)}`,
          `${msText(l.p90Ms!)} ms`,
          `${l.samplesPerSec!.toFixed(0)}${ratioText(lr?.samplesPerSec)}`,
        ];
      }),
    ];
  });
  const notes = rows.flatMap(({ name, cost }) => [
    ...(cost.worse ?? []).map((w) => `  ${name}: ${w}`),
    ...Object.entries(cost.latency).flatMap(([b, l]) =>
      l.skipped ? [`  ${name}: batch ${b} skipped: ${l.skipped}`] : [],
    ),
  ]);
  const first = rows[0]?.cost;
  const setup = first
    ? `${first.rounds} round(s) A B A B, each model in a fresh process; threads: ${first.threads || "onnxruntime's default"}; provider ${first.provider}; ratios to ${rows[0].name} (lowest-highest round)`
    : '';
  return [
    table([header, ...body]),
    setup,
    ...(notes.length > 0 ? ['Costs more than the reference:', ...notes] : []),
  ].join('\n');
}
