/** QuantLens extension entry point: wires the inspector, commands, diagnostics and log. */
import * as vscode from 'vscode';
import type { InspectReport } from '../core/view/inspectReport';
import type { AnalysisStatus, RowSensitivity } from '../protocol';
import { AnalysisService, configuredSchemes } from './analysisService';
import { registerCommands } from './commands';
import { registerFindPlan } from './findPlanCommand';
import { ModelDiagnostics } from './diagnostics';
import { INSPECTOR_VIEW_TYPE, InspectorEditorProvider } from './inspectorEditor';
import { Log } from './log';
import { RenderReports } from './renderReports';
import type { EvalResults } from '../core/eval/results';
import { EvaluationRunner, registerEvaluationCommands } from './evaluation';
import { registerExportCommands } from './exportCommand';
import { registerPlanEvaluation } from './planEvaluation';
import { EvaluationStore, type StoredResults } from './evaluationStore';
import { rowSensitivity } from './sensitivityRows';
import { rowActivations } from '../core/view/activationDetail';
import type { MeasuredActivations } from './inspectorSession';
import { PlanFiles } from './planFiles';
import { ResultsViews } from './resultsView';
import { withTestApi, type QuantLensTestApi } from './testApi';
import { reopenModelsInInspector } from './reopenInInspector';

/** What `activate` returns: analysis and evaluation for other extensions and tests (test builds add QuantLensTestApi). */
export interface QuantLensApi {
  /** Analyses a model (schemes default to the quantlens.analysis.defaultSchemes setting), as the export command does. */
  inspect(
    uri: vscode.Uri,
    schemes?: string[],
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<InspectReport>;
  /** The analysis status of a model open in the inspector. */
  inspectorStatus(uri: vscode.Uri): AnalysisStatus | undefined;
  /** Runs the evaluation a spec describes, as the command does (rejects with the spec's problems). */
  evaluate(spec: vscode.Uri): Promise<EvalResults | undefined>;
  /** The latest evaluation results of a model. */
  results(model: vscode.Uri): EvalResults | undefined;
}

/** Activates QuantLens. */
export function activate(context: vscode.ExtensionContext): QuantLensApi | QuantLensTestApi {
  const started = performance.now();
  const log = new Log();
  const diagnostics = new ModelDiagnostics();
  const reports = __QUANTLENS_TEST_HOOKS__ ? new RenderReports() : undefined;
  const overviewWorker = vscode.Uri.joinPath(context.extensionUri, 'dist', 'overviewWorker.js').fsPath;
  const analysisWorker = vscode.Uri.joinPath(context.extensionUri, 'dist', 'analysisWorker.js').fsPath;
  const analysis = new AnalysisService(overviewWorker, analysisWorker, log);
  const store = new EvaluationStore(log);
  const inspectors = registerInspectors(context, { log, diagnostics, analysis, store }, reports);
  const evaluation = createEvaluation(context, store, log);
  context.subscriptions.push(
    log,
    diagnostics,
    analysis,
    inspectors.registration,
    ...registerCommands(log, analysis, inspectors.provider),
    store,
    ...evaluation.disposables,
    // A window's first open of a model can land in the text editor before VS Code knows the inspector.
    reopenModelsInInspector(INSPECTOR_VIEW_TYPE, log),
    ...registerExportCommands(context, log, evaluation.runner),
  );
  // Flags of earlier runs come back into the Problems panel.
  void store.loadWorkspace();
  log.info(
    `QuantLens ${String(context.extension.packageJSON.version)} activated in ${(performance.now() - started).toFixed(1)} ms`,
  );
  const api = shippedApi(analysis, inspectors.provider, evaluation.runner, store);
  return __QUANTLENS_TEST_HOOKS__ && reports
    ? withTestApi(api, reports, inspectors.provider, evaluation.resultsViews, store)
    : api;
}

/** The inspector editor, fed with the measured sensitivity of the latest evaluation of its model. */
function registerInspectors(
  context: vscode.ExtensionContext,
  parts: { log: Log; diagnostics: ModelDiagnostics; analysis: AnalysisService; store: EvaluationStore },
  reports: RenderReports | undefined,
): ReturnType<typeof InspectorEditorProvider.register> {
  const { store } = parts;
  const inspectors = InspectorEditorProvider.register(
    context,
    {
      log: parts.log,
      diagnostics: parts.diagnostics,
      analysis: parts.analysis,
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
    inspectors.provider
      .document(stored.model)
      ?.session.setSensitivity(measured.rows, measured.source, measured.activations);
  });
  return inspectors;
}

/** The evaluation runner, plan files and results views, with their commands (disposables in disposal order). */
function createEvaluation(
  context: vscode.ExtensionContext,
  store: EvaluationStore,
  log: Log,
): { runner: EvaluationRunner; resultsViews: ResultsViews; disposables: vscode.Disposable[] } {
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
  const disposables = [
    plans,
    resultsViews,
    runner,
    ...registerEvaluationCommands(runner),
    ...registerFindPlan(
      context.extensionUri,
      vscode.Uri.joinPath(context.extensionUri, 'dist', 'evalProcess.js').fsPath,
      log,
    ),
    ...registerPlanEvaluation(runner),
    vscode.commands.registerCommand('quantlens.runEvaluation', (arg?: vscode.Uri) =>
      runner.command(arg).catch(() => undefined),
    ),
    vscode.commands.registerCommand('quantlens.showResults', (arg?: vscode.Uri) =>
      resultsViews.show(arg instanceof vscode.Uri ? arg : undefined),
    ),
  ];
  return { runner, resultsViews, disposables };
}

function sensitivityOf(stored: StoredResults): {
  rows: Map<string, RowSensitivity>;
  source: string;
  activations: MeasuredActivations;
} {
  const stats = stored.results.activations ?? [];
  return {
    rows: rowSensitivity(stored.results),
    source: `${stored.file.toString()}@${stored.results.createdAt}`,
    activations: { byLayer: rowActivations(stored.results), stats },
  };
}

function shippedApi(
  analysis: AnalysisService,
  inspectors: InspectorEditorProvider,
  runner: EvaluationRunner,
  store: EvaluationStore,
): QuantLensApi {
  return {
    inspect: (uri, schemes, onProgress, signal) =>
      analysis.inspect(uri, schemes ?? configuredSchemes(), {
        signal,
        onProgress: (p) => onProgress?.(p.done, p.total),
      }),
    inspectorStatus: (uri) => inspectors.document(uri)?.session.getStatus(),
    evaluate: async (spec) => (await runner.run(spec))?.results,
    results: (model) => store.get(model)?.results,
  };
}

/** Nothing to do: everything is released through context.subscriptions. */
export function deactivate(): void {}
