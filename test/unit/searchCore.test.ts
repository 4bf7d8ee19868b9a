/** The plan search's pure parts: the Pareto front against brute force, and sequential looks against full data. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cheapestPassing, dominates, paretoFront, type FrontPoint } from '../../src/core/search/pareto';
import {
  finalVerdict,
  lookSchedule,
  meanRange,
  normalQuantile,
  Z_95,
  type RunningMean,
} from '../../src/core/search/sequential';
import { limitVerdict } from '../../src/core/eval/verdict';
import { mulberry32 } from '../../src/core/random';

/** The front by definition, O(n^2): points no other point dominates, by cost then worst then input order. */
function bruteFront<P extends FrontPoint>(points: readonly P[]): P[] {
  return points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !Number.isNaN(p.cost) && !Number.isNaN(p.worst))
    .filter(({ p }) => !points.some((q) => !Number.isNaN(q.worst) && dominates(q, p)))
    .sort((a, b) => a.p.cost - b.p.cost || a.p.worst - b.p.worst || a.i - b.i)
    .map(({ p }) => p);
}

describe('Pareto front of cost against worst-slice change', () => {
  it('equals the definition on 500 random point sets with ties', () => {
    const random = mulberry32(21);
    for (let round = 0; round < 500; round++) {
      const n = 1 + Math.floor(random() * 40);
      const points = Array.from({ length: n }, (_, id) => ({
        id,
        cost: Math.floor(random() * 10),
        worst: Math.floor(random() * 10) / 2 - 1,
      }));
      assert.deepEqual(paretoFront(points), bruteFront(points), `round ${round}`);
    }
  });

  it('keeps equal plans together, drops NaN, and orders by cost', () => {
    const pts = [
      { id: 'a', cost: 4, worst: 0.1 },
      { id: 'b', cost: 2, worst: 0.5 },
      { id: 'c', cost: 2, worst: 0.5 },
      { id: 'd', cost: 3, worst: 0.6 },
      { id: 'e', cost: 1, worst: NaN },
      { id: 'f', cost: 5, worst: 0.1 },
    ];
    assert.deepEqual(
      paretoFront(pts).map((p) => p.id),
      ['b', 'c', 'a'],
    );
  });

  it('the cheapest passing plan within maxCost', () => {
    const pts = [
      { cost: 10, worst: 0, passes: true },
      { cost: 4, worst: 2, passes: false },
      { cost: 6, worst: 0.5, passes: true },
      { cost: 6, worst: 0.2, passes: true },
    ];
    assert.deepEqual(cheapestPassing(pts), pts[3]);
    assert.equal(cheapestPassing(pts, 5), undefined, 'nothing passing costs 5 or less');
  });
});

describe('sequential looks', () => {
  it('the normal quantile matches Python statistics.NormalDist().inv_cdf to 1e-12', () => {
    // Values printed by python3 -c "from statistics import NormalDist; print(NormalDist().inv_cdf(p))".
    const expected: [number, number][] = [
      [0.975, 1.9599639845400536],
      [1 - 0.05 / 6, 2.3939797998185104],
      [0.995, 2.5758293035489],
      [0.5, 0],
      [1e-10, -6.361340902404056],
      [0.01, -2.3263478740408408],
      [0.3, -0.5244005127080407],
      [0.9999999, 5.199337582290662],
    ];
    for (const [p, z] of expected)
      assert.ok(Math.abs(normalQuantile(p) - z) < 1e-12, `p=${p}: ${normalQuantile(p)} vs ${z}`);
    assert.equal(normalQuantile(0), -Infinity);
    assert.ok(Number.isNaN(normalQuantile(1.5)));
  });

  it('looks fall on whole batches, growing by 1.1 (at least a batch); alpha is split in proportion to samples', () => {
    const s = lookSchedule(1000, { batch: 64, first: 32, alpha: 0.05 });
    assert.deepEqual(s.looks, [64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 832, 960, 1000]);
    const early = s.looks.slice(0, -1);
    const sum = early.reduce((a, n) => a + n, 0);
    assert.equal(s.lookAlphas.length, early.length);
    early.forEach((n, j) => assert.ok(Math.abs(s.lookAlphas[j] - (0.05 * n) / sum) < 1e-15));
    assert.ok(Math.abs(s.lookAlphas.reduce((a, x) => a + x, 0) - 0.05) < 1e-15, 'the early looks spend alpha');
    assert.deepEqual(lookSchedule(1000, { batch: 300, growth: 2 }).looks, [300, 600, 1000]);
    assert.deepEqual(lookSchedule(50, { first: 64 }).looks, [50], 'fewer samples than the first look: one look');
    assert.deepEqual(lookSchedule(50, { first: 64 }).lookAlphas, []);
  });

  it('the last look is the full-data verdict (the same 95% interval as metrics.ts)', () => {
    const m: RunningMean = { n: 400, sum: -12, sumSq: 30 };
    const r = meanRange(m, Z_95, 100);
    assert.equal(finalVerdict(m, 2, 100), limitVerdict(r, 2));
    assert.ok(Math.abs(r.value - -3) < 1e-12);
  });
});
