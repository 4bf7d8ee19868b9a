/**
 * `npm run bench` (export part) / `npx tsx bench/exportLarge.ts`: export speed and peak memory on a model over 1 GB
 * stored with external data. The model (L chained D x D float32 MatMuls, weights in `chain.data`) is generated here
 * into a temporary folder, never committed; each scheme is exported in a fresh process so that its peak resident
 * memory (process.resourceUsage().maxRSS) is its own, next to the baseline of a process that only loaded the
 * exporter. The claim checked: peak memory is bounded by the largest tensor (a few copies of it), not the model.
 * Options: --layers L (default 17), --dim D (default 4096: 64 MiB per weight, 1.06 GiB in all),
 *          --schemes a,b (default int8-channel,int4-block32), --keep (leave the folder).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bytesText } from '../src/core/bytes';
import { DT, externalTensor, model, node, value } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

/** In the child: one export (or only the imports, for the baseline); prints its time and peak RSS as JSON. */
async function child(modelPath: string, scheme: string): Promise<void> {
  const { exportModel } = await import('../src/node/export/exportModel');
  if (scheme === 'baseline') {
    console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
    return;
  }
  const t = performance.now();
  const result = await exportModel(modelPath, { scheme, version: 'bench', force: true });
  const ms = performance.now() - t;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ ms, maxRssBytes, outputBytes: result.outputBytes }));
}

/** Writes the model and its external data one weight at a time (deterministic values); returns its byte counts. */
function generate(dir: string, layers: number, dim: number): { model: string; dataBytes: number; tensorBytes: number } {
  const tensorBytes = dim * dim * 4;
  const fd = openSync(path.join(dir, 'chain.data'), 'w');
  const values = new Float32Array(dim * dim);
  let s = 0x9e3779b9;
  const std = 1 / Math.sqrt(dim);
  try {
    for (let k = 0; k < layers; k++) {
      for (let i = 0; i < values.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        values[i] = ((s >>> 0) / 4294967296 - 0.5) * 3.4 * std;
      }
      writeSync(fd, new Uint8Array(values.buffer));
    }
  } finally {
    closeSync(fd);
  }
  const weights = Array.from({ length: layers }, (_, k) =>
    externalTensor(`w${k}`, DT.float32, [dim, dim], 'chain.data', k * tensorBytes, tensorBytes),
  );
  const nodes = weights.map((w, k) =>
    node('MatMul', [k === 0 ? 'x' : `h${k}`, w.name!], [k === layers - 1 ? 'y' : `h${k + 1}`], `/l${k}/MatMul`),
  );
  const file = path.join(dir, 'chain.onnx');
  writeFileSync(
    file,
    model({
      name: 'chain',
      node: nodes,
      initializer: weights,
      input: [value('x', DT.float32, [1, dim])],
      output: [value('y', DT.float32, [1, dim])],
    }),
  );
  return { model: file, dataBytes: layers * tensorBytes, tensorBytes };
}

function runChild(modelPath: string, scheme: string): { ms?: number; maxRssBytes: number; outputBytes?: number } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', modelPath, scheme], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`export ${scheme} failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { ms?: number; maxRssBytes: number; outputBytes?: number };
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(args[1], args[2]);
  const layers = Number(opt('--layers', '17'));
  const dim = Number(opt('--dim', '4096'));
  const schemes = opt('--schemes', 'int8-channel,int4-block32').split(',');
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-export-bench-'));
  try {
    const t = performance.now();
    const g = generate(dir, layers, dim);
    const modelBytes = statSync(g.model).size + g.dataBytes;
    console.log(
      `Export of a ${bytesText(modelBytes)} model (${layers} x ${dim} x ${dim} float32 MatMul weights, ${bytesText(g.tensorBytes)} each, external data), generated in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const base = runChild(g.model, 'baseline').maxRssBytes;
    console.log(`baseline (a process that loaded the exporter): peak RSS ${bytesText(base)}`);
    for (const scheme of schemes) {
      const r = runChild(g.model, scheme);
      const ms = r.ms ?? 0;
      const over = r.maxRssBytes - base;
      console.log(
        `${scheme.padEnd(14)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${((modelBytes / 2 ** 20 / ms) * 1000).toFixed(1).padStart(6)} MiB/s  ` +
          `output ${bytesText(r.outputBytes ?? 0)}  peak RSS ${bytesText(r.maxRssBytes)} (${bytesText(over)} over the baseline: ` +
          `${(over / modelBytes).toFixed(3)} x the model, ${(over / g.tensorBytes).toFixed(2)} x the largest tensor)`,
      );
      rmSync(path.join(dir, `chain.${scheme}.onnx`), { force: true });
      rmSync(path.join(dir, `chain.${scheme}.onnx.data`), { force: true });
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
