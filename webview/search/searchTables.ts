/**
 * The plan search view's tables: the chosen plan per slice (simulated, and its export on onnxruntime's kernels next
 * to it), the front (each plan with Write / Export buttons: the keyboard's way to what a chart click offers), and
 * the steps of the search, predicted against measured.
 */
import type { SliceMetrics } from '../../src/core/eval/metrics';
import { changeText, klText, mainValue } from '../../src/core/eval/describe';
import type { Verdict } from '../../src/core/eval/verdict';
import { effectUnit, spreadText, type FindPlanReport, type ReportedPlan } from '../../src/core/search/planReport';
import { planId, type PlanSearchFile } from '../../src/core/search/planSearchFile';
import type { PlanAction } from '../../src/planSearchProtocol';
import { el } from '../results/dom';
import { CELL_CLASS, verdictMark } from '../results/sliceTable';
import { pointTitle } from './frontChart';

type SliceRow = { name: string; n: number; verdict: string; metrics: SliceMetrics };

/** "pass", "noise (too few samples to decide)" -> its verdict and whether the slice is too small to decide. */
function verdictOf(text: string): { verdict: Verdict; few: boolean } {
  const word = text.split(' ')[0];
  const verdict: Verdict = word === 'violated' ? 'violated' : word === 'noise' ? 'noise' : 'pass';
  return { verdict, few: text.includes('too few') };
}

function cell(row: SliceRow | undefined): HTMLTableCellElement {
  if (!row?.metrics) return el('td', 'num muted', '–');
  const { verdict, few } = verdictOf(row.verdict);
  const td = el('td', `num ${CELL_CLASS[verdict]}${few ? ' few' : ''}`);
  td.append(
    el('div', undefined, mainValue(row.metrics) || '–'),
    el('div', 'muted small', changeText(row.metrics)),
    verdictMark(verdict, verdict === 'pass' ? '' : row.verdict.replace(/^noise/, 'within noise')),
  );
  if (row.metrics.kl !== undefined) td.append(el('div', 'muted small agree', `KL ${klText(row.metrics.kl)}`));
  return td;
}

/** The chosen plan's per-slice table; returns its rows and whether the export's column is there. */
export function chosenTable(parent: HTMLElement, s: PlanSearchFile): { rows: number; exported: boolean } {
  const chosen = s.report.chosen;
  if (!chosen?.slices) return { rows: 0, exported: false };
  const ex =
    s.exported && s.written && s.exported.plan === s.written && s.exported.slices.length ? s.exported : undefined;
  const table = el('table', 'results plan-slices');
  const head = el('tr');
  head.append(el('th', undefined, 'slice'), el('th', 'num', 'n'), el('th', 'num', 'simulated'));
  if (ex) head.append(el('th', 'num', 'exported (onnxruntime)'));
  table.append(head);
  const exported = new Map(ex?.slices.map((r) => [r.name, r]));
  for (const row of chosen.slices) {
    const tr = el('tr');
    tr.append(el('td', undefined, row.name), el('td', 'num', String(row.n)), cell(row));
    if (ex) tr.append(cell(exported.get(row.name)));
    table.append(tr);
  }
  parent.append(table);
  return { rows: chosen.slices.length, exported: ex !== undefined };
}

/** The export's line: verified, agreement with the simulation, verdict on the export. */
export function exportLine(s: PlanSearchFile): HTMLElement | undefined {
  const ex = s.exported;
  if (!ex) return undefined;
  if (!ex.slices.length) return el('p', 'muted export-line', `Exported ${ex.output}: ${ex.note ?? 'not evaluated'}.`);
  const agreement =
    ex.agreement === 'identical'
      ? 'identical to the simulation on every slice'
      : ex.agreement === 'rounding'
        ? 'the same as the simulation up to float rounding'
        : 'DIFFERS from the simulation';
  const verdict = ex.passes ? 'meets the budget on every slice' : 'BREAKS the budget';
  return el(
    'p',
    `verdict export-line ${ex.passes ? 'ok' : 'bad'}`,
    `Exported ${ex.plan} to ${ex.output} (${ex.verified ? 'verified bit for bit' : 'not verified'}); measured on onnxruntime: ${verdict}, ${agreement}.`,
  );
}

/** The front as a table with a Write and an Export button per plan; returns its rows. */
export function frontTable(
  parent: HTMLElement,
  r: FindPlanReport,
  act: (index: number, a: PlanAction) => void,
): number {
  const table = el('table', 'results front-table');
  const head = el('tr');
  head.append(el('th', undefined, 'plan'), el('th', undefined, 'layers'), el('th', undefined, ''));
  table.append(head);
  const indexOf = new Map(r.plans.map((p, i) => [planId(p), i]));
  for (const p of [...r.front].sort((a, b) => a.cost - b.cost)) {
    const index = indexOf.get(planId(p)) ?? -1;
    const tr = el('tr', r.chosen && planId(r.chosen) === planId(p) ? 'selected' : undefined);
    tr.dataset.plan = String(index);
    const actions = el('td', 'actions');
    for (const [a, label] of [
      ['write', 'Write'],
      ['export', 'Export'],
    ] as const) {
      const b = el('button', `plan-action ${a}`, label);
      b.title =
        a === 'write' ? 'Write this plan next to the spec' : 'Write this plan, export it and measure the export';
      b.addEventListener('click', () => act(index, a));
      actions.append(b);
    }
    const measured = p.measuredCost
      ? `; measured ${spreadText(p.measuredCost)}${p.costWithinNoise ? ', cost order within noise of a neighbour' : ''}`
      : '';
    tr.append(el('td', undefined, pointTitle(r, p) + measured), el('td', 'small', layersText(p)), actions);
    table.append(tr);
  }
  parent.append(table);
  return r.front.length;
}

const layersText = (p: ReportedPlan): string =>
  Object.entries(p.layers)
    .map(([l, s]) => `${l}=${s}`)
    .join(', ');

/** The steps, each with its predicted and measured worst-slice effect; returns how many. */
export function stepsTable(parent: HTMLElement, r: FindPlanReport, budget: number | undefined): number {
  const table = el('table', 'results steps');
  const head = el('tr');
  const unit = effectUnit(r.task);
  for (const h of [
    '#',
    'step',
    'moves',
    'cost',
    `predicted worst (${unit})`,
    `measured worst (${unit})`,
    'measured − predicted',
    '',
  ])
    head.append(el('th', /worst|cost|−/.test(h) ? 'num' : undefined, h));
  table.append(head);
  r.steps.forEach((s, i) => {
    const tr = el('tr');
    const gap = s.measuredWorst - s.predictedWorst;
    // Effects that do not add up: the measurement off the prediction by over a quarter of the budget.
    const off = budget !== undefined && Math.abs(gap) > budget / 4;
    const moves = s.moves.map((m) => `${m.layer} ${m.from}→${m.to}`).join(', ') || '–';
    const outcome = `${s.passes ? 'passes' : 'breaks'}${s.accepted ? ', accepted' : ''}`;
    tr.append(
      el('td', 'num', String(i + 1)),
      el('td', undefined, s.kind),
      el('td', 'small', moves),
      el('td', 'num', `${((100 * s.cost) / r.fp32Cost).toFixed(1)}%`),
      el('td', 'num', s.predictedWorst.toPrecision(3)),
      el('td', `num ${s.passes ? 'ok' : 'bad'}`, s.measuredWorst.toPrecision(3)),
      el(
        'td',
        `num${off ? ' noise' : ''}`,
        `${gap >= 0 ? '+' : ''}${gap.toPrecision(3)}${off ? ' (does not add up)' : ''}`,
      ),
      el('td', 'small', outcome),
    );
    table.append(tr);
  });
  parent.append(table);
  return r.steps.length;
}
