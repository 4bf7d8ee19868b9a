/** `quantlens inspect --json` on every fixture matches its recorded expectations (test/fixtures/models/*.inspect.json). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { inspectableFixtures, inspectFixture } from '../fixtures/recordInspect';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');

/** Deep equality where numbers may differ in the last bits (summation order), nothing else. */
function assertClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tolerance = 1e-9 * Math.max(Math.abs(expected), Math.abs(actual)) + 1e-300;
    assert.ok(Math.abs(actual - expected) <= tolerance, `${where}: ${actual} != recorded ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: length differs`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${where}: keys differ`);
    for (const [k, e] of Object.entries(expected))
      assertClose((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
  } else {
    assert.equal(actual, expected, where);
  }
}

describe('quantlens inspect --json matches the recorded expectations', () => {
  for (const file of inspectableFixtures()) {
    it(file, () => {
      const r = inspectFixture(file);
      assert.equal(r.code, 0, r.stderr);
      const recorded = JSON.parse(readFileSync(path.join(MODELS, file.replace(/\.onnx$/, '.inspect.json')), 'utf8'));
      assertClose(JSON.parse(r.stdout), recorded, file);
    });
  }
});
