/** The overview worker's plan, fetched in pages: the same plan as read in this thread, small values packed per page. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { manyInitializers } from '../../bench/smallInputs';
import { readModelForAnalysis } from '../../src/node/analysisPlan';
import { readOverviewInWorker } from '../../src/node/overviewClient';
import { workerScript } from '../../src/node/workers';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-overview-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('readOverviewInWorker', () => {
  it('2,500 one-value weights: the plan read in this thread, values in one buffer per page of 1,000', async () => {
    const model = path.join(dir, 'many.onnx');
    writeFileSync(model, manyInitializers(2500));
    const here = await readModelForAnalysis(model);
    const there = await readOverviewInWorker(workerScript('overviewWorker'), model);
    assert.equal(there.plan.length, 2500);
    assert.deepEqual(there.plan, here.plan);
    assert.deepEqual(there.overview, here.overview);
    assert.equal(there.cacheKey, here.cacheKey);
    const buffers = new Set(there.plan.map((w) => (w.source?.kind === 'values' ? w.source.values.buffer : undefined)));
    assert.equal(buffers.size, 3);
    assert.deepEqual(
      Array.from(there.plan.map((w) => (w.source?.kind === 'values' ? w.source.values[0] : NaN)).slice(998, 1002)),
      [998, 999, 1000, 1001],
    );
  });
});
