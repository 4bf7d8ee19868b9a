/**
 * `quantlens plan SPEC`: finds the cheapest plan among the spec's `search.candidates` that keeps every slice within
 * the budget (src/node/search/findPlan.ts), prints the Pareto front and the chosen plan's per-slice table, writes
 * `<spec stem>.found.qplan.json` (or -o; a file QuantLens did not make is replaced only with --replace), and with
 * --export exports the plan and evaluates the export on onnxruntime's kernels (acceptance on the export).
 * --cost latency: layer costs are one-layer exports timed against fp32, the front's plans are exported and timed.
 * Exit codes: 0 a plan meets the budget, 1 none within maxCost does (or the export breaks it, or the chosen plan's
 * measured latency is above maxCost in every round), 2 bad input or a refused write, 3 the run failed, 130
 * cancelled (the front found so far is printed).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import * as path from 'node:path';
import { finiteReplacer } from '../core/eval/results';
import { SpecError } from '../core/eval/spec';
import { ModelError } from '../core/onnx/errors';
import { foundPlanName, foundPlanText, planSummary, type FindPlanReport } from '../core/search/planReport';
import { DataProblem } from '../node/eval/dataFields';
import { findPlan, SearchInputError } from '../node/search/findPlan';
import { safeWriteFile, WriteRefused } from '../node/safeWrite';
import { runExport } from './exportCli';

interface PlanCliOptions {
  cost?: 'bytes' | 'latency';
  json?: boolean;
  output?: string;
  replace?: boolean;
  export?: string | boolean;
  threads?: number;
  fullData?: boolean;
  write: boolean;
}

/** Writes the found plan; the path written. */
async function writeFound(spec: string, report: FindPlanReport, options: PlanCliOptions): Promise<string> {
  const specDir = path.dirname(path.resolve(spec));
  const file = options.output ? path.resolve(options.output) : path.join(specDir, foundPlanName(path.basename(spec)));
  const model = path.relative(path.dirname(file), path.resolve(specDir, report.model)) || report.model;
  await safeWriteFile(file, foundPlanText(report.chosen!, report.notes, model), {
    force: options.replace,
    ...(options.output ? {} : { folder: specDir }),
  });
  return file;
}

/** Runs the search; resolves with the exit code. */
async function runPlan(spec: string, options: PlanCliOptions, version: string): Promise<number> {
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Error('cancelled'));
  process.once('SIGINT', onSigint);
  try {
    const report = await findPlan(spec, {
      cost: options.cost,
      threads: options.threads,
      sequential: !options.fullData,
      signal: abort.signal,
      onProgress: (message, runs) => {
        if (process.stderr.isTTY) process.stderr.write(`\rplan: ${runs} runs, ${message}\x1b[K`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const written =
      report.chosen && options.write && !report.cancelled ? await writeFound(spec, report, options) : undefined;
    const code = planExitCode(report);
    const exporting = code === undefined && options.export !== undefined && options.export !== false && !!written;
    const print = (doc: object): void => void process.stdout.write(`${JSON.stringify(doc, finiteReplacer, 2)}\n`);
    if (!options.json) process.stdout.write(planSummary(report, written));
    if (!exporting) {
      if (options.json) print({ ...report, written });
      return code ?? 0;
    }
    return await exportChosen(report, written, spec, options, version);
  } catch (error) {
    if (abort.signal.aborted) {
      process.stderr.write('quantlens: cancelled\n');
      return 130;
    }
    if (error instanceof SpecError) {
      process.stderr.write(`quantlens: the spec is not usable:\n${error.message}\n`);
      return 2;
    }
    if (error instanceof SearchInputError || error instanceof ModelError || error instanceof DataProblem) {
      process.stderr.write(`quantlens: ${error.message}\n`);
      return 2;
    }
    if (error instanceof WriteRefused) {
      process.stderr.write(
        `quantlens: ${error.message}${error.needsConfirmation ? ' Pass --replace to overwrite it, or -o another file.' : ''}\n`,
      );
      return 2;
    }
    process.stderr.write(
      `quantlens: the plan search failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 3;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** --export: exports the written plan and evaluates the export; with --json, one document (the export's under `export`). */
async function exportChosen(
  report: FindPlanReport,
  written: string,
  spec: string,
  options: PlanCliOptions,
  version: string,
): Promise<number> {
  if (!options.json) process.stdout.write('\nExporting the chosen plan and evaluating the export on onnxruntime:\n');
  const model = path.resolve(path.dirname(path.resolve(spec)), report.model);
  const output = typeof options.export === 'string' ? options.export : undefined;
  let exported: object | undefined;
  const exportOptions = { plan: written, spec, output, accuracyLevel: 0, force: options.replace };
  const json = options.json ? { json: true, onJson: (doc: object) => (exported = doc) } : {};
  const code = await runExport(model, { ...exportOptions, ...json }, version);
  if (options.json)
    process.stdout.write(`${JSON.stringify({ ...report, written, export: exported }, finiteReplacer, 2)}\n`);
  return code;
}

/** The exit code a report decides alone (cancelled, no plan, latency over maxCost); undefined: 0, or the export's. */
function planExitCode(report: FindPlanReport): number | undefined {
  if (report.cancelled) return 130;
  if (!report.chosen) return 1;
  // Cost latency: the chosen plan's exported model, timed, is clearly above maxCost (a CI gate, as on accuracy).
  if (report.latency?.chosenMeetsMaxCost === 'no') return 1;
  return undefined;
}

/** Adds `plan` to the program; `setExit` receives its exit code. */
export function addPlanCommand(
  program: Command,
  version: string,
  threads: (value: string) => number,
  setExit: (code: number) => void,
): void {
  program
    .command('plan')
    .description(
      "find the cheapest mixed-precision plan among the spec's search.candidates that meets the budget on every slice; the Pareto front, the plan's per-slice table. Exit 1 when no plan within maxCost meets the budget, 2 for bad input",
    )
    .argument('<spec>', 'a *.quantlens.json evaluation spec with a "search" field')
    .addOption(
      new Option(
        '--cost <what>',
        'what to minimise (default: the spec); latency: measured per layer, the front timed',
      ).choices(['bytes', 'latency']),
    )
    .option('--json', 'print the whole report as one JSON document')
    .option('-o, --output <file>', 'where to write the plan (default: <spec stem>.found.qplan.json next to the spec)')
    .option('--replace', 'overwrite the plan file even when QuantLens did not make it')
    .option('--no-write', 'do not write the plan')
    .option('--export [model]', 'export the chosen plan and evaluate the export on onnxruntime (acceptance on it)')
    .option('--full-data', 'measure every plan on the whole set (no sequential early stops)')
    .option('--threads <n>', 'onnxruntime threads', threads)
    .action(async (spec: string, options: PlanCliOptions) => {
      setExit(await runPlan(spec, options, version));
    });
}
