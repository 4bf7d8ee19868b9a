/** Reading metrics against a budget and against the sensitivity thresholds: effects, violations, flags. */
import type { SliceMetrics, TaskKind } from './metrics';
import type { Budget } from './spec';
import { klText } from './describe';

/** Thresholds above which a layer is flagged as sensitive (settings `quantlens.sensitivity.*`). */
export interface Thresholds {
  /** Accuracy drop, percentage points. */
  accuracyDrop: number;
  /** Mean KL(fp32 || variant), nats. */
  kl: number;
  /** Perplexity (language models) or MSE (regression) increase, percent. */
  increase: number;
  /** Slices with fewer samples are not used for flags (too noisy). */
  minSliceSize: number;
}

/** Defaults of the thresholds. */
export const DEFAULT_THRESHOLDS: Thresholds = { accuracyDrop: 1, kl: 0.05, increase: 5, minSliceSize: 20 };

/** The effect of a variant on one slice, as the budget and thresholds read it. */
export interface Effect {
  /** Accuracy drop in percentage points (classification). */
  accuracyDrop?: number;
  /** Perplexity increase in percent (language models). */
  perplexityIncrease?: number;
  /** MSE increase in percent (regression). */
  mseIncrease?: number;
  kl?: number;
}

/** The effect read from a slice's metrics. */
export function effectOf(m: SliceMetrics): Effect {
  const e: Effect = {};
  if (m.accuracyChange) e.accuracyDrop = -m.accuracyChange.value;
  if (m.perplexityChange) e.perplexityIncrease = m.perplexityChange.value;
  if (m.mseChange && m.refMse !== undefined)
    e.mseIncrease = m.refMse > 0 ? (m.mseChange.value / m.refMse) * 100 : m.mseChange.value > 0 ? Infinity : 0;
  if (m.kl !== undefined) e.kl = m.kl;
  return e;
}

/** The main number of an effect for ranking: accuracy drop, perplexity or MSE increase, else KL. */
export function primaryEffect(task: TaskKind, e: Effect): number {
  switch (task) {
    case 'classification':
      return e.accuracyDrop ?? 0;
    case 'language-model':
      return e.perplexityIncrease ?? 0;
    case 'regression':
      return e.mseIncrease ?? 0;
    default:
      return e.kl ?? 0;
  }
}

/** One limit exceeded on one slice. */
export interface Violation {
  slice: string;
  metric: 'accuracyDrop' | 'kl' | 'perplexityIncrease' | 'mseIncrease';
  value: number;
  limit: number;
}

/** Budget limits a slice's metrics exceed. */
export function budgetViolations(slice: string, m: SliceMetrics, budget: Budget): Violation[] {
  const e = effectOf(m);
  const out: Violation[] = [];
  const check = (metric: Violation['metric'], value: number | undefined, limit: number | undefined): void => {
    if (value !== undefined && limit !== undefined && value > limit) out.push({ slice, metric, value, limit });
  };
  check('accuracyDrop', e.accuracyDrop, budget.accuracyDrop);
  check('kl', e.kl, budget.kl);
  check('perplexityIncrease', e.perplexityIncrease, budget.perplexityIncrease);
  check('mseIncrease', e.mseIncrease, budget.mseIncrease);
  return out;
}

/** What a (variant, slice) reading says against a budget: `violated` only when the whole 95% CI is over it. */
export type Verdict = 'pass' | 'noise' | 'violated';

/** An effect with its 95% CI, oriented so that larger is worse (a metric without a CI has low = high = value). */
export interface EffectRange {
  value: number;
  low: number;
  high: number;
}

type LimitMetric = Violation['metric'];
const LIMITS: readonly LimitMetric[] = ['accuracyDrop', 'kl', 'perplexityIncrease', 'mseIncrease'];

/** The effects of a slice's metrics with their CIs (KL has none: its point value). */
export function effectRanges(m: SliceMetrics): Partial<Record<LimitMetric, EffectRange>> {
  const out: Partial<Record<LimitMetric, EffectRange>> = {};
  const c = m.accuracyChange;
  if (c) out.accuracyDrop = { value: -c.value, low: -c.high, high: -c.low };
  if (m.perplexityChange) out.perplexityIncrease = { ...m.perplexityChange };
  if (m.mseChange && m.refMse !== undefined) {
    const value = effectOf(m).mseIncrease!;
    out.mseIncrease =
      m.refMse > 0
        ? { value, low: (m.mseChange.low / m.refMse) * 100, high: (m.mseChange.high / m.refMse) * 100 }
        : { value, low: value, high: value };
  }
  if (m.kl !== undefined) out.kl = { value: m.kl, low: m.kl, high: m.kl };
  return out;
}

/** x is over the limit by more than float noise (a value equal to the limit, up to rounding, is within it). */
export const overLimit = (x: number, limit: number): boolean => x > limit + 1e-9 * Math.max(1, Math.abs(limit));

/**
 * One effect against one limit: `violated` when the whole CI is over it (low > limit), `pass` when the whole CI
 * is within it (high <= limit, touching the limit is within), `noise` when the CI includes the limit.
 */
export function limitVerdict(r: EffectRange, limit: number): Verdict {
  if (overLimit(r.low, limit)) return 'violated';
  return overLimit(r.high, limit) ? 'noise' : 'pass';
}

const RANK: Record<Verdict, number> = { pass: 0, noise: 1, violated: 2 };

/** The worse of verdicts (pass when there are none). */
export const worstVerdict = (verdicts: readonly Verdict[]): Verdict =>
  verdicts.reduce<Verdict>((w, v) => (RANK[v] > RANK[w] ? v : w), 'pass');

/** A slice read against a budget: its verdict, the limits it violates (CI over) and those within noise. */
export interface SliceReading {
  verdict: Verdict;
  violations: Violation[];
  noise: Violation[];
}

/**
 * Reads one slice against a budget. A slice of fewer than `minSliceSize` samples never decides: what would be a
 * violation is `noise` there.
 */
export function readSlice(slice: string, m: SliceMetrics, budget: Budget, minSliceSize = 0): SliceReading {
  const ranges = effectRanges(m);
  const reading: SliceReading = { verdict: 'pass', violations: [], noise: [] };
  for (const metric of LIMITS) {
    const r = ranges[metric];
    const limit = budget[metric];
    if (!r || limit === undefined) continue;
    let v = limitVerdict(r, limit);
    if (v === 'violated' && m.n < minSliceSize) v = 'noise';
    if (v === 'pass') continue;
    (v === 'violated' ? reading.violations : reading.noise).push({ slice, metric, value: r.value, limit });
    reading.verdict = worstVerdict([reading.verdict, v]);
  }
  return reading;
}

/**
 * Samples a slice would need for its CI to exclude `limit`, if the effect and its spread stayed as measured
 * (the half-width shrinks as 1 / sqrt(n)); undefined when the point value is within the limit.
 */
export function samplesNeeded(r: EffectRange, limit: number, n: number): number | undefined {
  const gap = Math.abs(r.value - limit);
  const half = (r.high - r.low) / 2;
  if (!overLimit(r.value, limit) || !(gap > 0) || !Number.isFinite(half)) return undefined;
  return Math.max(n + 1, Math.ceil(n * (half / gap) ** 2));
}

/** Whether a budget sets any limit (minSliceSize alone is not a limit). */
export const hasLimits = (budget: Budget): boolean => LIMITS.some((k) => budget[k] !== undefined);

/** The thresholds with the spec's `budget.minSliceSize` (when set) replacing the setting's. */
export const withSpecMinSliceSize = (t: Thresholds, budget: Budget): Thresholds =>
  budget.minSliceSize !== undefined ? { ...t, minSliceSize: budget.minSliceSize } : t;

/** The budget a layer's measured effect is held to: the spec's budget, else the thresholds. */
export function layerBudget(budget: Budget, t: Thresholds): Budget {
  return hasLimits(budget)
    ? budget
    : { accuracyDrop: t.accuracyDrop, kl: t.kl, perplexityIncrease: t.increase, mseIncrease: t.increase };
}

/** Thresholds as a budget (what flags a layer). */
export const thresholdBudget = (t: Thresholds): Budget => ({
  accuracyDrop: t.accuracyDrop,
  kl: t.kl,
  perplexityIncrease: t.increase,
  mseIncrease: t.increase,
});

/** x with `digits` decimals, never "-0.0". */
export const fixed = (x: number, digits = 1): string => {
  const t = x.toFixed(digits);
  return Number(t) === 0 ? t.replace(/^-/, '') : t;
};
const pct = (x: number, digits = 1): string => `${fixed(x, digits)}%`;

/** "-6.1 pp accuracy" (percentage points), "+12.3% perplexity", "KL 7.57e-2" (as every KL reads) for a violation. */
export function describeViolation(v: Violation): string {
  switch (v.metric) {
    case 'accuracyDrop':
      return `${v.value > 0 ? '-' : '+'}${fixed(Math.abs(v.value))} pp accuracy`;
    case 'perplexityIncrease':
      return `+${pct(v.value)} perplexity`;
    case 'mseIncrease':
      return `+${pct(v.value)} MSE`;
    default:
      return `KL ${klText(v.value)}`;
  }
}
