/** Decoding every stored dtype: our values equal onnxruntime's Cast to float/double of the same initializer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeRaw, decodeTyped } from '../../src/core/onnx/tensorValues';
import { DT, model, node, value } from '../fixtures/onnxBuilder';

/** Every byte pattern once (for 1-byte types), or a spread of 16-bit patterns. */
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const spread16 = new Uint8Array(
  new Uint16Array(Array.from({ length: 4096 }, (_, i) => (i * 16 + (i % 16)) & 0xffff)).buffer,
);
const wide = (n: number, bytes: number): Uint8Array =>
  Uint8Array.from({ length: n * bytes }, (_, i) => (i * 97 + 13) & 0xff);

const CASES: { name: string; dtype: number; bytes: Uint8Array; count: number; opset: number; to?: number }[] = [
  { name: 'float32', dtype: 1, bytes: wide(64, 4), count: 64, opset: 21 },
  { name: 'float16', dtype: 10, bytes: spread16, count: 4096, opset: 21 },
  { name: 'bfloat16', dtype: 16, bytes: spread16, count: 4096, opset: 21 },
  { name: 'float8e4m3fn', dtype: 17, bytes: allBytes, count: 256, opset: 21 },
  { name: 'float8e4m3fnuz', dtype: 18, bytes: allBytes, count: 256, opset: 21 },
  { name: 'float8e5m2', dtype: 19, bytes: allBytes, count: 256, opset: 21 },
  { name: 'float8e5m2fnuz', dtype: 20, bytes: allBytes, count: 256, opset: 21 },
  { name: 'int8', dtype: 3, bytes: allBytes, count: 256, opset: 21 },
  { name: 'uint8', dtype: 2, bytes: allBytes, count: 256, opset: 21 },
  { name: 'int4', dtype: 22, bytes: allBytes, count: 512, opset: 21 },
  { name: 'uint4', dtype: 21, bytes: allBytes, count: 511, opset: 21 },
  { name: 'int16', dtype: 5, bytes: wide(128, 2), count: 128, opset: 21 },
  { name: 'uint16', dtype: 4, bytes: wide(128, 2), count: 128, opset: 21 },
  { name: 'int32', dtype: 6, bytes: wide(64, 4), count: 64, opset: 21, to: 11 },
  { name: 'uint32', dtype: 12, bytes: wide(64, 4), count: 64, opset: 21, to: 11 },
  {
    name: 'int64',
    dtype: 7,
    bytes: new Uint8Array(new BigInt64Array([0n, -1n, 2n ** 40n, -(2n ** 50n), 12345n]).buffer),
    count: 5,
    opset: 21,
    to: 11,
  },
  {
    name: 'uint64',
    dtype: 13,
    bytes: new Uint8Array(new BigUint64Array([0n, 1n, 2n ** 40n, 2n ** 52n]).buffer),
    count: 4,
    opset: 21,
    to: 11,
  },
  { name: 'float64', dtype: 11, bytes: wide(32, 8), count: 32, opset: 21, to: 11 },
];

async function castInOrt(
  dtype: number,
  bytes: Uint8Array,
  count: number,
  opset: number,
  to: number,
): Promise<ArrayLike<number>> {
  const m = model(
    {
      node: [node('Cast', ['w'], ['y'], 'cast', { to })],
      initializer: [{ name: 'w', dataType: dtype, dims: [count], rawData: bytes }],
      output: [value('y', to, [count])],
    },
    { irVersion: 10, opsets: [['', opset]] },
  );
  const session = await ort.InferenceSession.create(m);
  const out = await session.run({});
  await session.release();
  return out.y.data as Float32Array | Float64Array;
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || a === b;

describe('stored dtypes decode exactly (onnxruntime Cast as the oracle)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const ours = decodeRaw(c.bytes, c.dtype, c.count);
      const theirs = await castInOrt(c.dtype, c.bytes, c.count, c.opset, c.to ?? DT.float32);
      assert.equal(ours.length, c.count);
      const bad = [...ours.keys()].filter((i) => !same(ours[i], theirs[i]));
      assert.equal(
        bad.length,
        0,
        `${bad.length} differ; first at ${bad[0]}: ours ${ours[bad[0]]}, onnxruntime ${theirs[bad[0]]}`,
      );
    });
  }

  it('typed fields: float16 bit patterns in int32_data, int64_data as Long-like values', () => {
    assert.deepEqual([...decodeTyped([0x3c00, 0xc000, 0x7c00], 10, 3)], [1, -2, Infinity]);
    assert.deepEqual([...decodeTyped([{ toNumber: () => -5 }, 7], 7, 2)], [-5, 7]);
    assert.deepEqual([...decodeTyped([0x9f], 22, 2)], [-1, -7]);
  });

  it('decodes views into a larger Node Buffer (raw_data is a view into the model file)', () => {
    const file = Buffer.alloc(64);
    file.writeFloatLE(1.5, 13);
    file.writeFloatLE(-2.25, 17);
    assert.deepEqual([...decodeRaw(file.subarray(13, 21), 1, 2)], [1.5, -2.25]);
    file.writeUInt16LE(0x3c00, 31);
    assert.deepEqual([...decodeRaw(file.subarray(31, 33), 10, 1)], [1]);
  });

  it('says when the bytes are too short', () => {
    assert.throws(() => decodeRaw(new Uint8Array(7), 1, 2), /2 float32 values need 8 bytes, found 7/);
    assert.throws(() => decodeRaw(new Uint8Array(1), 8, 1), /string hold no numbers/);
  });
});
