/** Plain-text summary of evaluation results (the CLI's default output; the JSON is the full record). */
import { costTable } from '../../core/cost/costFormat';
import { changeText, effectText, mainValue } from '../../core/eval/describe';
import type { EvalResults } from '../../core/eval/results';
import { describeViolation, hasLimits, type Verdict } from '../../core/eval/verdict';

const VERDICT_MARK: Record<Verdict, string> = { pass: '', noise: ' ~noise', violated: ' VIOLATED' };

/** A variant's verdict on a slice (older results: violated when listed in violations). */
export function verdictOn(v: EvalResults['variants'][number], slice: string): Verdict {
  return v.verdicts?.[slice] ?? (v.violations.some((x) => x.slice === slice) ? 'violated' : 'pass');
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
  const measured = r.variants.flatMap((v) => (v.cost ? [{ name: v.label, cost: v.cost }] : []));
  if (measured.length > 0) out.push('', 'Cost (measured with onnxruntime on this machine):', costTable(measured));
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

/** Per slice and variant, then per variant on all samples. */
function variantTables(r: EvalResults, out: string[]): void {
  const variants = r.variants;
  out.push(
    table([
      ['slice', 'n', ...variants.map((v) => v.label)],
      ...r.slices.map((s) => [
        s.name,
        String(s.n),
        ...variants.map((v) =>
          v.kind === 'reference'
            ? mainValue(v.metrics[s.name])
            : `${mainValue(v.metrics[s.name])} (${changeText(v.metrics[s.name])})${hasLimits(r.budget) ? VERDICT_MARK[verdictOn(v, s.name)] : ''}`,
        ),
      ]),
    ]),
  );
  out.push('');
  out.push(
    table([
      ['variant (all)', 'agreement', 'KL', 'output SQNR', 'ECE', 'var ratio', 'weights'],
      ...variants.map((v) => {
        const m = v.metrics.all;
        return [
          v.label,
          m.agreement !== undefined ? `${(m.agreement * 100).toFixed(2)}%` : '',
          m.kl !== undefined ? m.kl.toPrecision(3) : '',
          `${m.outputSqnrDb.toFixed(1)} dB`,
          m.ece !== undefined ? `${(m.ece * 100).toFixed(2)}%` : '',
          m.varianceRatio.toFixed(3),
          `${(v.weightBytes / 1024).toFixed(1)} KiB`,
        ];
      }),
    ]),
  );
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
                .map((x) => `${describeViolation(x)} on ${x.slice} (limit ${x.limit})`)
                .join('; ')}${v.violations.length > 5 ? `; and ${v.violations.length - 5} more` : ''}`,
          )
          .join('\n')}${noiseNote ? `\n${noiseNote.trim()}` : ''}`,
  );
}
