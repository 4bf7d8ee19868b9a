/**
 * The kernels' reconstruction (src/core/stats/analyze.ts `reconstruct`, assembly/kernels.ts hatStrided /
 * hatRuns) against fakeQuantize, the scalar reference whose values equal onnxruntime's (quantOracle.test.ts):
 * the same float32 values (and signs of zero) for every scheme over both layouts, no layout, odd sizes,
 * partial blocks, several chunks, zero and subnormal channels, NaN (with any payload), ±Infinity and overflow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeQuantize, type Layout2D } from '../../src/core/quant/fakeQuant';
import { parseScheme, type Scheme } from '../../src/core/quant/schemes';
import { reconstruct } from '../../src/core/stats/analyze';
import { outlierWeights } from '../fixtures/onnxBuilder';

const SCHEMES = [
  'int8-channel',
  'int8-tensor',
  'int4-block32',
  'int4-block16-asym',
  'int3-channel-asym',
  'int2-tensor-asym',
  'int5-block64',
  'int8-tensor-asym',
  'int4-block128',
  'fp16',
  'bf16',
  'fp8-e4m3',
  'fp8-e5m2',
].map(parseScheme);

function expected(data: Float32Array, layout: Layout2D | undefined, scheme: Scheme): Float32Array {
  const effective: Scheme = scheme.kind === 'int' && !layout ? { ...scheme, granularity: { kind: 'tensor' } } : scheme;
  return fakeQuantize(data, layout ?? { rows: 1, cols: data.length, channelAxis: 0 }, effective);
}

function check(name: string, data: Float32Array, layout: Layout2D | undefined, schemes = SCHEMES): void {
  it(name, () => {
    for (const scheme of schemes) {
      const want = expected(data, layout, scheme);
      const got = reconstruct(data, layout, scheme);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) {
        if (!Object.is(got[i], want[i]))
          assert.fail(`${scheme.id}, value ${i} (${data[i]}): ${got[i]}, fakeQuantize gives ${want[i]}`);
      }
    }
  });
}

function weights(seed: number, n: number): Float32Array {
  const w = outlierWeights(seed, n);
  for (let i = 11; i < n; i += 71) w[i] = -w[i] * 1e-6; // values that round to -0 under some schemes
  return w;
}

/** Zero and subnormal channels (scales of 0), NaN, and with `infinities` ±Infinity and fp16 overflow. */
function awkward(infinities: boolean): Float32Array {
  const w = weights(6, 64 * 12);
  for (let r = 0; r < 64; r++) {
    w[r * 12 + 3] = 0;
    w[r * 12 + 4] = ((r % 3) - 1) * 1e-44;
  }
  w[7] = NaN;
  w[300] = 70000;
  if (infinities) {
    w[100] = Infinity;
    w[200] = -Infinity;
    w[4 * 12 + 3] = Infinity; // in the all-zero channel: a group whose scale is 0
  }
  return w;
}

describe('kernel reconstruction equals fakeQuantize (value for value)', () => {
  check('MatMul [70, 45]: odd channel count, partial blocks', weights(1, 70 * 45), {
    rows: 70,
    cols: 45,
    channelAxis: 1,
  });
  check('Conv [45, 70]: channels along rows, partial blocks', weights(2, 45 * 70), {
    rows: 45,
    cols: 70,
    channelAxis: 0,
  });
  check('MatMul [300, 200]: several chunks, blocks across chunk edges', weights(3, 300 * 200), {
    rows: 300,
    cols: 200,
    channelAxis: 1,
  });
  check('Conv [200, 300]: several chunks', weights(4, 200 * 300), { rows: 200, cols: 300, channelAxis: 0 });
  check('no layout, 10001 values', weights(5, 10001), undefined);
  check('no layout, 3 values', Float32Array.of(0.5, -1.25, 3), undefined);
  check('MatMul [64, 12]: zero and subnormal channels, NaN, fp16 overflow', awkward(false), {
    rows: 64,
    cols: 12,
    channelAxis: 1,
  });
  check('Conv [12, 64]: the same values with channels along rows', awkward(false), {
    rows: 12,
    cols: 64,
    channelAxis: 0,
  });
  check('MatMul [64, 12] with ±Infinity, one in a group whose scale is 0 (the scalar path)', awkward(true), {
    rows: 64,
    cols: 12,
    channelAxis: 1,
  });
  check(
    'zeros, NaN and Infinity (fp8 scale 0: the scalar path)',
    Float32Array.from({ length: 40 }, (_, i) => (i === 3 ? NaN : i === 9 ? -Infinity : 0)),
    { rows: 5, cols: 8, channelAxis: 1 },
  );
  check('an empty tensor', new Float32Array(0), { rows: 0, cols: 8, channelAxis: 1 });
  it('keeps NaN with a low payload NaN under bf16 (rounding its bits would give Infinity)', () => {
    const data = new Float32Array(8);
    new Uint32Array(data.buffer).set([
      0x7f800001, 0xff800001, 0x7fc00000, 0x3f800000, 0, 0x80000000, 0x7f7fffff, 0xff7fffff,
    ]);
    const got = reconstruct(data, undefined, parseScheme('bf16'));
    assert.deepEqual(Array.from(got.subarray(0, 3), Number.isNaN), [true, true, true]);
    assert.deepEqual(
      Array.from(got.subarray(3)),
      Array.from(expected(data, undefined, parseScheme('bf16')).subarray(3)),
    );
  });
});
