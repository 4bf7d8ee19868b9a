/**
 * The plan search's Pareto chart (uPlot): every measured plan, its cost (percent of fp32) against its worst deciding
 * slice's change, the front drawn as a line, the chosen plan ringed, the budget across. A marker's shape says how the
 * plan was measured (filled: the whole set; hollow: stopped early by the sequential test; diamond: only estimated),
 * its colour whether it passes, "≈" that it passes only within noise. Clicking a point picks its plan.
 */
import uPlot from 'uplot';
import { planId } from '../../src/core/search/planSearchFile';
import { planVerdictText, worstText, type FindPlanReport, type ReportedPlan } from '../../src/core/search/planReport';
import { EFFECT_LABEL } from '../results/costChart';
import { nearestPoint } from '../results/pointHit';
import { el, theme } from '../results/dom';
import { placeLabel, type Box, type Disc } from './labelPlace';

/**
 * Called with the indices (in `report.plans`) of the plans whose point was clicked (several when their points
 * coincide: equal cost and effect to the pixel), and where (CSS pixels in the chart's box).
 */
export type PickPlan = (indices: number[], at: { x: number; y: number }) => void;

/** Points closer than this (CSS pixels) to the clicked one are offered with it. */
const SAME_SPOT = 3;

/** A plan as drawn. */
interface Point {
  index: number;
  plan: ReportedPlan;
  x: number;
  y: number;
  front: boolean;
  chosen: boolean;
  /** Above the zoomed range: drawn at its top edge as a triangle. */
  clipped?: boolean;
}

const costAxisLabel = (r: FindPlanReport): string =>
  r.cost === 'latency'
    ? 'cost: latency from per-layer measurements (% of fp32)'
    : 'cost: stored weight bytes (% of fp32)';

/** The points, sorted by cost. */
function pointsOf(r: FindPlanReport): Point[] {
  const front = new Set(r.front.map(planId));
  const chosen = r.chosen ? planId(r.chosen) : undefined;
  return r.plans
    .map((plan, index) => ({
      index,
      plan,
      x: (100 * plan.cost) / r.fp32Cost,
      y: plan.worst,
      front: front.has(planId(plan)),
      chosen: planId(plan) === chosen,
    }))
    .sort((a, b) => a.x - b.x || a.y - b.y);
}

/** Draws one marker on the canvas (device pixels). */
function marker(ctx: CanvasRenderingContext2D, p: Point, cx: number, cy: number, colors: Record<string, string>): void {
  const k = uPlot.pxRatio;
  const r = (p.front ? 5.5 : 4) * k;
  const color = p.plan.decision === 'estimate' ? colors.estimate : p.plan.passes ? colors.pass : colors.fail;
  if (p.clipped) {
    // Off the zoomed range: a triangle pointing up at the top edge.
    ctx.save();
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(cx, cy - r);
    ctx.lineTo(cx + r, cy + r);
    ctx.lineTo(cx - r, cy + r);
    ctx.closePath();
    ctx.fill();
    ctx.restore();
    return;
  }
  ctx.save();
  ctx.globalAlpha = p.front ? 1 : 0.6;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 2 * k;
  ctx.beginPath();
  if (p.plan.decision === 'estimate') {
    ctx.moveTo(cx, cy - r - k);
    ctx.lineTo(cx + r + k, cy);
    ctx.lineTo(cx, cy + r + k);
    ctx.lineTo(cx - r - k, cy);
    ctx.closePath();
    ctx.stroke();
  } else {
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    if (p.plan.decision === 'full') ctx.fill();
    else ctx.stroke();
  }
  ctx.globalAlpha = 1;
  if (p.chosen) {
    ctx.strokeStyle = colors.fg;
    ctx.lineWidth = 1.5 * k;
    ctx.beginPath();
    ctx.arc(cx, cy, ringRadius(p), 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
}

/** A marker's outer radius (device pixels): its ring's when chosen, the diamond's corner for an estimate. */
function ringRadius(p: Point): number {
  const k = uPlot.pxRatio;
  const r = (p.front ? 5.5 : 4) * k;
  return p.chosen ? r + 5 * k + 0.75 * k : p.plan.decision === 'estimate' ? r + 2 * k : r + k;
}

/**
 * The marks beside the markers, "≈" (passes within noise) and "chosen", each where it covers no marker, no ring and
 * no other mark (drawn after every marker); returns their boxes in the plot's CSS pixels, as the points' positions
 * (the UI test checks them).
 */
function drawLabels(u: uPlot, points: Point[], colors: Record<string, string>): (Box & { text: string })[] {
  const k = uPlot.pxRatio;
  const ctx = u.ctx;
  const discs: Disc[] = points.map((p) => ({
    x: u.valToPos(p.x, 'x', true),
    y: u.valToPos(p.y, 'y', true),
    r: ringRadius(p),
  }));
  const placed: Box[] = [];
  const out: (Box & { text: string })[] = [];
  const area = { x: u.bbox.left, y: u.bbox.top, w: u.bbox.width, h: u.bbox.height };
  ctx.save();
  ctx.fillStyle = colors.fg;
  // From the box's top-left corner (uPlot leaves its axes' alignment on the context).
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  points.forEach((p, i) => {
    const marks = [
      // "chosen" to the right first, "≈" above first (where they were), each moved when that side is taken.
      ...(p.chosen ? [{ text: 'chosen', font: `${11 * k}px sans-serif`, side: [1, 0] as [number, number] }] : []),
      ...(p.plan.withinNoise && p.plan.passes && !p.clipped
        ? [{ text: '≈', font: `bold ${12 * k}px sans-serif`, side: [0, -1] as [number, number] }]
        : []),
    ];
    for (const m of marks) {
      ctx.font = m.font;
      const box = placeLabel(discs[i], ctx.measureText(m.text).width, 12 * k, 2 * k, discs, placed, area, m.side);
      ctx.fillText(m.text, box.x, box.y);
      placed.push(box);
      out.push({ text: m.text, x: (box.x - area.x) / k, y: (box.y - area.y) / k, w: box.w / k, h: box.h / k });
    }
  });
  ctx.restore();
  return out;
}

/** Hover text of a point. */
export function pointTitle(r: FindPlanReport, p: ReportedPlan): string {
  return `${((100 * p.cost) / r.fp32Cost).toFixed(1)}% of fp32, worst: ${worstText(r.task, p.worst, p.worstSlice)}: ${planVerdictText(p)}`;
}

/** Wires the click (a press and release on one spot) and the hover text. */
function interact(chart: uPlot, box: HTMLElement, points: Point[], r: FindPlanReport, pick: PickPlan): void {
  const at = (): { x: number; y: number }[] =>
    points.map((p) => ({ x: chart.valToPos(p.x, 'x'), y: chart.valToPos(p.y, 'y') }));
  chart.over.style.cursor = 'pointer';
  let down = { x: NaN, y: NaN };
  chart.over.addEventListener('mousedown', (e) => (down = { x: e.offsetX, y: e.offsetY }));
  chart.over.addEventListener('mouseup', (e) => {
    if (Math.hypot(e.offsetX - down.x, e.offsetY - down.y) > 4) return;
    const drawn = at();
    const i = nearestPoint(drawn, e.offsetX, e.offsetY);
    if (i < 0) return;
    const here = points.filter((_, j) => Math.hypot(drawn[j].x - drawn[i].x, drawn[j].y - drawn[i].y) <= SAME_SPOT);
    const overBox = chart.over.getBoundingClientRect();
    const boxRect = box.getBoundingClientRect();
    const where = { x: overBox.left - boxRect.left + e.offsetX, y: overBox.top - boxRect.top + e.offsetY };
    pick(
      [points[i], ...here.filter((p) => p !== points[i])].map((p) => p.index),
      where,
    );
  });
  chart.over.addEventListener('mousemove', (e) => {
    const i = nearestPoint(at(), e.offsetX, e.offsetY);
    chart.over.title = i >= 0 ? `${pointTitle(r, points[i].plan)} (click: write or export this plan)` : '';
  });
}

/** The markers' colours from the theme. */
function markerColors(fg: string): Record<string, string> {
  const s = getComputedStyle(document.body);
  return {
    fg,
    pass: s.getPropertyValue('--vscode-charts-green').trim() || '#388a34',
    fail: s.getPropertyValue('--vscode-charts-red').trim() || '#e51400',
    estimate: s.getPropertyValue('--vscode-disabledForeground').trim() || '#888',
  };
}

/** Draws the markers, then their marks; keeps where they are on the chart's box (CSS pixels; UI tests read them). */
function drawMarks(u: uPlot, box: HTMLElement, points: Point[], colors: Record<string, string>): void {
  for (const p of points) marker(u.ctx, p, u.valToPos(p.x, 'x', true), u.valToPos(p.y, 'y', true), colors);
  const labels = drawLabels(u, points, colors);
  const at = points.map((p) => ({
    index: p.index,
    x: u.valToPos(p.x, 'x'),
    y: u.valToPos(p.y, 'y'),
    r: ringRadius(p) / uPlot.pxRatio,
  }));
  box.dataset.points = JSON.stringify(at);
  box.dataset.labels = JSON.stringify(labels);
}

/**
 * The chart (appended to `parent`); `budget` on the y axis's effect, when the spec sets one; `zoomTo`: the y axis
 * ends there, points above it drawn at its top edge.
 */
export function frontChart(
  parent: HTMLElement,
  r: FindPlanReport,
  budget: number | undefined,
  pick: PickPlan,
  zoomTo?: number,
): { chart: uPlot; points: number; front: number } {
  const t = theme();
  const colors = markerColors(t.fg);
  const points = pointsOf(r).map((p) =>
    zoomTo !== undefined && p.y > zoomTo ? { ...p, y: zoomTo, clipped: true } : p,
  );
  const box = el('div', 'chart front-chart');
  // The theme colours drawn with (a UI test checks a live theme switch redraws with the new ones).
  box.dataset.fg = t.fg;
  box.dataset.grid = t.grid;
  parent.append(box);
  const common = { stroke: t.fg, font: t.font, labelFont: t.font, grid: { stroke: t.grid }, ticks: { stroke: t.grid } };
  const data: (number | null)[][] = [
    points.map((p) => p.x),
    points.map((p) => p.y),
    points.map((p) => (p.front ? p.y : null)),
  ];
  const series: uPlot.Series[] = [
    {},
    { label: 'plans', paths: () => null, points: { show: false } },
    { label: 'front', stroke: t.palette[0], width: 1.5, spanGaps: true, points: { show: false } },
  ];
  if (budget !== undefined) {
    series.push({ label: 'budget', stroke: t.palette[1], dash: [6, 4], width: 1.5, points: { show: false } });
    data.push(points.map(() => budget));
  }
  const chart = new uPlot(
    {
      width: Math.max(360, Math.min(760, parent.clientWidth - 20)),
      height: 340,
      scales: {
        // From zero cost, and room around the points for their marks ("chosen", "≈").
        x: { time: false, range: (_u, _min, max) => [0, max * 1.04 + 1] },
        y: {
          range: (_u, min, max) => [Math.min(0, min), max + Math.max(0.25 * (max - Math.min(0, min)), 0.05)],
        },
      },
      legend: { show: false },
      axes: [
        { label: costAxisLabel(r), ...common },
        { label: EFFECT_LABEL[r.task] ?? 'worst-slice KL', ...common, size: 60 },
      ],
      series,
      hooks: {
        draw: [(u) => drawMarks(u, box, points, colors)],
      },
    },
    data as uPlot.AlignedData,
    box,
  );
  interact(chart, box, points, r, pick);
  box.append(legend());
  return { chart, points: points.length, front: points.filter((p) => p.front).length };
}

/** What the markers mean. */
function legend(): HTMLElement {
  const list = el('div', 'front-legend small');
  const items: [string, string][] = [
    ['mark-full', 'measured on the whole set'],
    ['mark-early', 'stopped early (sequential test)'],
    ['mark-estimate', 'estimate (placed on the front only)'],
    ['mark-pass', 'passes'],
    ['mark-fail', 'breaks the budget'],
    ['mark-noise', 'passes only within noise'],
    ['mark-chosen', 'chosen'],
    ['mark-clipped', 'beyond the zoomed range'],
    ['mark-front', 'Pareto front'],
  ];
  for (const [cls, text] of items) {
    const item = el('span', 'legend-item');
    item.append(
      el('span', `legend-mark ${cls}`, cls === 'mark-noise' ? '≈' : cls === 'mark-clipped' ? '▲' : ''),
      document.createTextNode(text),
    );
    list.append(item);
  }
  return list;
}
