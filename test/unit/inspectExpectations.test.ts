/**
 * `quantlens inspect --json` on every fixture equals what the fixture generator expects from what it wrote
 * (test/fixtures/models/*.inspect.json, written by test/fixtures/generate.ts with the reference implementation
 * of the schemes in test/fixtures/referenceQuant.ts, never from the tool's output).
 *
 * Tolerances: counts, shapes, names, min / max / absmax, max |error| and the clipped / zeroed fractions are exact
 * (float32 values and their float64 differences, counts over counts); mean, std, kurtosis, outlier ratio, mse and
 * cosine within 1e-9 relative (float64 sums in another order); SQNR within 1e-6 dB. Measured: at most 4e-14 relative
 * and 2e-14 dB apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { inspectableFixtures, inspectFixture } from '../fixtures/runInspect';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');
const RELATIVE = new Set(['mean', 'std', 'kurtosis', 'outlierRatio', 'mse', 'cosine']);
const SQNR_DB = 1e-6;

const numberOf = (v: unknown): unknown =>
  v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v;

function assertNumber(actual: number, expected: number, key: string, where: string): void {
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) {
    assert.ok(Object.is(actual, expected), `${where}: ${actual} != expected ${expected}`);
  } else if (key === 'sqnrDb') {
    assert.ok(Math.abs(actual - expected) <= SQNR_DB, `${where}: ${actual} dB != expected ${expected} dB`);
  } else if (RELATIVE.has(key)) {
    const tolerance = 1e-9 * Math.max(Math.abs(expected), Math.abs(actual));
    assert.ok(Math.abs(actual - expected) <= tolerance, `${where}: ${actual} != expected ${expected}`);
  } else {
    assert.equal(actual, expected, where);
  }
}

/** Deep equality, same keys everywhere, numbers compared by the tolerance of their field (see above). */
function assertMatches(actual: unknown, expected: unknown, key: string, where: string): void {
  [actual, expected] = [numberOf(actual), numberOf(expected)];
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${where}: ${JSON.stringify(actual)} is not a number`);
    assertNumber(actual as number, expected, key, where);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: length differs`);
    expected.forEach((e, i) => assertMatches((actual as unknown[])[i], e, key, `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${where}: keys differ`);
    for (const [k, e] of Object.entries(expected))
      assertMatches((actual as Record<string, unknown>)[k], e, k, `${where}.${k}`);
  } else {
    assert.equal(actual, expected, where);
  }
}

describe('quantlens inspect --json equals the generator’s independent expectations', () => {
  for (const file of inspectableFixtures()) {
    it(file, () => {
      const expected = JSON.parse(readFileSync(path.join(MODELS, file.replace(/\.onnx$/, '.inspect.json')), 'utf8'));
      const r = inspectFixture(file, expected.schemes);
      assert.equal(r.code, 0, r.stderr);
      assertMatches(JSON.parse(r.stdout), expected, '', file);
    });
  }

  it('without --schemes, inspect compares the six default schemes', () => {
    const r = inspectFixture('gemm_transb.onnx');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const defaults = ['fp16', 'fp8-e4m3', 'int8-channel', 'int8-tensor', 'int4-block32', 'int4-block128'];
    assert.deepEqual(report.schemes, defaults);
    assert.deepEqual(Object.keys(report.weights[0].schemes), defaults);
  });
});
