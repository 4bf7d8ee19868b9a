/** The export next to its simulation: identical, float rounding, or a real difference (e.g. accuracy level 4). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareExport, exportComparisonText, ROUNDING_KL } from '../../src/core/export/exportComparison';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults, VariantResult } from '../../src/core/eval/results';

const metrics = (accuracy: number, kl: number): SliceMetrics => ({
  n: 100,
  accuracy,
  refAccuracy: 0.9,
  accuracyChange: { value: (accuracy - 0.9) * 100, low: -1, high: 1 },
  kl,
  outputSqnrDb: 40,
  varianceRatio: 1,
});
const variant = (id: string, kind: VariantResult['kind'], all: SliceMetrics): VariantResult => ({
  id,
  label: id,
  kind,
  weightBytes: 1,
  metrics: { all },
  violations: [],
});
const results = (...variants: VariantResult[]): EvalResults => ({ variants }) as unknown as EvalResults;

describe('export comparison', () => {
  it('identical metrics: the kernels compute what the simulation predicted', () => {
    const c = compareExport(
      results(
        variant('int8-channel', 'scheme', metrics(0.9, 1e-4)),
        variant('export:m.onnx', 'export', metrics(0.9, 1e-4)),
      ),
      'int8-channel',
    )!;
    assert.equal(c.agreement, 'identical');
    assert.match(exportComparisonText(c), /Every slice: the same metrics/);
  });
  it('a KL difference at float32 summation noise with the same accuracy is rounding, not a difference', () => {
    const c = compareExport(
      results(
        variant('int4-block32', 'scheme', metrics(0.9, 1e-3)),
        variant('export:m.onnx', 'export', metrics(0.9, 1e-3 + ROUNDING_KL / 10)),
      ),
      'int4-block32',
    )!;
    assert.equal(c.agreement, 'rounding');
    assert.match(exportComparisonText(c), /float32 summation order/);
  });
  it('a real difference is said, with its size and the likely cause', () => {
    const c = compareExport(
      results(
        variant('int4-block32', 'scheme', metrics(0.9, 1e-3)),
        variant('export:m.onnx', 'export', metrics(0.88, 5e-3)),
      ),
      'int4-block32',
    )!;
    assert.equal(c.agreement, 'differs');
    assert.equal(c.maxKlDifference.toExponential(2), '4.00e-3');
    assert.match(exportComparisonText(c), /The metrics differ \(KL by up to 4\.00e-3 nats\).*accuracy level 4/);
  });
  it('no export variant: no comparison; no simulated one: said so', () => {
    assert.equal(compareExport(results(variant('int8-channel', 'scheme', metrics(0.9, 0))), 'int8-channel'), undefined);
    const c = compareExport(results(variant('export:m.onnx', 'export', metrics(0.9, 0))), 'int8-channel')!;
    assert.equal(c.simulated, undefined);
    assert.match(exportComparisonText(c), /no simulated variant to compare with/);
  });
});
