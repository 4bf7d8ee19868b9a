/**
 * Evaluation metrics, computed from real model outputs, streaming: each sample's output under a variant is
 * scored against the fp32 output (and the label), then added to every slice the sample belongs to.
 * All arithmetic in float64.
 */

/** What the model's output means. */
export type TaskKind = 'classification' | 'regression' | 'language-model' | 'outputs';

/** One sample's output under a variant, scored against fp32 and the label. */
export interface SampleScore {
  /** Classification: 1 when the variant's argmax is the label. */
  correct: number;
  refCorrect: number;
  /** 1 when the variant's argmax (per position for language models, averaged) equals fp32's. */
  agree: number;
  /** Mean KL(fp32 || variant) over the sample's positions (one for classification). */
  kl: number;
  /** Classification: the variant's top probability; fp32's. */
  confidence: number;
  refConfidence: number;
  /** Regression: squared and absolute error (mean over the sample's values); fp32's. */
  se: number;
  refSe: number;
  ae: number;
  refAe: number;
  /** Language models: summed negative log-likelihood of the targets and token count; fp32's NLL. */
  nll: number;
  refNll: number;
  tokens: number;
  /** Output SQNR parts: sum of fp32 output squared, sum of (variant - fp32) squared. */
  signal: number;
  noise: number;
  /** Output moments: count, sum and sum of squares, for the variant and for fp32. */
  count: number;
  sum: number;
  sumSq: number;
  refSum: number;
  refSumSq: number;
}

/** log-softmax of row[offset, offset + n) into out (float64). */
export function logSoftmax(
  row: ArrayLike<number>,
  offset: number,
  n: number,
  out: Float64Array,
  probabilities = false,
): Float64Array {
  if (probabilities) {
    for (let i = 0; i < n; i++) out[i] = Math.log(row[offset + i]);
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, row[offset + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[offset + i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = row[offset + i] - lse;
  return out;
}

/** KL(p || q) from log-probabilities, in nats (terms with p = 0 contribute 0; NaN, as in a row of -Infinity, gives NaN). */
export function klDivergence(logP: Float64Array, logQ: Float64Array, n: number): number {
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp(logP[i]);
    if (p !== 0) kl += p * (logP[i] - logQ[i]);
  }
  return Math.max(0, kl);
}

/** Index of the largest value in row[offset, offset + n) (first on ties). */
export function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (row[offset + i] > row[offset + best]) best = i;
  return best;
}

/** A SampleScore of zeros. */
export function emptyScore(): SampleScore {
  return {
    correct: 0,
    refCorrect: 0,
    agree: 0,
    kl: 0,
    confidence: 0,
    refConfidence: 0,
    se: 0,
    refSe: 0,
    ae: 0,
    refAe: 0,
    nll: 0,
    refNll: 0,
    tokens: 0,
    signal: 0,
    noise: 0,
    count: 0,
    sum: 0,
    sumSq: 0,
    refSum: 0,
    refSumSq: 0,
  };
}

function addMoments(
  score: SampleScore,
  out: ArrayLike<number>,
  ref: ArrayLike<number>,
  offset: number,
  n: number,
): void {
  for (let i = offset; i < offset + n; i++) {
    const v = out[i];
    const r = ref[i];
    score.signal += r * r;
    if (v !== r) score.noise += (v - r) * (v - r); // equal values, also equal infinities (masked logits), add no noise
    score.sum += v;
    score.sumSq += v * v;
    score.refSum += r;
    score.refSumSq += r * r;
  }
  score.count += n;
}

/** How to read one sample's output. */
export interface ScoreOptions {
  task: TaskKind;
  /** Classes (classification), vocabulary (language model) or the output's last axis (outputs). */
  width: number;
  /** The output holds probabilities rather than logits. */
  probabilities?: boolean;
}

/**
 * Scores one sample: `out` and `ref` hold the variant's and fp32's output for it at `offset` (length
 * `positions * width`); `label` is the class index, the regression targets or the language model's next tokens.
 * The reference implementation of every task; logits of whole batches go through LogitScorer (same numbers).
 */
export function scoreSample(
  out: ArrayLike<number>,
  ref: ArrayLike<number>,
  offset: number,
  positions: number,
  options: ScoreOptions,
  label?: ArrayLike<number>,
  scratch = { p: new Float64Array(options.width), q: new Float64Array(options.width) },
): SampleScore {
  const score = emptyScore();
  const { width, task } = options;
  addMoments(score, out, ref, offset, positions * width);
  if (task === 'regression') {
    const n = positions * width;
    for (let i = 0; i < n; i++) {
      const t = label![i];
      const e = out[offset + i] - t;
      const er = ref[offset + i] - t;
      score.se += e * e;
      score.refSe += er * er;
      score.ae += Math.abs(e);
      score.refAe += Math.abs(er);
    }
    score.se /= n;
    score.refSe /= n;
    score.ae /= n;
    score.refAe /= n;
    return score;
  }
  const probs = options.probabilities === true;
  for (let pos = 0; pos < positions; pos++) {
    const at = offset + pos * width;
    const logQ = logSoftmax(out, at, width, scratch.q, probs);
    const logP = logSoftmax(ref, at, width, scratch.p, probs);
    score.kl += klDivergence(logP, logQ, width);
    const refTop = argmax(ref, at, width);
    const top = argmax(out, at, width);
    score.agree += top === refTop ? 1 : 0;
    if (task === 'classification') {
      score.correct = top === label![0] ? 1 : 0;
      score.refCorrect = refTop === label![0] ? 1 : 0;
      score.confidence = Math.exp(logQ[top]);
      score.refConfidence = Math.exp(logP[refTop]);
    } else if (task === 'language-model') {
      const target = label![pos];
      score.nll -= logQ[target];
      score.refNll -= logP[target];
      score.tokens++;
    }
  }
  score.kl /= positions;
  score.agree /= positions;
  return score;
}

/** A mean with its 95% confidence interval (normal approximation). */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

/** Calibration bins for the expected calibration error. */
export const ECE_BINS = 15;

/** Metrics of one variant on one slice. */
export interface SliceMetrics {
  n: number;
  /** Classification: accuracy of the variant and of fp32 (fractions), change in percentage points with CI. */
  accuracy?: number;
  refAccuracy?: number;
  accuracyChange?: Estimate;
  /** Expected calibration error (fraction) of the variant, of fp32, and its change. */
  ece?: number;
  refEce?: number;
  eceChange?: number;
  /** Regression: MSE and MAE of the variant and fp32; MSE change (variant - fp32) with CI. */
  mse?: number;
  refMse?: number;
  mseChange?: Estimate;
  mae?: number;
  refMae?: number;
  /** Language models: perplexity of the variant and fp32, change in percent with CI. */
  perplexity?: number;
  refPerplexity?: number;
  perplexityChange?: Estimate;
  /** Top-1 agreement with fp32 (same top token rate for language models). */
  agreement?: number;
  /** Mean KL(fp32 || variant), nats. */
  kl?: number;
  /** Output SQNR (dB) against fp32; +Infinity when identical. */
  outputSqnrDb: number;
  /** Variance of the variant's outputs over fp32's. */
  varianceRatio: number;
}

/** Mean and 95% CI of values given their count, sum and sum of squares. */
export function meanEstimate(n: number, sum: number, sumSq: number, scale = 1): Estimate {
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : 0;
  const half = n > 0 ? 1.959963984540054 * Math.sqrt(variance / n) : 0;
  return { value: mean * scale, low: (mean - half) * scale, high: (mean + half) * scale };
}

/** Expected calibration error from per-bin counts, confidence sums and correct counts. */
export function expectedCalibrationError(count: Float64Array, confidence: Float64Array, correct: Float64Array): number {
  let n = 0;
  let ece = 0;
  for (let b = 0; b < count.length; b++) {
    n += count[b];
    if (count[b] > 0) ece += Math.abs(correct[b] - confidence[b]);
  }
  return n > 0 ? ece / n : 0;
}

const eceBin = (confidence: number): number => Math.min(ECE_BINS - 1, Math.floor(confidence * ECE_BINS));

/** Sums SampleScores of one variant on one slice. */
export class SliceAccumulator {
  private n = 0;
  private readonly s = emptyScore();
  /** Paired differences (variant - fp32): accuracy per sample, squared error, mean NLL per window. */
  private dSum = 0;
  private dSumSq = 0;
  private readonly bins = {
    count: new Float64Array(ECE_BINS),
    conf: new Float64Array(ECE_BINS),
    correct: new Float64Array(ECE_BINS),
  };
  private readonly refBins = {
    count: new Float64Array(ECE_BINS),
    conf: new Float64Array(ECE_BINS),
    correct: new Float64Array(ECE_BINS),
  };

  constructor(private readonly task: TaskKind) {}

  /** Adds one sample's score. */
  add(x: SampleScore): void {
    this.n++;
    const s = this.s;
    s.correct += x.correct;
    s.refCorrect += x.refCorrect;
    s.agree += x.agree;
    s.kl += x.kl;
    s.confidence += x.confidence;
    s.refConfidence += x.refConfidence;
    s.se += x.se;
    s.refSe += x.refSe;
    s.ae += x.ae;
    s.refAe += x.refAe;
    s.nll += x.nll;
    s.refNll += x.refNll;
    s.tokens += x.tokens;
    s.signal += x.signal;
    s.noise += x.noise;
    s.count += x.count;
    s.sum += x.sum;
    s.sumSq += x.sumSq;
    s.refSum += x.refSum;
    s.refSumSq += x.refSumSq;
    let d = 0;
    if (this.task === 'classification') {
      d = x.correct - x.refCorrect;
      const b = eceBin(x.confidence);
      this.bins.count[b]++;
      this.bins.conf[b] += x.confidence;
      this.bins.correct[b] += x.correct;
      const rb = eceBin(x.refConfidence);
      this.refBins.count[rb]++;
      this.refBins.conf[rb] += x.refConfidence;
      this.refBins.correct[rb] += x.refCorrect;
    } else if (this.task === 'regression') {
      d = x.se - x.refSe;
    } else if (this.task === 'language-model') {
      d = x.tokens > 0 ? (x.nll - x.refNll) / x.tokens : 0;
    }
    this.dSum += d;
    this.dSumSq += d * d;
  }

  /** The slice's metrics so far. */
  result(): SliceMetrics {
    const { n, s } = this;
    const mean = s.count > 0 ? s.sum / s.count : 0;
    const refMean = s.count > 0 ? s.refSum / s.count : 0;
    const variance = s.count > 0 ? s.sumSq / s.count - mean * mean : 0;
    const refVariance = s.count > 0 ? s.refSumSq / s.count - refMean * refMean : 0;
    const m: SliceMetrics = {
      n,
      outputSqnrDb: s.noise === 0 ? Infinity : 10 * Math.log10(s.signal / s.noise),
      varianceRatio: refVariance > 0 ? variance / refVariance : variance === 0 ? 1 : Infinity,
    };
    if (n === 0) return m;
    if (this.task !== 'regression') {
      m.agreement = s.agree / n;
      m.kl = s.kl / n;
    }
    if (this.task === 'classification') {
      m.accuracy = s.correct / n;
      m.refAccuracy = s.refCorrect / n;
      m.accuracyChange = meanEstimate(n, this.dSum, this.dSumSq, 100);
      m.ece = expectedCalibrationError(this.bins.count, this.bins.conf, this.bins.correct);
      m.refEce = expectedCalibrationError(this.refBins.count, this.refBins.conf, this.refBins.correct);
      m.eceChange = m.ece - m.refEce;
    } else if (this.task === 'regression') {
      m.mse = s.se / n;
      m.refMse = s.refSe / n;
      m.mae = s.ae / n;
      m.refMae = s.refAe / n;
      m.mseChange = meanEstimate(n, this.dSum, this.dSumSq);
    } else if (this.task === 'language-model' && s.tokens > 0) {
      m.perplexity = Math.exp(s.nll / s.tokens);
      m.refPerplexity = Math.exp(s.refNll / s.tokens);
      // exp(mean per-window NLL difference) - 1, in percent, with the window-level CI carried through exp.
      const d = meanEstimate(n, this.dSum, this.dSumSq);
      m.perplexityChange = {
        value: (m.perplexity / m.refPerplexity - 1) * 100,
        low: (Math.exp(d.low) - 1) * 100,
        high: (Math.exp(d.high) - 1) * 100,
      };
    }
    return m;
  }
}
