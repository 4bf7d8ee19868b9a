/**
 * Weight analysis inside the extension host: the same numbers as `quantlens inspect --json`, a cache that
 * makes the second run free, cancellation, and an event loop that analysis never blocks for long.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { toJson } from '../../src/core/view/reportFormat';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../fixtures/onnxBuilder';
import { api, measureStall, workspaceDir } from './helpers';

/** Numbers equal up to summation order; everything else exactly. */
function assertClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(
      Math.abs(actual - expected) <= 1e-9 * Math.max(Math.abs(expected), Math.abs(actual)) + 1e-300,
      `${where}: ${actual} != ${expected}`,
    );
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const [k, e] of Object.entries(expected))
      assertClose((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
  } else {
    assert.equal(actual, expected, where);
  }
}

/** A model of `layers` MatMul layers with 1024 x 1024 float32 weights (4 MiB each). */
function bigModel(file: string, layers: number): void {
  const r = rng(7);
  const nodes = [];
  const inits = [];
  for (let i = 0; i < layers; i++) {
    nodes.push(
      node('MatMul', [i === 0 ? 'x' : `h${i}`, `w${i}`], [i === layers - 1 ? 'y' : `h${i + 1}`], `/layers.${i}/MatMul`),
    );
    inits.push(floatTensor(`w${i}`, [1024, 1024], gaussian(r, 1024 * 1024, 0.02)));
  }
  writeFileSync(
    file,
    model({
      node: nodes,
      initializer: inits,
      input: [value('x', DT.float32, ['batch', 1024])],
      output: [value('y', DT.float32, ['batch', 1024])],
    }),
  );
}

describe('weight analysis in the extension host', function () {
  this.timeout(120_000);

  it('reports the same numbers as `quantlens inspect --json` for every fixture', async () => {
    const ql = await api();
    const dir = workspaceDir();
    const files = readdirSync(dir).filter((f) => f.endsWith('.inspect.json'));
    assert.ok(files.length >= 9);
    for (const f of files) {
      const recorded = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      const report = await ql.inspect(
        vscode.Uri.file(path.join(dir, f.replace(/\.inspect\.json$/, '.onnx'))),
        recorded.schemes,
      );
      assertClose(JSON.parse(toJson(report)), recorded, f);
    }
  });

  it('keeps the event loop free while analysing, reuses the cache, and cancels', async () => {
    const ql = await api();
    const dir = path.join(workspaceDir(), 'big');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'big.onnx');
    bigModel(file, 16);
    const uri = vscode.Uri.file(file);
    let calls = 0;
    const first = await measureStall(() => ql.inspect(uri, ['fp16', 'int8-channel', 'int4-block32'], () => calls++));
    const report = first.value;
    assert.equal(report.weights.length, 16);
    assert.ok(
      report.weights.every((w) => w.schemes['int4-block32'].sqnrDb > 15 && w.schemes['int8-channel'].sqnrDb > 35),
    );
    assert.equal(calls, 17); // 0 of 16, then one per weight
    // The bound: no more than 50 ms of blocking, beyond what this shared machine does to an idle event loop
    // under the same kind of load (measured around the run). A scheduler hiccup rarely repeats, a real block does:
    // a second fresh analysis may confirm. Every figure is recorded.
    const figures = [first];
    if (first.maxDelayMs - first.baselineMs > 50) {
      figures.push(await measureStall(() => ql.inspect(uri, ['bf16', 'int8-channel-asym', 'int4-block64'])));
    }
    for (const f of figures) {
      console.log(
        `[analysis] 64 MiB model, 3 schemes: ${f.ms.toFixed(0)} ms, extension host event loop max delay ${f.maxDelayMs.toFixed(1)} ms (idle under the same load: ${f.baselineMs.toFixed(1)} ms)`,
      );
    }
    const excess = Math.min(...figures.map((f) => f.maxDelayMs - f.baselineMs));
    assert.ok(excess <= 50, `event loop blocked for ${excess.toFixed(1)} ms more than when idle under the same load`);

    // Second run: everything from the cache (no analysis task, so no progress beyond the cached weights).
    const again = await ql.inspect(uri, ['fp16', 'int8-channel', 'int4-block32']);
    assert.deepEqual(JSON.parse(toJson(again)), JSON.parse(toJson(report)));

    // Cancelling a run for a new scheme rejects, and the next run still works.
    const abort = new AbortController();
    const run = ql.inspect(
      uri,
      ['int3-block16'],
      (done) => {
        if (done >= 1) abort.abort(new vscode.CancellationError());
      },
      abort.signal,
    );
    await assert.rejects(run, (e: unknown) => e instanceof vscode.CancellationError);
    const after = await ql.inspect(uri, ['int8-tensor']);
    assert.equal(after.weights.length, 16);

    // Rewriting the model invalidates both the remembered read and the cached results.
    bigModel(file, 4);
    const rewritten = await ql.inspect(uri, ['int8-tensor']);
    assert.equal(rewritten.weights.length, 4);
  });
});
