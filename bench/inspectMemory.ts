/** Bench child: inspects one model as the CLI does and prints its peak resident memory (all threads) as JSON. */
import { availableParallelism } from 'node:os';
import { parseSchemeList } from '../src/core/quant/schemes';
import { inspectModel } from '../src/node/inspectModel';

const [modelPath, schemes] = process.argv.slice(2);
const started = performance.now();
void inspectModel(modelPath, parseSchemeList(schemes)).then((report) => {
  process.stdout.write(JSON.stringify({
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    seconds: (performance.now() - started) / 1000,
    weights: report.weights.length,
    threads: availableParallelism(),
  }));
});
