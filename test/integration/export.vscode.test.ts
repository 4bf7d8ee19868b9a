/**
 * Export inside real VS Code: `QuantLens: Export Quantized Model…` on a plan file writes the quantized model next
 * to the plan's model, verified in onnxruntime (every weight bit for bit, a run), and marked as QuantLens's;
 * `QuantLens: Compare with Original…` shows its weights' SQNR against the original (a model against itself: exact).
 * W8A8: the demo CNN exported with activations calibrated on its spec, in the export child.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isExportedModel } from '../../src/core/export/marker';
import type { ExportOutcome } from '../../src/extension/exportCommand';
import type { ModelDiff } from '../../src/node/export/diffModels';
import { api, workspaceDir } from './helpers';

describe('export', function () {
  this.timeout(120_000);

  it("exports the plan from the command: a verified model next to the plan's model", async () => {
    await api();
    const folder = path.join(workspaceDir(), 'mnist');
    const plan = path.join(folder, 'export-test.qplan.json');
    writeFileSync(
      plan,
      JSON.stringify({
        model: 'mnist_mlp.onnx',
        default: 'int8-channel',
        layers: { '/fc2/MatMul': 'int4-block32', '/fc3/MatMul': 'fp16' },
      }),
    );
    const output = path.join(folder, 'mnist_mlp.export-test.onnx');
    try {
      const outcome = (await vscode.commands.executeCommand(
        'quantlens.exportModel',
        vscode.Uri.file(plan),
      )) as ExportOutcome;
      assert.ok(outcome, 'the command exported something');
      assert.equal(outcome.result.output, output);
      assert.ok(existsSync(output));
      assert.ok(isExportedModel(readFileSync(output).subarray(0, 65536)), 'the export is marked');
      const v = outcome.verification;
      assert.ok(v, outcome.verifyNote);
      assert.ok(v.ok, JSON.stringify(v.weights));
      assert.equal(v.weights.length, 3);
      assert.deepEqual([...new Set(v.weights.map((w) => w.op))].sort(), ['Cast', 'DequantizeLinear', 'MatMulNBits']);
      assert.ok(v.checked > 100_000);
      assert.ok(v.run.ok, v.run.error);
      const model = vscode.Uri.file(path.join(folder, 'mnist_mlp.onnx'));
      const diff = (await vscode.commands.executeCommand(
        'quantlens.compareWithOriginal',
        vscode.Uri.file(output),
        model,
      )) as ModelDiff;
      assert.equal(diff.weights.length, 3);
      assert.ok(diff.weights.every((w) => w.matchedBy === 'layer' && !w.exact && w.sqnrDb > 10));
      assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /\| SQNR \(dB\) \|/);
      const self = (await vscode.commands.executeCommand('quantlens.compareWithOriginal', model, model)) as ModelDiff;
      assert.ok(self.weights.every((w) => w.exact));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      assert.deepEqual(
        readdirSync(folder).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary file left',
      );
    } finally {
      rmSync(plan, { force: true });
      rmSync(output, { force: true });
    }
  });

  it('exports w8a8 calibrated on the spec next to the model (static QDQ), verified', async () => {
    await api();
    const folder = path.join(workspaceDir(), 'mnist');
    const model = vscode.Uri.file(path.join(folder, 'mnist_cnn.onnx'));
    const spec = vscode.Uri.file(path.join(folder, 'cnn.quantlens.json'));
    const outcome = (await vscode.commands.executeCommand('quantlens.exportModel', model, {
      scheme: 'w8a8',
      spec,
    })) as ExportOutcome;
    assert.ok(outcome, 'the command exported something');
    assert.equal(outcome.result.output, path.join(folder, 'mnist_cnn.w8a8.onnx'));
    assert.equal(outcome.result.activations?.tensors, 8);
    assert.deepEqual(outcome.result.activations?.foldedRelus, ['/Relu', '/Relu_1', '/Relu_2']);
    assert.ok(outcome.verification?.ok, outcome.verifyNote ?? JSON.stringify(outcome.verification?.weights));
    assert.ok(outcome.verification.run.ok, outcome.verification.run.error);
  });
});
