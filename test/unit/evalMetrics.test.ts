/** Evaluation metrics on hand-computed cases. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogitScorer } from '../../src/core/eval/logitScorer';
import {
  expectedCalibrationError,
  klDivergence,
  logSoftmax,
  meanEstimate,
  scoreSample,
  SliceAccumulator,
  type SampleScore,
} from '../../src/core/eval/metrics';
import { createKernels } from '../../src/core/wasm/kernels';
import { budgetViolations, effectOf } from '../../src/core/eval/verdict';

const close = (a: number, b: number, tol = 1e-12, what = ''): void =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} != ${b}`.trim());

describe('evaluation metrics', () => {
  it('log-softmax and KL match the closed forms', () => {
    const lp = logSoftmax([0, Math.log(3)], 0, 2, new Float64Array(2));
    close(Math.exp(lp[0]), 0.25);
    close(Math.exp(lp[1]), 0.75);
    const lq = logSoftmax([0, 0], 0, 2, new Float64Array(2));
    // KL([.25,.75] || [.5,.5]) = .25 ln .5 + .75 ln 1.5
    close(klDivergence(lp, lq, 2), 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5));
    close(klDivergence(lp, lp, 2), 0);
    // probabilities are taken as given
    const lpp = logSoftmax([0.25, 0.75], 0, 2, new Float64Array(2), true);
    close(lpp[1], Math.log(0.75));
  });

  it('scores a classification sample against fp32 and the label', () => {
    const ref = [2, 1, 0];
    const out = [1, 2, 0];
    const s = scoreSample(out, ref, 0, 1, { task: 'classification', width: 3 }, [1]);
    assert.equal(s.correct, 1);
    assert.equal(s.refCorrect, 0);
    assert.equal(s.agree, 0);
    const z = Math.exp(2) + Math.exp(1) + 1;
    close(s.confidence, Math.exp(2) / z);
    close(s.signal, 4 + 1);
    close(s.noise, 1 + 1);
    // KL(p || q) with q a permutation of p: (p0 - p1)(ln p0 - ln p1)
    const p0 = Math.exp(2) / z;
    const p1 = Math.exp(1) / z;
    close(s.kl, (p0 - p1) * (Math.log(p0) - Math.log(p1)));
  });

  it('accumulates accuracy, its paired change with a 95% CI, ECE, SQNR and variance ratio', () => {
    const acc = new SliceAccumulator('classification');
    // Four samples: fp32 right on all; the variant wrong on one.
    const rows: [number[], number[], number][] = [
      [[3, 0], [3, 0], 0],
      [[0, 3], [0, 3], 1],
      [[3, 0], [3, 0], 0],
      [[3, 0], [0, 3], 0],
    ];
    for (const [ref, out, label] of rows)
      acc.add(scoreSample(out, ref, 0, 1, { task: 'classification', width: 2 }, [label]));
    const m = acc.result();
    assert.equal(m.n, 4);
    assert.equal(m.accuracy, 0.75);
    assert.equal(m.refAccuracy, 1);
    // d = [0, 0, 0, -1]: mean -0.25, sample sd 0.5, half-width 1.96 * 0.5 / 2
    close(m.accuracyChange!.value, -25);
    close(m.accuracyChange!.high - m.accuracyChange!.value, 1.959963984540054 * 0.25 * 100);
    assert.equal(m.agreement, 0.75);
    // all confidences are sigmoid(3) = c; variant: 3 right, 1 wrong in one bin -> |0.75 - c|
    const c = 1 / (1 + Math.exp(-3));
    close(m.ece!, Math.abs(0.75 - c));
    close(m.refEce!, Math.abs(1 - c));
    // outputs: the variant swaps one row: noise = 9 + 9, signal = 4 * 9
    close(m.outputSqnrDb, 10 * Math.log10(36 / 18));
    close(m.varianceRatio, 1);
    assert.deepEqual(effectOf(m).accuracyDrop, 25);
    assert.deepEqual(
      budgetViolations('all', m, { accuracyDrop: 1 }).map((v) => v.metric),
      ['accuracyDrop'],
    );
  });

  it('computes perplexity and its change for a language model', () => {
    const acc = new SliceAccumulator('language-model');
    // Two positions, vocabulary 2: fp32 uniform, the variant confident in token 0. Targets [0, 1].
    const ref = [0, 0, 0, 0];
    const out = [Math.log(3), 0, Math.log(3), 0];
    acc.add(scoreSample(out, ref, 0, 2, { task: 'language-model', width: 2 }, [0, 1]));
    const m = acc.result();
    close(m.refPerplexity!, 2);
    // NLL = -ln .75 - ln .25 over 2 tokens
    close(m.perplexity!, Math.exp((-Math.log(0.75) - Math.log(0.25)) / 2));
    close(m.perplexityChange!.value, (m.perplexity! / 2 - 1) * 100);
    assert.equal(m.agreement, 1); // argmax ties resolve to the first token in both
  });

  it('computes MSE, MAE and the paired MSE change for regression', () => {
    const acc = new SliceAccumulator('regression');
    acc.add(scoreSample([1.5], [1], 0, 1, { task: 'regression', width: 1 }, [1]));
    acc.add(scoreSample([2], [3], 0, 1, { task: 'regression', width: 1 }, [2]));
    const m = acc.result();
    close(m.mse!, (0.25 + 0) / 2);
    close(m.refMse!, (0 + 1) / 2);
    close(m.mae!, 0.25);
    close(m.mseChange!.value, (0.25 - 1) / 2);
    close(effectOf(m).mseIncrease!, -75);
  });

  it('batch scoring (WebAssembly kernel) gives the numbers of the reference scoreSample', () => {
    let seed = 5;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 8 - 4;
    const scorer = new LogitScorer();
    assert.equal(scorer.outputView(4), undefined, 'no output view before a reference');
    // Widths below, at and past the four-lane vectors, with a remainder; ties, -Infinity logits (masked), large
    // logits (exp of very negative differences underflows), identical rows (KL 0), NaN (propagates as in JS).
    const cases = [
      ['classification', 1, 10],
      ['classification', 1, 2],
      ['classification', 1, 3],
      ['classification', 1, 4],
      ['language-model', 7, 13],
      ['language-model', 3, 83],
      ['outputs', 5, 8],
      ['outputs', 2, 1],
    ] as const;
    for (const [task, positions, width] of cases) {
      for (const variant of ['noise', 'ties', 'masked', 'huge', 'same', 'nan']) {
        const rows = 4;
        const ref = Float32Array.from({ length: rows * positions * width }, random);
        const out = Float32Array.from(ref, (v) => v + random() * 0.05);
        if (variant === 'ties') out.fill(1.5, 0, width);
        if (variant === 'masked')
          for (let i = 0; i < out.length; i += 3) {
            out[i] = -Infinity;
            ref[i] = -Infinity;
          }
        if (variant === 'huge') for (let i = 0; i < out.length; i += 2) out[i] = ref[i] = i % 4 === 0 ? 1000 : -1000;
        if (variant === 'same') out.set(ref);
        if (variant === 'nan') out[width > 1 ? 1 : 0] = NaN;
        const options = { task, width };
        const labels = Array.from({ length: rows }, (_, r) =>
          task === 'classification' ? [r % width] : Array.from({ length: positions }, (__, k) => (k * 3 + r) % width),
        );
        scorer.setReference(ref, rows, positions, options, labels);
        const seen: number[] = [];
        const scores: SampleScore[] = [];
        scorer.scoreBatch(out, (r, fused) => {
          seen.push(r);
          scores.push({ ...fused });
          const plain = scoreSample(out, ref, r * positions * width, positions, options, labels[r]);
          for (const key of Object.keys(plain) as (keyof typeof plain)[]) {
            const what = `${task} width ${width} ${variant} row ${r} ${key}`;
            if (fused[key] === plain[key]) continue; // also infinities (masked logits)
            if (Number.isNaN(plain[key])) assert.ok(Number.isNaN(fused[key]), `${what}: ${fused[key]} is not NaN`);
            else if (key === 'kl')
              assert.ok(
                Math.abs(fused.kl - plain.kl) <= 1e-12 + 1e-9 * plain.kl,
                `${what}: ${fused.kl} vs ${plain.kl}`,
              );
            else close(fused[key], plain[key], 1e-12, what);
          }
        });
        assert.deepEqual(seen, [0, 1, 2, 3]);
        // Outputs written straight into the scorer's memory (as onnxruntime does in an evaluation) score the same.
        const view = scorer.outputView(ref.length)!;
        view.set(out);
        scorer.scoreBatch(view, (r, inPlace) => {
          for (const key of Object.keys(inPlace) as (keyof SampleScore)[])
            assert.ok(
              Object.is(inPlace[key], scores[r][key]),
              `${task} width ${width} ${variant} row ${r} ${key} in place`,
            );
        });
        if (variant === 'nan') continue;
        scorer.scoreReference((r, self) => {
          const plain = scoreSample(ref, ref, r * positions * width, positions, options, labels[r]);
          for (const key of Object.keys(plain) as (keyof typeof plain)[]) {
            if (self[key] !== plain[key] && !(Number.isNaN(self[key]) && Number.isNaN(plain[key])))
              assert.ok(
                Math.abs(self[key] - plain[key]) <= 1e-12 * Math.max(1, Math.abs(plain[key])),
                `${task} width ${width} ${variant} fp32 row ${r} ${key}: ${self[key]} vs ${plain[key]}`,
              );
          }
          if (variant !== 'masked' || width > 1) assert.equal(self.kl, 0);
          assert.equal(self.agree, 1);
        });
      }
    }
  });

  it('the kernel exp is within 1 ulp of Math.exp, 0 below -708, and keeps NaN', () => {
    const k = createKernels();
    const n = 1 << 16;
    k.reset();
    const x = k.alloc(8 * n);
    const y = k.alloc(8 * n);
    const views = k.commit();
    const xs = views.float64(x, n);
    let seed = 11;
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const special = [
      0,
      -0,
      -1e-300,
      -5e-324,
      -708,
      -708.0000001,
      -745.2,
      -800,
      -Infinity,
      NaN,
      -Math.LN2 / 2,
      Math.LN2 / 2,
      -Math.LN2,
      -1e-17,
      1,
      88.7,
      700,
      709,
    ];
    for (let i = 0; i < n; i++) xs[i] = i < special.length ? special[i] : -random() * [1, 40, 760][i % 3];
    k.k.expArray(x, n, y);
    const ys = views.float64(y, n);
    const bits = new BigInt64Array(2);
    const f = new Float64Array(bits.buffer);
    for (let i = 0; i < n; i++) {
      const expected = Math.exp(xs[i]);
      if (Number.isNaN(expected)) assert.ok(Number.isNaN(ys[i]), `exp(${xs[i]})`);
      else if (xs[i] < -708) assert.ok(ys[i] === 0 && expected < 3.4e-308, `exp(${xs[i]}) = ${ys[i]}`);
      else {
        f[0] = ys[i];
        f[1] = expected;
        assert.ok(bits[0] - bits[1] <= 1n && bits[1] - bits[0] <= 1n, `exp(${xs[i]}) = ${ys[i]}, Math.exp ${expected}`);
      }
    }
  });

  it('mean estimates and ECE on edge cases', () => {
    assert.deepEqual(meanEstimate(0, 0, 0), { value: 0, low: 0, high: 0 });
    assert.deepEqual(meanEstimate(1, 2, 4), { value: 2, low: 2, high: 2 });
    assert.equal(expectedCalibrationError(new Float64Array(3), new Float64Array(3), new Float64Array(3)), 0);
  });
});
