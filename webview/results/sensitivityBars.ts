/** The layer sensitivity ranking as bars (one per scheme, leave-one-out as text); a click on a layer opens it in the inspector. */
import type { EvalResults, LayerResult } from '../../src/core/eval/results';
import { barLabel } from './barLabel';
import { effectRanges, primaryEffect, type Violation } from '../../src/core/eval/verdict';
import { el } from './dom';

type Sensitivity = NonNullable<EvalResults['sensitivity']>;

function layerButton(r: EvalResults, l: LayerResult, reveal: (weight: string) => void): HTMLButtonElement {
  const flag = r.flags.find((f) => f.weight === l.weight);
  const name = el('button', `layer ${flag ? 'flagged' : ''}`, `${l.rank}. ${l.layer}`);
  name.title = `${l.weight} (${l.op})${flag ? `\n${flag.message}` : ''}`;
  name.addEventListener('click', () => reveal(l.weight));
  return name;
}

const PRIMARY: Record<EvalResults['task'], Violation['metric']> = {
  classification: 'accuracyDrop',
  'language-model': 'perplexityIncrease',
  regression: 'mseIncrease',
  outputs: 'kl',
};

/** Leave-one-out against everything quantized: a difference inside the CI is noise, not "keeping it is worse". */
function leaveOneOutNote(r: EvalResults, l: LayerResult): string {
  const scheme = r.sensitivity?.leaveOneOutScheme;
  const all = r.variants.find((v) => v.id === scheme);
  const slice = l.leaveOneOut?.worst.slice;
  if (!all || !slice || !l.leaveOneOut?.metrics[slice] || !all.metrics[slice]) return '';
  const metric = PRIMARY[r.task];
  const loo = effectRanges(l.leaveOneOut.metrics[slice])[metric];
  const whole = effectRanges(all.metrics[slice])[metric];
  if (!loo || !whole || loo.low === loo.high) return '';
  return loo.low <= whole.value && whole.value <= loo.high ? ` · within noise of all at ${scheme}` : '';
}

function valueSpan(cls: string, label: { text: string; title: string }): HTMLSpanElement {
  const span = el('span', cls, label.text);
  span.title = label.title;
  return span;
}

function barCell(r: EvalResults, l: LayerResult, schemes: string[], max: number): HTMLDivElement {
  const cell = el('div', 'barcell');
  for (const [i, s] of schemes.entries()) {
    const w = l.oneAtATime[s].worst;
    const row = el('div', 'barrow');
    const bar = el('div', `bar c${i % 6} ${l.oneAtATime[s].meetsBudget ? '' : 'over'}`);
    bar.style.width = `${Math.max(0.5, (Math.max(0, primaryEffect(r.task, w.effect)) / max) * 100)}%`;
    row.append(el('span', 'scheme', s), bar, valueSpan('value', barLabel(r.task, w.effect, w.slice)));
    cell.append(row);
  }
  if (l.leaveOneOut) {
    const { worst } = l.leaveOneOut;
    const row = el('div', 'barrow loo');
    const note = leaveOneOutNote(r, l);
    row.append(
      el('span', 'scheme', 'all but this'),
      valueSpan('value muted', barLabel(r.task, worst.effect, worst.slice)),
    );
    // The note gets a line of its own under the row, so it never runs into the next layer's bars.
    if (note) row.append(el('span', 'loo-note muted small', note.replace(/^ · /, '')));
    cell.append(row);
  }
  return cell;
}

function intro(r: EvalResults, sens: Sensitivity): HTMLParagraphElement {
  const leaveOneOut = sens.leaveOneOutScheme
    ? `; leave-one-out: everything at ${sens.leaveOneOutScheme} except the layer`
    : '';
  return el(
    'p',
    'muted',
    `Only one layer quantized (worst slice of ≥ ${r.thresholds.minSliceSize} samples)${leaveOneOut}. Click a layer to inspect it.`,
  );
}

/** The sensitivity section (appended to `parent`); returns the number of bars drawn. `reveal(weight, scheme)` opens a layer. */
export function sensitivityBars(
  parent: HTMLElement,
  r: EvalResults,
  reveal: (weight: string, scheme: string) => void,
): number {
  const sens = r.sensitivity;
  if (!sens || sens.layers.length === 0) return 0;
  parent.append(el('h2', undefined, 'Layer sensitivity'), intro(r, sens));
  const layers = [...sens.layers].sort((a, b) => a.rank - b.rank);
  const schemes = [...sens.schemes];
  const max = Math.max(
    1e-9,
    ...layers.flatMap((l) => schemes.map((s) => Math.abs(primaryEffect(r.task, l.oneAtATime[s].worst.effect)))),
  );
  const grid = el('div', 'bars');
  for (const l of layers) {
    grid.append(
      layerButton(r, l, (weight) => reveal(weight, sens.rankScheme)),
      barCell(r, l, schemes, max),
    );
  }
  parent.append(grid);
  return layers.length * schemes.length;
}
