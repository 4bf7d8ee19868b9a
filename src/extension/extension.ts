/** QuantLens extension entry point: wires the inspector, commands, diagnostics and log. */
import * as vscode from 'vscode';
import type { InspectReport } from '../node/inspectModel';
import type { AnalysisStatus, RenderReport } from '../protocol';
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
  /** The analysis status of a model open in the inspector. */
  inspectorStatus(uri: vscode.Uri): AnalysisStatus | undefined;
  /** Asks the inspector of `uri` to scroll its layer table through `rows` rows and report frame times (in its render report). */
  probeScroll(uri: vscode.Uri, rows: number): boolean;
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
  const inspectors = InspectorEditorProvider.register(context, { log, diagnostics, analysis, memento: context.workspaceState }, reports);
  context.subscriptions.push(log, diagnostics, analysis, inspectors.registration, ...registerCommands(log, analysis, inspectors.provider));
  log.info(`QuantLens ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms`);
  return {
    lastRender: (uri) => reports.get(uri.toString()),
    waitForRender: (uri, predicate, timeoutMs = 20_000) => reports.wait(uri.toString(), predicate, timeoutMs),
    inspect: (uri, schemes, onProgress, signal) =>
      analysis.inspect(uri, schemes ?? configuredSchemes(), { signal, onProgress: (p) => onProgress?.(p.done, p.total) }),
    inspectorStatus: (uri) => inspectors.provider.document(uri)?.session.getStatus(),
    probeScroll: (uri, rows) => inspectors.provider.postTo(uri, { type: 'probe/scroll', rows }),
  };
}

/** Nothing to do: everything is released through context.subscriptions. */
export function deactivate(): void {}
