/**
 * The per-channel activation range chart of the layer detail (issue 20): each channel's absmax as a bar, in
 * channel order, outlier channels (over the limit times the median) in the warning colour, and the median and
 * the calibrated clipping bound as lines, so a few channels that stretch the one per-tensor scale stand out.
 */
import uPlot from 'uplot';
import { axis, theme } from './charts';
import { formatInt, formatNum } from './format';

/** What the chart shows. */
export interface ChannelRangeData {
  absmax: Float64Array;
  median: number;
  /** Channels drawn as outliers. */
  outliers: readonly number[];
  /** The largest magnitude the calibrated range represents (max(|clipMin|, |clipMax|)). */
  clip: number;
}

function hline(u: uPlot, y: number, color: string, dash: number[]): void {
  if (!Number.isFinite(y)) return;
  const { left, width } = u.bbox;
  const py = u.valToPos(y, 'y', true);
  if (py < u.bbox.top || py > u.bbox.top + u.bbox.height) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash(dash.map((d) => d * devicePixelRatio));
  ctx.beginPath();
  ctx.moveTo(left, py);
  ctx.lineTo(left + width, py);
  ctx.stroke();
  ctx.restore();
}

/** Creates or replaces the channel absmax chart in `el`. */
export function channelRangeChart(el: HTMLElement, d: ChannelRangeData, previous?: uPlot): uPlot {
  previous?.destroy();
  const t = theme();
  const n = d.absmax.length;
  const outlier = new Set(d.outliers);
  const normal = Array.from(d.absmax, (v, c) => (outlier.has(c) ? null : v));
  const wide = Array.from(d.absmax, (v, c) => (outlier.has(c) ? v : null));
  const bars = uPlot.paths.bars?.({ size: [0.9, Infinity], gap: 0 });
  const top = Math.max(d.clip, ...d.absmax, 1e-12) * 1.05;
  const opts: uPlot.Options = {
    width: el.clientWidth || 640,
    height: 200,
    scales: { x: { time: false, range: [-0.5, n - 0.5] }, y: { range: [0, top] } },
    axes: [
      // Whole channels only: ticks at integer steps.
      { ...axis('channel', t), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] },
      axis('channel absmax', t, (_u, v) => v.map((x) => formatNum(x))),
    ],
    series: [
      { label: 'channel', value: (_u, v) => (v === null ? '' : formatInt(v)) },
      {
        label: 'absmax',
        stroke: t.accent,
        fill: `${t.accent}99`,
        paths: bars,
        points: { show: false },
        value: (_u, v) => (v === null ? '' : formatNum(v)),
      },
      {
        label: 'outlier channel',
        stroke: t.warn,
        fill: `${t.warn}cc`,
        paths: bars,
        points: { show: false },
        value: (_u, v) => (v === null ? '' : formatNum(v)),
      },
    ],
    hooks: {
      draw: [
        (u) => {
          hline(u, d.median, t.fg, [2, 3]);
          hline(u, d.clip, t.warn, [6, 4]);
        },
      ],
    },
  };
  return new uPlot(opts, [Array.from({ length: n }, (_, i) => i), normal, wide], el);
}
