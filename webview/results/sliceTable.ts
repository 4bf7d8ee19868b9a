/** The slices x variants table: main value and change per cell, with its verdict against the budget, and summary rows. */
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { collapsedGains, isCollapsed } from '../../src/core/eval/collapse';
import {
  changeText,
  dbText,
  klText,
  mainValue,
  percentText,
  WEIGHT_BYTES_LABEL,
  WEIGHT_BYTES_TITLE,
} from '../../src/core/eval/describe';
import { hasLimits, type Verdict } from '../../src/core/eval/verdict';
import { variantTag } from './activations';
import { el } from './dom';
import { bytesText } from '../../src/core/bytes';
import { cellVerdict } from '../../src/core/eval/cellVerdict';

type Variant = EvalResults['variants'][number];

const SUMMARY: [string, (m: SliceMetrics) => string][] = [
  ['agreement', (m) => (m.agreement !== undefined ? percentText(m.agreement) : '')],
  ['KL', (m) => (m.kl !== undefined ? klText(m.kl) : '')],
  ['output SQNR', (m) => dbText(m.outputSqnrDb)],
  ['ECE', (m) => (m.ece !== undefined ? percentText(m.ece) : '')],
  ['variance ratio', (m) => m.varianceRatio.toFixed(3)],
];

export const CELL_CLASS: Record<Verdict, string> = { pass: 'ok', noise: 'noise', violated: 'bad' };

function sliceCell(r: EvalResults, v: Variant, slice: string): { td: HTMLTableCellElement; verdict: Verdict } {
  const m = v.metrics[slice];
  const judged = v.kind !== 'reference' && hasLimits(r.budget);
  const cv = cellVerdict(r, v, slice, judged);
  const cls = judged ? (cv.smallSlice ? `${CELL_CLASS[cv.verdict]} few` : CELL_CLASS[cv.verdict]) : '';
  const td = el('td', `num ${cls}`);
  td.append(el('div', undefined, mainValue(m) || '–'));
  if (v.kind !== 'reference') td.append(el('div', 'muted small', changeText(m)));
  if (judged) td.append(verdictMark(cv.verdict, cv.note));
  if (v.kind !== 'reference') td.append(...agreementLines(m, collapsedGains(v.metrics).includes(slice)));
  td.title = cv.title;
  return { td, verdict: cv.verdict };
}

const MARKS: Record<Verdict, string> = { pass: '✓', noise: '≈', violated: '✗' };

/**
 * The verdict in words with a marker ("✗ violated: KL 7.57e-2 > 0.05", "≈ within noise: …"), so that it never rests
 * on a tint alone; "✓ pass" shows in high-contrast themes only (inspector.css), where cells lose their tint.
 */
export function verdictMark(verdict: Verdict, note: string): HTMLElement {
  const line = el('div', `small verdict-note mark-${verdict}`);
  line.append(el('span', 'verdict-mark', `${MARKS[verdict]} `), document.createTextNode(note || 'pass'));
  return line;
}

/** Agreement and KL of a cell's slice, and "collapsed" where its gain is an artefact of collapse. */
function agreementLines(m: SliceMetrics | undefined, collapsed: boolean): HTMLElement[] {
  const lines = [
    m?.agreement !== undefined ? `agree ${percentText(m.agreement, 1)}` : '',
    m?.kl !== undefined ? `KL ${klText(m.kl)}` : '',
  ]
    .filter(Boolean)
    .map((text) => el('div', 'muted small agree', text));
  if (collapsed) {
    const note = el('div', 'small verdict-note collapsed', 'collapsed');
    note.title =
      'Not a gain: this variant agrees with fp32 on under half of all samples, so it predicts nearly everything the same way.';
    lines.push(note);
  }
  return lines;
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
  const label = (v: Variant): string =>
    `${v.label}${v.kind !== 'reference' && isCollapsed(v.metrics.all) ? ' (collapsed)' : ''}`;
  const heads = r.variants.map((v) => {
    const th = el('th', 'num', label(v));
    th.dataset.variant = v.id;
    th.append(variantTag(r, v));
    return th;
  });
  hr.append(el('th', undefined, 'slice'), el('th', 'num', 'n'), ...heads);
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
  // A row no variant has a value for (ECE of a language model) is left out.
  for (const [name, f] of SUMMARY) {
    if (r.variants.every((v) => f(v.metrics.all) === '')) continue;
    table.append(summaryRow(`${name} (all)`, r.variants, (v) => f(v.metrics.all)));
  }
  const weights = summaryRow(WEIGHT_BYTES_LABEL, r.variants, (v) => bytesText(v.weightBytes));
  weights.title = WEIGHT_BYTES_TITLE;
  table.append(weights);
  parent.append(table);
  return { badCells, noiseCells };
}
