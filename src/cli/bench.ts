/**
 * `quantlens bench MODEL...`: latency, memory, size and load time of models without a spec, each in a fresh
 * process, interleaved A B A B; ratios to the first model. Symbolic dimensions default to 1 (`--dim NAME=V`),
 * the first axis is the batch (`--batch 1,32`); inputs are random (floats in [-1, 1), integers zero).
 */
import * as path from 'node:path';
import { costTable } from '../core/cost/costFormat';
import type { ModelCost } from '../core/cost/costTypes';
import { measureCosts } from '../node/cost/costRun';
import { fileSessionOptions } from '../node/eval/fileVariant';
import { finiteReplacer } from '../core/eval/results';

/** Options of `quantlens bench`. */
export interface BenchCliOptions {
  dim: Record<string, number>;
  batch: number[];
  runs: number;
  seconds: number;
  rounds: number;
  threads?: number;
  json?: boolean;
}

/** What `bench --json` prints. */
export interface BenchResults {
  format: 'quantlens-bench';
  version: 1;
  settings: Omit<BenchCliOptions, 'json'>;
  models: ({ model: string } & ModelCost)[];
}

/** Measures the models and prints the table (or JSON); returns the exit code (errors go up to main). */
export async function runBench(models: string[], options: BenchCliOptions, signal: AbortSignal): Promise<number> {
  const targets = models.map((m, i) => ({
    id: `${i}`,
    model: path.resolve(m),
    sessionOptions: fileSessionOptions(undefined, options.threads),
  }));
  const { batch, runs, seconds, rounds, threads, dim } = options;
  const costs = await measureCosts(
    targets,
    { batchSizes: batch, runs, seconds, rounds, threads },
    {
      signal,
      dims: dim,
      onProgress: (done, total, message) => {
        if (process.stderr.isTTY) process.stderr.write(`\rbench ${done}/${total} ${message}\x1b[K`);
      },
    },
  );
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const rows = models.map((m, i) => ({ name: m, cost: costs.get(`${i}`)! }));
  if (options.json) {
    const settings = { dim, batch, runs, seconds, rounds, ...(threads ? { threads } : {}) };
    const results: BenchResults = {
      format: 'quantlens-bench',
      version: 1,
      settings,
      models: rows.map((r) => ({ model: r.name, ...r.cost })),
    };
    process.stdout.write(`${JSON.stringify(results, finiteReplacer, 2)}\n`);
  } else {
    process.stdout.write(`QuantLens bench: ${models.length} model(s)\n${costTable(rows)}\n`);
  }
  return 0;
}

/** `--dim NAME=V`, repeatable. */
export function dimOption(value: string, previous: Record<string, number>): Record<string, number> {
  const m = /^([^=]+)=(\d+)$/.exec(value);
  if (!m || Number(m[2]) < 1) throw new Error(`expected NAME=V with V a whole number >= 1, got '${value}'`);
  return { ...previous, [m[1]]: Number(m[2]) };
}

/** `--batch 1,32`. */
export function batchOption(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 65536))
    throw new Error(`expected batch sizes like 1,32, got '${value}'`);
  return [...new Set(sizes)].sort((a, b) => a - b);
}
