/** Cached analysis: reopening a model or switching back to computed schemes runs nothing; a changed file does. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AnalysisCache } from '../../src/node/analysisCache';
import { readModelForAnalysis } from '../../src/node/analysisPlan';
import { AnalysisPool } from '../../src/node/analysisPool';
import { analyzePlanned } from '../../src/node/modelAnalyzer';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-cache-'));
const pool = new AnalysisPool({ threads: 2 });
after(() => {
  pool.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('analysis cache', () => {
  it('reuses stats and scheme results; computes only schemes not seen; results equal a fresh run', async () => {
    const file = path.join(dir, 'mlp.onnx');
    copyFileSync(path.join(__dirname, '..', 'fixtures', 'models', 'mlp.onnx'), file);
    const { plan, cacheKey } = await readModelForAnalysis(file);
    const store = new AnalysisCache();
    const cache = { store, key: cacheKey };
    const first = await analyzePlanned(pool, file, plan, ['int8-channel', 'fp16'], { cache });
    assert.deepEqual([first.computed, first.reused], [4, 0]);
    // Reopening: nothing to compute, same numbers.
    const again = await analyzePlanned(pool, file, plan, ['int8-channel', 'fp16'], { cache });
    assert.deepEqual([again.computed, again.reused], [0, 4]);
    assert.deepEqual(again.analyses, first.analyses);
    // A new scheme: only the two quantizable weights run, for that scheme only.
    const other = await analyzePlanned(pool, file, plan, ['int4-block32'], { cache });
    assert.deepEqual([other.computed, other.reused], [2, 2]);
    assert.deepEqual(Object.keys(other.analyses[0]?.schemes ?? {}), ['int4-block32']);
    // Switching back is instant, and a mixed request combines cached schemes in the order asked.
    const back = await analyzePlanned(pool, file, plan, ['fp16', 'int4-block32', 'int8-channel'], { cache });
    assert.equal(back.computed, 0);
    assert.deepEqual(Object.keys(back.analyses[0]?.schemes ?? {}), ['fp16', 'int4-block32', 'int8-channel']);
    const fresh = await analyzePlanned(pool, file, plan, ['fp16', 'int4-block32', 'int8-channel']);
    assert.deepEqual(back.analyses, fresh.analyses);
  });

  it('the key changes when the model file changes (mtime) and stays when it does not', async () => {
    const file = path.join(dir, 'gemm.onnx');
    copyFileSync(path.join(__dirname, '..', 'fixtures', 'models', 'gemm_transb.onnx'), file);
    const a = (await readModelForAnalysis(file)).cacheKey;
    assert.equal((await readModelForAnalysis(file)).cacheKey, a);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.notEqual((await readModelForAnalysis(file)).cacheKey, a);
  });

  it('stays within its byte bound, dropping the least recently used model', async () => {
    const file = path.join(dir, 'mlp2.onnx');
    copyFileSync(path.join(__dirname, '..', 'fixtures', 'models', 'mlp.onnx'), file);
    const { plan } = await readModelForAnalysis(file);
    const store = new AnalysisCache(10_000);
    await analyzePlanned(pool, file, plan, ['int8-channel'], { cache: { store, key: 'a' } });
    const one = store.size;
    await analyzePlanned(pool, file, plan, ['int8-channel'], { cache: { store, key: 'b' } });
    assert.ok(one > 5_000 && one <= 10_000 && store.size <= 10_000, `one model ${one} bytes, cache ${store.size}`);
    assert.equal(store.get('a', 'fc1.weight', 256), undefined);
    assert.ok(store.get('b', 'fc1.weight', 256));
  });
});
