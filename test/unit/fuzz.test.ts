/** The bounded fuzz run of CI: 1,000 seeded mutants, each ends as a model read or a clear error, in bounds. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runFuzz } from '../fuzz/run';

it(
  '1,000 mutants: no crash, no hang, no memory blow-up, no read outside the model folder',
  { timeout: 600_000 },
  async () => {
    const report = await runFuzz({
      count: Number(process.env.QUANTLENS_FUZZ_COUNT ?? 1000),
      seed: Number(process.env.QUANTLENS_FUZZ_SEED ?? 18),
      corpus: '/usr/share/libonnx-testdata/data',
      timeoutMs: 10_000,
      rssLimitMb: 1024,
    });
    console.log(`fuzz: ${JSON.stringify({ ...report, crashes: report.crashes.length })}`);
    assert.deepEqual(report.crashes.slice(0, 5), []);
    assert.deepEqual(report.hangs, []);
    assert.deepEqual(report.memoryBlowUps, []);
    assert.deepEqual(report.outsideReads, []);
    assert.equal(report.ok + report.badInput, report.mutants);
  },
);
