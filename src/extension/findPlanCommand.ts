/**
 * `QuantLens: Find a Plan` (palette, spec file title): runs the spec's plan search in the inference child process
 * under a cancellable progress notification, writes `<spec stem>.found.qplan.json` next to the spec (a file
 * QuantLens did not make only after a modal confirmation) and opens it; the front and the per-slice table go to
 * the log. Needs a trusted workspace (it runs the model and reads the data).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { foundPlanName, foundPlanText, planSummary, type FindPlanReport } from '../core/search/planReport';
import { findPlanInChild } from '../node/eval/evalClient';
import type { Log } from './log';
import { writeFileSafely } from './safeWriteUi';

/** The command's id. */
export const FIND_PLAN = 'quantlens.findPlan';

/** The spec to search: the one given, else the active editor's `*.quantlens.json`. */
function specOf(arg?: vscode.Uri): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  return active && /\.quantlens\.json$/i.test(active.fsPath) ? active : undefined;
}

/** Runs the search on `spec`; resolves with the plan file written (undefined: none, declined or cancelled). */
async function findPlanCommand(childEntry: string, log: Log, arg?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const spec = specOf(arg);
  if (!spec) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Open a *.quantlens.json spec with a "search" field first.'));
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Finding a plan runs the model and reads the data its spec names: it needs a trusted workspace.'),
    );
    return undefined;
  }
  const name = path.basename(spec.fsPath);
  let report: FindPlanReport;
  try {
    report = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('QuantLens: finding a plan for {0}', name),
        cancellable: true,
      },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        return findPlanInChild(childEntry, spec.fsPath, {
          signal: abort.signal,
          onSpawn: (pid) => log.info(`Plan search of ${name} runs in process ${pid}`),
          onProgress: (p) => progress.report({ message: `${p.message}, ${p.runs} inference runs` }),
        });
      },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof vscode.CancellationError || (error instanceof Error && error.name === 'Canceled')) {
      void vscode.window.showInformationMessage(vscode.l10n.t('QuantLens plan search of {0} cancelled.', name));
      return undefined;
    }
    log.error(`Plan search of ${name} failed: ${message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens plan search of {0} failed: {1}', name, message));
    return undefined;
  }
  log.info(planSummary(report));
  if (!report.chosen) {
    const forcing = report.forcing?.length
      ? ` ${vscode.l10n.t('Slices that force higher precision: {0}.', report.forcing.join(', '))}`
      : '';
    void vscode.window.showWarningMessage(
      vscode.l10n.t('No plan within maxCost meets the budget on every slice.') + forcing,
    );
    return undefined;
  }
  const folder = path.dirname(spec.fsPath);
  const file = vscode.Uri.file(path.join(folder, foundPlanName(name)));
  const model = path.relative(folder, path.resolve(folder, report.model)) || report.model;
  if (!(await writeFileSafely(file, foundPlanText(report.chosen, report.notes, model), { folder }))) return undefined;
  await vscode.window.showTextDocument(file);
  return file;
}

/** Registers `QuantLens: Find a Plan`. */
export function registerFindPlan(childEntry: string, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(FIND_PLAN, (arg?: vscode.Uri) => findPlanCommand(childEntry, log, arg));
}
