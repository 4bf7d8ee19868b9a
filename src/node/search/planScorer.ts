/**
 * Scoring of one plan's outputs against fp32, batch by batch, into per-slice accumulators that can be read at
 * any look and resumed later (the same SampleScores and SliceAccumulator as an evaluation's Scoring), plus the
 * per-sample KL sums an early look needs for KL's interval (an evaluation reports KL as a point value).
 */
import { LogitScorer } from '../../core/eval/logitScorer';
import {
  scoreSample,
  SliceAccumulator,
  type SampleScore,
  type ScoreOptions,
  type TaskKind,
} from '../../core/eval/metrics';
import type { RunningMean } from '../../core/search/sequential';
import type { SliceSoFar } from '../../core/search/planVerdict';
import type { BatchInfo } from '../eval/scoring';

/** What scoring needs to know of the evaluation. */
export interface PlanScoringSetup {
  task: TaskKind;
  width?: number;
  probabilities?: boolean;
  names: readonly string[];
  /** Slice sizes on the whole set. */
  sizes: readonly number[];
  /** Slices of each sample, in the order the plan search feeds them. */
  sliceOf: readonly (readonly number[])[];
}

/** One plan's accumulators: read with `slices()`, fed with `PlanScorer.score`. */
export class PlanTally {
  readonly accumulators: SliceAccumulator[];
  readonly kl: RunningMean[];
  /** Batches scored so far (in feeding order). */
  batches = 0;
  samples = 0;

  constructor(private readonly setup: PlanScoringSetup) {
    this.accumulators = setup.names.map(() => new SliceAccumulator(setup.task));
    this.kl = setup.names.map(() => ({ n: 0, sum: 0, sumSq: 0 }));
  }

  /** Every slice so far. */
  slices(): SliceSoFar[] {
    return this.setup.names.map((name, k) => ({
      name,
      metrics: this.accumulators[k].result(),
      kl: { ...this.kl[k] },
      fullSize: this.setup.sizes[k],
    }));
  }

  add(sample: number, s: SampleScore): void {
    for (const k of this.setup.sliceOf[sample]) {
      this.accumulators[k].add(s);
      const kl = this.kl[k];
      kl.n++;
      kl.sum += s.kl;
      kl.sumSq += s.kl * s.kl;
    }
  }
}

/** Scores plans' outputs against fp32's, one batch at a time (kernel memory shared by every plan). */
export class PlanScorer {
  private readonly scorer = new LogitScorer();
  private scratch = { p: new Float64Array(1), q: new Float64Array(1) };

  constructor(private readonly setup: PlanScoringSetup) {}

  /** A new plan's accumulators. */
  tally(): PlanTally {
    return new PlanTally(this.setup);
  }

  /** Scores one batch of a plan (`out`) against fp32's (`ref`) into `tally`. */
  score(tally: PlanTally, info: BatchInfo, ref: Float32Array, out: Float32Array): void {
    const { task, width, probabilities } = this.setup;
    const perSample = ref.length / info.rows;
    const positions = task === 'language-model' || task === 'outputs' ? perSample / (width ?? perSample) : 1;
    const options: ScoreOptions = {
      task,
      width: task === 'regression' ? perSample : (width ?? perSample),
      probabilities,
    };
    const each = (r: number, s: SampleScore): void => tally.add(info.first + r, s);
    if (LogitScorer.handles(options)) {
      this.scorer.setReference(ref, info.count, positions, options, info.labels);
      this.scorer.scoreBatch(out, each);
    } else {
      if (this.scratch.p.length < options.width)
        this.scratch = { p: new Float64Array(options.width), q: new Float64Array(options.width) };
      for (let r = 0; r < info.count; r++)
        each(r, scoreSample(out, ref, r * perSample, positions, options, info.labels[r], this.scratch));
    }
    tally.batches++;
    tally.samples += info.count;
  }
}
