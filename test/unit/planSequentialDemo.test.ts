/**
 * Sequential testing reaches the same decisions as full-data evaluation on the MNIST demo: every plan the
 * sequential search stopped early (inside or outside the budget) gets the same pass/fail when the full-data
 * search measures it on every sample, and both searches choose the same plan with the same per-slice verdicts.
 * (The language-model demo's search takes about a minute each way: `npm run bench:plan` checks it the same way
 * and fails on a contradiction.)
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { FindPlanReport } from '../../src/core/search/planReport';
import { findPlan } from '../../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-seq-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
  copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist.quantlens.json'), 'utf8')) as Record<
  string,
  unknown
>;

const key = (layers: Record<string, string>): string => JSON.stringify(Object.entries(layers).sort());

/** Early stops of `seq` the full-data search also measured: how many, and those it contradicts. */
function compare(seq: FindPlanReport, full: FindPlanReport): { early: number; wrong: string[] } {
  const truth = new Map(full.plans.map((p) => [key(p.layers), p.passes]));
  let early = 0;
  const wrong: string[] = [];
  for (const p of seq.plans) {
    const passes = truth.get(key(p.layers));
    if ((p.decision !== 'inside' && p.decision !== 'outside') || passes === undefined) continue;
    early++;
    if (p.passes !== passes) wrong.push(`${key(p.layers)} ${p.decision} at ${p.samples} samples`);
  }
  return { early, wrong };
}

const verdicts = (r: FindPlanReport): string[] => r.chosen!.slices!.map((s) => `${s.name}:${s.verdict}`);

describe('sequential testing on the MNIST demo', () => {
  // The exhaustive search's cheapest plan passes: it is completed, every costlier plan only estimated.
  for (const [name, search, decides] of [
    ['demo spec (greedy)', demo.search, true],
    [
      '4 candidates (exhaustive)',
      { candidates: ['fp32', 'fp16', 'int8-channel', 'int4-block32'], maxCost: '0.3x' },
      false,
    ],
  ] as const)
    it(`${name}: every early stop is the full data's decision, and the chosen plan is the same`, async () => {
      const spec = path.join(dir, 'mnist.quantlens.json');
      writeFileSync(spec, JSON.stringify({ ...demo, search }, null, 2));
      const seq = await findPlan(spec);
      const full = await findPlan(spec, { sequential: false });
      assert.ok(full.plans.every((p) => p.decision === 'full'));
      const { early, wrong } = compare(seq, full);
      assert.deepEqual(wrong, []);
      if (decides) assert.ok(early > 0, 'some plan stopped early');
      else assert.ok(seq.plans.filter((p) => p.decision === 'estimate').length >= seq.plans.length - 2);
      assert.ok(seq.chosen && full.chosen);
      assert.equal(seq.chosen.cost, full.chosen.cost);
      assert.deepEqual(verdicts(seq), verdicts(full));
      assert.ok(seq.runs.search < full.runs.search, `${seq.runs.search} runs against ${full.runs.search}`);
    });
});
