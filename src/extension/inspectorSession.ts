/**
 * The analysis behind one model's inspector: runs the chosen schemes (partial results as weights complete,
 * cancellable), and answers the webview's page, detail, tile and heatmap requests from what it holds.
 * The webview never receives tensor values, only summaries sized for what it draws.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileSafely } from './safeWriteUi';
import { DEFAULT_SCHEMES, parseScheme, parseSchemeList } from '../core/quant/schemes';
import type { TensorAnalysis } from '../core/stats/analyze';
import { quantGrid, schemeCells } from '../core/stats/layerDetail';
import type { ModelReadResult } from '../node/analysisPlan';
import type { DetailResult } from '../node/analysisTask';
import { layerRow, modelSizes, queryRows, tableCsv, tableJson } from '../node/layerTable';
import type {
  AnalysisStatus,
  HeatmapTile,
  LayerDetail,
  LayerRow,
  ModelHeatmap,
  RowSensitivity,
  TablePage,
  TableQuery,
  ViewState,
} from '../protocol';
import { configuredSchemes, type AnalysisService } from './analysisService';
import type { Log } from './log';

const STATUS_INTERVAL_MS = 100;
const DETAILS_KEPT = 4;

interface DetailEntry {
  result: DetailResult | undefined;
  histogram: LayerDetail['histogram'];
  stats: LayerDetail['stats'];
  /** Per scheme-grid cell absmax, by scheme id. */
  cellAbsmax: Map<string, Float32Array>;
}

/** Analysis state and queries for one opened model. */
export class InspectorSession implements vscode.Disposable {
  private readonly statusEmitter = new vscode.EventEmitter<AnalysisStatus>();
  /** Fires as the analysis progresses (throttled), finishes, fails or changes schemes. */
  readonly onDidChangeStatus = this.statusEmitter.event;
  private read: ModelReadResult | undefined;
  private schemes: string[];
  private sensitivity = new Map<string, RowSensitivity>();
  private sensitivitySource: string | undefined;
  private analyses: (TensorAnalysis | undefined)[] = [];
  private rows: LayerRow[] = [];
  private status: AnalysisStatus;
  private running: AbortController | undefined;
  private lastFired = 0;
  private fireTimer: NodeJS.Timeout | undefined;
  private sorted: { key: string; rows: LayerRow[] } | undefined;
  private readonly details = new Map<string, Promise<DetailEntry>>();
  private progress: { resolve: () => void; report: (done: number) => void } | undefined;

  constructor(
    private readonly uri: vscode.Uri,
    private readonly service: AnalysisService,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
  ) {
    this.schemes = this.savedSchemes() ?? safeConfiguredSchemes(log);
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
    return this.sensitivitySource ? { ...this.status, sensitivity: this.sensitivitySource } : this.status;
  }

  /** Starts over on a (re)read model: drops results of the previous read and analyses the current schemes. */
  start(read: ModelReadResult): void {
    this.stop();
    this.read = read;
    this.details.clear();
    this.analyses = new Array(read.plan.length).fill(undefined);
    this.rows = read.plan.map((w, i) => this.withSensitivity(layerRow(i, w, undefined, this.schemes)));
    this.sorted = undefined;
    void this.run();
  }

  /** Forgets the model (it could not be read). */
  reset(): void {
    this.stop();
    this.read = undefined;
    this.analyses = [];
    this.rows = [];
    this.details.clear();
    this.sorted = undefined;
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
      this.rows = this.read.plan.map((w, i) => this.withSensitivity(layerRow(i, w, undefined, this.schemes)));
      this.analyses.fill(undefined);
      this.sorted = undefined;
      void this.run();
    } else {
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
    if (this.read && this.status.state !== 'running') void this.run();
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
    const ops = [...new Set(read.plan.flatMap((w) => w.layers.map((l) => l.op)))].sort();
    this.status = { schemes, done: 0, total, state: 'running', ...modelSizes(read.plan, schemes), ops };
    this.fire(true);
    this.showWindowProgress(total);
    try {
      await this.service.analyze(this.file, read, schemes, {
        signal: controller.signal,
        onWeight: (i, analysis, done) => {
          if (this.running !== controller) return;
          this.analyses[i] = analysis;
          this.rows[i] = this.withSensitivity(layerRow(i, read.plan[i], analysis, schemes));
          this.sorted = undefined;
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
          this.progress = {
            resolve,
            report: (done) => {
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

  private queried(query: TableQuery): LayerRow[] {
    const key = JSON.stringify(query);
    if (this.sorted?.key !== key) this.sorted = { key, rows: queryRows(this.rows, query, this.schemes) };
    return this.sorted.rows;
  }

  /** Shows the sensitivity measured by an evaluation in the rows (by weight name); `source` identifies the evaluation. */
  setSensitivity(byWeight: Map<string, RowSensitivity>, source: string): void {
    this.sensitivity = byWeight;
    this.sensitivitySource = source;
    this.rows = this.rows.map((r) => this.withSensitivity(r));
    this.sorted = undefined;
    this.fire(true);
  }

  private withSensitivity(row: LayerRow): LayerRow {
    const s = this.sensitivity.get(row.name);
    if (s) return { ...row, sensitivity: s };
    if (!row.sensitivity) return row;
    const rest = { ...row };
    delete rest.sensitivity;
    return rest;
  }

  /** A page of the layer table. */
  page(query: TableQuery, offset: number, limit: number, find?: string): TablePage {
    const rows = this.queried(query);
    const start = Math.max(0, Math.min(offset, rows.length));
    const page: TablePage = {
      total: rows.length,
      offset: start,
      rows: rows.slice(start, start + Math.max(0, Math.min(limit, 1000))),
      schemes: this.schemes,
    };
    return find === undefined ? page : { ...page, found: rows.findIndex((r) => r.name === find) };
  }

  /** Writes the rows matching a query as CSV or JSON where the user chooses; returns the path or null. */
  async exportTable(query: TableQuery, format: 'csv' | 'json'): Promise<string | null> {
    const rows = this.queried(query);
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

  /** The detail reading of a weight under a scheme; any histogram resolution will do when `bins` is not given. */
  private loadDetail(index: number, scheme: string, bins?: number): Promise<DetailEntry> {
    const prefix = `${index}|${scheme}|`;
    const key = `${prefix}${bins ?? 64}`;
    let entry = bins === undefined ? [...this.details].find(([k]) => k.startsWith(prefix))?.[1] : this.details.get(key);
    if (!entry) {
      const w = this.weightAt(index);
      entry = this.service.detail(this.file, w, scheme, bins ?? 64).then((r) => ({
        result: r.detail,
        histogram: r.analysis.histogram,
        stats: r.analysis.stats,
        cellAbsmax: new Map(),
      }));
      entry.catch(() => this.details.delete(key));
      this.details.set(key, entry);
      while (this.details.size > DETAILS_KEPT) this.details.delete(this.details.keys().next().value as string);
    }
    return entry;
  }

  /** The detail of one weight under one scheme. */
  async detail(index: number, scheme: string, bins: number): Promise<LayerDetail> {
    const w = this.weightAt(index);
    const parsed = parseScheme(scheme);
    const entry = await this.loadDetail(index, scheme, bins);
    const metrics = this.analyses[index]?.schemes[scheme];
    const ranges = entry.result?.ranges;
    const grid = ranges && w.quantizable ? quantGrid(parsed, ranges, !!w.layout) : null;
    const { counts, min, max } = entry.histogram;
    let beyondGrid = 0;
    if (grid && max > min) {
      const width = (max - min) / counts.length;
      for (let b = 0; b < counts.length; b++) {
        if (min + (b + 1) * width < grid.clipMin || min + b * width > grid.clipMax) beyondGrid += counts[b];
      }
    }
    const sqnr = metrics?.grid.sqnrDb;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of sqnr ?? []) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    const channelSqnr = entry.result?.channelSqnr ?? new Float64Array(0);
    const order = Int32Array.from(channelSqnr.keys()).sort((a, b) => compareDb(channelSqnr[a], channelSqnr[b]));
    const stored = w.stored ? (({ layout: _layout, ...rest }) => rest)(w.stored) : undefined;
    const blockSize =
      parsed.kind === 'int' && parsed.granularity.kind === 'block' && w.layout
        ? parsed.granularity.size
        : (ranges?.reduction ?? 0);
    return {
      row: this.rows[index],
      scheme,
      stats: entry.stats,
      histogram: { min, max, counts },
      ...(metrics
        ? {
            metrics: {
              sqnrDb: metrics.sqnrDb,
              mse: metrics.mse,
              maxAbsError: metrics.maxAbsError,
              cosine: metrics.cosine,
              clippedFraction: metrics.clippedFraction,
              zeroedFraction: metrics.zeroedFraction,
            },
          }
        : {}),
      grid,
      beyondGrid,
      heatmap: {
        channels: metrics?.grid.channels ?? 0,
        blocks: metrics?.grid.blocks ?? 0,
        blockSize,
        min: lo,
        max: hi,
      },
      channelSqnr: Float64Array.from(order, (c) => channelSqnr[c]),
      channelOrder: order,
      channelLabel: channelLabel(w.layers[0]?.op, w.layout?.channelAxis),
      ...(stored ? { stored } : {}),
    };
  }

  /** Heatmap cells of one weight under one scheme, downsampled to at most maxRows x maxCols (worst SQNR per shown cell). */
  async tile(p: {
    index: number;
    scheme: string;
    channel0: number;
    channels: number;
    block0: number;
    blocks: number;
    maxRows: number;
    maxCols: number;
  }): Promise<HeatmapTile> {
    const metrics = this.analyses[p.index]?.schemes[p.scheme];
    if (!metrics) throw new Error(`Weight #${p.index} has no ${p.scheme} results yet.`);
    const { channels, blocks, sqnrDb } = metrics.grid;
    const entry = await this.loadDetail(p.index, p.scheme);
    let absmax = entry.cellAbsmax.get(p.scheme);
    if (!absmax && entry.result) {
      const cells = schemeCells(entry.result.ranges, parseScheme(p.scheme), !!this.weightAt(p.index).layout);
      absmax = Float32Array.from(cells.lo, (l, i) => Math.max(-l, cells.hi[i]));
      entry.cellAbsmax.set(p.scheme, absmax);
    }
    const c0 = clamp(Math.floor(p.channel0), 0, channels - 1);
    const b0 = clamp(Math.floor(p.block0), 0, blocks - 1);
    const nc = clamp(Math.ceil(p.channels), 1, channels - c0);
    const nb = clamp(Math.ceil(p.blocks), 1, blocks - b0);
    const channelStep = Math.max(1, Math.ceil(nc / Math.max(1, p.maxRows)));
    const blockStep = Math.max(1, Math.ceil(nb / Math.max(1, p.maxCols)));
    const rows = Math.ceil(nc / channelStep);
    const cols = Math.ceil(nb / blockStep);
    const outSqnr = new Float32Array(rows * cols).fill(Infinity);
    const outAbs = new Float32Array(rows * cols);
    for (let c = c0; c < c0 + nc; c++) {
      const r = ((c - c0) / channelStep) | 0;
      for (let b = b0; b < b0 + nb; b++) {
        const o = r * cols + (((b - b0) / blockStep) | 0);
        const v = sqnrDb[c * blocks + b];
        if (v < outSqnr[o] || Number.isNaN(v)) outSqnr[o] = v;
        if (absmax && absmax[c * blocks + b] > outAbs[o]) outAbs[o] = absmax[c * blocks + b];
      }
    }
    return { channel0: c0, block0: b0, rows, cols, channelStep, blockStep, sqnr: outSqnr, absmax: outAbs };
  }

  /** SQNR of every quantizable weight under every scheme (NaN where not analysed yet). */
  modelHeatmap(): ModelHeatmap {
    const plan = this.read?.plan ?? [];
    const rows = plan.flatMap((w, index) =>
      w.quantizable && w.source ? [{ index, name: w.name, label: `${w.layers[0]?.node ?? w.name} · ${w.name}` }] : [],
    );
    const sqnr = new Float32Array(rows.length * this.schemes.length).fill(NaN);
    rows.forEach((r, i) =>
      this.schemes.forEach((s, j) => {
        const v = this.analyses[r.index]?.schemes[s]?.sqnrDb;
        if (v !== undefined) sqnr[i * this.schemes.length + j] = v;
      }),
    );
    return { rows, schemes: this.schemes, sqnr };
  }

  /** Index of a weight by name, if the model has it. */
  indexOf(name: string): number | undefined {
    const i = this.read?.plan.findIndex((w) => w.name === name) ?? -1;
    return i >= 0 ? i : undefined;
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

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Ascending dB with NaN (empty channels) last. */
function compareDb(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function channelLabel(op: string | undefined, axis: 0 | 1 | undefined): string {
  if (axis === undefined) return 'tensor';
  if (op === 'Gather') return 'row (embedding)';
  if (op === 'MatMul' || op === 'MatMulNBits') return 'output column';
  return 'output channel';
}

/** Save dialog in the model's folder, never over the model itself; returns the path written or null. */
async function saveNextToModel(
  model: vscode.Uri,
  suffix: string,
  filters: Record<string, string[]>,
  bytes: Uint8Array,
): Promise<string | null> {
  const base = path.basename(model.fsPath, path.extname(model.fsPath));
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(path.dirname(model.fsPath), `${base}-${suffix}`)),
    filters,
    saveLabel: 'Export',
  });
  if (!target) return null;
  if (path.resolve(target.fsPath) === path.resolve(model.fsPath)) {
    throw new Error('QuantLens does not write over the model file; choose another name.');
  }
  await writeFileSafely(target, bytes, { confirmed: true }); // the save dialog asked before replacing
  return target.fsPath;
}
