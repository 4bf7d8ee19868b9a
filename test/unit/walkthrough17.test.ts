/** Issue 17, the second walk-through: one KL format, cost charts with nothing to compare, plan results files, the bar's count. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cellVerdict } from '../../src/core/eval/cellVerdict';
import { costChartsShown } from '../../src/core/cost/costFormat';
import { klText } from '../../src/core/eval/describe';
import type { SliceMetrics } from '../../src/core/eval/metrics';
import { resultsFileName, type EvalResults } from '../../src/core/eval/results';
import { describeViolation } from '../../src/core/eval/verdict';
import { analysisDoneText } from '../../src/core/view/analysisText';
import { countTickLabels, INTEGER_INCRS } from '../../src/core/view/chartTicks';
import { layerColumns } from '../../src/core/view/tableColumns';
import {
  ARROW_ROOM,
  CHAR_WIDTH,
  HEADER_HEIGHT,
  HEADER_PADDING,
  headerLines,
  headerWidth,
  tableHeight,
} from '../../src/core/view/tableHeader';
import { lineStyle, styleKey } from '../../webview/results/palette';
import { evalSummary } from '../../src/node/eval/evalFormat';
import { resultsShell } from '../fixtures/resultsShell';

const metrics = (over: Partial<SliceMetrics>): SliceMetrics => ({
  n: 100,
  outputSqnrDb: 10,
  varianceRatio: 1,
  ...over,
});

/** An outputs-task result whose int4 variant breaks a KL budget of 0.05 with KL 0.0757 on slice `all`. */
function klResults(): EvalResults {
  const variant = (id: string, kind: 'reference' | 'scheme', kl: number, violated: boolean) => ({
    id,
    label: id,
    kind,
    weightBytes: 1024,
    metrics: { all: metrics({ kl }) },
    violations: violated ? [{ slice: 'all', metric: 'kl' as const, value: kl, limit: 0.05 }] : [],
    verdicts: { all: violated ? ('violated' as const) : ('pass' as const) },
  });
  return {
    ...resultsShell({ samples: 100 }),
    task: 'outputs',
    output: 'y',
    budget: { kl: 0.05 },
    slices: [{ name: 'all', n: 100 }],
    variants: [variant('fp32', 'reference', 0, false), variant('int4-block32', 'scheme', 0.0757, true)],
    flags: [],
    skippedWeights: [],
    budgetViolated: true,
    timings: { totalMs: 1, prepareMs: 0, inferenceMs: 0, scoringMs: 0, runs: 2, samplesPerRun: 100 },
  } as EvalResults;
}

describe('one number format for KL (walk-through 8)', () => {
  it('the violation line, the cell, the CLI and the diagnostics write the same KL', () => {
    const r = klResults();
    const v = r.variants[1];
    const expected = klText(0.0757);
    assert.equal(expected, '7.57e-2');
    // Violation lines (CLI, Problems, plan diagnostics and flags all use describeViolation).
    assert.equal(describeViolation(v.violations[0]), `KL ${expected}`);
    // The results view's cell.
    assert.match(cellVerdict(r, v, 'all').note, new RegExp(`KL ${expected.replace('.', '\\.')} > 0\\.05`));
    // The CLI text: every KL of the violation written alike, never "0.0757".
    const text = evalSummary(r);
    assert.match(text, /KL 7\.57e-2 on all/);
    assert.doesNotMatch(text, /0\.0757/);
  });
});

describe('accuracy-vs-cost charts with nothing to compare (walk-through 9)', () => {
  it('no latency chart with only fp32 measured; no size chart with one variant', () => {
    assert.deepEqual(costChartsShown(1, 3), { latency: false, bytes: true });
    assert.deepEqual(costChartsShown(1, 1), { latency: false, bytes: false });
    assert.deepEqual(costChartsShown(2, 3), { latency: true, bytes: true });
  });
});

describe('a plan evaluation writes its own results file (walk-through 10)', () => {
  it('keeps the spec results and names the plan', () => {
    assert.equal(resultsFileName('mnist.quantlens.json'), 'mnist.results.json');
    assert.equal(resultsFileName('mnist.quantlens.json', ['mnist-int2.qplan.json']), 'mnist.mnist-int2.results.json');
    assert.equal(resultsFileName('eval.json', ['/w/p/trial.qplan.json']), 'eval.trial.results.json');
    assert.notEqual(resultsFileName('a.quantlens.json', ['b.qplan.json']), resultsFileName('a.quantlens.json'));
  });
});

describe('the analysis bar counts the analysed weights (walk-through 7)', () => {
  it('says how many weights were analysed under the schemes, the other tensors apart', () => {
    assert.equal(
      analysisDoneText({ done: 30, total: 30, quantizable: 12, schemes: 6, ms: 420 }),
      '12 weights analysed under 6 schemes in 0.42 s (18 other tensors not quantized, see Overview)',
    );
    assert.equal(
      analysisDoneText({ done: 1, total: 1, quantizable: 1, schemes: 1 }),
      '1 weight analysed under 1 scheme',
    );
  });
});

describe('layer table headers (walk-through 1, 2)', () => {
  it('"Measured · <scheme>" shows the scheme whole on its own line', () => {
    const cols = layerColumns(['int8-channel', 'int4-block32'], 'int4-block32');
    const measured = cols.find((c) => c.key === 'sensitivity')!;
    const { lines, whole } = headerLines(measured.title, measured.width);
    assert.ok(whole);
    assert.deepEqual(lines, ['Measured ·', 'int4-block32']);
  });

  it('every default header fits whole next to the sort arrow (the arrow has its own room in every column)', () => {
    const cols = layerColumns(['fp16', 'fp8-e4m3', 'int8-channel', 'int8-tensor', 'int4-block32', 'int4-block128'], '');
    for (const c of cols) {
      const { lines, whole } = headerLines(c.title, c.width);
      assert.ok(whole, `${c.title} in ${c.width} px: ${lines.join(' / ')}`);
      assert.equal(lines.join(' ').replace(/\s+/g, ''), c.title.replace(/\s+/g, ''));
      for (const l of lines) assert.ok(l.length * CHAR_WIDTH <= c.width - HEADER_PADDING - ARROW_ROOM, l);
    }
  });

  it('a name too long for two lines keeps its start and its end', () => {
    const { lines, whole } = headerLines('int4-block32+a8-sym-percentile-extra-long', 90);
    assert.equal(whole, false);
    assert.match(lines[0], /^int4-.*…$/);
    assert.match(lines[1], /^….*long$/);
    // Columns are made wide enough instead, when they can be.
    const w = headerWidth('int4-block32+a8-sym-percentile', 90);
    assert.ok(headerLines('int4-block32+a8-sym-percentile', w).whole);
  });
});

describe('layer table height (walk-through 4)', () => {
  it('fills the room in whole rows, never more rows than there are, at least a few', () => {
    const h = tableHeight(700, 500, 24);
    assert.equal((h - HEADER_HEIGHT - 2) % 24, 0);
    assert.ok(h <= 700 && h > 700 - 24);
    assert.equal(tableHeight(700, 5, 24), HEADER_HEIGHT + 5 * 24 + 2);
    assert.equal(tableHeight(100, 500, 24), HEADER_HEIGHT + 8 * 24 + 2);
    // A horizontal scrollbar is room the rows do not get.
    const withBar = tableHeight(700, 500, 24, { scrollbar: 10 });
    assert.equal((withBar - HEADER_HEIGHT - 2 - 10) % 24, 0);
    assert.ok(withBar <= 700);
  });
});

describe('layer detail charts (walk-through 3)', () => {
  it('count axes: integer increments and integer labels only', () => {
    assert.ok(INTEGER_INCRS.every((x) => Number.isInteger(x) && x >= 1));
    assert.deepEqual(countTickLabels([0, 0.5, 1, 1.5, 2, 1500]), ['0', '', '1', '', '2', '1,500']);
  });
});

describe('sweep styles (walk-through 6)', () => {
  it('up to 40 lines: no two alike; lines of one hue differ in dash and marker', () => {
    const styles = Array.from({ length: 40 }, (_, i) => lineStyle(i));
    assert.equal(new Set(styles.map(styleKey)).size, 40);
    for (let i = 10; i < 40; i++) {
      const first = styles[i % 10];
      assert.notDeepEqual(styles[i].dash, first.dash);
    }
    // 13 slices (the walk-through's case): slices 11-13 repeat hues 1-3 but are dashed and hollow.
    for (const i of [10, 11, 12]) {
      assert.equal(styles[i].color, styles[i - 10].color);
      assert.equal(styles[i].hollow, true);
      assert.equal(styles[i - 10].hollow, false);
    }
  });
});

describe("a new user's first npm commands are clean (finding 8)", () => {
  const root = path.join(__dirname, '..', '..');
  it('npm reads no unknown project config (no .npmrc key it warns about)', () => {
    const r = spawnSync('npm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Unknown (project|user|env|builtin) config/);
  });

  it('the committed lock already records every install script (npm install has nothing to add)', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!where.startsWith('node_modules/')) continue;
      const manifest = path.join(root, where, 'package.json');
      if (!existsSync(manifest)) continue; // optional, not installed on this platform
      const scripts =
        (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
      // npm counts a binding.gyp without an install script as one (node-gyp rebuild).
      const installs =
        ['preinstall', 'install', 'postinstall'].some((k) => k in scripts) ||
        existsSync(path.join(root, where, 'binding.gyp'));
      if (installs && !entry.hasInstallScript) missing.push(where);
    }
    assert.deepEqual(missing, []);
  });
});
