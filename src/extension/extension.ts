/** QuantLens extension entry point: wires the inspector, commands, diagnostics and log. */
import * as vscode from 'vscode';
import type { InspectReport } from '../node/inspectModel';
import type { AnalysisStatus, RenderReport, RowSensitivity } from '../protocol';
import { AnalysisService, configuredSchemes } from './analysisService';
import { registerCommands } from './commands';
import { ModelDiagnostics } from './diagnostics';
import { InspectorEditorProvider } from './inspectorEditor';
import { Log } from './log';
import { RenderReports } from './renderReports';
import type { EvalResults } from '../core/eval/results';
import type { ResultsRender } from '../resultsProtocol';
import { EvaluationRunner } from './evaluation';
import { EvaluationStore, type StoredResults } from './evaluationStore';
import { rowSensitivity } from './sensitivityRows';
import { PlanFiles } from './planFiles';
import { ResultsViews } from './resultsView';

/** What `activate` returns: lets tests and other extensions observe what the inspector rendered. */
export interface QuantLensApi {
  /** The last render report of the inspector showing `uri`. */
  lastRender(uri: vscode.Uri): RenderReport | undefined;
  /** Waits for a render report of `uri` that satisfies `predicate`. */
  waitForRender(uri: vscode.Uri, predicate: (r: RenderReport) => boolean, timeoutMs?: number): Promise<RenderReport>;
  /** Analyses a model (schemes default to the quantlens.analysis.defaultSchemes setting), as the export command does. */
  inspect(
    uri: vscode.Uri,
    schemes?: string[],
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<InspectReport>;
  /** The analysis status of a model open in the inspector. */
  inspectorStatus(uri: vscode.Uri): AnalysisStatus | undefined;
  /** Asks the inspector of `uri` to scroll its layer table through `rows` rows and report frame times (in its render report). */
  probeScroll(uri: vscode.Uri, rows: number): boolean;
  /** Runs the evaluation a spec describes, as the command does (rejects with the spec's problems). */
  evaluate(spec: vscode.Uri): Promise<EvalResults | undefined>;
  /** The latest evaluation results of a model. */
  results(model: vscode.Uri): EvalResults | undefined;
  /** What the results view of a model last drew. */
  resultsView(model: vscode.Uri): ResultsRender | undefined;
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
  const store = new EvaluationStore(log);
  const sensitivityOf = (stored: StoredResults): { rows: Map<string, RowSensitivity>; source: string } => ({
    rows: rowSensitivity(stored.results),
    source: `${stored.file.toString()}@${stored.results.createdAt}`,
  });
  const inspectors = InspectorEditorProvider.register(
    context,
    {
      log,
      diagnostics,
      analysis,
      memento: context.workspaceState,
      sensitivity: (uri) => {
        const stored = store.get(uri);
        return stored ? sensitivityOf(stored) : undefined;
      },
    },
    reports,
  );
  store.onDidChange((stored) => {
    const measured = sensitivityOf(stored);
    inspectors.provider.document(stored.model)?.session.setSensitivity(measured.rows, measured.source);
  });
  const plans = new PlanFiles(store);
  const resultsViews = new ResultsViews(context.extensionUri, store);
  const version = String(context.extension.packageJSON.version);
  const runner = new EvaluationRunner(
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'evalProcess.js').fsPath,
    version,
    store,
    log,
    async (stored) => {
      await plans.updateFromResults(stored);
    },
  );
  context.subscriptions.push(
    log,
    diagnostics,
    analysis,
    inspectors.registration,
    ...registerCommands(log, analysis, inspectors.provider),
    store,
    plans,
    resultsViews,
    runner,
    vscode.commands.registerCommand('quantlens.runEvaluation', (arg?: vscode.Uri) =>
      runner.command(arg).catch(() => undefined),
    ),
    vscode.commands.registerCommand('quantlens.showResults', (arg?: vscode.Uri) =>
      resultsViews.show(arg instanceof vscode.Uri ? arg : undefined),
    ),
  );
  // Flags of earlier runs come back into the Problems panel.
  void store.loadWorkspace();
  log.info(
    `QuantLens ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms`,
  );
  return {
    lastRender: (uri) => reports.get(uri.toString()),
    waitForRender: (uri, predicate, timeoutMs = 20_000) => reports.wait(uri.toString(), predicate, timeoutMs),
    inspect: (uri, schemes, onProgress, signal) =>
      analysis.inspect(uri, schemes ?? configuredSchemes(), {
        signal,
        onProgress: (p) => onProgress?.(p.done, p.total),
      }),
    inspectorStatus: (uri) => inspectors.provider.document(uri)?.session.getStatus(),
    probeScroll: (uri, rows) => inspectors.provider.postTo(uri, { type: 'probe/scroll', rows }),
    evaluate: async (spec) => (await runner.run(spec))?.results,
    results: (model) => store.get(model)?.results,
    resultsView: (model) => resultsViews.report(model),
  };
}

/** Nothing to do: everything is released through context.subscriptions. */
export function deactivate(): void {}
