/**
 * Exact confidence bounds for a finite population seen through a random sample drawn without replacement: the
 * number K of marked items among N, given k marked among the first n of a uniform random order (X ~
 * Hypergeometric(N, K, n)). The bounds are exact (no normal approximation): P(K > upper) <= alpha and
 * P(K < lower) <= alpha for every N and K. Also Student's t and Fisher's F quantiles (regularized incomplete
 * beta), for the normal-theory bounds of continuous effects.
 */
const lnFact: number[] = [0];

/** ln(m!) (summed once and kept: exact to rounding for the population sizes of an evaluation set). */
export function lnFactorial(m: number): number {
  for (let i = lnFact.length; i <= m; i++) lnFact.push(lnFact[i - 1] + Math.log(i));
  return lnFact[m];
}

const lnChoose = (a: number, b: number): number => lnFactorial(a) - lnFactorial(b) - lnFactorial(a - b);

/** P(X = x) for X ~ Hypergeometric(N, K, n). */
export function hypergeometricPmf(x: number, total: number, marked: number, n: number): number {
  if (x < Math.max(0, n - (total - marked)) || x > Math.min(n, marked)) return 0;
  return Math.exp(lnChoose(marked, x) + lnChoose(total - marked, n - x) - lnChoose(total, n));
}

/** P(X <= k) (`upper` false) or P(X >= k) (`upper` true), summed over the shorter side (1 minus the other tail). */
export function hypergeometricTail(k: number, total: number, marked: number, n: number, upper: boolean): number {
  const lo = Math.max(0, n - (total - marked));
  const hi = Math.min(n, marked);
  const sum = (from: number, to: number): number => {
    let s = 0;
    for (let x = Math.max(from, lo); x <= Math.min(to, hi); x++) s += hypergeometricPmf(x, total, marked, n);
    return s;
  };
  // P(X >= k) = 1 - P(X <= k - 1): sum the side with fewer terms.
  const [from, to] = upper ? [k, hi] : [lo, k];
  const direct = to - from <= (upper ? k - 1 - lo : hi - (k + 1));
  const p = direct ? sum(from, to) : 1 - (upper ? sum(lo, k - 1) : sum(k + 1, hi));
  return Math.min(1, Math.max(0, p));
}

/**
 * The upper confidence bound of K: the largest K with P(X <= k; K) > alpha (at least k, at most k + N - n; the
 * tail falls as K grows, so a bisection finds it). P(true K > bound) <= alpha.
 */
export function markedUpper(k: number, n: number, total: number, alpha: number): number {
  let lo = k; // P(X <= k; K = k) = 1 > alpha
  let hi = k + (total - n);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (hypergeometricTail(k, total, mid, n, false) > alpha) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The lower confidence bound of K: the smallest K with P(X >= k; K) > alpha. P(true K < bound) <= alpha. */
export function markedLower(k: number, n: number, total: number, alpha: number): number {
  let lo = k;
  let hi = k + (total - n); // P(X >= k; K = k + N - n) = 1 > alpha
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (hypergeometricTail(k, total, mid, n, true) > alpha) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: relative error below 1e-14). */
export function lnGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = g[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x)) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = i >> 1;
    const num =
      i === 0
        ? 1
        : i % 2 === 0
          ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
          : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return front * (f - 1);
}

const tCache = new Map<string, number>();

/** The upper-tail quantile of Student's t with `df` degrees of freedom: P(T > t) = p (p < 0.5; bisection). */
export function studentUpper(p: number, df: number): number {
  const key = `${p}/${df}`;
  const kept = tCache.get(key);
  if (kept !== undefined) return kept;
  const tail = (t: number): number => 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  let lo = 0;
  let hi = 1;
  while (tail(hi) > p) hi *= 2;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > p) lo = mid;
    else hi = mid;
  }
  tCache.set(key, hi);
  return hi;
}

const fCache = new Map<string, number>();

/** The upper-tail quantile of Fisher's F with (d1, d2) degrees of freedom: P(F > f) = p (bisection). */
export function fisherUpper(p: number, d1: number, d2: number): number {
  const key = `${p}/${d1}/${d2}`;
  const kept = fCache.get(key);
  if (kept !== undefined) return kept;
  const tail = (f: number): number => incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
  let lo = 0;
  let hi = 1;
  while (tail(hi) > p && hi < 1e12) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > p) lo = mid;
    else hi = mid;
  }
  fCache.set(key, hi);
  return hi;
}

/** ln of the falling factorial m (m - 1) ... (m - j + 1). */
const lnFalling = (m: number, j: number): number => lnFactorial(m) - lnFactorial(m - j);

/**
 * A time-uniform confidence sequence for K (Waudby-Smith and Ramdas, "Confidence sequences for sampling without
 * replacement", 2020: the prior-posterior ratio martingale). After k marked among the first n draws, keep the K
 * whose probability of the draws is more than alpha times the prior mixture's, the prior being 1/((K+1)(K+2))
 * (a fixed choice that favours few marked items, total mass at most 1). For the true K that ratio is a
 * nonnegative martingale of mean at most 1, so by Ville's inequality the true K leaves the sequence at SOME n with
 * probability at most alpha: any number of looks, at any times, share no alpha. The kept K form an interval (the
 * likelihood is unimodal in K).
 */
export function markedSequence(k: number, n: number, total: number, alpha: number): { lower: number; upper: number } {
  const first = k;
  const last = k + (total - n);
  const lp: number[] = [];
  let max = -Infinity;
  for (let K = first; K <= last; K++) {
    const v = lnFalling(K, k) + lnFalling(total - K, n - k) - lnFalling(total, n);
    lp.push(v);
    max = Math.max(max, v - Math.log((K + 1) * (K + 2)));
  }
  let sum = 0;
  for (let i = 0; i < lp.length; i++) sum += Math.exp(lp[i] - Math.log((first + i + 1) * (first + i + 2)) - max);
  const threshold = Math.log(alpha) + max + Math.log(sum);
  let lower = first;
  while (lower < last && !(lp[lower - first] > threshold)) lower++;
  let upper = last;
  while (upper > lower && !(lp[upper - first] > threshold)) upper--;
  return { lower, upper };
}
