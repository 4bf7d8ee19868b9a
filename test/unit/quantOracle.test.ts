/**
 * Exactness: our quantize-dequantize equals onnxruntime's QuantizeLinear -> DequantizeLinear (and Cast round
 * trips) bit for bit, on the same weights with the same scales and zero points.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fakeQuantize, fp8Scale, intParams, type Layout2D } from '../../src/core/quant/fakeQuant';
import { reconstruct } from '../../src/core/stats/analyze';
import { parseScheme, type IntScheme } from '../../src/core/quant/schemes';
import { DT, floatTensor, gaussian, model, node, rawTensor, rng, value } from '../fixtures/onnxBuilder';

const R = 80; // not a multiple of 32: the last block along the reduction axis is partial
const C = 24;

/** Gaussian weights with outliers, exact zeros, and values that sit exactly on rounding ties. */
function weights(seed: number): Float32Array {
  const r = rng(seed);
  const w = gaussian(r, R * C, 0.05);
  for (let i = 0; i < w.length; i += 37) w[i] *= 12;
  for (let i = 5; i < w.length; i += 53) w[i] = 0;
  // Ties: with absmax = 127 * 2^-6 the per-tensor int8 scale is exactly 2^-6; k + 0.5 quanta sit on ties.
  w[1] = 127 / 64;
  for (let k = 0; k < 40; k++) w[100 + k] = (k - 20 + 0.5) / 64;
  return w;
}

async function runOrt(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await session.run({ x: new ort.Tensor('float32', x, [R, C]) });
  await session.release();
  return out.y.data as Float32Array;
}

/** Packs signed/unsigned 4-bit values two per byte, low nibble first (ONNX spec). */
function pack4(values: Int32Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  values.forEach((v, i) => {
    out[i >> 1] |= (v & 0x0f) << ((i & 1) * 4);
  });
  return out;
}

/** A QuantizeLinear -> DequantizeLinear model with our scales/zero points for an integer scheme. */
function qdqModel(scheme: IntScheme, layout: Layout2D, w: Float32Array): Uint8Array {
  const p = intParams(w, layout, scheme);
  const g = scheme.granularity;
  const zpType = scheme.bits === 8 ? (scheme.symmetric ? DT.int8 : DT.uint8) : scheme.symmetric ? DT.int4 : DT.uint4;
  let dims: number[] = [];
  let scales = p.scales;
  let zps = p.zeroPoints;
  const attrs: Record<string, number> = {};
  if (g.kind === 'channel') {
    dims = [p.channels];
    attrs.axis = layout.channelAxis;
  } else if (g.kind === 'block') {
    // ONNX blocked quantization: scale shape = input shape with the blocked axis divided by block_size.
    const blockAxis = layout.channelAxis === 0 ? 1 : 0;
    attrs.axis = blockAxis;
    attrs.block_size = g.size;
    dims = blockAxis === 0 ? [p.groupsPerChannel, p.channels] : [p.channels, p.groupsPerChannel];
    if (blockAxis === 0) {
      // Ours is channel-major [channel][block]; ONNX wants [block][channel].
      scales = new Float32Array(p.scales.length);
      zps = new Int32Array(p.zeroPoints.length);
      for (let c = 0; c < p.channels; c++) {
        for (let b = 0; b < p.groupsPerChannel; b++) {
          scales[b * p.channels + c] = p.scales[c * p.groupsPerChannel + b];
          zps[b * p.channels + c] = p.zeroPoints[c * p.groupsPerChannel + b];
        }
      }
    }
  }
  const zpBytes = scheme.bits === 8 ? (scheme.symmetric ? new Int8Array(zps) : new Uint8Array(zps)) : pack4(zps);
  return model(
    {
      node: [
        node('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'q', attrs),
        node('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq', attrs),
      ],
      initializer: [floatTensor('s', dims, scales), rawTensor('zp', zpType, dims, zpBytes)],
      input: [value('x', DT.float32, [R, C])],
      output: [value('y', DT.float32, [R, C])],
    },
    { irVersion: 10, opsets: [['', 21]] },
  );
}

function assertBitEqual(ours: Float32Array, theirs: Float32Array, label: string): void {
  const a = new Uint32Array(ours.buffer, ours.byteOffset, ours.length);
  const b = new Uint32Array(theirs.buffer, theirs.byteOffset, theirs.length);
  let mismatches = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(ours[i]) && Number.isNaN(theirs[i]))) {
      mismatches++;
      if (first < 0) first = i;
    }
  }
  assert.equal(
    mismatches,
    0,
    `${label}: ${mismatches} of ${a.length} values differ; first at ${first}: ours ${ours[first]}, onnxruntime ${theirs[first]}`,
  );
}

const INT_CASES: [string, 0 | 1][] = [
  ['int8-tensor', 1],
  ['int8-channel', 1],
  ['int8-channel', 0],
  ['int8-tensor-asym', 1],
  ['int8-channel-asym', 0],
  ['int8-channel-asym', 1],
  ['int4-block32', 1],
  ['int4-block32', 0],
  ['int4-block16', 1],
  ['int4-channel', 1],
  ['int4-block32-asym', 1],
  ['int4-block64-asym', 0],
  ['int4-tensor', 1],
];

describe('quantize-dequantize equals onnxruntime bit for bit', () => {
  for (const [id, channelAxis] of INT_CASES) {
    it(`${id} (channels along axis ${channelAxis})`, async () => {
      const scheme = parseScheme(id) as IntScheme;
      const layout: Layout2D = { rows: R, cols: C, channelAxis };
      const w = weights(id.length * 31 + channelAxis);
      const ours = fakeQuantize(w, layout, scheme);
      const theirs = await runOrt(qdqModel(scheme, layout, w), w);
      assertBitEqual(ours, theirs, id);
      assertBitEqual(reconstruct(w, layout, scheme), theirs, `${id} (kernels)`);
      // And quantization did something: not every value survives.
      assert.ok(ours.some((v, i) => v !== w[i]));
    });
  }

  for (const [id, to] of [
    ['fp16', DT.float16],
    ['bf16', DT.bfloat16],
  ] as const) {
    it(`${id} cast round trip`, async () => {
      const w = weights(99);
      w[7] = 70000; // beyond fp16's range: the cast gives infinity
      w[8] = 65519; // rounds down to 65504
      w[9] = 1e-8; // fp16 subnormal range
      const bytes = model({
        node: [node('Cast', ['x'], ['h'], 'to', { to }), node('Cast', ['h'], ['y'], 'back', { to: DT.float32 })],
        input: [value('x', DT.float32, [R, C])],
        output: [value('y', DT.float32, [R, C])],
      });
      const theirs = await runOrt(bytes, w);
      assertBitEqual(fakeQuantize(w, { rows: R, cols: C, channelAxis: 0 }, parseScheme(id)), theirs, id);
      assertBitEqual(reconstruct(w, { rows: R, cols: C, channelAxis: 0 }, parseScheme(id)), theirs, `${id} (kernels)`);
    });
  }

  for (const [id, dtype] of [
    ['fp8-e4m3', 17],
    ['fp8-e5m2', 19],
  ] as const) {
    it(`${id} with a per-tensor scale`, async () => {
      const w = weights(123);
      const scale = fp8Scale(w, id);
      const bytes = model(
        {
          node: [
            node('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'q'),
            node('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq'),
          ],
          initializer: [
            floatTensor('s', [], new Float32Array([scale])),
            { name: 'zp', dataType: dtype, dims: [], rawData: new Uint8Array(1) },
          ],
          input: [value('x', DT.float32, [R, C])],
          output: [value('y', DT.float32, [R, C])],
        },
        { irVersion: 9, opsets: [['', 19]] },
      );
      const theirs = await runOrt(bytes, w);
      assertBitEqual(fakeQuantize(w, { rows: R, cols: C, channelAxis: 0 }, parseScheme(id)), theirs, id);
      assertBitEqual(reconstruct(w, { rows: R, cols: C, channelAxis: 0 }, parseScheme(id)), theirs, `${id} (kernels)`);
    });
  }
});
