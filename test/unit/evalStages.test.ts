/**
 * The pure stages of an evaluation, without onnxruntime: configurations planned from a parsed spec (ids, kinds,
 * what each feeds, why), the groups the run stage bounds memory with, and the summary (verdicts, ranking,
 * flags) of synthetic metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planConfigurations, weightBytes, type ConfigWeight } from '../../src/core/eval/configurations';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import { parsePlan } from '../../src/core/eval/plan';
import { flagLayers, rankLayers, worstSlice } from '../../src/core/eval/ranking';
import type { LayerResult } from '../../src/core/eval/results';
import { runGroups, weightKey } from '../../src/core/eval/runGroups';
import { parseSpec } from '../../src/core/eval/spec';
import { summarise } from '../../src/core/eval/summary';
import { DEFAULT_THRESHOLDS } from '../../src/core/eval/verdict';

const weights: ConfigWeight[] = [
  {
    name: 'fc1.weight',
    layer: '/fc1/MatMul',
    layers: ['/fc1/MatMul'],
    op: 'MatMul',
    size: 256,
    layout: { rows: 16, cols: 16, channelAxis: 1 },
  },
  {
    name: 'fc2.weight',
    layer: '/fc2/MatMul',
    layers: ['/fc2/MatMul'],
    op: 'MatMul',
    size: 64,
    layout: { rows: 16, cols: 4, channelAxis: 1 },
  },
];
const specOf = (body: object) =>
  parseSpec(JSON.stringify({ model: 'm.onnx', data: { path: 'd.jsonl' }, task: 'classification', ...body }), 's.json')
    .spec;
const entries = (m: ReadonlyMap<string, string>): [string, string][] => [...m];

describe('evaluation plan: configurations by id', () => {
  it('plans variants, the sweep, one-at-a-time and leave-one-out, each with what it feeds and why', () => {
    const spec = specOf({ variants: ['int8-channel', 'int4-channel'], sweep: { bits: [8, 4] } });
    const plan = planConfigurations(spec, [{ scheme: 'int8-channel' }, { scheme: 'int4-channel' }], weights);
    assert.deepEqual(
      plan.configurations.map((c) => `${c.kind} ${c.id}`),
      [
        'variant int8-channel',
        'variant int4-channel',
        'sweep sweep:int8-channel',
        'sweep sweep:int4-channel',
        'oneAtATime oneAtATime:int8-channel:fc1.weight',
        'oneAtATime oneAtATime:int8-channel:fc2.weight',
        'oneAtATime oneAtATime:int4-channel:fc1.weight',
        'oneAtATime oneAtATime:int4-channel:fc2.weight',
        'leaveOneOut leaveOneOut:fc1.weight',
        'leaveOneOut leaveOneOut:fc2.weight',
      ],
    );
    const byId = new Map(plan.configurations.map((c) => [c.id, c]));
    assert.deepEqual(entries(byId.get('int4-channel')!.quantized), [
      ['fc1.weight', 'int4-channel'],
      ['fc2.weight', 'int4-channel'],
    ]);
    assert.deepEqual(entries(byId.get('oneAtATime:int8-channel:fc2.weight')!.quantized), [
      ['fc2.weight', 'int8-channel'],
    ]);
    assert.deepEqual(entries(byId.get('leaveOneOut:fc1.weight')!.quantized), [['fc2.weight', 'int4-channel']]);
    assert.match(byId.get('leaveOneOut:fc1.weight')!.why, /but \/fc1\/MatMul/);
    assert.equal(plan.rankScheme, 'int4-channel', 'the fewest bytes');
    assert.equal(plan.leaveOneOutScheme, 'int4-channel');
    assert.deepEqual(plan.sweep, ['int8-channel', 'int4-channel']);
    assert.equal(new Set(byId.keys()).size, plan.configurations.length, 'ids are unique');
  });

  it('a plan variant feeds its layers their schemes and leaves fp32 entries as stored', () => {
    const parsed = parsePlan(JSON.stringify({ default: 'int8-channel', layers: { '/fc2/MatMul': 'fp32' } }));
    const spec = specOf({ variants: [{ plan: 'p.qplan.json' }], sweep: false, sensitivity: false });
    const plan = planConfigurations(spec, [{ id: 'plan:p.qplan.json', label: 'p', plan: parsed.plan! }], weights);
    assert.equal(plan.configurations.length, 1);
    const [c] = plan.configurations;
    assert.equal(c.kind, 'variant');
    assert.deepEqual(entries(c.quantized), [['fc1.weight', 'int8-channel']]);
    assert.equal(plan.rankScheme, undefined);
  });

  it('one-at-a-time defaults to the scheme variants, else int8-channel', () => {
    const none = planConfigurations(specOf({ variants: [{ plan: 'p.qplan.json' }], sweep: false }), [], weights);
    assert.deepEqual(none.oneAtATime, ['int8-channel']);
    const schemes = planConfigurations(specOf({ variants: ['fp16', 'int4-block32'], sweep: false }), [], weights);
    assert.deepEqual(schemes.oneAtATime, ['fp16', 'int4-block32']);
    assert.equal(schemes.rankScheme, 'int4-block32');
    assert.equal(weightBytes(weights[0], 'fp32'), 1024);
  });
});

describe('evaluation run groups', () => {
  const spec = specOf({ variants: ['int8-channel', 'int4-channel'], sweep: false });
  const plan = planConfigurations(spec, [{ scheme: 'int8-channel' }, { scheme: 'int4-channel' }], weights);
  const bytes = (w: string): number => 4 * weights.find((x) => x.name === w)!.size;
  const floatBytes = 4 * (256 + 64);

  it('keeps each group within the budget: one model of weights at a time', () => {
    const groups = runGroups(plan.configurations, bytes, floatBytes);
    assert.deepEqual(
      groups.map((g) => g.map((c) => c.id)),
      [
        ['int8-channel'],
        ['int4-channel'],
        ['oneAtATime:int8-channel:fc1.weight', 'oneAtATime:int8-channel:fc2.weight'],
        [
          'oneAtATime:int4-channel:fc1.weight',
          'oneAtATime:int4-channel:fc2.weight',
          'leaveOneOut:fc1.weight',
          'leaveOneOut:fc2.weight',
        ],
      ],
    );
    for (const g of groups) {
      const keys = new Set(g.flatMap((c) => [...c.quantized].map(([w, s]) => weightKey(w, s))));
      const held = [...keys].reduce((sum, k) => sum + bytes(k.split('\u0000')[0]), 0);
      assert.ok(held <= floatBytes, `${held} bytes`);
    }
  });

  it('runs every configuration once, in order, whatever the budget', () => {
    for (const budget of [0, 100, floatBytes, Infinity]) {
      const flat = runGroups(plan.configurations, bytes, budget).flat();
      assert.deepEqual(
        flat.map((c) => c.id),
        plan.configurations.map((c) => c.id),
      );
    }
    assert.equal(runGroups(plan.configurations, bytes, 0).length, plan.configurations.length);
    assert.equal(runGroups(plan.configurations, bytes, Infinity).length, 1);
  });
});

/** Synthetic metrics of a classifier: accuracy change (points) and KL. */
const metric = (n: number, change: number, kl: number): SliceMetrics => ({
  n,
  accuracy: 0.9 + change / 100,
  refAccuracy: 0.9,
  accuracyChange: { value: change, low: change - 1, high: change + 1 },
  kl,
  outputSqnrDb: 30,
  varianceRatio: 1,
  agreement: 1,
});

describe('evaluation summary: verdicts, ranking, flags', () => {
  const slices = { names: ['all', 'a', 'b'], sizes: [100, 95, 5] };
  const spec = specOf({ variants: ['int8-channel', 'int4-channel'], sweep: false, budget: { accuracyDrop: 2 } });
  const plan = planConfigurations(spec, [{ scheme: 'int8-channel' }, { scheme: 'int4-channel' }], weights);
  // fc1 is fragile under int4 on slice a; slice b is too small to decide (its huge drop never counts).
  const metricsOf = (id: string): SliceMetrics[] => {
    if (id === 'int4-channel' || id === 'oneAtATime:int4-channel:fc1.weight')
      return [metric(100, -3, 0.2), metric(95, -6, 0.3), metric(5, -40, 1)];
    if (id === 'leaveOneOut:fc2.weight') return [metric(100, -2.5, 0.1), metric(95, -2.5, 0.1), metric(5, -40, 1)];
    return [metric(100, -0.1, 0.001), metric(95, -0.2, 0.002), metric(5, -40, 1)];
  };
  const run = {
    reference: [metric(100, 0, 0), metric(95, 0, 0), metric(5, 0, 0)],
    configurations: new Map(plan.configurations.map((c) => [c.id, metricsOf(c.id)])),
  };
  const input = {
    task: 'classification' as const,
    budget: spec.budget,
    thresholds: DEFAULT_THRESHOLDS,
    slices,
    weights,
    plan,
    sweep: spec.sweep,
  };

  it('gives verdicts per variant, ranks the fragile layer first and flags it on its worst deciding slice', () => {
    const summary = summarise(input, run);
    assert.deepEqual(
      summary.variants.map((v) => [v.id, v.kind, v.violations.map((x) => x.slice)]),
      [
        ['fp32', 'reference', []],
        // b (5 samples) is shown, never decides; all's drop of 3 has the CI [2, 4], which touches the budget of 2.
        ['int8-channel', 'scheme', []],
        ['int4-channel', 'scheme', ['a']],
      ],
    );
    assert.deepEqual(summary.variants[2].verdicts, { all: 'noise', a: 'violated', b: 'noise' });
    assert.deepEqual(summary.variants[1].verdicts, { all: 'pass', a: 'pass', b: 'noise' });
    assert.equal(summary.variants[0].weightBytes, 4 * 320);
    assert.equal(summary.budgetViolated, true);
    const layers = summary.sensitivity!.layers;
    assert.deepEqual(
      layers.map((l) => [l.weight, l.rank]),
      [
        ['fc1.weight', 1],
        ['fc2.weight', 2],
      ],
    );
    assert.deepEqual(layers[0].oneAtATime['int4-channel'].worst, { slice: 'a', effect: { accuracyDrop: 6, kl: 0.3 } });
    assert.equal(layers[0].oneAtATime['int4-channel'].meetsBudget, false);
    assert.equal(layers[1].oneAtATime['int4-channel'].meetsBudget, true);
    assert.equal(layers[1].leaveOneOut!.metrics.all.kl, 0.1);
    assert.deepEqual(
      summary.flags.map((f) => f.message),
      ['int4-channel on /fc1/MatMul: -6.0 pp accuracy on slice a'],
    );
    assert.equal(summary.sweep, undefined);
  });

  it('a missing configuration is an error, not a silent gap', () => {
    const partial = { ...run, configurations: new Map([...run.configurations].slice(1)) };
    assert.throws(() => summarise(input, partial), /No metrics for configuration 'int8-channel'/);
  });

  it('ranking breaks ties by KL; the worst slice ignores slices too small to decide', () => {
    const result = (drop: number, kl: number) => ({
      metrics: { all: metric(100, -drop, kl) },
      worst: { slice: 'all', effect: { accuracyDrop: drop, kl } },
      meetsBudget: true,
    });
    const layer = (weight: string, drop: number, kl: number): LayerResult => ({
      weight,
      layer: `/${weight}`,
      layers: [`/${weight}`],
      op: 'MatMul',
      bytes: {},
      oneAtATime: { s: result(drop, kl) },
      rank: 0,
    });
    const layers = [layer('x', 1, 0.1), layer('y', 1, 0.5), layer('z', 3, 0)];
    rankLayers('classification', layers, 's');
    assert.deepEqual(
      layers.map((l) => l.rank),
      [3, 2, 1],
    );
    const m = { all: metric(100, -1, 0.01), a: metric(95, -2, 0.01), b: metric(5, -50, 0.01) };
    assert.equal(worstSlice('classification', m, ['all', 'a']).slice, 'a');
    assert.deepEqual(
      flagLayers('classification', layers, ['s'], ['all'], DEFAULT_THRESHOLDS).map((f) => f.weight),
      ['x', 'y', 'z'],
    );
  });
});
