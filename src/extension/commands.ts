/** Command palette commands (category "QuantLens"). */
import * as vscode from 'vscode';
import { INSPECTOR_VIEW_TYPE } from './inspectorEditor';
import type { Log } from './log';

const isOnnx = (uri: vscode.Uri | undefined): uri is vscode.Uri => !!uri && uri.path.toLowerCase().endsWith('.onnx');

/** The .onnx file of the active editor (text or custom), if any. */
function activeOnnx(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) {
    return isOnnx(input.uri) ? input.uri : undefined;
  }
  return undefined;
}

/** Registers QuantLens commands. */
export function registerCommands(log: Log): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('quantlens.openInspector', async (arg?: vscode.Uri) => {
      let uri = isOnnx(arg) ? arg : activeOnnx();
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { [vscode.l10n.t('ONNX models')]: ['onnx'] },
          openLabel: vscode.l10n.t('Inspect Model'),
          title: vscode.l10n.t('QuantLens: choose an ONNX model'),
        });
        uri = picked?.[0];
      }
      if (!uri) {
        return;
      }
      log.info(`Open Model Inspector: ${uri.fsPath}`);
      await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE);
    }),
    vscode.commands.registerCommand('quantlens.showLog', () => log.channel.show()),
  ];
}
