/**
 * The run stage of an evaluation: one onnxruntime session, fed fp32's weights or a configuration's, batch by
 * batch. Configurations run in groups (runGroups): a group's quantized weights are computed once, when it
 * starts, into reused buffers (WeightCache), and the group runs over every batch before the next starts, so
 * memory stays at the cache budget whatever the number of configurations. Each batch's fp32 outputs are the
 * reference its configurations are scored against: kept from the first group while they fit in
 * `referenceBytes`, else computed again for each group (same inputs, same session: the same numbers).
 */
import * as ort from 'onnxruntime-node';
import type { Configuration } from '../../core/eval/configurations';
import type { SliceMetrics } from '../../core/eval/metrics';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { runGroups, weightKey } from '../../core/eval/runGroups';
import type { CheckedEval } from './evalCheck';
import { batchInputs, batchLabels } from './evalInputs';
import { WeightCache } from './evalModel';
import type { BatchInfo, Scoring, ScoringWorker } from './scoring';

/** Options of the run stage. */
export interface RunOptions {
  signal?: AbortSignal;
  threads?: number;
  /** Bytes of quantized weights kept at once (default: as many as the model's fed float32 weights). */
  weightCacheBytes?: number;
  /** Bytes of fp32 outputs kept across groups (default 256 MB). */
  referenceBytes?: number;
  onProgress?: (done: number, total: number, message: string) => void;
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

interface Batch {
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
  const { model, samples } = checked;
  const weights = new Map(model.weights.map((w) => [w.name, w]));
  const floatBytes = model.weights.reduce((sum, w) => sum + w.values.byteLength, 0);
  const budget = options.weightCacheBytes ?? floatBytes;
  const groups = runGroups(configurations, (w) => weights.get(w)!.values.byteLength, budget);
  const slot = new Map(configurations.map((c, i) => [c.id, i]));
  const cache = new WeightCache(budget);
  const batchSize = fixedBatch(checked) ?? checked.spec.batchSize;
  const batches = Math.ceil(samples.length / batchSize);
  const output = checked.out.output.name;
  const stats = { inferenceMs: 0, runs: 0, total: batches * (configurations.length + 1), where: '' };
  const report = (message: string): void => options.onProgress?.(stats.runs, stats.total, message);
  const session = await ort.InferenceSession.create(model.bytes, {
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    graphOptimizationLevel: 'all',
  });
  try {
    const floatFeeds = Object.fromEntries(model.weights.map((w) => [w.name, tensorOf(w.values, w.dims)]));
    const run = async (batch: Batch, config: Configuration | undefined, into?: ort.Tensor): Promise<ort.Tensor> => {
      options.signal?.throwIfAborted();
      const feeds = { ...batch.feeds, ...floatFeeds };
      for (const [name, scheme] of config?.quantized ?? []) {
        if (scheme !== KEEP_FLOAT)
          feeds[name] = tensorOf(cache.get(weights.get(name)!, scheme), weights.get(name)!.dims);
      }
      const t = performance.now();
      const out = await session.run(feeds, into ? { [output]: into } : [output]);
      stats.inferenceMs += performance.now() - t;
      if (++stats.runs % 8 === 0) report(stats.where);
      return out[output];
    };
    const kept: (Reference | undefined)[] = [];
    let keptBytes = 0;
    report(`${samples.length} samples, ${configurations.length + 1} configurations`);
    for (const [g, group] of groups.entries()) {
      cache.retain(new Set(group.flatMap((c) => [...c.quantized].map(([w, s]) => weightKey(w, s)))));
      for (let b = 0; b < batches; b++) {
        const batch = batchOf(checked, b, batchSize);
        stats.where = `${b * batchSize} of ${samples.length} samples, configuration group ${g + 1} of ${groups.length}`;
        let ref = kept[b];
        if (!ref) {
          const out = await run(batch, undefined);
          ref = { data: out.data as Float32Array, dims: out.dims };
          if (g > 0) stats.total++;
          const bytes = ref.data.byteLength;
          if (groups.length > 1 && keptBytes + bytes <= (options.referenceBytes ?? REFERENCE_BYTES)) {
            kept[b] = ref;
            keptBytes += bytes;
          }
        }
        await scoreGroup(batch, ref, group, scoring, slot, run);
        report(
          `${Math.min(samples.length, (b + 1) * batchSize)} of ${samples.length} samples${groups.length > 1 ? `, configuration group ${g + 1} of ${groups.length}` : ''}`,
        );
      }
    }
    const results = await scoring.results();
    const byId = new Map(configurations.map((c) => [c.id, results.configs[slot.get(c.id)!]]));
    return {
      reference: results.reference,
      configurations: byId,
      inferenceMs: stats.inferenceMs,
      scoringMs: results.busyMs,
      runs: stats.runs,
    };
  } finally {
    await session.release();
  }
}

/**
 * Scores a group's configurations on one batch: fp32's outputs set as the reference (the scorer scores them
 * once per batch), each configuration's written where the scorer reads them if it offers that. With a scoring
 * worker, scoring one configuration overlaps onnxruntime running the next.
 */
async function scoreGroup(
  batch: Batch,
  ref: Reference,
  group: readonly Configuration[],
  scoring: Scoring | ScoringWorker,
  slot: ReadonlyMap<string, number>,
  run: (batch: Batch, config: Configuration, into?: ort.Tensor) => Promise<ort.Tensor>,
): Promise<void> {
  await scoring.setReference(batch.info, ref.data);
  const buffer = scoring.outputBuffer(ref.data.length);
  const into = buffer && new ort.Tensor('float32', buffer, ref.dims);
  for (const config of group) {
    const out = await run(batch, config, into); // given `into`, onnxruntime writes there (and returns a copy)
    await scoring.score(slot.get(config.id)!, buffer ?? (out.data as Float32Array));
  }
}

const tensorOf = (values: Float32Array, dims: readonly number[]): ort.Tensor => new ort.Tensor('float32', values, dims);

/** The batch size the model fixes (its inputs' first axis), if any. */
function fixedBatch(checked: CheckedEval): number | undefined {
  return checked.inputs
    .map((i) => checked.model.inputs.find((m) => m.name === i.name)?.shape?.[0])
    .find((d) => typeof d === 'number') as number | undefined;
}

/** Batch b: its samples' feeds and labels (a fixed batch size pads with the last sample). */
function batchOf(checked: CheckedEval, b: number, batchSize: number): Batch {
  const chunk = checked.samples.slice(b * batchSize, (b + 1) * batchSize);
  const rows = fixedBatch(checked) ?? chunk.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const { input, buffer } of batchInputs(checked.inputs, chunk, rows))
    feeds[input.name] = new ort.Tensor(input.dtype, buffer, [rows, ...input.dims]);
  const labels = batchLabels(checked.spec.task.type, checked.labelField, chunk);
  return { info: { first: b * batchSize, count: chunk.length, rows, labels }, feeds };
}
