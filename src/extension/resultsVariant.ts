/**
 * A variant picked in the results view (a point of the accuracy-vs-cost chart): a plan opens its file and offers
 * its export, a scheme offers its export, a model-file or exported variant (and fp32) opens its model in the
 * inspector. The export runs `QuantLens: Export Quantized Model…` with the spec of the results.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResults } from './evaluationStore';

/** What picking a variant does: pure, from its id and kind. */
export type VariantAction =
  | { kind: 'plan'; file: string; export: true }
  | { kind: 'scheme'; scheme: string; export: true }
  | { kind: 'model'; file: string; export: false };

/** The action for the variant `id` of `stored` (file paths resolved against the spec's folder); undefined: unknown. */
export function variantAction(
  stored: Pick<StoredResults, 'results' | 'spec' | 'model'>,
  id: string,
): VariantAction | undefined {
  const v = stored.results.variants.find((x) => x.id === id);
  if (!v) return undefined;
  const dir = path.dirname(stored.spec.fsPath);
  if (v.kind === 'plan') return { kind: 'plan', file: path.resolve(dir, v.id.slice('plan:'.length)), export: true };
  if (v.kind === 'scheme') return { kind: 'scheme', scheme: v.id, export: true };
  if ((v.kind === 'file' || v.kind === 'export') && v.model !== undefined)
    return { kind: 'model', file: path.resolve(dir, v.model), export: false };
  return { kind: 'model', file: stored.model.fsPath, export: false };
}

/** Runs the action of a picked variant; resolves with it (for tests). */
export async function openVariant(stored: StoredResults, id: string): Promise<VariantAction | undefined> {
  const action = variantAction(stored, id);
  if (!action) return undefined;
  if (action.kind === 'model') {
    const uri = vscode.Uri.file(action.file);
    await vscode.commands.executeCommand('vscode.openWith', uri, 'quantlens.inspector', vscode.ViewColumn.Beside);
    return action;
  }
  // Beside the results view, which stays in view.
  if (action.kind === 'plan')
    await vscode.window.showTextDocument(vscode.Uri.file(action.file), {
      preview: true,
      preserveFocus: true,
      viewColumn: vscode.ViewColumn.Beside,
    });
  const exportLabel = vscode.l10n.t('Export…');
  const what = action.kind === 'plan' ? path.basename(action.file) : action.scheme;
  void vscode.window
    .showInformationMessage(
      vscode.l10n.t('Export {0} as a quantized model, verified on {1}?', what, path.basename(stored.spec.fsPath)),
      exportLabel,
    )
    .then((choice) => {
      if (choice !== exportLabel) return;
      const options =
        action.kind === 'plan'
          ? { plan: vscode.Uri.file(action.file), spec: stored.spec }
          : { scheme: action.scheme, spec: stored.spec };
      const arg = action.kind === 'plan' ? vscode.Uri.file(action.file) : stored.model;
      return vscode.commands.executeCommand('quantlens.exportModel', arg, options);
    });
  return action;
}
