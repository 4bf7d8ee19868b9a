/** The results view: one webview panel per model showing its latest evaluation. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openVariant } from './resultsVariant';
import { encodeNumbers } from '../wire';
import type { ResultsFromView } from '../resultsProtocol';
import type { ResultsRender, ResultsTestFromView } from '../testHooks';
import type { EvaluationStore, StoredResults } from './evaluationStore';
import { inspectorHtml, webviewRoots } from './webviewHtml';

/** Opens and refreshes results panels. */
export class ResultsViews implements vscode.Disposable {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; ready: boolean; report?: ResultsRender }>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: EvaluationStore,
  ) {
    this.subscription = store.onDidChange((stored) => this.post(stored));
  }

  /** Shows the results of a model (the active or only one when not given). */
  async show(model?: vscode.Uri): Promise<boolean> {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const active = tab instanceof vscode.TabInputCustom ? tab.uri : vscode.window.activeTextEditor?.document.uri;
    const stored = model
      ? this.store.get(model)
      : (active && this.store.get(active)) ||
        this.store.all().find((s) => s.spec.toString() === active?.toString()) ||
        this.store.all()[0];
    if (!stored) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('No evaluation results yet: run "QuantLens: Run Slice Evaluation" first.'),
      );
      return false;
    }
    const key = stored.model.toString();
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal();
      this.post(stored);
      return true;
    }
    const panel = vscode.window.createWebviewPanel(
      'quantlens.results',
      vscode.l10n.t('Evaluation: {0}', path.basename(stored.model.fsPath)),
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        localResourceRoots: webviewRoots(this.extensionUri),
      },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const entry: { panel: vscode.WebviewPanel; ready: boolean; report?: ResultsRender } = { panel, ready: false };
    this.panels.set(key, entry);
    panel.webview.html = inspectorHtml(panel.webview, this.extensionUri, panel.title, 'results.js');
    panel.webview.onDidReceiveMessage((message: ResultsFromView | ResultsTestFromView) => {
      if (__QUANTLENS_TEST_HOOKS__ && message.type === 'rendered') {
        entry.report = message.report;
      } else if (message.type === 'ready') {
        entry.ready = true;
        const latest = this.store.get(stored.model);
        if (latest) this.post(latest);
      } else if (message.type === 'reveal') {
        void vscode.commands.executeCommand('quantlens.revealLayer', stored.model, message.weight, message.scheme);
      } else if (message.type === 'variant') {
        void openVariant(this.store.get(stored.model) ?? stored, message.id);
      } else if (message.type === 'findPlan' || message.type === 'showPlanSearch') {
        const spec = (this.store.get(stored.model) ?? stored).spec;
        void vscode.commands.executeCommand(`quantlens.${message.type}`, spec);
      }
    });
    panel.onDidDispose(() => this.panels.delete(key));
    return true;
  }

  /** What the view of a model last drew (test builds; undefined otherwise). */
  report(model: vscode.Uri): ResultsRender | undefined {
    return this.panels.get(model.toString())?.report;
  }

  private post(stored: StoredResults): void {
    const entry = this.panels.get(stored.model.toString());
    if (!entry?.ready) return;
    entry.report = undefined;
    void entry.panel.webview.postMessage(
      encodeNumbers({
        type: 'results',
        results: stored.results,
        resultsFile: vscode.workspace.asRelativePath(stored.file),
      }),
    );
  }

  dispose(): void {
    this.subscription.dispose();
    this.panels.forEach((p) => p.panel.dispose());
  }
}
