/**
 * The evaluation results view: slices x variants (changes coloured against the budget), the bit-width
 * sweep per slice (uPlot), and the layer sensitivity ranking as bars (click a layer: inspector on it).
 * The state lives in one object; each section is drawn by its own module.
 */
import type { EvalResults } from '../../src/core/eval/results';
import type { ResultsFromView, ResultsToView } from '../../src/resultsProtocol';
import type { ResultsTestFromView } from '../../src/testHooks';
import { decodeNumbers } from '../../src/wire';
import { hasLimits } from '../../src/core/eval/verdict';
import { resultsFileName } from '../../src/core/eval/results';
import { activationSummary, activationTable } from './activations';
import { costChart } from './costChart';
import { costTable } from './costTable';
import { el } from './dom';
import { exportSection } from './exportSection';
import { sensitivityBars } from './sensitivityBars';
import { sliceTable } from './sliceTable';
import type { DrawnCounts, ResultsState } from './state';
import { sweepChart } from './sweepChart';
import { onThemeChange } from '../themeWatch';

declare function acquireVsCodeApi(): { postMessage(message: ResultsFromView | ResultsTestFromView): void };
const vscode = acquireVsCodeApi();
const state: ResultsState = {};

function header(app: HTMLElement, r: EvalResults, resultsFile: string): void {
  const head = el('div', 'title');
  head.append(el('h1', undefined, `Slice evaluation · ${r.model.file}`));
  const violated = r.variants.filter((v) => v.violations.length > 0);
  const runs = `${r.timings.runs} inference runs in ${(r.timings.totalMs / 1000).toFixed(1)} s`;
  app.append(
    head,
    el(
      'p',
      'muted',
      `${r.task}, ${r.data.evaluated} of ${r.data.samples} samples, ${r.slices.length} slices, ${runs} · ${resultsFile}`,
    ),
    ...planRun(r, resultsFile),
    verdictLine(r, violated),
    ...planSearchButtons(r),
  );
}

/** A spec with a "search" field: Find a Plan, and its last plan search. */
function planSearchButtons(r: EvalResults): HTMLElement[] {
  const content = r.spec.content as { search?: unknown } | null;
  if (!content || typeof content !== 'object' || !content.search) return [];
  const bar = el('div', 'search-actions');
  for (const [type, text] of [
    ['findPlan', 'Find a Plan'],
    ['showPlanSearch', 'Show the last plan search'],
  ] as const) {
    const b = el('button', `search-button ${type}`, text);
    b.addEventListener('click', () => vscode.postMessage({ type }));
    bar.append(b);
  }
  return [bar];
}

/** An evaluation with plans added ("Evaluate this plan") has its own results file: say so, and which plans. */
function planRun(r: EvalResults, resultsFile: string): HTMLElement[] {
  const own = resultsFileName(r.spec.file);
  if (resultsFile.replace(/^.*[\\/]/, '') === own) return [];
  const plans = r.variants.filter((v) => v.kind === 'plan').map((v) => v.label);
  return [
    el(
      'p',
      'muted plan-run',
      `Plan evaluation: ${r.spec.file}${plans.length ? ` with ${plans.join(', ')}` : ''}. The spec's own results stay in ${own}.`,
    ),
  ];
}

function verdictLine(r: EvalResults, violated: EvalResults['variants']): HTMLElement {
  if (!hasLimits(r.budget)) return el('p', 'verdict muted', 'No budget set in the spec: no verdicts.');
  if (violated.length > 0)
    return el('p', 'verdict bad', `Budget violated by ${violated.map((v) => v.label).join(', ')}`);
  const noisy = r.variants.filter((v) => Object.values(v.verdicts ?? {}).includes('noise'));
  return noisy.length > 0
    ? el('p', 'verdict noise', `No variant violates the budget; within noise: ${noisy.map((v) => v.label).join(', ')}`)
    : el('p', 'verdict ok', 'Every variant meets the budget');
}

function flagList(app: HTMLElement, r: EvalResults): void {
  const list = el('ul');
  for (const f of r.flags) list.append(el('li', undefined, f.message));
  if (r.flags.length > 0) app.append(el('h2', undefined, 'Sensitive layers'), list);
  const unsure = r.flagsWithinNoise ?? [];
  if (unsure.length === 0) return;
  const noise = el('ul');
  for (const f of unsure) noise.append(el('li', 'muted', f.message));
  app.append(el('h2', undefined, 'Over a threshold, within noise (not flagged)'), noise);
}

/** Draws the state's results from scratch; returns what was drawn. */
function render(s: ResultsState): DrawnCounts | undefined {
  const { results: r, resultsFile } = s;
  if (!r || resultsFile === undefined) return undefined;
  s.chart?.destroy();
  s.chart = undefined;
  const app = document.getElementById('app')!;
  app.replaceChildren();
  header(app, r, resultsFile);
  const activations = activationSummary(app, r);
  const { badCells, noiseCells } = sliceTable(app, r);
  const costRows = costTable(app, r);
  const exportAgreement = exportSection(app, r);
  const costPoints = costChart(app, r, pickVariant).points;
  const sweep = sweepChart(app, r, s);
  s.chart = sweep?.chart;
  const reveal = (weight: string, scheme: string): void => vscode.postMessage({ type: 'reveal', weight, scheme });
  const bars = sensitivityBars(app, r, reveal);
  const activationRows = activationTable(app, r, (weight) => reveal(weight, r.sensitivity?.rankScheme ?? ''));
  flagList(app, r);
  const counts = { rows: r.slices.length, columns: r.variants.length, badCells, noiseCells };
  return {
    ...counts,
    sweepSeries: sweep?.series ?? 0,
    bars,
    costRows,
    costPoints,
    exportAgreement,
    ...activations,
    activationRows,
  };
}

/** A chart point clicked: its rows selected and scrolled to; the extension opens its plan or model, or offers export. */
function pickVariant(v: EvalResults['variants'][number]): void {
  const rows = [...document.querySelectorAll<HTMLElement>('[data-variant]')];
  for (const row of rows) row.classList.toggle('selected', row.dataset.variant === v.id);
  rows.find((row) => row.dataset.variant === v.id)?.scrollIntoView({ block: 'nearest' });
  vscode.postMessage({ type: 'variant', id: v.id });
}

/** Test builds: reports what was drawn, once uPlot has painted (on the next frame). */
function reportRendered(s: ResultsState, drawn: DrawnCounts): void {
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      const ctx = s.chart?.ctx;
      const sweepPainted = ctx
        ? ctx.getImageData(0, 0, ctx.canvas.width, ctx.canvas.height).data.some((v, i) => i % 4 === 3 && v > 0)
        : false;
      vscode.postMessage({ type: 'rendered', report: { ...drawn, sweepPainted } });
    }),
  );
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = decodeNumbers(event.data) as ResultsToView;
  if (message.type !== 'results') return;
  state.results = message.results;
  state.resultsFile = message.resultsFile;
  const drawn = render(state);
  if (__QUANTLENS_TEST_HOOKS__ && drawn) reportRendered(state, drawn);
});
// A live theme switch: the results drawn again (the charts with the new theme's colours), where the user was.
onThemeChange(() => {
  const y = window.scrollY;
  if (render(state)) window.scrollTo(0, y);
});
vscode.postMessage({ type: 'ready' });
