/** The scoring worker's failure paths: an error in scoring and a worker that dies are errors, never a hang. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ScoringWorker, type ScoringSetup } from '../../src/node/eval/scoring';

const setup: ScoringSetup = { task: 'classification', width: 4, configs: 1, slices: 1, sliceOf: [[0], [0]] };

describe('scoring worker failures', () => {
  it('an error inside the worker rejects the evaluation with its message', async () => {
    const worker = new ScoringWorker(setup);
    try {
      await worker.score(0, new Float32Array(8)); // no fp32 reference set for the batch: the worker throws
      await assert.rejects(worker.results(), /^Error: Scoring failed: /);
    } finally {
      await worker.close();
    }
  });

  it('a worker that stops is an error naming its exit code', async () => {
    const script = path.join(mkdtempSync(path.join(tmpdir(), 'quantlens-scoring-')), 'dies.js');
    writeFileSync(script, 'process.exit(3);\n');
    const worker = new ScoringWorker(setup, script);
    try {
      await assert.rejects(async () => {
        for (;;) await worker.score(0, new Float32Array(8)); // fills the ring, then waits for a slot that never frees
      }, /The scoring worker stopped \(exit code 3\)/);
      await assert.rejects(worker.results(), /exit code 3/);
    } finally {
      await worker.close();
    }
  });
});
