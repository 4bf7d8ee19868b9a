/**
 * Sequential testing for the plan search: a configuration is measured on a growing sample (looks at doubling
 * sample counts) and stopped early when it is clearly inside or clearly outside a limit. Each early look uses a
 * stricter two-sided interval (Bonferroni over the early looks), so the chance that any early stop contradicts
 * what the limit says about the true effect is at most `alpha`. The last look is the full data, read with the
 * same 95% rule as a full evaluation (verdict.ts), so a configuration that never stops early gets exactly the
 * verdict it would get without sequential testing.
 */
import { limitVerdict, type EffectRange, type Verdict } from '../eval/verdict';

/** Two-sided 95% z, as metrics.ts uses for every CI. */
export const Z_95 = 1.959963984540054;

/** When to look and how strictly. */
export interface LookSchedule {
  /** Sample counts of the looks, increasing; the last is the whole set. */
  looks: number[];
  /** The error rate each early look may spend (alpha split over the early looks in proportion to their samples). */
  lookAlphas: number[];
  /** The overall error rate of early stops. */
  alpha: number;
}

/** A running mean of per-sample paired differences (e.g. correct(variant) - correct(fp32), in points). */
export interface RunningMean {
  n: number;
  sum: number;
  sumSq: number;
}

/**
 * The inverse of the standard normal CDF (Acklam's rational approximation refined by one Halley step: relative
 * error below 1e-15 on (0, 1)).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p > 0.5) return -normalQuantile(1 - p); // the upper tail by symmetry: 1 - p is exact there, the CDF is not
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/**
 * The complementary error function to double precision: the Maclaurin series of erf below 0.5, Lentz's
 * continued fraction above (the Halley step of normalQuantile needs more than the usual 1e-7 approximations).
 */
function erfc(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 0.5) {
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 60; k++) {
      term *= (-ax * ax) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Lentz's continued fraction for erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))).
    let f = ax;
    let c = ax;
    let d = 0;
    for (let k = 1; k < 300; k++) {
      const an = k / 2;
      d = ax + an * d;
      d = d === 0 ? 1e-300 : 1 / d;
      c = ax + an / c;
      if (c === 0) c = 1e-300;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? 2 - r : r;
}

/** How looks are placed: the first at `first` samples, then growing by `growth`, on batch boundaries. */
export interface LookOptions {
  /** Overall error rate of the early looks (default 0.05), split over them in proportion to their samples. */
  alpha?: number;
  /** Samples of the first look (default 32, rounded up to a whole batch). */
  first?: number;
  /** Samples per inference run: looks fall on whole batches, so no run is wasted (default 1). */
  batch?: number;
  /** Each look has at least this many times the previous look's batches (default 1.1), at least one more. */
  growth?: number;
}

/**
 * Looks at `first` samples, then x growth (rounded up to whole batches, at least one batch more), and finally the
 * whole set. Early look j may err with probability alpha x n_j / (sum of the early looks' n): a union bound
 * (Bonferroni with weights) that gives later looks, where a passing plan is settled, more of alpha than the
 * first ones, where only clear failures stop. `total` at most `first`: one look, the full data.
 */
export function lookSchedule(total: number, options: LookOptions = {}): LookSchedule {
  const { alpha = 0.05, first = 32, batch = 1, growth = 1.1 } = options;
  const size = Math.max(1, Math.floor(batch));
  const looks: number[] = [];
  for (let b = Math.max(1, Math.ceil(first / size)); b * size < total; b = Math.max(b + 1, Math.ceil(b * growth)))
    looks.push(b * size);
  looks.push(total);
  const early = looks.slice(0, -1);
  const sum = early.reduce((a, n) => a + n, 0);
  return { looks, lookAlphas: early.map((n) => (alpha * n) / sum), alpha };
}

/** The mean of a running sum with its two-sided interval at `z`, times `scale` (sample variance, as metrics.ts). */
export function meanRange(m: RunningMean, z: number, scale = 1): EffectRange {
  const mean = m.n > 0 ? m.sum / m.n : 0;
  const variance = m.n > 1 ? Math.max(0, (m.sumSq - m.n * mean * mean) / (m.n - 1)) : 0;
  const half = m.n > 0 ? z * Math.sqrt(variance / m.n) : 0;
  return { value: mean * scale, low: (mean - half) * scale, high: (mean + half) * scale };
}

/** What a look says: stop inside, stop outside, or look again (`undecided`). */
export type LookDecision = 'inside' | 'outside' | 'undecided';

/** The last look (the whole set), read as a full evaluation reads it: the 95% interval's verdict. */
export function finalVerdict(m: RunningMean, limit: number, scale = 1): Verdict {
  return limitVerdict(meanRange(m, Z_95, scale), limit);
}
