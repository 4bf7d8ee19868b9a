import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Expectation } from '../fixtures/generate';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');
const models = readdirSync(MODELS)
  .filter((f) => f.endsWith('.expected.json'))
  .map((f) => JSON.parse(readFileSync(path.join(MODELS, f), 'utf8')) as Expectation)
  .filter((e): e is Extract<Expectation, { kind: 'model' }> => e.kind === 'model' && e.runsInOnnxruntime);

/** Concrete dims for an input shape string such as `[batch, 16]` (symbolic dims become 2). */
const dims = (shape: string): number[] =>
  shape === '[]'
    ? []
    : shape
        .slice(1, -1)
        .split(', ')
        .map((d) => (/^\d+$/.test(d) ? Number(d) : 2));

describe('every valid fixture is a real ONNX model that onnxruntime-node loads and runs', () => {
  for (const exp of models) {
    it(exp.file, async () => {
      const session = await ort.InferenceSession.create(path.join(MODELS, exp.file));
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, dtype, shape] of exp.overview.inputs) {
        const d = dims(shape);
        const size = d.reduce((a, b) => a * b, 1);
        feeds[name] =
          dtype === 'bool'
            ? new ort.Tensor('bool', new Uint8Array(size).fill(1), d)
            : new ort.Tensor(
                'float32',
                Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
                d,
              );
      }
      const out = await session.run(feeds);
      assert.deepEqual(
        Object.keys(out),
        exp.overview.outputs.map(([name]) => name),
      );
      for (const [name, , shape] of exp.overview.outputs) {
        assert.deepEqual([...out[name].dims], dims(shape));
        assert.ok((out[name].data as Float32Array).every(Number.isFinite));
      }
      await session.release();
    });
  }
});
