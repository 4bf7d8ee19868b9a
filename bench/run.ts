/**
 * `npm run bench`: QuantLens's analysis engine, measured, next to a NumPy implementation of the same math on
 * the same data in the same run.
 *   1. Kernels, single thread, one 4096 x 4096 float32 tensor (GB/s of weights; ratio to NumPy).
 *   2. The worker pool on a generated 1 GB model (such tensors as external data): full report, 1 thread and one
 *      per core, with the extension host's path (model read in a worker) and its main-thread event-loop delay.
 *   3. A generated 3 GB external-data model inspected as the CLI does: peak resident memory (all threads)
 *      against the bound 1.5 x largest tensor + 300 MB.
 * Sections 2 and 3 run the shipped bundle (dist/benchEngine.js, built by `npm run bench`) in a child process.
 * Options: --mb N (kernel tensor, default 64), --repeats N (default 5), --pool-gb N (default 1),
 *          --big-gb N (default 3, 0 skips), --big-schemes ids (default: the 6 default schemes).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SCHEMES, parseScheme, parseSchemeList } from '../src/core/quant/schemes';
import { analyzeTensor, histogram } from '../src/core/stats/analyze';
import { DT, externalTensor, gaussian, model, node, rng, value } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const optString = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const mb = opt('--mb', 64);
const repeats = opt('--repeats', 5);
const poolGb = opt('--pool-gb', 1);
const bigGb = opt('--big-gb', 3);
const bigSchemes = optString('--big-schemes', DEFAULT_SCHEMES.join(','));
const cores = availableParallelism();
const cols = 4096;
const rows = Math.max(128, Math.round((mb * 2 ** 20) / 4 / cols / 128) * 128);
const w = gaussian(rng(1), rows * cols, 0.02);
for (let i = 0; i < w.length; i += 4099) w[i] *= 20; // outliers, as real weights have
const layout = { rows, cols, channelAxis: 1 as const };
const gb = (rows * cols * 4) / 1e9;
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-bench-'));
const fullSchemes = parseSchemeList(DEFAULT_SCHEMES.join(','));

function best(fn: () => void, n = repeats): number {
  let t = Infinity;
  for (let k = 0; k < n; k++) {
    const s = performance.now();
    fn();
    t = Math.min(t, (performance.now() - s) / 1000);
  }
  return t;
}

/** A model of `count` MatMul weights [rows, cols], all stored in one external data file (copies of `w`). */
function externalModel(name: string, count: number): string {
  const folder = path.join(dir, name);
  const file = path.join(folder, `${name}.onnx`);
  mkdirSync(folder, { recursive: true });
  const fd = openSync(path.join(folder, `${name}.bin`), 'w');
  const bytes = new Uint8Array(w.buffer);
  const inits = [];
  const nodes = [];
  for (let i = 0; i < count; i++) {
    writeSync(fd, bytes);
    inits.push(externalTensor(`w${i}`, DT.float32, [rows, cols], `${name}.bin`, i * bytes.length, bytes.length));
    nodes.push(
      node('MatMul', [i === 0 ? 'x' : `h${i}`, `w${i}`], [i === count - 1 ? 'y' : `h${i + 1}`], `/layers.${i}/MatMul`),
    );
  }
  closeSync(fd);
  writeFileSync(
    file,
    model({
      node: nodes,
      initializer: inits,
      input: [value('x', DT.float32, ['batch', rows])],
      output: [value('y', DT.float32, ['batch', cols])],
    }),
  );
  return file;
}

async function main(): Promise<void> {
  // 1. Kernels, single thread.
  const kernels: Record<string, () => void> = {
    'int8-channel': () => analyzeTensor(w, layout, [parseScheme('int8-channel')], { statistics: false }),
    'int4-block32': () => analyzeTensor(w, layout, [parseScheme('int4-block32')], { statistics: false }),
    'histogram-256': () => histogram(w, 256),
    'full-report': () => analyzeTensor(w, layout, fullSchemes),
  };
  const ours: Record<string, number> = {};
  for (const [name, fn] of Object.entries(kernels)) ours[name] = best(fn);
  const raw = path.join(dir, 'w.f32');
  writeFileSync(raw, new Uint8Array(w.buffer));
  const py = spawnSync(
    'python3',
    [path.join(__dirname, 'numpyReference.py'), raw, String(rows), String(cols), String(repeats)],
    { encoding: 'utf8' },
  );
  rmSync(raw);
  const numpy: Record<string, number> | undefined = py.status === 0 ? JSON.parse(py.stdout) : undefined;
  if (!numpy) console.error(`NumPy reference did not run (python3 with numpy needed): ${py.stderr || py.error}`);

  console.log(
    `\n1. Kernels, single thread, ${rows} x ${cols} float32 (${(gb * 1000).toFixed(0)} MB), best of ${repeats}`,
  );
  console.log('kernel           QuantLens GB/s   NumPy GB/s   ratio');
  for (const name of Object.keys(kernels)) {
    const q = gb / ours[name];
    const n = numpy ? gb / numpy[name] : NaN;
    console.log(
      `${name.padEnd(16)} ${q.toFixed(3).padStart(14)} ${n.toFixed(3).padStart(12)} ${(q / n).toFixed(2).padStart(7)}x`,
    );
  }
  console.log(
    '(int8-channel, int4-block32: scales + error metrics + per-cell SQNR. histogram-256: range + 256 bins. full-report: stats +',
  );
  console.log(
    ' 256-bin histogram + fp16, fp8-e4m3, int8-channel, int8-tensor, int4-block32, int4-block128; NumPy does fp16 in place of fp8.)',
  );

  // 2. The pool on a 1 GB model, with the extension's path: read + plan in a worker, analysis in the pool.
  const count = Math.max(1, Math.round((poolGb * 1e9) / (rows * cols * 4)));
  const poolModel = externalModel('pool', count);
  const modelGb = (count * rows * cols * 4) / 1e9;
  const ids = fullSchemes.map((s) => s.id);
  const timings: Record<number, number> = {};
  let maxDelay = 0;
  const engine = path.join(__dirname, '..', 'dist', 'benchEngine.js');
  for (const threads of [...new Set([1, cores])]) {
    const child = spawnSync(process.execPath, [engine, 'pool', poolModel, String(threads), ids.join(',')], {
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`pool run failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout) as { seconds: number; maxDelayMs: number };
    timings[threads] = r.seconds;
    maxDelay = Math.max(maxDelay, r.maxDelayMs);
  }
  const numpyFull = numpy ? gb / numpy['full-report'] : NaN;
  console.log(
    `\n2. Full report (stats + histogram + 6 schemes) of a ${modelGb.toFixed(2)} GB model (${count} x ${rows} x ${cols} float32, external data), read from disk`,
  );
  console.log('threads   seconds   GB/s    GB/s per thread vs NumPy single thread');
  for (const [threads, s] of Object.entries(timings)) {
    const rate = modelGb / s;
    console.log(
      `${threads.padStart(7)} ${s.toFixed(2).padStart(9)} ${rate.toFixed(3).padStart(7)}    ${(rate / Number(threads) / numpyFull).toFixed(2)}x`,
    );
  }
  console.log(`main-thread event loop, max delay during analysis: ${maxDelay.toFixed(1)} ms (bound: 50 ms)`);
  rmSync(path.dirname(poolModel), { recursive: true, force: true });

  // 3. A 3 GB external-data model: peak resident memory of a whole inspect run.
  if (bigGb > 0) {
    const bigCount = Math.max(1, Math.round((bigGb * 1e9) / (rows * cols * 4)));
    const bigModel = externalModel('big', bigCount);
    const largest = rows * cols * 4;
    const child = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', 'dist', 'benchEngine.js'), 'inspect', bigModel, bigSchemes],
      { encoding: 'utf8' },
    );
    rmSync(path.dirname(bigModel), { recursive: true, force: true });
    if (child.status !== 0) {
      console.error(`3 GB run failed: ${child.stderr}`);
      process.exitCode = 1;
    } else {
      const m = JSON.parse(child.stdout) as { maxRssBytes: number; seconds: number; weights: number; threads: number };
      const bound = 1.5 * largest + 300e6;
      console.log(
        `\n3. ${((bigCount * largest) / 1e9).toFixed(2)} GB external-data model (${m.weights} weights of ${(largest / 1e6).toFixed(0)} MB), inspect --schemes ${bigSchemes}, ${m.threads} threads`,
      );
      console.log(
        `peak RSS ${(m.maxRssBytes / 1e6).toFixed(0)} MB; bound 1.5 x largest tensor + 300 MB = ${(bound / 1e6).toFixed(0)} MB: ${m.maxRssBytes <= bound ? 'within' : 'EXCEEDED'}; ${m.seconds.toFixed(1)} s`,
      );
      if (m.maxRssBytes > bound) process.exitCode = 1;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

void main();
