/**
 * Reader robustness on real models: the ~1,070 models of ONNX's own test suite (Debian libonnx-testdata,
 * installed by scripts/setupTestEnv.sh). Every model must be read; where onnxruntime loads it, our graph
 * inputs and outputs must equal onnxruntime's. Every test tensor (input_0.pb) must be refused as "not a model".
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../src/core/onnx/errors';
import { readModelOverview } from '../../src/node/modelFile';

const DATA = process.env.QUANTLENS_ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
const GROUPS = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'];

function models(group: string): string[] {
  const dir = path.join(DATA, group);
  return readdirSync(dir)
    .map((name) => path.join(dir, name, 'model.onnx'))
    .filter((file) => existsSync(file))
    .sort();
}

describe('ONNX test suite models (libonnx-testdata)', () => {
  it('is installed (npm run setup:test-env installs it)', () => {
    assert.ok(existsSync(DATA), `${DATA} is missing: run 'npm run setup:test-env' (Debian package libonnx-testdata)`);
  });

  for (const group of GROUPS) {
    it(`${group}: every model is read, inputs and outputs agree with onnxruntime`, async (t) => {
      const files = models(group);
      assert.ok(files.length > 10, `only ${files.length} models in ${group}`);
      const failures: string[] = [];
      let compared = 0;
      for (const file of files) {
        const name = path.basename(path.dirname(file));
        let overview;
        try {
          overview = (await readModelOverview(file)).overview;
        } catch (error) {
          failures.push(`${name}: ${String(error)}`);
          continue;
        }
        let session: ort.InferenceSession | undefined;
        try {
          session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
        } catch {
          continue; // onnxruntime cannot load every test model (training ops, optional types); our reader must
        }
        compared++;
        const inputs = overview.inputs.map((v) => v.name);
        const outputs = overview.outputs.map((v) => v.name);
        if (
          JSON.stringify(inputs) !== JSON.stringify(session.inputNames) ||
          JSON.stringify(outputs) !== JSON.stringify(session.outputNames)
        ) {
          failures.push(
            `${name}: ours ${JSON.stringify([inputs, outputs])}, onnxruntime ${JSON.stringify([session.inputNames, session.outputNames])}`,
          );
        }
        await session.release();
      }
      assert.deepEqual(failures, []);
      assert.ok(compared > files.length / 2, `onnxruntime loaded only ${compared} of ${files.length}`);
      t.diagnostic(`${group}: ${files.length} models read, ${compared} compared with onnxruntime`);
    });
  }

  it('serialized test tensors (input_0.pb) are refused as valid protobuf that is not a model', async () => {
    const tensors = GROUPS.flatMap((g) =>
      models(g).map((m) => path.join(path.dirname(m), 'test_data_set_0', 'input_0.pb')),
    ).filter(existsSync);
    assert.ok(tensors.length > 500);
    const wrong: string[] = [];
    for (const file of tensors) {
      await readModelOverview(file).then(
        () => wrong.push(`${file}: accepted as a model`),
        (error: unknown) => {
          if (
            !(error instanceof ModelError) ||
            !['not-onnx', 'decode-failed', 'empty-file'].includes(error.info.code)
          ) {
            wrong.push(`${file}: ${String(error)}`);
          }
        },
      );
    }
    assert.deepEqual(wrong, []);
  });
});
