/** New-user walk-through: cells name the deciding metric, small slices say so, one byte format, cost with fp32 only. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { bytesText } from '../../src/core/bytes';
import { costTable, NO_COST_VARIANTS } from '../../src/core/cost/costFormat';
import type { ModelCost } from '../../src/core/cost/costTypes';
import { cellVerdict } from '../../src/core/eval/cellVerdict';
import { middleEllipsis } from '../../src/core/eval/describe';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import type { EvalResults, VariantResult } from '../../src/core/eval/results';
import type { Budget } from '../../src/core/eval/spec';
import { readSlice, type Verdict } from '../../src/core/eval/verdict';
import { evalSummary } from '../../src/node/eval/evalFormat';
import { sliceStyles } from '../../webview/results/palette';
import { barLabel } from '../../webview/results/barLabel';
import { resultsShell } from '../fixtures/resultsShell';

const est = (value: number, low: number, high: number) => ({ value, low, high });
const base = (n: number, over: Partial<SliceMetrics>): SliceMetrics => ({
  n,
  outputSqnrDb: 10,
  varianceRatio: 1,
  ...over,
});

/** Results of one variant over slices `all` (n 200) and `small` (n 13), verdicts as the evaluation writes them. */
function results(budget: Budget, q: Record<string, SliceMetrics>, ref: Record<string, SliceMetrics>): EvalResults {
  const sizes: Record<string, number> = { all: 200, small: 13 };
  const verdicts: Record<string, Verdict> = {};
  const variant: VariantResult = {
    id: 'q',
    label: 'int2-block32',
    kind: 'scheme',
    weightBytes: 1,
    metrics: q,
    violations: [],
  };
  for (const [name, m] of Object.entries(q)) {
    const reading = readSlice(name, m, budget, 20);
    verdicts[name] = reading.verdict;
    variant.violations.push(...reading.violations);
  }
  variant.verdicts = verdicts;
  return {
    ...resultsShell({ samples: 200 }),
    task: q.all.perplexity !== undefined ? 'language-model' : 'classification',
    output: 'y',
    budget,
    slices: Object.keys(q).map((name) => ({ name, n: sizes[name] })),
    variants: [{ id: 'fp32', label: 'fp32', kind: 'reference', weightBytes: 4, metrics: ref, violations: [] }, variant],
    flags: [],
    skippedWeights: [],
    budgetViolated: variant.violations.length > 0,
    timings: { totalMs: 1, prepareMs: 0, inferenceMs: 0, scoringMs: 0, runs: 2, samplesPerRun: 200 },
  } as EvalResults;
}

const lm = (): EvalResults => {
  const m = (n: number, c: ReturnType<typeof est>) => base(n, { perplexity: 7, perplexityChange: c });
  return results(
    { perplexityIncrease: 2 },
    { all: m(200, est(1.5, 0.5, 2.5)), small: m(13, est(19.4, 12.3, 26.9)) },
    { all: base(200, { perplexity: 6 }), small: base(13, { perplexity: 6 }) },
  );
};

const mnist = (): EvalResults => {
  const m = (n: number, c: ReturnType<typeof est>, kl: number) =>
    base(n, { accuracy: 0.98, accuracyChange: c, agreement: 0.9, kl });
  return results(
    { accuracyDrop: 1, kl: 0.05 },
    { all: m(200, est(0.4, -1.1, 2.0), 0.0757), small: m(13, est(-0.2, -0.6, 0.1), 0.01) },
    { all: base(200, { accuracy: 0.98 }), small: base(13, { accuracy: 0.9 }) },
  );
};

describe('cell verdicts', () => {
  it('a small slice says "too few samples", not "within noise", though its CI is over the budget', () => {
    const r = lm();
    const cv = cellVerdict(r, r.variants[1], 'small');
    assert.equal(cv.verdict, 'noise', 'the results contract stays pass | noise | violated');
    assert.equal(cv.smallSlice, true);
    assert.equal(cv.note, 'too few samples (13 < 20)');
    assert.match(cv.title, /13 samples, fewer than the 20 needed.*ppl \+19\.4% > 2%/);
  });

  it('a violated cell names the budget that broke, though accuracy rose', () => {
    const r = mnist();
    const cv = cellVerdict(r, r.variants[1], 'all');
    assert.equal(cv.verdict, 'violated');
    assert.equal(cv.note, 'violated: KL 7.57e-2 > 0.05');
  });

  it('a noise cell names the metric whose CI spans the limit', () => {
    const r = lm();
    assert.equal(cellVerdict(r, r.variants[1], 'all').note, 'within noise: ppl +1.5%, CI spans 2%');
    assert.equal(cellVerdict(r, r.variants[0], 'all', false).note, '', 'the reference is not judged');
  });

  it('the CLI slice table says the same', () => {
    const lmText = evalSummary(lm());
    const small = lmText.split('\n').find((l) => l.startsWith('small '))!;
    assert.match(small, /~too few samples \(13 < 20\)/);
    assert.doesNotMatch(small, /~noise/);
    assert.match(
      lmText.split('\n').find((l) => l.startsWith('all '))!,
      /~noise \(ppl \+1\.5%, CI spans 2%\)/,
    );
    const mnistText = evalSummary(mnist());
    assert.match(
      mnistText.split('\n').find((l) => l.startsWith('all '))!,
      /VIOLATED \(KL 7\.57e-2 > 0\.05\)/,
    );
    // The violation line writes KL as the cell does (it read "KL 0.0757" next to "7.57e-2").
    assert.match(mnistText, /KL 7\.57e-2 on all \(limit 0\.05\)/);
    assert.doesNotMatch(mnistText, /0\.0757/);
  });
});

const cost = (fileBytes: number): ModelCost => ({
  fileBytes,
  sessionMs: 12,
  peakRssBytes: 30 * 2 ** 20,
  threads: 1,
  provider: 'cpu',
  sessionOptions: {},
  latency: { '1': { p50Ms: 0.2, p90Ms: 0.3, samplesPerSec: 5000 } },
  rounds: 2,
});

describe('bytes and cost', () => {
  it('writes bytes in binary units everywhere, never "KB"/"kB"', () => {
    assert.equal(bytesText(438289), '428.0 KiB');
    assert.equal(bytesText(436736), '426.5 KiB');
    assert.equal(bytesText(512), '512 B');
    assert.equal(bytesText(3 * 2 ** 20), '3.00 MiB');
    const text = costTable([{ name: 'fp32', cost: cost(438289) }]);
    assert.match(text, /428\.0 KiB/);
    assert.match(text, /30\.0 MiB/);
    assert.doesNotMatch(text, /\d (KB|kB|MB)\b/);
  });

  it('with only fp32 measured, eval says what cost compares in one line, no one-row ratio table', () => {
    const r = mnist();
    r.variants[0].cost = cost(438289);
    const text = evalSummary(r);
    assert.ok(text.includes(`\n${NO_COST_VARIANTS}\n`), text);
    assert.doesNotMatch(text, /ratios to fp32/);
    r.variants[1].cost = cost(120000);
    assert.match(evalSummary(r), /ratios to fp32/);
  });
});

describe('sweep legend colours', () => {
  it('ten slices besides "all" get ten solid hues of their own; beyond ten, hue x dash', () => {
    const ten = sliceStyles(['all', ...Array.from({ length: 10 }, (_, d) => `digit=${d}`)]);
    assert.equal(ten[0], undefined, '"all" is drawn in the foreground colour');
    assert.equal(new Set(ten.slice(1).map((s) => s!.color)).size, 10);
    assert.ok(
      ten.slice(1).every((s) => s!.dash.length === 0),
      'all solid',
    );
    const many = sliceStyles(['all', ...Array.from({ length: 13 }, (_, d) => `s${d}`)]).slice(1);
    assert.equal(new Set(many.map((s) => `${s!.color}|${s!.dash.join(',')}`)).size, 13);
  });
});

describe('CLI wording', () => {
  it('bench --help words its defaults: no "(default: {})" or "(default: [1])"', () => {
    const root = path.join(__dirname, '..', '..');
    const help = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'bench', '--help'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    assert.equal(help.status, 0, help.stderr);
    assert.doesNotMatch(help.stdout, /default: [{[]/);
    assert.match(help.stdout, /--dim[^\n]*\(default: 1 for/);
    assert.match(help.stdout, /--batch[\s\S]*\(default: 1\)/);
  });
});

describe('weights row', () => {
  it('says it counts every stored weight, biases included, as the overview does (issue 19 contract)', () => {
    const text = evalSummary(mnist());
    const header = text.split('\n').find((l) => l.startsWith('variant (all)'))!;
    assert.match(header, /weight bytes \(biases included\)$/);
    assert.match(text, /biases and weights kept as float included/);
  });
});

describe('layer sensitivity labels', () => {
  it('keep a long slice name on one line, cut in the middle, with the full label as title', () => {
    const label = barLabel('language-model', { perplexityIncrease: 0.4 }, 'source=Apache-2.0-licensed-corpus-long');
    assert.equal(label.text.length <= '+0.4% ppl · '.length + 24, true, label.text);
    assert.match(label.text, /^\+0\.4% ppl · source=Apach.*….*long$/);
    assert.equal(label.title, '+0.4% ppl · source=Apache-2.0-licensed-corpus-long');
    assert.equal(barLabel('language-model', { perplexityIncrease: 0.4 }, 'all').text, '+0.4% ppl · all');
    assert.equal(middleEllipsis('abcdefghij', 5), 'ab…ij');
  });
});
