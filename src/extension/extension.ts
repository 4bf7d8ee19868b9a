/** QuantLens extension entry point: wires the inspector, commands, diagnostics and log. */
import * as vscode from 'vscode';
import type { InspectReport } from '../node/inspectModel';
import type { RenderReport } from '../protocol';
import { AnalysisService, configuredSchemes } from './analysisService';
import { registerCommands } from './commands';
import { ModelDiagnostics } from './diagnostics';
import { InspectorEditorProvider } from './inspectorEditor';
import { Log } from './log';
import { RenderReports } from './renderReports';

/** What `activate` returns: lets tests and other extensions observe what the inspector rendered. */
export interface QuantLensApi {
  /** The last render report of the inspector showing `uri`. */
  lastRender(uri: vscode.Uri): RenderReport | undefined;
  /** Waits for a render report of `uri` that satisfies `predicate`. */
  waitForRender(uri: vscode.Uri, predicate: (r: RenderReport) => boolean, timeoutMs?: number): Promise<RenderReport>;
  /** Analyses a model (schemes default to the quantlens.analysis.defaultSchemes setting), as the export command does. */
  inspect(uri: vscode.Uri, schemes?: string[], onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<InspectReport>;
}

/** Activates QuantLens. */
export function activate(context: vscode.ExtensionContext): QuantLensApi {
  const started = performance.now();
  const log = new Log();
  const diagnostics = new ModelDiagnostics();
  const reports = new RenderReports();
  const overviewWorker = vscode.Uri.joinPath(context.extensionUri, 'dist', 'overviewWorker.js').fsPath;
  const analysisWorker = vscode.Uri.joinPath(context.extensionUri, 'dist', 'analysisWorker.js').fsPath;
  const analysis = new AnalysisService(overviewWorker, analysisWorker, log);
  context.subscriptions.push(
    log,
    diagnostics,
    analysis,
    InspectorEditorProvider.register(context, { log, diagnostics, overviewWorker }, reports),
    ...registerCommands(log, analysis),
  );
  log.info(`QuantLens ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms`);
  return {
    lastRender: (uri) => reports.get(uri.toString()),
    waitForRender: (uri, predicate, timeoutMs = 20_000) => reports.wait(uri.toString(), predicate, timeoutMs),
    inspect: (uri, schemes, onProgress, signal) =>
      analysis.inspect(uri, schemes ?? configuredSchemes(), { signal, onProgress: (p) => onProgress?.(p.done, p.total) }),
  };
}

/** Nothing to do: everything is released through context.subscriptions. */
export function deactivate(): void {}
