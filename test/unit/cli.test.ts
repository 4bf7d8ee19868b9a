import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeModel } from '../../src/core/onnx/decode';
import { decodeRaw } from '../../src/core/onnx/tensorValues';
import { collectWeights } from '../../src/core/onnx/weights';
import { fakeQuantize } from '../../src/core/quant/fakeQuant';
import { parseScheme } from '../../src/core/quant/schemes';
import * as b from '../fixtures/onnxBuilder';

const ROOT = path.join(__dirname, '..', '..');
const MODELS = path.join(ROOT, 'test', 'fixtures', 'models');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 256 * 2 ** 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('quantlens inspect', () => {
  it('--json: the overview and every weight with its label, stats and scheme metrics', () => {
    const r = cli('inspect', path.join(MODELS, 'gemm_transb.onnx'), '--schemes', 'int8-channel,fp16', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.model.weightCount, 2);
    assert.deepEqual(report.schemes, ['int8-channel', 'fp16']);
    const [w, b] = report.weights;
    assert.deepEqual(
      [w.name, w.layers, w.dtype, w.shape, w.quantizable],
      ['fc.weight', [{ node: '/fc/Gemm', op: 'Gemm', input: 1 }], 'float32', [4, 8], true],
    );
    assert.deepEqual(Object.keys(w.schemes), ['int8-channel', 'fp16']);
    assert.deepEqual(Object.keys(w.schemes['int8-channel']).sort(), [
      'clippedFraction',
      'cosine',
      'maxAbsError',
      'mse',
      'sqnrDb',
      'zeroedFraction',
    ]);
    assert.deepEqual([b.name, b.role, b.quantizable, b.schemes], ['fc.bias', 'bias', false, {}]);
    assert.equal(w.stats.count, 32);
  });

  it('reports the same error as quantize-dequantize of the stored values', () => {
    const r = cli('inspect', path.join(MODELS, 'fp16_weights.onnx'), '--schemes', 'fp16,int4-channel', '--json');
    const w = JSON.parse(r.stdout).weights[0];
    // fp16 weights are exact in fp16.
    assert.equal(w.schemes.fp16.sqnrDb, 'Infinity');
    // int4 per output column of the MatMul weight [8, 8], recomputed from the stored fp16 bits.
    const bytes = readFileSync(path.join(MODELS, 'fp16_weights.onnx'));
    const model = decodeModel(bytes);
    const ref = collectWeights(model, bytes)[0];
    const values = Float32Array.from(
      decodeRaw(bytes.subarray(ref.storage.kind === 'raw' ? ref.storage.offset : 0), 10, 64),
    );
    const hat = fakeQuantize(values, { rows: 8, cols: 8, channelAxis: 1 }, parseScheme('int4-channel'));
    const signal = values.reduce((a, v) => a + v * v, 0);
    const noise = values.reduce((a, v, i) => a + (v - hat[i]) ** 2, 0);
    assert.ok(Math.abs(w.schemes['int4-channel'].sqnrDb - 10 * Math.log10(signal / noise)) < 1e-9);
  });

  it('--md prints a table; external data and Constant weights are read', () => {
    const md = cli('inspect', path.join(MODELS, 'external_data.onnx'), '--md');
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /\| fc\.weight \| \/fc\/MatMul \(MatMul:1\) \| float32 \| \[16, 8\] \| weight \|/);
    const c = cli('inspect', path.join(MODELS, 'constant_weights.onnx'), '--json');
    assert.equal(JSON.parse(c.stdout).weights[0].stats.count, 24);
  });

  it('bad input: exit code 2 and a message that says what and where', () => {
    const broken = cli('inspect', path.join(MODELS, 'broken_missing_external.onnx'));
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /missing_weights\.bin.*fc\.weight/);
    const scheme = cli('inspect', path.join(MODELS, 'mlp.onnx'), '--schemes', 'int4-block48');
    assert.equal(scheme.code, 2);
    assert.match(scheme.stderr, /Unsupported block size 48/);
    assert.equal(cli('inspect', path.join(MODELS, 'nope.onnx')).code, 2);
    assert.equal(cli('frobnicate').code, 2);
  });
});

describe('quantlens inspect: one unreadable weight does not hide the others', () => {
  it('lists a sparse initializer and a typed tensor shorter than its shape with the reason, analyses the rest', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-partial-'));
    try {
      const file = path.join(dir, 'partial.onnx');
      writeFileSync(
        file,
        b.model({
          node: [
            b.node('MatMul', ['x', 'good'], ['h'], '/a/MatMul'),
            b.node('MatMul', ['h', 'short'], ['h2'], '/b/MatMul'),
            b.node('Add', ['h2', 'sp'], ['y'], '/c/Add'),
          ],
          initializer: [
            b.floatTensor('good', [4, 4], b.gaussian(b.rng(1), 16)),
            { name: 'short', dataType: b.DT.float32, dims: [4, 4], floatData: [1, 2, 3] },
          ],
          sparseInitializer: [
            {
              values: { name: 'sp', dataType: b.DT.float32, dims: [2], floatData: [1, 2] },
              indices: { name: 'sp_i', dataType: b.DT.int64, dims: [2], int64Data: [0, 3] },
              dims: [4],
            },
          ],
          input: [b.value('x', b.DT.float32, [1, 4])],
          output: [b.value('y', b.DT.float32, [1, 4])],
        }),
      );
      const r = cli('inspect', file, '--schemes', 'int8-channel', '--json');
      assert.equal(r.code, 0, r.stderr);
      const byName = Object.fromEntries(JSON.parse(r.stdout).weights.map((w: { name: string }) => [w.name, w]));
      assert.ok(byName.good.schemes['int8-channel'].sqnrDb > 30);
      assert.match(
        byName.short.problem,
        /Tensor 'short' in partial\.onnx cannot be decoded: its shape needs 16 values, the tensor holds 3/,
      );
      assert.equal(byName.short.quantizable, false);
      assert.equal(byName.sp.problem, 'sparse initializers are listed, not analysed yet');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('quantlens inspect: hostile models end in exit 0 or 2', () => {
  it('--json on 5,000 tensors and nodes sharing one name prints (was RangeError: Invalid string length)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-dupes-'));
    try {
      const file = path.join(dir, 'dupes.onnx');
      const n = 5000;
      writeFileSync(
        file,
        b.model({
          node: Array.from({ length: n }, () => b.node('MatMul', ['x', 'w'], ['x'], 'same')),
          initializer: Array.from({ length: n }, () => b.floatTensor('w', [4, 4], new Float32Array(16).fill(1))),
          input: [b.value('x', b.DT.float32, [1, 4])],
          output: [b.value('x', b.DT.float32, [1, 4])],
        }),
      );
      const t0 = performance.now();
      const r = cli('inspect', file, '--schemes', 'int8-channel', '--json');
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.weights.length, n);
      assert.equal(report.weights[0].layers.length, n);
      assert.match(report.weights[1].problem, /another tensor of graph 'main' has the same name/);
      assert.ok(performance.now() - t0 < 60_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a model symlinked to /dev/zero is bad input, at once', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-zero-'));
    try {
      symlinkSync('/dev/zero', path.join(dir, 'zero.onnx'));
      const r = cli('inspect', path.join(dir, 'zero.onnx'));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /is a character device; QuantLens reads only regular files/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('quantlens eval: only a violated verdict breaks the budget', () => {
  const DEMO = path.join(ROOT, 'demo', 'mnist');
  const evalSpec = (dir: string, name: string, extra: Record<string, unknown>): string => {
    const file = path.join(dir, `${name}.quantlens.json`);
    writeFileSync(
      file,
      JSON.stringify({
        model: path.join(DEMO, 'mnist_mlp.onnx'),
        task: { type: 'classification', output: 'logits' },
        data: [
          { path: path.join(DEMO, 'images.idx.gz'), as: 'image' },
          { path: path.join(DEMO, 'labels.idx.gz'), as: 'label' },
        ],
        inputs: { image: { field: 'image', shape: [1, 28, 28], scale: 1 / 255 } },
        slices: [{ by: 'label', name: 'digit' }],
        sweep: false,
        sensitivity: false,
        ...extra,
      }),
    );
    return file;
  };

  it('exit 0 when a variant is only within noise; exit 1 when the whole CI is over; no budget said so', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ql-verdict-'));
    try {
      // int4-block32 on the demo digits: drops of about 1 pp on two digits whose CIs include the 1 pp budget.
      const noise = cli('eval', evalSpec(dir, 'noise', { variants: ['int4-block32'], budget: { accuracyDrop: 1 } }));
      assert.equal(noise.code, 0, noise.stderr);
      assert.match(noise.stdout, /~noise/);
      assert.doesNotMatch(noise.stdout, /VIOLATED/);
      assert.match(noise.stdout, /Budget: violated by no variant\. Within noise .*: int4-block32\./);
      const json = JSON.parse(cli('eval', path.join(dir, 'noise.quantlens.json'), '--json', '--no-write').stdout);
      const v = json.variants[1];
      assert.equal(json.budgetViolated, false);
      assert.ok(Object.values(v.verdicts).includes('noise'), JSON.stringify(v.verdicts));
      assert.deepEqual(v.violations, []);
      const broken = cli('eval', evalSpec(dir, 'broken', { variants: ['int2-block32'], budget: { accuracyDrop: 1 } }));
      assert.equal(broken.code, 1, broken.stderr);
      assert.match(broken.stdout, /VIOLATED/);
      assert.match(broken.stdout, /int2-block32: -\d+\.\d pp accuracy on all \(limit 1 pp\)/);
      const none = cli('eval', evalSpec(dir, 'none', { variants: ['int2-block32'], limit: 100 }));
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /Budget: none set in the spec/);
      assert.doesNotMatch(none.stdout, /met by every variant/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
