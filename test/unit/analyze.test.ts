import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeQuantize, type Layout2D } from '../../src/core/quant/fakeQuant';
import { parseScheme } from '../../src/core/quant/schemes';
import { analyzeTensor } from '../../src/core/stats/analyze';
import { gaussian, rng } from '../fixtures/onnxBuilder';

const close = (a: number, b: number, rel = 1e-9): boolean =>
  a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describe('fused tensor analysis', () => {
  const layout: Layout2D = { rows: 96, cols: 40, channelAxis: 1 };
  const w = gaussian(rng(5), 96 * 40, 0.1);
  for (let i = 0; i < w.length; i += 101) w[i] *= 15;
  w[3] = 0;
  const ids = [
    'int8-channel',
    'int8-tensor',
    'int4-block32',
    'int4-block64-asym',
    'int3-channel',
    'fp16',
    'bf16',
    'fp8-e4m3',
    'fp8-e5m2',
  ];
  const analysis = analyzeTensor(w, layout, ids.map(parseScheme), 64);

  for (const id of ids) {
    it(`${id}: metrics equal a plain computation on the reconstructed tensor`, () => {
      const hat = fakeQuantize(w, layout, parseScheme(id));
      let signal = 0,
        noise = 0,
        dot = 0,
        hatSq = 0,
        maxAbs = 0,
        zeroed = 0,
        nonZero = 0;
      for (let i = 0; i < w.length; i++) {
        const e = w[i] - hat[i];
        signal += w[i] * w[i];
        noise += e * e;
        dot += w[i] * hat[i];
        hatSq += hat[i] * hat[i];
        maxAbs = Math.max(maxAbs, Math.abs(e));
        if (w[i] !== 0) {
          nonZero++;
          if (hat[i] === 0) zeroed++;
        }
      }
      const m = analysis.schemes[id];
      assert.ok(close(m.sqnrDb, 10 * Math.log10(signal / noise)), `${m.sqnrDb}`);
      assert.ok(close(m.mse, noise / w.length));
      assert.equal(m.maxAbsError, maxAbs);
      assert.ok(close(m.cosine, dot / Math.sqrt(signal * hatSq)));
      assert.ok(close(m.relativeL2, Math.sqrt(noise / signal)));
      assert.equal(m.zeroedFraction, zeroed / nonZero);
      assert.equal(m.clippedFraction, 0);
      // The grid: per output channel (and block); its cells add back up to the total.
      const blockSize = id.includes('block') ? Number(/block(\d+)/.exec(id)![1]) : 96;
      const blocks = Math.ceil(96 / blockSize);
      assert.deepEqual([m.grid.channels, m.grid.blocks], [40, blocks]);
      const ch = 7;
      let s = 0,
        n = 0;
      for (let r = 0; r < 96; r++) {
        if (r >= blockSize) continue; // cell (channel 7, block 0)
        const i = r * 40 + ch;
        s += w[i] * w[i];
        n += (w[i] - hat[i]) ** 2;
      }
      assert.ok(
        close(m.grid.sqnrDb[ch * blocks], 10 * Math.log10(s / n)),
        `cell ${m.grid.sqnrDb[ch * blocks]} vs ${10 * Math.log10(s / n)}`,
      );
    });
  }

  it('statistics and histogram', () => {
    const s = analysis.stats;
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    assert.ok(close(s.mean, mean));
    assert.ok(close(s.std, Math.sqrt(variance)));
    assert.equal(s.absmax, Math.max(...w.map(Math.abs)));
    assert.equal(s.zeros, 1);
    assert.ok(s.kurtosis > 3, `heavy tails: ${s.kurtosis}`);
    assert.equal(
      analysis.histogram.counts.reduce((a, b) => a + b, 0),
      w.length,
    );
    assert.equal(analysis.histogram.min, Math.min(...w));
  });

  it('hand-computed: int8 per tensor on [1, -0.5, 0.25, 0]', () => {
    const a = analyzeTensor(new Float32Array([1, -0.5, 0.25, 0]), undefined, [parseScheme('int2-tensor')]);
    // int2 symmetric: q in [-1, 1], scale 1: reconstruction [1, -0 (tie to even), 0, 0]
    const m = a.schemes['int2-tensor'];
    assert.equal(m.sqnrDb, 10 * Math.log10((1 + 0.25 + 0.0625) / (0.25 + 0.0625)));
    assert.equal(m.zeroedFraction, 2 / 3);
    assert.equal(m.maxAbsError, 0.5);
  });

  it('exact reconstruction reports +Infinity; NaN and Inf are counted, not propagated', () => {
    const a = analyzeTensor(new Float32Array([1, NaN, 2, Infinity, -2]), undefined, [
      parseScheme('fp16'),
      parseScheme('int8-tensor'),
    ]);
    assert.equal(a.schemes.fp16.sqnrDb, Infinity);
    assert.equal(a.stats.nans, 1);
    assert.equal(a.stats.infs, 1);
    assert.equal(a.stats.max, 2);
    assert.ok(Number.isFinite(a.schemes['int8-tensor'].sqnrDb));
  });

  it('fp16 overflow counts as clipped', () => {
    const a = analyzeTensor(new Float32Array([1, 70000]), undefined, [parseScheme('fp16')]);
    assert.equal(a.schemes.fp16.clippedFraction, 0.5);
    assert.equal(a.schemes.fp16.sqnrDb, -Infinity);
  });
});
