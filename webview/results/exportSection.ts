/**
 * An exported model on onnxruntime's kernels next to the simulated variant it was exported from, per slice: the
 * simulation's and the export's metric, output SQNR and KL difference, and whether the runtime computes what the
 * simulation predicted (identical, float rounding, or a difference, explained).
 */
import { agreementText, compareExport } from '../../src/core/export/exportComparison';
import { klText } from '../../src/core/eval/describe';
import type { EvalResults } from '../../src/core/eval/results';
import { el } from './dom';

const db = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} dB` : x > 0 ? 'exact' : '—');

/** The export section (appended to `parent`); returns the agreement shown (undefined: no export in the run). */
export function exportSection(parent: HTMLElement, r: EvalResults): string | undefined {
  const exported = r.variants.find((v) => v.kind === 'export');
  if (!exported) return undefined;
  const c = compareExport(r, exported.exportedFrom);
  if (!c) return undefined;
  const section = el('section', 'export-comparison');
  section.dataset.agreement = c.simulated ? c.agreement : 'none';
  section.append(el('h2', undefined, `Export on onnxruntime's kernels · ${exported.label}`));
  if (!c.simulated) {
    section.append(el('p', 'muted', 'The run has no simulated variant the export was made from to compare it with.'));
    parent.append(section);
    return 'none';
  }
  section.append(el('p', c.agreement === 'differs' ? 'bad' : 'muted', agreementText(c)));
  const table = el('table', 'results export');
  const head = el('tr');
  for (const h of ['slice', 'n', `simulated (${c.simulated})`, 'exported', 'SQNR sim / export', 'KL difference'])
    head.append(el('th', undefined, h));
  table.append(head);
  for (const row of c.rows) {
    const tr = el('tr', 'export-row');
    tr.dataset.slice = row.slice;
    tr.append(
      el('td', undefined, row.slice),
      el('td', 'num', String(row.n)),
      el('td', 'num', row.simulated),
      el('td', 'num', row.exported),
      el('td', 'num', `${db(row.simulatedSqnrDb)} / ${db(row.exportedSqnrDb)}`),
      el('td', 'num', klText(row.klDifference)),
    );
    table.append(tr);
  }
  section.append(table);
  parent.append(section);
  return c.agreement;
}
