/**
 * Activation QDQ arithmetic: our QuantizeLinear / DequantizeLinear equal onnxruntime's bit for bit (scale and zero
 * point fed as inputs, as the simulation feeds them) on random data with ties and saturation, for uint8
 * asymmetric, int8 symmetric, uint16 and int16; the parameters follow onnxruntime's compute_scale_zp.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  ACTIVATION_DTYPES,
  activationQuantParams,
  dequantizeLinear,
  fakeQuantizeActivation,
  quantizeLinear,
  representableRange,
  type ActivationQuant,
  type ActivationType,
} from '../../src/core/quant/activationQuant';
import { DT, gaussian, model, node, rng, value } from '../fixtures/onnxBuilder';

const N = 4096;

/** Gaussian values with outliers far outside the range (saturation), exact ties, zeros and the range ends. */
function data(seed: number, p: ActivationQuant): Float32Array {
  const x = gaussian(rng(seed), N, 2);
  for (let i = 0; i < N; i += 29) x[i] *= 40;
  for (let k = 0; k < 200; k++) x[1000 + k] = Math.fround((k - 100 + 0.5) * p.scale);
  x[2000] = 0;
  x[2001] = -0;
  x[2002] = p.rangeMin;
  x[2003] = p.rangeMax;
  return x;
}

const ZP_ARRAYS: Record<ActivationType, (v: number[]) => ArrayLike<number>> = {
  uint8: (v) => new Uint8Array(v),
  int8: (v) => new Int8Array(v),
  uint16: (v) => new Uint16Array(v),
  int16: (v) => new Int16Array(v),
};

async function ortQdq(x: Float32Array, p: ActivationQuant): Promise<{ q: ArrayLike<number>; y: Float32Array }> {
  const bytes = model(
    {
      node: [
        node('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'q'),
        node('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq'),
      ],
      input: [value('x', DT.float32, [N]), value('s', DT.float32, []), value('zp', ACTIVATION_DTYPES[p.type], [])],
      output: [value('q', ACTIVATION_DTYPES[p.type], [N]), value('y', DT.float32, [N])],
    },
    { opsets: [['', 21]], irVersion: 10 },
  );
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await session.run({
    x: new ort.Tensor('float32', x, [N]),
    s: new ort.Tensor('float32', new Float32Array([p.scale]), []),
    zp: new ort.Tensor(p.type, ZP_ARRAYS[p.type]([p.zeroPoint]) as Uint8Array, []),
  });
  await session.release();
  return { q: out.q.data as ArrayLike<number>, y: out.y.data as Float32Array };
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('activation QDQ equals onnxruntime', () => {
  const cases: [string, { bits: 8 | 16; signed: boolean }, number, number][] = [
    ['uint8 asymmetric', { bits: 8, signed: false }, -1.7, 5.3],
    ['int8 symmetric', { bits: 8, signed: true }, -1.7, 5.3],
    ['uint16 asymmetric', { bits: 16, signed: false }, -0.25, 7.9],
    ['int16 symmetric', { bits: 16, signed: true }, -3.1, 0.6],
    ['uint8, range above 0 (widened to include 0)', { bits: 8, signed: false }, 0.5, 3],
  ];
  for (const [name, scheme, lo, hi] of cases) {
    it(`${name}: QuantizeLinear and DequantizeLinear bit for bit, ties to even, saturation`, async () => {
      const p = activationQuantParams('t', lo, hi, scheme);
      const x = data(7, p);
      const ref = await ortQdq(x, p);
      const q = quantizeLinear(x, p);
      assert.deepEqual(Array.from(q), Array.from(ref.q));
      assert.deepEqual(bits(dequantizeLinear(q, p)), bits(ref.y));
      assert.deepEqual(bits(fakeQuantizeActivation(x, p)), bits(ref.y));
      const range = representableRange(p);
      assert.ok(ref.y.every((v) => v >= range.min && v <= range.max));
    });
  }
});

describe('activation parameters (onnxruntime compute_scale_zp)', () => {
  it('uint8 asymmetric: scale (max - min) / 255 with 0 included, zero point round(-min / scale)', () => {
    const p = activationQuantParams('t', -1, 3, { bits: 8, signed: false });
    assert.equal(p.type, 'uint8');
    assert.equal(p.scale, Math.fround(4 / 255));
    assert.equal(p.zeroPoint, Math.round(255 / 4));
    const above = activationQuantParams('t', 2, 6, { bits: 8, signed: false });
    assert.equal(above.zeroPoint, 0);
    assert.equal(above.scale, Math.fround(6 / 255));
  });

  it('int8 symmetric: scale absmax / 127, zero point 0; int16 absmax / 32767', () => {
    const p = activationQuantParams('t', -1, 3, { bits: 8, signed: true });
    assert.deepEqual([p.type, p.scale, p.zeroPoint], ['int8', Math.fround(6 / 254), 0]);
    const p16 = activationQuantParams('t', -5, 3, { bits: 16, signed: true });
    assert.deepEqual([p16.type, p16.scale, p16.zeroPoint], ['int16', Math.fround(10 / 65534), 0]);
  });

  it('an empty range gives scale 1, zero point 0 (as onnxruntime)', () => {
    const p = activationQuantParams('t', 0, 0, { bits: 8, signed: false });
    assert.deepEqual([p.scale, p.zeroPoint], [1, 0]);
  });
});
