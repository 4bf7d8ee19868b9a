/** Writing an export next to the model: a save dialog in the model's folder that never writes over the model. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileSafely } from './safeWriteUi';

/** Save dialog in the model's folder, never over the model itself; returns the path written or null. */
export async function saveNextToModel(
  model: vscode.Uri,
  suffix: string,
  filters: Record<string, string[]>,
  bytes: Uint8Array,
): Promise<string | null> {
  const base = path.basename(model.fsPath, path.extname(model.fsPath));
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(path.dirname(model.fsPath), `${base}-${suffix}`)),
    filters,
    saveLabel: 'Export',
  });
  if (!target) return null;
  if (path.resolve(target.fsPath) === path.resolve(model.fsPath)) {
    throw new Error('QuantLens does not write over the model file; choose another name.');
  }
  await writeFileSafely(target, bytes, { confirmed: true }); // the save dialog asked before replacing
  return target.fsPath;
}
