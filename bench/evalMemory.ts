/**
 * `npm run bench` (third part) / `npx tsx bench/evalMemory.ts`: peak memory and time of an evaluation against the
 * number of variants. A generated model of L chained D x D float32 MatMuls, evaluated with 1, 3 and 5 scheme
 * variants (no sweep, no sensitivity), each in a fresh process so its peak resident memory
 * (process.resourceUsage().maxRSS) is its own. The bound: about 2x the model's float weights plus onnxruntime's.
 * Options: --layers L (default 6), --dim D (default 2048), --samples N (default 64),
 *          --engine <path of evaluate.ts> (another checkout's engine, for a before/after comparison).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { evaluate as Evaluate } from '../src/node/eval/evaluate';
import { npy } from '../test/fixtures/npy';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const VARIANTS = ['int8-channel', 'int4-block32', 'fp16', 'int4-channel', 'int8-tensor'];

/** In the child: runs one evaluation and prints its peak RSS and time as JSON. */
async function child(engine: string, spec: string): Promise<void> {
  const { evaluate } = (await import(engine)) as { evaluate: typeof Evaluate };
  const t = performance.now();
  const results = await evaluate(spec, { scoringWorker: false });
  const ms = performance.now() - t;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ maxRssMb, ms, runs: results.timings.runs, variants: results.variants.length - 1 }));
}

/** Writes the model, its data and one spec per variant count; returns the specs. */
function generate(dir: string, layers: number, dim: number, samples: number): Map<number, string> {
  const r = rng(7);
  const weights = Array.from({ length: layers }, (_, k) =>
    floatTensor(`w${k}`, [dim, dim], gaussian(r, dim * dim, 1 / Math.sqrt(dim))),
  );
  const nodes = weights.map((w, k) =>
    node('MatMul', [k === 0 ? 'x' : `h${k}`, w.name!], [k === layers - 1 ? 'y' : `h${k + 1}`], `/l${k}/MatMul`),
  );
  writeFileSync(
    path.join(dir, 'chain.onnx'),
    model({
      name: 'chain',
      node: nodes,
      initializer: weights,
      input: [value('x', DT.float32, ['batch', dim])],
      output: [value('y', DT.float32, ['batch', dim])],
    }),
  );
  writeFileSync(path.join(dir, 'x.npy'), npy('<f4', [samples, dim], gaussian(r, samples * dim, 1)));
  const specs = new Map<number, string>();
  for (const n of [1, 3, 5]) {
    const file = path.join(dir, `v${n}.quantlens.json`);
    const body = {
      model: 'chain.onnx',
      task: 'outputs',
      data: { path: 'x.npy', as: 'x' },
      variants: VARIANTS.slice(0, n),
      sweep: false,
      sensitivity: false,
      batchSize: 16,
    };
    writeFileSync(file, JSON.stringify(body, null, 2));
    specs.set(n, file);
  }
  return specs;
}

function main(): void {
  const layers = Number(opt('--layers', '6'));
  const dim = Number(opt('--dim', '2048'));
  const samples = Number(opt('--samples', '64'));
  const engine = path.resolve(opt('--engine', path.join(__dirname, '..', 'src', 'node', 'eval', 'evaluate.ts')));
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-bench-evalmem-'));
  try {
    const specs = generate(dir, layers, dim, samples);
    const floatMb = (layers * dim * dim * 4) / 2 ** 20;
    console.log(
      `\nEvaluation memory against the number of variants: ${layers} x ${dim} x ${dim} MatMul (${floatMb.toFixed(0)} MB of float32 weights), ${samples} samples`,
    );
    console.log(`engine: ${path.relative(process.cwd(), engine) || engine}\n`);
    const rows = [['variants', 'runs', 'peak RSS (MB)', 'peak RSS / weights', 'time (s)']];
    for (const [n, spec] of specs) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', engine, spec], {
        encoding: 'utf8',
      });
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || !line.startsWith('{')) throw new Error(`child failed (${run.status}): ${run.stderr}`);
      const m = JSON.parse(line) as { maxRssMb: number; ms: number; runs: number };
      rows.push([
        String(n),
        String(m.runs),
        m.maxRssMb.toFixed(0),
        (m.maxRssMb / floatMb).toFixed(2),
        (m.ms / 1000).toFixed(2),
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((cell, i) => cell.padStart(widths[i])).join('  '));
    console.log(
      '\nPeak RSS of a fresh process per row (the model file, its float32 weights, the weight cache, onnxruntime).',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--child') void child(args[1], args[2]);
else main();
