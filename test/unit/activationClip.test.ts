/**
 * Clip folding in w8a8 (onnxruntime's QDQRemovableActivation, operators/activation.py): on Conv -> Clip(0, 6) the
 * Conv's output is not a site (the Clip's output takes its place, as in onnxruntime's quantizer), the export
 * removes the Clip (QuantizeLinear with the Clip output's parameters saturates at 0 and 6 anyway: the check of
 * onnxruntime's ClipQuantFusion), keeps a Clip whose bound is not a no-op (min 0.05, range widened to 0), and the
 * exported model run with graph optimization disabled gives the engine's simulation bit for bit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { clipIsNoOp } from '../../src/core/export/activationQdq';
import { activationQuantParams, type ActivationQuant } from '../../src/core/quant/activationQuant';
import { activationSites } from '../../src/core/quant/activationSites';
import { BiasFeeds } from '../../src/node/eval/activationBias';
import { withQdq } from '../../src/node/eval/activationModel';
import { checkEval } from '../../src/node/eval/evalCheck';
import { quantizeWeight } from '../../src/node/eval/evalModel';
import { batchOf, qdqFeeds } from '../../src/node/eval/evalRun';
import { exportModel } from '../../src/node/export/exportModel';
import { calibrateForExport } from '../../src/node/export/specCalibration';
import { gaussianRows } from '../fixtures/activationFixtures';
import * as b from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-clip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** x [16] -> Reshape [1,4,4] -> Conv(1->3, 3x3, pad 1) -> Clip(0, 6) -> Flatten -> Gemm(48->8) -> Clip(0.05, -) -> Gemm(8->4). */
function clipCnn(): Uint8Array {
  const r = b.rng(6);
  const f = (name: string, dims: number[], std: number): onnx.ITensorProto =>
    b.floatTensor(
      name,
      dims,
      b.gaussian(
        r,
        dims.reduce((x, y) => x * y, 1),
        std,
      ),
    );
  return b.model({
    name: 'clip-cnn',
    node: [
      b.node('Reshape', ['x', 'shape'], ['r'], '/Reshape'),
      b.node('Conv', ['r', 'conv.weight', 'conv.bias'], ['c'], '/conv/Conv', { pads: [1, 1, 1, 1] }),
      b.node('Clip', ['c', 'zero', 'six'], ['k1'], '/conv/Clip'),
      b.node('Flatten', ['k1'], ['f'], '/Flatten', { axis: 1 }),
      b.node('Gemm', ['f', 'fc1.weight', 'fc1.bias'], ['g1'], '/fc1/Gemm', { transB: 1 }),
      b.node('Clip', ['g1', 'low', ''], ['k2'], '/fc1/Clip'),
      b.node('Gemm', ['k2', 'fc2.weight', 'fc2.bias'], ['logits'], '/fc2/Gemm', { transB: 1 }),
    ],
    initializer: [
      b.rawTensor('shape', b.DT.int64, [4], BigInt64Array.of(-1n, 1n, 4n, 4n)),
      // Weights wide enough that the Conv's output crosses 6 (the Clip clips both ways).
      f('conv.weight', [3, 1, 3, 3], 1.5),
      f('conv.bias', [3], 0.5),
      b.floatTensor('zero', [], Float32Array.of(0)),
      b.floatTensor('six', [], Float32Array.of(6)),
      f('fc1.weight', [8, 48], 0.2),
      f('fc1.bias', [8], 0.2),
      b.floatTensor('low', [], Float32Array.of(0.05)),
      f('fc2.weight', [4, 8], 0.5),
      f('fc2.bias', [4], 0.1),
    ],
    input: [b.value('x', b.DT.float32, ['batch', 16])],
    output: [b.value('logits', b.DT.float32, ['batch', 4])],
  });
}

const modelFile = path.join(dir, 'clip.onnx');
writeFileSync(modelFile, clipCnn());
writeFileSync(path.join(dir, 'data.jsonl'), gaussianRows(300));
const spec = path.join(dir, 'clip.quantlens.json');
writeFileSync(
  spec,
  JSON.stringify({
    model: 'clip.onnx',
    task: 'outputs',
    data: { path: 'data.jsonl' },
    variants: ['w8a8'],
    calibration: { samples: 64 },
    latency: false,
  }),
);

describe('Clip folding (w8a8)', () => {
  it('clipIsNoOp: Clip(0, 6) under a [0, <= 6] uint8 range is a no-op, a min above 0 is not', () => {
    const p = activationQuantParams('k', 0, 6, { bits: 8, signed: false });
    assert.equal(clipIsNoOp(p, 0, 6), true);
    assert.equal(clipIsNoOp(activationQuantParams('k', 0, 4.5, { bits: 8, signed: false }), 0, 6), true);
    // The range is widened to include 0: values in [0, 0.05) quantize below Q(0.05), so the Clip matters.
    assert.equal(clipIsNoOp(activationQuantParams('k', 0.05, 3, { bits: 8, signed: false }), 0.05, Infinity), false);
    // A max below the range's top matters too.
    assert.equal(clipIsNoOp(p, 0, 5), false);
    assert.equal(clipIsNoOp(p, -Infinity, Infinity), true);
  });

  it('sites as onnxruntime: the Clip output replaces the Conv / Gemm output; export = simulation bit for bit', async () => {
    const checked = await checkEval(spec);
    const sites = activationSites(checked.model.siteGraph, { exclude: checked.spec.exclude });
    assert.deepEqual(
      sites.map((s) => s.tensor),
      ['r', 'k1', 'f', 'k2', 'logits'],
    );
    const { activations } = await calibrateForExport(spec, readFileSync(modelFile), { scheme: 'w8a8' });
    assert.deepEqual(
      activations.map((a) => a.tensor),
      ['r', 'k1', 'f', 'k2', 'logits'],
    );
    const k1 = activations.find((a) => a.tensor === 'k1') as ActivationQuant;
    assert.equal(k1.rangeMin, 0);
    assert.equal(k1.rangeMax, 6, 'the calibration saw the Clip clip at 6');
    const out = path.join(dir, 'clip.w8a8.onnx');
    const result = await exportModel(modelFile, {
      scheme: 'w8a8',
      activations,
      output: out,
      version: 'test',
      force: true,
    });
    assert.deepEqual(result.activations?.foldedRelus, ['/conv/Clip']);
    const exported = onnx.ModelProto.decode(readFileSync(out)).graph!;
    assert.deepEqual(
      (exported.node ?? []).filter((n) => n.opType === 'Clip').map((n) => n.name),
      ['/fc1/Clip'],
    );
    const names = new Set((exported.initializer ?? []).map((t) => t.name));
    assert.ok(!names.has('six') && !names.has('zero'), 'the removed Clip’s bounds are dropped');
    assert.ok(names.has('low'));
    // The Conv writes the Clip's output, quantized with its parameters.
    const conv = (exported.node ?? []).find((n) => n.opType === 'Conv')!;
    assert.deepEqual(conv.output, ['k1']);

    const params = new Map(activations.map((a) => [a.tensor, a as ActivationQuant]));
    const qdq = withQdq(checked.model.bytes, sites, ['uint8'], { biases: true });
    const quantized = new Map(checked.model.weights.map((w) => [w.name, 'int8-channel']));
    const weights = Object.fromEntries(
      checked.model.weights.map((w) => {
        const values = quantizeWeight(w, 'int8-channel', new Float32Array(w.values.length));
        return [w.name, new ort.Tensor('float32', values, w.dims)];
      }),
    );
    const biases = new BiasFeeds(qdq.biases, new Map(checked.model.weights.map((w) => [w.name, w])));
    const sim = await ort.InferenceSession.create(qdq.bytes, { graphOptimizationLevel: 'all' });
    const exp = await ort.InferenceSession.create(out, { graphOptimizationLevel: 'disabled' });
    try {
      let compared = 0;
      for (let i = 0; i * checked.spec.batchSize < checked.samples.length; i++) {
        const batch = batchOf(checked, i, checked.spec.batchSize);
        const feeds = { ...batch.feeds, ...weights, ...qdqFeeds(qdq, params) };
        const simulated = (await sim.run({ ...feeds, ...biases.feeds({ quantized, activations: params }) })).logits;
        const got = (await exp.run(batch.feeds)).logits;
        const [e, s] = [got, simulated].map((t) => Buffer.from((t.data as Float32Array).buffer));
        assert.ok(e.equals(s), `batch ${i}: the export's logits differ from the simulation's`);
        compared += simulated.dims[0];
      }
      assert.equal(compared, checked.samples.length);
    } finally {
      await sim.release();
      await exp.release();
    }
  });
});
