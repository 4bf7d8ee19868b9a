/**
 * The WebAssembly SIMD analysis (src/core/stats/analyze.ts + assembly/kernels.ts) against a plain scalar
 * computation on the reconstruction of fakeQuantize (whose values equal onnxruntime's, quantOracle.test.ts):
 * every metric, every grid cell, statistics and histogram, over both layouts, no layout, odd sizes, partial
 * blocks, several chunks, all-zero and subnormal channels, NaN/Inf and overflow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeQuantize, intParams, type Layout2D } from '../../src/core/quant/fakeQuant';
import { roundHalfEven } from '../../src/core/quant/rounding';
import { intRange, parseScheme, type Scheme } from '../../src/core/quant/schemes';
import { analyzeTensor, histogram } from '../../src/core/stats/analyze';
import { outlierWeights } from '../fixtures/onnxBuilder';

const SCHEMES = [
  'int8-channel',
  'int8-tensor',
  'int4-block32',
  'int4-block16-asym',
  'int3-channel-asym',
  'int2-tensor-asym',
  'int5-block64',
  'int8-tensor-asym',
  'fp16',
  'bf16',
  'fp8-e4m3',
  'fp8-e5m2',
].map(parseScheme);
const FP8_MAX = { 'fp8-e4m3': 448, 'fp8-e5m2': 57344 } as Record<string, number>;

/** Equal within a relative tolerance (float64 sums in another order), or within 1e-12 for values near 0 (dB). */
function close(actual: number, expected: number, rel: number, what: string): void {
  if (Object.is(actual, expected) || actual === expected) return;
  const tolerance = Math.max(1e-12, rel * Math.max(Math.abs(actual), Math.abs(expected)));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

/** The plain computation of what analyzeTensor reports for one scheme. */
function reference(data: Float32Array, layout: Layout2D | undefined, scheme: Scheme) {
  const n = data.length;
  const lay = layout ?? { rows: 1, cols: n, channelAxis: 0 as const };
  const effective: Scheme = scheme.kind === 'int' && !layout ? { ...scheme, granularity: { kind: 'tensor' } } : scheme;
  const hat = fakeQuantize(data, lay, effective);
  const channels = layout ? (layout.channelAxis === 0 ? layout.rows : layout.cols) : 1;
  const reduction = layout ? (layout.channelAxis === 0 ? layout.cols : layout.rows) : n;
  const blockSize =
    effective.kind === 'int' && effective.granularity.kind === 'block'
      ? Math.min(effective.granularity.size, reduction)
      : reduction;
  const blocks = Math.ceil(reduction / blockSize);
  const params = effective.kind === 'int' ? intParams(data, lay, effective) : undefined;
  let fp8Scale = 0;
  if (effective.kind === 'float' && effective.format.startsWith('fp8')) {
    let absmax = 0;
    for (const x of data) if (Number.isFinite(x)) absmax = Math.max(absmax, Math.abs(x));
    fp8Scale = Math.fround(absmax / FP8_MAX[effective.format]);
  }
  const noise = new Float64Array(channels * blocks);
  const signal = new Float64Array(channels * blocks);
  let xe = 0,
    maxAbs = 0,
    clips = 0,
    zeroed = 0,
    finite = 0,
    nonZero = 0,
    signalTotal = 0,
    noiseTotal = 0;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) continue;
    finite++;
    const r = Math.floor(i / lay.cols);
    const c = i % lay.cols;
    const channel = !layout ? 0 : layout.channelAxis === 0 ? r : c;
    const k = !layout ? 0 : layout.channelAxis === 0 ? c : r;
    const cell = channel * blocks + Math.floor(k / blockSize);
    const e = x - hat[i];
    noise[cell] += e * e;
    signal[cell] += x * x;
    noiseTotal += e * e;
    signalTotal += x * x;
    xe += x * e;
    maxAbs = Math.max(maxAbs, Math.abs(e));
    if (x !== 0) {
      nonZero++;
      if (hat[i] === 0) zeroed++;
    }
    if (effective.kind === 'int') {
      const g =
        effective.granularity.kind === 'tensor' ? 0 : channel * params!.groupsPerChannel + Math.floor(k / blockSize);
      const s = params!.scales[g];
      const { qmin, qmax } = intRange(effective);
      const q = roundHalfEven(Math.fround(x / s)) + params!.zeroPoints[g];
      if (s !== 0 && (q < qmin || q > qmax)) clips++;
    } else if (effective.format === 'fp16') {
      if (Math.abs(x) > 65504) clips++;
    } else if (effective.format === 'bf16') {
      if (!Number.isFinite(hat[i])) clips++;
    } else if (fp8Scale !== 0 && Math.abs(Math.fround(x / fp8Scale)) > FP8_MAX[effective.format]) {
      clips++;
    }
  }
  return { noise, signal, noiseTotal, signalTotal, xe, maxAbs, clips, zeroed, finite, nonZero, channels, blocks };
}

function check(name: string, data: Float32Array, layout: Layout2D | undefined): void {
  it(name, () => {
    const bins = 64;
    const a = analyzeTensor(data, layout, SCHEMES, bins);
    for (const scheme of SCHEMES) {
      const ref = reference(data, layout, scheme);
      const m = a.schemes[scheme.id];
      const what = `${name} ${scheme.id}`;
      close(
        m.sqnrDb,
        ref.noiseTotal === 0 ? Infinity : 10 * Math.log10(ref.signalTotal / ref.noiseTotal),
        1e-12,
        `${what} sqnr`,
      );
      close(m.mse, ref.noiseTotal / ref.finite, 1e-12, `${what} mse`);
      assert.equal(m.maxAbsError, ref.maxAbs, `${what} max abs error`);
      const hatSq = ref.signalTotal - 2 * ref.xe + ref.noiseTotal;
      close(m.cosine, (ref.signalTotal - ref.xe) / Math.sqrt(ref.signalTotal * hatSq), 1e-12, `${what} cosine`);
      assert.equal(m.clippedFraction, ref.clips / ref.finite, `${what} clipped`);
      assert.equal(m.zeroedFraction, ref.nonZero ? ref.zeroed / ref.nonZero : 0, `${what} zeroed`);
      assert.deepEqual([m.grid.channels, m.grid.blocks], [ref.channels, ref.blocks], `${what} grid shape`);
      for (let j = 0; j < ref.noise.length; j++) {
        const expected = ref.noise[j] === 0 ? Infinity : 10 * Math.log10(ref.signal[j] / ref.noise[j]);
        close(m.grid.sqnrDb[j], expected, 1e-9, `${what} cell ${j}`);
      }
    }
    // Statistics and histogram of the finite values.
    const values = [...data].filter(Number.isFinite);
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const m2 = values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length;
    const m4 = values.reduce((s, x) => s + (x - mean) ** 4, 0) / values.length;
    close(a.stats.mean, mean, 1e-9, 'mean');
    close(a.stats.std, Math.sqrt(m2), 1e-12, 'std');
    close(a.stats.kurtosis, m4 / (m2 * m2) - 3, 1e-9, 'kurtosis');
    assert.equal(a.stats.zeros, values.filter((x) => x === 0).length);
    assert.equal(a.stats.nans, [...data].filter(Number.isNaN).length);
    assert.equal(a.stats.infs, [...data].filter((x) => x === Infinity || x === -Infinity).length);
    const min = Math.min(...values);
    const max = Math.max(...values);
    assert.deepEqual([a.stats.min, a.stats.max], [min, max]);
    const counts = new Uint32Array(bins);
    for (const x of values) counts[Math.min(bins - 1, Math.trunc((x - min) * (bins / (max - min))))]++;
    assert.deepEqual(a.histogram.counts, counts);
    assert.deepEqual(histogram(data, bins).counts, counts);
  });
}

describe('analysis kernels (WebAssembly SIMD) equal a plain scalar computation', () => {
  check('MatMul [70, 45]: odd channel count, partial blocks', outlierWeights(1, 70 * 45), {
    rows: 70,
    cols: 45,
    channelAxis: 1,
  });
  check('Conv [45, 70]: channels along rows, partial blocks', outlierWeights(2, 45 * 70), {
    rows: 45,
    cols: 70,
    channelAxis: 0,
  });
  check('MatMul [300, 200]: several chunks, blocks across chunk edges', outlierWeights(3, 300 * 200), {
    rows: 300,
    cols: 200,
    channelAxis: 1,
  });
  check('Conv [200, 300]: several chunks', outlierWeights(4, 200 * 300), { rows: 200, cols: 300, channelAxis: 0 });
  check('no layout, 10001 values', outlierWeights(5, 10001), undefined);
  check('no layout, 3 values', Float32Array.of(0.5, -1.25, 3), undefined);
  it('an empty tensor: counts of 0, no cells, nothing NaN', () => {
    const a = analyzeTensor(new Float32Array(0), { rows: 0, cols: 8, channelAxis: 1 }, SCHEMES);
    assert.equal(a.stats.count, 0);
    for (const scheme of SCHEMES) {
      const m = a.schemes[scheme.id];
      assert.deepEqual(
        [m.grid.channels, m.grid.blocks, m.grid.sqnrDb.length, m.mse, m.clippedFraction],
        [8, 0, 0, 0, 0],
        scheme.id,
      );
    }
  });
  {
    // An all-zero channel and one of subnormal values (scales of 0), NaN and +-Infinity, fp16 overflow.
    const layout: Layout2D = { rows: 64, cols: 12, channelAxis: 1 };
    const w = outlierWeights(6, 64 * 12);
    for (let r = 0; r < 64; r++) {
      w[r * 12 + 3] = 0;
      w[r * 12 + 4] = ((r % 3) - 1) * 1e-44;
    }
    w[7] = NaN;
    w[100] = Infinity;
    w[200] = -Infinity;
    w[300] = 70000;
    check('MatMul [64, 12]: zero and subnormal channels, NaN, Inf, fp16 overflow', w, layout);
    const conv = Float32Array.from(w);
    check('Conv [12, 64]: the same values with channels along rows', conv, { rows: 12, cols: 64, channelAxis: 0 });
  }
});
