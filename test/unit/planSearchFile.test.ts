/**
 * The plan search as VS Code keeps it (src/core/search/planSearchFile.ts): file names, the text of a plan written
 * from the front (the chosen one with the search's notes, another with what was measured of it), and reading back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FindPlanReport, ReportedPlan } from '../../src/core/search/planReport';
import {
  isChosen,
  parseSearchFile,
  planFileName,
  planFileText,
  searchFile,
  searchFileName,
} from '../../src/core/search/planSearchFile';

const plan = (layers: Record<string, string>, cost: number, over: Partial<ReportedPlan> = {}): ReportedPlan => ({
  layers,
  cost,
  worst: 0.5,
  worstSlice: 'digit=2',
  passes: true,
  withinNoise: false,
  decision: 'full',
  samples: 400,
  ...over,
});

const chosen = plan({ '/fc1/MatMul': 'int4-block32', '/fc2/MatMul': 'int8-channel' }, 1000);
const other = plan({ '/fc1/MatMul': 'int8-channel', '/fc2/MatMul': 'int8-channel' }, 1567, {
  decision: 'inside',
  samples: 128,
  withinNoise: true,
});
const report = {
  task: 'classification',
  fp32Cost: 10_000,
  plans: [other, { ...chosen, layers: { '/fc2/MatMul': 'int8-channel', '/fc1/MatMul': 'int4-block32' } }],
  front: [chosen],
  chosen,
  notes: { '/fc1/MatMul': 'chosen note 1', '/fc2/MatMul': 'chosen note 2' },
  runs: { samples: 400 },
} as unknown as FindPlanReport;

describe('plan search file', () => {
  it('names the search file and the plans written from the front', () => {
    assert.equal(searchFileName('dir/mnist.quantlens.json'), 'mnist.search.json');
    assert.equal(searchFileName('other.json'), 'other.search.json');
    assert.equal(planFileName('mnist.quantlens.json', report, chosen), 'mnist.found.qplan.json');
    assert.equal(planFileName('mnist.quantlens.json', report, other), 'mnist.found-15.7pct.qplan.json');
    assert.equal(planFileName('m.quantlens.json', report, plan({}, 2000)), 'm.found-20pct.qplan.json');
  });

  it('tells the chosen plan by its layers, whatever their order', () => {
    assert.equal(isChosen(report, report.plans[1]), true);
    assert.equal(isChosen(report, other), false);
  });

  it("writes the chosen plan with the search's notes, another with what was measured of it", () => {
    const a = JSON.parse(planFileText(report, chosen, 'mnist_mlp.onnx')) as Record<string, unknown>;
    assert.deepEqual(a, {
      generatedBy: 'QuantLens plan search',
      model: 'mnist_mlp.onnx',
      default: 'fp32',
      layers: chosen.layers,
      notes: report.notes,
    });
    const b = JSON.parse(planFileText(report, other, 'mnist_mlp.onnx')) as { layers: object; notes: object };
    assert.deepEqual(b.layers, other.layers);
    assert.deepEqual(b.notes, {
      '/fc1/MatMul':
        "int8-channel: from the plan search's front (15.7% of fp32; worst: accuracy drop 0.50 pp on digit=2, passes within noise (stopped inside the budget at 128 samples)).",
      '/fc2/MatMul':
        "int8-channel: from the plan search's front (15.7% of fp32; worst: accuracy drop 0.50 pp on digit=2, passes within noise (stopped inside the budget at 128 samples)).",
    });
  });

  it('reads back what it wrote and nothing else', () => {
    const file = searchFile(report, new Date('2026-01-02T03:04:05Z'), 'mnist.found.qplan.json');
    assert.deepEqual(parseSearchFile(JSON.stringify(file)), file);
    assert.equal(file.createdAt, '2026-01-02T03:04:05.000Z');
    assert.equal(parseSearchFile('{"format":"quantlens-eval-results"}'), undefined);
    assert.equal(parseSearchFile('not json'), undefined);
  });
});
