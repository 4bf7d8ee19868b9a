/**
 * Reading a whole plan's per-slice metrics against the budget, at an early look or on the full data. The full
 * data is read exactly as an evaluation reads it (verdict.ts readSlice: slices below minSliceSize never decide;
 * `pass` or `noise` passes, i.e. a limit breaks only when the full 95% interval's LOW end is over it). An early
 * look predicts that full-data verdict: the samples are fed in a random order, so a prefix is a uniform random
 * sample without replacement of each finite slice. A look stops when every deciding slice's full verdict is sure
 * not to be `violated` on every limit (`inside`), or one is sure to be (`outside`). Accuracy is bounded exactly
 * (hypergeometric bounds on the full counts of flips, the verdict computed at their worst case); continuous
 * effects (KL, perplexity, MSE) by normal theory (Student's t), as metrics.ts's intervals are normal. For a given population
 * the full verdict is fixed, so only one direction can be wrong: each (slice, limit) test at a look errs with
 * probability at most its share of alpha, and a plan's early stop contradicts its full-data pass/fail with
 * probability at most the sum of the shares (the look schedule's alpha).
 */
import { meanEstimate, type SliceMetrics, type TaskKind } from '../eval/metrics';
import type { Budget } from '../eval/spec';
import {
  effectOf,
  effectRanges,
  overLimit,
  primaryEffect,
  limitVerdict,
  readSlice,
  type Verdict,
} from '../eval/verdict';
import { fisherUpper, markedLower, markedSequence, markedUpper, studentUpper } from './finiteBounds';
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

/** Early decisions on continuous effects (Student's t bounds) need at least this many samples of a slice. */
export const EARLY_MIN_SAMPLES = 10;

/** The slices that decide: at least `minSliceSize` samples on the full data. */
export const decidingSlices = <S extends { fullSize: number }>(slices: readonly S[], minSliceSize: number): S[] =>
  slices.filter((s) => s.fullSize >= minSliceSize);

/** The number of (deciding slice, limit) pairs an early look tests (its Bonferroni factor). */
export function testedPairs(fullSizes: readonly number[], budget: Budget, minSliceSize: number): number {
  const limits = LIMIT_KEYS.filter((k) => budget[k] !== undefined).length;
  return Math.max(1, fullSizes.filter((n) => n >= minSliceSize).length * limits);
}

/**
 * Accuracy on a slice of `full` samples: what its prefix's flips (fp32 right -> variant wrong: `a`; wrong ->
 * right: `b`) say of the full verdict. The full counts A, B are bounded exactly (hypergeometric bounds of a
 * random sample without replacement), and the full verdict is computed as metrics.ts and verdict.ts compute it at
 * the worst case of the bounds: `inside` when even A at its upper bound (a time-uniform confidence sequence at the
 * plan's alpha: it holds at every look at once) with B at b keeps the 95%
 * interval's low end within the limit, `outside` when even A at its lower bound with B at its upper (alpha.outside
 * / 2 each) puts it over.
 */
export function accuracyDecision(m: SliceMetrics, full: number, limit: number, alpha: PairAlpha): LookDecision {
  const c = m.accuracyChange;
  if (!c || limit < -50) return 'undecided'; // (below -50 points the B-monotony used here is not shown)
  const { n } = m;
  const mean = c.value / 100;
  const variance = n * ((c.high - c.low) / 200 / Z_95) ** 2;
  const flips = Math.round(variance * (n - 1) + n * mean * mean);
  const b = Math.round((flips + n * mean) / 2);
  const a = flips - b;
  const unseen = full - n;
  // The full verdict's low end (accuracy drop, points) for full counts A, B: exactly meanEstimate's arithmetic.
  const low = (A: number, B: number): number => -meanEstimate(full, B - A, A + B, 100).high;
  // It falls as B grows (for B - A < full / 2; beyond, the drop is below -50 points): scan A at B's extreme.
  // Inside: A at its upper bound (the whole inside alpha), B at least the prefix's b (no error spent: with rare
  // flips a lower bound of B is b anyway).
  const bLow = b;
  const aHigh = markedSequence(a, n, full, alpha.plan).upper;
  let inside = true;
  for (let A = a; inside && A <= aHigh && A - a + (bLow - b) <= unseen; A++) inside = !overLimit(low(A, bLow), limit);
  if (inside) return 'inside';
  const bHigh = markedUpper(b, n, full, alpha.outside / 2);
  const aLow = markedLower(a, n, full, alpha.outside / 2);
  for (let A = aLow; A <= a + unseen; A++)
    if (!overLimit(low(A, Math.min(bHigh, b + unseen - (A - a))), limit)) return 'undecided';
  return 'outside';
}

/** Per-sample statistics of a continuous effect in the unit its full verdict is read in (larger is worse). */
export interface SampleStats {
  n: number;
  mean: number;
  sd: number;
  /** The limit in this unit. */
  limit: number;
  /** Whether the full verdict reads the 95% interval's low end (KL is read as a point value). */
  interval: boolean;
  /** Per-sample values are never negative (KL): the prefix's sum alone bounds the full mean from below. */
  nonNegative?: boolean;
}

/** Rebuilds the per-sample mean and sd of an effect from its 95% interval. */
const fromInterval = (low: number, high: number, n: number): { mean: number; sd: number } => ({
  mean: (low + high) / 2,
  sd: n > 0 ? ((high - low) / 2 / Z_95) * Math.sqrt(n) : 0,
});

/** The statistics the full verdict of a continuous `metric` on a slice is computed from. */
function sampleStats(s: SliceSoFar, metric: LimitKey, limit: number): SampleStats | undefined {
  const m = s.metrics;
  const n = m.n;
  if (metric === 'kl') {
    if (m.kl === undefined) return undefined;
    const r = meanRange(s.kl, Z_95);
    return { n, ...fromInterval(r.low, r.high, n), limit, interval: false };
  }
  const r = effectRanges(m)[metric];
  if (!r) return undefined;
  if (metric === 'perplexityIncrease') {
    // The verdict reads exp(d) - 1 of the per-window mean NLL difference d: work on d, the limit as log1p.
    const d = fromInterval(Math.log1p(r.low / 100), Math.log1p(r.high / 100), n);
    return { n, ...d, limit: Math.log1p(limit / 100), interval: true };
  }
  // MSE: the verdict reads the change over the FULL set's fp32 MSE, unknown here but at least the prefix's sum of
  // squared errors over the full count (squares are never negative). Worked in absolute units against the limit
  // at that smallest fp32 MSE, the result can only be `inside` (the full fp32 MSE has no upper bound).
  if (!m.mseChange || !(m.refMse! > 0) || limit < 0) return undefined;
  const refLow = (m.refMse! * n) / s.fullSize;
  return { n, ...fromInterval(m.mseChange.low, m.mseChange.high, n), limit: (limit / 100) * refLow, interval: true };
}

/**
 * What a prefix of `n` of a slice's `full` samples says of the slice's FULL-DATA verdict on a continuous effect
 * (normal theory: Student's t for means, Fisher's F for the unseen part's variance; metrics.ts's intervals are
 * normal too). The full verdict is `violated` when the full mean's 95% interval's low end is over the limit.
 * `inside`: the full mean's one-sided upper bound (t for alpha.inside, with the finite-population correction)
 * minus the full interval's half width at the smallest full sd the prefix allows (no error: the full set's squared
 * deviations include the prefix's) is within the limit. `outside`: the full interval's low end at its smallest
 * (lowestFullLow, alpha.outside) is over; for KL (never negative, read as a point value) the mean's lower bound,
 * or the prefix's KL sum alone over the full count, is over. Each direction errs at most at its alpha.
 */
export function predictVerdict(st: SampleStats, full: number, alpha: PairAlpha): LookDecision {
  const { n } = st;
  if (n < 2 || n >= full) return 'undecided';
  const se = (st.sd / Math.sqrt(n)) * Math.sqrt((full - n) / (full - 1));
  const half = (sd: number): number => (st.interval ? (Z_95 * sd) / Math.sqrt(full) : 0);
  const sdLow = st.sd * Math.sqrt((n - 1) / (full - 1));
  if (!overLimit(st.mean + studentUpper(alpha.inside, n - 1) * se - half(sdLow), st.limit)) return 'inside';
  if (st.nonNegative && !st.interval && overLimit((st.mean * n) / full, st.limit)) return 'outside';
  if (!st.interval)
    return overLimit(st.mean - studentUpper(alpha.outside, n - 1) * se, st.limit) ? 'outside' : 'undecided';
  const lo = lowestFullLow(st, full, alpha.outside);
  return overLimit(lo, st.limit) ? 'outside' : 'undecided';
}

/**
 * The smallest low end of the full 95% interval the prefix allows (normal theory, alpha split in two): the unseen
 * u = full - n values as new draws, their mean at its lower prediction bound m - t s sqrt(1/n + 1/u) and their
 * variance at its upper bound s^2 F(u - 1, n - 1), combined with the prefix's exactly into the full mean and sd.
 */
function lowestFullLow(st: SampleStats, full: number, alpha: number): number {
  const { n, mean, sd } = st;
  const u = full - n;
  const delta = studentUpper(alpha / 2, n - 1) * sd * Math.sqrt(1 / n + 1 / u);
  const restVar = u >= 2 ? sd * sd * fisherUpper(alpha / 2, u - 1, n - 1) : 0;
  const fullVar = ((n - 1) * sd * sd + (u - 1) * restVar + ((n * u) / full) * delta * delta) / (full - 1);
  return (n * mean + u * (mean - delta)) / full - (Z_95 * Math.sqrt(fullVar)) / Math.sqrt(full);
}

/** A slice seen whole: its verdict on one limit is the full data's, no error spent. */
function wholeDecision(s: SliceSoFar, metric: LimitKey, limit: number): LookDecision {
  const r = effectRanges(s.metrics)[metric];
  if (!r) return 'undecided';
  return limitVerdict(r, limit) === 'violated' ? 'outside' : 'inside';
}

/**
 * Error rates a (slice, limit) test may spend: wrongly `inside` and wrongly `outside` at this look, and `plan`,
 * the plan's whole alpha, for accuracy's inside test (a time-uniform confidence sequence: no split over looks).
 */
export interface PairAlpha {
  inside: number;
  outside: number;
  plan: number;
}

/** One (slice, limit) pair at an early look (see earlyLook for what each direction may spend). */
export function pairDecision(s: SliceSoFar, metric: LimitKey, limit: number, alpha: PairAlpha): LookDecision {
  if (s.metrics.n >= s.fullSize) return wholeDecision(s, metric, limit);
  if (metric === 'accuracyDrop') return accuracyDecision(s.metrics, s.fullSize, limit, alpha);
  if (s.metrics.n < Math.min(EARLY_MIN_SAMPLES, s.fullSize)) return 'undecided';
  const st = sampleStats(s, metric, limit);
  const d = st ? predictVerdict({ ...st, nonNegative: metric === 'kl' }, s.fullSize, alpha) : 'undecided';
  return metric === 'mseIncrease' && d === 'outside' ? 'undecided' : d;
}

/**
 * An early look: `outside` when a deciding slice's full-data verdict is sure to be `violated` on a limit, `inside`
 * when no deciding slice's can be, else `undecided`. `alpha` is what this look may spend, `planAlpha` the plan's
 * whole error rate (what accuracy's time-uniform inside test uses at every look). A plan that truly fails has a
 * violated (slice, limit) pair, fixed by the population, and a wrong `inside` needs THAT pair's test to err: the
 * inside tests each get the whole `alpha`. A plan that truly passes is wrongly `outside` when any pair's test
 * errs: the outside tests share `alpha` over the (deciding slice, limit) pairs (a union bound).
 */
export function earlyLook(
  slices: readonly SliceSoFar[],
  budget: Budget,
  minSliceSize: number,
  alpha: number,
  planAlpha = alpha,
): LookDecision {
  const deciding = decidingSlices(slices, minSliceSize);
  const pairs = testedPairs(
    deciding.map((s) => s.fullSize),
    budget,
    0,
  );
  let allInside = true;
  for (const s of deciding) {
    for (const metric of LIMIT_KEYS) {
      const limit = budget[metric];
      if (limit === undefined) continue;
      const decision = pairDecision(s, metric, limit, { inside: alpha, outside: alpha / pairs, plan: planAlpha });
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
