/**
 * Already-quantized weights: the stored layout in readable form, and dequantized values equal to
 * onnxruntime's DequantizeLinear / MatMulNBits output bit for bit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { planAnalysis, type PlannedWeight } from '../../src/node/analysisPlan';
import { taskValues } from '../../src/node/analysisTask';
import { loadModelFile } from '../../src/node/modelFile';
import { DT, floatTensor, model, node, rawTensor, rng, value } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-stored-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODELS = path.join(__dirname, '..', 'fixtures', 'models');

async function plan(file: string): Promise<Map<string, PlannedWeight>> {
  const loaded = await loadModelFile(file);
  const planned = await planAnalysis({ path: file, ...loaded }, loaded.weights);
  return new Map(planned.map((w) => [w.name, w]));
}

/** Our dequantized values of weight `name` (read from the file, as an analysis worker does). */
async function ours(file: string, name: string): Promise<{ values: Float32Array; weight: PlannedWeight }> {
  const weight = (await plan(file)).get(name);
  assert.ok(weight?.source && weight.dequant, `${name} is planned as a stored-quantized weight`);
  return {
    values: taskValues({
      tensor: name,
      model: file,
      source: weight.source,
      schemes: [],
      bins: 8,
      dequant: weight.dequant,
    }),
    weight,
  };
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, ort.Tensor> = {}): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await session.run(feeds);
  await session.release();
  return out.y.data as Float32Array;
}

function save(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

const ints = (n: number, lo: number, hi: number, seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
};
const pack4 = (values: number[]): Uint8Array => {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  values.forEach((v, i) => {
    out[i >> 1] |= (v & 0x0f) << ((i & 1) * 4);
  });
  return out;
};
const scales = (n: number, seed: number): Float32Array =>
  Float32Array.from(ints(n, 1, 1000, seed), (k) => k * 1e-4 + 1 / 3);
const bitsEqual = (a: Float32Array, b: Float32Array): void => {
  assert.equal(a.length, b.length);
  assert.deepEqual(
    new Uint32Array(a.buffer, a.byteOffset, a.length),
    new Uint32Array(b.buffer, b.byteOffset, b.length),
  );
};

/** A model whose output is DequantizeLinear of stored initializers. */
function dqModel(
  wType: number,
  wDims: number[],
  w: Uint8Array,
  sDims: number[],
  s: Float32Array,
  zp: Uint8Array | undefined,
  attrs: Record<string, number>,
): Uint8Array {
  return model(
    {
      node: [
        node('DequantizeLinear', zp ? ['w', 's', 'zp'] : ['w', 's'], ['y'], '/layer/DequantizeLinear', attrs),
        node('Identity', ['y'], ['out'], 'id'),
      ],
      initializer: [
        rawTensor('w', wType, wDims, w),
        floatTensor('s', sDims, s),
        ...(zp ? [rawTensor('zp', wType, sDims, zp)] : []),
      ],
      input: [],
      output: [value('y', DT.float32, wDims), value('out', DT.float32, wDims)],
    },
    { irVersion: 10, opsets: [['', 21]] },
  );
}

/**
 * A 4-bit MatMulNBits layer B [N, blocks, block/2] (packed low nibble first, K padded to whole blocks), with or
 * without a packed zero-point input; returns our dequantized B and onnxruntime's, read as identity @ dequant(B)^T.
 */
async function nbitsCase(c: { K: number; N: number; block: number; zeroPoints: boolean; seed: number }): Promise<{
  values: Float32Array;
  weight: PlannedWeight;
  expected: Float32Array;
}> {
  const { K, N, block } = c;
  const blocks = Math.ceil(K / block);
  const padded = blocks * block;
  const q = ints(N * padded, 0, 15, c.seed);
  const zps = ints(N * blocks, 0, 15, c.seed + 1);
  // Row n, block b holds q[n, b*block .. (b+1)*block) packed low nibble first.
  const b = pack4(q);
  const zpRow = Math.ceil(blocks / 2);
  const zpBytes = new Uint8Array(N * zpRow);
  for (let n = 0; n < N; n++) zpBytes.set(pack4(zps.slice(n * blocks, (n + 1) * blocks)), n * zpRow);
  const bytes = model(
    {
      node: [
        node(
          'MatMulNBits',
          c.zeroPoints ? ['a', 'B', 'scales', 'zp'] : ['a', 'B', 'scales'],
          ['y'],
          '/fc/MatMulNBits',
          { K, N, bits: 4, block_size: block },
          'com.microsoft',
        ),
      ],
      initializer: [
        rawTensor('B', DT.uint8, [N, blocks, block / 2], b),
        floatTensor('scales', [N * blocks], scales(N * blocks, c.seed + 2)),
        ...(c.zeroPoints ? [rawTensor('zp', DT.uint8, [N * zpRow], zpBytes)] : []),
      ],
      input: [value('a', DT.float32, [K, K])],
      output: [value('y', DT.float32, [K, N])],
    },
    {
      irVersion: 10,
      opsets: [
        ['', 21],
        ['com.microsoft', 1],
      ],
    },
  );
  const file = save(`nbits-${K}-${c.zeroPoints ? 'zp' : 'nozp'}.onnx`, bytes);
  const { values, weight } = await ours(file, 'B');
  const eye = new Float32Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const y = await runOrt(bytes, { a: new ort.Tensor('float32', eye, [K, K]) });
  // y[k, n] = dequant(B)[n, k]
  const expected = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) expected[n * K + k] = y[k * N + n];
  // The case is not trivial: the values are not all equal, and none is the raw stored nibble.
  assert.ok(new Set(expected).size > N * blocks);
  return { values, weight, expected };
}

describe('stored-quantized weights', () => {
  it('fixture int8_qdq: per-axis int8 reported readably, analysed dequantized with the MatMul layout', async () => {
    const w = (await plan(path.join(MODELS, 'int8_qdq.onnx'))).get('fc.weight_quantized');
    assert.equal(w?.role, 'quantized');
    assert.equal(w?.quantizable, true);
    assert.equal(w?.stored?.summary, 'int8 per axis 1, scale fc.weight_scale [4], zero point fc.weight_zero_point');
    assert.deepEqual(w?.layout, { rows: w?.shape[0], cols: 4, channelAxis: 1 });
  });

  it('fixture matmulnbits_4bit: block layout, default zero point, [N, K] view with channels on rows', async () => {
    const w = (await plan(path.join(MODELS, 'matmulnbits_4bit.onnx'))).get('fc.qweight');
    assert.equal(
      w?.stored?.summary,
      'uint4 blocks of 32 along axis 1, scale fc.scales [8], no zero point (8) (packed [N=8, K=32])',
    );
    assert.deepEqual(w?.layout, { rows: 8, cols: 32, channelAxis: 0 });
  });

  it('int8 per tensor with a zero point equals onnxruntime DequantizeLinear', async () => {
    const q = Int8Array.from(ints(60, -128, 127, 1));
    const file = save(
      'dq_int8.onnx',
      dqModel(DT.int8, [6, 10], new Uint8Array(q.buffer), [], Float32Array.of(0.0123), Uint8Array.of(3), {}),
    );
    const { values, weight } = await ours(file, 'w');
    assert.equal(weight.stored?.granularity, 'tensor');
    bitsEqual(values, await runOrt(readFileSync(file)));
  });

  it('uint8 per axis 0 equals onnxruntime', async () => {
    const q = Uint8Array.from(ints(7 * 9, 0, 255, 2));
    const zp = Uint8Array.from(ints(7, 0, 255, 3));
    const file = save('dq_uint8_axis0.onnx', dqModel(DT.uint8, [7, 9], q, [7], scales(7, 4), zp, { axis: 0 }));
    const { values } = await ours(file, 'w');
    bitsEqual(values, await runOrt(readFileSync(file)));
  });

  it('int4 blocked along axis 0 (partial last block) and uint4 blocked along axis 1 equal onnxruntime', async () => {
    // [20, 6], blocks of 8 along axis 0: scale [3, 6].
    const q = ints(20 * 6, -8, 7, 5);
    const zp = ints(3 * 6, -8, 7, 6);
    const f1 = save(
      'dq_int4_axis0.onnx',
      dqModel(DT.int4, [20, 6], pack4(q), [3, 6], scales(18, 7), pack4(zp), { axis: 0, block_size: 8 }),
    );
    const a = await ours(f1, 'w');
    assert.equal(a.weight.stored?.summary, 'int4 blocks of 8 along axis 0, scale s [3, 6], zero point zp');
    bitsEqual(a.values, await runOrt(readFileSync(f1)));
    // [5, 36], blocks of 16 along axis 1: scale [5, 3].
    const u = ints(5 * 36, 0, 15, 8);
    const uzp = ints(5 * 3, 0, 15, 9);
    const f2 = save(
      'dq_uint4_axis1.onnx',
      dqModel(DT.uint4, [5, 36], pack4(u), [5, 3], scales(15, 10), pack4(uzp), { axis: 1, block_size: 16 }),
    );
    bitsEqual((await ours(f2, 'w')).values, await runOrt(readFileSync(f2)));
  });

  it('MatMulNBits (4 bits, packed zero points) equals onnxruntime: identity @ dequant(B)^T', async () => {
    const { values, weight, expected } = await nbitsCase({ K: 48, N: 5, block: 16, zeroPoints: true, seed: 11 });
    assert.equal(
      weight.stored?.summary,
      'uint4 blocks of 16 along axis 1, scale scales [15], zero point zp (packed [N=5, K=48])',
    );
    bitsEqual(values, expected);
  });

  it('MatMulNBits (4 bits, no zero-point input: zero point 8) equals onnxruntime, partial last block', async () => {
    const { values, weight, expected } = await nbitsCase({ K: 40, N: 6, block: 16, zeroPoints: false, seed: 21 });
    assert.equal(
      weight.stored?.summary,
      'uint4 blocks of 16 along axis 1, scale scales [18], no zero point (8) (packed [N=6, K=40])',
    );
    bitsEqual(values, expected);
  });
});
