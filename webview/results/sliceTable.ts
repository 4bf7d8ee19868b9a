/** The slices x variants table: main value and change per cell, coloured against the budget, and summary rows. */
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { changeText, mainValue } from '../../src/core/eval/describe';
import { el } from './dom';

type Variant = EvalResults['variants'][number];

const SUMMARY: [string, (m: SliceMetrics) => string][] = [
  ['agreement', (m) => (m.agreement !== undefined ? `${(m.agreement * 100).toFixed(2)}%` : '')],
  ['KL', (m) => (m.kl !== undefined ? m.kl.toPrecision(3) : '')],
  ['output SQNR', (m) => `${m.outputSqnrDb.toFixed(1)} dB`],
  ['ECE', (m) => (m.ece !== undefined ? `${(m.ece * 100).toFixed(2)}%` : '')],
  ['variance ratio', (m) => m.varianceRatio.toFixed(3)],
];

function sliceCell(v: Variant, slice: string): { td: HTMLTableCellElement; bad: boolean } {
  const m = v.metrics[slice];
  const bad = v.violations.some((x) => x.slice === slice);
  const td = el('td', `num ${v.kind === 'reference' ? '' : bad ? 'bad' : 'ok'}`);
  td.append(el('div', undefined, mainValue(m) || '–'));
  if (v.kind !== 'reference') td.append(el('div', 'muted small', changeText(m)));
  td.title = v.violations
    .filter((x) => x.slice === slice)
    .map((x) => `${x.metric} ${x.value.toFixed(3)} > ${x.limit}`)
    .join('\n');
  return { td, bad };
}

function summaryRow(label: string, variants: Variant[], text: (v: Variant) => string): HTMLTableRowElement {
  const tr = el('tr', 'summary');
  tr.append(el('td', undefined, label), el('td'), ...variants.map((v) => el('td', 'num', text(v))));
  return tr;
}

/** The table (appended to `parent`); returns the number of cells over budget. */
export function sliceTable(parent: HTMLElement, r: EvalResults): number {
  parent.append(el('h2', undefined, 'Slices × variants'));
  const table = el('table', 'results');
  const hr = el('tr');
  hr.append(el('th', undefined, 'slice'), el('th', 'num', 'n'), ...r.variants.map((v) => el('th', 'num', v.label)));
  table.append(hr);
  let badCells = 0;
  for (const s of r.slices) {
    const tr = el('tr');
    tr.append(el('td', undefined, s.name), el('td', 'num', String(s.n)));
    for (const v of r.variants) {
      const { td, bad } = sliceCell(v, s.name);
      badCells += bad ? 1 : 0;
      tr.append(td);
    }
    table.append(tr);
  }
  for (const [name, f] of SUMMARY) table.append(summaryRow(`${name} (all)`, r.variants, (v) => f(v.metrics.all)));
  table.append(summaryRow('weights', r.variants, (v) => `${(v.weightBytes / 1024).toFixed(1)} KiB`));
  parent.append(table);
  return badCells;
}
