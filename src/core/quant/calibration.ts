/**
 * Calibration of one activation tensor's range from streamed batches, in bounded memory: running min/max and a
 * fixed number of histogram bins over [-T, T] (T doubles, merging bin pairs, when a batch goes beyond it), never
 * the values themselves. Methods after onnxruntime's calibrate.py: minmax (MinMaxCalibrater), percentile and
 * entropy (HistogramCalibrater: percentile cuts (100 - p) / 2 % from each side, or p % of |x| when symmetric;
 * entropy picks the KL-optimal symmetric threshold with 128 quantized bins), and mse (the range whose
 * quantize-dequantize error over the histogram is smallest, for the scheme's own grid). Histogram ranges are
 * clamped to the observed min/max.
 */
import { activationQuantParams, quantizeValue, typeRange } from './activationQuant';
import type { ActivationScheme, CalibrationMethod } from './schemes';

/** Bins of the calibration histogram (onnxruntime's percentile default). */
export const CALIBRATION_BINS = 2048;

/** Running range and histogram of one tensor. */
export class RangeCollector {
  min = Infinity;
  max = -Infinity;
  /** Values seen. */
  count = 0;
  /** Half-width of the histogram's range (0 until a non-zero value arrives). */
  threshold = 0;
  readonly counts: Float64Array;
  private zeros = 0;

  constructor(
    readonly histogram: boolean,
    readonly bins = CALIBRATION_BINS,
  ) {
    this.counts = new Float64Array(histogram ? bins : 0);
  }

  /** Adds a batch of values. */
  add(values: ArrayLike<number>): void {
    let lo = this.min;
    let hi = this.max;
    let absmax = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const a = v < 0 ? -v : v;
      if (a > absmax) absmax = a;
    }
    this.min = lo;
    this.max = hi;
    this.count += values.length;
    if (this.histogram) this.addToHistogram(values, absmax);
  }

  private addToHistogram(values: ArrayLike<number>, absmax: number): void {
    if (!Number.isFinite(absmax)) absmax = 0;
    if (this.threshold === 0 && absmax > 0) {
      this.threshold = absmax;
      this.counts[this.bins >> 1] += this.zeros;
      this.zeros = 0;
    }
    while (absmax > this.threshold) this.widen();
    const t = this.threshold;
    if (t === 0) {
      this.zeros += values.length;
      return;
    }
    const perUnit = this.bins / (2 * t);
    const last = this.bins - 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      const k = Math.floor((v + t) * perUnit);
      this.counts[k < 0 ? 0 : k > last ? last : k]++;
    }
  }

  /** Doubles the range: bin pairs merge into the middle half. */
  private widen(): void {
    const b = this.bins;
    const merged = new Float64Array(b);
    for (let k = 0; k < b; k++) merged[(b >> 2) + (k >> 1)] += this.counts[k];
    this.counts.set(merged);
    this.threshold *= 2;
  }

  /** Lower edge of bin k (k = bins: the upper end). */
  edge(k: number): number {
    return -this.threshold + (k * 2 * this.threshold) / this.bins;
  }

  /** The calibrated range under `method` for `scheme`. */
  range(
    method: CalibrationMethod,
    scheme: Pick<ActivationScheme, 'bits' | 'signed'>,
    percentile = 99.999,
  ): { min: number; max: number } {
    if (this.count === 0) return { min: 0, max: 0 };
    if (method === 'minmax' || !this.histogram || this.threshold === 0) return { min: this.min, max: this.max };
    const r =
      method === 'percentile'
        ? percentileRange(this, percentile, scheme.signed)
        : method === 'entropy'
          ? entropyRange(this)
          : mseRange(this, scheme);
    return { min: Math.max(r.min, this.min), max: Math.min(r.max, this.max) };
  }
}

/** numpy.searchsorted(cdf, v) (side 'left'): the first index whose cumulative fraction reaches v. */
function searchCdf(counts: ArrayLike<number>, v: number): number {
  let total = 0;
  for (let k = 0; k < counts.length; k++) total += counts[k];
  let sum = 0;
  for (let k = 0; k < counts.length; k++) {
    sum += counts[k];
    if (sum / total >= v) return k;
  }
  return counts.length;
}

/** onnxruntime's percentile: (100 - p) / 2 % cut from each side, or p % of |x| when symmetric. */
function percentileRange(c: RangeCollector, p: number, symmetric: boolean): { min: number; max: number } {
  if (symmetric) {
    const half = c.bins >> 1;
    const folded = new Float64Array(half);
    for (let k = 0; k < half; k++) folded[k] = c.counts[half + k] + c.counts[half - 1 - k];
    const t = c.edge(half + searchCdf(folded, p / 100));
    return { min: -t, max: t };
  }
  const cut = (100 - p) / 200;
  return { min: c.edge(searchCdf(c.counts, cut)), max: c.edge(searchCdf(c.counts, 1 - cut)) };
}

/** onnxruntime's smooth_distribution: eps moved onto the empty bins (undefined when all are empty). */
function smooth(p: Float64Array, eps = 0.0001): Float64Array | undefined {
  let zeros = 0;
  for (const v of p) if (v === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (nonzeros === 0) return undefined;
  const eps1 = (eps * zeros) / nonzeros;
  return p.map((v) => (v === 0 ? eps : v - eps1));
}

/** scipy.stats.entropy(p, q): KL of the normalised distributions. */
function kl(p: Float64Array, q: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
  }
  let d = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) d += (p[i] / sp) * Math.log(p[i] / sp / (q[i] / sq));
  return d;
}

/** onnxruntime's get_entropy_threshold (TensorRT's KL calibration) with 128 quantized bins. */
function entropyRange(c: RangeCollector, quantizedBins = 128): { min: number; max: number } {
  const hist = c.counts;
  const n = hist.length;
  const zero = n >> 1;
  const halfQ = quantizedBins >> 1;
  let best = { d: Infinity, min: c.edge(0), max: c.edge(n) };
  for (let i = halfQ; i <= zero; i++) {
    const start = zero - i;
    const end = Math.min(zero + i + 1, n);
    const p = hist.slice(start, end);
    for (let k = 0; k < start; k++) p[0] += hist[k];
    for (let k = end; k < n; k++) p[p.length - 1] += hist[k];
    const sliced = hist.subarray(start, end);
    const merged = Math.floor(sliced.length / quantizedBins);
    const q = new Float64Array(p.length);
    for (let b = 0; b < quantizedBins; b++) {
      const s = b * merged;
      const e = b === quantizedBins - 1 ? sliced.length : s + merged;
      let sum = 0;
      let nonzero = 0;
      for (let k = s; k < e; k++) sum += sliced[k];
      for (let k = s; k < s + merged; k++) if (p[k] !== 0) nonzero++;
      // As onnxruntime: q is an integer array (the share truncates) over the merged bins.
      if (nonzero !== 0) for (let k = s; k < s + merged; k++) q[k] = Math.trunc(sum / nonzero);
    }
    const ps = smooth(p);
    const qs = smooth(q);
    const d = ps && qs ? kl(ps, qs) : Infinity;
    if (d < best.d) best = { d, min: c.edge(start), max: c.edge(end) };
  }
  return { min: best.min, max: best.max };
}

/** The range (symmetric thresholds clamped to the observed range) with the least expected QDQ error. */
function mseRange(c: RangeCollector, scheme: Pick<ActivationScheme, 'bits' | 'signed'>): { min: number; max: number } {
  const candidates = 256;
  const width = (2 * c.threshold) / c.bins;
  let best = { err: Infinity, min: c.min, max: c.max };
  for (let j = 1; j <= candidates; j++) {
    const t = (c.threshold * j) / candidates;
    const min = Math.max(c.min, -t);
    const max = Math.min(c.max, t);
    const p = activationQuantParams('', min, max, scheme);
    const { qmin, qmax } = typeRange(p.type);
    let err = 0;
    for (let k = 0; k < c.bins; k++) {
      const n = c.counts[k];
      if (n === 0) continue;
      const x = c.edge(k) + width / 2;
      const y = (quantizeValue(x, p.scale, p.zeroPoint, qmin, qmax) - p.zeroPoint) * p.scale;
      err += n * (x - y) * (x - y);
    }
    if (err < best.err) best = { err, min, max };
  }
  return { min: best.min, max: best.max };
}
