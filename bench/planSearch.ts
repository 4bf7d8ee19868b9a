/**
 * `npm run bench:plan` (and the last part of `npm run bench`): the plan search on the demo specs (their `search`
 * field), with sequential testing against the same search on the whole set without early stopping: planner time,
 * inference runs of the search (one-at-a-time sensitivity counted apart: both measure it the same way, and it is
 * read from the results file when an evaluation wrote one), and whether both chose the same plan (equal cost,
 * equal per-slice verdicts). Target: the same plan in at most 30% of the full-data search's runs.
 */
import * as path from 'node:path';
import type { FindPlanReport } from '../src/core/search/planReport';
import { findPlan } from '../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..');
const specs = [
  { name: 'MNIST MLP (1,996 digits)', spec: 'demo/mnist/mnist.quantlens.json' },
  { name: 'char LM (267 windows)', spec: 'demo/lm/char_gpt.quantlens.json' },
];

const verdicts = (r: FindPlanReport): string =>
  (r.chosen?.slices ?? []).map((s) => `${s.name}:${s.verdict}`).join(', ');

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const c of specs) {
    const spec = path.join(ROOT, c.spec);
    const seq = await findPlan(spec, { reuseResults: false });
    const full = await findPlan(spec, { reuseResults: false, sequential: false });
    const same =
      seq.chosen !== undefined &&
      full.chosen !== undefined &&
      seq.chosen.cost === full.chosen.cost &&
      verdicts(seq) === verdicts(full);
    const share = seq.runs.search / Math.max(1, full.runs.search);
    rows.push(
      `| ${c.name} | ${seq.exhaustive ? 'exhaustive' : 'greedy'}, ${seq.plans.length} plans | ${(seq.ms / 1000).toFixed(1)} s / ${(full.ms / 1000).toFixed(1)} s | ${seq.runs.search} / ${full.runs.search} (${(100 * share).toFixed(0)}%) | ${seq.sensitivity.runs} | ${same ? 'yes' : 'NO'} | ${share <= 0.3 && same ? 'met' : 'not met'} |`,
    );
    console.log(
      `${c.name}: chosen ${seq.chosen ? `${seq.chosen.cost} bytes` : 'none'} (sequential) / ${full.chosen ? `${full.chosen.cost} bytes` : 'none'} (full data)`,
    );
  }
  console.log(
    '\n| demo | search | planner time (sequential / full data) | search inference runs (sequential / full data) | sensitivity runs (both) | same plan | target <= 30% |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
