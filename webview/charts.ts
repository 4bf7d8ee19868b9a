/**
 * uPlot charts of the layer detail: the weight histogram with a scheme's quantization levels and clipping
 * range overlaid (bins beyond the range drawn as outliers), and the sorted per-channel SQNR line.
 * Drag to zoom the x axis, double-click to reset (uPlot's own interaction). Legend values show only under the
 * cursor (otherwise the legend is a key of the series: no empty "value:" entries, no "--" placeholder). Count axes
 * (values per bin, rank) tick at integers only.
 */
import uPlot from 'uplot';
import type { QuantGrid } from '../src/core/stats/layerDetail';
import { formatDb, formatInt, formatNum, pluralLabel } from './format';
import { countTickLabels, INTEGER_INCRS } from '../src/core/view/chartTicks';

/** Chart colours and font from the VS Code theme. */
export function theme(): { fg: string; grid: string; accent: string; warn: string; font: string } {
  const s = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string => s.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--vscode-foreground', '#ccc'),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', '#8884')),
    accent: v('--vscode-charts-blue', '#3794ff'),
    warn: v('--vscode-charts-red', '#f14c4c'),
    font: `11px ${v('--vscode-font-family', 'sans-serif')}`,
  };
}

/** An axis in the theme's colours. */
export function axis(label: string, t: ReturnType<typeof theme>, values?: uPlot.Axis['values']): uPlot.Axis {
  return {
    label,
    stroke: t.fg,
    font: t.font,
    labelFont: t.font,
    grid: { stroke: t.grid, width: 1 },
    ticks: { stroke: t.grid, width: 1 },
    ...(values ? { values } : {}),
  };
}

/**
 * An axis of counts: ticks only at integers, labelled as integers. The labels drawn are also kept on the chart's
 * root (`data-count-ticks`), so tests read what the user reads.
 */
function countAxis(label: string, t: ReturnType<typeof theme>, log = false): uPlot.Axis {
  return {
    ...axis(label, t, (u, ticks) => {
      const labels = countTickLabels(ticks);
      u.root.dataset.countTicks = labels.filter(Boolean).join('|');
      return labels;
    }),
    ...(log ? {} : { incrs: INTEGER_INCRS }),
  };
}

/**
 * The legend shows values only under the cursor: when nothing is hovered it is a key of the series (no "value:",
 * no "count:" with nothing after it).
 */
export function idleLegend(u: uPlot): void {
  const idle = u.cursor.idx === null || u.cursor.idx === undefined;
  u.root.classList.toggle('legend-idle', idle);
  u.root.querySelector('.u-legend')?.classList.toggle('u-live', !idle);
}

/** What the histogram shows. */
export interface HistogramData {
  min: number;
  max: number;
  counts: Uint32Array;
  grid: QuantGrid | null;
  log: boolean;
  /** The x axis label ('weight value' when not given). */
  xLabel?: string;
}

/** Draws a scheme's levels (as thin lines, when far enough apart) and its clipping range (dashed) over the histogram. */
function drawGrid(u: uPlot, grid: QuantGrid, d: HistogramData, t: ReturnType<typeof theme>): void {
  const ctx = u.ctx;
  const { left, top, width: w, height: h } = u.bbox;
  const line = (px: number): void => {
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, top + h);
    ctx.stroke();
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, w, h);
  ctx.clip();
  const xmin = u.scales.x.min ?? d.min;
  const xmax = u.scales.x.max ?? d.max;
  const visible = grid.levels.filter((v) => v >= xmin && v <= xmax);
  // Levels as ticks along the top when they are far enough apart to be told apart.
  if (visible.length > 0 && visible.length <= w / (3 * devicePixelRatio)) {
    ctx.strokeStyle = t.fg;
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = devicePixelRatio;
    for (const v of visible) line(Math.round(u.valToPos(v, 'x', true)) + 0.5);
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = t.warn;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.lineWidth = 1.5 * devicePixelRatio;
  for (const v of [grid.clipMin, grid.clipMax]) {
    if (v >= xmin && v <= xmax) line(u.valToPos(v, 'x', true));
  }
  ctx.restore();
}

/** Creates or replaces the histogram chart in `el`. */
export function histogramChart(el: HTMLElement, d: HistogramData, previous?: uPlot): uPlot {
  previous?.destroy();
  const t = theme();
  const n = d.counts.length;
  const width = d.max > d.min ? (d.max - d.min) / n : 1;
  const x = Float64Array.from({ length: n }, (_, i) => d.min + (i + 0.5) * width);
  const outside = (i: number): boolean =>
    !!d.grid && (d.min + (i + 1) * width < d.grid.clipMin || d.min + i * width > d.grid.clipMax);
  const inRange = Array.from(d.counts, (c, i) => (outside(i) || (d.log && c === 0) ? null : c));
  const beyond = Array.from(d.counts, (c, i) => (!outside(i) || (d.log && c === 0) ? null : c));
  const bars = uPlot.paths.bars?.({ size: [1, Infinity], gap: 0 });
  const grid = d.grid;
  const opts: uPlot.Options = {
    width: el.clientWidth || 640,
    height: 260,
    scales: { x: { time: false }, y: d.log ? { distr: 3 } : { range: (_u, _lo, hi) => [0, Math.max(1, hi) * 1.05] } },
    axes: [
      axis(d.xLabel ?? 'weight value', t, (_u, vals) => vals.map((v) => formatNum(v))),
      countAxis(d.log ? 'values per bin (log)' : 'values per bin', t, d.log),
    ],
    legend: { show: true, live: true },
    series: [
      { label: 'value', value: (_u, v) => (v === null ? '' : formatNum(v)) },
      {
        label: 'count',
        stroke: t.accent,
        fill: `${t.accent}99`,
        paths: bars,
        points: { show: false },
        value: (_u, v) => (v === null ? '' : formatInt(v)),
      },
      {
        label: 'beyond the grid',
        stroke: t.warn,
        fill: `${t.warn}cc`,
        paths: bars,
        points: { show: false },
        value: (_u, v) => (v === null ? '' : formatInt(v)),
      },
    ],
    hooks: { draw: [(u) => grid && drawGrid(u, grid, d, t)], ready: [idleLegend], setLegend: [idleLegend] },
  };
  return new uPlot(opts, [Array.from(x), inRange, beyond], el);
}

/** Creates or replaces the sorted per-channel SQNR line in `el`. */
export function channelLineChart(
  el: HTMLElement,
  sqnr: Float64Array,
  order: Int32Array,
  label: string,
  previous?: uPlot,
): uPlot {
  previous?.destroy();
  const t = theme();
  const finite = Array.from(sqnr, (v) => (Number.isFinite(v) ? v : null));
  const opts: uPlot.Options = {
    width: el.clientWidth || 640,
    height: 200,
    scales: { x: { time: false } },
    axes: [countAxis(`${pluralLabel(label)}, worst first (rank)`, t), axis('SQNR (dB)', t)],
    hooks: { ready: [idleLegend], setLegend: [idleLegend] },
    series: [
      { label: 'rank', value: (_u, v) => (v === null ? '' : `${formatInt(v)} (${label} ${order[v] ?? '?'})`) },
      {
        label: 'SQNR (dB)',
        stroke: t.accent,
        width: 1.5,
        points: { show: sqnr.length <= 64 },
        value: (_u, v) => (v === null ? '' : formatDb(v)),
      },
    ],
  };
  return new uPlot(opts, [Array.from({ length: sqnr.length }, (_, i) => i), finite], el);
}
