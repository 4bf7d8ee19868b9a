/**
 * The cost side of the results view: per measured variant (fp32 and model files) its size, load time, peak
 * memory, p50/p90 latency and throughput per batch size, each against fp32, and where it costs more.
 */
import { bytesText } from '../../src/core/bytes';
import { costCompares, msText, NO_COST_VARIANTS, ratioText } from '../../src/core/cost/costFormat';
import type { ModelCost } from '../../src/core/cost/costTypes';
import type { EvalResults } from '../../src/core/eval/results';
import { el } from './dom';

/** A cell with its value and, under it, the ratio to fp32 with its spread (coloured when worse than fp32). */
function cell(
  value: string,
  ratio?: { value: number; low: number; high: number } | number,
  lowerIsBetter = true,
): HTMLElement {
  const td = el('td', 'num', value);
  if (ratio === undefined) return td;
  const r = typeof ratio === 'number' ? ratio : ratio.value;
  const worse = lowerIsBetter ? r > 1.05 : r < 0.95;
  td.append(el('div', worse ? 'ratio bad' : 'ratio muted', `vs fp32${ratioText(ratio)}`));
  return td;
}

function batchCells(cost: ModelCost, batch: string): HTMLElement[] {
  const l = cost.latency[batch];
  if (!l || l.p50Ms === undefined) {
    const td = el('td', 'muted', 'skipped');
    td.title = l?.skipped ?? 'not measured';
    return [td, el('td'), el('td')];
  }
  const r = cost.ratioToFp32?.latency[batch];
  return [
    cell(`${msText(l.p50Ms)} ms`, r?.p50Ms),
    cell(`${msText(l.p90Ms!)} ms`),
    cell(l.samplesPerSec!.toFixed(0), r?.samplesPerSec, false),
  ];
}

/** The cost table (appended to `parent`); returns its row count (0: nothing was measured). */
export function costTable(parent: HTMLElement, r: EvalResults): number {
  const measured = r.variants.filter((v) => v.cost);
  if (measured.length === 0) return 0;
  if (!costCompares(measured.length)) {
    parent.append(el('h2', undefined, 'Cost'), el('p', 'muted no-cost', NO_COST_VARIANTS));
    return 0;
  }
  const batches = [...new Set(measured.flatMap((v) => Object.keys(v.cost!.latency)))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const first = measured[0].cost!;
  parent.append(el('h2', undefined, 'Cost, measured with onnxruntime on this machine'));
  parent.append(
    el(
      'p',
      'muted',
      `Each model in a fresh process, ${first.rounds} round(s) interleaved A B A B; threads: ${first.threads || "onnxruntime's default"}, provider ${first.provider}. Ratios to fp32 with their lowest-highest round.`,
    ),
  );
  const table = el('table', 'results cost');
  const head = el('tr');
  for (const h of [
    'variant',
    'size',
    'load',
    'peak memory',
    ...batches.flatMap((b) => [`p50 b${b}`, `p90 b${b}`, `samples/s b${b}`]),
  ])
    head.append(el('th', undefined, h));
  table.append(head);
  for (const v of measured) {
    const cost = v.cost!;
    const ratio = cost.ratioToFp32;
    const row = el('tr', 'cost-row');
    row.dataset.variant = v.id;
    row.append(
      el('td', undefined, v.label),
      cell(bytesText(cost.fileBytes), ratio?.fileBytes),
      cell(`${msText(cost.sessionMs)} ms`, ratio?.sessionMs),
      cell(bytesText(cost.peakRssBytes), ratio?.peakRssBytes),
      ...batches.flatMap((b) => batchCells(cost, b)),
    );
    table.append(row);
  }
  parent.append(table);
  const worse = measured.flatMap((v) => (v.cost!.worse ?? []).map((w) => `${v.label}: ${w}`));
  if (worse.length > 0) {
    const list = el('ul', 'worse');
    for (const w of worse) list.append(el('li', undefined, w));
    parent.append(el('p', undefined, 'Costs more than fp32:'), list);
  }
  return measured.length;
}
