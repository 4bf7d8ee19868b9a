/**
 * The bit-width sweep: one line per slice (every slice, each with its own colour and dash) of the task's main
 * metric against the bit width (uPlot). Ticks sit only at the measured bit widths; perplexity, MSE and KL can
 * be shown on a log axis; the legend toggles lines and filters them when there are many.
 */
import uPlot from 'uplot';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { klText } from '../../src/core/eval/describe';
import { el, theme } from './dom';
import { sliceStyles, styleKey } from './palette';
import type { ResultsState } from './state';
import { sweepLegend } from './sweepLegend';

function sweepValue(m: SliceMetrics | undefined): number | null {
  if (!m) return null;
  return m.accuracy !== undefined ? m.accuracy * 100 : (m.perplexity ?? m.mse ?? m.kl ?? null);
}

const Y_LABELS: Record<string, string> = {
  classification: 'accuracy %',
  'language-model': 'perplexity',
  regression: 'MSE',
};

function valueText(task: string, v: number | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (task === 'classification') return `${v.toFixed(1)}%`;
  if (task === 'language-model') return v.toFixed(3);
  return task === 'regression' ? v.toPrecision(3) : klText(v);
}

function axes(r: EvalResults, bits: number[], log: boolean, t: ReturnType<typeof theme>): uPlot.Axis[] {
  const common = { stroke: t.fg, font: t.font, labelFont: t.font, grid: { stroke: t.grid }, ticks: { stroke: t.grid } };
  return [
    {
      label: 'bits',
      ...common,
      splits: () => bits,
      // The ticks drawn (only the measured bit widths), kept on the chart for the UI tests.
      values: (u, v) => {
        const labels = v.map((x) => `int${x}`);
        u.root.dataset.bitTicks = labels.join('|');
        return labels;
      },
    },
    { label: `${Y_LABELS[r.task] ?? 'KL'}${log ? ' (log)' : ''}`, ...common, size: 60 },
  ];
}

/** The line chart in `box` (sized to it); hidden slices start hidden. */
function lineChart(box: HTMLElement, r: EvalResults, log: boolean, hidden: Set<string>): uPlot {
  const sweep = r.sweep!;
  const order = sweep.bits.map((_, i) => i).sort((a, b) => sweep.bits[a] - sweep.bits[b]);
  const bits = order.map((i) => sweep.bits[i]);
  const styles = sliceStyles(r.slices.map((s) => s.name));
  const positive = (v: number | null): number | null => (log && v !== null && v <= 0 ? null : v);
  return new uPlot(
    {
      width: Math.max(360, Math.min(1100, box.clientWidth || 900)),
      height: 320,
      scales: { x: { time: false, range: [bits[0] - 0.25, bits[bits.length - 1] + 0.25] }, y: log ? { distr: 3 } : {} },
      axes: axes(r, bits, log, theme()),
      legend: { show: false },
      series: [
        {},
        ...r.slices.map((s, i) => ({
          label: s.name,
          stroke: styles[i]?.color ?? theme().fg,
          dash: [...(styles[i]?.dash ?? [])],
          width: s.name === 'all' ? 3 : 1.5,
          show: !hidden.has(s.name),
          points: styles[i]?.hollow
            ? { show: true, size: 7, width: 1.5, fill: theme().bg }
            : { show: true, size: 5, fill: styles[i]?.color ?? theme().fg },
        })),
      ],
    },
    [
      bits,
      ...r.slices.map((s) => order.map((i) => positive(sweepValue(sweep.metrics[i][s.name])))),
    ] as uPlot.AlignedData,
    box,
  );
}

/** The sweep section (appended to `parent`) and its chart; undefined when the results have no sweep. */
export function sweepChart(
  parent: HTMLElement,
  r: EvalResults,
  s: ResultsState,
): { chart: uPlot; series: number } | undefined {
  const sweep = r.sweep;
  if (!sweep) return undefined;
  const section = el('section', 'sweep');
  section.append(
    el('h2', undefined, `Bit-width sweep (${sweep.granularity}${sweep.asymmetric ? ', asymmetric' : ''})`),
  );
  const hidden = (s.sweepHidden ??= new Set());
  const box = el('div', 'chart');
  if (r.task !== 'classification') section.append(logToggle(s, () => draw()));
  section.append(box);
  parent.append(section);
  const styles = sliceStyles(r.slices.map((sl) => sl.name)).map(
    (st) => st ?? { color: theme().fg, dash: [], hollow: false },
  );
  let setValues: (values: (string | undefined)[]) => void = () => undefined;
  const draw = (): uPlot => {
    s.chart?.destroy();
    box.replaceChildren();
    const chart = lineChart(box, r, !!s.sweepLog, hidden);
    chart.hooks.setCursor = [
      (u) => {
        const idx = u.cursor.idx;
        setValues(
          r.slices.map((_, i) =>
            idx === null || idx === undefined ? undefined : valueText(r.task, u.data[i + 1][idx]),
          ),
        );
      },
    ];
    s.chart = chart;
    box.dataset.styles = styles.map(styleKey).join(' ');
    // The axes' colour drawn with (a UI test checks a live theme switch redraws with the new one).
    box.dataset.fg = theme().fg;
    countVisible(box, chart);
    return chart;
  };
  const chart = draw();
  setValues = sweepLegend(
    section,
    r.slices.map((sl) => sl.name),
    styles,
    hidden,
    {
      setShown: (i, shown) => {
        if (!s.chart || s.chart.series[i + 1].show === shown) return;
        s.chart.setSeries(i + 1, { show: shown });
        countVisible(box, s.chart);
      },
    },
  );
  return { chart, series: r.slices.length };
}

/** Records on the chart's box how many lines are drawn and which (read by the UI tests, as a user reads the legend). */
function countVisible(box: HTMLElement, chart: uPlot): void {
  const shown = chart.series.slice(1).filter((x) => x.show);
  box.dataset.lines = String(chart.series.length - 1);
  box.dataset.shown = String(shown.length);
  // The drawn styles of the visible lines (stroke, dash, marker fill), read by the UI tests.
  const styles = (box.dataset.styles ?? '').split(' ');
  box.dataset.shownStyles = chart.series
    .slice(1)
    .flatMap((x, i) => (x.show ? [styles[i]] : []))
    .join(' ');
}

function logToggle(s: ResultsState, redraw: () => void): HTMLElement {
  const label = el('label', 'sweep-log');
  const box = el('input');
  box.type = 'checkbox';
  box.checked = !!s.sweepLog;
  box.addEventListener('change', () => {
    s.sweepLog = box.checked;
    redraw();
  });
  label.append(box, document.createTextNode(' log scale'));
  return label;
}
