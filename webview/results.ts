/**
 * The evaluation results view: slices x variants (changes coloured against the budget), the bit-width
 * sweep per slice (uPlot), and the layer sensitivity ranking as bars (click a layer: inspector on it).
 */
import uPlot from 'uplot';
import type { SliceMetrics } from '../src/core/eval/metrics';
import type { EvalResults, LayerResult } from '../src/core/eval/results';
import { changeText, effectText, mainValue } from '../src/core/eval/describe';
import { primaryEffect } from '../src/core/eval/verdict';
import type { ResultsFromView, ResultsRender, ResultsToView } from '../src/resultsProtocol';
import { decodeNumbers } from '../src/wire';

declare function acquireVsCodeApi(): { postMessage(message: ResultsFromView): void };
const vscode = acquireVsCodeApi();

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
function sweepValue(m: SliceMetrics): number {
  return m.accuracy !== undefined ? m.accuracy * 100 : (m.perplexity ?? m.mse ?? m.kl ?? 0);
}
function theme(): { fg: string; grid: string; font: string; palette: string[] } {
  const s = getComputedStyle(document.body);
  const v = (n: string, f: string): string => s.getPropertyValue(n).trim() || f;
  return {
    fg: v('--vscode-foreground', '#ccc'),
    grid: v('--vscode-editorWidget-border', '#8884'),
    font: `11px ${v('--vscode-font-family', 'sans-serif')}`,
    palette: ['blue', 'red', 'green', 'yellow', 'orange', 'purple', 'foreground'].map((c) =>
      v(`--vscode-charts-${c}`, '#888'),
    ),
  };
}

let chart: uPlot | undefined;

function render(r: EvalResults, resultsFile: string): ResultsRender {
  chart?.destroy();
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const head = el('div', 'title');
  head.append(el('h1', undefined, `Slice evaluation · ${r.model.file}`));
  app.append(head);
  const violated = r.variants.filter((v) => v.violations.length > 0);
  app.append(
    el(
      'p',
      'muted',
      `${r.task}, ${r.data.evaluated} of ${r.data.samples} samples, ${r.slices.length} slices, ${r.timings.runs} inference runs in ${(r.timings.totalMs / 1000).toFixed(1)} s · ${resultsFile}`,
    ),
  );
  app.append(
    el(
      'p',
      violated.length ? 'verdict bad' : 'verdict ok',
      violated.length
        ? `Budget violated by ${violated.map((v) => v.label).join(', ')}`
        : 'Every variant meets the budget',
    ),
  );

  // Slices x variants.
  app.append(el('h2', undefined, 'Slices × variants'));
  const table = el('table', 'results');
  const hr = el('tr');
  hr.append(el('th', undefined, 'slice'), el('th', 'num', 'n'), ...r.variants.map((v) => el('th', 'num', v.label)));
  table.append(hr);
  let badCells = 0;
  for (const s of r.slices) {
    const tr = el('tr');
    tr.append(el('td', undefined, s.name), el('td', 'num', String(s.n)));
    for (const v of r.variants) {
      const m = v.metrics[s.name];
      const bad = v.violations.some((x) => x.slice === s.name);
      badCells += bad ? 1 : 0;
      const td = el('td', `num ${v.kind === 'reference' ? '' : bad ? 'bad' : 'ok'}`);
      td.append(el('div', undefined, mainValue(m) || '–'));
      if (v.kind !== 'reference') td.append(el('div', 'muted small', changeText(m)));
      td.title = v.violations
        .filter((x) => x.slice === s.name)
        .map((x) => `${x.metric} ${x.value.toFixed(3)} > ${x.limit}`)
        .join('\n');
      tr.append(td);
    }
    table.append(tr);
  }
  const summary: [string, (m: SliceMetrics) => string][] = [
    ['agreement', (m) => (m.agreement !== undefined ? `${(m.agreement * 100).toFixed(2)}%` : '')],
    ['KL', (m) => (m.kl !== undefined ? m.kl.toPrecision(3) : '')],
    ['output SQNR', (m) => `${m.outputSqnrDb.toFixed(1)} dB`],
    ['ECE', (m) => (m.ece !== undefined ? `${(m.ece * 100).toFixed(2)}%` : '')],
    ['variance ratio', (m) => m.varianceRatio.toFixed(3)],
  ];
  for (const [name, f] of summary) {
    const tr = el('tr', 'summary');
    tr.append(
      el('td', undefined, `${name} (all)`),
      el('td'),
      ...r.variants.map((v) => el('td', 'num', f(v.metrics.all))),
    );
    table.append(tr);
  }
  const weights = el('tr', 'summary');
  weights.append(
    el('td', undefined, 'weights'),
    el('td'),
    ...r.variants.map((v) => el('td', 'num', `${(v.weightBytes / 1024).toFixed(1)} KiB`)),
  );
  table.append(weights);
  app.append(table);

  // Sweep.
  let sweepSeries = 0;
  if (r.sweep) {
    app.append(
      el('h2', undefined, `Bit-width sweep (${r.sweep.granularity}${r.sweep.asymmetric ? ', asymmetric' : ''})`),
    );
    const box = el('div', 'chart');
    app.append(box);
    const t = theme();
    const bits = r.sweep.bits;
    const order = bits.map((_, i) => i).sort((a, b) => bits[a] - bits[b]);
    const shown = r.slices.slice(0, 12);
    sweepSeries = shown.length;
    chart = new uPlot(
      {
        width: Math.max(360, Math.min(900, app.clientWidth - 20)),
        height: 300,
        scales: { x: { time: false } },
        axes: [
          {
            label: 'bits',
            stroke: t.fg,
            font: t.font,
            labelFont: t.font,
            grid: { stroke: t.grid },
            ticks: { stroke: t.grid },
            values: (_u, v) => v.map((x) => (Number.isInteger(x) ? `int${x}` : '')),
          },
          {
            label:
              r.task === 'classification'
                ? 'accuracy %'
                : r.task === 'language-model'
                  ? 'perplexity'
                  : r.task === 'regression'
                    ? 'MSE'
                    : 'KL',
            stroke: t.fg,
            font: t.font,
            labelFont: t.font,
            grid: { stroke: t.grid },
            ticks: { stroke: t.grid },
          },
        ],
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
        order.map((i) => bits[i]),
        ...shown.map((s) => order.map((i) => sweepValue(r.sweep!.metrics[i][s.name]))),
      ] as uPlot.AlignedData,
      box,
    );
  }

  // Sensitivity.
  let bars = 0;
  if (r.sensitivity && r.sensitivity.layers.length > 0) {
    const sens = r.sensitivity;
    app.append(el('h2', undefined, 'Layer sensitivity'));
    app.append(
      el(
        'p',
        'muted',
        `Only one layer quantized (worst slice of ≥ ${r.thresholds.minSliceSize} samples)${sens.leaveOneOutScheme ? `; leave-one-out: everything at ${sens.leaveOneOutScheme} except the layer` : ''}. Click a layer to inspect it.`,
      ),
    );
    const layers: LayerResult[] = [...sens.layers].sort((a, b) => a.rank - b.rank);
    const schemes = [...sens.schemes];
    const max = Math.max(
      1e-9,
      ...layers.flatMap((l) => schemes.map((s) => Math.abs(primaryEffect(r.task, l.oneAtATime[s].worst.effect)))),
    );
    const grid = el('div', 'bars');
    const flagged = new Set(r.flags.map((f) => f.weight));
    for (const l of layers) {
      const name = el('button', `layer ${flagged.has(l.weight) ? 'flagged' : ''}`, `${l.rank}. ${l.layer}`);
      name.title = `${l.weight} (${l.op})${flagged.has(l.weight) ? `\n${r.flags.find((f) => f.weight === l.weight)!.message}` : ''}`;
      name.addEventListener('click', () =>
        vscode.postMessage({ type: 'reveal', weight: l.weight, scheme: sens.rankScheme }),
      );
      const cell = el('div', 'barcell');
      for (const [i, s] of schemes.entries()) {
        const w = l.oneAtATime[s].worst;
        const row = el('div', 'barrow');
        const bar = el('div', `bar c${i % 6} ${l.oneAtATime[s].meetsBudget ? '' : 'over'}`);
        bar.style.width = `${Math.max(0.5, (Math.max(0, primaryEffect(r.task, w.effect)) / max) * 100)}%`;
        row.append(el('span', 'scheme', s), bar, el('span', 'value', `${effectText(r.task, w.effect)} · ${w.slice}`));
        cell.append(row);
        bars++;
      }
      if (l.leaveOneOut) {
        const row = el('div', 'barrow');
        row.append(
          el('span', 'scheme', 'all but this'),
          el('span', 'value muted', `${effectText(r.task, l.leaveOneOut.worst.effect)} · ${l.leaveOneOut.worst.slice}`),
        );
        cell.append(row);
      }
      grid.append(name, cell);
    }
    app.append(grid);
  }
  if (r.flags.length > 0) {
    app.append(el('h2', undefined, 'Sensitive layers'));
    const list = el('ul');
    for (const f of r.flags) list.append(el('li', undefined, f.message));
    app.append(list);
  }
  return { rows: r.slices.length, columns: r.variants.length, badCells, sweepSeries, sweepPainted: false, bars };
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = decodeNumbers(event.data) as ResultsToView;
  if (message.type === 'results') {
    const report = render(message.results, message.resultsFile);
    // uPlot paints on the next frame: read the canvas back after it.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        report.sweepPainted = chart
          ? chart.ctx
              .getImageData(0, 0, chart.ctx.canvas.width, chart.ctx.canvas.height)
              .data.some((v, i) => i % 4 === 3 && v > 0)
          : false;
        vscode.postMessage({ type: 'rendered', report });
      }),
    );
  }
});
vscode.postMessage({ type: 'ready' });
