import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeQuantize, intParams, type Layout2D } from '../../src/core/quant/fakeQuant';
import { FP8_E4M3FN, FP8_E5M2, roundToMiniFloat } from '../../src/core/quant/rounding';
import { parseScheme, type IntScheme } from '../../src/core/quant/schemes';
import { analyzeTensor } from '../../src/core/stats/analyze';
import {
  cellRanges,
  channelSqnr,
  miniFloatValues,
  quantGrid,
  schemeBytes,
  schemeCells,
} from '../../src/core/stats/layerDetail';
import { gaussian, rng } from '../fixtures/onnxBuilder';

describe('layer detail', () => {
  const layouts: Layout2D[] = [
    { rows: 24, cols: 100, channelAxis: 0 }, // 100 = 3 blocks of 32 + a partial block of 4
    { rows: 100, cols: 24, channelAxis: 1 },
  ];
  const w = gaussian(rng(11), 2400, 0.05);
  for (let i = 0; i < w.length; i += 97) w[i] *= 12;
  w[7] = NaN;

  for (const layout of layouts) {
    for (const id of ['int4-block32', 'int4-block16-asym', 'int8-channel', 'int8-tensor', 'int3-block128-asym']) {
      it(`${id}, channel axis ${layout.channelAxis}: scales from cell ranges equal the analysis' own scales`, () => {
        const scheme = parseScheme(id) as IntScheme;
        const expected = intParams(w, layout, scheme).scales;
        const grid = quantGrid(scheme, cellRanges(w, layout), true, 'widest');
        assert.equal(grid.groups, expected.length);
        assert.equal(grid.scaleMax, Math.max(...expected));
        assert.equal(grid.scaleMin, Math.min(...expected));
        assert.equal(grid.scale, grid.scaleMax);
        assert.equal(grid.levels.length, 2 ** scheme.bits - (scheme.symmetric ? 1 : 0));
      });
    }
    it(`channel axis ${layout.channelAxis}: merged cells have the analysis grid's shape and hold each cell's range`, () => {
      const ranges = cellRanges(w, layout);
      const cells = schemeCells(ranges, parseScheme('int4-block32'), true);
      const analysis = analyzeTensor(w, layout, [parseScheme('int4-block32')]);
      assert.equal(cells.channels, analysis.schemes['int4-block32'].grid.channels);
      assert.equal(cells.blocks, analysis.schemes['int4-block32'].grid.blocks);
      // Cell (channel 2, block 1) by brute force.
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < w.length; i++) {
        const r = Math.floor(i / layout.cols);
        const c = i % layout.cols;
        const [channel, k] = layout.channelAxis === 0 ? [r, c] : [c, r];
        if (channel === 2 && Math.floor(k / 32) === 1 && Number.isFinite(w[i])) {
          lo = Math.min(lo, w[i]);
          hi = Math.max(hi, w[i]);
        }
      }
      assert.equal(cells.lo[2 * cells.blocks + 1], Math.fround(lo));
      assert.equal(cells.hi[2 * cells.blocks + 1], Math.fround(hi));
    });
    it(`channel axis ${layout.channelAxis}: per-channel SQNR equals the analysis grid of a per-channel scheme`, () => {
      const analysis = analyzeTensor(w, layout, [parseScheme('int4-channel')]);
      const mine = channelSqnr(w, layout, parseScheme('int4-channel'));
      const grid = analysis.schemes['int4-channel'].grid.sqnrDb;
      assert.equal(mine.length, grid.length);
      for (let c = 0; c < mine.length; c++)
        assert.ok(Math.abs(mine[c] - grid[c]) < 1e-9, `channel ${c}: ${mine[c]} vs ${grid[c]}`);
    });
  }

  it('per-channel SQNR by hand: one channel exact, one with a known error', () => {
    // int2 symmetric per channel: qmax 1, so a channel [1, 0.4] has scale 1 and 0.4 -> 0 (error 0.4).
    const sqnr = channelSqnr(
      Float32Array.of(1, 0.4, 2, -2),
      { rows: 2, cols: 2, channelAxis: 0 },
      parseScheme('int2-channel'),
    );
    const expected = 10 * Math.log10((1 + Math.fround(0.4) ** 2) / Math.fround(0.4) ** 2);
    assert.ok(Math.abs(sqnr[0] - expected) < 1e-9);
    assert.equal(sqnr[1], Infinity);
  });

  it('fp8 grids hold exactly the values a cast can produce, scaled', () => {
    assert.equal(miniFloatValues(FP8_E4M3FN).length, 127); // codes 0x00..0x7E
    assert.equal(miniFloatValues(FP8_E5M2).length, 124); // codes 0x00..0x7B
    for (const v of miniFloatValues(FP8_E4M3FN)) assert.equal(roundToMiniFloat(v, FP8_E4M3FN), v);
    const grid = quantGrid(parseScheme('fp8-e4m3'), cellRanges(w, layouts[0]), true);
    const hat = fakeQuantize(w, layouts[0], parseScheme('fp8-e4m3'));
    const levels = new Set(grid.levels);
    for (let i = 0; i < w.length; i++)
      if (Number.isFinite(hat[i])) assert.ok(levels.has(hat[i]), `value ${hat[i]} is on the grid`);
    assert.equal(grid.levels.length, 2 * 127 - 1);
  });

  it('stored bytes: packed values plus float32 scales and packed zero points', () => {
    const layout: Layout2D = { rows: 64, cols: 128, channelAxis: 0 };
    assert.equal(schemeBytes(parseScheme('int4-block32'), 8192, layout), 4096 + 4 * 256);
    assert.equal(schemeBytes(parseScheme('int4-block32-asym'), 8192, layout), 4096 + 4 * 256 + 128);
    assert.equal(schemeBytes(parseScheme('int8-channel'), 8192, layout), 8192 + 4 * 64);
    assert.equal(schemeBytes(parseScheme('int8-channel'), 8192, undefined), 8192 + 4);
    assert.equal(schemeBytes(parseScheme('fp16'), 8192, layout), 16384);
    assert.equal(schemeBytes(parseScheme('fp8-e5m2'), 8192, layout), 8196);
  });
});
