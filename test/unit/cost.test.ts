/**
 * The cost measurement with real onnxruntime in real child processes: an evaluation with a model-file variant
 * carries a schema-valid cost block for fp32 and the variant (sane percentiles, runs, memory, ratios with
 * their spread); `--no-latency` and `latency: false` measure nothing; a batch size the model cannot take is
 * skipped with the reason; the statistics are right.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import Ajv from 'ajv';
import { costRatios, latencyStats, modelCost, quantile } from '../../src/core/cost/costStats';
import type { CostSample } from '../../src/core/cost/costTypes';
import { finiteReplacer } from '../../src/core/eval/results';
import type { BenchResults } from '../../src/cli/bench';
import { measureCosts } from '../../src/node/cost/costRun';
import { evaluate } from '../../src/node/eval/evaluate';
import { fileSessionOptions } from '../../src/node/eval/fileVariant';
import { writeFixedBatch, writeMlp, writeQdqCopy } from '../fixtures/fileVariants';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-cost-'));
const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'results.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const LATENCY = { batchSizes: [1, 16], runs: 4, seconds: 0, rounds: 2 };
const spec = (name: string, body: object): string => {
  const file = path.join(dir, name);
  const base = { model: 'mlp.onnx', task: 'classification', data: { path: 'data.jsonl' }, sweep: false };
  writeFileSync(file, JSON.stringify({ ...base, sensitivity: false, limit: 64, batchSize: 16, ...body }));
  return file;
};

before(async () => {
  const mlp = writeMlp(dir);
  await writeQdqCopy(mlp, path.join(dir, 'mlp.int8.onnx'));
  writeFixedBatch(mlp, path.join(dir, 'mlp.batch1.onnx'));
});

describe('cost measurement', () => {
  it('an evaluation with a model-file variant measures fp32 and the variant, schema-valid', async () => {
    const results = await evaluate(
      spec('cost.quantlens.json', { variants: ['int8-channel', { model: 'mlp.int8.onnx' }], latency: LATENCY }),
    );
    const written = JSON.parse(JSON.stringify(results, finiteReplacer)) as object;
    assert.ok(validate(written), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
    assert.deepEqual(results.latency, LATENCY);
    const [fp32, simulated, file] = results.variants;
    assert.equal(simulated.cost, undefined, 'a simulated variant has no model to run');
    for (const [v, name] of [
      [fp32, 'mlp.onnx'],
      [file, 'mlp.int8.onnx'],
    ] as const) {
      const cost = v.cost!;
      assert.ok(cost, `${v.id} has a cost`);
      assert.equal(cost.fileBytes, statSync(path.join(dir, name)).size);
      assert.equal(cost.rounds, 2);
      assert.equal(cost.provider, 'cpu');
      assert.equal(cost.sessionOptions.graphOptimizationLevel, 'all');
      assert.ok(cost.sessionMs > 0 && cost.peakRssBytes > 0, `${v.id}: ${cost.sessionMs} ms, ${cost.peakRssBytes} B`);
      for (const batch of ['1', '16']) {
        const l = cost.latency[batch];
        assert.ok(
          l.p50Ms! > 0 && l.p50Ms! <= l.p90Ms! && l.p90Ms! <= l.p99Ms!,
          `${v.id} ${batch}: ${JSON.stringify(l)}`,
        );
        assert.ok(l.runs! >= 2 * LATENCY.runs);
        assert.ok(Math.abs(l.samplesPerSec! - (Number(batch) * 1000) / l.p50Ms!) < 1e-6);
      }
    }
    const ratio = file.cost!.ratioToFp32!;
    assert.ok(ratio.fileBytes < 0.5, `int8 file ${ratio.fileBytes} of fp32's`);
    for (const r of [ratio.sessionMs, ratio.peakRssBytes, ratio.latency['1'].p50Ms, ratio.latency['16'].samplesPerSec])
      assert.ok(r.low <= r.high && r.value > 0, JSON.stringify(r));
    assert.equal(fp32.cost!.ratioToFp32, undefined);
    assert.ok(Array.isArray(file.cost!.worse));
  });

  it('latency false (spec or --no-latency) measures nothing; --latency measures fp32 without file variants', async () => {
    const off = await evaluate(spec('off.quantlens.json', { variants: [{ model: 'mlp.int8.onnx' }], latency: false }));
    assert.equal(off.variants[1].cost, undefined);
    assert.equal(off.latency, undefined);
    const file = spec('flag.quantlens.json', { variants: [{ model: 'mlp.int8.onnx' }], latency: LATENCY });
    assert.equal((await evaluate(file, { latency: false })).variants[0].cost, undefined);
    const onlyFp32 = await evaluate(spec('fp32.quantlens.json', { variants: ['int8-channel'] }), { latency: true });
    assert.ok(onlyFp32.variants[0].cost, '--latency measures fp32');
    assert.deepEqual(onlyFp32.latency!.batchSizes, [1, 16], 'default: batch 1 and the batch size');
  });

  it('a batch size the model cannot take is skipped with the reason', async () => {
    const model = path.join(dir, 'mlp.batch1.onnx');
    const costs = await measureCosts([{ id: 'fixed', model, sessionOptions: fileSessionOptions(undefined) }], {
      batchSizes: [1, 4],
      runs: 2,
      seconds: 0,
      rounds: 1,
    });
    const latency = costs.get('fixed')!.latency;
    assert.ok(latency['1'].p50Ms! > 0);
    assert.deepEqual(latency['4'], { skipped: "the model's input 'x' has a fixed first axis of 1" });
  });

  it('statistics: quantiles, pooled rounds, ratios with their spread', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([5], 0.99), 5);
    const stats = latencyStats([4, 1, 3, 2], 8);
    assert.deepEqual([stats.p50Ms, stats.meanMs, stats.samplesPerSec, stats.runs], [2.5, 2.5, 3200, 4]);
    assert.equal(latencyStats([1, 1, 1, 100], 1).samplesPerSec, 1000, 'at the median: one hiccup does not move it');
    const sample = (ms: number, k: number): CostSample => ({
      fileBytes: 100 * k,
      sessionMs: ms,
      peakRssBytes: 1000 * k,
      latency: { 1: { times: [ms, ms, ms] } },
    });
    const setup = { threads: 0, provider: 'cpu', sessionOptions: {} };
    const a = [sample(2, 1), sample(4, 1)];
    const b = [sample(1, 2), sample(1, 2)];
    const ratio = costRatios(modelCost(b, setup), b, modelCost(a, setup), a);
    assert.equal(ratio.fileBytes, 2);
    // Pooled: p50 1 over p50 3 of fp32's six runs; per round 1/2 and 1/4.
    assert.deepEqual(ratio.latency['1'].p50Ms, { value: 1 / 3, low: 1 / 4, high: 1 / 2 });
    assert.deepEqual(ratio.peakRssBytes, { value: 2, low: 2, high: 2 });
  });
});

describe('quantlens bench', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  it('measures models without a spec: a table, or JSON with ratios to the first; bad input exits 2', () => {
    const fp32 = path.join(dir, 'mlp.onnx');
    const fixed = path.join(dir, 'mlp.batch1.onnx');
    const quick = ['--runs', '2', '--seconds', '0', '--rounds', '1', '--batch', '1,4'];
    const json = cli('bench', fp32, fixed, ...quick, '--dim', 'batch=3', '--json');
    assert.equal(json.status, 0, json.stderr);
    const results = JSON.parse(json.stdout) as BenchResults;
    assert.equal(results.format, 'quantlens-bench');
    assert.deepEqual(results.settings.batch, [1, 4]);
    const [a, b] = results.models;
    assert.equal(a.model, fp32);
    assert.ok(a.latency['4'].p50Ms! > 0 && a.latency['4'].runs! >= 2);
    assert.match(b.latency['4'].skipped!, /fixed first axis of 1/);
    assert.ok(b.ratioToFp32!.latency['1'].p50Ms.value > 0);
    const text = cli('bench', fp32, ...quick);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /model\s+size\s+load\s+peak memory\s+p50 b1\s+p90 b1\s+samples\/s b1\s+p50 b4/);
    assert.equal(cli('bench', path.join(dir, 'missing.onnx')).status, 2);
    assert.equal(cli('bench', fp32, '--batch', '0').status, 2);
  });
});
