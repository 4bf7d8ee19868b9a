/**
 * `QuantLens: Create Evaluation Spec`: a starter spec next to a model, its task inferred from the model's
 * signature (src/core/eval/specDraft.ts), its data file picked by the user, its `inputs` filled from the
 * model's inputs. Never overwrites a file (an existing spec is opened instead).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { draftSpec, inferTask, type ModelSignature } from '../core/eval/specDraft';
import { readOverviewInWorker } from '../node/overviewClient';
import { targetState } from '../node/safeWrite';
import type { Log } from './log';
import { writeFileSafely } from './safeWriteUi';

/** Reads a model's inputs and outputs in the overview worker (`overviewWorker`: dist/overviewWorker.js). */
export async function readSignature(overviewWorker: string, model: string): Promise<ModelSignature> {
  const { overview } = await readOverviewInWorker(overviewWorker, model);
  return { inputs: overview.inputs, outputs: overview.outputs };
}

const TASK_WORDS: Record<string, string> = {
  'language-model': 'a language-model',
  classification: 'a classification',
  regression: 'a regression',
  outputs: 'an output-agreement',
};

/** Asks for the data file the spec will read (starting in the model's folder). */
async function pickData(model: vscode.Uri, why: string): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    defaultUri: vscode.Uri.file(path.dirname(model.fsPath)),
    canSelectMany: false,
    canSelectFiles: true,
    canSelectFolders: false,
    openLabel: vscode.l10n.t('Use as Evaluation Data'),
    title: vscode.l10n.t('QuantLens: the labelled data to evaluate {0} on ({1})', path.basename(model.fsPath), why),
    filters: {
      [vscode.l10n.t('Data')]: ['jsonl', 'csv', 'npy', 'npz', 'idx', 'gz'],
      [vscode.l10n.t('All files')]: ['*'],
    },
  });
  return picked?.[0];
}

/**
 * Writes `<model stem>.quantlens.json` next to the model and opens it; `data` skips the file dialog.
 * Returns the spec (undefined when the user chose no data).
 */
export async function createSpec(
  model: vscode.Uri,
  overviewWorker: string,
  log: Log,
  data?: vscode.Uri,
): Promise<vscode.Uri | undefined> {
  const stem = path.basename(model.fsPath).replace(/\.onnx$/i, '');
  const folder = path.dirname(model.fsPath);
  const uri = vscode.Uri.file(path.join(folder, `${stem}.quantlens.json`));
  // lstat, not stat: a dangling symlink must not count as "no file yet" (writing would create its target).
  if ((await targetState(uri.fsPath)).kind !== 'missing') {
    await vscode.window.showTextDocument(uri);
    return uri;
  }
  const signature = await readSignature(overviewWorker, model.fsPath);
  const task = inferTask(signature);
  const chosen = data ?? (await pickData(model, task.reason));
  if (!chosen) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No data file chosen: no spec written.'));
    return undefined;
  }
  const relative = path.relative(folder, chosen.fsPath).split(path.sep).join('/');
  const spec = draftSpec(path.basename(model.fsPath), relative, signature);
  const written = await writeFileSafely(uri, `${JSON.stringify(spec, null, 2)}\n`, { folder });
  if (!written) return undefined;
  log.info(`Created ${uri.fsPath}: ${task.type} (${task.reason}), data ${relative}`);
  await vscode.window.showTextDocument(uri);
  void vscode.window.showInformationMessage(
    vscode.l10n.t(
      'Wrote {0}: {1} spec ({2}). Check that "inputs" maps each model input to a field of {3}.',
      path.basename(uri.fsPath),
      TASK_WORDS[task.type],
      task.reason,
      path.basename(chosen.fsPath),
    ),
  );
  return uri;
}
