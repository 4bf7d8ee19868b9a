/**
 * The plan search view: what the search found (cancelled: the front so far), the Pareto chart with clickable points
 * (write that plan, export it), the chosen plan per slice next to its export, the front as a table, the layer x
 * slice sensitivity heatmap and the steps, predicted against measured.
 */
import type uPlot from 'uplot';
import type { Budget } from '../../src/core/eval/spec';
import type { PlanSearchFile } from '../../src/core/search/planSearchFile';
import { measuredText, planId } from '../../src/core/search/planSearchFile';
import type {
  PlanAction,
  SearchFromView,
  SearchRender,
  SearchTestFromView,
  SearchToView,
} from '../../src/planSearchProtocol';
import { decodeNumbers } from '../../src/wire';
import { budgetOf } from '../results/costChart';
import { el } from '../results/dom';
import { frontChart } from './frontChart';
import { chosenTable, exportLine, frontTable, stepsTable } from './searchTables';
import { sensitivityHeatmap } from './sensitivityHeatmap';
import { exportChosenLabel, noSlicesText } from './searchText';
import { onThemeChange } from '../themeWatch';

declare function acquireVsCodeApi(): { postMessage(message: SearchFromView | SearchTestFromView): void };
const vscode = acquireVsCodeApi();
const state: { chart?: uPlot; heat: { scheme?: string }; zoom: boolean; redraw?: () => void } = {
  heat: {},
  zoom: true,
};

/** Where the chart's y axis ends when zoomed: four budgets, when some plan is far beyond that. */
const ZOOM_BUDGETS = 4;

const act = (plan: number, action: PlanAction): void => vscode.postMessage({ type: 'plan', plan, action });

function button(text: string, cls: string, onClick: () => void, disabled = false): HTMLButtonElement {
  const b = el('button', `search-button ${cls}`, text);
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}

function header(app: HTMLElement, s: PlanSearchFile, searchFile: string, busy?: string): void {
  const r = s.report;
  const pct = (r.runs.search / Math.max(1, r.runs.fullDataEquivalent)) * 100;
  app.append(
    el('h1', undefined, `Plan search · ${r.spec}`),
    el(
      'p',
      'muted',
      `${r.model}: ${r.layers.length} layers × ${r.candidates.length} candidates (${r.candidates.join(', ')}), ${r.exhaustive ? 'every combination' : 'greedy with bisection and repair'}; ${r.plans.length} plans measured with ${r.runs.search} inference runs (${pct.toFixed(0)}% of the ${r.runs.fullDataEquivalent} the same plans take on all ${r.runs.samples} samples)${r.sensitivity.from === 'measured' ? `, after ${r.sensitivity.runs} runs of one-at-a-time sensitivity` : ', sensitivity read from the results file'}, ${(r.ms / 1000).toFixed(1)} s · ${searchFile} · ${new Date(s.createdAt).toLocaleString()}`,
    ),
  );
  if (r.cancelled)
    app.append(el('p', 'verdict noise cancelled', 'Cancelled: the front found so far (the search did not finish).'));
  const max = r.maxCost !== undefined ? ` (maxCost ${((100 * r.maxCost) / r.fp32Cost).toFixed(1)}% of fp32)` : '';
  if (r.chosen)
    app.append(
      el(
        'p',
        'verdict ok chosen-line',
        `${r.cancelled ? 'Best so far' : 'Chosen'}: ${measuredText(r, r.chosen)}${max}${s.written ? ` → ${s.written}` : ''}`,
      ),
    );
  else if (!r.cancelled)
    app.append(
      el(
        'p',
        'verdict bad',
        `No plan${max} meets the budget on every slice.${r.forcing?.length ? ` Slices that force higher precision: ${r.forcing.join(', ')}.` : ''}`,
      ),
    );
  const chosenIndex = r.chosen ? r.plans.findIndex((p) => planId(p) === planId(r.chosen!)) : -1;
  const bar = el('div', 'search-actions');
  bar.append(
    button(exportChosenLabel(r), 'export-chosen', () => act(chosenIndex, 'export'), !!busy || chosenIndex < 0),
    button('Find a Plan again', 'find-again', () => vscode.postMessage({ type: 'findPlan' }), !!busy),
    button('Show evaluation results', 'open-results', () => vscode.postMessage({ type: 'openResults' })),
  );
  app.append(bar);
  if (busy) app.append(el('p', 'muted busy', busy));
}

/** The menu of a clicked point: what was measured of its plan (of each, when points coincide), Write, Export. */
function pointMenu(box: HTMLElement, s: PlanSearchFile, indices: number[], at: { x: number; y: number }): void {
  box.querySelector('.point-menu')?.remove();
  const menu = el('div', 'point-menu');
  menu.setAttribute('role', 'dialog');
  menu.style.left = `${Math.round(at.x + 12)}px`;
  menu.style.top = `${Math.round(at.y + 12)}px`;
  const close = (): void => menu.remove();
  if (indices.length > 1) menu.append(el('div', 'small muted', `${indices.length} plans at this point:`));
  for (const index of indices) {
    const p = s.report.plans[index];
    const item = el('div', 'point-plan');
    item.dataset.plan = String(index);
    const layers = Object.entries(p.layers)
      .map(([l, sch]) => `${l}=${sch}`)
      .join(', ');
    const row = el('div', 'point-actions');
    row.append(
      button('Write this plan', 'write', () => (close(), act(index, 'write'))),
      button('Export this plan', 'export', () => (close(), act(index, 'export'))),
    );
    item.append(el('div', 'point-title', measuredText(s.report, p)), el('div', 'small muted', layers), row);
    menu.append(item);
  }
  menu.append(button('Close', 'close', close));
  menu.addEventListener('keydown', (e) => e.key === 'Escape' && close());
  box.append(menu);
  menu.querySelector<HTMLButtonElement>('button.write')?.focus();
}

/** When some plan is far beyond the budget: a button to zoom to the budget or show every plan; the y axis's end. */
function zoomToggle(parent: HTMLElement, s: PlanSearchFile, budget: number | undefined): number | undefined {
  const zoomTo = budget !== undefined && budget > 0 ? ZOOM_BUDGETS * budget : undefined;
  if (zoomTo === undefined || !s.report.plans.some((p) => p.worst > zoomTo)) return undefined;
  const toggle = button(
    state.zoom
      ? `Show every plan (some are beyond ${ZOOM_BUDGETS}× the budget)`
      : `Zoom to ${ZOOM_BUDGETS}× the budget`,
    'zoom',
    () => {
      state.zoom = !state.zoom;
      state.redraw?.();
    },
  );
  toggle.setAttribute('aria-pressed', String(state.zoom));
  parent.append(toggle);
  return state.zoom ? zoomTo : undefined;
}

function render(s: PlanSearchFile, searchFile: string, budgetSpec?: Budget, busy?: string): SearchRender {
  state.chart?.destroy();
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const r = s.report;
  const budget = budgetSpec ? budgetOf(r.task, budgetSpec) : undefined;
  header(app, s, searchFile, busy);
  const row = el('div', 'search-row');
  const left = el('section', 'front');
  const right = el('section', 'chosen');
  row.append(left, right);
  app.append(row);
  left.append(
    el('h2', undefined, `Pareto front: cost against the worst slice (${r.front.length} of ${r.plans.length} plans)`),
  );
  const zoomTo = zoomToggle(left, s, budget);
  const drawn = frontChart(
    left,
    r,
    budget,
    (i, at) => pointMenu(left.querySelector('.front-chart')!, s, i, at),
    zoomTo,
  );
  state.chart = drawn.chart;
  right.append(el('h2', undefined, r.cancelled ? 'Best plan so far, per slice' : 'Chosen plan per slice'));
  const line = exportLine(s);
  if (line) right.append(line);
  const table = chosenTable(right, s);
  if (!table.rows) right.append(el('p', 'muted no-slices', noSlicesText(r) ?? 'No plan chosen.'));
  app.append(el('h2', undefined, 'Front plans'));
  frontTable(app, r, act);
  app.append(el('h2', undefined, 'Which layers hurt which slices (one at a time)'));
  const heatmap = sensitivityHeatmap(app, r, budget, state.heat);
  app.append(el('h2', undefined, 'Step by step: predicted (sensitivities added up) against measured'));
  const steps = stepsTable(app, r, budget);
  return {
    points: drawn.points,
    frontPoints: drawn.front,
    chosen: r.chosen !== undefined,
    cancelled: r.cancelled,
    sliceRows: table.rows,
    exportedColumn: table.exported,
    heatmap,
    steps,
  };
}

/** Test builds: clicks the point of plan `index` as a user would, then the menu's button. */
function testPick(index: number, action: PlanAction): string {
  const box = document.querySelector<HTMLElement>('.front-chart');
  const over = box?.querySelector<HTMLElement>('.u-over');
  const at = (JSON.parse(box?.dataset.points ?? '[]') as { index: number; x: number; y: number }[]).find(
    (p) => p.index === index,
  );
  if (!box || !over || !at) return `no point of plan ${index} on the chart`;
  const rect = over.getBoundingClientRect();
  const init = { clientX: rect.left + at.x, clientY: rect.top + at.y, bubbles: true };
  over.dispatchEvent(new MouseEvent('mousedown', init));
  over.dispatchEvent(new MouseEvent('mouseup', init));
  const item = box.querySelector<HTMLElement>(`.point-menu .point-plan[data-plan="${index}"]`);
  const button = item?.querySelector<HTMLButtonElement>(`button.${action}`);
  if (!item || !button)
    return `no menu entry for plan ${index} after a click at (${at.x.toFixed(0)}, ${at.y.toFixed(0)})`;
  const title = item.querySelector('.point-title')?.textContent ?? '';
  button.click();
  return `clicked ${action} on ${title}`;
}

let last: SearchRender | undefined;
/** What the last test pick did (kept in the reports after it). */
let picked: string | undefined;

window.addEventListener('message', (event: MessageEvent) => {
  const message = decodeNumbers(event.data) as SearchToView;
  if (__QUANTLENS_TEST_HOOKS__ && message.type === 'test/pick') {
    try {
      picked = testPick(message.plan, message.action);
    } catch (e) {
      picked = `the click threw: ${e instanceof Error ? e.stack : String(e)}`;
    }
    if (last) vscode.postMessage({ type: 'rendered', report: { ...last, picked } });
    return;
  }
  if (message.type !== 'search') return;
  state.redraw = () => {
    const y = window.scrollY;
    last = render(message.search, message.searchFile, message.budget, message.busy);
    window.scrollTo(0, y);
  };
  const report = render(message.search, message.searchFile, message.budget, message.busy);
  last = report;
  if (__QUANTLENS_TEST_HOOKS__)
    requestAnimationFrame(() =>
      requestAnimationFrame(() =>
        vscode.postMessage({ type: 'rendered', report: picked ? { ...report, picked } : report }),
      ),
    );
});
// A live theme switch: everything drawn again (the chart with the new theme's colours).
onThemeChange(() => state.redraw?.());
vscode.postMessage({ type: 'ready' });
