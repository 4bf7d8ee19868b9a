/** The analysis worker pool: same results as in-thread analysis, errors named, memory budget, cancellation. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AnalysisPool, largestFirst, taskBytes } from '../../src/node/analysisPool';
import { runAnalysisTask, type AnalysisTask } from '../../src/node/analysisTask';
import { gaussian, rng } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Tasks reading float32 tensors of the given row counts (x 256 columns) from one file. */
function tasks(rowsList: number[]): AnalysisTask[] {
  const all = rowsList.map((rows, i) => gaussian(rng(i + 1), rows * 256, 0.02));
  const file = path.join(dir, `w${rowsList.join('-')}.bin`);
  writeFileSync(file, Buffer.concat(all.map((a) => Buffer.from(a.buffer))));
  let offset = 0;
  return all.map((a, i) => {
    const task: AnalysisTask = {
      tensor: `w${i}`,
      model: file,
      bins: 64,
      schemes: ['int8-channel', 'int4-block32', 'fp8-e4m3'],
      layout: { rows: rowsList[i], cols: 256, channelAxis: 1 },
      source: { kind: 'file', file, offset, length: a.byteLength, dtype: 1, elements: a.length },
    };
    offset += a.byteLength;
    return task;
  });
}

describe('analysis pool', () => {
  it('gives the same results as analysing in this thread, in task order, with progress per task', async () => {
    const list = tasks([64, 32, 128, 16, 96]);
    const pool = new AnalysisPool({ threads: 2 });
    const seen: number[] = [];
    try {
      const results = await pool.run(list, { onResult: (i) => seen.push(i) });
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
      for (const [i, task] of list.entries()) {
        const local = runAnalysisTask(task).analysis;
        assert.deepEqual(results[i].analysis, local, `task ${i}`);
      }
    } finally {
      pool.dispose();
    }
  });

  it('a batch of small tensors arrives in one buffer, with the values analysed one by one; collect: false keeps none', async () => {
    const list = tasks([4, 8, 2]);
    const pool = new AnalysisPool({ threads: 1 });
    try {
      const results = await pool.run(list);
      const buffers = new Set(
        results.flatMap((r) => [
          r.analysis.histogram.counts.buffer,
          ...Object.values(r.analysis.schemes).map((m) => m.grid.sqnrDb.buffer),
        ]),
      );
      assert.equal(buffers.size, 1);
      for (const [i, task] of list.entries()) assert.deepEqual(results[i].analysis, runAnalysisTask(task).analysis);
      const seen: number[] = [];
      assert.deepEqual(await pool.run(list, { collect: false, onResult: (i) => seen.push(i) }), []);
      assert.deepEqual([...seen].sort(), [0, 1, 2]);
    } finally {
      pool.dispose();
    }
  });

  it('starts the largest tasks first and keeps the tensors in flight within the memory budget', async () => {
    const list = tasks([256, 64, 64, 64]);
    const pool = new AnalysisPool({ threads: 2 });
    const order: number[] = [];
    try {
      // Budget fits the big tensor alone or two small ones: the big one runs first, alone.
      await pool.run(list, { memoryBudget: taskBytes(list[0]) + 1, onResult: (i) => order.push(i) });
      assert.equal(order[0], 0);
    } finally {
      pool.dispose();
    }
  });

  it('names the tensor and file when values cannot be read', async () => {
    const [task] = tasks([8]);
    const pool = new AnalysisPool({ threads: 1 });
    try {
      await assert.rejects(
        pool.run([{ ...task, source: { ...task.source, length: 10 ** 7 } as AnalysisTask['source'] }]),
        (e: Error) => {
          assert.match(e.message, /Tensor 'w0' in w8\.bin cannot be read: the file ends at byte 8192/);
          return true;
        },
      );
      // The pool is still usable afterwards.
      assert.equal((await pool.run([task]))[0].analysis.stats.count, 8 * 256);
    } finally {
      pool.dispose();
    }
  });

  it('aborting stops the run at once and the pool keeps working', async () => {
    const list = tasks([2048, 2048, 2048, 2048]);
    const pool = new AnalysisPool({ threads: 2 });
    try {
      const abort = new AbortController();
      const seen: number[] = [];
      // Cancel as soon as the first tensor is done: the run rejects, nothing more is reported.
      const run = pool.run(list, {
        signal: abort.signal,
        onResult: (i) => (seen.push(i), abort.abort(new Error('stop'))),
      });
      await assert.rejects(run, /stop/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(seen.length, 1);
      assert.equal((await pool.run(list.slice(0, 1)))[0].analysis.stats.count, 2048 * 256);
    } finally {
      pool.dispose();
    }
  });
});

describe('largestFirst', () => {
  it('orders task indices by size, largest first, ties in task order (packed keys or the comparator)', () => {
    const r = rng(18);
    const sizes = Array.from({ length: 5000 }, () => Math.floor(r() * 40) * 1024);
    const expected = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
    assert.deepEqual(largestFirst(sizes), expected);
    // Sizes too large to pack with an index take the comparator; same order.
    const huge = [3 * 2 ** 31, 5, 3 * 2 ** 31, 2 ** 40];
    assert.deepEqual(largestFirst(huge), [3, 0, 2, 1]);
    assert.deepEqual(largestFirst([]), []);
  });
});
