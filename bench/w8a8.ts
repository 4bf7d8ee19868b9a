/**
 * `npm run bench` (part) / `npm run bench:w8a8`: static W8A8 on the demo CNN (demo/mnist/mnist_cnn.onnx, real
 * held-out digits), all in one run:
 * - calibration time per 1,000 samples (minmax over the activation sites, batches of 32);
 * - evaluation overhead of a w8a8 variant over a weight-only int8-channel one (the demo spec run with each
 *   variant alone, no cost measurement; ratio of wall times);
 * - latency of the exported w8a8 model (onnxruntime's QDQ format, fused into QLinearConv at default
 *   optimization) and of the int8-channel weight-only export against fp32 at batch 1 and 32, each model in a
 *   fresh process, A B A B (the cost measurement of `quantlens bench` and `eval`).
 * For contrast, the same latency comparison on a wider synthetic conv net (WIDE channels, 3x3, 28x28: where
 * integer kernels have enough work per call), calibrated on 256 demo digits.
 * Options: --runs N (default 50), --seconds T (1), --rounds N (3), --repeats N (3, calibration and evaluation),
 * --wide N (channels of the wide net, default 64; 0: skip it).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { costTable, ratioText } from '../src/core/cost/costFormat';
import { median } from '../src/core/cost/costStats';
import { measureCosts } from '../src/node/cost/costRun';
import { fileSessionOptions } from '../src/node/eval/fileVariant';
import { evaluate } from '../src/node/eval/evaluate';
import { calibrateMinMax, type Calibrated } from '../src/node/export/exportCalibration';
import { DT, floatTensor, gaussian, model as onnxModel, node, rng, value } from '../test/fixtures/onnxBuilder';
import { exportModel } from '../src/node/export/exportModel';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROOT = path.join(__dirname, '..');
const DEMO = path.join(ROOT, 'demo', 'mnist');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-w8a8-'));
const BATCH = 32;

/** The held-out digits (IDX, uint8 [n, 28, 28]) as pixels 0..1. */
function digits(): { n: number; pixels: Float32Array } {
  const bytes = gunzipSync(readFileSync(path.join(DEMO, 'images.idx.gz')));
  const n = bytes.readUInt32BE(4);
  return { n, pixels: Float32Array.from(bytes.subarray(16), (v) => v / 255) };
}

function* batches(
  pixels: Float32Array,
  samples: number,
): Generator<{ feeds: Record<string, ort.Tensor>; rows: number }> {
  for (let start = 0; start < samples; start += BATCH) {
    const rows = Math.min(BATCH, samples - start);
    const data = pixels.slice(start * 784, (start + rows) * 784);
    yield { feeds: { image: new ort.Tensor('float32', data, [rows, 1, 28, 28]) }, rows };
  }
}

async function calibration(model: string, repeats: number): Promise<{ calibrated: Calibrated; msPer1000: number }> {
  const { pixels } = digits();
  const bytes = readFileSync(model);
  const times: number[] = [];
  let calibrated: Calibrated | undefined;
  for (let r = 0; r < repeats; r++) {
    calibrated = await calibrateMinMax(bytes, batches(pixels, 1000), { bits: 8, signed: false });
    times.push((calibrated.ms * 1000) / calibrated.samples);
  }
  return { calibrated: calibrated!, msPer1000: median(times) };
}

/** Wall time of the demo spec evaluated with one variant (no cost measurement), median over repeats. */
async function evaluationMs(variant: string, repeats: number): Promise<number> {
  const spec = JSON.parse(readFileSync(path.join(DEMO, 'cnn.quantlens.json'), 'utf8')) as Record<string, unknown>;
  spec.variants = [variant];
  delete spec.latency;
  const file = path.join(DEMO, `.bench-${variant}.quantlens.json`);
  writeFileSync(file, JSON.stringify(spec));
  try {
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await evaluate(file, { version: 'bench', latency: false });
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    rmSync(file, { force: true });
  }
}

async function overhead(repeats: number): Promise<string> {
  try {
    const [weightOnly, w8a8] = [await evaluationMs('int8-channel', repeats), await evaluationMs('w8a8', repeats)];
    return `evaluation of the demo spec: int8-channel ${Math.round(weightOnly)} ms, w8a8 ${Math.round(w8a8)} ms: w8a8 / weight-only x${(w8a8 / weightOnly).toFixed(2)}`;
  } catch (error) {
    return `evaluation overhead not measured: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

/** Conv(1->W) - Relu - 3 x [Conv(W->W) - Relu] - MaxPool - Flatten - Gemm(->10), random weights (seeded). */
function wideNet(file: string, wide: number): void {
  const random = rng(5);
  const nodes = [];
  const inits = [];
  let x = 'image';
  for (let i = 0; i < 4; i++) {
    const cin = i === 0 ? 1 : wide;
    inits.push(
      floatTensor(`conv${i}.weight`, [wide, cin, 3, 3], gaussian(random, wide * cin * 9, Math.sqrt(2 / (cin * 9)))),
    );
    inits.push(floatTensor(`conv${i}.bias`, [wide], gaussian(random, wide, 0.01)));
    nodes.push(
      node('Conv', [x, `conv${i}.weight`, `conv${i}.bias`], [`c${i}`], `/conv${i}/Conv`, { pads: [1, 1, 1, 1] }),
    );
    nodes.push(node('Relu', [`c${i}`], [`r${i}`], `/Relu_${i}`));
    x = `r${i}`;
  }
  nodes.push(node('MaxPool', [x], ['m'], '/MaxPool', { kernel_shape: [4, 4], strides: [4, 4] }));
  nodes.push(node('Flatten', ['m'], ['f'], '/Flatten', { axis: 1 }));
  const features = wide * 7 * 7;
  inits.push(floatTensor('fc.weight', [10, features], gaussian(random, 10 * features, Math.sqrt(1 / features))));
  inits.push(floatTensor('fc.bias', [10], new Float32Array(10)));
  nodes.push(
    node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['logits'], '/fc/Gemm', { transB: 1 }, '', { alpha: 1, beta: 1 }),
  );
  const graph = {
    name: 'wide_cnn',
    node: nodes,
    initializer: inits,
    input: [value('image', DT.float32, ['batch', 1, 28, 28])],
    output: [value('logits', DT.float32, ['batch', 10])],
  };
  writeFileSync(file, onnxModel(graph));
}

/** Latency of fp32 and its w8a8 export (calibrated on 256 digits) at batch 1 and 32; the ratio lines. */
async function latencyRatios(
  label: string,
  fp32: string,
  extra: { id: string; model: string }[],
  settings: { batchSizes: number[]; runs: number; seconds: number; rounds: number; warmup: number },
): Promise<void> {
  const targets = [{ id: 'fp32', model: fp32 }, ...extra].map((t) => ({
    ...t,
    sessionOptions: fileSessionOptions(undefined),
  }));
  const costs = await measureCosts(targets, settings, { onProgress: (_d, _t, m) => process.stderr.write(`  ${m}\n`) });
  console.log(`\n${label}`);
  console.log(costTable(targets.map((t) => ({ name: t.id, cost: costs.get(t.id)! }))));
  for (const t of targets.slice(1)) {
    const r = costs.get(t.id)!.ratioToFp32!.latency;
    console.log(
      `${t.id}: p50 latency / fp32 at batch 1 ${ratioText(r['1']?.p50Ms)}, at batch 32 ${ratioText(r['32']?.p50Ms)}`,
    );
  }
}

async function exportW8a8(model: string, samples: number): Promise<string> {
  const { pixels } = digits();
  const c = await calibrateMinMax(readFileSync(model), batches(pixels, samples), { bits: 8, signed: false });
  const activations = c.quant.map((q, i) => ({ ...q, consumers: c.sites[i].consumers }));
  return (await exportModel(model, { scheme: 'w8a8', activations, version: 'bench', force: true })).output;
}

async function main(): Promise<void> {
  const repeats = opt('--repeats', 3);
  const model = path.join(dir, 'mnist_cnn.onnx');
  copyFileSync(path.join(DEMO, 'mnist_cnn.onnx'), model);
  const { calibrated, msPer1000 } = await calibration(model, repeats);
  console.log(
    `Calibration (minmax, ${calibrated.sites.length} activations, batches of ${BATCH}): ${msPer1000.toFixed(1)} ms per 1,000 samples`,
  );
  const activations = calibrated.quant.map((q, i) => ({ ...q, consumers: calibrated.sites[i].consumers }));
  const w8a8 = await exportModel(model, { scheme: 'w8a8', activations, version: 'bench', force: true });
  const int8 = await exportModel(model, { scheme: 'int8-channel', version: 'bench', force: true });
  console.log(`Exported: ${path.basename(w8a8.output)} (Relus folded: ${w8a8.activations?.foldedRelus.join(', ')})`);
  const settings = {
    batchSizes: [1, 32],
    runs: opt('--runs', 50),
    seconds: opt('--seconds', 1),
    rounds: opt('--rounds', 3),
    warmup: 10,
  };
  await latencyRatios(
    'Demo CNN (mnist_cnn.onnx, 27.5k parameters):',
    model,
    [
      { id: 'int8-channel export (weight-only)', model: int8.output },
      { id: 'w8a8 export (static QDQ)', model: w8a8.output },
    ],
    settings,
  );
  const wide = opt('--wide', 64);
  if (wide > 0) {
    const file = path.join(dir, `wide_cnn_${wide}.onnx`);
    wideNet(file, wide);
    const exported = await exportW8a8(file, 256);
    await latencyRatios(
      `Wider conv net (${wide} channels, 4 convs 3x3 at 28x28, random weights):`,
      file,
      [{ id: 'w8a8 export (static QDQ)', model: exported }],
      settings,
    );
  }
  console.log(await overhead(repeats));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
