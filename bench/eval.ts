/**
 * `npm run bench` (second part) / `npm run bench:eval`: the slice evaluation harness against raw onnxruntime.
 * For each demo spec: a full evaluation (variants, sweep, one-at-a-time and leave-one-out sensitivity) timed
 * end to end, and the same number of inference runs of the same batch shapes on the original model in a
 * plain onnxruntime loop (no data reading, no weight swapping, no scoring). Overhead = harness / raw - 1.
 * Options: --repeats N (default 3).
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { evaluate } from '../src/node/eval/evaluate';

const args = process.argv.slice(2);
const repeats = Number(args[args.indexOf('--repeats') + 1] || 3) || 3;
const ROOT = path.join(__dirname, '..');

interface Case {
  name: string;
  spec: string;
  model: string;
  input: string;
  batch: number;
  make: (rows: number) => ort.Tensor;
  threads?: number;
}

const cases: Case[] = [
  {
    name: 'MNIST MLP (1,996 digits)',
    spec: 'demo/mnist/mnist.quantlens.json',
    model: 'demo/mnist/mnist_mlp.onnx',
    input: 'image',
    batch: 64,
    make: (rows) =>
      new ort.Tensor(
        'float32',
        Float32Array.from({ length: rows * 784 }, (_, i) => ((i * 2654435761) % 256) / 255),
        [rows, 1, 28, 28],
      ),
  },
  {
    name: 'char GPT (267 windows of 64 tokens)',
    spec: 'demo/lm/char_gpt.quantlens.json',
    model: 'demo/lm/char_gpt.onnx',
    input: 'tokens',
    batch: 32,
    make: (rows) =>
      new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: rows * 64 }, (_, i) => BigInt((i * 7919) % 83)),
        [rows, 64],
      ),
  },
  {
    // onnxruntime on one of the two cores, raw and in the harness alike: a core left free, as onnxruntime's
    // default (physical cores) leaves the SMT siblings of a larger machine, and the harness scores there.
    name: 'char GPT, onnxruntime on 1 thread',
    spec: 'demo/lm/char_gpt.quantlens.json',
    model: 'demo/lm/char_gpt.onnx',
    input: 'tokens',
    batch: 32,
    threads: 1,
    make: (rows) =>
      new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: rows * 64 }, (_, i) => BigInt((i * 7919) % 83)),
        [rows, 64],
      ),
  },
];

async function raw(c: Case, samples: number, runsPerBatch: number): Promise<number> {
  const session = await ort.InferenceSession.create(path.join(ROOT, c.model), {
    graphOptimizationLevel: 'all',
    ...(c.threads ? { intraOpNumThreads: c.threads } : {}),
  });
  const batches: ort.Tensor[] = [];
  for (let start = 0; start < samples; start += c.batch) batches.push(c.make(Math.min(c.batch, samples - start)));
  await session.run({ [c.input]: batches[0] }); // warm-up, as the harness's first run is
  const t = performance.now();
  for (const feed of batches) for (let k = 0; k < runsPerBatch; k++) await session.run({ [c.input]: feed });
  const ms = performance.now() - t;
  await session.release();
  return ms;
}

async function main(): Promise<void> {
  console.log(`\nSlice evaluation harness vs raw onnxruntime ${ort.env.versions.common} (best of ${repeats})\n`);
  const rows: string[][] = [
    [
      'spec',
      'runs',
      'evaluation (s)',
      'raw ORT (s)',
      'overhead',
      'prepare (s)',
      'run phase overhead',
      'ORT in harness (s)',
      'scoring (s)',
      'scored on',
    ],
  ];
  for (const c of cases) {
    let best = Infinity;
    let timings: Awaited<ReturnType<typeof evaluate>>['timings'] | undefined;
    let rawBest = Infinity;
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      const results = await evaluate(path.join(ROOT, c.spec), { threads: c.threads });
      const ms = performance.now() - t;
      if (ms < best) {
        best = ms;
        timings = results.timings;
      }
      const batches = Math.ceil(results.timings.samplesPerRun / c.batch);
      rawBest = Math.min(rawBest, await raw(c, results.timings.samplesPerRun, results.timings.runs / batches));
    }
    const t = timings!;
    rows.push([
      c.name,
      String(t.runs),
      (best / 1000).toFixed(2),
      (rawBest / 1000).toFixed(2),
      `${((best / rawBest - 1) * 100).toFixed(1)}%`,
      (t.prepareMs / 1000).toFixed(2),
      `${(((best - t.prepareMs) / rawBest - 1) * 100).toFixed(1)}%`,
      (t.inferenceMs / 1000).toFixed(2),
      (t.scoringMs / 1000).toFixed(2),
      t.scoringInWorker ? 'worker' : 'main thread',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  console.log(
    '\nOverhead: the whole evaluation (spec and data checks, weight variants, scoring every sample into every slice) over the same inference runs alone.',
  );
  console.log(
    'Run phase overhead: the same without "prepare" (reading and checking the spec, model and data, creating the session).',
  );
  console.log(
    'ORT in harness: time inside session.run during the evaluation (weights fed as inputs), against raw ORT on the original model.',
  );
  console.log(
    'Scored on: a worker thread when onnxruntime leaves a core free (there, scoring time overlaps inference), else the main thread between runs.',
  );
  console.log('This VM is shared: figures move by 10-50% between runs; compare the ratios of one run.');
}

void main();
