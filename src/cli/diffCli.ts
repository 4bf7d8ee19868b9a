/** `quantlens diff ORIGINAL QUANTIZED [--json]`: per weight the SQNR of the quantized model's weight against the original's. */
import type { Command } from 'commander';
import { ModelError } from '../core/onnx/errors';
import { finiteReplacer } from '../core/eval/results';
import { diffModels, type ModelDiff } from '../node/export/diffModels';

/** The table a person reads. */
export function diffSummary(d: ModelDiff): string {
  const lines = [`Weights of ${d.quantized} against ${d.original}:`];
  for (const w of d.weights) {
    const sqnr = w.exact ? 'exact' : `${w.sqnrDb.toFixed(1)} dB`;
    lines.push(
      `  ${w.layer ?? w.name} (${w.name}${w.quantizedName !== w.name ? ` -> ${w.quantizedName}` : ''}): ${sqnr}, max |error| ${w.maxAbsError.toPrecision(3)}; ${w.format}`,
    );
  }
  if (d.onlyInOriginal.length)
    lines.push('Only in the original:', ...d.onlyInOriginal.map((w) => `  ${w.name} (${w.format})`));
  if (d.onlyInQuantized.length)
    lines.push('Only in the quantized model:', ...d.onlyInQuantized.map((w) => `  ${w.name} (${w.format})`));
  return `${lines.join('\n')}\n`;
}

/** Adds `diff` to the program; `setExit` receives its exit code. */
export function addDiffCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('diff')
    .description(
      "per weight the SQNR of a quantized model's (dequantized) weights against the fp32 original; weights matched by name or by their layer",
    )
    .argument('<original>', 'the fp32 .onnx model')
    .argument('<quantized>', 'the quantized .onnx model (an export, or QDQ / MatMulNBits from another tool)')
    .option('--json', 'print one JSON document (non-finite numbers as "Infinity")')
    .action(async (original: string, quantized: string, options: { json?: boolean }) => {
      try {
        const d = await diffModels(original, quantized);
        process.stdout.write(options.json ? `${JSON.stringify(d, finiteReplacer, 2)}\n` : diffSummary(d));
        setExit(0);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        process.stderr.write(`quantlens: ${error.message}\n`);
        setExit(2);
      }
    });
}
