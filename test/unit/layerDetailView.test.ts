import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Layout2D } from '../../src/core/quant/fakeQuant';
import { parseScheme } from '../../src/core/quant/schemes';
import type { StoredQuantization } from '../../src/core/quant/storedQuant';
import { analyzeTensor } from '../../src/core/stats/analyze';
import { cellRanges, channelSqnr } from '../../src/core/stats/layerDetail';
import { beyondGrid, compareDb, layerDetail } from '../../src/core/view/layerDetailView';
import { layerRow } from '../../src/core/view/layerTableView';
import type { WeightInfo } from '../../src/core/view/weightInfo';

// MatMul B [K=64, N=4]: channels are the 4 columns; channel 3 is all zeros (NaN SQNR), channel 0 coarse.
const K = 64;
const N = 4;
const layout: Layout2D = { rows: K, cols: N, channelAxis: 1 };
const data = Float32Array.from({ length: K * N }, (_, i) => {
  const k = Math.floor(i / N);
  const n = i % N;
  if (n === 3) return 0;
  return n === 0 ? (k % 7) - 3 + (k === 5 ? 40 : 0) : Math.sin(k * (n + 1)) * (n + 1);
});
const weight: WeightInfo = {
  name: 'fc.weight',
  layers: [{ node: '/fc/MatMul', op: 'MatMul', input: 1 }],
  dtype: 'float32',
  shape: [K, N],
  role: 'weight',
  quantizable: true,
  layout,
  source: {},
};

function detailOf(schemeId: string, w: WeightInfo = weight) {
  const scheme = parseScheme(schemeId);
  const analysis = analyzeTensor(data, layout, [scheme], 32);
  return layerDetail({
    row: layerRow(0, w, analysis, [schemeId]),
    weight: w,
    scheme: schemeId,
    stats: analysis.stats,
    histogram: analysis.histogram,
    reading: { ranges: cellRanges(data, layout), channelSqnr: channelSqnr(data, layout, scheme) },
    metrics: analysis.schemes[schemeId],
  });
}

describe('layer detail view', () => {
  it('lists channels from worst to best SQNR with empty channels last', () => {
    const d = detailOf('int4-channel');
    assert.equal(d.channelOrder.length, N);
    assert.equal(d.channelOrder[N - 1], 3);
    assert.ok(Number.isNaN(d.channelSqnr[N - 1]));
    for (let i = 1; i < N - 1; i++) assert.ok(d.channelSqnr[i - 1] <= d.channelSqnr[i]);
    assert.equal(d.channelLabel, 'output column');
  });

  it('heatmap extent: block size of a block scheme, the reduction length otherwise; range over finite cells', () => {
    const blocked = detailOf('int4-block32');
    assert.deepEqual([blocked.heatmap.channels, blocked.heatmap.blocks, blocked.heatmap.blockSize], [N, 2, 32]);
    const channel = detailOf('int8-channel');
    assert.deepEqual([channel.heatmap.channels, channel.heatmap.blocks, channel.heatmap.blockSize], [N, 1, K]);
    assert.ok(Number.isFinite(channel.heatmap.min) && channel.heatmap.min <= channel.heatmap.max);
    // A block longer than the reduction axis holds only its values (the heatmap said "block of 128 values" on 64).
    const long = detailOf('int4-block128');
    assert.deepEqual([long.heatmap.blocks, long.heatmap.blockSize], [1, K]);
  });

  it('metrics without the per-cell grid; the stored quantization without its layout', () => {
    const stored = { op: 'DequantizeLinear', summary: 'int8', layout, dims: [K, N] } as unknown as StoredQuantization;
    const d = detailOf('int8-channel', { ...weight, stored });
    assert.deepEqual(Object.keys(d.metrics ?? {}).sort(), [
      'clippedFraction',
      'cosine',
      'maxAbsError',
      'mse',
      'sqnrDb',
      'zeroedFraction',
    ]);
    assert.deepEqual(d.stored, { op: 'DequantizeLinear', summary: 'int8', dims: [K, N] });
    assert.ok(d.grid && d.grid.levels.length > 0);
  });

  it('counts the values in histogram bins fully outside the clipping range', () => {
    const h = { min: 0, max: 10, counts: Uint32Array.of(1, 2, 3, 4, 5) }; // bins of 2
    assert.equal(beyondGrid(h, { clipMin: 2.5, clipMax: 7.5 }), 1 + 5);
    assert.equal(beyondGrid(h, { clipMin: -1, clipMax: 11 }), 0);
    assert.equal(beyondGrid({ min: 1, max: 1, counts: Uint32Array.of(9) }, { clipMin: 2, clipMax: 3 }), 0);
  });

  it('orders dB ascending with NaN last', () => {
    assert.deepEqual([3, NaN, -Infinity, Infinity, 1].sort(compareDb), [-Infinity, 1, 3, Infinity, NaN]);
  });

  it('no grid for a weight that is not quantizable, and no metrics before the analysis', () => {
    const w = { ...weight, quantizable: false };
    const analysis = analyzeTensor(data, undefined, [], 16);
    const d = layerDetail({
      row: layerRow(0, w, analysis, []),
      weight: w,
      scheme: 'int8-channel',
      stats: analysis.stats,
      histogram: analysis.histogram,
      reading: undefined,
      metrics: undefined,
    });
    assert.equal(d.grid, null);
    assert.equal(d.beyondGrid, 0);
    assert.equal(d.metrics, undefined);
    assert.deepEqual([d.heatmap.channels, d.heatmap.blocks], [0, 0]);
  });
});
