/** Code lenses on a spec's `"search"` field: find a plan, and show the last plan search when there is one. */
import { parseTree, findNodeAtLocation } from 'jsonc-parser';
import * as vscode from 'vscode';
import { readSearch } from './planSearchActions';

class SearchLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const root = parseTree(document.getText());
    const search = root && findNodeAtLocation(root, ['search']);
    const key = search?.parent?.children?.[0];
    if (!search || !key) return [];
    const at = document.positionAt(key.offset);
    const range = new vscode.Range(at, at);
    const lenses = [
      new vscode.CodeLens(range, {
        title: vscode.l10n.t('$(search) Find a Plan'),
        tooltip: vscode.l10n.t(
          'Search the cheapest per-layer plan among the candidates that meets the budget on every slice; show the front',
        ),
        command: 'quantlens.findPlan',
        arguments: [document.uri],
      }),
    ];
    const last = await readSearch(document.uri);
    if (last)
      lenses.push(
        new vscode.CodeLens(range, {
          title: vscode.l10n.t('$(graph-scatter) Show the last plan search ({0} plans)', last.report.plans.length),
          tooltip: vscode.l10n.t(
            'The Pareto front, the per-slice table and the sensitivity heatmap of {0}',
            last.createdAt,
          ),
          command: 'quantlens.showPlanSearch',
          arguments: [document.uri],
        }),
      );
    return lenses;
  }

  refresh(): void {
    this.changed.fire();
  }
}

/** Registers the lenses on `*.quantlens.json` (refreshed when a search file changes). */
export function registerPlanSearchLens(): vscode.Disposable {
  const lens = new SearchLens();
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.search.json');
  return vscode.Disposable.from(
    vscode.languages.registerCodeLensProvider({ pattern: '**/*.quantlens.json' }, lens),
    watcher,
    watcher.onDidCreate(() => lens.refresh()),
    watcher.onDidChange(() => lens.refresh()),
  );
}
