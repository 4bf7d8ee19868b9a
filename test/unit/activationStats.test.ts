/** Activation diagnostics against plain loops: clipping rate, SQNR alone and accumulated, channel absmax, histogram. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activationQuantParams, fakeQuantizeActivation } from '../../src/core/quant/activationQuant';
import { ActivationStatAccumulator } from '../../src/core/quant/activationStats';
import { gaussian, rng } from '../fixtures/onnxBuilder';

describe('activation diagnostics', () => {
  it('equal plain loops on NCHW batches', () => {
    const dims = [4, 3, 5, 5];
    const batches = [gaussian(rng(1), 300, 1), gaussian(rng(2), 300, 2)];
    for (let i = 0; i < 300; i += 75) batches[1][i + 25] = 30; // channel 1 outliers
    const p = activationQuantParams('t', -3, 4, { bits: 8, signed: false });
    const acc = new ActivationStatAccumulator({ tensor: 't', consumers: [], layer: 'conv', op: 'Conv' }, p, 'minmax');
    const noisy = batches.map((b) => b.map((v) => v * 1.01));
    batches.forEach((b, k) => {
      acc.addFloat(b, dims);
      acc.addAccumulated(b, noisy[k]);
    });
    const s = acc.result();
    let clipped = 0;
    let signal = 0;
    let noise = 0;
    let noiseAcc = 0;
    const absmax = [0, 0, 0];
    for (const [k, b] of batches.entries()) {
      const y = fakeQuantizeActivation(b, p);
      b.forEach((v, i) => {
        if (v / p.scale + p.zeroPoint > 255.5 || v / p.scale + p.zeroPoint < -0.5) clipped++;
        signal += v * v;
        noise += (v - y[i]) ** 2;
        noiseAcc += (v - noisy[k][i]) ** 2;
        const c = Math.floor(i / 25) % 3;
        absmax[c] = Math.max(absmax[c], Math.abs(v));
      });
    }
    assert.equal(s.clippingRate, clipped / 600);
    assert.ok(Math.abs(s.sqnrAloneDb - 10 * Math.log10(signal / noise)) < 1e-9);
    assert.ok(Math.abs(s.sqnrAccumulatedDb - 10 * Math.log10(signal / noiseAcc)) < 1e-9);
    assert.deepEqual(s.channelAbsMax, absmax);
    assert.equal(s.outlierRatio, 30 / [...absmax].sort((a, b) => a - b)[1]);
    assert.equal(
      s.histogram.counts.reduce((n, c) => n + c, 0),
      600,
    );
    assert.ok(s.histogram.counts.length <= 256 && s.histogram.min <= -3 && s.histogram.max >= 30);
    assert.deepEqual([s.observedMin, s.observedMax], [Math.min(...batches.map((b) => Math.min(...b))), 30]);
  });
});
