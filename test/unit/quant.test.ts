import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeQuantize, intParams } from '../../src/core/quant/fakeQuant';
import { FP8_E4M3FN, FP16, roundHalfEven, roundToBfloat16, roundToMiniFloat } from '../../src/core/quant/rounding';
import { intRange, parseScheme, parseSchemeList, type IntScheme } from '../../src/core/quant/schemes';

describe('scheme ids', () => {
  it('parses every documented form', () => {
    assert.deepEqual(parseScheme('int8-channel'), {
      kind: 'int',
      id: 'int8-channel',
      bits: 8,
      symmetric: true,
      granularity: { kind: 'channel' },
    });
    assert.deepEqual(parseScheme('int4-block32-asym'), {
      kind: 'int',
      id: 'int4-block32-asym',
      bits: 4,
      symmetric: false,
      granularity: { kind: 'block', size: 32 },
    });
    assert.deepEqual(parseScheme('int3-block128'), {
      kind: 'int',
      id: 'int3-block128',
      bits: 3,
      symmetric: true,
      granularity: { kind: 'block', size: 128 },
    });
    assert.deepEqual(parseScheme('fp8-e5m2'), { kind: 'float', id: 'fp8-e5m2', format: 'fp8-e5m2' });
    assert.equal(parseScheme('int2-tensor').kind, 'int');
  });
  it('says what is wrong with a bad id', () => {
    assert.throws(() => parseScheme('int9-channel'), /Unknown quantization scheme 'int9-channel'.*N = 2\.\.8/);
    assert.throws(() => parseScheme('int4-block48'), /Unsupported block size 48/);
    assert.throws(() => parseScheme('fp4'), /Unknown quantization scheme 'fp4'/);
    assert.throws(() => parseSchemeList('int8-channel, int8-channel'), /listed twice/);
    assert.throws(() => parseSchemeList(' , '), /No quantization scheme/);
    assert.equal(parseSchemeList('fp16,int4-block32').length, 2);
  });
  it('has the onnxruntime integer ranges', () => {
    assert.deepEqual(intRange(parseScheme('int8-tensor') as IntScheme), { qmin: -127, qmax: 127 });
    assert.deepEqual(intRange(parseScheme('int4-channel') as IntScheme), { qmin: -7, qmax: 7 });
    assert.deepEqual(intRange(parseScheme('int4-channel-asym') as IntScheme), { qmin: 0, qmax: 15 });
    assert.deepEqual(intRange(parseScheme('int3-tensor') as IntScheme), { qmin: -3, qmax: 3 });
  });
});

describe('rounding', () => {
  it('rounds half to even', () => {
    assert.deepEqual(
      [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map((x) => roundHalfEven(x) + 0),
      [0, 2, 2, 0, -2, -2, 2, 3],
    );
  });
  it('casts to fp16 like IEEE (overflow to infinity, ties to even)', () => {
    assert.equal(roundToMiniFloat(65504, FP16), 65504);
    assert.equal(roundToMiniFloat(65519, FP16), 65504);
    assert.equal(roundToMiniFloat(65520, FP16), Infinity);
    assert.equal(roundToMiniFloat(1 + 2 ** -11, FP16), 1); // tie between 1 and 1 + 2^-10: even mantissa
    assert.equal(roundToMiniFloat(1 + 3 * 2 ** -11, FP16), 1 + 2 ** -9);
    assert.equal(roundToMiniFloat(2 ** -25, FP16), 0); // half the smallest subnormal: ties to zero
    assert.equal(roundToMiniFloat(3 * 2 ** -25, FP16), 2 ** -23);
  });
  it('saturates fp8 e4m3fn', () => {
    assert.equal(roundToMiniFloat(1000, FP8_E4M3FN), 448);
    assert.equal(roundToMiniFloat(-Infinity, FP8_E4M3FN), -448);
    assert.equal(roundToMiniFloat(464, FP8_E4M3FN), 448);
    assert.equal(roundToMiniFloat(0.3, FP8_E4M3FN), 0.3125);
    assert.ok(Number.isNaN(roundToMiniFloat(NaN, FP8_E4M3FN)));
  });
  it('casts to bfloat16 with ties to even', () => {
    assert.equal(roundToBfloat16(1 + 2 ** -8), 1);
    assert.equal(roundToBfloat16(1 + 3 * 2 ** -8), 1 + 2 ** -6);
  });
});

describe('integer fake quantization, hand-computed', () => {
  it('int3 per tensor: scale absmax/3, ties to even, saturation never needed', () => {
    const w = new Float32Array([0.3, -0.15, 0.05, 0.25]);
    const out = fakeQuantize(w, { rows: 1, cols: 4, channelAxis: 0 }, parseScheme('int3-tensor'));
    // scale = 0.1 (float32); q = round([3, -1.5, 0.5, 2.5]) = [3, -2, 0, 2]
    const s = Math.fround(Math.fround(0.3) / 3);
    assert.deepEqual(
      [...out],
      [3, -2, 0, 2].map((q) => Math.fround(q * s)),
    );
  });
  it('int8 asymmetric widens the range to include zero', () => {
    const w = new Float32Array([1, 2, 3, 4]);
    const p = intParams(w, { rows: 1, cols: 4, channelAxis: 0 }, parseScheme('int8-tensor-asym') as IntScheme);
    assert.equal(p.scales[0], Math.fround(4 / 255));
    assert.equal(p.zeroPoints[0], 0);
  });
  it('per-channel and block parameters follow the layout', () => {
    // MatMul B [K=4, N=2], channels along axis 1, blocks of 16 along K (one partial block).
    const w = new Float32Array([1, -8, 2, 4, -3, 2, 0.5, 1]);
    const p = intParams(w, { rows: 4, cols: 2, channelAxis: 1 }, parseScheme('int4-block16') as IntScheme);
    assert.deepEqual([p.channels, p.groupsPerChannel], [2, 1]);
    assert.deepEqual([...p.scales], [Math.fround(3 / 7), Math.fround(8 / 7)]);
  });
  it('an all-zero group reconstructs exactly', () => {
    const out = fakeQuantize(new Float32Array(8), { rows: 2, cols: 4, channelAxis: 0 }, parseScheme('int4-channel'));
    assert.deepEqual([...out], new Array(8).fill(0));
  });
});
