/**
 * `npm run bench`: analysis kernel throughput (GB/s of float32 weights, single thread) next to a NumPy
 * implementation of the same math on the same tensor in the same run, as ratios.
 * Options: --mb N (tensor size, default 64), --repeats N (default 5).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SCHEMES, parseScheme, parseSchemeList } from '../src/core/quant/schemes';
import { analyzeTensor } from '../src/core/stats/analyze';
import { gaussian, rng } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const mb = opt('--mb', 64);
const repeats = opt('--repeats', 5);
const cols = 4096;
const rows = Math.max(128, Math.round((mb * 2 ** 20) / 4 / cols / 128) * 128);
const w = gaussian(rng(1), rows * cols, 0.02);
for (let i = 0; i < w.length; i += 4099) w[i] *= 20; // outliers, as real weights have
const layout = { rows, cols, channelAxis: 1 as const };
const gb = (rows * cols * 4) / 1e9;

const kernels: Record<string, () => void> = {
  'int8-channel': () => analyzeTensor(w, layout, [parseScheme('int8-channel')]),
  'int4-block32': () => analyzeTensor(w, layout, [parseScheme('int4-block32')]),
  'stats+histogram': () => analyzeTensor(w, layout, []),
  'full-report': () => analyzeTensor(w, layout, parseSchemeList(DEFAULT_SCHEMES.join(','))),
};
const ours: Record<string, number> = {};
for (const [name, fn] of Object.entries(kernels)) {
  let best = Infinity;
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  ours[name] = best;
}

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-bench-'));
const raw = path.join(dir, 'w.f32');
writeFileSync(raw, new Uint8Array(w.buffer));
const py = spawnSync('python3', [path.join(__dirname, 'numpyReference.py'), raw, String(rows), String(cols), String(repeats)], { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });
const numpy: Record<string, number> | undefined = py.status === 0 ? JSON.parse(py.stdout) : undefined;
if (!numpy) {
  console.error(`NumPy reference did not run (python3 with numpy needed): ${py.stderr || py.error}`);
}

console.log(`\nQuantLens analysis kernels, single thread, ${rows} x ${cols} float32 (${(gb * 1000).toFixed(0)} MB), best of ${repeats}`);
console.log('kernel           QuantLens GB/s   NumPy GB/s   ratio');
for (const name of Object.keys(kernels)) {
  const q = gb / ours[name];
  const n = numpy ? gb / numpy[name] : NaN;
  console.log(`${name.padEnd(16)} ${q.toFixed(3).padStart(14)} ${n.toFixed(3).padStart(12)} ${(q / n).toFixed(2).padStart(7)}x`);
}
console.log('(stats+histogram: min/max/mean/std/kurtosis/absmax + 256 bins. full-report: stats + 256-bin histogram + fp16, fp8-e4m3, int8-channel, int8-tensor, int4-block32, int4-block128;');
console.log(' NumPy stands in fp16 for fp8, which it lacks. Worker-pool figures come with the analysis pool.)');
