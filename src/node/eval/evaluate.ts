/**
 * Runs a slice evaluation in named stages: check (spec, model, data; every sample before any inference,
 * evalCheck.ts) -> plan (the named configurations, core/eval/configurations.ts) -> run (batches in one
 * onnxruntime session, scoring every sample against fp32 into per-slice accumulators, evalRun.ts) ->
 * summarise (verdicts, ranking, flags, core/eval/summary.ts). Memory stays bounded by the data and the weight
 * cache, not by the number of configurations. Runs in the evaluation child process (and in-process for the
 * CLI and tests).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { planConfigurations, type EvalPlan } from '../../core/eval/configurations';
import type { ActivationStat, EvalResults } from '../../core/eval/results';
import { summarise } from '../../core/eval/summary';
import { DEFAULT_THRESHOLDS, withSpecMinSliceSize, type Thresholds } from '../../core/eval/verdict';
import { latencySettings, measureEvalCost } from '../cost/evalCost';
import { checkEval, type CheckedEval, type ExtraModel } from './evalCheck';
import { configWeight } from './evalModel';
import { runConfigurations, type RunResult } from './evalRun';
import { prepareActivations, type PreparedActivations } from './calibrate';
import { diagnoseActivations } from './activationDiagnostics';
import { Scoring, ScoringWorker, type ScoringSetup } from './scoring';

/** Progress of a run. */
export interface EvalProgress {
  phase: 'checking' | 'running' | 'measuring';
  /** Inference runs (running) or samples checked (checking): done and planned. */
  done: number;
  total: number;
  message: string;
}

/** Options of a run. */
export interface EvalOptions {
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  thresholds?: Partial<Thresholds>;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  /** The QuantLens version written into the results. */
  version?: string;
  /** Score in a worker thread beside onnxruntime (default: scoringWorkerPays). */
  scoringWorker?: boolean;
  /** Bytes of data a large source keeps in memory (readDataset's default: 256 MB). */
  dataCacheBytes?: number;
  /** Bytes of quantized weights kept at once (default: as many as the model's fed float32 weights). */
  weightCacheBytes?: number;
  /** Bytes of fp32 outputs kept for the configurations run after the first group (default 256 MB). */
  referenceBytes?: number;
  /** Plan files (absolute paths) added as variants, the spec left as it is. */
  extraPlans?: string[];
  /** Model files (absolute paths) added as model-file variants (`quantlens export --spec`). */
  extraModels?: ExtraModel[];
  /** Measure the cost (latency, memory, size): true or false overrides the spec (default: the spec's `latency`). */
  latency?: boolean;
}

/** Output values to score (all configurations) from which a worker pays for its start (about 20-70 ms). */
const WORKER_MIN_VALUES = 4_000_000;

/**
 * Whether scoring in a worker thread should pay: enough values to score, and a core that onnxruntime leaves
 * free. onnxruntime's intra-op pool takes the physical cores by default (half the logical ones with SMT);
 * where it takes them all (2 cores here), a worker only competes with it (measured: no gain), so scoring
 * stays on the main thread, between runs.
 */
export function scoringWorkerPays(
  outputValues: number,
  threads: number | undefined,
  cores = availableParallelism(),
): boolean {
  return outputValues >= WORKER_MIN_VALUES && (threads !== undefined ? threads < cores : cores >= 4);
}

/** Runs the evaluation a spec describes. Throws SpecError (bad spec or data, before inference) or the run's error. */
export async function evaluate(specPath: string, options: EvalOptions = {}): Promise<EvalResults> {
  const t0 = performance.now();
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const progress = (phase: EvalProgress['phase']) => (done: number, total: number, message: string) =>
    options.onProgress?.({ phase, done, total, message });
  progress('checking')(0, 0, 'Checking the spec, model and data');
  const checked = await checkEval(path.resolve(specPath), {
    signal: options.signal,
    threads: options.threads,
    dataCacheBytes: options.dataCacheBytes,
    extraPlans: options.extraPlans,
    extraModels: options.extraModels,
    onProgress: (done, total) => progress('checking')(done, total, `Checking the data: sample ${done} of ${total}`),
  });
  const weights = checked.model.weights.map(configWeight);
  progress('running')(0, 0, 'Calibrating activation ranges');
  const activations = await prepareActivations(checked, options);
  const plan = planConfigurations(checked.spec, checked.variants, weights, activations?.plan);
  const tPrepared = performance.now();
  const { scoring, inWorker } = startScoring(checked, plan, options);
  let run: RunResult;
  try {
    run = await runConfigurations(checked, plan.configurations, scoring, {
      ...options,
      sites: activations?.sites,
      onProgress: progress('running'),
    });
  } finally {
    if (scoring instanceof ScoringWorker) await scoring.close();
  }
  const { spec, slices } = checked;
  const decided = withSpecMinSliceSize(thresholds, spec.budget);
  const calibration = activations && spec.calibration ? { calibration: spec.calibration } : {};
  const base = { task: spec.task.type, budget: spec.budget, thresholds: decided, slices, weights, plan };
  const summary = summarise({ ...base, sweep: spec.sweep, ...calibration }, run);
  const activationStats = await activationDiagnostics(checked, activations, plan, summary, options);
  const latency = latencySettings(checked, options.latency);
  if (latency) {
    const costs = await measureEvalCost(checked, latency, { ...options, onProgress: progress('measuring') });
    for (const v of summary.variants) if (costs.has(v.id)) v.cost = costs.get(v.id);
  }
  const timings: EvalResults['timings'] = {
    totalMs: performance.now() - t0,
    prepareMs: tPrepared - t0,
    inferenceMs: run.inferenceMs,
    scoringMs: run.scoringMs,
    scoringInWorker: inWorker,
    runs: run.runs,
    samplesPerRun: checked.samples.length,
  };
  return {
    ...resultsOf(checked, decided, summary, timings, options.version),
    ...(latency ? { latency } : {}),
    ...(activations ? { calibration: activations.calibration } : {}),
    ...(activationStats ? { activations: activationStats } : {}),
  };
}

/** Diagnostics of the first activation variant's activations on the evaluation data (none without one). */
async function activationDiagnostics(
  checked: CheckedEval,
  activations: PreparedActivations | undefined,
  plan: EvalPlan,
  summary: ReturnType<typeof summarise>,
  options: EvalOptions,
): Promise<ActivationStat[] | undefined> {
  const diagnosed = plan.configurations.find((c) => c.kind === 'variant' && c.activations?.size);
  if (!activations || !diagnosed?.activations) return undefined;
  const method = summary.variants.find((v) => v.id === diagnosed.id)?.activations?.method;
  return diagnoseActivations(checked, activations.sites, diagnosed.activations, { ...options, method });
}

/** Scoring: in a worker thread when there is enough of it to gain from running beside onnxruntime. */
function startScoring(
  checked: CheckedEval,
  plan: EvalPlan,
  options: EvalOptions,
): { scoring: Scoring | ScoringWorker; inWorker: boolean } {
  const task = checked.spec.task.type;
  const { width, outSize } = checked.out;
  const configs = plan.configurations.length;
  const setup: ScoringSetup = {
    task,
    width: task === 'regression' ? (outSize ?? 1) : width,
    probabilities: checked.spec.task.probabilities,
    configs,
    slices: checked.slices.names.length,
    sliceOf: checked.slices.of,
  };
  // Output values per sample: from the output's shape, or for a language model with a symbolic sequence axis,
  // one row of logits per token fed.
  const tokensFed = checked.inputs.find((i) => i.window)?.size ?? 1;
  const perSample = outSize ?? (width ?? 1) * (task === 'language-model' ? tokensFed : 1);
  const outputValues = checked.samples.length * perSample * (configs + 1);
  const inWorker = options.scoringWorker ?? scoringWorkerPays(outputValues, options.threads);
  return { scoring: inWorker ? new ScoringWorker(setup) : new Scoring(setup), inWorker };
}

/** The results file's content. */
function resultsOf(
  checked: CheckedEval,
  thresholds: Thresholds,
  summary: ReturnType<typeof summarise>,
  timings: EvalResults['timings'],
  version = '0.0.0',
): EvalResults {
  const { spec, text, dir, model, data, samples, slices } = checked;
  const dataFiles = data.files.map((f) => ({ file: path.relative(dir, f.file) || '.', sha256: f.sha256 }));
  const ortVersion = (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown';
  const sha256 = createHash('sha256').update(Buffer.from(text)).digest('hex');
  return {
    format: 'quantlens-eval-results',
    version: 1,
    createdAt: new Date().toISOString(),
    tool: {
      quantlens: version,
      onnxruntime: ortVersion,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    spec: { file: path.basename(checked.specPath), sha256, content: JSON.parse(text) as unknown },
    model: { file: spec.model, sha256: model.sha256, bytes: model.fileBytes },
    data: { files: dataFiles, samples: data.count, evaluated: samples.length, limit: spec.limit, seed: spec.seed },
    task: spec.task.type,
    output: checked.out.output.name,
    budget: spec.budget,
    thresholds,
    slices: slices.names.map((name, k) => ({ name, n: slices.sizes[k] })),
    variants: summary.variants,
    ...(summary.sweep ? { sweep: summary.sweep } : {}),
    ...(summary.sensitivity ? { sensitivity: summary.sensitivity } : {}),
    flags: summary.flags,
    ...(summary.flagsWithinNoise ? { flagsWithinNoise: summary.flagsWithinNoise } : {}),
    skippedWeights: model.skipped,
    budgetViolated: summary.budgetViolated,
    timings,
  };
}
