/**
 * Export inside real VS Code: `QuantLens: Export Quantized Model…` on a plan file writes the quantized model next
 * to the plan's model, verified in onnxruntime (every weight bit for bit, a run), and marked as QuantLens's;
 * `QuantLens: Compare with Original…` shows its weights' SQNR against the original (a model against itself: exact).
 * With a spec, the export is evaluated on its slices next to the simulated plan and shown in the results view (cost
 * rows, the comparison), and a picked chart point opens its variant.
 * W8A8: the demo CNN exported with activations calibrated on its spec, in the export child.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { onnx } from 'onnx-proto';
import { EXPORT_MARKER_KEY, isExportedModel } from '../../src/core/export/marker';
import type { StoredResults } from '../../src/extension/evaluationStore';
import { variantAction } from '../../src/extension/resultsVariant';
import type { ExportOutcome } from '../../src/extension/exportCommand';
import type { ModelDiff } from '../../src/node/export/diffModels';
import { api, waitFor, workspaceDir } from './helpers';

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
      const outcome = (await vscode.commands.executeCommand('quantlens.exportModel', vscode.Uri.file(plan), {
        spec: false,
      })) as ExportOutcome;
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

  it("with the plan's spec: the export evaluated on its slices next to the simulated plan, cost rows in the results view", async () => {
    const ql = await api();
    const folder = path.join(workspaceDir(), 'mnist');
    const spec = path.join(folder, 'export-verify.quantlens.json');
    const plan = path.join(folder, 'export-verify.qplan.json');
    const output = path.join(folder, 'mnist_mlp.export-verify.onnx');
    const demo = JSON.parse(readFileSync(path.join(folder, 'mnist.quantlens.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      spec,
      JSON.stringify({
        ...demo,
        variants: ['int8-channel'],
        limit: 400,
        sweep: false,
        sensitivity: false,
        latency: { batchSizes: [1], runs: 5, seconds: 0, rounds: 1 },
      }),
    );
    // The plan made from the spec (same stem): int8 per channel, one layer int4 on MatMulNBits at accuracy level 0.
    writeFileSync(
      plan,
      JSON.stringify({ model: 'mnist_mlp.onnx', default: 'int8-channel', layers: { '/fc2/MatMul': 'int4-block32' } }),
    );
    try {
      // What the plan's "Export quantized model" code lens runs.
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(plan));
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        vscode.Uri.file(plan),
      );
      const lens = lenses.find((l) => l.command?.command === 'quantlens.exportModel')?.command;
      assert.ok(lens, 'the plan offers Export as a code lens');
      const outcome = (await vscode.commands.executeCommand(lens.command, ...(lens.arguments ?? []))) as ExportOutcome;
      assert.ok(outcome?.verification?.ok, outcome?.verifyNote);
      const e = outcome.evaluation;
      assert.ok(e, 'the spec next to the plan was found and run');
      assert.equal(e.spec.fsPath, spec);
      const ids = e.stored.results.variants.map((v) => v.id);
      assert.deepEqual(ids, [
        'fp32',
        'int8-channel',
        'plan:export-verify.qplan.json',
        'export:mnist_mlp.export-verify.onnx',
      ]);
      const exported = e.stored.results.variants[3];
      assert.equal(exported.kind, 'export');
      assert.equal(exported.exportedFrom, 'plan:export-verify.qplan.json');
      assert.ok(exported.cost?.ratioToFp32, 'the export was measured against fp32');
      // Accuracy level 0 computes what the simulation predicts: the same metrics, up to float summation order.
      assert.ok(e.comparison, 'compared with the simulation');
      assert.equal(e.comparison.simulated, 'plan:export-verify.qplan.json');
      assert.ok(['identical', 'rounding'].includes(e.comparison.agreement), JSON.stringify(e.comparison));
      const model = vscode.Uri.file(path.join(folder, 'mnist_mlp.onnx'));
      const report = await waitFor('the results view', () => ql.resultsView(model), 30_000);
      assert.equal(report.costRows, 2, 'fp32 and the export');
      assert.equal(report.exportAgreement, e.comparison.agreement);
      assert.equal(report.costPoints, 2 + 4, 'latency: fp32 and the export; size: every variant');
      // A picked point: the plan offers its export, the export opens its model.
      const stored = e.stored as StoredResults;
      assert.deepEqual(variantAction(stored, ids[2]), { kind: 'plan', file: plan, export: true });
      assert.deepEqual(variantAction(stored, 'int8-channel'), { kind: 'scheme', scheme: 'int8-channel', export: true });
      assert.deepEqual(variantAction(stored, ids[3]), { kind: 'model', file: output, export: false });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      for (const f of [spec, plan, output, path.join(folder, 'export-verify.results.json')]) rmSync(f, { force: true });
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
    // Its marker records the calibration, so a results view listing the file says on which data it was calibrated.
    const model8 = onnx.ModelProto.decode(readFileSync(outcome.result.output));
    const marker = model8.metadataProps?.find((m) => m.key === EXPORT_MARKER_KEY)?.value ?? '{}';
    const record = JSON.parse(marker) as { calibration?: { samples: number; spec: string; source: string } };
    assert.deepEqual(record.calibration && [record.calibration.samples, record.calibration.spec], [
      256,
      'cnn.quantlens.json',
    ]);
  });
});
