/**
 * Reading a whole plan's per-slice metrics against the budget, at an early look or on the full data. The full
 * data is read exactly as an evaluation reads it (verdict.ts readSlice: slices below minSliceSize never decide;
 * `pass` or `noise` passes). An early look predicts that full-data verdict: the samples are fed in a random order,
 * so a prefix is a random sample of the finite evaluation set, and the full set's mean lies within the prefix's
 * interval at the look schedule's strict z, narrowed by the finite-population correction. A look stops when every
 * deciding slice's full verdict is sure not to be `violated` on every limit (`inside`), or one is sure to be
 * (`outside`). Accuracy's sd has a floor (one disagreement in n + 1 samples): a prefix without a single
 * disagreement proves nothing by a zero-width interval.
 */
import type { SliceMetrics, TaskKind } from '../eval/metrics';
import type { Budget } from '../eval/spec';
import {
  effectOf,
  effectRanges,
  overLimit,
  primaryEffect,
  readSlice,
  type EffectRange,
  type Verdict,
} from '../eval/verdict';
import { meanRange, Z_95, type LookDecision, type RunningMean } from './sequential';

/** One slice of a plan measured so far: its metrics, the per-sample KL sums, and its size on the full data. */
export interface SliceSoFar {
  name: string;
  metrics: SliceMetrics;
  kl: RunningMean;
  /** Samples of the slice in the whole evaluation set (what decides whether it decides). */
  fullSize: number;
}

/** Budget limits the search reads (minSliceSize is not one). */
export const LIMIT_KEYS = ['accuracyDrop', 'kl', 'perplexityIncrease', 'mseIncrease'] as const;
type LimitKey = (typeof LIMIT_KEYS)[number];

/** Early decisions need at least this many samples of a slice. */
export const EARLY_MIN_SAMPLES = 30;

/** The slices that decide: at least `minSliceSize` samples on the full data. */
export const decidingSlices = <S extends { fullSize: number }>(slices: readonly S[], minSliceSize: number): S[] =>
  slices.filter((s) => s.fullSize >= minSliceSize);

/** The number of (deciding slice, limit) pairs an early look tests (its Bonferroni factor). */
export function testedPairs(fullSizes: readonly number[], budget: Budget, minSliceSize: number): number {
  const limits = LIMIT_KEYS.filter((k) => budget[k] !== undefined).length;
  return Math.max(1, fullSizes.filter((n) => n >= minSliceSize).length * limits);
}

/** Per-sample statistics of an effect in the unit its final verdict is read in (larger is worse). */
interface SampleStats {
  n: number;
  mean: number;
  sd: number;
  /** The limit in this unit. */
  limit: number;
  /** Whether the final verdict reads a 95% interval (KL is read as a point value). */
  interval: boolean;
  /** Smallest sd a bounded effect is given (one disagreement in n + 1 samples), so a prefix without any is no proof. */
  sdFloor: number;
}

/** Rebuilds the per-sample mean and sd of an effect from a 95% interval (`value` is the mean unless `mid`). */
const fromInterval = (low: number, high: number, n: number): { mean: number; sd: number } => ({
  mean: (low + high) / 2,
  sd: n > 0 ? ((high - low) / 2 / Z_95) * Math.sqrt(n) : 0,
});

/** The statistics the final verdict of `metric` on a slice is computed from (undefined where it has none). */
function sampleStats(s: SliceSoFar, metric: LimitKey, limit: number): SampleStats | undefined {
  const m = s.metrics;
  const n = m.n;
  if (metric === 'kl') {
    if (m.kl === undefined) return undefined;
    const r = meanRange(s.kl, Z_95);
    return { n, mean: s.kl.n > 0 ? s.kl.sum / s.kl.n : 0, ...sdOf(r, n), limit, interval: false, sdFloor: 0 };
  }
  const r = effectRanges(m)[metric];
  if (!r) return undefined;
  if (metric === 'perplexityIncrease') {
    // The verdict reads exp(d) - 1 of the per-window mean NLL difference d: work on d, the limit as log1p.
    const d = fromInterval(Math.log1p(r.low / 100), Math.log1p(r.high / 100), n);
    return { n, ...d, limit: Math.log1p(limit / 100), interval: true, sdFloor: 0 };
  }
  const d = fromInterval(r.low, r.high, n);
  // Accuracy: per-sample differences in {-100, 0, 100} points.
  const p = 1 / (n + 1);
  const sdFloor = metric === 'accuracyDrop' ? 100 * Math.sqrt(p * (1 - p)) : 0;
  return { n, ...d, limit, interval: true, sdFloor };
}

const sdOf = (r: EffectRange, n: number): { sd: number } => ({
  sd: n > 0 ? ((r.high - r.low) / 2 / Z_95) * Math.sqrt(n) : 0,
});

/**
 * What a prefix of `n` of a slice's `full` samples says of the slice's FULL-DATA verdict on one limit: the full
 * set's mean lies within the prefix mean +- z x sd / sqrt(n) x sqrt((full - n) / (full - 1)) (a random prefix of a
 * finite set); `inside` when even its upper end keeps the full verdict from `violated`, `outside` when even its
 * lower end makes it `violated`.
 */
export function predictVerdict(st: SampleStats, full: number, z: number): LookDecision {
  if (st.n >= full) return 'undecided';
  const sd = Math.max(st.sd, st.sdFloor);
  const se = (sd / Math.sqrt(st.n)) * Math.sqrt((full - st.n) / Math.max(1, full - 1));
  const hi = st.mean + z * se;
  const lo = st.mean - z * se;
  // The full set's own interval half-width (its sd estimated by the prefix's).
  const fullHalf = st.interval ? (Z_95 * sd) / Math.sqrt(full) : 0;
  if (!overLimit(hi, st.limit)) return 'inside';
  if (overLimit(lo - fullHalf, st.limit)) return 'outside';
  return 'undecided';
}

/**
 * An early look: `outside` when a deciding slice's full-data verdict is sure to be `violated` on a limit, `inside`
 * when no deciding slice's can be, else `undecided` (also while a deciding slice has fewer than EARLY_MIN_SAMPLES).
 */
export function earlyLook(
  slices: readonly SliceSoFar[],
  budget: Budget,
  minSliceSize: number,
  z: number,
): LookDecision {
  let allInside = true;
  for (const s of decidingSlices(slices, minSliceSize)) {
    if (s.metrics.n < Math.min(EARLY_MIN_SAMPLES, s.fullSize)) {
      allInside = false;
      continue;
    }
    for (const metric of LIMIT_KEYS) {
      const limit = budget[metric];
      if (limit === undefined) continue;
      const st = sampleStats(s, metric, limit);
      const decision = st ? predictVerdict(st, s.fullSize, z) : 'undecided';
      if (decision === 'outside') return 'outside';
      if (decision !== 'inside') allInside = false;
    }
  }
  return allInside ? 'inside' : 'undecided';
}

/** The full data's reading of a plan: per-slice verdicts as an evaluation gives them. */
export interface FullReading {
  verdicts: Record<string, Verdict>;
  passes: boolean;
  withinNoise: boolean;
}

/** Reads every slice as an evaluation does (readSlice with minSliceSize). */
export function fullReading(slices: readonly SliceSoFar[], budget: Budget, minSliceSize: number): FullReading {
  const verdicts: Record<string, Verdict> = {};
  for (const s of slices) verdicts[s.name] = readSlice(s.name, s.metrics, budget, minSliceSize).verdict;
  const values = Object.values(verdicts);
  const passes = !values.includes('violated');
  return { verdicts, passes, withinNoise: passes && values.includes('noise') };
}

/** Per deciding slice, the primary effect (accuracy drop, perplexity or MSE increase; KL otherwise). */
export function sliceEffects(
  slices: readonly SliceSoFar[],
  task: TaskKind,
  minSliceSize: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of decidingSlices(slices, minSliceSize)) out[s.name] = primaryEffect(task, effectOf(s.metrics));
  return out;
}
