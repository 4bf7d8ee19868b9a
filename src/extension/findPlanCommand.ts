/**
 * `QuantLens: Find a Plan` (palette, spec file title and code lens, results view): runs the spec's plan search in
 * the inference child process under a cancellable progress notification, keeps it in `<spec stem>.search.json` and
 * shows it in the plan search view, writes `<spec stem>.found.qplan.json` next to the spec (a file QuantLens did not
 * make only after a modal confirmation), then exports the plan and measures the export on the spec's slices
 * (acceptance on the export), shown next to the simulation. Cancelling keeps the front found so far (the child
 * answers with it), shown marked as cancelled. Needs a trusted workspace (it runs the model and reads the data).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { planSummary, type FindPlanReport } from '../core/search/planReport';
import { searchFile, searchFileName, type PlanSearchFile } from '../core/search/planSearchFile';
import { findPlanInChild } from '../node/eval/evalClient';
import type { Log } from './log';
import { exportAndMeasure, persistSearch, pickedPlan, readSearch, writeSearchPlan } from './planSearchActions';
import { registerPlanSearchLens } from './planSearchLens';
import { PlanSearchViews } from './planSearchView';
import type { PlanAction } from '../planSearchProtocol';

/** The command's id. */
export const FIND_PLAN = 'quantlens.findPlan';
/** Shows a spec's last plan search (code lens, results view). */
export const SHOW_PLAN_SEARCH = 'quantlens.showPlanSearch';

/** Options of the command (tests, other commands). */
export interface FindPlanOptions {
  /** Export the found plan and measure the export on the spec (default true). */
  export?: boolean;
}

/** What a search did (the command's value). */
export interface FindPlanOutcome {
  /** The found plan's file, when written. */
  written?: vscode.Uri;
  search?: PlanSearchFile;
}

/** Seconds a stopped search may take to answer with its front before its process is killed. */
const STOP_GRACE_MS = 30_000;

/** The spec to search: the one given, else the active editor's `*.quantlens.json`. */
function specOf(arg?: vscode.Uri): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  return active && /\.quantlens\.json$/i.test(active.fsPath) ? active : undefined;
}

/** Runs and shows plan searches. */
class FindPlan {
  /** Running searches: stopping one keeps its front. */
  readonly running = new Set<AbortController>();
  /** The last progress of a search (test builds read it to stop one mid-search). */
  lastProgress = '';
  readonly views: PlanSearchViews;

  constructor(
    extensionUri: vscode.Uri,
    private readonly childEntry: string,
    private readonly log: Log,
  ) {
    this.views = new PlanSearchViews(extensionUri, {
      plan: (spec, search, index, action) =>
        this.picked(spec, search, index, action).catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          this.log.error(`Plan ${index} of the search of ${spec.fsPath}: ${action} failed: ${message}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens could not {0} the plan: {1}', action, message));
        }),
    });
  }

  /** A plan picked in the view (a chart point, a front row): written, or exported and measured. */
  private async picked(spec: vscode.Uri, search: PlanSearchFile, index: number, action: PlanAction): Promise<void> {
    this.log.info(`Plan search view of ${path.basename(spec.fsPath)}: ${action} plan ${index}`);
    const busy = action === 'export' ? vscode.l10n.t('Exporting the plan and measuring the export…') : undefined;
    if (busy) await this.views.update(spec, search, busy);
    const picked = await pickedPlan(spec, search, index, action);
    if (picked.file) this.log.info(`Wrote ${picked.file.fsPath}`);
    await this.views.update(spec, picked.search);
    if (action === 'export') await this.views.show(spec, picked.search);
  }

  /** Stops every running search (each answers with the front it found); returns how many. */
  stopAll(): number {
    const n = this.running.size;
    for (const stop of this.running) stop.abort();
    return n;
  }

  /** The command. */
  async command(arg?: vscode.Uri, options: FindPlanOptions = {}): Promise<FindPlanOutcome | undefined> {
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
    const report = await this.search(spec);
    if (!report) return undefined;
    this.log.info(planSummary(report));
    const search = searchFile(report, new Date());
    const name = path.basename(spec.fsPath);
    if (report.cancelled || !report.chosen) {
      // A cancelled search does not replace a finished one (whose plan and export are next to the spec).
      const last = report.cancelled ? await readSearch(spec) : undefined;
      if (last && !last.report.cancelled)
        this.log.info(`Plan search of ${name} cancelled: ${searchFileName(name)} keeps the last finished search.`);
      else await persistSearch(spec, search);
      await this.views.show(spec, search);
      if (report.cancelled)
        void vscode.window.showInformationMessage(
          vscode.l10n.t('QuantLens plan search of {0} cancelled: the front found so far is shown.', name),
        );
      else this.noPlan(report);
      return { search };
    }
    return this.found(spec, search, options);
  }

  /** A plan was found: write it, show the search, export it and measure the export. */
  private async found(spec: vscode.Uri, search: PlanSearchFile, options: FindPlanOptions): Promise<FindPlanOutcome> {
    const file = await writeSearchPlan(spec, search, search.report.chosen!);
    if (file) search.written = path.relative(path.dirname(spec.fsPath), file.fsPath);
    await persistSearch(spec, search);
    const exporting = file && options.export !== false;
    await this.views.show(
      spec,
      search,
      exporting ? vscode.l10n.t('Exporting the found plan and measuring the export…') : undefined,
    );
    if (!exporting) return { written: file, search };
    const exported = await exportAndMeasure(spec, file, search.report.minSliceSize).catch((error: unknown) => {
      this.log.error(`Export of ${file.fsPath} failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
    const done: PlanSearchFile = exported ? { ...search, exported } : search;
    if (exported) await persistSearch(spec, done);
    await this.views.show(spec, done);
    return { written: file, search: done };
  }

  private noPlan(report: FindPlanReport): void {
    const forcing = report.forcing?.length
      ? ` ${vscode.l10n.t('Slices that force higher precision: {0}.', report.forcing.join(', '))}`
      : '';
    void vscode.window.showWarningMessage(
      vscode.l10n.t('No plan within maxCost meets the budget on every slice.') + forcing,
    );
  }

  /** The search in the child under a progress notification; Cancel stops it and keeps its front. */
  private async search(spec: vscode.Uri): Promise<FindPlanReport | undefined> {
    const name = path.basename(spec.fsPath);
    const stop = new AbortController();
    const kill = new AbortController();
    this.running.add(stop);
    this.lastProgress = '';
    try {
      return await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('QuantLens: finding a plan for {0}', name),
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => stop.abort());
          stop.signal.addEventListener('abort', () => {
            progress.report({ message: vscode.l10n.t('stopping: keeping the front found so far') });
            setTimeout(() => kill.abort(new vscode.CancellationError()), STOP_GRACE_MS).unref?.();
          });
          return findPlanInChild(this.childEntry, spec.fsPath, {
            signal: kill.signal,
            stop: stop.signal,
            onSpawn: (pid) => this.log.info(`Plan search of ${name} runs in process ${pid}`),
            onProgress: (p) => {
              this.lastProgress = p.message;
              progress.report({ message: `${p.message}, ${p.runs} inference runs` });
            },
          });
        },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (stop.signal.aborted || error instanceof vscode.CancellationError) {
        // Stopped before the search had a front (while measuring the sensitivities).
        void vscode.window.showInformationMessage(vscode.l10n.t('QuantLens plan search of {0} cancelled.', name));
        return undefined;
      }
      this.log.error(`Plan search of ${name} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens plan search of {0} failed: {1}', name, message));
      return undefined;
    } finally {
      this.running.delete(stop);
    }
  }
}

/** Registers `QuantLens: Find a Plan`, the plan search view and the spec's code lens. */
export function registerFindPlan(extensionUri: vscode.Uri, childEntry: string, log: Log): vscode.Disposable[] {
  const finder = new FindPlan(extensionUri, childEntry, log);
  const disposables = [
    finder.views,
    vscode.commands.registerCommand(FIND_PLAN, (arg?: vscode.Uri, options?: FindPlanOptions) =>
      finder.command(arg, options),
    ),
    vscode.commands.registerCommand(SHOW_PLAN_SEARCH, (arg?: vscode.Uri) => {
      const spec = specOf(arg);
      return spec ? finder.views.show(spec) : false;
    }),
    vscode.commands.registerCommand('quantlens.stopPlanSearch', () => finder.stopAll()),
    registerPlanSearchLens(),
  ];
  if (__QUANTLENS_TEST_HOOKS__)
    disposables.push(
      vscode.commands.registerCommand('quantlens.test.planSearchView', (spec: vscode.Uri) => finder.views.report(spec)),
      vscode.commands.registerCommand('quantlens.test.planSearchProgress', () => finder.lastProgress),
      vscode.commands.registerCommand(
        'quantlens.test.pickPlan',
        (spec: vscode.Uri, index: number, action: 'write' | 'export') => finder.views.pick(spec, index, action),
      ),
    );
  return disposables;
}
