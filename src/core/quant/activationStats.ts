/**
 * Per-activation diagnostics on the evaluation data, accumulated batch by batch in bounded memory: observed range,
 * clipping rate (values QuantizeLinear saturates), SQNR of the tensor quantized alone (its fp32 values through
 * QDQ) and accumulated (the all-quantized run's value at this tensor, against fp32), a histogram of at most 256
 * bins, and per-channel absmax with the outlier ratio (max / median channel absmax).
 */
import type { ActivationStat } from '../eval/results';
import type { ActivationSite } from './activationSites';
import { quantizeValue, typeRange, type ActivationQuant } from './activationQuant';
import { RangeCollector } from './calibration';

/** At most this many channels are tracked. */
export const MAX_CHANNELS = 4096;
/** Histogram bins written to the results. */
export const STAT_BINS = 256;

const sqnrDb = (signal: number, noise: number): number =>
  noise === 0 ? Infinity : signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);

/** The channel axis of an activation: 1 for rank-4 (NCHW) tensors, else the last. */
export const channelAxis = (dims: readonly number[]): number => (dims.length === 4 ? 1 : dims.length - 1);

/** Accumulates one site's diagnostics. */
export class ActivationStatAccumulator {
  private readonly range = new RangeCollector(true);
  private clipped = 0;
  private signal = 0;
  private noiseAlone = 0;
  private signalAcc = 0;
  private noiseAcc = 0;
  private channels: Float64Array | undefined;

  constructor(
    readonly site: ActivationSite,
    readonly params: ActivationQuant,
    readonly method?: string,
  ) {}

  /** fp32 values of a batch (`dims` as onnxruntime returns them). */
  addFloat(x: Float32Array, dims: readonly number[]): void {
    this.range.add(x);
    const { qmin, qmax } = typeRange(this.params.type);
    const { scale, zeroPoint } = this.params;
    const wide = { lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY };
    let clipped = 0;
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const q = quantizeValue(v, scale, zeroPoint, wide.lo, wide.hi);
      if (q < qmin || q > qmax) clipped++;
      const y = Math.fround((Math.min(qmax, Math.max(qmin, q)) - zeroPoint) * scale);
      signal += v * v;
      noise += (v - y) * (v - y);
    }
    this.clipped += clipped;
    this.signal += signal;
    this.noiseAlone += noise;
    this.addChannels(x, dims);
  }

  private addChannels(x: Float32Array, dims: readonly number[]): void {
    const axis = channelAxis(dims);
    const c = dims[axis] ?? 1;
    if (!(c >= 1) || c > MAX_CHANNELS) return;
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    if (!this.channels) this.channels = new Float64Array(c);
    if (this.channels.length !== c) return;
    const ch = this.channels;
    for (let i = 0; i < x.length; i++) {
      const k = Math.floor(i / inner) % c;
      const a = Math.abs(x[i]);
      if (a > ch[k]) ch[k] = a;
    }
  }

  /** The all-quantized run's values at this tensor, against the fp32 ones. */
  addAccumulated(x: Float32Array, quantized: Float32Array): void {
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < x.length; i++) {
      const d = x[i] - quantized[i];
      signal += x[i] * x[i];
      noise += d * d;
    }
    this.signalAcc += signal;
    this.noiseAcc += noise;
  }

  /** The diagnostics for the results file. */
  result(): ActivationStat {
    const p = this.params;
    const channels = this.channels ? Array.from(this.channels) : undefined;
    const sorted = channels ? [...channels].sort((a, b) => a - b) : [];
    const median = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : 0;
    return {
      tensor: this.site.tensor,
      layer: this.site.layer,
      op: this.site.op,
      ...(this.site.shareWith ? { shareWith: this.site.shareWith } : {}),
      bits: p.type.endsWith('16') ? 16 : 8,
      signed: !p.type.startsWith('u'),
      ...(this.method ? { method: this.method } : {}),
      scale: p.scale,
      zeroPoint: p.zeroPoint,
      rangeMin: p.rangeMin,
      rangeMax: p.rangeMax,
      observedMin: this.range.count ? this.range.min : 0,
      observedMax: this.range.count ? this.range.max : 0,
      clippingRate: this.range.count ? this.clipped / this.range.count : 0,
      sqnrAloneDb: sqnrDb(this.signal, this.noiseAlone),
      sqnrAccumulatedDb: sqnrDb(this.signalAcc, this.noiseAcc),
      histogram: histogramOf(this.range),
      ...(channels ? { channelAbsMax: channels } : {}),
      ...(channels && median > 0 ? { outlierRatio: sorted[sorted.length - 1] / median } : {}),
    };
  }
}

/** The collector's 2048 bins merged to 256 over [-T, T], empty bins at both ends trimmed. */
function histogramOf(c: RangeCollector): ActivationStat['histogram'] {
  if (c.count === 0 || c.threshold === 0) return { min: 0, max: 0, counts: c.count ? [c.count] : [] };
  const group = c.bins / STAT_BINS;
  const counts = Array.from({ length: STAT_BINS }, (_, k) => {
    let n = 0;
    for (let j = 0; j < group; j++) n += c.counts[k * group + j];
    return n;
  });
  let lo = 0;
  let hi = STAT_BINS;
  while (lo < hi && counts[lo] === 0) lo++;
  while (hi > lo && counts[hi - 1] === 0) hi--;
  return { min: c.edge(lo * group), max: c.edge(hi * group), counts: counts.slice(lo, hi) };
}
