/**
 * `quantlens`: the headless face of QuantLens, for CI. Exit codes, every subcommand: 0 ok, 1 budget broken,
 * 2 bad input (spec, model, data, a refused write), 3 the evaluation failed, 4 internal error, 130 cancelled.
 */
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ModelError } from '../core/onnx/errors';
import { DEFAULT_SCHEMES, parseSchemeList, type Scheme } from '../core/quant/schemes';
import { inspectModel } from '../node/inspectModel';
import { toMarkdown, toText } from '../core/view/reportFormat';
import { finiteReplacer, resultsFileName } from '../core/eval/results';
import { SpecError } from '../core/eval/spec';
import { evaluate } from '../node/eval/evaluate';
import { DataProblem } from '../node/eval/dataFields';
import { evalSummary } from '../node/eval/evalFormat';
import { safeWriteFile, WriteRefused } from '../node/safeWrite';
import { ioProblem } from '../node/safeRead';
import { batchOption, dimOption, runBench, type BenchCliOptions } from './bench';
import { addDiffCommand } from './diffCli';
import { addExportCommand } from './exportCli';
import { addPlanCommand } from './planCli';
import { writeJson } from './jsonStream';
import * as path from 'node:path';

declare const QUANTLENS_VERSION: string | undefined;
/** The package version (injected by the bundler; tests running from source see 0.0.0-dev). */
const VERSION = typeof QUANTLENS_VERSION === 'string' ? QUANTLENS_VERSION : '0.0.0-dev';

function schemesOption(value: string): Scheme[] {
  try {
    return parseSchemeList(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Ctrl+C during a run. */
class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface EvalCliOptions {
  json?: boolean;
  write: boolean;
  force?: boolean;
  threads?: number;
  scoring: 'auto' | 'worker' | 'main';
  latency?: boolean;
}

function threadsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of threads, at least 1');
  }
  return n;
}

/** A progress bar on stderr for a person watching (none in pipes and CI logs). */
function evalBar(): SingleBar | undefined {
  if (!process.stderr.isTTY) return undefined;
  return new SingleBar(
    {
      format: 'eval [{bar}] {value}/{total} runs | ETA {eta_formatted} | {message}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
}

/** The exit code of an evaluation that threw: input errors go up to main's handler, others are reported here. */
function evalFailure(error: unknown): number {
  if (
    error instanceof SpecError ||
    error instanceof ModelError ||
    error instanceof Cancelled ||
    error instanceof WriteRefused
  ) {
    throw error;
  }
  if (error instanceof DataProblem) {
    // Data read while the run uses it (a block of a large .npy, an image) that is no longer usable: bad input.
    process.stderr.write(`quantlens: ${error.message}\n`);
    return 2;
  }
  // Exit code 1 means "budget violated" for eval: a failed run must not look like one.
  process.stderr.write(`quantlens: evaluation failed: ${error instanceof Error ? error.message : String(error)}\n`);
  return 3;
}

/** `quantlens eval`: runs in this process (a crash ends the CLI only), writes the results next to the spec. */
async function runEval(spec: string, options: EvalCliOptions): Promise<number> {
  const bar = evalBar();
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Cancelled());
  process.once('SIGINT', onSigint);
  try {
    let started = false;
    const results = await evaluate(spec, {
      signal: abort.signal,
      threads: options.threads,
      latency: options.latency,
      scoringWorker: options.scoring === 'auto' ? undefined : options.scoring === 'worker',
      version: VERSION,
      onProgress: (p) => {
        if (!bar || p.phase !== 'running') return;
        if (!started) bar.start(p.total, p.done, { message: p.message });
        started = true;
        bar.update(p.done, { message: p.message });
      },
    });
    bar?.stop();
    const file = path.join(path.dirname(path.resolve(spec)), resultsFileName(path.basename(spec)));
    if (options.write) {
      await safeWriteFile(file, `${JSON.stringify(results, finiteReplacer, 2)}\n`, {
        folder: path.dirname(path.resolve(spec)),
        force: options.force,
      });
    }
    process.stdout.write(
      options.json
        ? `${JSON.stringify(results, finiteReplacer, 2)}\n`
        : evalSummary(results, options.write ? file : undefined),
    );
    return results.budgetViolated ? 1 : 0;
  } catch (error) {
    return evalFailure(error);
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** `quantlens bench`: models measured A B A B in fresh processes; 2 for bad input, 3 when a measurement fails. */
async function runBenchCli(models: string[], options: BenchCliOptions): Promise<number> {
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Cancelled());
  process.once('SIGINT', onSigint);
  try {
    return await runBench(models, options, abort.signal);
  } catch (error) {
    if (abort.signal.aborted) throw new Cancelled();
    if (error instanceof ModelError || error instanceof SpecError) throw error;
    process.stderr.write(`quantlens: measurement failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** A commander parser from one that throws plain errors. */
const cliArgument =
  <T, P extends unknown[]>(parse: (value: string, ...rest: P) => T) =>
  (value: string, ...rest: P): T => {
    try {
      return parse(value, ...rest);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };

const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a number >= 0, got '${value}'`);
  return n;
};

interface InspectCliOptions {
  schemes: Scheme[];
  json?: boolean;
  md?: boolean;
  threads?: number;
}

/** `quantlens inspect`: the report on stdout (JSON streamed), progress on stderr for a terminal. */
async function runInspect(model: string, options: InspectCliOptions): Promise<void> {
  // Progress on stderr, only for a person watching (stdout stays the report, for pipes and CI logs).
  const bar = process.stderr.isTTY
    ? new SingleBar(
        {
          format: 'inspect [{bar}] {value}/{total} weights | ETA {eta_formatted} | {weight}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Cancelled());
  process.once('SIGINT', onSigint);
  try {
    const report = await inspectModel(model, options.schemes, {
      threads: options.threads,
      signal: abort.signal,
      onProgress: (done, total, name) => {
        if (!bar) return;
        if (done === 0) bar.start(total, 0, { weight: '' });
        else bar.update(done, { weight: name });
      },
    });
    bar?.stop();
    if (options.json) writeJsonToStdout(report);
    else process.stdout.write(options.md ? toMarkdown(report, model) : toText(report, model));
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** Prints one JSON document in pieces of about 1 MB (a whole report may exceed V8's largest string). */
function writeJsonToStdout(value: unknown): void {
  let pending: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (pending.length > 0) process.stdout.write(pending.join(''));
    pending = [];
    size = 0;
  };
  writeJson((chunk) => {
    pending.push(chunk);
    size += chunk.length;
    if (size > 2 ** 20) flush();
  }, value);
  pending.push('\n');
  flush();
}

/** Prints what went wrong (plain words; a stack trace only for internal errors) and returns the exit code. */
function exitCodeFor(error: unknown): number {
  if (error instanceof Cancelled) {
    process.stderr.write('quantlens: cancelled\n');
    return 130;
  } else if (error instanceof SpecError) {
    process.stderr.write(`quantlens: the spec is not usable:\n${error.message}\n`);
    return 2;
  } else if (error instanceof ModelError) {
    process.stderr.write(`quantlens: ${error.message}\n`);
    return 2;
  } else if (error instanceof WriteRefused) {
    process.stderr.write(
      `quantlens: ${error.message}${error.needsConfirmation ? ' Pass --force to overwrite it, or --no-write.' : ''}\n`,
    );
    return 2;
  } else if (error && typeof error === 'object' && 'exitCode' in error && 'code' in error) {
    // commander: help/version exit 0, usage errors (already printed) are bad input.
    return (error as { exitCode: number }).exitCode === 0 ? 0 : 2;
  } else if (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    'syscall' in error
  ) {
    const file = (error as NodeJS.ErrnoException).path;
    process.stderr.write(`quantlens: ${file ? `${file} ` : 'a file '}${ioProblem(error)}.\n`);
    return 2;
  } else {
    process.stderr.write(
      `quantlens: internal error (please report it at https://github.com/quantlens/quantlens/issues with the command you ran): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 4;
  }
}

/** `quantlens bench`'s arguments and options. */
function addBenchCommand(program: Command, done: (code: number) => void): void {
  program
    .command('bench')
    .description(
      'latency, throughput, peak memory, size and load time of models, each in a fresh process, interleaved A B A B; ratios to the first model',
    )
    .argument('<models...>', '.onnx files (the first is the reference)')
    .addOption(
      new Option('--dim <name=value>', 'value of a symbolic dimension (repeatable)')
        .argParser(cliArgument(dimOption))
        .default({}, '1 for every symbolic dimension'),
    )
    .addOption(
      new Option('--batch <sizes>', 'batch sizes, comma-separated (the first axis of every input)')
        .argParser(cliArgument(batchOption))
        .default([1], '1'),
    )
    .option('--runs <n>', 'timed runs per batch size, at least', threadsOption, 20)
    .option('--seconds <t>', 'seconds per batch size, at least', cliArgument(positiveNumber), 1)
    .option('--rounds <n>', 'rounds of A B A B', threadsOption, 2)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: its own)', threadsOption)
    .option('--json', 'print one JSON document')
    .action(async (models: string[], options: BenchCliOptions) => {
      done(await runBenchCli(models, options));
    });
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('quantlens')
    .description('Quantization-aware inspection of ONNX models')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('inspect')
    .description('overview, every weight with its label, statistics and quantization error per scheme')
    .argument('<model>', 'path of an .onnx file')
    .option('--schemes <ids>', 'comma-separated scheme ids', schemesOption, parseSchemeList(DEFAULT_SCHEMES.join(',')))
    .option('--json', 'print one JSON document')
    .option('--md', 'print Markdown tables')
    .option('--threads <n>', 'analysis threads (default: one per core)', threadsOption)
    .action(async (model: string, options: InspectCliOptions) => runInspect(model, options));
  program
    .command('eval')
    .description(
      'slice evaluation: fp32 against quantized variants on your data, per slice; sweep and layer sensitivity. Exit 1 when a budget is violated, 2 for bad input',
    )
    .argument('<spec>', 'a *.quantlens.json evaluation spec')
    .option('--json', 'print the full results as one JSON document')
    .option('--no-write', 'do not write <spec>.results.json next to the spec')
    .option('--force', 'overwrite <spec>.results.json even when QuantLens did not make it')
    .option('--threads <n>', 'onnxruntime threads', threadsOption)
    .option('--latency', 'measure latency, memory and size of fp32 and the model-file variants (default: the spec)')
    .option('--no-latency', 'do not measure the cost, whatever the spec says')
    .addOption(
      new Option(
        '--scoring <where>',
        'where outputs are scored: a worker thread beside onnxruntime, the main thread, or auto (a worker when onnxruntime leaves a core free and there is much to score)',
      )
        .choices(['auto', 'worker', 'main'])
        .default('auto'),
    )
    .action(async (spec: string, options: EvalCliOptions) => {
      exitCode = await runEval(spec, options);
    });
  addBenchCommand(program, (code) => {
    exitCode = code;
  });
  addExportCommand(program, VERSION, (code) => (exitCode = code));
  addDiffCommand(program, (code) => (exitCode = code));
  addPlanCommand(program, VERSION, threadsOption, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    exitCode = exitCodeFor(error);
  }
  return exitCode;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
