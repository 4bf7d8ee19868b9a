/** Reading metrics against a budget and against the sensitivity thresholds: effects, violations, flags. */
import type { SliceMetrics, TaskKind } from './metrics';
import type { Budget } from './spec';

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

/** The budget a layer's measured effect is held to: the spec's budget, else the thresholds. */
export function layerBudget(budget: Budget, t: Thresholds): Budget {
  const set = Object.values(budget).some((v) => v !== undefined);
  return set
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

const pct = (x: number, digits = 1): string => `${x.toFixed(digits)}%`;

/** "-6.1% accuracy", "+12.3% perplexity", "KL 0.21" for a violation. */
export function describeViolation(v: Violation): string {
  switch (v.metric) {
    case 'accuracyDrop':
      return `${v.value >= 0 ? '-' : '+'}${pct(Math.abs(v.value))} accuracy`;
    case 'perplexityIncrease':
      return `+${pct(v.value)} perplexity`;
    case 'mseIncrease':
      return `+${pct(v.value)} MSE`;
    default:
      return `KL ${v.value.toPrecision(3)}`;
  }
}
