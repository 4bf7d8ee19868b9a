/**
 * `npm run bench` (part 4): models that are small on disk but large in count, inspected by the CLI as a user
 * runs it (`quantlens inspect --json`): wall and CPU time and peak resident memory (all threads).
 *   - 100k initializers (2.1 MB): 100,000 one-value float weights, one Identity reading the first.
 *   - 1M nodes (37 MB): a chain of 1,000,000 Relu nodes after one MatMul with a 64 x 64 weight.
 * Options: --initializers N (default 100000), --nodes N (default 1000000), --keep DIR (write the models there).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** `count` initializers of one float each; only the first is read (the hazard test's model). */
export function manyInitializers(count: number): Uint8Array {
  const initializer = Array.from({ length: count }, (_, i) => ({
    name: `w${i}`,
    dataType: DT.float32,
    dims: [1],
    floatData: [i],
  }));
  return model({ node: [node('Identity', ['w0'], ['y'], 'id')], initializer, output: [value('y', DT.float32, [1])] });
}

/** One MatMul (weight 64 x 64), then a chain of `count` Relu nodes. */
export function manyNodes(count: number): Uint8Array {
  const nodes = [node('MatMul', ['x', 'w'], ['t0'], 'mm')];
  for (let i = 0; i < count; i++) nodes.push(node('Relu', [`t${i}`], [`t${i + 1}`], `n${i}`));
  return model({
    node: nodes,
    initializer: [floatTensor('w', [64, 64], gaussian(rng(7), 64 * 64, 0.05))],
    input: [value('x', DT.float32, [1, 64])],
    output: [value(`t${count}`, DT.float32, [1, 64])],
  });
}

/** Runs `quantlens inspect --json` on `file`: wall and CPU seconds (all threads), peak RSS in MB, exit code. */
function inspect(file: string): { seconds: number; cpu: number; rssMb: number; status: number | null } {
  const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
  const run = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, 'inspect', '--json', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const [wall, user, sys, kb] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: wall, cpu: user + sys, rssMb: kb / 1024, status: run.status };
}

function main(): void {
  const keep = opt('--keep');
  const dir = keep ?? mkdtempSync(path.join(tmpdir(), 'quantlens-bench-small-'));
  mkdirSync(dir, { recursive: true });
  const initializers = Number(opt('--initializers') ?? 100_000);
  const nodes = Number(opt('--nodes') ?? 1_000_000);
  console.log('\nSmall files, large counts: quantlens inspect --json (wall time, peak RSS)');
  try {
    for (const [label, name, make] of [
      [`${initializers} initializers`, 'many_initializers.onnx', () => manyInitializers(initializers)],
      [`${nodes} nodes`, 'many_nodes.onnx', () => manyNodes(nodes)],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, make());
      const mb = statSync(file).size / 1e6;
      const r = inspect(file);
      const ok = r.status === 0 ? '' : `  (exit ${r.status})`;
      console.log(
        `  ${label.padEnd(22)} ${mb.toFixed(1).padStart(6)} MB file  ${r.seconds.toFixed(1).padStart(6)} s wall  ` +
          `${r.cpu.toFixed(1).padStart(6)} s CPU  ${r.rssMb.toFixed(0).padStart(5)} MB peak RSS${ok}`,
      );
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
