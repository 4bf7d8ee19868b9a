/**
 * Which layers hurt which slices: the one-at-a-time effects the search predicted from, layers x deciding slices for
 * one candidate at a time (buttons), each cell's effect in figures and as a tint (over the budget: marked).
 */
import { effectUnit, type FindPlanReport } from '../../src/core/search/planReport';
import { el } from '../results/dom';

/** Candidates with measured effects, cheapest (most damaging) first. */
function candidatesOf(r: FindPlanReport): string[] {
  const sens = r.sliceSensitivity ?? {};
  const has = (c: string): boolean => Object.values(sens).some((per) => Object.keys(per[c] ?? {}).length > 0);
  const cost = (c: string): number => r.layers.reduce((sum, l) => sum + (l.costs[c] ?? 0), 0);
  return r.candidates.filter(has).sort((a, b) => cost(a) - cost(b));
}

function grid(r: FindPlanReport, scheme: string, budget: number | undefined): HTMLTableElement {
  const sens = r.sliceSensitivity ?? {};
  const layers = r.layers.map((l) => l.key).filter((k) => sens[k]);
  const slices = [...new Set(layers.flatMap((k) => Object.keys(sens[k][scheme] ?? {})))];
  const values = layers.flatMap((k) => slices.map((s) => sens[k][scheme]?.[s] ?? 0));
  const max = Math.max(budget ?? 0, ...values.map(Math.abs), 1e-12);
  const table = el('table', 'results heatmap-table');
  table.dataset.rows = String(layers.length);
  table.dataset.cols = String(slices.length);
  const head = el('tr');
  head.append(
    el('th', undefined, `layer (${scheme} alone, ${effectUnit(r.task)})`),
    ...slices.map((s) => el('th', 'num', s)),
  );
  table.append(head);
  for (const k of layers) {
    const tr = el('tr');
    tr.append(el('td', undefined, k));
    for (const s of slices) {
      const v = sens[k][scheme]?.[s];
      const over = v !== undefined && budget !== undefined && v > budget;
      const td = el('td', `num heat${over ? ' over' : ''}${v !== undefined && v < 0 ? ' better' : ''}`);
      td.textContent = v === undefined ? '–' : `${v >= 0 ? '+' : ''}${v.toPrecision(2)}${over ? ' ✗' : ''}`;
      td.style.setProperty('--heat', `${Math.round((60 * Math.abs(v ?? 0)) / max)}%`);
      td.title = `${k} under ${scheme} alone: ${v === undefined ? 'not measured' : v.toPrecision(3)} on ${s}${over ? ' (over the budget)' : ''}`;
      tr.append(td);
    }
    table.append(tr);
  }
  return table;
}

/** The heatmap (appended to `parent`); returns its rows and columns. */
export function sensitivityHeatmap(
  parent: HTMLElement,
  r: FindPlanReport,
  budget: number | undefined,
  state: { scheme?: string },
): [number, number] {
  const candidates = candidatesOf(r);
  if (candidates.length === 0) {
    parent.append(el('p', 'muted', 'No one-at-a-time sensitivity in this report.'));
    return [0, 0];
  }
  if (!state.scheme || !candidates.includes(state.scheme)) state.scheme = candidates[0];
  const section = el('div', 'heatmap-section');
  const picker = el('div', 'heat-candidates');
  picker.setAttribute('role', 'group');
  picker.setAttribute('aria-label', 'Candidate');
  let table = grid(r, state.scheme, budget);
  for (const c of candidates) {
    const b = el('button', 'heat-candidate', c);
    b.setAttribute('aria-pressed', String(c === state.scheme));
    b.addEventListener('click', () => {
      state.scheme = c;
      for (const other of picker.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === b));
      const next = grid(r, c, budget);
      table.replaceWith(next);
      table = next;
    });
    picker.append(b);
  }
  section.append(picker, table);
  parent.append(section);
  return [Number(table.dataset.rows), Number(table.dataset.cols)];
}
