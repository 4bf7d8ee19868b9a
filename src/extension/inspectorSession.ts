/**
 * The analysis behind one model's inspector: runs the chosen schemes (partial results as weights complete,
 * cancellable), and answers the webview's page, detail, tile and heatmap requests from what it holds.
 * The webview never receives tensor values, only summaries sized for what it draws.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_SCHEMES, parseSchemeList } from '../core/quant/schemes';
import type { ActivationStat } from '../core/eval/results';
import type { TensorAnalysis } from '../core/stats/analyze';
import { activationDetail, layerActivationStats, type RowActivation } from '../core/view/activationDetail';
import { downsampleTile, type HeatmapTile, type TileWindow } from '../core/view/heatmapTiles';
import { layerDetail, type LayerDetail } from '../core/view/layerDetailView';
import { tableCsv, tableJson } from '../core/view/layerTableExport';
import { LayerTable } from '../core/view/layerTable';
import { consumerOps, type RowSensitivity, type TablePage, type TableQuery } from '../core/view/layerTableView';
import { modelHeatmap, type ModelHeatmap } from '../core/view/modelHeatmap';
import { modelSizes, modelSizesInSlices } from '../core/view/schemeSizes';
import type { ModelReadResult } from '../node/analysisPlan';
import type { AnalysisStatus, ViewState } from '../protocol';
import { configuredSchemes, type AnalysisService } from './analysisService';
import { DetailReadings } from './detailReadings';
import type { Log } from './log';
import { saveNextToModel } from './saveNextToModel';

const STATUS_INTERVAL_MS = 100;
/** Weights whose sizes are summed in one turn of the event loop. */
const SIZES_SLICE = 5000;

/** The activations an evaluation quantized: per node (the table's column) and every statistic (the detail). */
export interface MeasuredActivations {
  byLayer: Map<string, RowActivation>;
  stats: readonly ActivationStat[];
}

/** Analysis state and queries for one opened model. */
export class InspectorSession implements vscode.Disposable {
  private readonly statusEmitter = new vscode.EventEmitter<AnalysisStatus>();
  /** Fires as the analysis progresses (throttled), finishes, fails or changes schemes. */
  readonly onDidChangeStatus = this.statusEmitter.event;
  private read: ModelReadResult | undefined;
  private schemes: string[];
  private sensitivitySource: string | undefined;
  private activationStats: readonly ActivationStat[] = [];
  private analyses: (TensorAnalysis | undefined)[] = [];
  private readonly table = new LayerTable();
  private status: AnalysisStatus;
  private running: AbortController | undefined;
  private lastFired = 0;
  private fireTimer: NodeJS.Timeout | undefined;
  private readonly details: DetailReadings;
  private progress: { resolve: () => void; report: (done: number) => void } | undefined;

  constructor(
    private readonly uri: vscode.Uri,
    private readonly service: AnalysisService,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
  ) {
    this.details = new DetailReadings(service, uri.fsPath);
    this.schemes = this.savedSchemes() ?? safeConfiguredSchemes(log);
    this.table.reset([], this.schemes);
    this.status = this.emptyStatus();
  }

  private get file(): string {
    return this.uri.fsPath;
  }

  private emptyStatus(): AnalysisStatus {
    return { schemes: this.schemes, done: 0, total: 0, state: 'idle', weightBytes: 0, sizes: [], ops: [] };
  }

  private savedSchemes(): string[] | undefined {
    const saved = this.memento.get<string[]>(`quantlens.schemes:${this.uri.toString()}`);
    try {
      return saved && saved.length > 0 ? parseSchemeList(saved.join(',')).map((s) => s.id) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The current status. */
  getStatus(): AnalysisStatus {
    if (!this.sensitivitySource) return this.status;
    const bits = [...new Set(this.activationStats.map((a) => a.bits))].sort((a, b) => a - b);
    return {
      ...this.status,
      sensitivity: this.sensitivitySource,
      ...(bits.length ? { activations: bits.map((b) => `a${b}`).join('/') } : {}),
    };
  }

  /** Starts over on a (re)read model: drops results of the previous read and analyses the current schemes. */
  start(read: ModelReadResult): void {
    this.stop();
    this.read = read;
    this.details.clear();
    this.analyses = new Array(read.plan.length).fill(undefined);
    this.table.reset(read.plan, this.schemes);
    void this.run();
  }

  /** Forgets the model (it could not be read). */
  reset(): void {
    this.stop();
    this.read = undefined;
    this.analyses = [];
    this.table.reset([], this.schemes);
    this.details.clear();
    this.status = this.emptyStatus();
    this.fire(true);
  }

  /** Compares these schemes from now on (remembered for this model); cached results are reused. */
  async setSchemes(ids: string[]): Promise<AnalysisStatus> {
    if (ids.length === 0) throw new Error('Choose at least one scheme.');
    const schemes = parseSchemeList(ids.join(',')).map((s) => s.id);
    this.schemes = [...new Set(schemes)];
    await this.memento.update(`quantlens.schemes:${this.uri.toString()}`, this.schemes);
    if (this.read) {
      this.stop();
      this.table.reset(this.read.plan, this.schemes);
      this.analyses.fill(undefined);
      void this.run();
    } else {
      this.table.reset([], this.schemes);
      this.status = this.emptyStatus();
      this.fire(true);
    }
    return this.status;
  }

  /** Stops the running analysis; results so far stay. */
  cancel(): AnalysisStatus {
    if (this.running) {
      this.running.abort(new vscode.CancellationError());
    }
    return this.status;
  }

  /** Runs the analysis again for what is missing. */
  resume(): AnalysisStatus {
    if (this.read && !this.running && this.status.state !== 'running') void this.run();
    return this.status;
  }

  private stop(): void {
    this.running?.abort(new vscode.CancellationError());
    this.running = undefined;
  }

  private async run(): Promise<void> {
    const read = this.read;
    if (!read) return;
    const controller = new AbortController();
    this.running = controller;
    const schemes = this.schemes;
    const started = performance.now();
    const total = read.plan.filter((w) => w.source).length;
    const quantizable = read.plan.filter((w) => w.source && w.quantizable).length;
    const ops = consumerOps(read.plan);
    // In slices when long: a plan of 100k weights must not hold the extension host's event loop.
    const sizes =
      read.plan.length <= SIZES_SLICE
        ? modelSizes(read.plan, schemes)
        : await modelSizesInSlices(read.plan, schemes, () => new Promise((r) => setImmediate(r)), SIZES_SLICE);
    if (this.running !== controller) return;
    this.status = { schemes, done: 0, total, quantizable, state: 'running', ...sizes, ops };
    this.fire(true);
    this.showWindowProgress(total);
    try {
      await this.service.analyze(this.file, read, schemes, {
        signal: controller.signal,
        onWeight: (i, analysis, done) => {
          if (this.running !== controller) return;
          this.analyses[i] = analysis;
          this.table.update(i, analysis);
          this.status = { ...this.status, done };
          this.progress?.report(done);
          this.fire(done === total);
        },
      });
      if (this.running !== controller) return;
      this.status = { ...this.status, state: 'done', ms: performance.now() - started };
    } catch (error) {
      if (this.running !== controller) return;
      const cancelled = controller.signal.aborted;
      this.status = {
        ...this.status,
        state: cancelled ? 'cancelled' : 'error',
        ...(cancelled ? {} : { error: message(error) }),
      };
      if (!cancelled) this.log.warn(`Analysis of ${this.file} failed: ${message(error)}`);
    } finally {
      if (this.running === controller) this.running = undefined;
      this.progress?.resolve();
      this.progress = undefined;
    }
    this.fire(true);
  }

  /** A spinner in the status bar while the inspector's analysis runs. */
  private showWindowProgress(total: number): void {
    this.progress?.resolve();
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `QuantLens: analysing ${path.basename(this.file)}` },
      (progress) =>
        new Promise<void>((resolve) => {
          let last = 0;
          let lastAt = 0;
          this.progress = {
            resolve,
            report: (done) => {
              // Each report is a message to the window: 100k weights must not send 100k of them.
              const now = Date.now();
              if (done < total && now - lastAt < STATUS_INTERVAL_MS) return;
              lastAt = now;
              progress.report({
                message: `${done}/${total} weights`,
                increment: total ? ((done - last) / total) * 100 : 0,
              });
              last = done;
            },
          };
        }),
    );
  }

  private fire(now: boolean): void {
    const elapsed = Date.now() - this.lastFired;
    if (now || elapsed >= STATUS_INTERVAL_MS) {
      clearTimeout(this.fireTimer);
      this.fireTimer = undefined;
      this.lastFired = Date.now();
      this.statusEmitter.fire(this.getStatus());
    } else if (!this.fireTimer) {
      this.fireTimer = setTimeout(() => this.fire(true), STATUS_INTERVAL_MS - elapsed);
    }
  }

  /**
   * Shows the sensitivity measured by an evaluation in the rows (by weight name), and the activations it quantized
   * (the activation column and the detail's activation charts); `source` identifies the evaluation.
   */
  setSensitivity(byWeight: Map<string, RowSensitivity>, source: string, activations?: MeasuredActivations): void {
    this.table.setSensitivity(byWeight, activations?.byLayer);
    this.activationStats = activations?.stats ?? [];
    this.sensitivitySource = source;
    this.fire(true);
  }

  /** A page of the layer table. */
  page(query: TableQuery, offset: number, limit: number, find?: string): TablePage {
    return this.table.page(query, offset, limit, find);
  }

  /** Writes the rows matching a query as CSV or JSON where the user chooses; returns the path or null. */
  async exportTable(query: TableQuery, format: 'csv' | 'json'): Promise<string | null> {
    const rows = this.table.query(query);
    const text = format === 'csv' ? tableCsv(rows, this.schemes) : tableJson(rows, this.schemes);
    return saveNextToModel(
      this.uri,
      `layers.${format}`,
      format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      Buffer.from(text, 'utf8'),
    );
  }

  /** Writes a chart's PNG (a data URL from the webview's canvas) where the user chooses. */
  async exportChart(name: string, dataUrl: string): Promise<string | null> {
    const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
    if (!match) throw new Error('The chart image is not a PNG data URL.');
    return saveNextToModel(
      this.uri,
      `${name.replace(/[^\w.-]+/g, '_')}.png`,
      { PNG: ['png'] },
      Buffer.from(match[1], 'base64'),
    );
  }

  private weightAt(index: number): ModelReadResult['plan'][number] {
    const w = this.read?.plan[index];
    if (!w)
      throw new Error(
        `No weight #${index} in ${path.basename(this.file)}${this.read ? '' : ' (the model is not read)'}.`,
      );
    return w;
  }

  /** The detail of one weight under one scheme. */
  async detail(index: number, scheme: string, bins: number): Promise<LayerDetail> {
    const weight = this.weightAt(index);
    const entry = await this.details.get(index, weight, scheme, bins);
    const row = this.table.row(index);
    const [worst, ...others] = row.quantizable ? layerActivationStats(this.activationStats, row.layer) : [];
    const detail = layerDetail({
      row,
      weight,
      scheme,
      stats: entry.stats,
      histogram: entry.histogram,
      reading: entry.result,
      metrics: this.analyses[index]?.schemes[scheme],
    });
    return worst
      ? {
          ...detail,
          activation: activationDetail(
            worst,
            others.map((o) => o.tensor),
          ),
        }
      : detail;
  }

  /** Heatmap cells of one weight under one scheme, downsampled to at most maxRows x maxCols (worst SQNR per shown cell). */
  async tile(p: TileWindow & { index: number; scheme: string }): Promise<HeatmapTile> {
    const metrics = this.analyses[p.index]?.schemes[p.scheme];
    if (!metrics) throw new Error(`Weight #${p.index} has no ${p.scheme} results yet.`);
    const { channels, blocks, sqnrDb } = metrics.grid;
    const weight = this.weightAt(p.index);
    const entry = await this.details.get(p.index, weight, p.scheme);
    const absmax = DetailReadings.cellAbsmax(entry, weight, p.scheme);
    const tile = downsampleTile({ channels, blocks, sqnr: sqnrDb, absmax }, p);
    return { ...tile, absmax: tile.absmax ?? new Float32Array(tile.rows * tile.cols) };
  }

  /** SQNR of every quantizable weight under every scheme (NaN where not analysed yet). */
  modelHeatmap(): ModelHeatmap {
    return modelHeatmap(this.read?.plan ?? [], this.analyses, this.schemes);
  }

  /** The view remembered for this model. */
  savedView(): ViewState | null {
    return this.memento.get<ViewState>(`quantlens.view:${this.uri.toString()}`) ?? null;
  }

  /** Remembers the view for this model. */
  async saveView(view: ViewState): Promise<void> {
    await this.memento.update(`quantlens.view:${this.uri.toString()}`, view);
  }

  dispose(): void {
    this.stop();
    clearTimeout(this.fireTimer);
    this.progress?.resolve();
    this.statusEmitter.dispose();
  }
}

function safeConfiguredSchemes(log: Log): string[] {
  try {
    return configuredSchemes();
  } catch (error) {
    log.warn(`${message(error)}; using the default schemes.`);
    return [...DEFAULT_SCHEMES];
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
