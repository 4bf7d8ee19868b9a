/**
 * Model-file variants in an evaluation, run by onnxruntime in sessions of their own: a copy with fp32's own
 * weights is exact, an int8 QDQ copy with the simulation's scales gives the simulated variant's metrics, a model
 * whose inputs differ is refused naming them (exit 2 from the CLI).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { SpecError } from '../../src/core/eval/spec';
import { evaluate } from '../../src/node/eval/evaluate';
import { writeMlp, writeQdqCopy, writeRenamedInput } from '../fixtures/fileVariants';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-filevariant-'));
const ROOT = path.join(__dirname, '..', '..');
const spec = (name: string, body: object): string => {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      model: 'mlp.onnx',
      task: 'classification',
      data: { path: 'data.jsonl' },
      slices: [{ by: 'field', field: 'group' }],
      sweep: false,
      sensitivity: false,
      latency: false,
      batchSize: 32,
      ...body,
    }),
  );
  return file;
};

before(async () => {
  const mlp = writeMlp(dir);
  copyFileSync(mlp, path.join(dir, 'same.onnx'));
  await writeQdqCopy(mlp, path.join(dir, 'mlp.int8-qdq.onnx'));
  copyFileSync(path.join(dir, 'mlp.int8-qdq.onnx'), path.join(dir, 'mlp.int8-qdq-exact.onnx'));
  writeRenamedInput(dir, 'renamed.onnx');
});

describe('model-file variants', () => {
  it('a copy with fp32 weights is exact; an int8 QDQ copy with exact kernels gives the simulated metrics', async () => {
    const exact = { config: { 'session.qdq_matmulnbits_accuracy_level': '0', 'session.disable_prepacking': '1' } };
    const results = await evaluate(
      spec('files.quantlens.json', {
        variants: [
          'int8-channel',
          { model: 'same.onnx', name: 'copy' },
          { model: 'mlp.int8-qdq-exact.onnx', name: 'qdq exact', sessionOptions: exact },
          { model: 'mlp.int8-qdq.onnx', name: 'qdq default' },
        ],
      }),
    );
    const [, simulated, same, qdqExact, qdqDefault] = results.variants;
    assert.deepEqual(results.variants.map((v) => [v.id, v.kind, v.label]).slice(0, 3), [
      ['fp32', 'reference', 'fp32'],
      ['int8-channel', 'scheme', 'int8-channel'],
      ['model:same.onnx', 'file', 'copy'],
    ]);
    assert.equal(same.model, 'same.onnx');
    assert.equal(same.sessionOptions!.graphOptimizationLevel, 'all', "onnxruntime's defaults, recorded");
    assert.equal(qdqExact.sessionOptions!['session.qdq_matmulnbits_accuracy_level'], '0');
    for (const slice of results.slices.map((s) => s.name)) {
      // Outputs bit-identical to fp32's (infinite SQNR); the scorer's KL of identical rows is at its rounding floor.
      assert.equal(same.metrics[slice].agreement, 1, slice);
      assert.equal(same.metrics[slice].outputSqnrDb, Infinity, slice);
      assert.ok(same.metrics[slice].kl! < 1e-12, `${slice} KL ${same.metrics[slice].kl}`);
      for (const key of ['agreement', 'kl', 'accuracy', 'outputSqnrDb'] as const)
        assert.equal(qdqExact.metrics[slice][key], simulated.metrics[slice][key], `${slice} ${key}`);
    }
    assert.ok(simulated.metrics.all.kl! > 0, 'int8 changes the outputs a little');
    // onnxruntime's defaults fuse DequantizeLinear -> MatMul into MatMulNBits with int8 activations: shown.
    assert.ok(
      qdqDefault.metrics.all.outputSqnrDb! < simulated.metrics.all.outputSqnrDb! - 0.5,
      `default ${qdqDefault.metrics.all.outputSqnrDb} dB vs simulated ${simulated.metrics.all.outputSqnrDb} dB`,
    );
    assert.ok(
      qdqExact.weightBytes < same.weightBytes / 3,
      `int8 stored ${qdqExact.weightBytes} vs ${same.weightBytes}`,
    );
    assert.equal(results.variants[0].cost, undefined, 'latency: false measures nothing');
  });

  it('a model whose inputs differ is refused, naming the input', async () => {
    await assert.rejects(
      evaluate(spec('renamed.quantlens.json', { variants: [{ model: 'renamed.onnx' }] })),
      (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.match(error.message, /renamed\.quantlens\.json:1:\d+: Model 'renamed\.onnx' has no input 'x'/);
        assert.match(error.message, /takes an input 'input' the spec's model does not have/);
        return true;
      },
    );
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src', 'cli', 'main.ts'),
        'eval',
        path.join(dir, 'renamed.quantlens.json'),
        '--no-write',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, /has no input 'x'/);
  });

  it('a missing model file is bad input at its place in the spec', async () => {
    await assert.rejects(
      evaluate(spec('missing.quantlens.json', { variants: [{ model: 'nope.onnx' }] })),
      /Model 'nope\.onnx' cannot be used/,
    );
  });
});
