/**
 * The run stage of an evaluation: one onnxruntime session, fed fp32's weights or a configuration's, batch by
 * batch. Configurations run in groups (runGroups): a group's quantized weights are computed once, when it
 * starts, into reused buffers (WeightCache), and the group runs over every batch before the next starts, so
 * memory stays at the cache budget whatever the number of configurations. Each batch's fp32 outputs are the
 * reference its configurations are scored against: kept from the first group while they fit in
 * `referenceBytes`, else computed again for each group (same inputs, same session: the same numbers).
 */
import * as ort from 'onnxruntime-node';
import { isFileConfiguration, type Configuration } from '../../core/eval/configurations';
import type { SliceMetrics } from '../../core/eval/metrics';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { runGroups, weightKey } from '../../core/eval/runGroups';
import type { CheckedEval } from './evalCheck';
import { batchInputs, batchLabels, dimsText } from './evalInputs';
import { WeightCache, type EvalWeight } from './evalModel';
import { createFileSession } from './fileVariant';
import type { BatchInfo, Scoring, ScoringWorker } from './scoring';
import type { ActivationSite } from '../../core/quant/activationSites';
import { activationFeeds, withQdq, type QdqModel } from './activationModel';
import { BiasFeeds } from './activationBias';

/** The session simulating activation quantization, and its model's feeds. */
interface QdqSession {
  session: ort.InferenceSession;
  model: QdqModel;
}

/** A configuration's activation feeds as tensors. */
export function qdqFeeds(model: QdqModel, activations: Configuration['activations']): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, { type, value }] of Object.entries(activationFeeds(model, activations))) {
    const data =
      type === 'bool'
        ? new Uint8Array([value ? 1 : 0])
        : type === 'float32'
          ? new Float32Array([value as number])
          : type === 'uint8'
            ? new Uint8Array([value as number])
            : type === 'int8'
              ? new Int8Array([value as number])
              : type === 'uint16'
                ? new Uint16Array([value as number])
                : new Int16Array([value as number]);
    feeds[name] = new ort.Tensor(type, data as Uint8Array, []);
  }
  return feeds;
}

/** Options of the run stage. */
export interface RunOptions {
  signal?: AbortSignal;
  threads?: number;
  /** Bytes of quantized weights kept at once (default: as many as the model's fed float32 weights). */
  weightCacheBytes?: number;
  /** Bytes of fp32 outputs kept across groups (default 256 MB). */
  referenceBytes?: number;
  onProgress?: (done: number, total: number, message: string) => void;
  /** The activation sites the configurations may quantize (they run in a session of their own with QDQ chains). */
  sites?: readonly ActivationSite[];
}

/** What the run measured: per-slice metrics of fp32 and of every configuration by id, and its timings. */
export interface RunResult {
  reference: SliceMetrics[];
  configurations: Map<string, SliceMetrics[]>;
  inferenceMs: number;
  scoringMs: number;
  runs: number;
}

const REFERENCE_BYTES = 256 * 2 ** 20;

/** A batch's fp32 outputs. */
interface Reference {
  data: Float32Array;
  dims: readonly number[];
}

/** One batch: what scoring needs of it, and its feeds. */
export interface Batch {
  info: BatchInfo;
  feeds: Record<string, ort.Tensor>;
}

/** Runs fp32 and every configuration over the checked samples, scoring each against fp32 with `scoring`. */
export async function runConfigurations(
  checked: CheckedEval,
  configurations: readonly Configuration[],
  scoring: Scoring | ScoringWorker,
  options: RunOptions = {},
): Promise<RunResult> {
  const session = await createSession(checked, options);
  const qdq = await createQdqSession(checked, configurations, options);
  try {
    const runner = new Runner(checked, session, configurations, options, qdq);
    const groups = runner.groups();
    options.onProgress?.(
      0,
      runner.total,
      `${checked.samples.length} samples, ${configurations.length + 1} configurations`,
    );
    const files = configurations.filter(isFileConfiguration);
    const count = groups.length + files.length;
    for (const [g, group] of groups.entries()) await runner.runGroup(group, g, count, scoring);
    // A model-file variant runs in a session of its own, after the simulated ones (fp32 kept or run again).
    for (const [f, config] of files.entries()) {
      const file = checked.files.get(config.id)!;
      const own = await createFileSession(file, checked.check);
      try {
        await runner.runFile(config, own, groups.length + f, count, scoring);
      } finally {
        await own.release();
      }
    }
    const results = await scoring.results();
    const byId = new Map(configurations.map((c) => [c.id, results.configs[runner.slot(c)]]));
    const { inferenceMs, runs } = runner;
    return { reference: results.reference, configurations: byId, inferenceMs, scoringMs: results.busyMs, runs };
  } finally {
    await session.release();
    await qdq?.session.release();
  }
}

/** The simulation session with QDQ chains, when a configuration quantizes activations. */
async function createQdqSession(
  checked: CheckedEval,
  configurations: readonly Configuration[],
  options: RunOptions,
): Promise<QdqSession | undefined> {
  const types = [...new Set(configurations.flatMap((c) => [...(c.activations?.values() ?? [])].map((p) => p.type)))];
  if (types.length === 0 || !options.sites) return undefined;
  let model: QdqModel;
  try {
    model = withQdq(checked.model.bytes, options.sites, types, { biases: true });
  } catch (error) {
    throw checked.check.error('/variants', error instanceof Error ? error.message : String(error));
  }
  return { session: await openQdqSession(checked, model, options.threads), model };
}

/** An onnxruntime session of a model with QDQ chains (the model's external data, the evaluation's threads). */
export function openQdqSession(checked: CheckedEval, model: QdqModel, threads?: number): Promise<ort.InferenceSession> {
  const { externalData } = checked.model;
  return ort.InferenceSession.create(model.bytes, {
    ...(threads ? { intraOpNumThreads: threads } : {}),
    ...(externalData.length > 0 ? { externalData } : {}),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
  });
}

/** onnxruntime's message, first line (its own code prefix dropped). */
const ortMessage = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error))
    .split('\n')[0]
    .replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '')
    .trim();

/** The session; a model onnxruntime refuses is bad input (a SpecError at "model"), not a failed run. */
export async function createSession(checked: CheckedEval, options: RunOptions): Promise<ort.InferenceSession> {
  const { externalData } = checked.model;
  try {
    return await ort.InferenceSession.create(checked.model.bytes, {
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      ...(externalData.length > 0 ? { externalData } : {}),
      graphOptimizationLevel: 'all',
      // Errors come back as exceptions and are reported in plain words; its own log would repeat them raw.
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw checked.check.error('/model', `onnxruntime cannot load ${checked.spec.model}: ${ortMessage(error)}`);
  }
}

/**
 * What onnxruntime refused on the first run: the feeds as given (the checks passed them), so bad input, at the
 * input its message names (else the first), with every input's expected and given shape.
 */
function firstRunError(checked: CheckedEval, batch: Batch, error: unknown): Error {
  const message = ortMessage(error);
  const feeds = checked.inputs.map((i) => {
    const declared = checked.model.inputs.find((m) => m.name === i.name)?.shape ?? null;
    return {
      plan: i,
      text: `'${i.name}' expects ${dimsText(declared)}, was given ${dimsText(batch.feeds[i.name].dims)}`,
    };
  });
  const named = feeds.find((f) => message.includes(f.plan.name)) ?? feeds[0];
  if (!named) return error instanceof Error ? error : new Error(message);
  const list = feeds.map((f) => f.text).join('; ');
  return checked.check.error(
    named.plan.pointer,
    `onnxruntime refused the first batch (model input ${list}${named.plan.window ? ', a window of T tokens' : ''}): ${message}`,
  );
}

/** The run of one session: its weights, batches, fp32 outputs kept, and counts. */
class Runner {
  inferenceMs = 0;
  runs = 0;
  /** Runs planned (grows when fp32 runs again for a group). */
  total: number;
  private readonly weights: Map<string, EvalWeight>;
  private readonly floatFeeds: Record<string, ort.Tensor>;
  private readonly cache: WeightCache;
  private readonly budget: number;
  private readonly slots: Map<string, number>;
  private readonly batchSize: number;
  private readonly batches: number;
  private readonly kept: (Reference | undefined)[] = [];
  private keptBytes = 0;
  private where = '';
  private readonly biasFeeds?: BiasFeeds;

  constructor(
    private readonly checked: CheckedEval,
    private readonly session: ort.InferenceSession,
    private readonly configurations: readonly Configuration[],
    private readonly options: RunOptions,
    private readonly qdq?: QdqSession,
  ) {
    const { weights } = checked.model;
    this.weights = new Map(weights.map((w) => [w.name, w]));
    this.floatFeeds = Object.fromEntries(weights.map((w) => [w.name, tensorOf(w.values, w.dims)]));
    this.budget = options.weightCacheBytes ?? weights.reduce((sum, w) => sum + w.values.byteLength, 0);
    this.cache = new WeightCache(this.budget);
    this.slots = new Map(configurations.map((c, i) => [c.id, i]));
    this.batchSize = fixedBatch(checked) ?? checked.spec.batchSize;
    this.batches = Math.ceil(checked.samples.length / this.batchSize);
    this.total = this.batches * (configurations.length + 1);
    if (qdq) this.biasFeeds = new BiasFeeds(qdq.model.biases, this.weights);
  }

  /** The simulated configurations in groups within the weight budget (model-file variants run on their own). */
  groups(): Configuration[][] {
    const simulated = this.configurations.filter((c) => !isFileConfiguration(c));
    return runGroups(simulated, (w) => this.weights.get(w)!.values.byteLength, this.budget);
  }

  /** Runs a model-file variant over every batch in its own session, scored against fp32's outputs. */
  async runFile(
    config: Configuration,
    session: ort.InferenceSession,
    g: number,
    groups: number,
    scoring: Scoring | ScoringWorker,
  ) {
    const n = this.checked.samples.length;
    for (let b = 0; b < this.batches; b++) {
      const batch = batchOf(this.checked, b, this.batchSize);
      this.where = `${b * this.batchSize} of ${n} samples, model ${config.id.replace(/^\w+:/, '')}`;
      const ref = this.kept[b] ?? (await this.reference(batch, b, g, groups));
      await scoring.setReference(batch.info, ref.data);
      const out = await this.run(batch, undefined, undefined, session).catch((error: unknown) => {
        if (b > 0) throw error;
        const { pointer } = this.checked.files.get(config.id)!;
        throw this.checked.check.error(
          pointer,
          `onnxruntime refused to run ${config.id.slice(6)}: ${ortMessage(error)}`,
        );
      });
      await scoring.score(this.slot(config), out.data as Float32Array);
    }
  }

  /** The scorer's slot of a configuration. */
  slot(c: Configuration): number {
    return this.slots.get(c.id)!;
  }

  /** Runs one group over every batch: its weights computed once, fp32's outputs kept or run again. */
  async runGroup(group: readonly Configuration[], g: number, groups: number, scoring: Scoring | ScoringWorker) {
    this.cache.retain(new Set(group.flatMap((c) => [...c.quantized].map(([w, s]) => weightKey(w, s)))));
    const n = this.checked.samples.length;
    const ofGroups = groups > 1 ? `, configuration group ${g + 1} of ${groups}` : '';
    for (let b = 0; b < this.batches; b++) {
      const batch = batchOf(this.checked, b, this.batchSize);
      this.where = `${b * this.batchSize} of ${n} samples${ofGroups}`;
      const ref = this.kept[b] ?? (await this.reference(batch, b, g, groups));
      await scoring.setReference(batch.info, ref.data);
      const buffer = scoring.outputBuffer(ref.data.length);
      const into = buffer && new ort.Tensor('float32', buffer, ref.dims);
      // Given `into`, onnxruntime writes there (and returns a copy); with a scoring worker, scoring one
      // configuration overlaps onnxruntime running the next.
      for (const config of group) {
        const out = await this.run(batch, config, into);
        await scoring.score(this.slot(config), buffer ?? (out.data as Float32Array));
      }
      this.report(`${Math.min(n, (b + 1) * this.batchSize)} of ${n} samples${ofGroups}`);
    }
  }

  /** fp32's outputs of batch b, kept for the later groups while they fit. */
  private async reference(batch: Batch, b: number, g: number, groups: number): Promise<Reference> {
    const out = await this.run(batch, undefined);
    const ref = { data: out.data as Float32Array, dims: out.dims };
    if (g > 0) this.total++;
    const bytes = ref.data.byteLength;
    if (groups > 1 && this.keptBytes + bytes <= (this.options.referenceBytes ?? REFERENCE_BYTES)) {
      this.kept[b] = ref;
      this.keptBytes += bytes;
    }
    return ref;
  }

  /** One inference run: the batch with fp32's weights, or the configuration's (or a model file's own session). */
  private async run(
    batch: Batch,
    config: Configuration | undefined,
    into?: ort.Tensor,
    own?: ort.InferenceSession,
  ): Promise<ort.Tensor> {
    this.options.signal?.throwIfAborted();
    const feeds = own ? { ...batch.feeds } : { ...batch.feeds, ...this.floatFeeds };
    for (const [name, scheme] of config?.quantized ?? []) {
      const w = this.weights.get(name)!;
      if (scheme !== KEEP_FLOAT) feeds[name] = tensorOf(this.cache.get(w, scheme), w.dims);
    }
    const simulated = !own && this.qdq && config?.activations && config.activations.size > 0;
    if (simulated) Object.assign(feeds, qdqFeeds(this.qdq!.model, config.activations), this.biasFeeds!.feeds(config));
    if (simulated) own = this.qdq!.session;
    const output = this.checked.out.output.name;
    const t = performance.now();
    const first = this.runs === 0;
    const out = await (own ?? this.session).run(feeds, into ? { [output]: into } : [output]).catch((error: unknown) => {
      throw first ? firstRunError(this.checked, batch, error) : error;
    });
    this.inferenceMs += performance.now() - t;
    if (++this.runs % 8 === 0) this.report(this.where);
    return out[output];
  }

  private report(message: string): void {
    this.options.onProgress?.(this.runs, this.total, message);
  }
}

const tensorOf = (values: Float32Array, dims: readonly number[]): ort.Tensor => new ort.Tensor('float32', values, dims);

/** The batch size the model fixes (its inputs' first axis), if any. */
export function fixedBatch(checked: CheckedEval): number | undefined {
  return checked.inputs
    .map((i) => checked.model.inputs.find((m) => m.name === i.name)?.shape?.[0])
    .find((d) => typeof d === 'number') as number | undefined;
}

/** Batch b: its samples' feeds and labels (a fixed batch size pads with the last sample). */
export function batchOf(checked: CheckedEval, b: number, batchSize: number): Batch {
  const chunk = checked.samples.slice(b * batchSize, (b + 1) * batchSize);
  const rows = fixedBatch(checked) ?? chunk.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const { input, buffer } of batchInputs(checked.inputs, chunk, rows))
    feeds[input.name] = new ort.Tensor(input.dtype, buffer, [rows, ...input.dims]);
  const labels = batchLabels(checked.spec.task.type, checked.labelField, chunk);
  return { info: { first: b * batchSize, count: chunk.length, rows, labels }, feeds };
}
