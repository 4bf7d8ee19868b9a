/** The spec's `search` field and the plan search's routing recommendation (pure; looks: sequentialTesting.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpec, SpecError } from '../../src/core/eval/spec';
import { inputSideSlices, routeChoices, routedCost } from '../../src/core/search/routing';
import { foundPlanName, foundPlanText } from '../../src/core/search/planReport';
import { isQuantLensFile } from '../../src/core/files/writePolicy';

const spec = (search: string, budget = '"budget": { "accuracyDrop": 1 },'): string =>
  `{\n  "model": "m.onnx",\n  "task": "classification",\n  "data": { "path": "d.jsonl" },\n  ${budget}\n  "search": ${search}\n}`;

function problems(text: string): string[] {
  try {
    parseSpec(text, 'x.quantlens.json');
  } catch (e) {
    assert.ok(e instanceof SpecError);
    return e.message.split('\n');
  }
  return [];
}

describe('spec: search', () => {
  it('reads candidates, cost and maxCost as bytes or a fraction of fp32 ("0.5x")', () => {
    const a = parseSpec(spec('{ "candidates": ["fp32", "int8-channel"], "maxCost": "0.5x" }'), 'x').spec.search;
    assert.deepEqual(a, { candidates: ['fp32', 'int8-channel'], cost: 'bytes', maxCost: { fraction: 0.5 } });
    const b = parseSpec(spec('{ "candidates": ["fp16", "int4-block32"], "cost": "latency", "maxCost": 1200 }'), 'x')
      .spec.search;
    assert.deepEqual(b, { candidates: ['fp16', 'int4-block32'], cost: 'latency', maxCost: { value: 1200 } });
  });

  it('a search without a budget is an error at the search line', () => {
    assert.deepEqual(problems(spec('{ "candidates": ["fp32", "int8-channel"] }', '')), [
      "x.quantlens.json:6:13: A search needs a budget to meet: set 'budget' with accuracyDrop, kl, perplexityIncrease or mseIncrease.",
    ]);
  });

  it('names the line of an unknown candidate', () => {
    const p = problems(spec('{ "candidates": ["fp32", "int9-channel"] }'));
    assert.deepEqual(p, [
      "x.quantlens.json:6:38: 'search.candidates.1': int9-channel: unknown quantization scheme; did you mean int8-channel?",
    ]);
  });

  it('names the line of a repeated candidate and of a zero fraction', () => {
    const p = problems(spec('{ "candidates": ["fp32", "int8-channel", "fp32"], "maxCost": "0x" }'));
    assert.equal(p.length, 2, p.join('\n'));
    assert.match(p[0], /^x\.quantlens\.json:6:\d+: Candidate 'fp32' is listed twice\./);
    assert.match(p[1], /:6:\d+: 'search\.maxCost' "0x" must be a fraction above 0/);
  });
});

describe('routing', () => {
  const defs = [
    { by: 'label' as const, name: 'digit' },
    { by: 'buckets' as const, field: 'ink', edges: [0.1, 0.2] },
    { by: 'ids' as const, name: 'vip', ids: [1, 2] },
    { by: 'field' as const, field: 'source' },
  ];
  const names = ['all', 'digit=3', 'ink < 0.1', 'ink 0.1–0.2', 'ink ≥ 0.2', 'vip', 'source=web'];

  it('input-side slices are those on fields, buckets and ids; not the label, not all', () => {
    assert.deepEqual(
      [...inputSideSlices(defs, 'label', names)],
      ['ink < 0.1', 'ink 0.1–0.2', 'ink ≥ 0.2', 'vip', 'source=web'],
    );
  });

  it("routing's cost: both models' bytes; for latency, a request's mean (the slice's share served by the special plan)", () => {
    assert.equal(routedCost('bytes', 3000, 1000, 0.25), 4000);
    assert.equal(routedCost('latency', 2, 1, 0.25), 1.25);
    assert.equal(routedCost('latency', 2, 1, 0), 1);
  });

  it('routes a forcing input-side slice to the cheapest plan that protects it, the rest within maxCost', () => {
    const plans = [
      { id: 'fp32', cost: 100, verdicts: { all: 'pass', 'ink < 0.1': 'pass', 'digit=3': 'pass' } as const },
      { id: 'fp16', cost: 50, verdicts: { all: 'pass', 'ink < 0.1': 'noise', 'digit=3': 'pass' } as const },
      { id: 'int4', cost: 15, verdicts: { all: 'pass', 'ink < 0.1': 'violated', 'digit=3': 'pass' } as const },
    ];
    const choices = routeChoices(['ink < 0.1'], inputSideSlices(defs, 'label', names), plans, 20);
    assert.deepEqual(
      choices.map((c) => [c.slice, c.special.id, c.rest.id]),
      [['ink < 0.1', 'fp16', 'int4']],
    );
    assert.deepEqual(routeChoices(['digit=3'], inputSideSlices(defs, 'label', names), plans, 20), []);
  });
});

describe('the found plan file', () => {
  it('is named after the spec, marked as generated, with notes beside scheme-id layers', () => {
    assert.equal(foundPlanName('mnist.quantlens.json'), 'mnist.found.qplan.json');
    const plan = {
      layers: { '/fc1/MatMul': 'int4-block32' },
      cost: 1,
      worst: 0,
      worstSlice: 'all',
      passes: true,
      withinNoise: false,
      decision: 'full' as const,
      samples: 10,
    };
    const text = foundPlanText(plan, { '/fc1/MatMul': 'why' }, 'm.onnx');
    assert.ok(isQuantLensFile(text));
    const value = JSON.parse(text) as {
      layers: Record<string, string>;
      notes: Record<string, string>;
      default: string;
    };
    assert.deepEqual(value.layers, { '/fc1/MatMul': 'int4-block32' });
    assert.deepEqual(value.notes, { '/fc1/MatMul': 'why' });
    assert.equal(value.default, 'fp32');
  });
});
