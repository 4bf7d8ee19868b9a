/**
 * Accuracy against cost: one point per variant, its worst-slice change (the task's main effect) against its p50
 * latency at batch 1 (measured variants) and against its stored weight bytes (every variant), with the
 * budget's line (uPlot). Clicking a point picks its variant (the view selects it; the extension opens its plan or
 * model, or offers to export it).
 */
import uPlot from 'uplot';
import type { EvalResults } from '../../src/core/eval/results';
import type { Budget } from '../../src/core/eval/spec';
import { worstSlice } from '../../src/core/eval/ranking';
import { primaryEffect } from '../../src/core/eval/verdict';
import { el, theme } from './dom';
import { costChartsShown, NO_LATENCY_CHART } from '../../src/core/cost/costFormat';
import { nearestPoint } from './pointHit';
import { idleLegend } from '../charts';
import { formatNum } from '../format';

type Variant = EvalResults['variants'][number];

/** Called with the variant whose point was clicked. */
export type PickVariant = (v: Variant) => void;

/** The y axis's label per task (the worst slice's primary effect). */
export const EFFECT_LABEL: Record<string, string> = {
  classification: 'worst-slice accuracy drop (pp)',
  'language-model': 'worst-slice perplexity increase (%)',
  regression: 'worst-slice MSE increase (%)',
};

/** The budget on the task's primary effect (what the y axis shows). */
export function budgetOf(task: string, b: Budget): number | undefined {
  return task === 'classification'
    ? b.accuracyDrop
    : task === 'language-model'
      ? b.perplexityIncrease
      : task === 'regression'
        ? b.mseIncrease
        : b.kl;
}

/** The drawn points' positions in the plot's CSS pixels. */
function pointsAt(
  u: uPlot,
  sorted: { v: Variant; x: number }[],
  effect: (v: Variant) => number,
): { x: number; y: number }[] {
  return sorted.map((p) => ({ x: u.valToPos(p.x, 'x'), y: u.valToPos(effect(p.v), 'y') }));
}

/** Picks the variant whose point is pressed and released on one spot. */
function onPick(
  chart: uPlot,
  sorted: { v: Variant; x: number }[],
  effect: (v: Variant) => number,
  pick: PickVariant,
): void {
  chart.over.style.cursor = 'pointer';
  chart.over.title = 'Click a point: select its variant (open its plan or model, or export it)';
  // A press and release on the same spot (uPlot stops the click event itself when the cursor moved since the press).
  let down = { x: NaN, y: NaN };
  chart.over.addEventListener('mousedown', (e) => (down = { x: e.offsetX, y: e.offsetY }));
  chart.over.addEventListener('mouseup', (e) => {
    if (Math.hypot(e.offsetX - down.x, e.offsetY - down.y) > 4) return;
    const i = nearestPoint(pointsAt(chart, sorted, effect), e.offsetX, e.offsetY);
    if (i >= 0) pick(sorted[i].v);
  });
}

/** One series per variant (its point only) and the budget's line; values show under the cursor only. */
function seriesOf(
  sorted: { v: Variant; x: number }[],
  effect: (v: Variant) => number,
  budget: number | undefined,
  palette: string[],
): { series: uPlot.Series[]; data: (number | null)[][] } {
  const series: uPlot.Series[] = sorted.map((p, i) => ({
    label: p.v.label,
    stroke: palette[i % palette.length],
    paths: () => null,
    points: { show: true, size: 9 },
    // Under the cursor only (an empty value, not uPlot's "--", for the variants not hovered).
    value: (_u: uPlot, v: number | null) => (v === null ? '' : formatNum(v)),
  }));
  const data: (number | null)[][] = [
    sorted.map((p) => p.x),
    ...sorted.map((p, i) => sorted.map((_, k) => (k === i ? effect(p.v) : null))),
  ];
  if (budget !== undefined) {
    const line = { stroke: palette[1], dash: [6, 4], width: 1.5, points: { show: false } };
    series.push({ label: `budget ${budget}`, ...line, value: () => '' });
    data.push(sorted.map(() => budget));
  }
  return { series, data };
}

/** A point per variant (sorted by x) and the budget drawn across. */
function scatter(
  parent: HTMLElement,
  r: EvalResults,
  points: { v: Variant; x: number }[],
  xLabel: string,
  pick?: PickVariant,
): uPlot | undefined {
  if (points.length === 0) return undefined;
  const t = theme();
  const deciding = r.slices.filter((s) => s.n >= r.thresholds.minSliceSize).map((s) => s.name);
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const effect = (v: Variant): number => primaryEffect(r.task, worstSlice(r.task, v.metrics, deciding).effect);
  const budget = budgetOf(r.task, r.budget);
  const common = { stroke: t.fg, font: t.font, labelFont: t.font, grid: { stroke: t.grid }, ticks: { stroke: t.grid } };
  const box = el('div', 'chart cost-chart');
  parent.append(box);
  const { series, data } = seriesOf(sorted, effect, budget, t.palette);
  const chart = new uPlot(
    {
      width: Math.max(320, Math.min(600, parent.clientWidth / 2 - 20)),
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: xLabel, ...common },
        { label: EFFECT_LABEL[r.task] ?? 'worst-slice KL', ...common },
      ],
      // The legend follows the inspector's rule: a key of the series when nothing is hovered (no "Value: --").
      series: [{ label: xLabel, value: (_u, v) => (v === null ? '' : formatNum(v)) }, ...series],
      // Where each variant's point is, in the plot's CSS pixels once drawn (what a click is matched against; UI tests
      // read it).
      hooks: {
        ready: [idleLegend],
        setLegend: [idleLegend],
        draw: [
          (u) => {
            const at = pointsAt(u, sorted, effect);
            box.dataset.points = JSON.stringify(at.map((q, i) => ({ id: sorted[i].v.id, x: q.x, y: q.y })));
          },
        ],
      },
    },
    data as uPlot.AlignedData,
    box,
  );
  if (pick) onPick(chart, sorted, effect, pick);
  return chart;
}

/** The charts drawn last: destroyed before the next draw. */
let drawn: uPlot[] = [];

/** The accuracy-vs-cost charts (appended to `parent`, replacing the last ones drawn); returns the points drawn. */
export function costChart(
  parent: HTMLElement,
  r: EvalResults,
  pick?: PickVariant,
): { charts: uPlot[]; points: number } {
  for (const c of drawn) c.destroy();
  drawn = [];
  const measured = r.variants.flatMap((v) => {
    const p50 = v.cost?.latency['1']?.p50Ms;
    return p50 !== undefined ? [{ v, x: p50 }] : [];
  });
  if (!r.variants.some((v) => v.cost)) return { charts: [], points: 0 };
  const shown = costChartsShown(measured.length, r.variants.length);
  parent.append(el('h2', undefined, 'Accuracy against cost'));
  if (!shown.latency) parent.append(el('p', 'muted no-cost-chart', NO_LATENCY_CHART));
  if (!shown.bytes) return { charts: [], points: 0 };
  const row = el('div', 'cost-charts');
  parent.append(row);
  const charts = [
    shown.latency ? scatter(row, r, measured, 'p50 latency at batch 1 (ms)', pick) : undefined,
    scatter(
      row,
      r,
      r.variants.map((v) => ({ v, x: v.weightBytes / 1024 })),
      'weight bytes, biases included (KiB)',
      pick,
    ),
  ].filter((c): c is uPlot => c !== undefined);
  drawn = charts;
  return { charts, points: (shown.latency ? measured.length : 0) + r.variants.length };
}
