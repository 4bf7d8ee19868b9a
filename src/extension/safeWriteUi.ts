/** Writes from the extension through node/safeWrite (vscode.workspace.fs.writeFile follows symlinks). */
import * as vscode from 'vscode';
import { safeWriteFile, WriteRefused } from '../node/safeWrite';

/** Options of writeFileSafely. */
export interface WriteOptions {
  /** For names QuantLens derives: the folder the file must stay in. */
  folder?: string;
  /** The user already confirmed (a save dialog asks before replacing a file). */
  confirmed?: boolean;
}

/**
 * Writes `data` to `uri`: file: URIs atomically and never through a symlink, asking in a modal dialog before
 * overwriting a file QuantLens did not make. Resolves false when the user declined; throws WriteRefused.
 */
export async function writeFileSafely(
  uri: vscode.Uri,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<boolean> {
  if (uri.scheme !== 'file') {
    await vscode.workspace.fs.writeFile(uri, typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return true;
  }
  try {
    await safeWriteFile(uri.fsPath, data, { folder: options.folder, force: options.confirmed });
    return true;
  } catch (error) {
    if (!(error instanceof WriteRefused) || !error.needsConfirmation) throw error;
    const overwrite = vscode.l10n.t('Overwrite');
    const choice = await vscode.window.showWarningMessage(error.message, { modal: true }, overwrite);
    if (choice !== overwrite) return false;
    await safeWriteFile(uri.fsPath, data, { folder: options.folder, force: true });
    return true;
  }
}
