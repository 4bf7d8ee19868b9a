/** One opened model file: its state, re-read when the file (or its external data) changes on disk. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { toModelErrorInfo } from '../core/onnx/errors';
import type { ModelState, RowSensitivity } from '../protocol';
import type { AnalysisService } from './analysisService';
import type { ModelDiagnostics } from './diagnostics';
import { InspectorSession, type MeasuredActivations } from './inspectorSession';
import type { Log } from './log';

/** What a ModelDocument needs from the extension. */
export interface ModelDocumentDeps {
  log: Log;
  diagnostics: ModelDiagnostics;
  analysis: AnalysisService;
  /** Where per-model choices (schemes, last view) are kept. */
  memento: vscode.Memento;
  /** Sensitivity rows of the latest evaluation of a model, if any. */
  sensitivity?: (
    uri: vscode.Uri,
  ) => { rows: Map<string, RowSensitivity>; source: string; activations?: MeasuredActivations } | undefined;
}

const RELOAD_DEBOUNCE_MS = 150;

/** A model opened in the inspector. */
export class ModelDocument implements vscode.CustomDocument {
  private readonly stateEmitter = new vscode.EventEmitter<ModelState>();
  /** Fires whenever the state changes (loading, ready, error). */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly disposables: vscode.Disposable[] = [this.stateEmitter];
  private currentState: ModelState;
  private loading: AbortController | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private loaded: Promise<ModelState>;
  /** The weight analysis shown in this model's inspector. */
  readonly session: InspectorSession;

  constructor(
    readonly uri: vscode.Uri,
    private readonly deps: ModelDocumentDeps,
    private readonly onDispose?: () => void,
  ) {
    this.currentState = { status: 'loading', fileName: this.fileName };
    this.session = new InspectorSession(uri, deps.analysis, deps.memento, deps.log);
    this.disposables.push(this.session);
    const measured = deps.sensitivity?.(uri);
    if (measured) this.session.setSensitivity(measured.rows, measured.source, measured.activations);
    this.watch();
    this.loaded = this.load();
  }

  get fileName(): string {
    return path.basename(this.uri.fsPath);
  }

  get state(): ModelState {
    return this.currentState;
  }

  /** Re-reads the model from disk (cancelling a read in flight). */
  reload(): Promise<ModelState> {
    this.loaded = this.load();
    return this.loaded;
  }

  private setState(state: ModelState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  private async load(): Promise<ModelState> {
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    const { log, diagnostics } = this.deps;
    if (this.currentState.status !== 'loading') {
      this.setState({ status: 'loading', fileName: this.fileName });
    }
    const start = performance.now();
    let state: ModelState;
    try {
      if (this.uri.scheme !== 'file') {
        throw new Error(
          `QuantLens reads models from the file system; '${this.uri.scheme}:' resources are not supported yet.`,
        );
      }
      const result = await this.deps.analysis.read(this.uri.fsPath, controller.signal, true);
      const loadMs = performance.now() - start;
      const t = result.timings;
      log.info(
        `Read ${this.uri.fsPath}: ${result.overview.fileSize} bytes, ${result.overview.nodeCount} nodes, ` +
          `${result.overview.weightCount} weights in ${loadMs.toFixed(1)} ms ` +
          `(read ${t.readMs.toFixed(1)} ms, decode+index ${t.decodeMs.toFixed(1)} ms, external data check ${t.checkMs.toFixed(1)} ms)`,
      );
      state = { status: 'ready', fileName: this.fileName, overview: result.overview, loadMs };
      diagnostics.clear(this.uri);
      if (this.loading === controller) this.session.start(result);
    } catch (error) {
      if (controller.signal.aborted) {
        // Superseded by a newer read (or the document closed): that read sets the state.
        return this.currentState;
      }
      const info = toModelErrorInfo(error);
      let fileSize: number | null = null;
      try {
        fileSize = (await vscode.workspace.fs.stat(this.uri)).size;
      } catch {
        info.message = info.code === 'io' ? `The file could not be read: ${info.message}` : info.message;
      }
      log.warn(`Cannot read ${this.uri.fsPath} (${fileSize ?? '?'} bytes): [${info.code}] ${info.message}`);
      state = { status: 'error', fileName: this.fileName, fileSize, error: info };
      diagnostics.setError(this.uri, info);
      if (this.loading === controller) this.session.reset();
    }
    if (this.loading === controller) {
      this.loading = undefined;
      this.setState(state);
    }
    return state;
  }

  /** Watches the model's folder and reloads when the model or a file it refers to changes. */
  private watch(): void {
    const folder = vscode.Uri.file(path.dirname(this.uri.fsPath));
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '*'));
    const onChange = (changed: vscode.Uri): void => {
      if (this.isRelevant(changed)) {
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.deps.log.info(`${changed.fsPath} changed on disk; re-reading ${this.fileName}`);
          void this.reload();
        }, RELOAD_DEBOUNCE_MS);
      }
    };
    this.disposables.push(
      watcher,
      watcher.onDidChange(onChange),
      watcher.onDidCreate(onChange),
      watcher.onDidDelete(onChange),
    );
  }

  private isRelevant(changed: vscode.Uri): boolean {
    if (changed.fsPath === this.uri.fsPath) {
      return true;
    }
    const name = path.relative(path.dirname(this.uri.fsPath), changed.fsPath);
    const state = this.currentState;
    if (state.status === 'ready') {
      return state.overview.externalFiles.some((f) => path.normalize(f.location) === name);
    }
    if (state.status === 'error' && state.error.file) {
      return path.normalize(state.error.file) === name;
    }
    return false;
  }

  dispose(): void {
    this.onDispose?.();
    clearTimeout(this.reloadTimer);
    this.loading?.abort();
    this.deps.diagnostics.clear(this.uri);
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
