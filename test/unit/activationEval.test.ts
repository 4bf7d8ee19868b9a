/**
 * Activation quantization in the evaluation: the simulation session (Where(flag, DQ(Q(x)), x) chains with fed
 * parameters) equals a model with constant QuantizeLinear/DequantizeLinear nodes bit for bit, and passes fp32
 * through exactly with the flags off; fp32 and weight-only results are unchanged by adding activation variants;
 * the outlier-channel layer is ranked first by activation sensitivity; calibration samples are not evaluated;
 * bad calibration input is a SpecError at its line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { ACTIVATION_DTYPES, activationQuantParams, type ActivationQuant } from '../../src/core/quant/activationQuant';
import { activationSites } from '../../src/core/quant/activationSites';
import { SpecError } from '../../src/core/eval/spec';
import { withQdq } from '../../src/node/eval/activationModel';
import { qdqFeeds } from '../../src/node/eval/evalRun';
import { evaluate } from '../../src/node/eval/evaluate';
import { evalSummary } from '../../src/node/eval/evalFormat';
import { prepareEvalModel } from '../../src/node/eval/evalModel';
import { gaussianRows, outlierMlp, WIDTH } from '../fixtures/activationFixtures';
import { DT, gaussian, rawTensor, rng } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-act-'));
const N = 400;
const spec = (name: string, body: object): string => {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({ model: 'outlier.onnx', task: 'outputs', data: { path: 'data.jsonl' }, ...body }),
  );
  return file;
};

before(() => {
  writeFileSync(path.join(dir, 'outlier.onnx'), outlierMlp());
  writeFileSync(path.join(dir, 'data.jsonl'), gaussianRows(N));
  writeFileSync(path.join(dir, 'calib.jsonl'), gaussianRows(64, 21));
});

/** The eval model with constant Q/DQ nodes on each site (what a QDQ export writes), as a reference. */
function constantQdq(bytes: Uint8Array, params: ActivationQuant[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  // Opset 21: QuantizeLinear to uint16/int16 (the ops of the fixture mean the same at 17 and 21).
  m.opsetImport = [{ domain: '', version: 21 }];
  m.irVersion = 10;
  const g = m.graph!;
  const zeroPoint = (p: ActivationQuant): ArrayBufferView =>
    ({ uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array })[p.type].of(p.zeroPoint);
  params.forEach((p, i) => {
    const t = p.tensor;
    const zp = rawTensor(`zp${i}`, ACTIVATION_DTYPES[p.type], [], zeroPoint(p));
    g.initializer = [...(g.initializer ?? []), rawTensor(`s${i}`, DT.float32, [], new Float32Array([p.scale])), zp];
    const isInput = (g.input ?? []).some((v) => v.name === t);
    const from = isInput ? t : `${t}_raw`;
    const to = isInput ? `${t}_q` : t;
    if (isInput) for (const n of g.node ?? []) n.input = (n.input ?? []).map((x) => (x === t ? to : x));
    else for (const n of g.node ?? []) n.output = (n.output ?? []).map((x) => (x === t ? from : x));
    const at = isInput ? 0 : (g.node ?? []).findIndex((n) => (n.output ?? []).includes(from)) + 1;
    g.node!.splice(
      at,
      0,
      { opType: 'QuantizeLinear', input: [from, `s${i}`, `zp${i}`], output: [`q${i}`], name: `Q${i}` },
      { opType: 'DequantizeLinear', input: [`q${i}`, `s${i}`, `zp${i}`], output: [to], name: `DQ${i}` },
    );
  });
  return onnx.ModelProto.encode(m).finish();
}

describe('activation simulation session', () => {
  for (const [bits, signed] of [
    [8, false],
    [8, true],
    [16, false],
    [16, true],
  ] as const)
    it(`${signed ? 'int' : 'uint'}${bits}: equals constant QuantizeLinear/DequantizeLinear nodes bit for bit; flags off give fp32 exactly`, async () => {
      const model = await prepareEvalModel(path.join(dir, 'outlier.onnx'));
      const sites = activationSites(model.siteGraph);
      assert.deepEqual(
        sites.map((s) => s.tensor),
        ['x', 'a', 'b', 'logits'],
      );
      const ranges: Record<string, [number, number]> = { x: [-3, 3], a: [0, 40], b: [-5, 4], logits: [-6, 6] };
      const params = sites.map((s) => activationQuantParams(s.tensor, ...ranges[s.tensor], { bits, signed }));
      // 16-bit at the fixture's opset 17: the float-op emulation, checked against opset 21's QuantizeLinear.
      const q = withQdq(model.bytes, sites, [params[0].type]);
      const x = gaussian(rng(3), 32 * WIDTH, 1.5);
      x[0] = Math.fround(params[0].scale * 10.5); // a tie
      x[1] = 50; // saturates
      const feeds = {
        x: new ort.Tensor('float32', x, [32, WIDTH]),
        ...Object.fromEntries(model.weights.map((w) => [w.name, new ort.Tensor('float32', w.values, w.dims)])),
      };
      const opts = { graphOptimizationLevel: 'all' as const };
      const sim = await ort.InferenceSession.create(q.bytes, opts);
      const ref = await ort.InferenceSession.create(constantQdq(model.bytes, params), opts);
      const plain = await ort.InferenceSession.create(model.bytes, opts);
      const on = qdqFeeds(q, new Map(params.map((p) => [p.tensor, p])));
      const off = qdqFeeds(q, undefined);
      const y = async (s: ort.InferenceSession, extra: Record<string, ort.Tensor>) =>
        Array.from((await s.run({ ...feeds, ...extra })).logits.data as Float32Array);
      assert.deepEqual(await y(sim, on), await y(ref, {}));
      assert.deepEqual(await y(sim, off), await y(plain, {}));
      assert.notDeepEqual(await y(sim, on), await y(plain, {}));
      for (const s of [sim, ref, plain]) await s.release();
    });
});

describe('activation variants in an evaluation', () => {
  const base = { variants: ['int8-channel'], sweep: false, sensitivity: false };

  it('fp32 and weight-only results are unchanged bit for bit when activation variants are added', async () => {
    const plain = await evaluate(spec('plain.quantlens.json', base));
    const withActs = await evaluate(
      spec('acts.quantlens.json', {
        ...base,
        variants: ['int8-channel', 'w8a8'],
        calibration: { samples: 64, data: { path: 'calib.jsonl' } },
      }),
    );
    assert.deepEqual(withActs.variants[0].metrics, plain.variants[0].metrics);
    assert.deepEqual(withActs.variants[1].metrics, plain.variants[1].metrics);
    assert.equal(withActs.variants[1].activations, null);
    assert.deepEqual(withActs.variants[2].activations, { bits: 8, signed: false, method: 'minmax', sites: 4 });
    assert.equal(withActs.calibration?.source, 'calib.jsonl');
    assert.ok(withActs.variants[2].metrics.all.kl! > 0);
  });

  it('ranks the outlier-channel activation first; calibration samples are kept out of the evaluation', async () => {
    const r = await evaluate(
      spec('rank.quantlens.json', {
        ...base,
        variants: ['w8a8'],
        calibration: { samples: 100, seed: 3 },
        sensitivity: { leaveOneOut: true },
      }),
    );
    assert.deepEqual(
      { ...r.calibration, ms: 0 },
      {
        source: 'split of the evaluation data',
        samples: 100,
        seed: 3,
        method: 'minmax',
        disjoint: true,
        ms: 0,
        sites: 4,
      },
    );
    assert.equal(r.data.evaluated, N - 100);
    const layers = r.sensitivity!.layers;
    const first = layers.find((l) => l.activationRank === 1)!;
    assert.equal(first.layer, '/fc2/MatMul');
    const kl = (layer: string) => layers.find((l) => l.layer === layer)!.activation!.metrics.all.kl!;
    assert.ok(kl('/fc2/MatMul') > 5 * Math.max(kl('/fc1/MatMul'), kl('/fc3/MatMul')));
    assert.equal(r.sensitivity!.activationScheme, 'w8a8');
    // Diagnostics: the outlier channel shows in the channel absmax, the histogram holds every value evaluated.
    const a = r.activations!.find((s) => s.tensor === 'a')!;
    const x = r.activations!.find((s) => s.tensor === 'x')!;
    assert.equal(a.layer, '/fc2/MatMul');
    assert.equal(a.channelAbsMax!.length, WIDTH);
    assert.ok(a.outlierRatio! > 50 && x.outlierRatio! < 3, `${a.outlierRatio} ${x.outlierRatio}`);
    assert.equal(a.channelAbsMax!.indexOf(Math.max(...a.channelAbsMax!)), 0);
    assert.equal(a.observedMin, 0);
    assert.equal(
      a.histogram.counts.reduce((n, c) => n + c, 0),
      (N - 100) * WIDTH,
    );
    assert.ok(a.histogram.counts.length <= 256);
    assert.ok(a.sqnrAloneDb < x.sqnrAloneDb);
    assert.ok(r.activations!.every((s) => s.clippingRate >= 0 && s.clippingRate < 0.05));
    // The CLI summary says which variants quantize activations, on which calibration, and the worst ones.
    const text = evalSummary(r);
    assert.match(text, /Activations quantized: w8a8 \(uint8 asymmetric, minmax, 4 tensors\)/);
    assert.match(
      text,
      /Calibration: 100 samples, split of the evaluation data \(seed 3, kept out of the evaluation\), minmax/,
    );
    assert.match(text, /Worst activations \(w8a8, lowest accumulated SQNR first\):\n.*\n(a|b|logits|x) /);
    assert.match(text, /Activation sensitivity \(w8a8: .*\n.*\n1 +\/fc2\/MatMul/);
  });

  it('a plan sets activation precision per layer (+a16 on the outlier layer recovers it)', async () => {
    const plan = (name: string, layers: Record<string, string>) =>
      writeFileSync(path.join(dir, name), JSON.stringify({ default: 'fp32+a8', layers }));
    // Weights float: the fixture's fc2 row 0 (x1/200) does not survive int8 weights either.
    plan('a8.qplan.json', {});
    plan('a16.qplan.json', { '/fc2/MatMul': 'fp32+a16' });
    plan('float.qplan.json', { '/fc2/MatMul': 'fp32' });
    const r = await evaluate(
      spec('plans.quantlens.json', {
        ...base,
        variants: ['fp32+a8', { plan: 'a8.qplan.json' }, { plan: 'a16.qplan.json' }, { plan: 'float.qplan.json' }],
        calibration: { samples: 100 },
      }),
    );
    const kl = (id: string) => r.variants.find((v) => v.id === id)!.metrics.all.kl!;
    assert.deepEqual(r.variants.find((v) => v.id === 'plan:a8.qplan.json')!.metrics, r.variants[1].metrics);
    assert.ok(kl('plan:a16.qplan.json') < kl('fp32+a8') / 5, `${kl('plan:a16.qplan.json')} vs ${kl('fp32+a8')}`);
    assert.ok(kl('plan:float.qplan.json') < kl('fp32+a8') / 5);
    await assert.rejects(
      evaluate(spec('plannocal.quantlens.json', { ...base, variants: [{ plan: 'a8.qplan.json' }] })),
      (e: unknown) => e instanceof SpecError && /quantizes activations \(\+a entries\)/.test(e.message),
    );
  });

  it('calibrates on a named slice (the rest is evaluated) and keeps excluded layers float', async () => {
    const r = await evaluate(
      spec('slice.quantlens.json', {
        ...base,
        variants: ['w8a8'],
        slices: [{ by: 'field', field: 'group' }],
        calibration: { samples: 50, data: 'group=odd' },
        exclude: ['/fc2/MatMul'],
      }),
    );
    assert.equal(r.calibration!.source, 'slice group=odd');
    assert.equal(r.data.evaluated, N - 50);
    assert.equal(r.slices.find((s) => s.name === 'group=odd')!.n, N / 2 - 50);
    // fc2's input `a` stays float; its output `b` is fc3's input and quantized there.
    assert.deepEqual(
      r.activations!.map((s) => s.tensor),
      ['x', 'b', 'logits'],
    );
  });

  it('an activation variant without calibration, and more calibration samples than data, are spec errors', async () => {
    await assert.rejects(
      evaluate(spec('nocal.quantlens.json', { ...base, variants: ['int8-channel', 'w8a8'] })),
      (e: unknown) => e instanceof SpecError && /Variant 'w8a8' quantizes activations/.test(e.message),
    );
    await assert.rejects(
      evaluate(spec('many.quantlens.json', { ...base, variants: ['w8a8'], calibration: { samples: N } })),
      (e: unknown) => e instanceof SpecError && /asks for 400 samples but the data holds 400/.test(e.message),
    );
  });

  it('from the CLI: exit 2 naming the spec line (the variant, the samples)', () => {
    const write = (name: string, body: object): string => {
      const file = path.join(dir, name);
      // One field per line, so that the line named is the field's.
      writeFileSync(
        file,
        JSON.stringify({ model: 'outlier.onnx', task: 'outputs', data: { path: 'data.jsonl' }, ...body }, null, 2),
      );
      return file;
    };
    const cli = (file: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '..', '..', 'src', 'cli', 'main.ts'), 'eval', file],
        {
          encoding: 'utf8',
        },
      );
    const lineOf = (file: string, text: string): number =>
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes(text)) + 1;
    const nocal = write('cli-nocal.quantlens.json', { variants: ['int8-channel', 'w8a8'], latency: false });
    const a = cli(nocal);
    assert.equal(a.status, 2, a.stderr);
    assert.ok(a.stderr.includes(`${nocal}:${lineOf(nocal, '"w8a8"')}:`), a.stderr);
    assert.match(a.stderr, /Variant 'w8a8' quantizes activations/);
    const many = write('cli-many.quantlens.json', { variants: ['w8a8'], calibration: { samples: N }, latency: false });
    const b = cli(many);
    assert.equal(b.status, 2, b.stderr);
    assert.ok(b.stderr.includes(`${many}:${lineOf(many, '"samples"')}:`), b.stderr);
    assert.match(b.stderr, /asks for 400 samples but the data holds 400/);
  });
});
