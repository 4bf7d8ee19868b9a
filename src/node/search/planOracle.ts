/**
 * The measurement oracle of the plan search: one onnxruntime session (the evaluation's, weights fed as inputs)
 * serving every plan, fp32's outputs of each batch computed once and reused by every plan, quantized weights
 * kept across plans. A plan is measured on a growing sample (looks on whole batches, each about 1.25 x the last,
 * in a seeded random order of the samples) and stopped early when it is clearly inside or clearly outside the budget
 * (core/search/planVerdict.ts); without sequential testing, or when no look decides, on the whole set, read
 * exactly as an evaluation reads it. A measured plan can be completed on the whole set later (its accumulators
 * are kept), so the chosen plan's per-slice table is always the full data's.
 */
import type * as ortTypes from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { weightKey } from '../../core/eval/runGroups';
import type { Budget } from '../../core/eval/spec';
import { lookSchedule, type LookSchedule } from '../../core/search/sequential';
import { earlyLook, fullReading, type FullReading, type SliceSoFar } from '../../core/search/planVerdict';
import type { CheckedEval } from '../eval/evalCheck';
import { WeightCache, type EvalWeight } from '../eval/evalModel';
import { batchOf, createSession, fixedBatch, type Batch } from '../eval/evalRun';
import { PlanScorer, type PlanTally } from './planScorer';
import type { SearchActivations } from './searchActivations';

/** How the oracle measures. */
export interface OracleOptions {
  /** Stop early per the look schedule (default true); false: every plan on the whole set. */
  sequential?: boolean;
  /** Overall error rate of early stops per plan (default 0.05), split over looks and (slice, limit) pairs. */
  alpha?: number;
  /** Samples of the first look (default 32, rounded up to a whole batch). */
  firstLook?: number;
  threads?: number;
  signal?: AbortSignal;
  /** Called after every inference run. */
  onRun?: (runs: number) => void;
  /** Activation candidates: their weight schemes, calibrated sites and QDQ session (searchActivations.ts). */
  activations?: SearchActivations;
}

/** What measuring a plan says. */
export interface PlanMeasure {
  slices: SliceSoFar[];
  samples: number;
  /**
   * `inside`/`outside`: stopped early at that look; `full`: read on the whole set; `estimate`: measured on the
   * first look only, to place it on the front (its `passes` is that sample's point reading, not a decision).
   */
  decision: 'inside' | 'outside' | 'full' | 'estimate';
  passes: boolean;
  withinNoise: boolean;
  /** Full-data verdicts (only when `decision` is full). */
  reading?: FullReading;
  /** Inference runs this call used. */
  runs: number;
}

interface PlanState {
  quantized: ReadonlyMap<string, string>;
  /** Routing: samples of slice `slice` served by `special` (the rest by `quantized`). */
  route?: { slice: number; special: ReadonlyMap<string, string> };
  tally: PlanTally;
  last?: PlanMeasure;
}

const KEEP_BYTES = 256 * 2 ** 20;

/** One session measuring plans (see the file comment). Close it with `close()`. */
export class PlanOracle {
  /** Inference runs so far (fp32's included). */
  runs = 0;
  /** Of those, fp32's (the reference outputs, computed once per batch and shared by every plan). */
  referenceRuns = 0;
  readonly schedule: LookSchedule;
  readonly total: number;
  private readonly order: CheckedEval;
  private readonly scorer: PlanScorer;
  private readonly weights: Map<string, EvalWeight>;
  private readonly floatFeeds: Record<string, ortTypes.Tensor>;
  private readonly cache: WeightCache;
  private readonly keepAllWeights: boolean;
  private readonly batchSize: number;
  private readonly refs: (Float32Array | undefined)[] = [];
  private readonly batches: (Batch | undefined)[] = [];
  private keptBytes = 0;
  private readonly plans = new Map<string, PlanState>();

  private constructor(
    private readonly checked: CheckedEval,
    private readonly session: ortTypes.InferenceSession,
    private readonly budget: Budget,
    private readonly minSliceSize: number,
    candidates: number,
    private readonly options: OracleOptions,
  ) {
    this.order = shuffled(checked);
    const task = checked.spec.task.type;
    const { width, outSize } = checked.out;
    this.scorer = new PlanScorer({
      task,
      width: task === 'regression' ? (outSize ?? 1) : width,
      probabilities: checked.spec.task.probabilities,
      names: checked.slices.names,
      sizes: checked.slices.sizes,
      sliceOf: this.order.slices.of,
    });
    const ws = checked.model.weights;
    this.weights = new Map(ws.map((w) => [w.name, w]));
    this.floatFeeds = Object.fromEntries(ws.map((w) => [w.name, new ort.Tensor('float32', w.values, w.dims)]));
    const floatBytes = ws.reduce((sum, w) => sum + w.values.byteLength, 0);
    this.keepAllWeights = floatBytes * candidates <= KEEP_BYTES;
    this.cache = new WeightCache(this.keepAllWeights ? floatBytes * candidates : floatBytes);
    this.batchSize = fixedBatch(checked) ?? checked.spec.batchSize;
    this.total = checked.samples.length;
    this.schedule =
      options.sequential === false
        ? lookSchedule(this.total, { first: this.total })
        : lookSchedule(this.total, {
            alpha: options.alpha ?? 0.05,
            first: options.firstLook ?? 32,
            batch: this.batchSize,
          });
  }

  /** Opens the session of a checked evaluation. */
  static async open(
    checked: CheckedEval,
    budget: Budget,
    minSliceSize: number,
    candidates: number,
    options: OracleOptions = {},
  ): Promise<PlanOracle> {
    const session = await createSession(checked, { threads: options.threads });
    return new PlanOracle(checked, session, budget, minSliceSize, candidates, options);
  }

  /** The last measurement of a plan (undefined when never measured). */
  measured(key: string): PlanMeasure | undefined {
    const last = this.plans.get(key)?.last;
    return last && { ...last, runs: 0 };
  }

  /** Batches of the whole set. */
  get batchCount(): number {
    return Math.ceil(this.total / this.batchSize);
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.options.activations?.release();
  }

  /** Measures a plan (weight -> scheme; weights not listed as stored), sequentially unless asked otherwise. */
  async measure(
    key: string,
    quantized: ReadonlyMap<string, string>,
    need: 'decide' | 'estimate' = 'decide',
  ): Promise<PlanMeasure> {
    const state = this.state(key, quantized);
    if (state.last) return { ...state.last, runs: 0 };
    const before = this.runs;
    const { looks, lookAlphas, alpha } = this.schedule;
    if (need === 'estimate' && looks.length > 1) {
      await this.runUntil(state, looks[0]);
      const slices = state.tally.slices();
      const early = earlyLook(slices, this.budget, this.minSliceSize, lookAlphas[0], alpha);
      const reading = fullReading(slices, this.budget, this.minSliceSize);
      const decision = early === 'undecided' ? 'estimate' : early;
      const passes = early === 'undecided' ? reading.passes : early === 'inside';
      state.last = { slices, samples: state.tally.samples, decision, passes, withinNoise: false, runs: 0 };
      return { ...state.last, runs: this.runs - before };
    }
    for (let i = 0; i < looks.length - 1; i++) {
      await this.runUntil(state, looks[i]);
      const decision = earlyLook(state.tally.slices(), this.budget, this.minSliceSize, lookAlphas[i], alpha);
      if (decision === 'undecided') continue;
      const slices = state.tally.slices();
      const passes = decision === 'inside';
      state.last = { slices, samples: state.tally.samples, decision, passes, withinNoise: false, runs: 0 };
      return { ...state.last, runs: this.runs - before };
    }
    return { ...(await this.complete(key, quantized)), runs: this.runs - before };
  }

  /** The plan on the whole set (resuming where its measurement stopped), read as an evaluation reads it. */
  async complete(key: string, quantized: ReadonlyMap<string, string>): Promise<PlanMeasure> {
    const state = this.state(key, quantized);
    if (state.last?.decision === 'full') return { ...state.last, runs: 0 };
    const before = this.runs;
    await this.runUntil(state, this.total);
    const slices = state.tally.slices();
    const reading = fullReading(slices, this.budget, this.minSliceSize);
    const { passes, withinNoise } = reading;
    state.last = { slices, samples: state.tally.samples, decision: 'full', passes, withinNoise, reading, runs: 0 };
    return { ...state.last, runs: this.runs - before };
  }

  /**
   * Routing measured on the whole set: the samples of `slice` served by `special`, every other sample by `rest`
   * (both run on every batch; each sample scored on the output of the model that serves it).
   */
  async measureRouted(
    slice: string,
    special: ReadonlyMap<string, string>,
    rest: ReadonlyMap<string, string>,
  ): Promise<PlanMeasure> {
    const k = this.checked.slices.names.indexOf(slice);
    const key = `route\u0000${slice}\u0000${[...special].join()}\u0000${[...rest].join()}`;
    this.state(key, rest, { slice: k, special });
    return this.complete(key, rest);
  }

  private state(key: string, quantized: ReadonlyMap<string, string>, route?: PlanState['route']): PlanState {
    let state = this.plans.get(key);
    if (!state) {
      state = { quantized: new Map(quantized), tally: this.scorer.tally(), ...(route ? { route } : {}) };
      this.plans.set(key, state);
    }
    return state;
  }

  /** Runs the plan's next batches until it has seen `samples` samples. */
  private async runUntil(state: PlanState, samples: number): Promise<void> {
    if (!this.keepAllWeights) {
      const all = [...this.weightsOf(state.quantized), ...this.weightsOf(state.route?.special ?? new Map())];
      this.cache.retain(new Set(all.map(([w, s]) => weightKey(w, s))));
    }
    while (state.tally.samples < Math.min(samples, this.total)) {
      const b = state.tally.batches;
      const batch = this.batch(b);
      const ref = await this.reference(b, batch);
      // A plan quantizing nothing is fp32 itself: its outputs are the reference's, no run of its own.
      const out = state.quantized.size === 0 ? ref.slice() : await this.run(batch, state.quantized);
      if (state.route) await this.routeInto(out, batch, state.route);
      this.scorer.score(state.tally, batch.info, ref, out);
    }
  }

  /** Replaces the rows of the routed slice's samples in `out` by the special plan's outputs. */
  private async routeInto(out: Float32Array, batch: Batch, route: NonNullable<PlanState['route']>): Promise<void> {
    const { first, count, rows } = batch.info;
    const of = this.order.slices.of;
    const rowsOf = Array.from({ length: count }, (_, r) => r).filter((r) => of[first + r].includes(route.slice));
    if (rowsOf.length === 0) return;
    const special = await this.run(batch, route.special);
    const per = out.length / rows;
    for (const r of rowsOf) out.set(special.subarray(r * per, (r + 1) * per), r * per);
  }

  private batch(b: number): Batch {
    const kept = this.batches[b];
    if (kept) return kept;
    const batch = batchOf(this.order, b, this.batchSize);
    const bytes = Object.values(batch.feeds).reduce((sum, t) => sum + 4 * t.size, 0);
    if (this.keptBytes + bytes <= KEEP_BYTES) {
      this.batches[b] = batch;
      this.keptBytes += bytes;
    }
    return batch;
  }

  /** fp32's outputs of batch b, computed once while they fit. */
  private async reference(b: number, batch: Batch): Promise<Float32Array> {
    const kept = this.refs[b];
    if (kept) return kept;
    const ref = await this.run(batch, new Map<string, string>());
    this.referenceRuns++;
    if (this.keptBytes + ref.byteLength <= KEEP_BYTES) {
      this.refs[b] = ref;
      this.keptBytes += ref.byteLength;
    }
    return ref;
  }

  /** Weight -> weight scheme of an assignment (an activation candidate's weight part). */
  private weightsOf(quantized: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
    return this.options.activations?.configOf(quantized).quantized ?? quantized;
  }

  private async run(batch: Batch, quantized: ReadonlyMap<string, string>): Promise<Float32Array> {
    this.options.signal?.throwIfAborted();
    const feeds = { ...batch.feeds, ...this.floatFeeds };
    const config = this.options.activations?.configOf(quantized);
    for (const [name, scheme] of config?.quantized ?? quantized) {
      const w = this.weights.get(name)!;
      if (scheme !== KEEP_FLOAT) feeds[name] = new ort.Tensor('float32', this.cache.get(w, scheme), w.dims);
    }
    const output = this.checked.out.output.name;
    const out = config?.activations
      ? await this.options.activations!.run(feeds, config, output)
      : await this.session.run(feeds, [output]);
    this.runs++;
    this.options.onRun?.(this.runs);
    return out[output].data as Float32Array;
  }
}

/** The checked evaluation with its samples in a seeded random order (a prefix is then a random sample). */
function shuffled(checked: CheckedEval): CheckedEval {
  const n = checked.samples.length;
  const perm = Array.from({ length: n }, (_, i) => i);
  let seed = (checked.spec.seed ^ 0x9e3779b9) >>> 0;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const slices = { ...checked.slices, of: perm.map((i) => checked.slices.of[i]) };
  return { ...checked, samples: perm.map((i) => checked.samples[i]), slices };
}
