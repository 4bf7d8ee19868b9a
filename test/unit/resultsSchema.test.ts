/**
 * schemas/results.schema.json documents the results file: real evaluations (classification with sweep,
 * sensitivity, leave-one-out and a plan; regression; raw outputs; a language model), written as the results
 * file is, validate against it; and the fields it types as numbers are exactly those the reviver revives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import { finiteReplacer, RESULTS_NUMBERS, type EvalResults } from '../../src/core/eval/results';
import { evaluate } from '../../src/node/eval/evaluate';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../fixtures/onnxBuilder';

const ROOT = path.join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'results.schema.json'), 'utf8')) as JsonSchema;
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-results-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let classification: EvalResults | undefined;

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  definitions?: Record<string, JsonSchema>;
}

/** The results as the results file and `eval --json` hold them. */
const fileText = (results: EvalResults): string => `${JSON.stringify(results, finiteReplacer, 2)}\n`;

function assertValid(results: EvalResults): unknown {
  const written = JSON.parse(fileText(results)) as Record<string, unknown>;
  const ok = validate(written);
  assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  const undocumented = Object.keys(written).filter((k) => !Object.hasOwn(schema.properties!, k));
  assert.deepEqual(undocumented, [], 'every top-level field is documented');
  return written;
}

const writeSpec = (name: string, body: object): string => {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
};

before(() => {
  const r = rng(5);
  const xs = Array.from({ length: 80 }, () => Array.from(gaussian(r, 8, 1), (v) => Number(v.toFixed(4))));
  const w1 = gaussian(r, 64, 0.4);
  const w2 = gaussian(r, 24, 0.4);
  writeFileSync(
    path.join(dir, 'small.onnx'),
    model({
      name: 'small',
      node: [
        node('MatMul', ['x', 'fc1.weight'], ['h'], '/fc1/MatMul'),
        node('Relu', ['h'], ['a'], '/act/Relu'),
        node('MatMul', ['a', 'fc2.weight'], ['y'], '/fc2/MatMul'),
      ],
      initializer: [floatTensor('fc1.weight', [8, 8], w1), floatTensor('fc2.weight', [8, 3], w2)],
      input: [value('x', DT.float32, ['batch', 8])],
      output: [value('y', DT.float32, ['batch', 3])],
    }),
  );
  const rows = xs.map((x, i) => ({
    x,
    label: i % 3,
    target: [x[0], x[1] - x[2], x[3] * 0.5].map((v) => Number(v.toFixed(3))),
    group: i % 2 ? 'odd' : 'even',
  }));
  writeFileSync(path.join(dir, 'data.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n'));
  writeFileSync(
    path.join(dir, 'keep.qplan.json'),
    JSON.stringify({ default: 'int4-channel', layers: { '/fc1/MatMul': 'fp32' } }),
  );
});

describe('schemas/results.schema.json', () => {
  it('classification with a plan, sweep, sensitivity and leave-one-out validates', async () => {
    const results = await evaluate(
      writeSpec('cls.quantlens.json', {
        model: 'small.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        slices: [{ by: 'field', field: 'group' }, { by: 'label' }],
        variants: ['fp16', 'int4-channel', { plan: 'keep.qplan.json' }],
        budget: { accuracyDrop: 0.5, kl: 0.001 },
        sweep: { granularity: 'channel', bits: [8, 3, 2] },
        sensitivity: { leaveOneOut: true },
        limit: 60,
      }),
      { thresholds: { minSliceSize: 5, kl: 0.0001 } },
    );
    const written = assertValid(results) as EvalResults;
    classification = written;
    assert.ok(written.sweep && written.sensitivity?.layers[0].leaveOneOut, 'sweep and leave-one-out are there');
    assert.deepEqual(
      written.variants.map((v) => v.kind),
      ['reference', 'scheme', 'scheme', 'plan'],
    );
    assert.ok(written.flags.length > 0 && written.variants.some((v) => v.violations.length > 0));
    assert.equal(written.variants[0].metrics.all.outputSqnrDb, 'Infinity', 'fp32 against itself, as text');
  });

  it('regression and raw outputs validate', async () => {
    for (const task of ['regression', 'outputs'] as const) {
      const results = await evaluate(
        writeSpec(`${task}.quantlens.json`, {
          model: 'small.onnx',
          task,
          data: { path: 'data.jsonl' },
          label: 'target',
          ...(task === 'regression' ? { budget: { mseIncrease: 1 } } : {}),
          slices: [{ by: 'field', field: 'group' }],
          variants: ['int8-channel', 'int3-channel'],
          sweep: false,
        }),
      );
      const written = assertValid(results) as EvalResults;
      assert.equal(written.task, task);
      if (task === 'regression') assert.ok(written.variants[1].metrics.all.mseChange);
    }
  });

  it('a language model validates', async () => {
    const lm = path.join(ROOT, 'demo', 'lm');
    const results = await evaluate(
      writeSpec('lm.quantlens.json', {
        model: path.join(lm, 'char_gpt.onnx'),
        task: { type: 'language-model', tokens: 'tokens' },
        data: { path: path.join(lm, 'heldout.jsonl') },
        slices: [{ by: 'field', field: 'source' }],
        variants: ['int4-block32'],
        sweep: false,
        sensitivity: { schemes: ['int4-block32'], leaveOneOut: false },
        limit: 8,
        batchSize: 8,
      }),
    );
    const written = assertValid(results) as EvalResults;
    assert.ok(written.variants[1].metrics.all.perplexityChange);
  });

  it('types as numbers exactly the fields RESULTS_NUMBERS revives', () => {
    assert.deepEqual(schemaNumberPaths(schema).sort(), shapeNumberPaths(RESULTS_NUMBERS).sort());
  });

  it('rejects a results file with a field changed: an unknown kind, a text for a number, a metric missing or unknown', () => {
    assert.ok(classification, 'the classification results were written');
    const broken: [string, (r: EvalResults) => void][] = [
      ['kind', (r) => void ((r.variants[1] as { kind: string }).kind = 'other')],
      ['number text', (r) => void ((r.variants[1].metrics.all as unknown as { kl: string }).kl = 'big')],
      ['missing', (r) => delete (r.variants[1].metrics.all as Partial<SliceMetrics>).outputSqnrDb],
      ['unknown', (r) => void Object.assign(r.variants[1].metrics.all, { klDivergence: 1 })],
      ['version', (r) => void ((r as { version: number }).version = 2)],
    ];
    for (const [what, change] of broken) {
      const copy = JSON.parse(JSON.stringify(classification)) as EvalResults;
      change(copy);
      assert.equal(validate(copy), false, what);
    }
    assert.equal(validate(classification), true);
  });
});

/** Paths ('/'-joined keys, `*` for any key, arrays transparent) where the schema allows a number. */
function schemaNumberPaths(root: JsonSchema): string[] {
  const resolve = (s: JsonSchema): JsonSchema =>
    s.$ref ? resolve(root.definitions![s.$ref.replace('#/definitions/', '')]) : s;
  const isNumber = (s: JsonSchema): boolean => {
    const r = resolve(s);
    const types = [r.type ?? []].flat();
    return types.includes('number') || types.includes('integer') || (r.anyOf ?? []).some(isNumber);
  };
  const walk = (s: JsonSchema, at: string): string[] => {
    const r = resolve(s);
    if (isNumber(r)) return [at];
    if (r.items) return walk(r.items, at);
    const fields = Object.entries(r.properties ?? {}).flatMap(([k, v]) => walk(v, `${at}/${k}`));
    const rest = typeof r.additionalProperties === 'object' ? walk(r.additionalProperties, `${at}/*`) : [];
    return [...fields, ...rest];
  };
  return walk(root, '');
}

type Shape = 'number' | { [key: string]: Shape };

/** The same paths of a NumberShape. */
function shapeNumberPaths(shape: unknown, at = ''): string[] {
  const s = shape as Shape;
  if (s === 'number') return [at];
  return Object.entries(s).flatMap(([k, v]) => shapeNumberPaths(v, `${at}/${k}`));
}
