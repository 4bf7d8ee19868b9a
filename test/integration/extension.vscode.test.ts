import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, closeAllEditors, EXTENSION_ID, waitForAsync } from './helpers';

describe('QuantLens extension', () => {
  it('activates and exposes its API', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'extension not found');
    const ql = await api();
    assert.ok(ext.isActive);
    assert.equal(typeof ql.waitForRender, 'function');
  });

  it('contributes its commands to the palette under the QuantLens category', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const id of [
      'quantlens.openInspector',
      'quantlens.showLog',
      'quantlens.exportReport',
      'quantlens.chooseSchemes',
      'quantlens.showModelHeatmap',
      'quantlens.revealLayer',
      'quantlens.runEvaluation',
      'quantlens.showResults',
      'quantlens.evaluatePlan',
      'quantlens.createSpec',
      'quantlens.cancelEvaluation',
      'quantlens.exportModel',
      'quantlens.compareWithOriginal',
      'quantlens.findPlan',
    ]) {
      assert.ok(all.includes(id), `${id} is not registered`);
    }
    const contributed = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as {
      command: string;
      title: string;
      category: string;
    }[];
    assert.deepEqual(contributed.map((c) => `${c.category}: ${c.title}`).sort(), [
      'QuantLens: Analyse Model and Export Report…',
      'QuantLens: Cancel Running Evaluations',
      'QuantLens: Choose Schemes to Compare…',
      'QuantLens: Compare with Original…',
      'QuantLens: Create Evaluation Spec…',
      'QuantLens: Evaluate This Plan',
      'QuantLens: Export Quantized Model…',
      'QuantLens: Find a Plan',
      'QuantLens: Open Model Inspector',
      'QuantLens: Run Slice Evaluation',
      'QuantLens: Show Evaluation Results',
      'QuantLens: Show Layer in Inspector',
      'QuantLens: Show Log',
      'QuantLens: Show Model Heatmap',
    ]);
  });

  it('registers the inspector as the default editor for *.onnx', () => {
    const editors = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.customEditors as {
      viewType: string;
      priority: string;
      selector: { filenamePattern: string }[];
    }[];
    assert.deepEqual(
      editors.map((e) => [e.viewType, e.priority, e.selector[0].filenamePattern]),
      [['quantlens.inspector', 'default', '*.onnx']],
    );
  });

  it('Show Log shows the QuantLens log, with the activation line in it', async () => {
    await api();
    await vscode.commands.executeCommand('quantlens.showLog');
    // The output panel is not readable through the API: open its active channel in an editor until it is ours
    // (showing a channel completes after the command returns).
    const text = await waitForAsync('the QuantLens log as the active output channel', async () => {
      await vscode.commands.executeCommand('workbench.action.openActiveLogOutputFile');
      const document = vscode.window.activeTextEditor?.document;
      return document?.uri.toString() === `output:${EXTENSION_ID}.QuantLens` && document.getText();
    });
    assert.match(text, /\[info\] QuantLens \d+\.\d+\.\d+ activated in [\d.]+ ms/);
    await closeAllEditors();
  });
});
