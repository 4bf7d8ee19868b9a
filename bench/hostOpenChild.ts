/**
 * Child of bench/hostOpen.ts: does on its main thread what the extension host does when the inspector opens a
 * model (read and plan in the overview worker, the layer table, sizes and ops, the analysis in the pool with each
 * result taken into the table, a sorted page at the end) with the code of the checkout ROOT, and prints the
 * longest gap of a 5 ms interval probe on this thread: {"blockMs", "seconds"}.
 *   tsx bench/hostOpenChild.ts ROOT MODEL
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';

interface Table {
  reset(plan: unknown[], schemes: string[]): void;
  update(...args: unknown[]): void;
  page(query: object, offset: number, limit: number): unknown;
}

async function main(): Promise<void> {
  const [root, model] = process.argv.slice(2);
  const load = <T>(file: string): T => require(path.join(root, file)) as T;
  const { readOverviewInWorker } = load<typeof import('../src/node/overviewClient')>('src/node/overviewClient.ts');
  const { workerScript } = load<typeof import('../src/node/workers')>('src/node/workers.ts');
  const { AnalysisPool } = load<typeof import('../src/node/analysisPool')>('src/node/analysisPool.ts');
  const { analyzePlanned } = load<typeof import('../src/node/modelAnalyzer')>('src/node/modelAnalyzer.ts');
  const { modelSizes } = load<typeof import('../src/core/view/schemeSizes')>('src/core/view/schemeSizes.ts');
  const { DEFAULT_SCHEMES } = load<typeof import('../src/core/quant/schemes')>('src/core/quant/schemes.ts');
  const view = load<typeof import('../src/core/view/layerTableView')>('src/core/view/layerTableView.ts');
  // The table moved to layerTable.ts (update(index, analysis)); older checkouts have it in layerTableView.ts.
  const tableFile = path.join(root, 'src/core/view/layerTable.ts');
  const TableClass = (existsSync(tableFile) ? require(tableFile) : view).LayerTable as new () => Table;
  const schemes = [...DEFAULT_SCHEMES];
  let worst = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const read = await readOverviewInWorker(workerScript('overviewWorker'), model);
  const table = new TableClass();
  table.reset(read.plan, schemes);
  modelSizes(read.plan, schemes);
  view.consumerOps(read.plan);
  const pool = new AnalysisPool({ threads: 2 });
  await analyzePlanned(pool, model, read.plan, schemes, {
    onWeight: (i, a) => (table.update.length === 3 ? table.update(i, read.plan[i], a) : table.update(i, a)),
  });
  table.page({ sort: `sqnr:${schemes[0]}`, descending: false, text: '', op: '', quantizableOnly: false }, 0, 100);
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(probe);
  pool.dispose();
  process.stdout.write(JSON.stringify({ blockMs: worst, seconds }));
}

void main();
