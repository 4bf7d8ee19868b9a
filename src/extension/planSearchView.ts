/**
 * The plan search view: one webview panel per spec showing its last plan search (`<spec stem>.search.json`): the
 * Pareto front with clickable points (write that plan, export it), the chosen plan's per-slice table next to its
 * export's, the layer x slice sensitivity and the steps (predicted against measured). Opened by Find a Plan, by the
 * spec's code lens and by the results view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Budget } from '../core/eval/spec';
import type { PlanSearchFile } from '../core/search/planSearchFile';
import type { PlanAction, SearchFromView, SearchRender, SearchTestFromView, SearchToView } from '../planSearchProtocol';
import { encodeNumbers } from '../wire';
import { readSearch, searchUri } from './planSearchActions';
import { inspectorHtml, webviewRoots } from './webviewHtml';

interface Entry {
  panel: vscode.WebviewPanel;
  ready: boolean;
  search?: PlanSearchFile;
  busy?: string;
  report?: SearchRender;
}

/** What the view asks of the extension (planSearchActions.ts). */
export interface PlanSearchHandlers {
  plan(spec: vscode.Uri, search: PlanSearchFile, index: number, action: PlanAction): Promise<unknown>;
}

/** The spec's budget (for the chart's line), read loosely: undefined when the spec does not parse. */
async function specBudget(spec: vscode.Uri): Promise<Budget | undefined> {
  try {
    const value = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(spec))) as { budget?: Budget };
    return value.budget && typeof value.budget === 'object' ? value.budget : undefined;
  } catch {
    return undefined;
  }
}

/** Opens and refreshes plan search panels. */
export class PlanSearchViews implements vscode.Disposable {
  private readonly panels = new Map<string, Entry>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: PlanSearchHandlers,
  ) {}

  /** Shows the search of `spec` (`search`, else the one in its search file); false when there is none. */
  async show(spec: vscode.Uri, search?: PlanSearchFile, busy?: string): Promise<boolean> {
    const shown = search ?? this.panels.get(spec.toString())?.search ?? (await readSearch(spec));
    if (!shown) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('No plan search of {0} yet: run "QuantLens: Find a Plan" first.', path.basename(spec.fsPath)),
      );
      return false;
    }
    const entry = this.panels.get(spec.toString()) ?? this.open(spec);
    entry.search = shown;
    entry.busy = busy;
    entry.panel.reveal(undefined, false);
    await this.post(spec, entry);
    return true;
  }

  /** Updates the view of `spec` when it is open (does not reveal it). */
  async update(spec: vscode.Uri, search: PlanSearchFile, busy?: string): Promise<void> {
    const entry = this.panels.get(spec.toString());
    if (!entry) return;
    entry.search = search;
    entry.busy = busy;
    await this.post(spec, entry);
  }

  /** What the view of `spec` last drew (test builds; undefined otherwise). */
  report(spec: vscode.Uri): SearchRender | undefined {
    return this.panels.get(spec.toString())?.report;
  }

  /** Test builds: the view clicks the point of plan `index` and the menu's `action`, as a user would. */
  pick(spec: vscode.Uri, index: number, action: PlanAction): boolean {
    const entry = this.panels.get(spec.toString());
    if (!entry?.ready) return false;
    const message: SearchToView = { type: 'test/pick', plan: index, action };
    void entry.panel.webview.postMessage(message);
    return true;
  }

  private open(spec: vscode.Uri): Entry {
    const panel = vscode.window.createWebviewPanel(
      'quantlens.planSearch',
      vscode.l10n.t('Plan search: {0}', path.basename(spec.fsPath)),
      vscode.ViewColumn.Active,
      { enableScripts: true, localResourceRoots: webviewRoots(this.extensionUri), retainContextWhenHidden: true },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const entry: Entry = { panel, ready: false };
    this.panels.set(spec.toString(), entry);
    panel.webview.html = inspectorHtml(panel.webview, this.extensionUri, panel.title, 'search.js');
    panel.webview.onDidReceiveMessage((message: SearchFromView | SearchTestFromView) => {
      if (__QUANTLENS_TEST_HOOKS__ && message.type === 'rendered') entry.report = message.report;
      else if (message.type === 'ready') {
        entry.ready = true;
        void this.post(spec, entry);
      } else if (message.type === 'plan' && entry.search)
        void this.handlers.plan(spec, entry.search, message.plan, message.action);
      else if (message.type === 'findPlan') void vscode.commands.executeCommand('quantlens.findPlan', spec);
      else if (message.type === 'openResults' && entry.search) {
        const model = path.resolve(path.dirname(spec.fsPath), entry.search.report.model);
        void vscode.commands.executeCommand('quantlens.showResults', vscode.Uri.file(model));
      }
    });
    panel.onDidDispose(() => this.panels.delete(spec.toString()));
    return entry;
  }

  private async post(spec: vscode.Uri, entry: Entry): Promise<void> {
    if (!entry.ready || !entry.search) return;
    entry.report = undefined;
    const message: SearchToView = {
      type: 'search',
      search: entry.search,
      searchFile: vscode.workspace.asRelativePath(searchUri(spec)),
      budget: await specBudget(spec),
      ...(entry.busy ? { busy: entry.busy } : {}),
    };
    void entry.panel.webview.postMessage(encodeNumbers(message));
  }

  dispose(): void {
    this.panels.forEach((p) => p.panel.dispose());
  }
}
