/** Plain-text summary of evaluation results (the CLI's default output; the JSON is the full record). */
import { bytesText } from '../../core/bytes';
import { costCompares, costTable, NO_COST_VARIANTS } from '../../core/cost/costFormat';
import { collapsedGains, isCollapsed } from '../../core/eval/collapse';
import {
  changeText,
  dbText,
  effectText,
  klText,
  mainValue,
  percentText,
  WEIGHT_BYTES_LABEL,
  WEIGHT_BYTES_TITLE,
} from '../../core/eval/describe';
import type { EvalResults } from '../../core/eval/results';
import { describeViolation, hasLimits, type Verdict } from '../../core/eval/verdict';
import { cellVerdict, limitText, storedVerdict } from '../../core/eval/cellVerdict';
import { activationLines } from '../../core/eval/activationFormat';

/** A variant's verdict on a slice (older results: violated when listed in violations). */
export const verdictOn = (v: EvalResults['variants'][number], slice: string): Verdict => storedVerdict(v, slice);

/** The verdict mark of a cell, with the metric that decided: " VIOLATED (KL 7.57e-2 > 0.05)". */
function verdictMark(r: EvalResults, v: EvalResults['variants'][number], slice: string): string {
  const cv = cellVerdict(r, v, slice);
  if (cv.verdict === 'pass') return '';
  if (cv.smallSlice) return ` ~${cv.note}`;
  const reason = cv.note.replace(/^[^:]*:?\s*/, '');
  return `${cv.verdict === 'violated' ? ' VIOLATED' : ' ~noise'}${reason ? ` (${reason})` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

/** A readable summary: per slice and variant, the sweep, the sensitivity ranking, flags and budget. */
export function evalSummary(r: EvalResults, resultsFile?: string): string {
  const out: string[] = [];
  out.push(
    `QuantLens slice evaluation: ${r.model.file} (${r.task}), ${r.data.evaluated} of ${r.data.samples} samples, ${r.slices.length} slices`,
  );
  out.push('');
  variantTables(r, out);
  out.push(...activationLines(r, table));
  const measured = r.variants.flatMap((v) => (v.cost ? [{ name: v.label, cost: v.cost }] : []));
  if (measured.length > 0)
    out.push(
      '',
      ...(costCompares(measured.length)
        ? ['Cost (measured with onnxruntime on this machine):', costTable(measured)]
        : [NO_COST_VARIANTS]),
    );
  sweepTable(r, out);
  sensitivityTable(r, out);
  verdictLines(r, out);
  if (r.skippedWeights.length > 0)
    out.push(`Left unquantized: ${r.skippedWeights.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
  out.push(
    `Time: ${(r.timings.totalMs / 1000).toFixed(2)} s (${r.timings.runs} inference runs, ${(r.timings.inferenceMs / 1000).toFixed(2)} s in onnxruntime)`,
  );
  if (resultsFile) out.push(`Results: ${resultsFile}`);
  return `${out.join('\n')}\n`;
}

/** A slice's cell: main value, change, verdict, and "COLLAPSED" where a gain is an artefact of collapse. */
function sliceCell(r: EvalResults, v: EvalResults['variants'][number], slice: string, collapsed: string[]): string {
  const m = v.metrics[slice];
  if (v.kind === 'reference') return mainValue(m);
  const verdict = hasLimits(r.budget) ? verdictMark(r, v, slice) : '';
  return `${mainValue(m)} (${changeText(m)})${verdict}${collapsed.includes(slice) ? ' COLLAPSED' : ''}`;
}

/** Columns of the "all samples" table; a column no variant has a value for (ECE of a language model) is left out. */
const ALL_COLUMNS: [string, (v: EvalResults['variants'][number]) => string][] = [
  ['agreement', (v) => (v.metrics.all.agreement !== undefined ? percentText(v.metrics.all.agreement) : '')],
  ['KL', (v) => (v.metrics.all.kl !== undefined ? klText(v.metrics.all.kl) : '')],
  ['output SQNR', (v) => dbText(v.metrics.all.outputSqnrDb)],
  ['ECE', (v) => (v.metrics.all.ece !== undefined ? percentText(v.metrics.all.ece) : '')],
  ['var ratio', (v) => v.metrics.all.varianceRatio.toFixed(3)],
  [WEIGHT_BYTES_LABEL, (v) => bytesText(v.weightBytes)],
];

/** Per slice and variant, agreement and KL per slice, then per variant on all samples. */
function variantTables(r: EvalResults, out: string[]): void {
  const variants = r.variants;
  const gains = new Map(variants.map((v) => [v.id, collapsedGains(v.metrics)]));
  out.push(
    table([
      ['slice', 'n', ...variants.map((v) => v.label)],
      ...r.slices.map((s) => [
        s.name,
        String(s.n),
        ...variants.map((v) => sliceCell(r, v, s.name, gains.get(v.id) ?? [])),
      ]),
    ]),
  );
  agreementTable(r, out);
  out.push('');
  const columns = ALL_COLUMNS.filter(([, f]) => variants.some((v) => f(v) !== ''));
  out.push(
    table([
      ['variant (all)', ...columns.map(([name]) => name)],
      ...variants.map((v) => [v.label, ...columns.map(([, f]) => f(v))]),
    ]),
    WEIGHT_BYTES_TITLE,
  );
  collapseLines(r, out);
}

/** Agreement with fp32 and KL per slice (a collapsed class shows as low agreement on every other slice). */
function agreementTable(r: EvalResults, out: string[]): void {
  const variants = r.variants.filter((v) => v.kind !== 'reference');
  const has = (k: 'agreement' | 'kl'): boolean =>
    variants.some((v) => r.slices.some((s) => v.metrics[s.name]?.[k] !== undefined));
  if (variants.length === 0 || (!has('agreement') && !has('kl'))) return;
  const cell = (m: EvalResults['variants'][number]['metrics'][string] | undefined): string =>
    [m?.agreement !== undefined ? percentText(m.agreement, 1) : '', m?.kl !== undefined ? `KL ${klText(m.kl)}` : '']
      .filter(Boolean)
      .join(' · ');
  out.push('');
  out.push('Agreement with fp32 (top-1) and KL per slice:');
  out.push(
    table([
      ['slice', ...variants.map((v) => `${v.label}${isCollapsed(v.metrics.all) ? ' (collapsed)' : ''}`)],
      ...r.slices.map((s) => [s.name, ...variants.map((v) => cell(v.metrics[s.name]))]),
    ]),
  );
}

/** One line per collapsed variant: why its gains are not gains. */
function collapseLines(r: EvalResults, out: string[]): void {
  for (const v of r.variants) {
    if (v.kind === 'reference' || !isCollapsed(v.metrics.all)) continue;
    const gains = collapsedGains(v.metrics);
    out.push(
      `${v.label} collapsed: it agrees with fp32 on only ${percentText(v.metrics.all.agreement!, 1)} of the samples${
        gains.length > 0
          ? `; its gains on ${gains.join(', ')} are artefacts (it predicts nearly everything the same way)`
          : ''
      }.`,
    );
  }
}

/** The bit-width sweep per slice. */
function sweepTable(r: EvalResults, out: string[]): void {
  if (r.sweep) {
    out.push('');
    out.push(`Bit-width sweep (${r.sweep.granularity}${r.sweep.asymmetric ? ', asymmetric' : ''}):`);
    out.push(
      table([
        ['slice', ...r.sweep.schemes],
        ...r.slices.map((s) => [s.name, ...r.sweep!.metrics.map((m) => mainValue(m[s.name]))]),
      ]),
    );
  }
}

/** The layers by rank, one at a time (and leave-one-out). */
function sensitivityTable(r: EvalResults, out: string[]): void {
  if (r.sensitivity) {
    out.push('');
    out.push(
      `Layer sensitivity, one at a time (worst slice of at least ${r.thresholds.minSliceSize} samples)${r.sensitivity.leaveOneOutScheme ? `; leave-one-out under ${r.sensitivity.leaveOneOutScheme}` : ''}:`,
    );
    const effect = (e: Parameters<typeof effectText>[1]): string => effectText(r.task, e);
    out.push(
      table([
        [
          'rank',
          'layer',
          ...r.sensitivity.schemes.map((s) => `${s} (worst slice)`),
          ...(r.sensitivity.leaveOneOutScheme ? ['leave-one-out'] : []),
        ],
        ...[...r.sensitivity.layers]
          .sort((a, b) => a.rank - b.rank)
          .map((l) => [
            String(l.rank),
            l.layer,
            ...r.sensitivity!.schemes.map(
              (s) => `${effect(l.oneAtATime[s].worst.effect)} ${l.oneAtATime[s].worst.slice}`,
            ),
            ...(l.leaveOneOut ? [`${effect(l.leaveOneOut.worst.effect)} ${l.leaveOneOut.worst.slice}`] : []),
          ]),
      ]),
    );
  }
}

/** Flags and budget. */
function verdictLines(r: EvalResults, out: string[]): void {
  out.push('');
  out.push(
    r.flags.length === 0
      ? 'No layer flagged as sensitive.'
      : `Sensitive layers (${r.flags.length}):\n${r.flags.map((f) => `  ${f.message}`).join('\n')}`,
  );
  const unsure = r.flagsWithinNoise ?? [];
  if (unsure.length > 0)
    out.push(
      `Over a threshold within noise, not flagged (${unsure.length}):\n${unsure.map((f) => `  ${f.message}`).join('\n')}`,
    );
  if (!hasLimits(r.budget)) {
    out.push('Budget: none set in the spec (add "budget" to get verdicts).');
    return;
  }
  const violated = r.variants.filter((v) => v.violations.length > 0);
  const noisy = r.variants.filter((v) => r.slices.some((s) => verdictOn(v, s.name) === 'noise'));
  const noiseNote =
    noisy.length > 0
      ? ` Within noise (CI includes the budget, or slice under ${r.thresholds.minSliceSize} samples): ${noisy.map((v) => v.label).join(', ')}.`
      : '';
  out.push(
    violated.length === 0
      ? `Budget: ${noiseNote ? `violated by no variant.${noiseNote}` : 'met by every variant.'}`
      : `Budget violated (the whole 95% CI over the limit):\n${violated
          .map(
            (v) =>
              `  ${v.label}: ${v.violations
                .slice(0, 5)
                .map((x) => `${describeViolation(x)} on ${x.slice} (limit ${limitText(x.metric, x.limit)})`)
                .join('; ')}${v.violations.length > 5 ? `; and ${v.violations.length - 5} more` : ''}`,
          )
          .join('\n')}${noiseNote ? `\n${noiseNote.trim()}` : ''}`,
  );
}
