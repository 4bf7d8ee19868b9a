/** Verdicts with confidence: pass | noise | violated against a budget, flags needing the CI, minSliceSize, plans. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeText, signed } from '../../src/core/eval/describe';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import { parsePlan } from '../../src/core/eval/plan';
import { newPlanScheme, planBudgetBreak, planFixKeys, wholeModelSchemes } from '../../src/core/eval/planBudget';
import { flagLayers, flagsWithinNoise } from '../../src/core/eval/ranking';
import type { EvalResults, LayerResult } from '../../src/core/eval/results';
import { parseSpec } from '../../src/core/eval/spec';
import {
  DEFAULT_THRESHOLDS,
  describeViolation,
  layerBudget,
  limitVerdict,
  readSlice,
  samplesNeeded,
  withSpecMinSliceSize,
} from '../../src/core/eval/verdict';

/** A classifier's slice: accuracy change (points) with its CI [low, high]. */
const acc = (n: number, value: number, low: number, high: number, kl = 0): SliceMetrics => ({
  n,
  accuracy: 0.9,
  refAccuracy: 0.9,
  accuracyChange: { value, low, high },
  kl,
  outputSqnrDb: 30,
  varianceRatio: 1,
});

describe('verdict rule: violated only when the whole CI is over the budget', () => {
  it('a CI including the budget is noise, whichever side the point estimate is on', () => {
    assert.equal(limitVerdict({ value: 3, low: 2.5, high: 3.5 }, 2), 'violated');
    assert.equal(limitVerdict({ value: 2.5, low: 1.5, high: 3.5 }, 2), 'noise', 'point over, CI includes');
    assert.equal(limitVerdict({ value: 1.5, low: 0.5, high: 2.5 }, 2), 'noise', 'point within, CI reaches over');
    assert.equal(limitVerdict({ value: 1, low: 0, high: 1.9 }, 2), 'pass');
  });

  it('touching or equal to the budget is within it, also after float rounding', () => {
    assert.equal(limitVerdict({ value: 3, low: 2, high: 4 }, 2), 'noise', 'low touching the budget');
    assert.equal(limitVerdict({ value: 1, low: 0, high: 2 }, 2), 'pass', 'high touching the budget');
    assert.equal(limitVerdict({ value: 2, low: 2, high: 2 }, 2), 'pass', 'exactly equal, no CI');
    const drift = 0.1 * 3 * 10; // 3.0000000000000004
    assert.equal(limitVerdict({ value: drift, low: drift, high: drift }, 3), 'pass');
    assert.equal(limitVerdict({ value: 3.01, low: 3.01, high: 3.01 }, 3), 'violated');
  });

  it('reads accuracy changes as drops, KL by its point value; a small slice never decides', () => {
    // accuracy change -3 pp [-4, -2.5] = a drop of 3 [2.5, 4]
    const r = readSlice('a', acc(100, -3, -4, -2.5, 0.2), { accuracyDrop: 2, kl: 0.1 });
    assert.equal(r.verdict, 'violated');
    assert.deepEqual(
      r.violations.map((v) => [v.metric, v.value, v.limit]),
      [
        ['accuracyDrop', 3, 2],
        ['kl', 0.2, 0.1],
      ],
    );
    assert.equal(readSlice('a', acc(100, -3, -4, -1), { accuracyDrop: 2 }).verdict, 'noise');
    assert.equal(readSlice('a', acc(100, 1, 0, 2), { accuracyDrop: 2 }).verdict, 'pass', 'a gain passes');
    const small = readSlice('b', acc(5, -40, -41, -39), { accuracyDrop: 2 }, 20);
    assert.deepEqual([small.verdict, small.violations.length, small.noise.length], ['noise', 0, 1]);
    assert.equal(readSlice('b', acc(20, -40, -41, -39), { accuracyDrop: 2 }, 20).verdict, 'violated', '20 of 20');
    assert.equal(readSlice('a', acc(100, -3, -4, -2.5), {}).verdict, 'pass', 'no budget, no verdict');
  });

  it('the samples a noisy effect would need: the CI shrinks as 1 / sqrt(n)', () => {
    // drop 1.5 [0.5, 2.5] against 1: half-width 1, gap 0.5 -> n * 4
    assert.equal(samplesNeeded({ value: 1.5, low: 0.5, high: 2.5 }, 1, 100), 400);
    assert.equal(samplesNeeded({ value: 0.5, low: 0, high: 1.5 }, 1, 100), undefined, 'point within');
  });

  it('words and units: pp for accuracy, no negative zero', () => {
    assert.equal(describeViolation({ slice: 'a', metric: 'accuracyDrop', value: 1.1, limit: 1 }), '-1.1 pp accuracy');
    assert.equal(signed(-0.04), '0.0');
    assert.equal(signed(-0), '0.0');
    assert.equal(signed(0.25), '+0.3');
    assert.equal(changeText(acc(100, -0.01, -0.04, -0.001)), '0.0 pp [0.0, 0.0]');
  });
});

describe('minSliceSize: the spec field, else the setting', () => {
  it('the spec accepts budget.minSliceSize; it overrides the setting and is not a limit', () => {
    const { spec } = parseSpec(
      '{"model": "m.onnx", "task": "classification", "data": {"path": "d.jsonl"}, "budget": {"minSliceSize": 50}}',
      'x',
    );
    assert.equal(spec.budget.minSliceSize, 50);
    assert.equal(withSpecMinSliceSize({ ...DEFAULT_THRESHOLDS, minSliceSize: 7 }, spec.budget).minSliceSize, 50);
    assert.equal(withSpecMinSliceSize({ ...DEFAULT_THRESHOLDS, minSliceSize: 7 }, {}).minSliceSize, 7);
    // A budget with only minSliceSize sets no limit: layers are held to the thresholds.
    assert.equal(layerBudget(spec.budget, DEFAULT_THRESHOLDS).accuracyDrop, DEFAULT_THRESHOLDS.accuracyDrop);
    assert.throws(
      () =>
        parseSpec(
          '{"model": "m.onnx", "task": "classification", "data": {"path": "d.jsonl"}, "budget": {"minSliceSize": 0}}',
          'x',
        ),
      /minSliceSize/,
    );
  });
});

const layer = (weight: string, all: SliceMetrics): LayerResult => ({
  weight,
  layer: `/${weight}`,
  layers: [`/${weight}`],
  op: 'MatMul',
  bytes: {},
  oneAtATime: { s: { metrics: { all }, worst: { slice: 'all', effect: {} }, meetsBudget: true } },
  rank: 0,
});

describe('flags need the CI to exclude the threshold', () => {
  it('a 2-sample difference is not a flag; it says how many samples would tell', () => {
    const t = { ...DEFAULT_THRESHOLDS, kl: 1 };
    const layers = [
      layer('noisy', acc(200, -1.5, -2.8, -0.2)), // 3 of 200 flipped: point over 1 pp, CI includes it
      layer('real', acc(200, -5, -7, -3)),
      layer('fine', acc(200, 0, -0.5, 0.5)),
    ];
    assert.deepEqual(
      flagLayers('classification', layers, ['s'], ['all'], t).map((f) => f.weight),
      ['real'],
    );
    const unsure = flagsWithinNoise('classification', layers, ['s'], ['all'], t);
    assert.deepEqual(
      unsure.map((f) => [f.weight, f.samplesNeeded]),
      [['noisy', 1352]], // 200 * (1.3 / 0.5) ** 2
    );
    assert.match(unsure[0].message, /within noise \(about 1352 samples would tell\)$/);
    assert.deepEqual(flagLayers('classification', layers, ['s'], [], t), [], 'no deciding slice, no flag');
  });
});

/** Results with whole-model variants (bytes, accuracy drop CI) and layers measured one at a time. */
function measured(variants: [string, number, SliceMetrics][], budget = { accuracyDrop: 1 }): EvalResults {
  return {
    budget,
    thresholds: DEFAULT_THRESHOLDS,
    slices: [{ name: 'all', n: 200 }],
    variants: [
      {
        id: 'fp32',
        label: 'fp32',
        kind: 'reference',
        weightBytes: 4000,
        metrics: { all: acc(200, 0, 0, 0) },
        violations: [],
      },
      ...variants.map(([id, bytes, all]) => ({
        id,
        label: id,
        kind: 'scheme' as const,
        weightBytes: bytes,
        metrics: { all },
        violations: [],
      })),
    ],
    sensitivity: {
      schemes: ['int3-block32'],
      rankScheme: 'int3-block32',
      layers: [layer('a.weight', acc(200, 0, -0.5, 0.5)), layer('b.weight', acc(200, 0, -0.5, 0.5))],
    },
  } as unknown as EvalResults;
}

describe('the plan trap: a plan measured to break the budget on the whole model', () => {
  // int3 measured at -22.8 pp on the whole model although no layer alone broke the budget.
  const r = measured([
    ['fp16', 2000, acc(200, 0, -0.2, 0.2)],
    ['int8-channel', 1000, acc(200, -0.2, -0.9, 0.5)],
    ['int4-block32', 600, acc(200, -0.8, -2, 0.4)], // within noise: not a violation, met
    ['int3-block32', 450, acc(200, -22.8, -26, -19.6)],
  ]);

  it('orders whole-model schemes by bytes and knows which broke the budget', () => {
    assert.deepEqual(
      wholeModelSchemes(r).map((s) => [s.scheme, s.violations.length > 0]),
      [
        ['int3-block32', true],
        ['int4-block32', false],
        ['int8-channel', false],
        ['fp16', false],
      ],
    );
  });

  it('a new plan starts from the most aggressive scheme that met the budget, never one that broke it', () => {
    assert.equal(newPlanScheme(r, 'int3-block32'), 'int4-block32');
    const none = measured([['int3-block32', 450, acc(200, -22.8, -26, -19.6)]]);
    assert.equal(newPlanScheme(none, 'int3-block32'), 'fp32', 'nothing met it: keep the layers');
    assert.equal(newPlanScheme(measured([]), 'int3-block32'), 'int3-block32', 'nothing measured whole');
  });

  it('a plan putting every layer at int3-block32 gets the warning and the fix to int4-block32', () => {
    const plan = parsePlan(
      '{"default": "int3-block32", "layers": {"/a.weight": "int3-block32", "/b.weight": "int3-block32"}}',
    ).plan!;
    const broken = planBudgetBreak(plan, r)!;
    assert.deepEqual(broken.measured, { kind: 'scheme', scheme: 'int3-block32' });
    assert.equal(describeViolation(broken.violation), '-22.8 pp accuracy');
    assert.equal(broken.fix, 'int4-block32');
    assert.deepEqual(planFixKeys(plan, 'int3-block32'), ['/a.weight', '/b.weight']);
    // Mixed plans were not measured as a whole: no claim. A plan at a scheme that met the budget: no warning.
    const mixed = parsePlan('{"default": "int3-block32", "layers": {"/a.weight": "fp16"}}').plan!;
    assert.equal(planBudgetBreak(mixed, r), undefined);
    assert.equal(planBudgetBreak(parsePlan('{"default": "int4-block32"}').plan!, r), undefined);
  });

  it('a plan the run evaluated as a variant is judged on its own result', () => {
    const withPlan = measured([['int4-block32', 600, acc(200, -0.8, -2, 0.4)]]);
    withPlan.variants.push({
      id: 'plan:mixed.qplan.json',
      label: 'mixed',
      kind: 'plan',
      weightBytes: 500,
      metrics: { all: acc(200, -4, -6, -2) },
      violations: [],
    });
    const plan = parsePlan('{"default": "int3-block32", "layers": {"/a.weight": "fp16"}}').plan!;
    const broken = planBudgetBreak(plan, withPlan, 'plan:mixed.qplan.json')!;
    assert.deepEqual([broken.measured.kind, broken.fix], ['plan', 'int4-block32']);
  });
});
