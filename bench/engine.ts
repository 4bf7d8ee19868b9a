/**
 * Bench child, bundled to dist/benchEngine.js (next to the shipped workers) so it measures the shipped code:
 *   pool MODEL THREADS SCHEMES  -> {"seconds", "maxDelayMs"}: read + plan in the overview worker, analysis in
 *                                  the pool, as the extension does; event-loop delay of this (main) thread.
 *   inspect MODEL SCHEMES       -> {"maxRssBytes", "seconds", "weights", "threads"}: the CLI's inspect.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseSchemeList } from '../src/core/quant/schemes';
import { AnalysisPool } from '../src/node/analysisPool';
import { inspectModel } from '../src/node/inspectModel';
import { analyzePlanned } from '../src/node/modelAnalyzer';
import { readOverviewInWorker } from '../src/node/overviewClient';
import { workerScript } from '../src/node/workers';

async function main(): Promise<void> {
  const [command, modelPath, ...rest] = process.argv.slice(2);
  const started = performance.now();
  if (command === 'pool') {
    const [threads, schemes] = rest;
    const pool = new AnalysisPool({ threads: Number(threads) });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const read = await readOverviewInWorker(workerScript('overviewWorker'), modelPath);
    await analyzePlanned(
      pool,
      modelPath,
      read.plan,
      parseSchemeList(schemes).map((s) => s.id),
    );
    loop.disable();
    pool.dispose();
    process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, maxDelayMs: loop.max / 1e6 }));
  } else if (command === 'inspect') {
    const report = await inspectModel(modelPath, parseSchemeList(rest[0]));
    process.stdout.write(
      JSON.stringify({
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        seconds: (performance.now() - started) / 1000,
        weights: report.weights.length,
        threads: availableParallelism(),
      }),
    );
  } else {
    throw new Error(`unknown bench command ${command}`);
  }
}

void main();
