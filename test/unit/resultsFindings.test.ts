/** Issue 17, findings 8-10: pure parts of the results, the CLI text, Create Spec and the sweep's palette. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collapsedGains, isCollapsed } from '../../src/core/eval/collapse';
import { changeText, klText } from '../../src/core/eval/describe';
import { JsonText } from '../../src/core/eval/jsonLocation';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults } from '../../src/core/eval/results';
import { parseScheme } from '../../src/core/quant/schemes';
import { nearestScheme } from '../../src/core/quant/schemeSuggestion';
import { parseSpec, SpecError } from '../../src/core/eval/spec';
import { draftSpec, inferTask } from '../../src/core/eval/specDraft';
import { evalSummary } from '../../src/node/eval/evalFormat';
import { DISTINCT_STYLES, lineStyle } from '../../webview/results/palette';
import { resultsShell } from '../fixtures/resultsShell';

const metrics = (over: Partial<SliceMetrics>): SliceMetrics => ({
  n: 100,
  outputSqnrDb: 10,
  varianceRatio: 1,
  ...over,
});
const est = (value: number, low = value, high = value): { value: number; low: number; high: number } => ({
  value,
  low,
  high,
});

describe('sweep palette', () => {
  it('gives 40 lines 40 different styles, neighbours in different colours', () => {
    const styles = Array.from({ length: DISTINCT_STYLES }, (_, i) => lineStyle(i));
    assert.equal(new Set(styles.map((s) => `${s.color}|${s.dash.join(',')}`)).size, 40);
    for (let i = 1; i < 40; i++) assert.notEqual(styles[i].color, styles[i - 1].color);
    // The old palette repeated after 7: slice 8 looked like slice 1.
    assert.notDeepEqual(lineStyle(7), lineStyle(0));
    assert.notDeepEqual(lineStyle(13), lineStyle(3));
  });
});

describe('collapse', () => {
  it('marks a gain of a variant that predicts one class for everything', () => {
    const int2 = {
      all: metrics({ agreement: 0.12, accuracyChange: est(-70, -75, -65) }),
      '3': metrics({ agreement: 0.98, accuracyChange: est(28, 22, 34) }),
      '5': metrics({ agreement: 0.01, accuracyChange: est(-95, -99, -90) }),
    };
    assert.ok(isCollapsed(int2.all));
    assert.deepEqual(collapsedGains(int2), ['3']);
  });

  it('does not mark a real gain of a variant that still follows fp32', () => {
    const int8 = { all: metrics({ agreement: 0.99 }), '3': metrics({ agreement: 0.99, accuracyChange: est(0.5) }) };
    assert.equal(isCollapsed(int8.all), false);
    assert.deepEqual(collapsedGains(int8), []);
  });
});

describe('numbers in words', () => {
  it('writes KL in one format whatever its size', () => {
    const texts = [0, 2e-8, 0.0000103, 0.42].map(klText);
    assert.deepEqual(texts, ['0', '2.00e-8', '1.03e-5', '4.20e-1']);
  });

  it('never shows "-0.0"', () => {
    const text = changeText(metrics({ perplexityChange: est(-0.01, -0.04, -0.001) }));
    assert.doesNotMatch(text, /-0\.0/);
    assert.equal(text, '0.0% [0.0, 0.0]');
  });
});

describe('spec errors', () => {
  const problem = (text: string): string => {
    try {
      parseSpec(text, 's.quantlens.json');
    } catch (error) {
      assert.ok(error instanceof SpecError);
      return error.problems[0].message;
    }
    return '';
  };

  it('echoes a scheme typo and suggests the nearest id', () => {
    assert.equal(nearestScheme('int4-blok32'), 'int4-block32');
    assert.equal(nearestScheme('int8-chanel'), 'int8-channel');
    assert.equal(nearestScheme('FP16'), 'fp16');
    assert.equal(nearestScheme('resnet50'), undefined);
    const message = problem(
      '{"model": "m.onnx", "task": "outputs", "data": {"path": "d"}, "variants": ["int4-blok32"]}',
    );
    assert.match(message, /int4-blok32: unknown quantization scheme; did you mean int4-block32\?/);
  });

  it('reports JSON syntax errors in words with line and column, not parser codes', () => {
    const json = new JsonText('{\n  "model": "m.onnx",\n}');
    assert.equal(json.syntaxErrors.length > 0, true);
    const message = json.syntaxErrors[0].message;
    assert.doesNotMatch(message, /PropertyNameExpected|ValueExpected/);
    assert.match(message, /^JSON syntax error at line 3, column 1: expected a property name/);
    assert.match(problem('{"model": "m.onnx" "task": "outputs"}'), /line 1, column 20: expected ',' between values/);
  });
});

describe('Create Spec: the task from the model signature', () => {
  const lm = {
    inputs: [{ name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 'seq', 96] }],
  };

  it('recognises a language model: integer ids [b, s] in, [b, s, vocab] out', () => {
    assert.equal(inferTask(lm).type, 'language-model');
    const spec = draftSpec('char.onnx', 'heldout.jsonl', lm);
    assert.deepEqual(spec.task, { type: 'language-model', tokens: 'tokens', output: 'logits' });
    assert.deepEqual(spec.inputs, { input_ids: 'tokens' });
    assert.deepEqual(spec.data, { path: 'heldout.jsonl' });
    assert.equal('label' in spec, false);
    // The draft is a valid spec.
    assert.equal(parseSpec(JSON.stringify(spec), 's').spec.task.type, 'language-model');
  });

  it('recognises a classifier, regression and falls back to outputs', () => {
    const image = { name: 'image', dtype: 'float32', shape: [1, 3, 32, 32] };
    const classifier = { inputs: [image], outputs: [{ name: 'scores', dtype: 'float32', shape: ['N', 10] }] };
    assert.equal(inferTask(classifier).type, 'classification');
    const spec = draftSpec('c.onnx', 'data/train.csv', classifier);
    assert.deepEqual(spec.inputs, { image: 'image' });
    assert.deepEqual(spec.slices, [{ by: 'label' }]);
    assert.equal(parseSpec(JSON.stringify(spec), 's').spec.task.type, 'classification');
    const regression = { inputs: [image], outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 1] }] };
    assert.equal(inferTask(regression).type, 'regression');
    const other = { inputs: [image], outputs: [{ name: 'features', dtype: 'float32', shape: [1, 64, 8, 8] }] };
    assert.equal(inferTask(other).type, 'outputs');
    assert.equal(parseSpec(JSON.stringify(draftSpec('o.onnx', 'd.npz', other)), 's').spec.task.type, 'outputs');
  });
});

describe('CLI text output', () => {
  const results = (budget: EvalResults['budget'], task: EvalResults['task'] = 'classification'): EvalResults => {
    const fp32 = { all: metrics({ accuracy: 0.9 }), '3': metrics({ accuracy: 0.7 }), '5': metrics({ accuracy: 0.95 }) };
    const int2 = {
      all: metrics({ accuracy: 0.2, agreement: 0.12, kl: 2.5, accuracyChange: est(-70, -75, -65) }),
      '3': metrics({ accuracy: 0.98, agreement: 0.72, kl: 0.3, accuracyChange: est(28, 22, 34) }),
      '5': metrics({ accuracy: 0, agreement: 0.01, kl: 4.1, accuracyChange: est(-95, -99, -90) }),
    };
    const int8 = {
      all: metrics({ accuracy: 0.9, agreement: 0.999, kl: 2e-8, accuracyChange: est(0) }),
      '3': metrics({ accuracy: 0.7, agreement: 1, kl: 0.0000103, accuracyChange: est(0) }),
      '5': metrics({ accuracy: 0.95, agreement: 0.998, kl: 0, accuracyChange: est(0) }),
    };
    const variant = (id: string, kind: 'reference' | 'scheme', m: Record<string, SliceMetrics>) => ({
      id,
      label: id,
      kind,
      weightBytes: 1024,
      metrics: m,
      violations: [],
    });
    return {
      ...resultsShell({ samples: 200 }),
      task,
      output: 'y',
      budget,
      slices: [
        { name: 'all', n: 200 },
        { name: '3', n: 100 },
        { name: '5', n: 100 },
      ],
      variants: [
        variant('fp32', 'reference', fp32),
        variant('int8-channel', 'scheme', int8),
        variant('int2-channel', 'scheme', int2),
      ],
      flags: [],
      skippedWeights: [],
      budgetViolated: false,
      timings: { totalMs: 1, prepareMs: 0, inferenceMs: 0, scoringMs: 0, runs: 3, samplesPerRun: 200 },
    };
  };

  it('shows agreement and KL per slice, and marks a collapsed gain', () => {
    const text = evalSummary(results({}));
    const table = text.slice(text.indexOf('Agreement with fp32'));
    const row3 = table.split('\n').find((l) => l.startsWith('3 '))!;
    assert.match(row3, /100\.0% · KL 1\.03e-5/);
    assert.match(row3, /72\.0% · KL 3\.00e-1/);
    assert.match(table, /int2-channel \(collapsed\)/);
    const sliceRow = text.split('\n').find((l) => l.startsWith('3 '))!;
    assert.match(sliceRow, /\+28\.0 pp \[\+22\.0, \+34\.0\]\) COLLAPSED/);
    assert.match(
      text,
      /int2-channel collapsed: it agrees with fp32 on only 12\.0% of the samples; its gains on 3 are artefacts/,
    );
    assert.doesNotMatch(text, /int8-channel.*COLLAPSED/);
  });

  it('writes KL in one format, hides columns a task lacks, no budget sentence without a budget', () => {
    const text = evalSummary(results({}));
    const all = text.split('\n').find((l) => l.startsWith('int8-channel ') && l.includes('KiB'))!;
    assert.match(all, /2\.00e-8/);
    assert.doesNotMatch(text, /ECE/);
    assert.doesNotMatch(text, /met by every variant/);
    assert.match(text, /Budget: none set in the spec/);
  });
});

describe('scheme typos outside specs', () => {
  it('parseScheme (CLI --schemes, settings) suggests the nearest id too', () => {
    assert.throws(() => parseScheme('int4-blok32'), /'int4-blok32' \(did you mean int4-block32\?\)/);
  });
});
