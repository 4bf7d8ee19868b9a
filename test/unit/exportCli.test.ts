/** `quantlens export` end to end (a child process, as CI runs it): exit codes, the default name, the verification. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-export-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('quantlens export', () => {
  const model = path.join(dir, 'mnist_mlp.onnx');
  copyFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'), model);

  it('exports the demo plan next to the model and verifies it in onnxruntime', () => {
    const plan = path.join(dir, 'mnist.qplan.json');
    writeFileSync(
      plan,
      JSON.stringify({
        model: 'mnist_mlp.onnx',
        default: 'int8-channel',
        layers: { '/fc2/MatMul': 'int4-block32', '/fc3/MatMul': 'fp32' },
      }),
    );
    const r = cli('export', model, '--plan', plan, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      export: { output: string; weights: { name: string; format: string; leftFloat?: string }[] };
      verification: { ok: boolean; checked: number; weights: { mismatches: number; op: string }[] };
    };
    assert.equal(out.export.output, path.join(dir, 'mnist_mlp.mnist.onnx'));
    assert.ok(existsSync(out.export.output));
    assert.ok(out.verification.ok);
    assert.deepEqual(out.verification.weights.map((w) => w.op).sort(), ['DequantizeLinear', 'MatMulNBits']);
    assert.ok(out.verification.weights.every((w) => w.mismatches === 0));
    assert.equal(out.export.weights.find((w) => w.name === 'fc3.weight')?.leftFloat, 'fp32 in the plan');
  });

  it('refuses an activation scheme without a spec to calibrate on (exit 2, nothing written)', () => {
    const r = cli('export', model, '--scheme', 'w8a8');
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /w8a8 quantizes activations: .*Give --spec S, an evaluation spec with a "calibration" block/,
    );
    assert.ok(!existsSync(path.join(dir, 'mnist_mlp.w8a8.onnx')));
  });

  it('w8a8 with --spec: calibrated on the spec, evaluated unfused and fused next to the simulation', () => {
    const cnn = path.join(dir, 'mnist_cnn.onnx');
    for (const f of ['mnist_cnn.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv']) {
      copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
    }
    const spec = path.join(dir, 'cnn.quantlens.json');
    const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'cnn.quantlens.json'), 'utf8')) as object;
    const small = { ...demo, variants: ['w8a8'], calibration: { samples: 64 }, limit: 200, latency: false };
    writeFileSync(spec, JSON.stringify(small));
    const r = cli('export', cnn, '--scheme', 'w8a8', '--spec', spec, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      export: { activations: { tensors: number; foldedRelus: string[] } };
      calibration: { samples: number; source: string };
      verification: { ok: boolean };
      evaluation: { unfused?: { simulated: string; rows: unknown[] }; comparison: { simulated: string } };
    };
    assert.equal(out.export.activations.tensors, 8);
    assert.deepEqual(out.export.activations.foldedRelus, ['/Relu', '/Relu_1', '/Relu_2']);
    assert.equal(out.calibration.samples, 64);
    assert.ok(out.verification.ok);
    assert.equal(out.evaluation.unfused?.simulated, 'w8a8');
    assert.equal(out.evaluation.comparison.simulated, 'w8a8');
  });

  it('says what it verified in plain words', () => {
    const r = cli('export', model, '--scheme', 'fp8-e4m3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Verified: \d+ weight values of 3 weights, dequantized by onnxruntime \(DequantizeLinear\), equal the simulation bit for bit/,
    );
    assert.match(r.stdout, /Runs in onnxruntime on generated inputs image \[1, 1, 28, 28\]/);
    assert.ok(existsSync(path.join(dir, 'mnist_mlp.fp8-e4m3.onnx')));
  });

  it('--spec: the export evaluated on the slices by onnxruntime next to its simulation, cost against fp32', () => {
    for (const f of ['images.idx.gz', 'labels.idx.gz', 'fields.csv'])
      copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
    const spec = path.join(dir, 'small.quantlens.json');
    writeFileSync(
      spec,
      JSON.stringify({
        model: 'mnist_mlp.onnx',
        task: { type: 'classification', output: 'logits' },
        data: [{ path: 'images.idx.gz', as: 'image' }, { path: 'labels.idx.gz', as: 'label' }, { path: 'fields.csv' }],
        inputs: { image: { field: 'image', shape: [1, 28, 28], scale: 1 / 255 } },
        label: 'label',
        limit: 400,
        slices: [{ by: 'label', name: 'digit' }],
        variants: ['int8-channel'],
        budget: { accuracyDrop: 1, kl: 0.05 },
        sensitivity: false,
        latency: { batchSizes: [1], runs: 5, seconds: 0.05, rounds: 1 },
      }),
    );
    const out = path.join(dir, 'int8.onnx');
    const r = cli('export', model, '--scheme', 'int8-channel', '--spec', spec, '-o', out, '--json', '--force');
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as {
      evaluation: {
        comparison: { exported: string; simulated: string; agreement: string; rows: { slice: string }[] };
        results: {
          variants: { id: string; kind: string; exportedFrom?: string; cost?: { latency: Record<string, unknown> } }[];
        };
      };
    };
    const c = json.evaluation.comparison;
    assert.equal(c.exported, 'export:int8.onnx');
    assert.equal(c.simulated, 'int8-channel');
    // At accuracy level 0 the kernels are exact: the same metrics on every slice as the simulation.
    assert.equal(c.agreement, 'identical');
    assert.equal(c.rows.length, 11);
    const exported = json.evaluation.results.variants.find((v) => v.kind === 'export');
    assert.ok(exported?.cost?.latency['1'], 'the export has a measured latency at batch 1');
    // The results name the simulated variant the export came from (its metadata's record), for the results view.
    assert.equal(exported.exportedFrom, 'int8-channel');
    const text = cli('export', model, '--scheme', 'int8-channel', '--spec', spec, '-o', out, '--force');
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /The export on onnxruntime's kernels \(export:int8\.onnx\) next to its simulation \(int8-channel\)/,
    );
    assert.match(text.stdout, /Every slice: the same metrics/);
    assert.match(text.stdout, /Cost \(measured with onnxruntime on this machine\)/);
  });

  it('--spec that cannot be read: exit 2, the export itself stays written and verified', () => {
    const out = path.join(dir, 'nospec.onnx');
    const r = cli('export', model, '--scheme', 'int8-channel', '--spec', path.join(dir, 'x.quantlens.json'), '-o', out);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the spec is not usable \(the export .*nospec\.onnx was written and verified\)/);
    assert.ok(existsSync(out));
  });

  it('exit 2 naming the unknown layer, nothing written', () => {
    const plan = path.join(dir, 'bad.qplan.json');
    writeFileSync(plan, JSON.stringify({ default: 'int8-channel', layers: { '/nope/MatMul': 'int4-block32' } }));
    const before = readdirSync(dir).length;
    const r = cli('export', model, '--plan', plan);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /'\/nope\/MatMul'/);
    assert.match(r.stderr, /Nothing was written/);
    assert.equal(readdirSync(dir).length, before);
  });

  it('exit 2 for a refused write, and for usage errors', () => {
    const theirs = path.join(dir, 'theirs.onnx');
    writeFileSync(theirs, 'mine');
    const r = cli('export', model, '--scheme', 'fp16', '-o', theirs);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--force/);
    assert.equal(cli('export', model).code, 2);
    assert.equal(cli('export', model, '--scheme', 'int9-channel').code, 2);
    assert.equal(cli('export', model, '--scheme', 'fp16', '--accuracy-level', '3').code, 2);
  });
});
