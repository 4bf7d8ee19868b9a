/**
 * Scores whole batches of logits against fp32 (classification, language models, outputs) with the WebAssembly
 * SIMD kernels of assembly/scoring.ts, giving the SampleScores `scoreSample` (the reference implementation,
 * metrics.ts) gives, to rounding: the kernels' exp is within 2 ulp of Math.exp and their sums run in another
 * order.
 * - Per batch, `referenceRows` computes fp32's probabilities p = exp(x - lse), Σ p log p, its argmax and
 *   moments, once for every variant.
 * - Per variant, `scoreRows` computes the max and its index, Σ p·(x - max), z = Σ exp(x - max) and the output
 *   moments; log q = x - max - log z is never stored: KL(p || q) = Σ p log p - Σ p (x - max) + log z
 *   (Σ p = 1; the shift keeps large logits from cancelling).
 */
import { createKernels, type Kernels, type Views } from '../wasm/kernels';
import { emptyScore, type SampleScore, type ScoreOptions } from './metrics';

/** float64 results per position written by the kernels. */
const RES = 7;

/** fp32's outputs of the current batch. */
interface Batch {
  ref: Float32Array;
  rows: number;
  positions: number;
  options: ScoreOptions;
  labels: (ArrayLike<number> | undefined)[];
  /** Per position (from referenceRows): argmax, lse, Σ p log p, Σ r, Σ r². */
  top: Int32Array;
  lse: Float64Array;
  negEntropy: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
  /** fp32's probabilities (a view of the kernel memory). */
  p: Float64Array;
}

/** Scores the variants' logits of one batch at a time against fp32's (kernel memory of its own). */
export class LogitScorer {
  private readonly kernels: Kernels = createKernels();
  private capacity = -1;
  private ptr = { out: 0, ref: 0, p: 0, res: 0 };
  private views?: Views;
  private batch?: Batch;
  private readonly score: SampleScore = emptyScore();

  /** Whether a task's outputs go through this scorer (logits; probabilities and regression do not). */
  static handles(options: ScoreOptions): boolean {
    return options.task !== 'regression' && options.probabilities !== true;
  }

  /**
   * Sets fp32's outputs of a batch (rows x positions x width, or more: the rest is ignored) and the labels
   * per row (class index, or the next token per position).
   */
  setReference(ref: Float32Array, rows: number, positions: number, options: ScoreOptions, labels: (ArrayLike<number> | undefined)[]): void {
    const count = rows * positions;
    const n = count * options.width;
    if (n > this.capacity) {
      const k = this.kernels;
      k.reset();
      this.ptr = { out: k.alloc(4 * n), ref: k.alloc(4 * n), p: k.alloc(8 * n), res: k.alloc(8 * RES * count) };
      this.views = k.commit();
      this.capacity = n;
    }
    const views = this.views!;
    views.float32(this.ptr.ref, n).set(ref.subarray(0, n));
    this.kernels.k.referenceRows(this.ptr.ref, count, options.width, this.ptr.p, this.ptr.res);
    const res = views.float64(this.ptr.res, RES * count);
    const batch: Batch = {
      ref, rows, positions, options, labels,
      top: new Int32Array(count), lse: new Float64Array(count), negEntropy: new Float64Array(count), sum: new Float64Array(count), sumSq: new Float64Array(count),
      p: views.float64(this.ptr.p, n),
    };
    for (let k = 0, j = 0; k < count; k++, j += RES) {
      batch.top[k] = res[j + 1];
      batch.lse[k] = res[j + 2];
      batch.negEntropy[k] = res[j + 3];
      batch.sum[k] = res[j + 4];
      batch.sumSq[k] = res[j + 5];
    }
    this.batch = batch;
  }

  /** Scores fp32's own outputs (KL exactly 0, full agreement); `each` as in scoreBatch. */
  scoreReference(each: (row: number, score: SampleScore) => void): void {
    const { ref, rows, positions, options, labels, top, lse, sum, sumSq, p } = this.batch!;
    const { width, task } = options;
    const score = this.score;
    for (let r = 0; r < rows; r++) {
      Object.assign(score, EMPTY);
      const label = labels[r];
      for (let pos = 0; pos < positions; pos++) {
        const k = r * positions + pos;
        const at = k * width;
        score.sum += sum[k];
        score.sumSq += sumSq[k];
        score.kl += lse[k] - lse[k]; // 0, or NaN where fp32's row has no distribution (all -Infinity or NaN)
        if (task === 'classification') {
          score.refCorrect = score.correct = top[k] === label![0] ? 1 : 0;
          score.refConfidence = score.confidence = p[at + top[k]];
        } else if (task === 'language-model') {
          score.refNll = score.nll -= ref[at + label![pos]] - lse[k];
          score.tokens++;
        }
      }
      score.refSum = score.sum;
      score.refSumSq = score.signal = score.sumSq;
      score.count = positions * width;
      score.agree = 1;
      each(r, score);
    }
  }

  /** Scores a variant's outputs of the batch; `each` gets every row's score (one object, reused: add or copy it). */
  scoreBatch(out: Float32Array, each: (row: number, score: SampleScore) => void): void {
    const { ref, rows, positions, options, labels, top: refTops, lse: refLse, negEntropy, sum: refSum, sumSq: refSumSq, p } = this.batch!;
    const { width, task } = options;
    const count = rows * positions;
    const views = this.views!;
    views.float32(this.ptr.out, count * width).set(out.subarray(0, count * width));
    this.kernels.k.scoreRows(this.ptr.out, this.ptr.ref, this.ptr.p, count, width, this.ptr.res);
    const res = views.float64(this.ptr.res, RES * count);
    const score = this.score;
    for (let r = 0; r < rows; r++) {
      Object.assign(score, EMPTY);
      const label = labels[r];
      let kl = 0;
      let agree = 0;
      for (let pos = 0; pos < positions; pos++) {
        const k = r * positions + pos;
        const at = k * width;
        const j = k * RES;
        const max = res[j];
        const top = res[j + 1];
        const logZ = Math.log(res[j + 3]);
        const lse = max + logZ;
        kl += Math.max(0, negEntropy[k] - res[j + 2] + logZ);
        const refTop = refTops[k];
        agree += top === refTop ? 1 : 0;
        score.noise += res[j + 4];
        score.sum += res[j + 5];
        score.sumSq += res[j + 6];
        score.refSum += refSum[k];
        score.refSumSq += refSumSq[k];
        if (task === 'classification') {
          score.correct = top === label![0] ? 1 : 0;
          score.refCorrect = refTop === label![0] ? 1 : 0;
          score.confidence = Math.exp(max - lse);
          score.refConfidence = p[at + refTop];
        } else if (task === 'language-model') {
          const target = label![pos];
          score.nll -= out[at + target] - lse;
          score.refNll -= ref[at + target] - refLse[k];
          score.tokens++;
        }
      }
      score.signal = score.refSumSq;
      score.count = positions * width;
      score.kl = kl / positions;
      score.agree = agree / positions;
      each(r, score);
    }
  }
}

const EMPTY: Readonly<SampleScore> = emptyScore();
