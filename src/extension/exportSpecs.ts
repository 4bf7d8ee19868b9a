/**
 * Evaluation specs that can calibrate an activation export (`w8a8`): the `*.quantlens.json` files in the model's
 * folder whose `model` is this model and which have a `calibration` block.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The largest spec file read (specs are small JSON documents). */
const SPEC_LIMIT = 1024 * 1024;

/** Specs next to `model` that name it and hold a calibration block. */
export async function calibrationSpecs(model: vscode.Uri): Promise<vscode.Uri[]> {
  const folder = vscode.Uri.file(path.dirname(model.fsPath));
  const found: vscode.Uri[] = [];
  for (const [name, type] of await vscode.workspace.fs.readDirectory(folder)) {
    if (type !== vscode.FileType.File || !name.endsWith('.quantlens.json')) continue;
    const uri = vscode.Uri.joinPath(folder, name);
    try {
      if ((await vscode.workspace.fs.stat(uri)).size > SPEC_LIMIT) continue;
      const spec = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))) as {
        model?: unknown;
        calibration?: unknown;
      };
      const names = typeof spec.model === 'string' && path.resolve(folder.fsPath, spec.model) === model.fsPath;
      if (names && spec.calibration && typeof spec.calibration === 'object') found.push(uri);
    } catch {
      continue; // not JSON (being edited): not offered
    }
  }
  return found;
}
