/**
 * The first open of a `.onnx` in a window whose profile has never seen QuantLens (first window after install,
 * a new profile, a browser workbench with fresh storage) can land in VS Code's binary text editor: VS Code's
 * editor resolver learns the `*.onnx` association from the extension's manifest only once the extension host has
 * scanned the extensions, and it caches that association in the profile's storage for the next windows. A
 * double-click before the scan gets the default (text) editor, and nothing of QuantLens runs yet. This module
 * puts such tabs back into the inspector as soon as QuantLens activates.
 */
import * as vscode from 'vscode';
import type { Log } from './log';

function isTextTabOnModel(tab: vscode.Tab): tab is vscode.Tab & { input: vscode.TabInputText } {
  return tab.input instanceof vscode.TabInputText && /\.onnx$/i.test(tab.input.uri.path);
}

async function reopen(tab: vscode.Tab & { input: vscode.TabInputText }, viewType: string, log: Log): Promise<void> {
  const uri = tab.input.uri;
  const options = { viewColumn: tab.group.viewColumn, preserveFocus: !tab.isActive, preview: tab.isPreview };
  log.info(`${uri.fsPath} opened in the text editor before QuantLens was registered: reopening it in the inspector`);
  await vscode.window.tabGroups.close(tab, true);
  await vscode.commands.executeCommand('vscode.openWith', uri, viewType, options);
}

/**
 * Reopens in the inspector every text-editor tab on a `.onnx` open at activation, and any opened in the
 * next `windowMs` (an open VS Code resolved just before the association was registered).
 */
export function reopenModelsInInspector(viewType: string, log: Log, windowMs = 5_000): vscode.Disposable {
  const swap = (tab: vscode.Tab): void => {
    if (isTextTabOnModel(tab))
      reopen(tab, viewType, log).catch((error: unknown) =>
        log.warn(`could not reopen ${tab.input.uri.fsPath} in the inspector: ${String(error)}`),
      );
  };
  vscode.window.tabGroups.all.forEach((group) => group.tabs.forEach(swap));
  const listener = vscode.window.tabGroups.onDidChangeTabs((e) => e.opened.forEach(swap));
  const timer = setTimeout(() => listener.dispose(), windowMs);
  return {
    dispose: () => {
      clearTimeout(timer);
      listener.dispose();
    },
  };
}
