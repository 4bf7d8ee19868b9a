/**
 * Weight analysis for the extension: the model is read and planned in the overview worker, weights are
 * analysed in the worker pool, results are cached per model. The extension host only schedules and
 * collects results, so its event loop stays free.
 */
import * as vscode from 'vscode';
import { DEFAULT_SCHEMES, parseSchemeList } from '../core/quant/schemes';
import { AnalysisCache, fileStamps } from '../node/analysisCache';
import { taskFor, type ModelReadResult, type PlannedWeight } from '../node/analysisPlan';
import type { AnalysisResult } from '../node/analysisTask';
import { AnalysisPool } from '../node/analysisPool';
import { buildReport, type InspectReport } from '../core/view/inspectReport';
import { analyzePlanned, type ModelAnalysisOptions, type AnalyzeResult } from '../node/modelAnalyzer';
import { readOverviewInWorker } from '../node/overviewClient';
import type { Log } from './log';

/** Progress of an analysis run. */
export interface AnalysisProgress {
  done: number;
  total: number;
  weight: string;
}

/** Scheme ids from the `quantlens.analysis.defaultSchemes` setting; throws naming the setting when invalid. */
export function configuredSchemes(): string[] {
  const ids = vscode.workspace.getConfiguration('quantlens.analysis').get<string[]>('defaultSchemes') ?? [
    ...DEFAULT_SCHEMES,
  ];
  try {
    return parseSchemeList(ids.join(',')).map((s) => s.id);
  } catch (error) {
    throw new Error(
      `Setting quantlens.analysis.defaultSchemes: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Analyses models for the extension, with one pool and one cache for all of them. */
export class AnalysisService implements vscode.Disposable {
  private pool: AnalysisPool | undefined;
  private readonly cache = new AnalysisCache();
  /** The last read of each model, reused while none of its files changed (no re-decoding to hit the cache). */
  private readonly reads = new Map<string, ModelReadResult>();
  private readonly configListener: vscode.Disposable;

  constructor(
    private readonly overviewWorker: string,
    private readonly workerScript: string,
    private readonly log: Log,
  ) {
    // A new thread count takes effect with the next run.
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('quantlens.analysis.maxThreads')) {
        this.pool?.dispose();
        this.pool = undefined;
      }
    });
  }

  private getPool(): AnalysisPool {
    if (!this.pool) {
      const setting = vscode.workspace.getConfiguration('quantlens.analysis').get<number>('maxThreads') ?? 0;
      this.pool = new AnalysisPool({ threads: setting > 0 ? setting : undefined, workerScript: this.workerScript });
      this.log.info(`Analysis pool: ${this.pool.size} worker thread(s)`);
    }
    return this.pool;
  }

  /** Reads, plans and analyses a model; reuses cached results for unchanged files and known schemes. */
  async inspect(
    uri: vscode.Uri,
    schemes: string[],
    options: { signal?: AbortSignal; onProgress?: (p: AnalysisProgress) => void } = {},
  ): Promise<InspectReport> {
    const started = performance.now();
    const read = await this.read(uri.fsPath, options.signal);
    const readMs = performance.now() - started;
    const total = read.plan.filter((w) => w.source).length;
    options.onProgress?.({ done: 0, total, weight: '' });
    const result = await this.analyze(uri.fsPath, read, schemes, {
      signal: options.signal,
      onWeight: (i, _a, done) => options.onProgress?.({ done, total, weight: read.plan[i].name }),
    });
    this.log.info(`(reading and planning ${uri.fsPath} took ${readMs.toFixed(0)} ms)`);
    return buildReport(read.overview, read.plan, result.analyses, schemes);
  }

  /** Analyses a model already read (every weight under `schemes`), reporting each weight as it completes. */
  async analyze(
    file: string,
    read: ModelReadResult,
    schemes: readonly string[],
    options: Pick<ModelAnalysisOptions, 'signal' | 'onWeight'> = {},
  ): Promise<AnalyzeResult> {
    const started = performance.now();
    const result = await analyzePlanned(this.getPool(), file, read.plan, schemes, {
      ...options,
      cache: { store: this.cache, key: read.cacheKey },
    });
    this.log.info(
      `Analysed ${file}: ${read.plan.filter((w) => w.source).length} weights x ${schemes.length} schemes in ${(performance.now() - started).toFixed(0)} ms ` +
        `(${result.computed} computed, ${result.reused} from cache)`,
    );
    return result;
  }

  /** Reads one weight again in a worker for its detail under `scheme` (histogram with `bins` bins, cell ranges, per-channel SQNR). */
  async detail(file: string, weight: PlannedWeight, scheme: string | undefined, bins: number): Promise<AnalysisResult> {
    const task = taskFor(file, weight, [], bins);
    if (!task)
      throw new Error(`Weight '${weight.name}' has no values to show${weight.problem ? `: ${weight.problem}` : ''}.`);
    const [result] = await this.getPool().run([
      { ...task, schemes: [], grids: false, ...(scheme && weight.quantizable ? { detail: scheme } : {}) },
    ]);
    return result;
  }

  /** The model's overview and analysis plan; reused while none of its files changed on disk. */
  async read(file: string, signal?: AbortSignal, fresh = false): Promise<ModelReadResult> {
    const last = this.reads.get(file);
    if (!fresh && last && (await fileStamps(last.files).catch(() => undefined)) === last.stamps) {
      return last;
    }
    const read = await readOverviewInWorker(this.overviewWorker, file, signal);
    this.reads.delete(file);
    this.reads.set(file, read);
    // Plans hold only small values (scales, typed constants): a handful of recent models is plenty.
    if (this.reads.size > 8) this.reads.delete(this.reads.keys().next().value as string);
    return read;
  }

  dispose(): void {
    this.configListener.dispose();
    this.pool?.dispose();
  }
}
