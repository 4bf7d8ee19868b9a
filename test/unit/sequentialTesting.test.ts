/**
 * Sequential testing of the plan search (pure core): exact finite-population bounds, the early look's decisions
 * against the full-data verdict, and the stated error rate checked exactly (enumerating every sample outcome) and
 * empirically (many random finite populations fed in random order through the whole look schedule).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meanEstimate, type SliceMetrics } from '../../src/core/eval/metrics';
import { limitVerdict, readSlice } from '../../src/core/eval/verdict';
import { mulberry32 } from '../../src/core/random';
import {
  hypergeometricPmf,
  hypergeometricTail,
  markedLower,
  markedSequence,
  markedUpper,
  studentUpper,
} from '../../src/core/search/finiteBounds';
import {
  accuracyDecision,
  earlyLook,
  fullReading,
  predictVerdict,
  type SliceSoFar,
} from '../../src/core/search/planVerdict';
import { lookSchedule, Z_95 } from '../../src/core/search/sequential';

/** Classification metrics of `n` samples with `a` flips right -> wrong and `b` wrong -> right (as metrics.ts). */
function accuracyMetrics(n: number, a: number, b: number, kl = 0): SliceMetrics {
  return { n, accuracyChange: meanEstimate(n, b - a, a + b, 100), kl, outputSqnrDb: 30, varianceRatio: 1 };
}

const slice = (name: string, n: number, a: number, b: number, fullSize: number, kl = 0): SliceSoFar => ({
  name,
  metrics: accuracyMetrics(n, a, b, kl),
  kl: { n, sum: kl * n, sumSq: kl * kl * n },
  fullSize,
});

/** Whether the full data (A, B flips among N) violates an accuracy-drop limit, exactly as an evaluation reads it. */
const violated = (N: number, A: number, B: number, limit: number): boolean =>
  readSlice('s', accuracyMetrics(N, A, B), { accuracyDrop: limit }).verdict === 'violated';

describe('finite-population bounds', () => {
  it('the hypergeometric pmf sums to 1 and its tails add up', () => {
    for (const [N, K, n] of [
      [30, 7, 12],
      [200, 0, 50],
      [200, 200, 50],
      [57, 20, 56],
    ]) {
      let sum = 0;
      for (let x = 0; x <= n; x++) sum += hypergeometricPmf(x, N, K, n);
      assert.ok(Math.abs(sum - 1) < 1e-12, `${N} ${K} ${n}: ${sum}`);
      for (let k = 0; k <= n; k++) {
        const both = hypergeometricTail(k, N, K, n, false) + hypergeometricTail(k, N, K, n, true);
        assert.ok(Math.abs(both - 1 - hypergeometricPmf(k, N, K, n)) < 1e-12);
      }
    }
  });

  it('the bounds cover the true count with probability at least 1 - alpha, for every population (exact)', () => {
    for (const [N, n] of [
      [30, 10],
      [60, 45],
      [100, 7],
    ])
      for (const alpha of [0.2, 0.01])
        for (let K = 0; K <= N; K++) {
          let over = 0;
          let under = 0;
          for (let x = 0; x <= n; x++) {
            const p = hypergeometricPmf(x, N, K, n);
            if (markedUpper(x, n, N, alpha) < K) over += p;
            if (markedLower(x, n, N, alpha) > K) under += p;
          }
          assert.ok(over <= alpha + 1e-12 && under <= alpha + 1e-12, `N=${N} n=${n} K=${K}: ${over}, ${under}`);
        }
  });

  it('the confidence sequence keeps the true count at EVERY sample size at once, but for alpha (exact, all paths)', () => {
    // Dynamic programming over the draws: the probability of each k after n draws, on paths that never excluded K.
    for (const N of [40, 90])
      for (const alpha of [0.2, 0.05])
        for (let K = 0; K <= N; K += N === 40 ? 1 : 3) {
          let alive = new Float64Array(K + 1);
          alive[0] = 1;
          let left = 0;
          for (let n = 0; n < N; n++) {
            const next = new Float64Array(K + 1);
            for (let k = 0; k <= Math.min(K, n); k++) {
              if (alive[k] === 0) continue;
              const up = (K - k) / (N - n);
              if (k < K) next[k + 1] += alive[k] * up;
              next[k] += alive[k] * (1 - up);
            }
            for (let k = 0; k <= Math.min(K, n + 1); k++) {
              const cs = markedSequence(k, n + 1, N, alpha);
              if (next[k] > 0 && (K < cs.lower || K > cs.upper)) [left, next[k]] = [left + next[k], 0];
            }
            alive = next;
          }
          assert.ok(left <= alpha + 1e-12, `N=${N} K=${K} alpha=${alpha}: ${left}`);
        }
  });

  it("Student's t upper quantiles match scipy.stats.t.isf", () => {
    // python3 -c "from scipy import stats; print(stats.t.isf(0.025, 9), stats.t.isf(1e-4, 9), stats.t.isf(0.05, 1))"
    for (const [p, df, t] of [
      [0.025, 9, 2.2621571627982053],
      [0.025, 30, 2.042272456301238],
      [1e-4, 9, 6.010132129081441],
      [0.05, 1, 6.313751514675044],
    ])
      assert.ok(Math.abs(studentUpper(p, df) - t) < 1e-9 * t, `${p} ${df}: ${studentUpper(p, df)}`);
  });
});

describe('an early look against the full-data verdict', () => {
  const budget = { accuracyDrop: 1 };
  const alpha = { inside: 0.05, outside: 0.05, plan: 0.05 };

  it('reads "inside" as "the full verdict cannot be violated": a passing slice with no flips stops before its end', () => {
    // 200 samples, 1 pp: the full data is violated from 8 right -> wrong flips on (B = 0).
    assert.ok(!violated(200, 7, 0, 1) && violated(200, 8, 0, 1));
    assert.equal(accuracyDecision(accuracyMetrics(40, 0, 0), 200, 1, alpha), 'undecided');
    // P(no flip in the first n | 8 among 200) <= 0.05 from n = 62 on: the earliest an honest stop can come, in a
    // single look. The confidence sequence, valid at every look at once, stops where it excludes 8 flips.
    assert.ok(hypergeometricPmf(0, 200, 8, 62) <= 0.05 && hypergeometricPmf(0, 200, 8, 61) > 0.05);
    let stop = 0;
    while (markedSequence(0, stop, 200, 0.05).upper >= 8) stop++;
    assert.ok(stop >= 62 && stop <= 80, `stops at ${stop}`);
    assert.equal(accuracyDecision(accuracyMetrics(stop - 1, 0, 0), 200, 1, alpha), 'undecided');
    assert.equal(accuracyDecision(accuracyMetrics(stop, 0, 0), 200, 1, alpha), 'inside');
  });

  it('stops outside when even the fewest flips the sample allows break the limit on the full data', () => {
    assert.equal(earlyLook([slice('all', 256, 40, 0, 2000)], budget, 20, 0.05), 'outside');
    assert.equal(earlyLook([slice('all', 256, 4, 0, 2000)], budget, 20, 0.05), 'undecided');
  });

  it('a slice seen whole decides exactly; slices below minSliceSize never decide', () => {
    assert.equal(earlyLook([slice('all', 300, 0, 0, 2000), slice('s', 30, 6, 0, 30)], budget, 20, 0.05), 'outside');
    const small = slice('rare', 10, 5, 0, 10);
    assert.equal(earlyLook([slice('all', 1000, 0, 0, 1000), small], budget, 20, 0.05), 'inside');
    const r = fullReading([slice('all', 1000, 0, 0, 1000), small], budget, 20);
    assert.deepEqual(r.verdicts, { all: 'pass', rare: 'noise' });
    assert.ok(r.passes && r.withinNoise);
  });

  it('MSE: read against the smallest full fp32 MSE the prefix allows; never outside early (no upper bound)', () => {
    const mse = (n: number, change: number, sd: number, full: number): SliceSoFar => {
      const half = (Z_95 * sd) / Math.sqrt(n);
      const mseChange = { value: change, low: change - half, high: change + half };
      const metrics: SliceMetrics = { n, mse: 1 + change, refMse: 1, mseChange, outputSqnrDb: 30, varianceRatio: 1 };
      return { name: 's', metrics, kl: { n, sum: 0, sumSq: 0 }, fullSize: full };
    };
    const budget = { mseIncrease: 5 };
    // 900 of 1000 seen: the full fp32 MSE is at least 0.9, the limit at least 0.045 in absolute units.
    assert.equal(earlyLook([mse(900, 0.01, 0.05, 1000)], budget, 0, 0.05), 'inside');
    assert.equal(earlyLook([mse(900, 0.5, 0.05, 1000)], budget, 0, 0.05), 'undecided');
    assert.equal(earlyLook([mse(1000, 0.5, 0.05, 1000)], budget, 0, 0.05), 'outside', 'the whole slice decides');
  });

  it('a wrong early accuracy decision has probability at most its alpha, for every population (exact enumeration)', () => {
    // Every (a, b) a prefix of n can show, with its multivariate hypergeometric probability.
    const lnC = lnChoose;
    for (const [N, n, limit] of [
      [60, 20, 1],
      [200, 70, 1],
      [200, 150, 2],
      [120, 100, 0.5],
    ])
      for (let A = 0; A <= Math.min(N, 0.02 * limit * N + 14); A++)
        for (let B = 0; B <= 3; B++) {
          const truth = violated(N, A, B, limit);
          let wrong = 0;
          for (let a = 0; a <= Math.min(A, n); a++)
            for (let b = 0; b <= Math.min(B, n - a); b++) {
              const p = Math.exp(lnC(A, a) + lnC(B, b) + lnC(N - A - B, n - a - b) - lnC(N, n));
              const d = accuracyDecision(accuracyMetrics(n, a, b), N, limit, { inside: 0.1, outside: 0.1, plan: 0.1 });
              if ((d === 'inside' && truth) || (d === 'outside' && !truth)) wrong += p;
            }
          assert.ok(wrong <= 0.1 + 1e-9, `N=${N} n=${n} A=${A} B=${B}: ${wrong}`);
        }
  });
});

function lnChoose(m: number, k: number): number {
  if (k < 0 || k > m) return -Infinity;
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((m - k + i) / i);
  return s;
}

/** A language-model slice of per-window NLL differences `d` (the interval as metrics.ts computes it). */
function perplexitySlice(d: readonly number[], fullSize: number): SliceSoFar {
  const e = meanEstimate(
    d.length,
    d.reduce((a, x) => a + x, 0),
    d.reduce((a, x) => a + x * x, 0),
  );
  const perplexityChange = {
    value: Math.expm1(e.value) * 100,
    low: Math.expm1(e.low) * 100,
    high: Math.expm1(e.high) * 100,
  };
  const metrics: SliceMetrics = { n: d.length, perplexityChange, outputSqnrDb: 30, varianceRatio: 1 };
  return { name: 's', metrics, kl: { n: 0, sum: 0, sumSq: 0 }, fullSize };
}

/** A random order of 0..n-1. */
function permutation(n: number, random: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * Runs one finite population through the look schedule: `values(i)` is sample i's per-slice reading, `metrics`
 * builds a slice's metrics from a prefix. Returns the early decision (or 'full') and the full-data pass/fail.
 */
function runPopulation(
  N: number,
  batch: number,
  alpha: number,
  budget: Record<string, number>,
  metricsOf: (idx: readonly number[]) => SliceSoFar,
  random: () => number,
): { decision: string; passes: boolean } {
  const order = permutation(N, random);
  const full = metricsOf(order);
  const passes = fullReading([full], budget, 0).passes;
  const schedule = lookSchedule(N, { alpha, batch, first: batch });
  for (let j = 0; j < schedule.looks.length - 1; j++) {
    const prefix = metricsOf(order.slice(0, schedule.looks[j]));
    const d = earlyLook([{ ...prefix, fullSize: N }], budget, 0, schedule.lookAlphas[j], schedule.alpha);
    if (d !== 'undecided') return { decision: d, passes };
  }
  return { decision: 'full', passes };
}

describe('the stated error rate holds on random finite populations (whole look schedule)', () => {
  const alpha = 0.05;

  it('accuracy: early stops contradict the full data in at most alpha of populations near the limit', () => {
    const random = mulberry32(2113);
    let wrong = 0;
    let early = 0;
    const runs = 3000;
    for (let r = 0; r < runs; r++) {
      const N = 40 + Math.floor(random() * 400);
      // Flip counts around the smallest A the full data reads as violated (B = 0), so both sides occur.
      let star = 0;
      while (!violated(N, star, 0, 1)) star++;
      const A = Math.max(0, star - 4 + Math.floor(random() * 9));
      const B = Math.floor(random() * 3);
      const flip = new Int8Array(N);
      for (let i = 0; i < A; i++) flip[i] = -1;
      for (let i = A; i < A + B; i++) flip[i] = 1;
      const metricsOf = (idx: readonly number[]): SliceSoFar => {
        let a = 0;
        let b = 0;
        for (const i of idx)
          if (flip[i] < 0) a++;
          else if (flip[i] > 0) b++;
        return slice('s', idx.length, a, b, N);
      };
      const { decision, passes } = runPopulation(
        N,
        8 + Math.floor(random() * 24),
        alpha,
        { accuracyDrop: 1 },
        metricsOf,
        random,
      );
      if (decision === 'full') continue;
      early++;
      if ((decision === 'inside') !== passes) wrong++;
    }
    assert.ok(wrong <= alpha * runs, `${wrong} wrong early stops in ${runs} populations`);
    assert.ok(early > runs / 3, `most populations stop early (${early} of ${runs})`);
  });

  it('perplexity and KL (Student t, skewed per-window values): at most alpha near the limit', () => {
    const random = mulberry32(77);
    let wrong = 0;
    let early = 0;
    const runs = 1500;
    const budget = { perplexityIncrease: 2, kl: 0.05 };
    for (let r = 0; r < runs; r++) {
      const N = 30 + Math.floor(random() * 300);
      // Per-window NLL differences: a skewed mix (exponential tails) around a mean near the limit's log.
      const sd = 0.02 + random() * 0.06;
      const mu = Math.log1p(0.02) + (random() - 0.3) * ((3 * sd) / Math.sqrt(N));
      const d = Array.from({ length: N }, () => mu + sd * (-Math.log(1 - random()) - 1));
      const klMean = 0.03 + random() * 0.04;
      const kl = Array.from({ length: N }, () => klMean * -Math.log(1 - random()));
      const metricsOf = (idx: readonly number[]): SliceSoFar => {
        let s = 0;
        let s2 = 0;
        let k = 0;
        let k2 = 0;
        for (const i of idx) [s, s2, k, k2] = [s + d[i], s2 + d[i] * d[i], k + kl[i], k2 + kl[i] * kl[i]];
        const e = meanEstimate(idx.length, s, s2);
        const perplexityChange = {
          value: Math.expm1(e.value) * 100,
          low: Math.expm1(e.low) * 100,
          high: Math.expm1(e.high) * 100,
        };
        const metrics: SliceMetrics = {
          n: idx.length,
          perplexityChange,
          kl: k / idx.length,
          outputSqnrDb: 30,
          varianceRatio: 1,
        };
        return { name: 's', metrics, kl: { n: idx.length, sum: k, sumSq: k2 }, fullSize: N };
      };
      const { decision, passes } = runPopulation(N, 16, alpha, budget, metricsOf, random);
      if (decision === 'full') continue;
      early++;
      if ((decision === 'inside') !== passes) wrong++;
    }
    assert.ok(wrong <= alpha * runs, `${wrong} wrong early stops in ${runs} populations`);
    assert.ok(early > runs / 4, `many populations stop early (${early} of ${runs})`);
  });

  it('perplexity, one look: for fixed populations at the limit, wrong decisions over random orders stay below alpha', () => {
    const random = mulberry32(5);
    const L = Math.log1p(0.02);
    for (const N of [23, 80, 200])
      for (const frac of [0.3, 0.85])
        for (const skewed of [false, true])
          for (const shift of [-1, 1]) {
            const n = Math.max(10, Math.round(frac * N));
            // Normal or exponential (skewed) per-window values, shifted so the full low end is half a standard
            // error on either side of the limit.
            const draw = (): number =>
              skewed
                ? -Math.log(1 - random()) - 1
                : Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
            const base = Array.from({ length: N }, () => 0.05 * draw());
            const m0 = base.reduce((a, b) => a + b, 0) / N;
            const sdN = Math.sqrt(base.reduce((a, b) => a + (b - m0) ** 2, 0) / (N - 1));
            const pop = base.map((v) => v - m0 + L + ((Z_95 + shift / 2) * sdN) / Math.sqrt(N));
            const truth = fullReading([perplexitySlice(pop, N)], { perplexityIncrease: 2 }, 0).passes;
            let wrong = 0;
            const runs = 400;
            for (let r = 0; r < runs; r++) {
              const prefix = permutation(N, random)
                .slice(0, n)
                .map((i) => pop[i]);
              const d = earlyLook([perplexitySlice(prefix, N)], { perplexityIncrease: 2 }, 0, 0.1);
              if ((d === 'inside' && !truth) || (d === 'outside' && truth)) wrong++;
            }
            assert.ok(wrong <= 0.1 * runs, `N=${N} n=${n} ${skewed ? 'skewed' : 'normal'} ${shift}: ${wrong}`);
          }
  });

  it("predictVerdict: inside reads the full interval's low end, bounded with the prefix's own spread", () => {
    // Mean 0.5 of a limit 1 with sd 3 on 100 of 400: the full mean may be up to ~1.2, its low end ~0.9: inside.
    const st = { n: 100, mean: 0.5, sd: 3, limit: 1, interval: true };
    assert.equal(predictVerdict(st, 400, { inside: 0.01, outside: 0.01, plan: 0.01 }), 'inside');
    // Read as a point value (KL) the same numbers settle nothing.
    assert.equal(
      predictVerdict({ ...st, interval: false }, 400, { inside: 0.01, outside: 0.01, plan: 0.01 }),
      'undecided',
    );
    assert.equal(limitVerdict({ value: 1.1, low: 1.1 - Z_95 * 0.15, high: 1.1 + Z_95 * 0.15 }, 1), 'noise');
  });
});
