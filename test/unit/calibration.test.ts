/**
 * Calibration ranges equal an independent computation: minmax against plain loops, percentile against NumPy
 * (np.histogram over the same range, cumsum, searchsorted: onnxruntime's HistogramCalibrater procedure), on
 * streamed batches whose growing range makes the histogram widen; the calibration split is disjoint.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { RangeCollector } from '../../src/core/quant/calibration';
import { splitCalibration } from '../../src/core/eval/calibrationSpec';
import { gaussian, rng } from '../fixtures/onnxBuilder';

/** Five batches, each wider than the last, with a skewed (ReLU-like) half. */
function batches(): Float32Array[] {
  const r = rng(11);
  return [0.5, 1, 3, 2, 8].map((std, b) => {
    const x = gaussian(r, 3000, std);
    for (let i = 0; i < x.length; i += 2) x[i] = Math.abs(x[i]) + b;
    return x;
  });
}

function numpyPercentile(values: Float32Array, t: number, bins: number, p: number, symmetric: boolean): number[] {
  const script = `
import sys, json, numpy as np
x = np.frombuffer(sys.stdin.buffer.read(), dtype=np.float32)
t, bins, p, sym = ${t}, ${bins}, ${p}, ${symmetric ? 'True' : 'False'}
hist, edges = np.histogram(x.astype(np.float64), bins, range=(-t, t))
if sym:
    half = bins // 2
    folded = hist[half:] + hist[:half][::-1]
    cdf = np.cumsum(folded / folded.sum())
    e = edges[half + np.searchsorted(cdf, p / 100.0)]
    lo, hi = -e, e
else:
    cut = (100.0 - p) / 200.0
    cdf = np.cumsum(hist / hist.sum())
    lo, hi = edges[np.searchsorted(cdf, cut)], edges[np.searchsorted(cdf, 1.0 - cut)]
print(json.dumps([float(max(lo, x.min())), float(min(hi, x.max()))]))
`;
  const out = execFileSync('python3', ['-c', script], { input: Buffer.from(values.buffer) });
  return JSON.parse(out.toString()) as number[];
}

describe('calibration ranges', () => {
  it('minmax equals plain loops over every value streamed', () => {
    const c = new RangeCollector(false);
    let lo = Infinity;
    let hi = -Infinity;
    for (const b of batches()) {
      c.add(b);
      for (const v of b) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    assert.deepEqual(c.range('minmax', { bits: 8, signed: false }), { min: lo, max: hi });
    assert.equal(c.count, 15000);
  });

  for (const [p, symmetric] of [
    [99.999, false],
    [99.9, false],
    [99, true],
  ] as const) {
    it(`percentile ${p}${symmetric ? ' (symmetric)' : ''} equals NumPy on the streamed histogram's range`, () => {
      const c = new RangeCollector(true);
      const all = batches();
      for (const b of all) c.add(b);
      const joined = new Float32Array(all.reduce((n, b) => n + b.length, 0));
      all.reduce((o, b) => (joined.set(b, o), o + b.length), 0);
      assert.ok(c.threshold > 8, 'the histogram widened');
      const [lo, hi] = numpyPercentile(joined, c.threshold, c.bins, p, symmetric);
      const r = c.range('percentile', { bits: 8, signed: symmetric }, p);
      assert.ok(Math.abs(r.min - lo) < 1e-9 && Math.abs(r.max - hi) < 1e-9, `${JSON.stringify(r)} vs ${lo}, ${hi}`);
      assert.ok(r.max < c.max, 'the percentile cuts the tail');
    });
  }

  it('entropy and mse give ranges inside the observed one', () => {
    const c = new RangeCollector(true);
    for (const b of batches()) c.add(b);
    for (const method of ['entropy', 'mse'] as const) {
      const r = c.range(method, { bits: 8, signed: false });
      assert.ok(r.min >= c.min && r.max <= c.max && r.max > 0, `${method}: ${JSON.stringify(r)}`);
    }
  });
});

describe('calibration split', () => {
  it('calibration and evaluation samples are disjoint, cover the data, and follow the seed', () => {
    const a = splitCalibration(1000, 128, 7);
    const overlap = a.calibration.filter((i) => a.evaluation.includes(i));
    assert.deepEqual(overlap, []);
    assert.equal(a.calibration.length, 128);
    assert.equal(a.calibration.length + a.evaluation.length, 1000);
    assert.deepEqual(splitCalibration(1000, 128, 7), a);
    assert.notDeepEqual(splitCalibration(1000, 128, 8).calibration, a.calibration);
  });
});
