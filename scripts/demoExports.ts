/**
 * The demos' exported models, made at `npm start` (never committed): the MNIST classifier and the character GPT
 * exported at int8 per channel (DequantizeLinear) and int4 blocks of 32 (MatMulNBits; the GPT's token embedding
 * GatherBlockQuantized) by the built CLI, each verified in onnxruntime, then each demo's `shipped.quantlens.json`
 * evaluated once (the exports on onnxruntime's kernels next to their
 * simulations, with latency and memory against fp32, measured on this machine), so that the results view shows the
 * export rows and their cost from the first start. Skipped when the files are there already.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** The schemes the demo exports (the shipped spec lists their exports). */
export const DEMO_EXPORT_SCHEMES = ['int8-channel', 'int4-block32'];

const newer = (a: string, b: string): boolean =>
  existsSync(a) && (!existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs);

function cli(root: string, args: string[]): number {
  const run = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return run.status ?? 4;
}

/** The demos with a shipped spec: their folder and model. */
const DEMOS = [
  { folder: 'mnist', model: 'mnist_mlp.onnx' },
  { folder: 'lm', model: 'char_gpt.onnx' },
];

/** Exports one demo's model and evaluates its shipped spec where missing or out of date; returns what it made. */
function prepareDemo(root: string, dir: string, model: string): string[] {
  const source = path.join(dir, model);
  const spec = path.join(dir, 'shipped.quantlens.json');
  if (!existsSync(source) || !existsSync(spec)) return [];
  const made: string[] = [];
  for (const scheme of DEMO_EXPORT_SCHEMES) {
    const out = path.join(dir, `${model.replace(/\.onnx$/, '')}.${scheme}.onnx`);
    if (!newer(source, out) && existsSync(out)) continue;
    console.log(`[demo] exporting ${path.relative(root, source)} at ${scheme} (verified in onnxruntime)`);
    const code = cli(root, ['export', source, '--scheme', scheme]);
    if (code !== 0) throw new Error(`quantlens export --scheme ${scheme} failed (exit ${code})`);
    made.push(out);
  }
  const results = path.join(dir, 'shipped.results.json');
  if (made.length > 0 || newer(spec, results) || !existsSync(results)) {
    console.log(`[demo] evaluating ${path.relative(root, spec)}: the exports next to their simulations, with latency`);
    // 0: budget met, 1: budget broken; both wrote the results.
    const code = cli(root, ['eval', spec]);
    if (code > 1) throw new Error(`quantlens eval ${spec} failed (exit ${code})`);
    made.push(results);
  }
  return made;
}

/** Exports the demos' models and evaluates their shipped specs where missing or out of date; returns what it made. */
export function prepareDemoExports(root: string, demo: string): string[] {
  return DEMOS.flatMap((d) => prepareDemo(root, path.join(demo, d.folder), d.model));
}
