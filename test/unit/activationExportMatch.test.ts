/**
 * End to end on the demo CNN: the engine's w8a8 simulation (evaluate) and the static QDQ export (export --spec)
 * calibrate the same parameters, and the exported model run by onnxruntime with graph optimization disabled gives
 * the simulation's outputs bit for bit (int32 biases included), so the export's comparison says "identical".
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { evaluateExport } from '../../src/cli/exportEval';
import type { ActivationQuant } from '../../src/core/quant/activationQuant';
import { activationSites } from '../../src/core/quant/activationSites';
import { BiasFeeds } from '../../src/node/eval/activationBias';
import { withQdq } from '../../src/node/eval/activationModel';
import { checkEval } from '../../src/node/eval/evalCheck';
import { quantizeWeight } from '../../src/node/eval/evalModel';
import { batchOf, qdqFeeds } from '../../src/node/eval/evalRun';
import { evaluate } from '../../src/node/eval/evaluate';
import { exportModel } from '../../src/node/export/exportModel';
import { calibrateForExport } from '../../src/node/export/specCalibration';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-w8a8-match-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const f of ['mnist_cnn.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
  copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'cnn.quantlens.json'), 'utf8')) as object;
const spec = path.join(dir, 'cnn.quantlens.json');
writeFileSync(
  spec,
  JSON.stringify({ ...demo, variants: ['w8a8'], calibration: { samples: 96 }, limit: 300, latency: false }),
);
const model = path.join(dir, 'mnist_cnn.onnx');

describe('w8a8 on the demo CNN: simulation = export', () => {
  it('one calibration: the export calibrates the parameters the evaluation recorded', async () => {
    const results = await evaluate(spec, { version: 'test' });
    const bytes = readFileSync(model);
    const exported = await calibrateForExport(spec, bytes, { scheme: 'w8a8' });
    const recorded = (results.activations ?? []).map((a) => [a.tensor, a.scale, a.zeroPoint]);
    assert.equal(recorded.length, 8);
    assert.deepEqual(
      exported.activations.map((a) => [a.tensor, a.scale, a.zeroPoint]),
      recorded,
    );
    assert.equal(exported.samples, results.calibration?.samples);
  });

  it('the export with graph optimization disabled gives the simulated logits bit for bit, biases int32', async () => {
    const { activations } = await calibrateForExport(spec, readFileSync(model), { scheme: 'w8a8' });
    const out = path.join(dir, 'cnn.w8a8.onnx');
    await exportModel(model, { scheme: 'w8a8', activations, output: out, version: 'test', force: true });
    const checked = await checkEval(spec);
    const sites = activationSites(checked.model.siteGraph, { exclude: checked.spec.exclude });
    const params = new Map(activations.map((a) => [a.tensor, a as ActivationQuant]));
    const qdq = withQdq(checked.model.bytes, sites, ['uint8'], { biases: true });
    assert.deepEqual(
      qdq.biases.map((b) => b.node),
      ['/conv1/Conv', '/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm'],
    );
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
    const plainBias = biases.feeds({ quantized, activations: undefined });
    try {
      let compared = 0;
      let differFromFloatBias = 0;
      for (let b = 0; b * checked.spec.batchSize < checked.samples.length; b++) {
        const batch = batchOf(checked, b, checked.spec.batchSize);
        const feeds = { ...batch.feeds, ...weights, ...qdqFeeds(qdq, params) };
        const simulated = (await sim.run({ ...feeds, ...biases.feeds({ quantized, activations: params }) })).logits;
        const floatBias = (await sim.run({ ...feeds, ...plainBias })).logits;
        const exported = (await exp.run(batch.feeds)).logits;
        assert.deepEqual(exported.dims, simulated.dims);
        const [e, s, f] = [exported, simulated, floatBias].map((t) => Buffer.from((t.data as Float32Array).buffer));
        assert.ok(e.equals(s), `batch ${b}: the export's logits differ from the simulation's`);
        if (!e.equals(f)) differFromFloatBias++;
        compared += simulated.dims[0];
      }
      assert.equal(compared, checked.samples.length);
      // The int32 biases matter: with the float biases the simulation would not be the export.
      assert.ok(differFromFloatBias > 0);
    } finally {
      await sim.release();
      await exp.release();
    }
    const evaluation = await evaluateExport(
      spec,
      out,
      { scheme: 'w8a8' },
      {
        signal: new AbortController().signal,
        version: 'test',
        accuracyLevel: 0,
        latency: false,
        activations: true,
      },
    );
    assert.equal(evaluation.unfused?.agreement, 'identical');
    assert.equal(evaluation.unfused?.maxKlDifference, 0);
  });
});
