/**
 * `QuantLens: Compare with Original…` in the inspector of a quantized model: the weight diff against the fp32
 * original (per weight the SQNR of the dequantized weight, the stored format, weights in only one model), shown
 * as a Markdown document. Reads both models in the export child process; needs no workspace trust.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelDiff } from '../node/export/diffModels';
import { runExportChild } from '../node/export/exportClient';

/** `<base>.<label>.onnx` -> `<base>.onnx` when it exists next to it (how exports are named). */
function guessOriginal(quantized: vscode.Uri): vscode.Uri | undefined {
  const parts = path.basename(quantized.fsPath, '.onnx').split('.');
  for (let n = parts.length - 1; n >= 1; n--) {
    const candidate = path.join(path.dirname(quantized.fsPath), `${parts.slice(0, n).join('.')}.onnx`);
    if (existsSync(candidate)) return vscode.Uri.file(candidate);
  }
  return undefined;
}

/** The diff as Markdown. */
export function diffMarkdown(d: ModelDiff): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = d.weights.map(
    (w) =>
      `| ${cell(w.layer ?? '')} | ${cell(w.name)} | ${w.exact ? 'exact' : w.sqnrDb.toFixed(1)} | ${w.maxAbsError.toPrecision(3)} | ${cell(w.format)} |`,
  );
  const only = (title: string, list: ModelDiff['onlyInOriginal']): string[] =>
    list.length ? ['', `**${title}:** ${list.map((w) => `${cell(w.name)} (${cell(w.format)})`).join(', ')}`] : [];
  return [
    `# Weights of ${path.basename(d.quantized)} against ${path.basename(d.original)}`,
    '',
    '| layer | weight | SQNR (dB) | max abs error | stored as |',
    '|---|---|---|---|---|',
    ...rows,
    ...only('Only in the original', d.onlyInOriginal),
    ...only('Only in the quantized model', d.onlyInQuantized),
    '',
  ].join('\n');
}

/** The command: resolves with the diff (undefined when cancelled). */
async function compare(entry: string, arg?: vscode.Uri, original?: vscode.Uri): Promise<ModelDiff | undefined> {
  const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined;
  const quantized = arg ?? active?.uri;
  if (!quantized?.fsPath.endsWith('.onnx')) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open a quantized .onnx model in the inspector first.'));
    return undefined;
  }
  const guess = guessOriginal(quantized);
  const chosen =
    original ??
    (
      await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Choose the fp32 original of {0}', path.basename(quantized.fsPath)),
        filters: { 'ONNX model': ['onnx'] },
        defaultUri: guess ?? vscode.Uri.file(path.dirname(quantized.fsPath)),
      })
    )?.[0];
  if (!chosen) return undefined;
  try {
    const diff = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('QuantLens: comparing weights'),
        cancellable: true,
      },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        return runExportChild(
          entry,
          'diff',
          { original: chosen.fsPath, quantized: quantized.fsPath },
          { signal: abort.signal },
        );
      },
    );
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: diffMarkdown(diff) });
    await vscode.window.showTextDocument(doc, { preview: false });
    return diff;
  } catch (error) {
    if (error instanceof vscode.CancellationError) return undefined;
    void vscode.window.showErrorMessage(
      vscode.l10n.t(
        'QuantLens could not compare the models: {0}',
        error instanceof Error ? error.message : String(error),
      ),
    );
    return undefined;
  }
}

/** Registers `quantlens.compareWithOriginal` (args: the quantized model, optionally the original). */
export function registerCompareCommand(context: vscode.ExtensionContext): vscode.Disposable {
  const entry = vscode.Uri.joinPath(context.extensionUri, 'dist', 'exportProcess.js').fsPath;
  return vscode.commands.registerCommand('quantlens.compareWithOriginal', (arg?: vscode.Uri, original?: vscode.Uri) =>
    compare(entry, arg instanceof vscode.Uri ? arg : undefined, original),
  );
}
