/**
 * The plan search on measured latency: per-layer costs from models that differ from fp32 in one layer (one export
 * per layer and candidate, written to a temporary folder of our own), each timed in fresh child processes
 * interleaved A B A B with fp32 on the spec's real inputs (costRun.ts's measuring child); then the front's plans
 * exported and timed the same way, so the cost reported for a front point is measured, not predicted.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CostSample } from '../../core/cost/costTypes';
import { latencyOf, type LatencySettings } from '../../core/eval/spec';
import { latencyOfRounds, savingOfRounds, type MsSpread } from '../../core/search/costNoise';
import { measureInChild } from '../cost/costRun';
import { evalFeeds } from '../cost/evalCost';
import type { CheckedEval } from '../eval/evalCheck';
import { fileSessionOptions } from '../eval/fileVariant';
import { exportModel } from '../export/exportModel';
import { calibrateExport } from '../export/specCalibration';

/** The most one-layer models a latency search exports and times (layers x candidates below fp32). */
export const MAX_LATENCY_MODELS = 200;

/** How one latency measurement runs: one batch size, and the spec's runs, seconds and rounds. */
export interface LatencyBudget {
  batch: number;
  runs: number;
  seconds: number;
  rounds: number;
}

/** Options of the latency measurements. */
export interface LatencyOptions {
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The spec's latency settings (its first batch size; defaults when absent or off). */
export function latencyBudget(checked: CheckedEval): LatencyBudget {
  const given = checked.spec.latency || (latencyOf(true, checked.spec.batchSize) as LatencySettings);
  return { batch: given.batchSizes[0] ?? 1, runs: given.runs, seconds: given.seconds, rounds: given.rounds };
}

/** Exports plans of the spec's model into a temporary folder made for the search (removed by close). */
class PlanExports {
  private count = 0;
  private constructor(
    private readonly dir: string,
    private readonly checked: CheckedEval,
    private readonly signal?: AbortSignal,
  ) {}

  static async open(checked: CheckedEval, signal?: AbortSignal): Promise<PlanExports> {
    return new PlanExports(await fs.mkdtemp(path.join(tmpdir(), 'quantlens-latency-')), checked, signal);
  }

  get model(): string {
    return path.resolve(this.checked.dir, this.checked.spec.model);
  }

  /** Writes the model with `layers` (plan key -> scheme; others fp32); its path. */
  async export(layers: Record<string, string>): Promise<string> {
    const id = `plan${this.count++}`;
    const plan = path.join(this.dir, `${id}.qplan.json`);
    await fs.writeFile(plan, JSON.stringify({ default: 'fp32', layers }), { flag: 'wx' });
    const calibration = await calibrateExport(this.model, this.checked.specPath, { plan }, this.signal);
    const output = path.join(this.dir, `${id}.onnx`);
    await exportModel(this.model, {
      plan,
      output,
      version: 'plan-search',
      signal: this.signal,
      activations: calibration?.activations,
    });
    return output;
  }

  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Times `models` (the first is fp32) A B A B over the rounds, each in a fresh process; per model, per-round times. */
async function timeRounds(
  checked: CheckedEval,
  models: readonly string[],
  budget: LatencyBudget,
  options: LatencyOptions,
): Promise<number[][][]> {
  const feeds = evalFeeds(checked, [budget.batch]);
  const sessionOptions = fileSessionOptions(undefined, options.threads);
  const times: number[][][] = models.map(() => []);
  for (let round = 0; round < budget.rounds; round++)
    for (const [i, model] of models.entries()) {
      options.onProgress?.(`Timing model ${i + 1} of ${models.length} (round ${round + 1} of ${budget.rounds})`);
      const request = { model, batchSizes: [budget.batch], runs: budget.runs, seconds: budget.seconds, warmup: 3 };
      const sample: CostSample = await measureInChild({ ...request, sessionOptions, feeds }, options.signal);
      const entry = sample.latency[budget.batch];
      if (!entry || 'skipped' in entry)
        throw new Error(`latency at batch ${budget.batch} was not measured: ${entry?.skipped ?? 'no result'}`);
      times[i].push(entry.times);
    }
  return times;
}

/** What the per-layer measurement found: fp32's latency and, per weight and candidate, its saving. */
export interface LayerLatency {
  budget: LatencyBudget;
  fp32: MsSpread;
  /** Weight -> candidate -> saving against fp32 (positive: faster) when only this weight takes it. */
  savings: Map<string, Map<string, MsSpread>>;
  /** Models exported and timed (fp32 included) and child processes started. */
  models: number;
  processes: number;
}

/** Exports one model per (weight, candidate other than fp32) and times them all against fp32. */
export async function measureLayerLatency(
  checked: CheckedEval,
  weights: readonly string[],
  keys: ReadonlyMap<string, string>,
  candidates: readonly string[],
  options: LatencyOptions,
): Promise<LayerLatency> {
  const schemes = candidates.filter((c) => c !== 'fp32');
  const count = weights.length * schemes.length;
  if (count > MAX_LATENCY_MODELS)
    throw new Error(
      `cost "latency" would export and time ${count} one-layer models (${weights.length} layers x ${schemes.length} candidates), more than ${MAX_LATENCY_MODELS}: use fewer candidates or cost "bytes".`,
    );
  const budget = latencyBudget(checked);
  const exports = await PlanExports.open(checked, options.signal);
  try {
    const pairs = weights.flatMap((w) => schemes.map((s) => ({ w, s })));
    const models = [exports.model];
    for (const [i, { w, s }] of pairs.entries()) {
      options.onProgress?.(`Exporting one-layer model ${i + 1} of ${pairs.length} (${keys.get(w)}=${s})`);
      models.push(await exports.export({ [keys.get(w)!]: s }));
    }
    const times = await timeRounds(checked, models, budget, options);
    const savings = new Map(weights.map((w) => [w, new Map<string, MsSpread>()]));
    for (const [i, { w, s }] of pairs.entries()) savings.get(w)!.set(s, savingOfRounds(times[0], times[i + 1]));
    const processes = models.length * budget.rounds;
    return { budget, fp32: latencyOfRounds(times[0]), savings, models: models.length, processes };
  } finally {
    await exports.close();
  }
}

/** Exports each plan (weight -> scheme) and times it A B A B with fp32: fp32's latency and each plan's. */
export async function measurePlansLatency(
  checked: CheckedEval,
  plans: readonly ReadonlyMap<string, string>[],
  keys: ReadonlyMap<string, string>,
  options: LatencyOptions,
): Promise<{ fp32: MsSpread; plans: MsSpread[]; processes: number }> {
  const budget = latencyBudget(checked);
  const exports = await PlanExports.open(checked, options.signal);
  try {
    const models = [exports.model];
    for (const [i, plan] of plans.entries()) {
      options.onProgress?.(`Exporting front plan ${i + 1} of ${plans.length}`);
      const layers = Object.fromEntries([...plan].filter(([, s]) => s !== 'fp32').map(([w, s]) => [keys.get(w)!, s]));
      models.push(Object.keys(layers).length === 0 ? exports.model : await exports.export(layers));
    }
    const times = await timeRounds(checked, models, budget, options);
    const processes = models.length * budget.rounds;
    return { fp32: latencyOfRounds(times[0]), plans: times.slice(1).map(latencyOfRounds), processes };
  } finally {
    await exports.close();
  }
}
