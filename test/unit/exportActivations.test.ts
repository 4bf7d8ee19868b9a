/**
 * W8A8 export (onnxruntime's static QDQ format): on a small conv net, the exported model run by onnxruntime with
 * graph optimization disabled gives, bit for bit, the outputs of an independently built simulation (Relu kept,
 * QuantizeLinear/DequantizeLinear on the calibrated activations with parameters computed here, biases
 * dequantized from int32 with scale input_scale * weight_scale); with default optimization onnxruntime fuses it
 * into its integer kernels (QLinearConv...) and the difference is reported, not asserted. The export never writes
 * over its source or through a symlink, and refuses an activation scheme without calibration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { ActivationQdqParams } from '../../src/core/export/activationQdq';
import { ExportError } from '../../src/core/export/exportPlan';
import { roundHalfEven } from '../../src/core/quant/rounding';
import { calibrateMinMax } from '../../src/node/export/exportCalibration';
import { exportModel } from '../../src/node/export/exportModel';
import { WriteRefused } from '../../src/node/safeWrite';
import * as b from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-w8a8-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fround = Math.fround;

/** Torch writes Gemm's alpha and beta; onnxruntime's QGemm fusion reads beta. */
const GEMM = { alpha: 1, beta: 1 };

/** Conv(1->4, 3x3) - Relu - MaxPool - Flatten - Gemm(36->6, transB) - Relu - Gemm(6->3) -> y. */
function convNodes(): onnx.INodeProto[] {
  return [
    b.node('Conv', ['x', 'conv.weight', 'conv.bias'], ['c1'], '/conv/Conv'),
    b.node('Relu', ['c1'], ['r1'], '/Relu'),
    b.node('MaxPool', ['r1'], ['m1'], '/MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }),
    b.node('Flatten', ['m1'], ['f'], '/Flatten', { axis: 1 }),
    b.node('Gemm', ['f', 'fc1.weight', 'fc1.bias'], ['g1'], '/fc1/Gemm', { transB: 1 }, '', GEMM),
    b.node('Relu', ['g1'], ['r2'], '/Relu_1'),
    b.node('Gemm', ['r2', 'fc2.weight', 'fc2.bias'], ['y'], '/fc2/Gemm', {}, '', GEMM),
  ];
}
const random = b.rng(20);
const WEIGHTS: Record<string, [number[], Float32Array]> = {
  'conv.weight': [[4, 1, 3, 3], b.gaussian(random, 36, 0.4)],
  'conv.bias': [[4], b.gaussian(random, 4, 0.1)],
  'fc1.weight': [[6, 36], b.gaussian(random, 216, 0.2)],
  'fc1.bias': [[6], b.gaussian(random, 6, 0.1)],
  'fc2.weight': [[6, 3], b.gaussian(random, 18, 0.4)],
  'fc2.bias': [[3], b.gaussian(random, 3, 0.1)],
};
const floatInitializers = (): onnx.ITensorProto[] =>
  Object.entries(WEIGHTS).map(([name, [dims, data]]) => b.floatTensor(name, dims, data));
const X = b.value('x', b.DT.float32, ['batch', 1, 8, 8]);
const Y = b.value('y', b.DT.float32, ['batch', 3]);
const SOURCE = path.join(dir, 'cnn.onnx');
writeFileSync(
  SOURCE,
  b.model({ name: 'cnn', node: convNodes(), initializer: floatInitializers(), input: [X], output: [Y] }),
);

const inputs = (seed: number, n: number, std: number): ort.Tensor =>
  new ort.Tensor('float32', b.gaussian(b.rng(seed), n * 64, std), [n, 1, 8, 8]);

/** Min / max of every intermediate tensor on calibration inputs (the fp32 model with them added as outputs). */
async function ranges(tensors: string[]): Promise<Map<string, [number, number]>> {
  const file = path.join(dir, 'calib.onnx');
  const outputs = tensors.map((t) => b.value(t, b.DT.float32, null));
  writeFileSync(file, b.model({ node: convNodes(), initializer: floatInitializers(), input: [X], output: outputs }));
  const session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
  const out = await session.run({ x: inputs(1, 64, 1) });
  return new Map(
    tensors.map((t) => [t, [Math.min(...(out[t].data as Float32Array)), Math.max(...(out[t].data as Float32Array))]]),
  );
}

/** uint8 asymmetric parameters of a range, as onnxruntime's compute_scale_zp (range widened to include 0). */
function uint8Params(tensor: string, [lo, hi]: [number, number]): ActivationQdqParams {
  const rmin = Math.min(fround(lo), 0);
  const rmax = Math.max(fround(hi), 0);
  const scale = fround((rmax - rmin) / 255);
  return { tensor, scale, zeroPoint: Math.max(0, Math.min(255, roundHalfEven(-rmin / scale))), type: 'uint8' };
}

/** The activations onnxruntime's QDQ quantizer picks here: MaxPool's output shares its input's parameters. */
async function calibrated(): Promise<ActivationQdqParams[]> {
  const r = await ranges(['x', 'r1', 'f', 'r2', 'y']);
  const p = (t: string): ActivationQdqParams => uint8Params(t, r.get(t)!);
  return [p('x'), p('r1'), { ...p('r1'), tensor: 'm1' }, p('f'), p('r2'), p('y')];
}

/** Reads the exported model's initializers (int8 weights and their scales). */
function initializers(file: string): Map<string, onnx.ITensorProto> {
  const m = onnx.ModelProto.decode(readFileSync(file));
  return new Map((m.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
}
const raw = (t: onnx.ITensorProto): Uint8Array => Uint8Array.from(t.rawData ?? []);
const f32 = (t: onnx.ITensorProto): Float32Array => new Float32Array(raw(t).buffer);

/**
 * The simulation, built independently: the source graph with Relu kept, a Q -> DQ pair on every calibrated
 * activation (parameters from `params`), the exported int8 weights dequantized by DequantizeLinear, and biases as
 * float32(round_half_even(b / s) * s) with s = float32(input_scale * weight_scale).
 */
function simulation(exported: string, params: ActivationQdqParams[]): Uint8Array {
  const init = initializers(exported);
  const byTensor = new Map(params.map((p) => [p.tensor, p]));
  const nodes: onnx.INodeProto[] = [];
  const extra: onnx.ITensorProto[] = [];
  const dq = (t: string): string => (byTensor.has(t) ? `${t}_sim` : t);
  for (const w of ['conv.weight', 'fc1.weight', 'fc2.weight']) {
    const axis = w === 'fc2.weight' ? 1 : 0;
    extra.push(init.get(`${w}_quantized`)!, init.get(`${w}_scale`)!);
    nodes.push(b.node('DequantizeLinear', [`${w}_quantized`, `${w}_scale`], [w], `${w}/dq`, { axis }));
  }
  const biasInput: Record<string, string> = { 'conv.bias': 'x', 'fc1.bias': 'f', 'fc2.bias': 'r2' };
  for (const [bias, input] of Object.entries(biasInput)) {
    const ws = f32(init.get(`${bias.replace('bias', 'weight')}_scale`)!);
    const values = WEIGHTS[bias][1].map((v, c) => {
      const s = fround(fround(byTensor.get(input)!.scale) * ws[c]);
      return fround(roundHalfEven(v / s) * s);
    });
    extra.push(b.floatTensor(bias, [values.length], values));
  }
  for (const p of params) {
    extra.push(b.floatTensor(`${p.tensor}_s`, [], Float32Array.of(p.scale)));
    extra.push(b.rawTensor(`${p.tensor}_z`, b.DT.uint8, [], Uint8Array.of(p.zeroPoint)));
  }
  const qdq = (t: string, out: string): onnx.INodeProto[] => [
    b.node('QuantizeLinear', [t, `${t}_s`, `${t}_z`], [`${t}_q`], `${t}/q`),
    b.node('DequantizeLinear', [`${t}_q`, `${t}_s`, `${t}_z`], [out], `${t}/dq`),
  ];
  nodes.push(...qdq('x', 'x_sim'));
  for (const n of convNodes()) {
    const out = n.output![0];
    nodes.push({
      ...n,
      input: n.input!.map((t) => (t.includes('.') ? t : dq(t))),
      output: [out === 'y' ? 'y_float' : out],
    });
    if (out === 'y') nodes.push(...qdq('y_float', 'y'));
    else if (byTensor.has(out)) nodes.push(...qdq(out, dq(out)));
  }
  extra.push(b.floatTensor('y_float_s', [], Float32Array.of(byTensor.get('y')!.scale)));
  extra.push(b.rawTensor('y_float_z', b.DT.uint8, [], Uint8Array.of(byTensor.get('y')!.zeroPoint)));
  return b.model({ node: nodes, initializer: extra, input: [X], output: [Y] });
}

async function run(file: string | Uint8Array, x: ort.Tensor, level: 'disabled' | 'all', optimized?: string) {
  const session = await ort.InferenceSession.create(file as string, {
    logSeverityLevel: 4,
    graphOptimizationLevel: level,
    ...(optimized ? { optimizedModelFilePath: optimized } : {}),
  });
  return (await session.run({ x })).y.data as Float32Array;
}

describe('w8a8 export (static QDQ)', () => {
  it('matches the simulation bit for bit with optimization disabled; fused kernels reported', async (t) => {
    const params = await calibrated();
    const result = await exportModel(SOURCE, { scheme: 'w8a8', activations: params, version: 'test', force: true });
    assert.deepEqual(result.activations?.foldedRelus, ['/Relu', '/Relu_1']);
    assert.deepEqual(result.activations?.int32Biases, ['conv.bias', 'fc1.bias', 'fc2.bias']);
    const exported = onnx.ModelProto.decode(readFileSync(result.output));
    const ops = (exported.graph?.node ?? []).map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'QuantizeLinear').length, params.length);
    assert.ok(!ops.includes('Relu'), 'the Relus are folded into their outputs’ ranges');
    const simFile = path.join(dir, 'simulation.onnx');
    writeFileSync(simFile, simulation(result.output, params));
    // Test inputs wider than the calibration's (saturation) and narrower (fine grid).
    for (const [seed, std] of [
      [7, 1],
      [8, 3],
      [9, 0.2],
    ]) {
      const x = inputs(seed, 16, std);
      const [got, want] = [await run(result.output, x, 'disabled'), await run(simFile, x, 'disabled')];
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(want.buffer), `inputs of std ${std}`);
    }
    const optimized = path.join(dir, 'optimized.onnx');
    const x = inputs(7, 16, 1);
    const fused = await run(result.output, x, 'all', optimized);
    const exact = await run(simFile, x, 'disabled');
    const maxDiff = Math.max(...fused.map((v, i) => Math.abs(v - exact[i])));
    const fusedOps = (onnx.ModelProto.decode(readFileSync(optimized)).graph?.node ?? []).map((n) => n.opType);
    t.diagnostic(`fused: ${fusedOps.join(', ')}; largest |fused - simulation| ${maxDiff}`);
    assert.ok(
      fusedOps.includes('QLinearConv'),
      `onnxruntime fuses the Conv into QLinearConv (ops: ${fusedOps.join(', ')})`,
    );
    assert.ok(!fusedOps.includes('Conv'), 'no float Conv is left');
    // Measured on onnxruntime-node 1.30 (CPU): DQ -> Gemm -> Q is not fused into QGemm (it stays a float Gemm on
    // dequantized inputs), while DQ -> MatMul -> Q becomes QLinearMatMul; reported, not asserted.
    t.diagnostic(`Gemm fused: ${fusedOps.includes('QGemm') ? 'yes (QGemm)' : 'no (float Gemm on dequantized inputs)'}`);
  });

  it('refuses an activation scheme without calibration, and never writes over the source or through a symlink', async () => {
    await assert.rejects(
      exportModel(SOURCE, { scheme: 'w8a8', version: 'test' }),
      (e: unknown) => e instanceof ExportError && /calibration/.test(e.message),
    );
    const params = await calibrated();
    await assert.rejects(
      exportModel(SOURCE, { scheme: 'w8a8', activations: params, output: SOURCE, version: 'test' }),
      WriteRefused,
    );
    const link = path.join(dir, 'link.onnx');
    symlinkSync(path.join(dir, 'elsewhere.onnx'), link);
    await assert.rejects(
      exportModel(SOURCE, { scheme: 'w8a8', activations: params, output: link, version: 'test' }),
      WriteRefused,
    );
    const unknown = [{ ...params[0], tensor: 'nope' }];
    await assert.rejects(
      exportModel(SOURCE, { scheme: 'w8a8', activations: unknown, version: 'test', force: true }),
      /nope/,
    );
  });

  it('calibration (minmax, sites after onnxruntime) gives the parameters computed independently here', async () => {
    const got = await calibrateMinMax(readFileSync(SOURCE), [{ feeds: { x: inputs(1, 64, 1) }, rows: 64 }], {
      bits: 8,
      signed: false,
    });
    assert.deepEqual(
      got.sites.map((s) => s.tensor),
      ['x', 'r1', 'm1', 'f', 'r2', 'y'],
    );
    assert.deepEqual(
      got.quant.map(({ tensor, scale, zeroPoint, type }) => ({ tensor, scale, zeroPoint, type })),
      await calibrated(),
    );
  });
});
