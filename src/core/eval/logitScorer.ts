/**
 * Scores whole batches of logits against fp32 (classification, language models, outputs) with the WebAssembly
 * SIMD kernels of assembly/scoring.ts, giving the SampleScores `scoreSample` (the reference implementation,
 * metrics.ts) gives, to rounding: the kernels' exp is within 1 ulp of Math.exp, their log is AssemblyScript's
 * (a port of musl's, not V8's), and their sums over a row run in another order.
 * - Per batch, `referenceRows` computes fp32's probabilities p = exp(x - lse), Σ p log p, its argmax and
 *   moments, once for every variant.
 * - Per variant, `scoreRows` computes the max and its index, Σ p·(x - max), z = Σ exp(x - max) and the output
 *   moments; log q = x - max - log z is never stored: KL(p || q) = Σ p log p - Σ p (x - max) + log z
 *   (Σ p = 1; the shift keeps large logits from cancelling).
 * - Per variant, `sampleScores` then sums each sample's positions in order (KL, agreement, NLL of the next
 *   tokens, moments), so that JavaScript only sees one row of results a sample.
 */
import { createKernels, type Kernels, type Views } from '../wasm/kernels';
import { emptyScore, type SampleScore, type ScoreOptions } from './metrics';

/** float64 results per position written by the kernels. */
const RES = 7;
/** float64 results per sample written by sampleScores. */
const ROW = 9;

/** fp32's outputs of the current batch. */
interface Batch {
  ref: Float32Array;
  rows: number;
  positions: number;
  options: ScoreOptions;
  labels: (ArrayLike<number> | undefined)[];
  /** Per position (from referenceRows; the kernels read Σ p log p from its results): argmax, lse, Σ r, Σ r². */
  top: Int32Array;
  lse: Float64Array;
  sum: Float64Array;
  sumSq: Float64Array;
  /** fp32's probabilities (a view of the kernel memory). */
  p: Float64Array;
}

/** Scores the variants' logits of one batch at a time against fp32's (kernel memory of its own). */
export class LogitScorer {
  private readonly kernels: Kernels = createKernels();
  /** Values and positions the kernel memory holds. */
  private capacity = { values: -1, positions: -1 };
  private ptr = { out: 0, ref: 0, p: 0, res: 0, refRes: 0, targets: 0, rowRes: 0 };
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
  setReference(
    ref: Float32Array,
    rows: number,
    positions: number,
    options: ScoreOptions,
    labels: (ArrayLike<number> | undefined)[],
  ): void {
    const count = rows * positions;
    const n = count * options.width;
    // The variants' outputs may be written straight into kernel memory (outputView): room for all of fp32's.
    const values = Math.max(n, ref.length);
    if (values > this.capacity.values || count > this.capacity.positions) {
      const k = this.kernels;
      k.reset();
      this.ptr = {
        out: k.alloc(4 * values),
        ref: k.alloc(4 * values),
        p: k.alloc(8 * values),
        res: k.alloc(8 * RES * count),
        refRes: k.alloc(8 * RES * count),
        targets: k.alloc(4 * count),
        rowRes: k.alloc(8 * ROW * count),
      };
      this.views = k.commit();
      this.capacity = { values, positions: count };
    }
    const views = this.views!;
    views.float32(this.ptr.ref, n).set(ref.subarray(0, n));
    this.kernels.k.referenceRows(this.ptr.ref, count, options.width, this.ptr.p, this.ptr.refRes);
    const res = views.float64(this.ptr.refRes, RES * count);
    if (options.task === 'language-model') {
      const targets = views.int32(this.ptr.targets, count);
      for (let r = 0; r < rows; r++) {
        const label = labels[r]!;
        for (let pos = 0; pos < positions; pos++) targets[r * positions + pos] = label[pos];
      }
    }
    const batch: Batch = {
      ref,
      rows,
      positions,
      options,
      labels,
      top: new Int32Array(count),
      lse: new Float64Array(count),
      sum: new Float64Array(count),
      sumSq: new Float64Array(count),
      p: views.float64(this.ptr.p, n),
    };
    for (let k = 0, j = 0; k < count; k++, j += RES) {
      batch.top[k] = res[j + 1];
      batch.lse[k] = res[j + 2];
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

  /**
   * Where a variant's outputs of the current batch (as many values as fp32's) can be written so that
   * scoreBatch need not copy them: a view of the kernel memory, valid until the next setReference.
   */
  outputView(length: number): Float32Array | undefined {
    return this.batch && length <= this.capacity.values ? this.views!.float32(this.ptr.out, length) : undefined;
  }

  /** Scores a variant's outputs of the batch; `each` gets every row's score (one object, reused: add or copy it). */
  scoreBatch(out: Float32Array, each: (row: number, score: SampleScore) => void): void {
    const { rows, positions, options, labels, top: refTops, p } = this.batch!;
    const { width, task } = options;
    const count = rows * positions;
    const views = this.views!;
    const { k } = this.kernels;
    const ptr = this.ptr;
    if (out.buffer !== views.f32.buffer || out.byteOffset !== ptr.out)
      views.float32(ptr.out, count * width).set(out.subarray(0, count * width));
    k.scoreRows(ptr.out, ptr.ref, ptr.p, count, width, ptr.res);
    k.sampleScores(
      ptr.out,
      ptr.ref,
      ptr.refRes,
      ptr.res,
      task === 'language-model' ? ptr.targets : 0,
      rows,
      positions,
      width,
      ptr.rowRes,
    );
    const res = views.float64(ptr.res, RES * count);
    const sums = views.float64(ptr.rowRes, ROW * rows);
    const score = this.score;
    for (let r = 0; r < rows; r++) {
      Object.assign(score, EMPTY);
      const j = r * ROW;
      score.kl = sums[j] / positions;
      score.agree = sums[j + 1] / positions;
      score.noise = sums[j + 2];
      score.sum = sums[j + 3];
      score.sumSq = sums[j + 4];
      score.refSum = sums[j + 5];
      score.refSumSq = score.signal = sums[j + 6];
      score.count = positions * width;
      if (task === 'classification') {
        // One position a sample.
        const label = labels[r]![0];
        const at = r * RES;
        const top = res[at + 1];
        score.correct = top === label ? 1 : 0;
        score.refCorrect = refTops[r] === label ? 1 : 0;
        score.confidence = Math.exp(res[at] - (res[at] + Math.log(res[at + 3])));
        score.refConfidence = p[r * width + refTops[r]];
      } else if (task === 'language-model') {
        score.nll = sums[j + 7];
        score.refNll = sums[j + 8];
        score.tokens = positions;
      }
      each(r, score);
    }
  }
}

const EMPTY: Readonly<SampleScore> = emptyScore();
