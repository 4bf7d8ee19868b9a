/** The plan search on synthetic measurements: exhaustive fronts, anchors beaten, slices protected, repair, cancel. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../src/core/random';
import type { Assignment, SearchLayer, SliceEffects } from '../../src/core/search/moves';
import { paretoFront } from '../../src/core/search/pareto';
import { searchPlan, type Measurement } from '../../src/core/search/planSearch';

const SCHEMES = ['fp32', 'int8-channel', 'int4-block32'];
const BYTES: Record<string, number> = { fp32: 4, 'int8-channel': 1, 'int4-block32': 0.5625 };

/** A synthetic model: per layer and scheme, the effect on each slice; optional pairwise interaction. */
interface Problem {
  layers: SearchLayer[];
  effects: Record<string, Record<string, SliceEffects>>;
  slices: string[];
  budget: number;
  /** Extra effect on every slice when both layers are below fp32. */
  interaction?: { a: string; b: string; extra: number };
}

function problem(sizes: number[], effects: Problem['effects'], slices: string[], budget: number): Problem {
  const layers = sizes.map((size, i) => ({
    name: `/blocks.${i}/MatMul`,
    costs: new Map(SCHEMES.map((s) => [s, size * BYTES[s]])),
  }));
  return { layers, effects, slices, budget };
}

function measurer(p: Problem): { measure: (a: Assignment) => Promise<Measurement>; count: () => number } {
  let count = 0;
  const measure = async (a: Assignment): Promise<Measurement> => {
    count++;
    const effects: Record<string, number> = Object.fromEntries(p.slices.map((s) => [s, 0]));
    for (const l of p.layers) {
      const scheme = a.get(l.name) ?? 'fp32';
      for (const s of p.slices) effects[s] += p.effects[l.name]?.[scheme]?.[s] ?? 0;
    }
    const i = p.interaction;
    if (i && a.get(i.a) !== 'fp32' && a.get(i.b) !== 'fp32') for (const s of p.slices) effects[s] += i.extra;
    const passes = p.slices.every((s) => effects[s] <= p.budget);
    return { effects, passes, withinNoise: false, runs: 100 };
  };
  return { measure, count: () => count };
}

const predictedOf =
  (p: Problem) =>
  (layer: string, scheme: string): SliceEffects =>
    p.effects[layer]?.[scheme] ?? {};

/** Every combination, measured: the reference front and the cheapest passing plan. */
async function bruteForce(p: Problem): Promise<{ front: { cost: number; worst: number }[]; best: number }> {
  const points: { cost: number; worst: number; passes: boolean }[] = [];
  const { measure } = measurer(p);
  const rec = async (i: number, a: Map<string, string>): Promise<void> => {
    if (i === p.layers.length) {
      const m = await measure(a);
      const cost = p.layers.reduce((s, l) => s + l.costs.get(a.get(l.name)!)!, 0);
      points.push({ cost, worst: Math.max(...Object.values(m.effects)), passes: m.passes });
      return;
    }
    for (const s of SCHEMES) await rec(i + 1, new Map(a).set(p.layers[i].name, s));
  };
  await rec(0, new Map());
  const front = paretoFront(points).map(({ cost, worst }) => ({ cost, worst }));
  return { front, best: Math.min(...points.filter((q) => q.passes).map((q) => q.cost)) };
}

/** A random additive problem: int4 hurts more than int8, some layers far more on one slice. */
function randomProblem(seed: number, n: number): Problem {
  const random = mulberry32(seed);
  const slices = ['digit=0', 'digit=1', 'ink>0.3'];
  const effects: Problem['effects'] = {};
  const sizes = Array.from({ length: n }, () => 1000 * (1 + Math.floor(random() * 20)));
  for (let i = 0; i < n; i++) {
    const hurt = random() < 0.3 ? slices[Math.floor(random() * 3)] : undefined;
    const e8 = Object.fromEntries(slices.map((s) => [s, random() * 0.2]));
    const e4 = Object.fromEntries(slices.map((s) => [s, 0.2 + random() * (s === hurt ? 3 : 0.6)]));
    effects[`/blocks.${i}/MatMul`] = { fp32: {}, 'int8-channel': e8, 'int4-block32': e4 };
  }
  return problem(sizes, effects, slices, 1.0);
}

describe('plan search', () => {
  it('small problems are measured exhaustively: the front equals the brute-force front', async () => {
    const p = randomProblem(3, 3);
    const { measure } = measurer(p);
    const result = await searchPlan({ layers: p.layers, predicted: predictedOf(p), measure });
    assert.equal(result.exhaustive, true);
    assert.equal(result.measurements, 27);
    const reference = await bruteForce(p);
    assert.deepEqual(
      result.front.map(({ cost, worst }) => ({ cost, worst })),
      reference.front,
    );
    assert.equal(result.chosen?.cost, reference.best);
  });

  it('greedy beats the anchors (uniform schemes, one-at-a-time filter): within 10% of the optimum, optimal in 15+ of 20, in under 1/4 of the combinations', async () => {
    let optimalHits = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const p = randomProblem(seed, 6);
      const { measure, count } = measurer(p);
      const result = await searchPlan({ layers: p.layers, predicted: predictedOf(p), measure, exhaustiveLimit: 0 });
      const chosen = result.chosen!;
      assert.ok(chosen.passes, `seed ${seed}: the chosen plan passes as measured`);
      const uniform = await Promise.all(
        SCHEMES.map(async (s) => {
          const a = new Map(p.layers.map((l) => [l.name, s]));
          const m = await measure(a);
          return m.passes ? p.layers.reduce((sum, l) => sum + l.costs.get(s)!, 0) : Infinity;
        }),
      );
      assert.ok(chosen.cost <= Math.min(...uniform), `seed ${seed}: no uniform plan is cheaper`);
      // The one-at-a-time anchor: every layer at the cheapest scheme that alone stays within budget.
      const anchor = new Map(
        p.layers.map((l) => {
          const ok = [...SCHEMES]
            .reverse()
            .find((s) => Object.values(p.effects[l.name][s]).every((e) => e <= p.budget));
          return [l.name, ok ?? 'fp32'];
        }),
      );
      const anchorM = await measure(anchor);
      const anchorCost = p.layers.reduce((sum, l) => sum + l.costs.get(anchor.get(l.name)!)!, 0);
      if (anchorM.passes) assert.ok(chosen.cost <= anchorCost, `seed ${seed}: the one-at-a-time anchor is not cheaper`);
      const { best } = await bruteForce(p);
      assert.ok(chosen.cost <= best * 1.1, `seed ${seed}: ${chosen.cost} vs optimum ${best}`);
      if (chosen.cost === best) optimalHits++;
      assert.ok(count() < 729 / 4, `seed ${seed}: ${count()} measurements for 729 combinations`);
    }
    assert.ok(optimalHits >= 15, `optimal in ${optimalHits} of 20`);
  });

  it('protects the slice a mean-based search would break', async () => {
    const slices = ['digit=8', 'rest'];
    const small = { 'digit=8': 0.1, rest: 0.1 };
    const effects = {
      '/blocks.0/MatMul': { fp32: {}, 'int8-channel': small, 'int4-block32': { 'digit=8': 0.3, rest: 0.3 } },
      '/blocks.1/MatMul': { fp32: {}, 'int8-channel': small, 'int4-block32': { 'digit=8': 0.3, rest: 0.3 } },
      '/blocks.2/MatMul': { fp32: {}, 'int8-channel': small, 'int4-block32': { 'digit=8': 2.0, rest: 0.0 } },
    };
    const p = problem([1000, 1000, 4000], effects, slices, 1.0);
    const { measure } = measurer(p);
    const result = await searchPlan({ layers: p.layers, predicted: predictedOf(p), measure, exhaustiveLimit: 0 });
    const chosen = result.chosen!;
    // Mean over the two slices of all-int4: (2.6 + 0.6) / 2 = 1.6 > 1, but blocks.2 at int4 alone has mean 1.0:
    // a mean-based search takes it; the slice digit=8 would drop 2.0 + others.
    assert.notEqual(chosen.assignment.get('/blocks.2/MatMul'), 'int4-block32');
    assert.ok(Object.values(chosen.measurement.effects).every((e) => e <= 1.0));
    assert.equal(chosen.worstSlice, 'digit=8');
  });

  it('when layer effects do not add up, steps show predicted against measured and the search steps back', async () => {
    const p = randomProblem(5, 5);
    p.interaction = { a: '/blocks.0/MatMul', b: '/blocks.1/MatMul', extra: 0.9 };
    const { measure } = measurer(p);
    const result = await searchPlan({ layers: p.layers, predicted: predictedOf(p), measure, exhaustiveLimit: 0 });
    assert.ok(result.chosen?.passes);
    const surprised = result.steps.filter(
      (s) => Number.isFinite(s.predictedWorst) && Math.abs(s.predictedWorst - s.measuredWorst) > 0.5,
    );
    assert.ok(surprised.length > 0, 'a step measured more than the sensitivities predicted');
    assert.ok(
      result.steps.some((s) => s.kind === 'bisect'),
      'a failed batch was bisected',
    );
    const { best } = await bruteForce(p);
    assert.ok(result.chosen!.cost <= best * 1.5);
  });

  it('a cancelled search keeps the plans measured so far', async () => {
    const p = randomProblem(9, 8);
    const controller = new AbortController();
    const { measure } = measurer(p);
    let n = 0;
    const result = await searchPlan({
      layers: p.layers,
      predicted: predictedOf(p),
      measure: async (a) => {
        if (++n === 4) controller.abort();
        return measure(a);
      },
      exhaustiveLimit: 0,
      signal: controller.signal,
    });
    assert.equal(result.cancelled, true);
    assert.equal(result.measurements, 4);
    assert.ok(result.front.length >= 1);
  });
});
