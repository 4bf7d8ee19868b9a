/**
 * `quantlens export --spec S`: the third verification step. The exported model is evaluated on the spec's slices
 * as a model-file variant (`export:<path>`, run by onnxruntime's own kernels, its cost measured next to fp32), beside
 * the simulated variant it was exported from, in one run on the same samples.
 */
import * as path from 'node:path';
import {
  ACTIVATION_DIFFERS,
  compareExport,
  exportComparisonText,
  type ExportComparison,
} from '../core/export/exportComparison';
import type { EvalResults } from '../core/eval/results';
import { ModelError } from '../core/onnx/errors';
import { SpecError } from '../core/eval/spec';
import { DataProblem } from '../node/eval/dataFields';
import { evaluate } from '../node/eval/evaluate';
import { evalSummary } from '../node/eval/evalFormat';

/** What the export's evaluation measured. */
export interface ExportEvaluation {
  results: EvalResults;
  comparison?: ExportComparison;
  /**
   * Activation exports: the export run with graph optimization disabled (onnxruntime's QuantizeLinear /
   * DequantizeLinear and float kernels, no fusion) next to the simulation; `comparison` is then the fused run.
   */
  unfused?: ExportComparison;
  /** Text for a person: the evaluation summary and the comparison. */
  text: string;
  /** Whether the exported model breaks the spec's budget on a slice (verdict `violated`). */
  exportViolated: boolean;
}

/** The id of the simulated variant an export came from, as the evaluation names it. */
function simulatedId(
  results: EvalResults,
  specDir: string,
  from: { plan?: string; scheme?: string },
): string | undefined {
  if (from.scheme !== undefined) return results.variants.find((v) => v.id === from.scheme)?.id;
  const plan = path.resolve(from.plan ?? '');
  return results.variants.find((v) => v.kind === 'plan' && path.resolve(specDir, v.id.slice('plan:'.length)) === plan)
    ?.id;
}

/** Evaluates `exported` on the spec's slices next to its plan (added as a variant when the spec lacks it). */
export async function evaluateExport(
  spec: string,
  exported: string,
  from: { plan?: string; scheme?: string },
  options: { signal: AbortSignal; version: string; accuracyLevel: number; latency?: boolean; activations?: boolean },
): Promise<ExportEvaluation> {
  const unfused = options.activations ? await unfusedComparison(spec, exported, from, options) : undefined;
  // onnxruntime fuses DequantizeLinear -> MatMul into MatMulNBits at accuracy level 4 (int8 activations) unless told
  // otherwise: the export runs at the level it was made for, as its own MatMulNBits nodes do.
  const config = { 'session.qdq_matmulnbits_accuracy_level': String(options.accuracyLevel) };
  const results = await evaluate(spec, {
    signal: options.signal,
    version: options.version,
    latency: options.latency,
    extraModels: [{ file: path.resolve(exported), sessionOptions: { config } }],
    extraPlans: from.plan !== undefined ? [path.resolve(from.plan)] : undefined,
  });
  const specDir = path.dirname(path.resolve(spec));
  const comparison = compareExport(results, simulatedId(results, specDir, from));
  const exportVariant = results.variants.find((v) => v.kind === 'export');
  const note =
    from.scheme !== undefined && !comparison?.simulated
      ? `The spec does not list ${from.scheme}: add it to its variants to see the simulation next to the export.\n`
      : '';
  const differs = unfused ? ACTIVATION_DIFFERS : undefined;
  const fusedText = comparison ? exportComparisonText(comparison, differs) : '';
  const text = unfused
    ? `${evalSummary(results)}\nWith graph optimization disabled (QuantizeLinear / DequantizeLinear as written):\n${exportComparisonText(unfused, differs)}\nWith onnxruntime's default optimization (QDQ fused into integer kernels such as QLinearConv):\n${fusedText}${note}`
    : `${evalSummary(results)}\n${fusedText}${note}`;
  return {
    results,
    comparison,
    ...(unfused ? { unfused } : {}),
    text,
    exportViolated: (exportVariant?.violations.length ?? 0) > 0,
  };
}

/** The export evaluated with graph optimization disabled, next to its simulation (no cost measurement). */
async function unfusedComparison(
  spec: string,
  exported: string,
  from: { plan?: string; scheme?: string },
  options: { signal: AbortSignal; version: string },
): Promise<ExportComparison | undefined> {
  const results = await evaluate(spec, {
    signal: options.signal,
    version: options.version,
    latency: false,
    extraModels: [{ file: path.resolve(exported), sessionOptions: { graphOptimizationLevel: 'disabled' } }],
    extraPlans: from.plan !== undefined ? [path.resolve(from.plan)] : undefined,
  });
  return compareExport(results, simulatedId(results, path.dirname(path.resolve(spec)), from));
}

/** The evaluation step of `export --spec`: its failures are reported here (the export itself stays, verified). */
export async function exportEvaluationStep(
  spec: string,
  exported: string,
  from: { plan?: string; scheme?: string },
  options: { signal: AbortSignal; version: string; accuracyLevel: number; activations?: boolean },
): Promise<{ evaluation?: ExportEvaluation; code?: number }> {
  try {
    return { evaluation: await evaluateExport(spec, exported, from, options) };
  } catch (error) {
    const kept = `(the export ${exported} was written and verified)`;
    if (options.signal.aborted) {
      process.stderr.write(`quantlens: the evaluation of the export was cancelled ${kept}\n`);
      return { code: 130 };
    }
    if (error instanceof SpecError) {
      process.stderr.write(`quantlens: the spec is not usable ${kept}:\n${error.message}\n`);
      return { code: 2 };
    }
    if (error instanceof ModelError || error instanceof DataProblem) {
      process.stderr.write(`quantlens: ${error.message} ${kept}\n`);
      return { code: 2 };
    }
    const why = error instanceof Error ? error.message : String(error);
    process.stderr.write(`quantlens: the evaluation of the export failed ${kept}: ${why}\n`);
    return { code: 3 };
  }
}
