/**
 * The results view's activation parts (issue 20): the calibration line and what each variant does to activations
 * (at the top), a tag under each variant's column header, and the activation layers worst first with SQNR alone and
 * accumulated, clipping, outlier ratio and, where sensitivity ran, the budget verdict of quantizing only that layer's
 * activations. Click a layer to open it in the inspector.
 */
import type { EvalResults, LayerResult } from '../../src/core/eval/results';
import { effectText } from '../../src/core/eval/describe';
import { primaryEffect } from '../../src/core/eval/verdict';
import {
  ACTIVATION_LIMITS,
  activationRows,
  calibrationText,
  clippingText,
  variantActivationTag,
  variantActivationText,
  type ActivationRow,
} from '../../src/core/view/activationView';
import { activationDetail } from '../../src/core/view/activationDetail';
import { el } from './dom';

/** What the activation parts drew (the test builds' report). */
export interface ActivationDrawn {
  calibration: string;
  /** Per variant id: its activation text. */
  variantActivations: Record<string, string>;
  /** Rows of the activation table (cell texts). */
  activationRows: string[][];
}

/** The calibration line and one line per variant, appended to `parent`; returns their texts. */
export function activationSummary(
  parent: HTMLElement,
  r: EvalResults,
): Pick<ActivationDrawn, 'calibration' | 'variantActivations'> {
  const any = r.variants.some((v) => variantActivationTag(v) !== 'weights only' && v.kind !== 'reference');
  const calibration =
    calibrationText(r) ?? (any ? '' : 'Activations stay float in every variant (weights only): nothing calibrated.');
  const line = el('p', 'calibration muted', calibration);
  line.dataset.field = 'calibration';
  parent.append(line);
  const texts: Record<string, string> = {};
  const list = el('ul', 'variant-activations small');
  for (const v of r.variants) {
    texts[v.id] = variantActivationText(r, v);
    const li = el('li');
    li.dataset.variant = v.id;
    li.append(el('strong', undefined, v.label), document.createTextNode(`: ${texts[v.id]}`));
    list.append(li);
  }
  if (any) parent.append(list);
  return { calibration, variantActivations: texts };
}

/** The tag under a variant's column header ("weights only", "W8A8"), its full text on hover. */
export function variantTag(r: EvalResults, v: EvalResults['variants'][number]): HTMLElement {
  const tag = el('div', 'muted small variant-tag', variantActivationTag(v));
  tag.title = variantActivationText(r, v);
  return tag;
}

const db = (x: number): string => (x === Infinity ? '∞' : Number.isFinite(x) ? `${x.toFixed(1)} dB` : String(x));

function rowCells(row: ActivationRow, measured: boolean): string[] {
  const s = row.stat;
  const verdict = !row.measured
    ? '—'
    : `${row.measured.meetsBudget ? 'meets the budget' : 'breaks the budget'} (${row.effect})`;
  return [
    s.layer,
    s.tensor,
    `${s.signed ? 'int' : 'uint'}${s.bits}`,
    db(s.sqnrAloneDb),
    db(s.sqnrAccumulatedDb),
    clippingText(s.clippingRate, s.clippingRate > 0 ? activationDetail(s).beyondGrid : undefined),
    s.outlierRatio === undefined ? '—' : s.outlierRatio.toFixed(1),
    ...(measured ? [verdict] : []),
    row.warnings.join('; ') || '—',
  ];
}

/** The activation table (appended to `parent`); `reveal(weight)` opens a layer in the inspector. */
export function activationTable(parent: HTMLElement, r: EvalResults, reveal: (weight: string) => void): string[][] {
  const rows = activationRows(r);
  const extra = measuredWithoutStats(r, rows);
  if (rows.length === 0 && extra.length === 0) return [];
  const measured = extra.length > 0 || rows.some((x) => x.measured);
  parent.append(
    el('h2', undefined, 'Activations'),
    el(
      'p',
      'muted',
      `${rows.length || 'No'} quantized activations with statistics${extra.length ? ` (and ${extra.length} layers measured without them, last)` : ''}, worst first (${measured ? 'by the measured effect of quantizing only that layer’s activations, then ' : 'by '}SQNR alone). ` +
        `SQNR alone: only this activation quantized; accumulated: everything quantized, at this tensor. Flagged: over ` +
        `${ACTIVATION_LIMITS.clippingRate * 100}% clipped, under ${ACTIVATION_LIMITS.sqnrDb} dB alone, or a channel over ` +
        `${ACTIVATION_LIMITS.outlierRatio}x the median channel.`,
    ),
  );
  const table = el('table', 'results activations');
  table.dataset.table = 'activations';
  const head = el('tr');
  const titles = ['layer', 'tensor', 'type', 'SQNR alone', 'SQNR accumulated', 'clipped', 'outlier ratio'];
  for (const t of [...titles, ...(measured ? ['budget (activations alone)'] : []), 'flags'])
    head.append(el('th', t === 'layer' || t === 'tensor' || t === 'flags' ? undefined : 'num', t));
  table.append(head);
  const drawn: string[][] = [];
  for (const row of rows) {
    const cells = rowCells(row, measured);
    drawn.push(cells);
    const tr = el('tr', row.measured?.meetsBudget === false ? 'over' : row.warnings.length ? 'flagged' : undefined);
    cells.forEach((text, i) => {
      const td = el('td', i >= 2 && i < cells.length - 1 ? 'num' : undefined);
      if (i === 0 && row.layer) {
        const weight = row.layer.weight;
        const b = el('button', 'layer', text);
        b.title = `${row.stat.op} · open ${weight} in the inspector`;
        b.addEventListener('click', () => reveal(weight));
        td.append(b);
      } else td.textContent = text;
      if (i === cells.length - 2 && measured && row.measured) td.className = row.measured.meetsBudget ? 'ok' : 'bad';
      tr.append(td);
    });
    table.append(tr);
  }
  for (const l of extra) {
    const m = l.activation!;
    const cells = [l.layer, '—', '—', '—', '—', '—', '—', verdictText(r, m), '—'];
    drawn.push(cells);
    const tr = el('tr', m.meetsBudget ? undefined : 'over');
    cells.forEach((text, i) => tr.append(el('td', i === 7 ? (m.meetsBudget ? 'ok' : 'bad') : undefined, text)));
    table.append(tr);
  }
  parent.append(table);
  return drawn;
}

function verdictText(r: EvalResults, m: NonNullable<LayerResult['activation']>): string {
  const effect = `${effectText(r.task, m.worst.effect)} ${m.worst.slice}`;
  return `${m.meetsBudget ? 'meets the budget' : 'breaks the budget'} (${effect})`;
}

/** Sensitivity layers whose activations were measured but have no per-tensor statistics, worst first. */
function measuredWithoutStats(r: EvalResults, rows: readonly ActivationRow[]): LayerResult[] {
  const nodes = new Set(rows.map((x) => x.stat.layer));
  return (r.sensitivity?.layers ?? [])
    .filter((l) => l.activation && !nodes.has(l.layer) && !l.layers.some((n) => nodes.has(n)))
    .sort(
      (a, b) => primaryEffect(r.task, b.activation!.worst.effect) - primaryEffect(r.task, a.activation!.worst.effect),
    );
}
