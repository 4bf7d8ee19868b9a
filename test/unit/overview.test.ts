import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ModelError } from '../../src/core/onnx/errors';
import type { ModelOverview } from '../../src/core/onnx/overview';
import { readModelOverview } from '../../src/node/modelFile';
import type { Expectation, ExpectedOverview } from '../fixtures/generate';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');
const expectations: Expectation[] = readdirSync(MODELS)
  .filter((f) => f.endsWith('.expected.json'))
  .map((f) => JSON.parse(readFileSync(path.join(MODELS, f), 'utf8')) as Expectation);

const shape = (s: (number | string | null)[] | null): string =>
  s === null ? 'unknown' : `[${s.map((d) => d ?? '?').join(', ')}]`;

/** The overview in the tuple form of the expectation files. */
function tupleForm(o: ModelOverview): ExpectedOverview {
  return {
    producer: [o.producerName, o.producerVersion].filter(Boolean).join(' '),
    irVersion: o.irVersion,
    opsets: o.opsets.map((s) => [s.domain || 'ai.onnx', s.version]),
    inputs: o.inputs.map((v) => [v.name, v.dtype, shape(v.shape)]),
    outputs: o.outputs.map((v) => [v.name, v.dtype, shape(v.shape)]),
    nodeCount: o.nodeCount,
    subgraphCount: o.subgraphCount,
    ops: o.opCounts.map((c) => [c.domain ? `${c.domain}.${c.opType}` : c.opType, c.count]),
    weightCount: o.weightCount,
    parameterCount: o.parameterCount,
    weightBytes: o.weightBytes,
    dtypes: o.byDtype.map((d) => [d.dtype, d.tensors, d.parameters, d.bytes]),
    metadata: o.metadata.map((m) => [m.key, m.value]),
    externalFiles: o.externalFiles.map((f) => [f.location, f.tensors, f.bytes]),
  };
}

describe('model overview of every fixture matches its recorded expectation', () => {
  assert.ok(expectations.length >= 14, `expected at least 14 fixtures, found ${expectations.length}`);
  for (const exp of expectations) {
    it(exp.file, async () => {
      const file = path.join(MODELS, exp.file);
      if (exp.kind === 'model') {
        const { overview } = await readModelOverview(file);
        assert.equal(overview.fileSize, statSync(file).size);
        assert.deepEqual(tupleForm(overview), exp.overview);
      } else {
        await assert.rejects(readModelOverview(file), (error: unknown) => {
          assert.ok(error instanceof ModelError, `not a ModelError: ${String(error)}`);
          assert.equal(error.info.code, exp.errorCode, error.message);
          assert.equal(error.info.offset !== undefined, exp.offsetKnown, `offset: ${error.info.offset}`);
          for (const part of exp.messageIncludes) {
            assert.ok(error.message.includes(part), `message lacks '${part}': ${error.message}`);
          }
          return true;
        });
      }
    });
  }
});
