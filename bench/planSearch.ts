/**
 * `npm run bench:plan` (and the last part of `npm run bench`): the plan search on the demo specs (their `search`
 * field), with sequential testing against the same search on the whole set without early stopping: planner time,
 * inference runs of the search (one-at-a-time sensitivity counted apart: both measure it the same way, and it is
 * read from the results file when an evaluation wrote one), and whether both chose the same plan (equal cost,
 * equal per-slice verdicts). Target: the same plan in at most 30% of the full-data search's runs.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FindPlanReport } from '../src/core/search/planReport';
import { findPlan } from '../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..');
const specs: { name: string; spec: string; search?: Record<string, unknown> }[] = [
  { name: 'MNIST MLP (1,996 digits), demo spec', spec: 'demo/mnist/mnist.quantlens.json' },
  {
    name: 'MNIST MLP, 4 candidates',
    spec: 'demo/mnist/mnist.quantlens.json',
    search: { candidates: ['fp32', 'fp16', 'int8-channel', 'int4-block32'], maxCost: '0.3x' },
  },
  { name: 'char LM (267 windows), demo spec', spec: 'demo/lm/char_gpt.quantlens.json' },
];

/** The demo spec with another `search`, written next to copies of its files in a temporary folder. */
function specWith(spec: string, search: Record<string, unknown>, dir: string): string {
  const from = path.dirname(spec);
  for (const f of readdirSync(from)) if (!f.endsWith('.json')) copyFileSync(path.join(from, f), path.join(dir, f));
  const out = path.join(dir, path.basename(spec));
  writeFileSync(out, JSON.stringify({ ...JSON.parse(readFileSync(spec, 'utf8')), search }, null, 2));
  return out;
}

/** Plans both searches measured whose early stop (inside/outside) the full-data search contradicts, and their count. */
function earlyAgainstFull(seq: FindPlanReport, full: FindPlanReport): { early: number; wrong: string[] } {
  const key = (layers: Record<string, string>): string => JSON.stringify(Object.entries(layers).sort());
  const fullPasses = new Map(full.plans.map((p) => [key(p.layers), p.passes]));
  let early = 0;
  const wrong: string[] = [];
  for (const p of seq.plans) {
    const truth = fullPasses.get(key(p.layers));
    if ((p.decision !== 'inside' && p.decision !== 'outside') || truth === undefined) continue;
    early++;
    if (p.passes !== truth)
      wrong.push(`${key(p.layers)}: ${p.decision} early, ${truth ? 'passes' : 'fails'} on all data`);
  }
  return { early, wrong };
}

const verdicts = (r: FindPlanReport): string =>
  (r.chosen?.slices ?? []).map((s) => `${s.name}:${s.verdict}`).join(', ');

async function main(): Promise<void> {
  const rows: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-bench-plan-'));
  for (const c of specs) {
    const spec = c.search ? specWith(path.join(ROOT, c.spec), c.search, dir) : path.join(ROOT, c.spec);
    const seq = await findPlan(spec, { reuseResults: false });
    const full = await findPlan(spec, { reuseResults: false, sequential: false });
    const same =
      seq.chosen !== undefined &&
      full.chosen !== undefined &&
      seq.chosen.cost === full.chosen.cost &&
      verdicts(seq) === verdicts(full);
    const share = seq.runs.search / Math.max(1, full.runs.search);
    const check = earlyAgainstFull(seq, full);
    for (const w of check.wrong) console.error(`${c.name}: early stop contradicted by the full data: ${w}`);
    if (check.wrong.length > 0 || !same) process.exitCode = 1;
    rows.push(
      `| ${c.name} | ${seq.exhaustive ? 'exhaustive' : 'greedy'}, ${seq.plans.length} plans | ${(seq.ms / 1000).toFixed(1)} s / ${(full.ms / 1000).toFixed(1)} s | ${seq.runs.search} / ${full.runs.search} (${(100 * share).toFixed(0)}%) | ${seq.sensitivity.runs} | ${check.early - check.wrong.length} of ${check.early} | ${same ? 'yes' : 'NO'} | ${share <= 0.3 && same ? 'met' : 'not met'} |`,
    );
    console.log(
      `${c.name}: chosen ${seq.chosen ? `${seq.chosen.cost} bytes` : 'none'} (sequential) / ${full.chosen ? `${full.chosen.cost} bytes` : 'none'} (full data)`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(
    '\n| demo | search | planner time (sequential / full data) | search inference runs (sequential / full data) | sensitivity runs (both) | early stops the full data confirms | same plan | target <= 30% |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
