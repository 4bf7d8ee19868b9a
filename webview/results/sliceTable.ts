/** The slices x variants table: main value and change per cell, with its verdict against the budget, and summary rows. */
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { changeText, mainValue } from '../../src/core/eval/describe';
import { hasLimits, type Verdict } from '../../src/core/eval/verdict';
import { el } from './dom';

type Variant = EvalResults['variants'][number];

const SUMMARY: [string, (m: SliceMetrics) => string][] = [
  ['agreement', (m) => (m.agreement !== undefined ? `${(m.agreement * 100).toFixed(2)}%` : '')],
  ['KL', (m) => (m.kl !== undefined ? m.kl.toPrecision(3) : '')],
  ['output SQNR', (m) => `${m.outputSqnrDb.toFixed(1)} dB`],
  ['ECE', (m) => (m.ece !== undefined ? `${(m.ece * 100).toFixed(2)}%` : '')],
  ['variance ratio', (m) => m.varianceRatio.toFixed(3)],
];

const CELL_CLASS: Record<Verdict, string> = { pass: 'ok', noise: 'noise', violated: 'bad' };

/** A variant's verdict on a slice (results written before verdicts existed: violated when listed). */
function verdictOf(v: Variant, slice: string): Verdict {
  return v.verdicts?.[slice] ?? (v.violations.some((x) => x.slice === slice) ? 'violated' : 'pass');
}

function noiseTooltip(r: EvalResults, slice: string): string {
  const n = r.slices.find((s) => s.name === slice)?.n ?? 0;
  return n < r.thresholds.minSliceSize
    ? `Within noise: this slice has ${n} samples, fewer than the ${r.thresholds.minSliceSize} needed to decide (budget.minSliceSize).`
    : 'Within noise: the 95% confidence interval of the change includes the budget, so this run cannot tell whether it is met. More samples would.';
}

function sliceCell(r: EvalResults, v: Variant, slice: string): { td: HTMLTableCellElement; verdict: Verdict } {
  const m = v.metrics[slice];
  const verdict: Verdict = v.kind === 'reference' || !hasLimits(r.budget) ? 'pass' : verdictOf(v, slice);
  const judged = v.kind !== 'reference' && hasLimits(r.budget);
  const td = el('td', `num ${judged ? CELL_CLASS[verdict] : ''}`);
  td.append(el('div', undefined, mainValue(m) || '–'));
  if (v.kind !== 'reference') td.append(el('div', 'muted small', changeText(m)));
  if (verdict === 'noise') td.append(el('div', 'small verdict-note', 'within noise'));
  if (verdict === 'violated') td.append(el('div', 'small verdict-note', 'violated'));
  td.title =
    verdict === 'noise'
      ? noiseTooltip(r, slice)
      : v.violations
          .filter((x) => x.slice === slice)
          .map((x) => `Budget violated: ${x.metric} ${x.value.toFixed(3)} > ${x.limit}, the whole 95% CI over it`)
          .join('\n');
  return { td, verdict };
}

function summaryRow(label: string, variants: Variant[], text: (v: Variant) => string): HTMLTableRowElement {
  const tr = el('tr', 'summary');
  tr.append(el('td', undefined, label), el('td'), ...variants.map((v) => el('td', 'num', text(v))));
  return tr;
}

/** The table (appended to `parent`); returns the number of cells over budget and within noise. */
export function sliceTable(parent: HTMLElement, r: EvalResults): { badCells: number; noiseCells: number } {
  parent.append(el('h2', undefined, 'Slices × variants'));
  const table = el('table', 'results');
  const hr = el('tr');
  hr.append(el('th', undefined, 'slice'), el('th', 'num', 'n'), ...r.variants.map((v) => el('th', 'num', v.label)));
  table.append(hr);
  let badCells = 0;
  let noiseCells = 0;
  for (const s of r.slices) {
    const tr = el('tr');
    tr.append(el('td', undefined, s.name), el('td', 'num', String(s.n)));
    for (const v of r.variants) {
      const { td, verdict } = sliceCell(r, v, s.name);
      badCells += verdict === 'violated' ? 1 : 0;
      noiseCells += verdict === 'noise' ? 1 : 0;
      tr.append(td);
    }
    table.append(tr);
  }
  for (const [name, f] of SUMMARY) table.append(summaryRow(`${name} (all)`, r.variants, (v) => f(v.metrics.all)));
  table.append(summaryRow('weights', r.variants, (v) => `${(v.weightBytes / 1024).toFixed(1)} KiB`));
  parent.append(table);
  return { badCells, noiseCells };
}
