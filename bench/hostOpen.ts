/**
 * `npm run bench:host`: the extension host's longest event-loop block while the inspector opens a model of
 * 100,000 one-value initializers (bench/smallInputs.ts's model), read, planned, tabled and analysed as the
 * extension does (bench/hostOpenChild.ts, one child process per run). With `--baseline DIR` (a checkout of an
 * older commit, e.g. `git worktree add /tmp/base main`) the two are run interleaved, ROUNDS times each, and the
 * ratio is printed: compare within one run, this machine is shared.
 * Options: --initializers N (default 100000), --rounds N (default 3), --baseline DIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { manyInitializers } from './smallInputs';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** One open of `model` with the code of checkout `root`: longest block (ms) and seconds to the analysed table. */
function openOnce(root: string, model: string): { blockMs: number; seconds: number } {
  const child = path.join(__dirname, 'hostOpenChild.ts');
  const run = spawnSync(process.execPath, ['--import', 'tsx', child, root, model], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`the bench child failed for ${root}: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as { blockMs: number; seconds: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Opens the model interleaved with each checkout, prints each one's median and range and the ratio to the first. */
export function hostOpenBench(initializers: number, rounds: number, baseline?: string): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-bench-host-'));
  const model = path.join(dir, 'many_initializers.onnx');
  writeFileSync(model, manyInitializers(initializers));
  const roots = [...(baseline ? [['baseline', path.resolve(baseline)]] : []), ['this', path.resolve(__dirname, '..')]];
  const results = new Map<string, { blockMs: number; seconds: number }[]>(roots.map(([label]) => [label, []]));
  try {
    for (let r = 0; r < rounds; r++) for (const [label, root] of roots) results.get(label)!.push(openOnce(root, model));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\nHost event loop while opening ${initializers} initializers (longest block, median of ${rounds}, range)`,
  );
  const first = median(results.get(roots[0][0])!.map((x) => x.blockMs));
  for (const [label] of roots) {
    const runs = results.get(label)!;
    const blocks = runs.map((x) => x.blockMs);
    const ratio = label === roots[0][0] ? '' : `  ${(median(blocks) / first).toFixed(3)} x baseline`;
    console.log(
      `  ${label.padEnd(9)} ${median(blocks).toFixed(0).padStart(6)} ms  (${Math.min(...blocks).toFixed(0)}–${Math.max(...blocks).toFixed(0)})` +
        `  opened and analysed in ${median(runs.map((x) => x.seconds)).toFixed(1)} s${ratio}`,
    );
  }
}

if (require.main === module) {
  const baseline = opt('--baseline');
  hostOpenBench(Number(opt('--initializers') ?? 100_000), Number(opt('--rounds') ?? 3), baseline);
}
