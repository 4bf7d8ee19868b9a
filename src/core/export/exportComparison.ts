/**
 * The exported model next to the variant it was exported from, per slice: what the simulation predicted and what
 * onnxruntime's kernels measured on the same samples. The difference is what the runtime adds (e.g. int8
 * activations of MatMulNBits at accuracy level 4), or a bug, and is shown, never hidden.
 */
import { changeText, klText, mainValue } from '../eval/describe';
import type { EvalResults, VariantResult } from '../eval/results';

/** One slice of the comparison. */
export interface ExportSliceRow {
  slice: string;
  n: number;
  simulated: string;
  exported: string;
  /** Output SQNR (dB) of each against fp32. */
  simulatedSqnrDb: number;
  exportedSqnrDb: number;
  /** KL(fp32 || export) - KL(fp32 || simulated), nats. */
  klDifference: number;
}

/** The comparison of an evaluation holding both the exported model and its simulated source. */
export interface ExportComparison {
  exported: string;
  simulated?: string;
  rows: ExportSliceRow[];
  /**
   * `identical`: every slice's metrics equal (the kernels exact); `rounding`: the same main metric on every slice and
   * KL within float32 summation-order noise; `differs`: the runtime computes something else (or there is nothing to
   * compare with).
   */
  agreement: 'identical' | 'rounding' | 'differs';
  /** The largest |KL difference| over the slices, nats. */
  maxKlDifference: number;
}

/** KL differences below this are float32 accumulation order (a kernel summing in another order), not numerics. */
export const ROUNDING_KL = 1e-7;

const sameMetrics = (a: VariantResult, b: VariantResult, slice: string): boolean =>
  JSON.stringify(a.metrics[slice]) === JSON.stringify(b.metrics[slice]);

/** Compares the `export:` variant with the one whose id is `simulatedId`; undefined when there is no export. */
export function compareExport(results: EvalResults, simulatedId: string | undefined): ExportComparison | undefined {
  const exported = results.variants.find((v) => v.kind === 'export');
  if (!exported) return undefined;
  const simulated = results.variants.find((v) => v.id === simulatedId);
  const rows = Object.keys(exported.metrics).map((slice) => {
    const e = exported.metrics[slice];
    const s = simulated?.metrics[slice];
    return {
      slice,
      n: e.n,
      simulated: s ? `${mainValue(s)} ${changeText(s)}` : '',
      exported: `${mainValue(e)} ${changeText(e)}`,
      simulatedSqnrDb: s?.outputSqnrDb ?? NaN,
      exportedSqnrDb: e.outputSqnrDb,
      klDifference: (e.kl ?? 0) - (s?.kl ?? 0),
    };
  });
  const maxKlDifference = Math.max(0, ...rows.map((r) => Math.abs(r.klDifference)));
  const agreement = !simulated
    ? 'differs'
    : rows.every((r) => sameMetrics(exported, simulated, r.slice))
      ? 'identical'
      : rows.every((r) => mainValue(simulated.metrics[r.slice]) === mainValue(exported.metrics[r.slice])) &&
          maxKlDifference < ROUNDING_KL
        ? 'rounding'
        : 'differs';
  return { exported: exported.id, simulated: simulated?.id, rows, agreement, maxKlDifference };
}

const AGREEMENT_TEXT: Record<ExportComparison['agreement'], (kl: string) => string> = {
  identical: () => 'Every slice: the same metrics (the kernels compute what the simulation predicted).',
  rounding: (kl) =>
    `Every slice: the same main metric; KL differs by at most ${kl} nats, float32 summation order in the kernels, not a numerical difference.`,
  differs: (kl) =>
    `The metrics differ (KL by up to ${kl} nats): the runtime does not compute what the simulation predicted. MatMulNBits at accuracy level 4 quantizes activations to int8 at run time, and onnxruntime fuses DequantizeLinear -> MatMul into it unless session.qdq_matmulnbits_accuracy_level says otherwise.`,
};

/** The comparison's verdict in one sentence (identical, float rounding, or what differs and why). */
export function agreementText(c: ExportComparison): string {
  return AGREEMENT_TEXT[c.agreement](klText(c.maxKlDifference));
}

/** Why an activation (static QDQ) export can differ from its simulation. */
export const ACTIVATION_DIFFERS = (kl: string): string =>
  `The metrics differ (KL by up to ${kl} nats). The export stores Conv/Gemm biases as int32 with scale input_scale * weight_scale, as onnxruntime's QDQ format and its fused kernels need; a simulation that keeps float biases differs by that rounding (the fused kernels then add their own integer arithmetic).`;

/** The comparison as text for the CLI; `differs` explains a difference (default: the weight-only reasons). */
export function exportComparisonText(c: ExportComparison, differs?: (kl: string) => string): string {
  const db = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : x > 0 ? 'exact' : '—');
  const head = c.simulated
    ? `The export on onnxruntime's kernels (${c.exported}) next to its simulation (${c.simulated}):`
    : `The export on onnxruntime's kernels (${c.exported}); the spec has no simulated variant to compare with:`;
  const lines = [head];
  for (const r of c.rows) {
    const sim = c.simulated ? `simulated ${r.simulated} (${db(r.simulatedSqnrDb)} dB) · ` : '';
    const kl = c.simulated ? ` · KL difference ${klText(r.klDifference)}` : '';
    lines.push(`  ${r.slice} (n=${r.n}): ${sim}exported ${r.exported} (${db(r.exportedSqnrDb)} dB)${kl}`);
  }
  const explain = c.agreement === 'differs' && differs ? differs : AGREEMENT_TEXT[c.agreement];
  if (c.simulated) lines.push(explain(klText(c.maxKlDifference)));
  return `${lines.join('\n')}\n`;
}
