/** The bit-width sweep: one line per slice (the first 12) of the task's main metric against the bit width (uPlot). */
import uPlot from 'uplot';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { el, theme } from './dom';

function sweepValue(m: SliceMetrics): number {
  return m.accuracy !== undefined ? m.accuracy * 100 : (m.perplexity ?? m.mse ?? m.kl ?? 0);
}

const Y_LABELS: Record<string, string> = {
  classification: 'accuracy %',
  'language-model': 'perplexity',
  regression: 'MSE',
};

function axes(task: string, t: ReturnType<typeof theme>): uPlot.Axis[] {
  const common = { stroke: t.fg, font: t.font, labelFont: t.font, grid: { stroke: t.grid }, ticks: { stroke: t.grid } };
  return [
    {
      label: 'bits',
      ...common,
      values: (_u, v) => v.map((x) => (Number.isInteger(x) ? `int${x}` : '')),
    },
    { label: Y_LABELS[task] ?? 'KL', ...common },
  ];
}

/** The sweep section (appended to `parent`) and its chart; undefined when the results have no sweep. */
export function sweepChart(parent: HTMLElement, r: EvalResults): { chart: uPlot; series: number } | undefined {
  const sweep = r.sweep;
  if (!sweep) return undefined;
  parent.append(el('h2', undefined, `Bit-width sweep (${sweep.granularity}${sweep.asymmetric ? ', asymmetric' : ''})`));
  const box = el('div', 'chart');
  parent.append(box);
  const t = theme();
  const order = sweep.bits.map((_, i) => i).sort((a, b) => sweep.bits[a] - sweep.bits[b]);
  const shown = r.slices.slice(0, 12);
  const chart = new uPlot(
    {
      width: Math.max(360, Math.min(900, parent.clientWidth - 20)),
      height: 300,
      scales: { x: { time: false } },
      axes: axes(r.task, t),
      series: [
        {},
        ...shown.map((s, i) => ({
          label: s.name,
          stroke: t.palette[i % t.palette.length],
          width: s.name === 'all' ? 3 : 1.25,
          points: { show: true, size: 4 },
        })),
      ],
    },
    [
      order.map((i) => sweep.bits[i]),
      ...shown.map((s) => order.map((i) => sweepValue(sweep.metrics[i][s.name]))),
    ] as uPlot.AlignedData,
    box,
  );
  return { chart, series: shown.length };
}
