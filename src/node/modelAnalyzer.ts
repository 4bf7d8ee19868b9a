/**
 * Analyses a planned model in the worker pool, reusing cached results: only weights and schemes not yet
 * computed for this model (same files, same graph) become tasks.
 */
import type { SchemeMetrics, TensorAnalysis } from '../core/stats/analyze';
import type { AnalysisCache } from './analysisCache';
import { taskFor, type PlannedWeight } from './analysisPlan';
import type { AnalysisPool } from './analysisPool';
import type { AnalysisTask } from './analysisTask';

/** Options of analyzePlanned (a whole model; core/stats/analyze.ts has the options of one tensor's analysis). */
export interface ModelAnalysisOptions {
  bins?: number;
  signal?: AbortSignal;
  cache?: { store: AnalysisCache; key: string };
  /** Compute the per-channel x per-block SQNR grids (default true). */
  grids?: boolean;
  /** Called for each weight as its results are complete (cached ones first), with the count done. */
  onWeight?: (index: number, analysis: TensorAnalysis, done: number, total: number) => void;
}

/** Weights planned (or taken from the cache) between two turns of the event loop. */
const YIELD_EVERY = 2000;

/** Lets the event loop run (timers, messages), then goes on unless aborted. */
async function yieldLoop(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

/** Result of analyzePlanned: per weight (undefined for tensors without numbers) and how many tasks ran. */
export interface AnalyzeResult {
  analyses: (TensorAnalysis | undefined)[];
  computed: number;
  reused: number;
}

/** Analyses every planned weight under `schemes` (quantizable weights only), reusing the cache. */
export async function analyzePlanned(
  pool: AnalysisPool,
  modelPath: string,
  plan: readonly PlannedWeight[],
  schemes: readonly string[],
  options: ModelAnalysisOptions = {},
): Promise<AnalyzeResult> {
  const bins = options.bins ?? 256;
  const { cache } = options;
  const analyses: (TensorAnalysis | undefined)[] = new Array(plan.length).fill(undefined);
  const tasks: AnalysisTask[] = [];
  const weightOf: number[] = [];
  /** Scheme ids wanted for each task's weight (the task itself runs only the missing ones). */
  const wantedOf: string[][] = [];
  const pending: number[] = [];
  const total = plan.filter((w) => w.source).length;
  let done = 0;
  for (const [i, w] of plan.entries()) {
    // A model of 100k weights is planned in slices: the caller's event loop (the extension host's) runs between.
    if (i > 0 && i % YIELD_EVERY === 0) await yieldLoop(options.signal);
    const task = taskFor(modelPath, w, schemes, bins);
    if (!task) continue;
    const hit = cache?.store.get(cache.key, w.name, bins);
    const missing = task.schemes.filter((id) => !hit?.schemes[id]);
    if (hit && missing.length === 0) {
      analyses[i] = select(hit, task.schemes);
      pending.push(i);
      continue;
    }
    // taskFor's object is this loop's own: completed in place (no second object per weight).
    wantedOf.push(task.schemes);
    task.schemes = missing;
    task.grids = options.grids;
    tasks.push(task);
    weightOf.push(i);
  }
  for (const [k, i] of pending.entries()) {
    if (k > 0 && k % YIELD_EVERY === 0) await yieldLoop(options.signal);
    options.onWeight?.(i, analyses[i] as TensorAnalysis, ++done, total);
  }
  await pool.run(tasks, {
    signal: options.signal,
    // 100k results are handed over one by one: the pool need not hold them all until the end.
    collect: false,
    onResult: (t, result) => {
      const i = weightOf[t];
      // Results without grids are not cached: a later request may need the heatmaps.
      const merged =
        cache && options.grids !== false ? cache.store.put(cache.key, plan[i].name, result.analysis) : result.analysis;
      analyses[i] = select(merged, wantedOf[t]);
      options.onWeight?.(i, analyses[i] as TensorAnalysis, ++done, total);
    },
  });
  return { analyses, computed: tasks.length, reused: total - tasks.length };
}

/** The analysis restricted to the schemes asked for, in that order. */
function select(
  a: { stats: TensorAnalysis['stats']; histogram: TensorAnalysis['histogram']; schemes: Record<string, SchemeMetrics> },
  ids: readonly string[],
): TensorAnalysis {
  const keys = Object.keys(a.schemes);
  // Already exactly these schemes in this order (no cache merge): no second object per weight.
  if (keys.length === ids.length && keys.every((k, i) => k === ids[i])) return a as TensorAnalysis;
  return { stats: a.stats, histogram: a.histogram, schemes: Object.fromEntries(ids.map((id) => [id, a.schemes[id]])) };
}
