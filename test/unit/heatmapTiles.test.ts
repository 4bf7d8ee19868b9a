import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellAbsmax, downsampleTile } from '../../src/core/view/heatmapTiles';
import { modelHeatmap } from '../../src/core/view/modelHeatmap';
import type { WeightInfo } from '../../src/core/view/weightInfo';
import type { TensorAnalysis } from '../../src/core/stats/analyze';

/** A channels x blocks grid with cell (c, b) = 100 + 10 c + b. */
const grid = (channels: number, blocks: number): Float64Array =>
  Float64Array.from({ length: channels * blocks }, (_, i) => 100 + 10 * Math.floor(i / blocks) + (i % blocks));

const all = { channel0: 0, block0: 0 };

describe('heatmap tiles', () => {
  it('shows every cell when the screen has room for it', () => {
    const sqnr = grid(3, 4);
    const t = downsampleTile(
      { channels: 3, blocks: 4, sqnr },
      { ...all, channels: 3, blocks: 4, maxRows: 10, maxCols: 10 },
    );
    assert.deepEqual([t.rows, t.cols, t.channelStep, t.blockStep], [3, 4, 1, 1]);
    assert.deepEqual(Array.from(t.sqnr), Array.from(sqnr));
    assert.equal(t.absmax, undefined);
  });

  it('keeps the worst SQNR of the cells each shown cell covers', () => {
    const sqnr = grid(4, 4);
    sqnr[1 * 4 + 2] = -3; // channel 1, block 2: the worst cell of shown cell (0, 1)
    const t = downsampleTile(
      { channels: 4, blocks: 4, sqnr },
      { ...all, channels: 4, blocks: 4, maxRows: 2, maxCols: 2 },
    );
    assert.deepEqual([t.rows, t.cols, t.channelStep, t.blockStep], [2, 2, 2, 2]);
    assert.deepEqual(Array.from(t.sqnr), [100, -3, 120, 122]);
  });

  it('treats NaN (an empty cell) as the worst and keeps the largest absmax', () => {
    const sqnr = Float64Array.of(10, NaN, 5, 7, 1, 2);
    const absmax = Float32Array.of(1, 2, 9, 3, 4, 5);
    const t = downsampleTile(
      { channels: 1, blocks: 6, sqnr, absmax },
      { ...all, channels: 1, blocks: 6, maxRows: 1, maxCols: 2 },
    );
    assert.deepEqual([t.cols, t.blockStep], [2, 3]);
    assert.ok(Number.isNaN(t.sqnr[0]));
    assert.equal(t.sqnr[1], 1);
    assert.deepEqual(Array.from(t.absmax ?? []), [9, 5]);
  });

  it('clamps the window to the grid and covers a last, partial shown cell', () => {
    const sqnr = grid(5, 3);
    const t = downsampleTile(
      { channels: 5, blocks: 3, sqnr },
      { channel0: 2.6, channels: 10, block0: -1, blocks: 3, maxRows: 2, maxCols: 3 },
    );
    // channels 2..4 (3 of them) in shown cells of 2: [2, 3] and [4].
    assert.deepEqual([t.channel0, t.block0, t.rows, t.cols, t.channelStep], [2, 0, 2, 3, 2]);
    assert.deepEqual(Array.from(t.sqnr), [120, 121, 122, 140, 141, 142]);
  });

  it('absmax per cell from the cells value ranges', () => {
    assert.deepEqual(
      Array.from(cellAbsmax({ lo: Float32Array.of(-3, -1, 0), hi: Float32Array.of(2, 4, 0) })),
      [3, 4, 0],
    );
  });
});

describe('model heatmap', () => {
  const w = (name: string, quantizable: boolean, hasValues = true): WeightInfo => ({
    name,
    layers: [{ node: `/${name}/MatMul`, op: 'MatMul', input: 1 }],
    dtype: 'float32',
    shape: [2, 2],
    role: quantizable ? 'weight' : 'bias',
    quantizable,
    ...(hasValues ? { source: {} } : {}),
  });
  const analysis = (sqnr: Record<string, number>): TensorAnalysis =>
    ({
      schemes: Object.fromEntries(Object.entries(sqnr).map(([id, sqnrDb]) => [id, { sqnrDb }])),
    }) as unknown as TensorAnalysis;

  it('one row per quantizable weight with values, NaN where a scheme is not analysed yet', () => {
    const plan = [w('a', true), w('b', false), w('c', true), w('d', true, false)];
    const h = modelHeatmap(
      plan,
      [analysis({ int8: 40, int4: 20 }), undefined, analysis({ int8: 30 })],
      ['int8', 'int4'],
    );
    assert.deepEqual(h.rows, [
      { index: 0, name: 'a', label: '/a/MatMul · a' },
      { index: 2, name: 'c', label: '/c/MatMul · c' },
    ]);
    assert.deepEqual(Array.from(h.sqnr.subarray(0, 3)), [40, 20, 30]);
    assert.ok(Number.isNaN(h.sqnr[3]));
  });

  it('the webview downsamples the model heatmap with the same rule (whole scheme columns)', () => {
    const sqnr = Float32Array.of(40, 20, 10, 30, NaN, 35);
    const t = downsampleTile(
      { channels: 3, blocks: 2, sqnr },
      { ...all, channels: 3, blocks: 2, maxRows: 1, maxCols: 2 },
    );
    assert.deepEqual([t.rows, t.cols, t.channelStep], [1, 2, 3]);
    assert.ok(Number.isNaN(t.sqnr[0]));
    assert.equal(t.sqnr[1], 20);
  });
});
