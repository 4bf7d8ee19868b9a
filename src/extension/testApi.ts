/** The members of the extension API that only test builds expose (`__QUANTLENS_TEST_HOOKS__`): what the views rendered. */
import type * as vscode from 'vscode';
import type { RenderReport, ResultsRender } from '../testHooks';
import type { QuantLensApi } from './extension';
import type { InspectorEditorProvider } from './inspectorEditor';
import type { RenderReports } from './renderReports';
import type { ResultsViews } from './resultsView';
import type { EvaluationStore, StoredResults } from './evaluationStore';

/** The API of a test build: the shipped API plus what the webviews report about their own rendering. */
export interface QuantLensTestApi extends QuantLensApi {
  /** The last render report of the inspector showing `uri`. */
  lastRender(uri: vscode.Uri): RenderReport | undefined;
  /** Waits for a render report of `uri` that satisfies `predicate`. */
  waitForRender(uri: vscode.Uri, predicate: (r: RenderReport) => boolean, timeoutMs?: number): Promise<RenderReport>;
  /** Asks the inspector of `uri` to scroll its layer table through `rows` rows and report frame times (in its render report). */
  probeScroll(uri: vscode.Uri, rows: number): boolean;
  /** What the results view of a model last drew. */
  resultsView(model: vscode.Uri): ResultsRender | undefined;
  /** Reads a results file into the store, as activation does for the workspace's results files. */
  loadResults(file: vscode.Uri): Promise<StoredResults | undefined>;
}

/** Adds the test-only members to `api`. */
export function withTestApi(
  api: QuantLensApi,
  reports: RenderReports,
  inspectors: InspectorEditorProvider,
  resultsViews: ResultsViews,
  store: EvaluationStore,
): QuantLensTestApi {
  return {
    ...api,
    lastRender: (uri) => reports.get(uri.toString()),
    waitForRender: (uri, predicate, timeoutMs = 20_000) => reports.wait(uri.toString(), predicate, timeoutMs),
    probeScroll: (uri, rows) => inspectors.postTo(uri, { type: 'probe/scroll', rows }),
    resultsView: (model) => resultsViews.report(model),
    loadResults: (file) => store.load(file),
  };
}
