/** Specs, slices, plans and array files: validation with lines, slice membership, plan edits, npy/idx parsing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIdx, parseNpy } from '../../src/core/eval/arrayFiles';
import { parsePlan, planEntry, setLayerScheme, unknownLayers } from '../../src/core/eval/plan';
import { bucketNames, buildSlices, quantileEdges, SAMPLE_INDEX } from '../../src/core/eval/slices';
import { parseSpec, SpecError, sweepSchemes } from '../../src/core/eval/spec';
import { npy } from '../fixtures/npy';

const problemsOf = (text: string): { line: number; message: string }[] => {
  try {
    parseSpec(text, 'x.quantlens.json');
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return error.problems.map((p) => ({ line: p.range.line + 1, message: p.message }));
  }
  return [];
};

describe('evaluation spec', () => {
  it('applies defaults', () => {
    const { spec } = parseSpec('{"model": "m.onnx", "task": "classification", "data": {"path": "d.jsonl"}}', 'x');
    assert.deepEqual(spec.variants, [{ scheme: 'fp16' }, { scheme: 'int8-channel' }, { scheme: 'int4-block32' }]);
    assert.equal(spec.label, 'label');
    assert.deepEqual(spec.sweep, { granularity: 'channel', asymmetric: false, bits: [8, 7, 6, 5, 4, 3, 2] });
    assert.deepEqual(spec.sensitivity, { schemes: undefined, leaveOneOut: true });
    assert.deepEqual(sweepSchemes({ granularity: 'block32', asymmetric: true, bits: [4, 2] }), [
      'int4-block32-asym',
      'int2-block32-asym',
    ]);
  });

  it('points at the line of each problem', () => {
    const problems = problemsOf(`{
  "model": "m.onnx",
  "task": "classify",
  "data": {"path": "d.jsonl"},
  "variants": ["int8-chanel"],
  "colour": 1
}`);
    assert.deepEqual(problems.map((p) => p.line).sort(), [3, 5, 6]);
    assert.match(problems.find((p) => p.line === 5)!.message, /unknown quantization scheme/);
    assert.match(problems.find((p) => p.line === 6)!.message, /Unknown property 'colour'/);
    assert.match(problems.find((p) => p.line === 3)!.message, /'task'/);
  });

  it('reports missing fields, JSON syntax and semantic problems', () => {
    assert.match(problemsOf('{"task": "outputs", "data": {"path": "a"}}')[0].message, /needs 'model'/);
    assert.equal(problemsOf('{\n  "model": "m.onnx",\n  oops\n}')[0].line, 3);
    assert.match(
      problemsOf('{"model": "m", "task": "language-model", "data": {"path": "a"}}')[0].message,
      /needs 'tokens'/,
    );
    assert.match(
      problemsOf(
        '{"model": "m", "task": "outputs", "data": {"path": "a"}, "slices": [{"by": "buckets", "field": "x"}]}',
      )[0].message,
      /either 'edges' or 'quantiles'/,
    );
    assert.match(
      problemsOf('{"model": "m", "task": "outputs", "data": {"path": "a"}, "variants": ["fp16", "fp16"]}')[0].message,
      /listed twice/,
    );
  });
});

describe('slices', () => {
  const fields: Record<string, (number | string)[]> = {
    label: [0, 1, 1, 2],
    ink: [0.1, 0.5, 0.2, 0.9],
    writer: ['a', 'b', 'a', 'a'],
  };
  const scalar = (f: string, s: number): number | string | undefined => (f === SAMPLE_INDEX ? s + 10 : fields[f]?.[s]);

  it('by label, field, buckets and ids; every sample is in all', () => {
    const slices = buildSlices(
      [
        { by: 'label', name: 'digit' },
        { by: 'field', field: 'writer' },
        { by: 'buckets', field: 'ink', edges: [0.2, 0.6] },
        { by: 'ids', name: 'hard', ids: [11, 13] },
      ],
      4,
      scalar,
      'label',
    );
    assert.deepEqual(slices.names, [
      'all',
      'digit=0',
      'digit=1',
      'digit=2',
      'writer=a',
      'writer=b',
      'ink < 0.2',
      'ink 0.2–0.6',
      'ink ≥ 0.6',
      'hard',
    ]);
    assert.deepEqual(slices.of[1], [0, 2, 5, 7, 9]);
    assert.deepEqual(slices.of[2], [0, 2, 4, 7]);
    assert.deepEqual(slices.sizes, [4, 1, 2, 1, 3, 1, 1, 2, 1, 2]);
  });

  it('quantile buckets hold equal counts; missing fields are named', () => {
    assert.deepEqual(quantileEdges([4, 1, 3, 2, 6, 5], 3), [3, 5]);
    assert.deepEqual(bucketNames('x', [1, 2]), ['x < 1', 'x 1–2', 'x ≥ 2']);
    assert.throws(
      () => buildSlices([{ by: 'field', field: 'nope' }], 4, scalar, 'label'),
      /sample 0 has no scalar field 'nope'/,
    );
    assert.throws(() => buildSlices([{ by: 'ids', name: 'h', ids: [99] }], 4, scalar, 'label'), /none of its ids/);
  });
});

describe('quantization plans', () => {
  const text =
    '{\n  "model": "m.onnx",\n  "default": "int8-channel",\n  "layers": {\n    "/fc1/MatMul": "int4-block32",\n    "fc2.weight": "fp32"\n  }\n}\n';

  it('resolve weight names, then layers, then the default', () => {
    const { plan } = parsePlan(text);
    assert.deepEqual(planEntry(plan!, { name: 'fc1.weight', layers: ['/fc1/MatMul'] }), {
      key: '/fc1/MatMul',
      scheme: 'int4-block32',
    });
    assert.deepEqual(planEntry(plan!, { name: 'fc2.weight', layers: ['/fc2/MatMul'] }), {
      key: 'fc2.weight',
      scheme: 'fp32',
    });
    assert.deepEqual(planEntry(plan!, { name: 'fc3.weight', layers: ['/fc3/MatMul'] }), { scheme: 'int8-channel' });
    assert.deepEqual(unknownLayers(plan!, [{ name: 'fc1.weight', layers: ['/fc1/MatMul'] }]), ['fc2.weight']);
  });

  it('report bad schemes on their line and edit entries in place', () => {
    const bad = parsePlan(text.replace('"fp32"', '"int9-channel"'));
    assert.equal(bad.problems[0].range.line, 5);
    assert.match(bad.problems[0].message, /Unknown scheme "int9-channel"/);
    const edited = setLayerScheme(text, '/fc1/MatMul', 'int8-channel');
    assert.equal(parsePlan(edited).plan!.layers['/fc1/MatMul'], 'int8-channel');
    assert.equal(edited.split('\n').length, text.split('\n').length);
    const added = parsePlan(setLayerScheme(text, '/fc3/MatMul', 'fp16')).plan!;
    assert.deepEqual(Object.keys(added.layers), ['/fc1/MatMul', 'fc2.weight', '/fc3/MatMul']);
  });
});

describe('array files', () => {
  it('parses .npy (v1, little-endian float32 and int64)', () => {
    const f = parseNpy(npy('<f4', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6)));
    assert.deepEqual(f.shape, [2, 3]);
    assert.deepEqual([...f.data], [1, 2, 3, 4, 5, 6]);
    const i = parseNpy(npy('<i8', [2], BigInt64Array.of(7n, -1n)));
    assert.deepEqual([...i.data], [7n, -1n]);
    assert.throws(() => parseNpy(npy('>f4', [1], Float32Array.of(1))), /big-endian/);
    assert.throws(() => parseNpy(new Uint8Array(12)), /not a .npy file/);
  });

  it('parses IDX (uint8 and big-endian int32)', () => {
    const u8 = parseIdx(Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4));
    assert.deepEqual(u8.shape, [2, 2]);
    assert.deepEqual([...u8.data], [1, 2, 3, 4]);
    const i32 = parseIdx(Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe));
    assert.deepEqual([...i32.data], [-2]);
    assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x08, 1, 0, 0, 0, 5, 1)), /IDX data is short/);
  });
});
