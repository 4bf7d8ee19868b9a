/** QuantLens extension entry point: wires the inspector, commands, diagnostics and log. */
import * as vscode from 'vscode';
import type { RenderReport } from '../protocol';
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
}

/** Activates QuantLens. */
export function activate(context: vscode.ExtensionContext): QuantLensApi {
  const started = performance.now();
  const log = new Log();
  const diagnostics = new ModelDiagnostics();
  const reports = new RenderReports();
  const overviewWorker = vscode.Uri.joinPath(context.extensionUri, 'dist', 'overviewWorker.js').fsPath;
  context.subscriptions.push(
    log,
    diagnostics,
    InspectorEditorProvider.register(context, { log, diagnostics, overviewWorker }, reports),
    ...registerCommands(log),
  );
  log.info(`QuantLens ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms`);
  return {
    lastRender: (uri) => reports.get(uri.toString()),
    waitForRender: (uri, predicate, timeoutMs = 20_000) => reports.wait(uri.toString(), predicate, timeoutMs),
  };
}

/** Nothing to do: everything is released through context.subscriptions. */
export function deactivate(): void {}
