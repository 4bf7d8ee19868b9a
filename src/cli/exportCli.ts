/**
 * `quantlens export MODEL (--plan P | --scheme ID)`: writes the quantized model (in this process, streamed),
 * then verifies it in a child process with onnxruntime (weights bit for bit, a run on generated inputs).
 * With --spec, the export is then evaluated on the spec's slices (src/cli/exportEval.ts).
 * Exit codes: 0 ok, 1 the export breaks the spec's budget, 2 bad input or a refused write (nothing written), 3 the
 * verification or the evaluation failed, 130 cancelled.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import * as path from 'node:path';
import { bytesText } from '../core/bytes';
import { ExportError, weightSchemeId } from '../core/export/exportPlan';
import { ModelError } from '../core/onnx/errors';
import { exportModel, type ExportResult } from '../node/export/exportModel';
import { runExportChild } from '../node/export/exportClient';
import type { VerifyResult } from '../node/export/verifyExport';
import { WriteRefused } from '../node/safeWrite';
import { finiteReplacer } from '../core/eval/results';
import { exportEvaluationStep } from './exportEval';
import { SpecError } from '../core/eval/spec';
import { DataProblem } from '../node/eval/dataFields';
import { readRegularFile } from '../node/safeRead';
import {
  calibrateForExport,
  calibrationRecord,
  readPlanFile,
  requestQuantizesActivations,
  type ExportCalibration,
} from '../node/export/specCalibration';

export interface ExportCliOptions {
  plan?: string;
  scheme?: string;
  spec?: string;
  output?: string;
  accuracyLevel: number;
  json?: boolean;
  force?: boolean;
  /** With `json`: receives the JSON document instead of stdout (`plan --json --export` prints one document). */
  onJson?: (value: object) => void;
}

/** The export child's entry: next to the bundled CLI, or the source file when running under tsx. */
export function exportChildEntry(): { entry: string; execArgv: string[] } {
  if (__filename.endsWith('.ts')) {
    return { entry: path.join(__dirname, '..', 'node', 'export', 'exportProcess.ts'), execArgv: ['--import', 'tsx'] };
  }
  return { entry: path.join(__dirname, 'exportProcess.js'), execArgv: [] };
}

function accuracyLevel(value: string): number {
  const n = Number(value);
  if (![0, 1, 2, 4].includes(n)) throw new InvalidArgumentError('expected 0, 1, 2 or 4');
  return n;
}

/** The report a person reads. */
export function exportSummary(
  r: ExportResult,
  v: VerifyResult | undefined,
  verifyError?: string,
  calibration?: ExportCalibration,
): string {
  const lines = [
    `Exported ${r.source} -> ${r.output} (${bytesText(r.outputBytes)}, opset ${r.opset}, IR ${r.irVersion}) in ${Math.round(r.ms)} ms`,
  ];
  if (r.externalData) lines.push(`  tensor data in ${r.externalData}`);
  for (const w of r.weights.filter((x) => !x.leftFloat)) lines.push(`  ${w.layer} (${w.name}): ${w.format}`);
  if (r.activations) lines.push(...activationLines(r.activations, calibration));
  const left = r.weights.filter((x) => x.leftFloat);
  if (left.length) lines.push('Left float:', ...left.map((w) => `  ${w.layer} (${w.name}): ${w.leftFloat}`));
  if (verifyError) lines.push(`Verification failed: ${verifyError}`);
  if (v) {
    const bad = v.weights.filter((w) => w.mismatches > 0);
    lines.push(
      bad.length === 0
        ? `Verified: ${v.checked} weight values of ${v.weights.length} weights, dequantized by onnxruntime (${[...new Set(v.weights.map((w) => w.op))].join(', ')}), equal the simulation bit for bit.`
        : `Verification FAILED: ${bad.map((w) => `${w.name}: ${w.mismatches} of ${w.values} values differ (first at ${w.first?.index}: simulated ${w.first?.simulated}, onnxruntime ${w.first?.runtime})`).join('; ')}`,
    );
    const shapes = Object.entries(v.run.inputs)
      .map(([n, s]) => `${n} [${s.join(', ')}]`)
      .join(', ');
    lines.push(
      v.run.ok
        ? `Runs in onnxruntime on generated inputs ${shapes}: outputs ${v.run.outputs.join(', ')}; largest |export - source| ${v.run.maxAbsDiff?.toPrecision(3)}${v.run.nonFinite ? `, ${v.run.nonFinite} non-finite values` : ''}.`
        : `Does not run in onnxruntime: ${v.run.error}`,
    );
    if (r.accuracyLevel === 4 && r.weights.some((w) => w.format.includes('MatMulNBits'))) {
      lines.push(
        'Note: accuracy_level 4 makes MatMulNBits quantize activations to int8 at run time: outputs differ from the weight-only simulation.',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The activation part of the report: what was quantized, on which calibration. */
function activationLines(a: NonNullable<ExportResult['activations']>, c?: ExportCalibration): string[] {
  const on = c ? `, calibrated on ${c.samples} samples (${c.source}, ${c.method}) in ${Math.round(c.ms)} ms` : '';
  return [
    `Activations: ${a.tensors} quantized (${a.types.join(', ')}, per tensor, static QuantizeLinear -> DequantizeLinear)${on}.`,
    ...(a.foldedRelus.length
      ? [`  Relu / Clip folded into its output's range (as onnxruntime's quantizer does): ${a.foldedRelus.join(', ')}`]
      : []),
    ...(a.int32Biases.length
      ? [`  biases stored int32 (scale input_scale * weight_scale): ${a.int32Biases.join(', ')}`]
      : []),
  ];
}

/** Calibrates the activations an activation scheme or plan quantizes; exit 2 (with why) without a spec. */
async function exportCalibration(
  model: string,
  options: ExportCliOptions,
  signal: AbortSignal,
): Promise<{ calibration?: ExportCalibration; code?: number }> {
  const request =
    options.scheme !== undefined ? { scheme: options.scheme } : { plan: await readPlanFile(options.plan!, signal) };
  if (!requestQuantizesActivations(request)) return {};
  const what = options.scheme ?? options.plan;
  if (!options.spec) {
    process.stderr.write(
      `quantlens: ${what} quantizes activations: their scales are calibrated on your data. Give --spec S, an evaluation spec with a "calibration" block. Nothing was written.\n`,
    );
    return { code: 2 };
  }
  const bytes = await readRegularFile(model, 2 ** 31 - 1, signal, `The model ${model}`);
  return { calibration: await calibrateForExport(options.spec, bytes, request, signal) };
}

/** Verifies an export in a child process; a failure (a crash of onnxruntime included) is reported, not thrown. */
async function verifyInChild(
  result: ExportResult,
  signal: AbortSignal,
): Promise<{ verification?: VerifyResult; verifyError?: string }> {
  const child = exportChildEntry();
  // Weights are verified against their weight scheme (an activation suffix is the calibration's business).
  const weights = result.weights
    .filter((w) => !w.leftFloat)
    .map((w) => ({ name: w.name, scheme: weightSchemeId(w.scheme) }));
  const params = { source: result.source, output: result.output, opset: result.opset, weights };
  try {
    return { verification: await runExportChild(child.entry, 'verify', params, { signal, execArgv: child.execArgv }) };
  } catch (error) {
    if (signal.aborted) throw error;
    return { verifyError: error instanceof Error ? error.message : String(error) };
  }
}

/** The exit code of an export's failure (said on stderr); rethrows what is not bad input or a cancel. */
function exitForError(error: unknown, signal: AbortSignal): number {
  if (signal.aborted) {
    process.stderr.write('quantlens: cancelled (nothing written)\n');
    return 130;
  }
  if (error instanceof SpecError || error instanceof DataProblem) {
    process.stderr.write(
      `quantlens: the spec is not usable for calibration:\n${error.message}\nNothing was written.\n`,
    );
    return 2;
  }
  if (error instanceof ExportError || error instanceof ModelError) {
    process.stderr.write(`quantlens: ${error.message} Nothing was written.\n`);
    return 2;
  }
  if (error instanceof WriteRefused) {
    process.stderr.write(
      `quantlens: ${error.message}${error.needsConfirmation ? ' Pass --force to overwrite it.' : ''}\n`,
    );
    return 2;
  }
  throw error;
}

/** Runs the export and its verification; resolves with the exit code. */
export async function runExport(model: string, options: ExportCliOptions, version: string): Promise<number> {
  if ((options.plan === undefined) === (options.scheme === undefined)) {
    process.stderr.write('quantlens: give exactly one of --plan P.qplan.json or --scheme ID.\n');
    return 2;
  }
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Error('cancelled'));
  process.once('SIGINT', onSigint);
  try {
    const { calibration, code } = await exportCalibration(model, options, abort.signal);
    if (code !== undefined) return code;
    const result = await exportModel(model, {
      activations: calibration?.activations,
      ...(calibration && options.spec ? { calibration: calibrationRecord(calibration, options.spec) } : {}),
      plan: options.plan,
      scheme: options.scheme,
      output: options.output,
      accuracyLevel: options.accuracyLevel,
      force: options.force,
      version,
      signal: abort.signal,
    });
    const { verification, verifyError } = await verifyInChild(result, abort.signal);
    // Third step, with a spec: the export evaluated on its slices by onnxruntime's kernels, next to the simulation.
    const step =
      options.spec && verification?.ok
        ? await exportEvaluationStep(options.spec, result.output, options, {
            signal: abort.signal,
            version,
            accuracyLevel: result.accuracyLevel,
            activations: !!result.activations,
          })
        : {};
    const evaluation = step.evaluation;
    const doc = options.json && {
      export: result,
      calibration: calibration && { ...calibration, activations: calibration.activations.length },
      verification,
      verifyError,
      evaluation: evaluation && {
        comparison: evaluation.comparison,
        unfused: evaluation.unfused,
        results: evaluation.results,
      },
    };
    if (doc && options.onJson) options.onJson(doc);
    else
      process.stdout.write(
        doc
          ? `${JSON.stringify(doc, finiteReplacer, 2)}\n`
          : exportSummary(result, verification, verifyError, calibration) + (evaluation ? `\n${evaluation.text}` : ''),
      );
    if (!verification?.ok) return 3;
    return step.code ?? (evaluation?.exportViolated ? 1 : 0);
  } catch (error) {
    return exitForError(error, abort.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Adds `export` to the program; `setExit` receives its exit code. */
export function addExportCommand(program: Command, version: string, setExit: (code: number) => void): void {
  program
    .command('export')
    .description(
      'write a runnable quantized ONNX model from a plan or a scheme, verified on onnxruntime. Exit 2 for bad input, 3 when the verification fails',
    )
    .argument('<model>', 'path of the fp32 .onnx model')
    .option('--plan <file>', 'a *.qplan.json plan')
    .option(
      '--scheme <id>',
      'one scheme for every weight (int8-channel, int4-block32, fp16, ...), or with activations (w8a8, int8-channel+a8, ...: needs --spec with a calibration block)',
    )
    .option(
      '--spec <file>',
      'an evaluation spec: the export is then evaluated on its slices by onnxruntime, next to the simulated plan or scheme, its latency and memory measured against fp32',
    )
    .option('-o, --output <file>', 'the exported model (default: <model>.<plan-or-scheme>.onnx next to the model)')
    .addOption(
      new Option(
        '--accuracy-level <n>',
        'MatMulNBits accuracy_level: 0 matches the simulation, 4 quantizes activations to int8',
      )
        .argParser(accuracyLevel)
        .default(0),
    )
    .option('--json', 'print the export and its verification as one JSON document')
    .option('--force', 'overwrite the output even when QuantLens did not make it')
    .action(async (model: string, options: ExportCliOptions) => {
      setExit(await runExport(model, options, version));
    });
}
