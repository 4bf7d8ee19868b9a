/**
 * Child of bench/hostOpen.ts: does on its main thread what the extension host does when the inspector opens a
 * model (read and plan in the overview worker, the layer table, sizes and ops, the analysis in the pool with each
 * result taken into the table, a sorted page at the end) with the code of the checkout ROOT, and prints the
 * longest gap of a 5 ms interval probe on this thread: {"blockMs", "seconds"}.
 *   tsx bench/hostOpenChild.ts ROOT MODEL
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as OverviewClient from '../src/node/overviewClient';
import type * as Workers from '../src/node/workers';
import type * as Pool from '../src/node/analysisPool';
import type * as Analyzer from '../src/node/modelAnalyzer';
import type * as Sizes from '../src/core/view/schemeSizes';
import type * as Schemes from '../src/core/quant/schemes';
import type * as TableView from '../src/core/view/layerTableView';

interface Table {
  reset(plan: unknown[], schemes: string[]): void;
  update(...args: unknown[]): void;
  page(query: object, offset: number, limit: number): unknown;
}

async function main(): Promise<void> {
  const [root, model] = process.argv.slice(2);
  const load = async <T>(file: string): Promise<T> => (await import(path.join(root, file))) as T;
  const { readOverviewInWorker } = await load<typeof OverviewClient>('src/node/overviewClient.ts');
  const { workerScript } = await load<typeof Workers>('src/node/workers.ts');
  const { AnalysisPool } = await load<typeof Pool>('src/node/analysisPool.ts');
  const { analyzePlanned } = await load<typeof Analyzer>('src/node/modelAnalyzer.ts');
  const sizes = await load<Partial<typeof Sizes> & Pick<typeof Sizes, 'modelSizes'>>('src/core/view/schemeSizes.ts');
  const { DEFAULT_SCHEMES } = await load<typeof Schemes>('src/core/quant/schemes.ts');
  const view = await load<typeof TableView>('src/core/view/layerTableView.ts');
  // The table moved to layerTable.ts (update(index, analysis)); older checkouts have it in layerTableView.ts.
  const tableFile = existsSync(path.join(root, 'src/core/view/layerTable.ts'))
    ? 'src/core/view/layerTable.ts'
    : 'src/core/view/layerTableView.ts';
  const TableClass = (await load<{ LayerTable: new () => Table }>(tableFile)).LayerTable;
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
  // As the inspector session: in slices where this checkout has them.
  if (sizes.modelSizesInSlices && read.plan.length > 5000)
    await sizes.modelSizesInSlices(read.plan, schemes, () => new Promise((r) => setImmediate(r)), 5000);
  else sizes.modelSizes(read.plan, schemes);
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
