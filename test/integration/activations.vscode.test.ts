/**
 * Issue 20's user-facing parts inside real VS Code, on a results file with activations (test/fixtures/
 * activationResults.ts, for convnet.onnx): the results view says "weights only" / "W8A8 · calibrated on …" per
 * variant and the calibration line, and lists the activation layers worst first; the inspector shows the activation
 * column and, in the layer detail, the activation histogram and channel ranges (again after reopening); the layer
 * whose activations break the budget is a Problem on the model and a warning on its plan line, whose quick fixes
 * set `<weight scheme>+a16` or the weight scheme alone.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { finiteReplacer } from '../../src/core/eval/results';
import type { StoredResults } from '../../src/extension/evaluationStore';
import { activationFindings, variantActivationText, calibrationText } from '../../src/core/view/activationView';
import { activationResultsFixture } from '../fixtures/activationResults';
import { api, openInInspector, waitFor, waitForAsync, workspaceDir } from './helpers';

describe('Activations: results view, inspector, diagnostics and plan quick fixes (issue 20)', function () {
  this.timeout(120_000);
  const fixture = activationResultsFixture();
  const dir = (): string => path.join(workspaceDir(), 'activations');
  const model = (): vscode.Uri => vscode.Uri.file(path.join(dir(), 'convnet.onnx'));

  before(async () => {
    const ql = await api();
    rmSync(dir(), { recursive: true, force: true });
    mkdirSync(dir(), { recursive: true });
    copyFileSync(path.join(workspaceDir(), 'convnet.onnx'), model().fsPath);
    const file = path.join(dir(), 'convnet.results.json');
    writeFileSync(file, JSON.stringify(fixture, finiteReplacer, 2));
    const stored = await ql.loadResults(vscode.Uri.file(file));
    assert.ok(stored, 'the results file was read');
    assert.equal(stored.model.fsPath, model().fsPath);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the results view says what each variant does to activations, the calibration, and the activation layers', async () => {
    const ql = await api();
    await vscode.commands.executeCommand('quantlens.showResults', model());
    const report = await waitFor('the results view', () => ql.resultsView(model()), 30_000);
    assert.equal(
      report.calibration,
      'Activations calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 7); disjoint from the evaluation samples.',
    );
    assert.equal(report.calibration, calibrationText(fixture));
    const texts: Record<string, string> = report.variantActivations ?? {};
    for (const v of fixture.variants) assert.equal(texts[v.id], variantActivationText(fixture, v));
    assert.deepEqual(texts, {
      fp32: 'float reference',
      'int8-channel': 'weights only',
      w8a8: 'W8A8 · calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 7, disjoint from evaluation)',
    });
    const rows = report.activationRows!;
    assert.deepEqual(
      rows.map((r) => r.slice(0, 4)),
      [
        ['/conv2/Conv', '/relu1/Relu_output_0', 'uint8', '17.4 dB'],
        ['/conv1/Conv', 'input', 'uint8', '41.2 dB'],
      ],
    );
    assert.equal(rows[0][7], 'breaks the budget (-5.0 pp dark)');
    assert.equal(rows[1][7], 'meets the budget (-1.0 pp dark)');
    assert.match(rows[0][8], /clips 2\.50% .*SQNR 17\.4 dB alone.*outlier channels \(20\.2x/);
  });

  it('the layer whose activations break the budget is a Problem on the model', async () => {
    const expected = activationFindings(fixture);
    const diagnostics = await waitFor('activation diagnostics', () => {
      const d = vscode.languages.getDiagnostics(model()).filter((x) => codeOf(x) === 'activation-layer');
      return d.length === expected.length ? d : undefined;
    });
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].message, expected[0].message);
    assert.match(
      diagnostics[0].message,
      /^8-bit activations of \/conv2\/Conv \(\/relu1\/Relu_output_0\): break the budget/,
    );
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Warning);
  });

  it('the inspector shows the activation column and the detail’s activation charts, again after reopening', async () => {
    const ql = await api();
    for (const round of ['first open', 'reopened']) {
      await openInInspector(model());
      await vscode.commands.executeCommand('quantlens.revealLayer', model(), 'conv2.weight', 'int8-channel');
      const report = await ql.waitForRender(
        model(),
        (r) =>
          r.fields.activationTensor === '/relu1/Relu_output_0' &&
          (r.charts?.activation?.painted ?? 0) > 0 &&
          (r.charts?.activationChannels?.painted ?? 0) > 0 &&
          (r.tables.layers ?? []).length >= 4,
        60_000,
      );
      const columns = report.tables['layers.columns'][0];
      const at = columns.indexOf('activation');
      assert.ok(at > 1 && at < columns.indexOf('sqnr:int8-channel'), `${round}: ${columns.join(', ')}`);
      const cell = (weight: string): string => report.tables.layers.find((row) => row.includes(weight))![at];
      assert.equal(cell('conv1.weight'), '41.2', round);
      assert.equal(cell('conv2.weight'), '17.4', round);
      assert.equal(cell('conv1.bias'), '—', `${round}: not on a bias row`);
      assert.equal(report.fields.activationSqnr, '17.4 dB');
      assert.equal(report.fields.activationAccumulated, '15.9 dB');
      assert.equal(report.fields.activationClipping, '2.5%');
      const text = (field: string): string => report.fields[field].replace(/\s+/g, ' ');
      assert.equal(text('activationOutliers'), '4 channels; 1 outlier channel (red): 3');
      assert.match(text('activationGrid'), /^uint8 grid: 256 levels, step 0\.01569; clipping range \[0, 4\]/);
      assert.match(text('activationGrid'), /values? beyond it \(red\): clipped\.$/);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  const planText = (layers: Record<string, string>, def = 'int8-channel'): string =>
    `${JSON.stringify({ model: 'convnet.onnx', default: def, layers }, null, 2)}\n`;

  /** Opens a plan with this text and waits for its activation diagnostic. */
  async function planWithFinding(text: string): Promise<{ doc: vscode.TextDocument; d: vscode.Diagnostic }> {
    const uri = vscode.Uri.file(path.join(dir(), 'convnet.qplan.json'));
    // Written once; later texts come as edits (the open document and the disk never disagree).
    if (!existsSync(uri.fsPath)) writeFileSync(uri.fsPath, text);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text);
    assert.ok(await vscode.workspace.applyEdit(edit));
    const d = await waitFor('the activation warning in the plan', () =>
      vscode.languages.getDiagnostics(uri).find((x) => codeOf(x) === 'activation-layer'),
    );
    return { doc, d };
  }

  async function applyFix(doc: vscode.TextDocument, d: vscode.Diagnostic, title: string): Promise<void> {
    const action = await waitForAsync('the quick fix', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        doc.uri,
        d.range,
      );
      return found.find((a) => a.title === title);
    });
    assert.ok(action.edit);
    assert.ok(await vscode.workspace.applyEdit(action.edit));
  }

  it('the plan line of that layer gets the warning; "Keep activations at 16 bits" sets int8-channel+a16', async () => {
    const { doc, d } = await planWithFinding(planText({ '/conv1/Conv': 'w8a8', '/conv2/Conv': 'int8-channel+a8' }));
    assert.ok(doc.lineAt(d.range.start.line).text.includes('"/conv2/Conv"'), doc.lineAt(d.range.start.line).text);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    await applyFix(doc, d, 'Keep activations at 16 bits for /conv2/Conv');
    const plan = JSON.parse(doc.getText()) as { layers: Record<string, string> };
    assert.deepEqual(plan.layers, { '/conv1/Conv': 'w8a8', '/conv2/Conv': 'int8-channel+a16' });
    await waitFor(
      'the warning to go (16-bit activations were not measured to break)',
      () => !vscode.languages.getDiagnostics(doc.uri).some((x) => codeOf(x) === 'activation-layer') || undefined,
    );
    assert.equal(
      vscode.languages.getDiagnostics(doc.uri).filter((x) => x.severity === vscode.DiagnosticSeverity.Error).length,
      0,
      'the fixed plan is valid',
    );
    await doc.save();
  });

  it('through the default: "Keep activations float" adds the layer at its weight scheme', async () => {
    const { doc, d } = await planWithFinding(planText({}, 'w8a8'));
    assert.ok(doc.lineAt(d.range.start.line).text.includes('"default"'));
    assert.match(d.message, /\(through the default w8a8\)/);
    await applyFix(doc, d, 'Keep activations float for /conv2/Conv');
    const plan = JSON.parse(doc.getText()) as { default: string; layers: Record<string, string> };
    assert.equal(plan.default, 'w8a8');
    assert.deepEqual(plan.layers, { '/conv2/Conv': 'int8-channel' });
    await waitFor(
      'the warning to go',
      () => !vscode.languages.getDiagnostics(doc.uri).some((x) => codeOf(x) === 'activation-layer') || undefined,
    );
    await doc.save();
  });
});

describe('Activations end to end: a real w8a8 evaluation in VS Code (issue 20)', function () {
  this.timeout(240_000);

  it('the engine’s results reach the results view (calibration line, weights only / W8A8, activation rows) and the inspector column', async () => {
    const ql = await api();
    const source = path.join(workspaceDir(), 'mnist');
    const dir = path.join(workspaceDir(), 'activations-e2e');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
      copyFileSync(path.join(source, f), path.join(dir, f));
    const demo = JSON.parse(readFileSync(path.join(source, 'mnist.quantlens.json'), 'utf8')) as Record<string, unknown>;
    const spec = vscode.Uri.file(path.join(dir, 'w8a8.quantlens.json'));
    const content = {
      ...demo,
      variants: ['int8-channel', 'w8a8'],
      calibration: { samples: 128, method: 'minmax' },
      limit: 400,
      sweep: false,
      sensitivity: { schemes: ['int8-channel'], leaveOneOut: false },
    };
    writeFileSync(spec.fsPath, JSON.stringify(content, null, 2));
    const stored = await vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', spec);
    assert.ok(stored, 'the w8a8 spec ran');
    const r = stored.results;
    assert.ok(r.calibration, 'the results record the calibration');
    assert.equal(r.calibration.samples, 128);
    assert.equal(r.calibration.disjoint, true);
    const model = stored.model;
    await vscode.commands.executeCommand('quantlens.showResults', model);
    const report = await waitFor('the results view', () => ql.resultsView(model), 30_000);
    assert.equal(
      report.calibration,
      `Activations calibrated on 128 samples of a seeded split of the evaluation data (minmax, seed ${r.calibration.seed}); disjoint from the evaluation samples.`,
    );
    const texts: Record<string, string> = report.variantActivations ?? {};
    assert.equal(texts['int8-channel'], 'weights only');
    assert.equal(
      texts.w8a8,
      `W8A8 · calibrated on 128 samples of a seeded split of the evaluation data (minmax, seed ${r.calibration.seed}, disjoint from evaluation)`,
    );
    // One activation row per measured layer (statistics or the sensitivity's activation verdict).
    const measured = r.sensitivity!.layers.filter((l) => l.activation);
    assert.ok(measured.length > 0, 'activation sensitivity ran');
    assert.ok((report.activationRows ?? []).length >= measured.length, JSON.stringify(report.activationRows));
    // The engine's per-tensor statistics reach the view and the inspector's activation column.
    const stats = r.activations ?? [];
    assert.ok(stats.length > 0, 'the results hold activation statistics');
    assert.equal(
      report.activationRows!.length,
      stats.length + measured.filter((l) => !stats.some((x) => x.layer === l.layer)).length,
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await openInInspector(model);
    const layer = measured.find((l) => stats.some((x) => x.layer === l.layer))!;
    const worst = Math.min(...stats.filter((x) => x.layer === layer.layer).map((x) => x.sqnrAloneDb));
    await vscode.commands.executeCommand('quantlens.revealLayer', model, layer.weight, 'int8-channel');
    const table = await ql.waitForRender(
      model,
      (rep) =>
        (rep.tables['layers.columns']?.[0] ?? []).includes('activation') &&
        (rep.tables.layers ?? []).some((row) => row.includes(layer.weight)),
      60_000,
    );
    const at = table.tables['layers.columns'][0].indexOf('activation');
    const row = table.tables.layers.find((cells) => cells.includes(layer.weight))!;
    assert.equal(row[at], worst.toFixed(1), `${layer.layer}: ${row.join(' | ')}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('on the demo CNN spec: W8A8 simulated and its export file both say W8A8 and on which calibration data', async () => {
    const ql = await api();
    const dir = path.join(workspaceDir(), 'mnist');
    const demo = JSON.parse(readFileSync(path.join(dir, 'cnn.quantlens.json'), 'utf8')) as Record<string, unknown>;
    const spec = vscode.Uri.file(path.join(dir, 'cnn-e2e.quantlens.json'));
    writeFileSync(spec.fsPath, JSON.stringify({ ...demo, limit: 300, latency: false, sensitivity: false }, null, 2));
    const stored = await vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', spec);
    assert.ok(stored, 'the demo CNN spec ran');
    const r = stored.results;
    const exported = r.variants.find((v) => v.kind === 'export')!;
    assert.equal(exported.activations?.detected, 'marker');
    await vscode.commands.executeCommand('quantlens.showResults', stored.model);
    const report = await waitFor('the results view', () => ql.resultsView(stored.model), 30_000);
    assert.equal(
      report.calibration,
      'Activations calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 1); disjoint from the evaluation samples.',
    );
    assert.deepEqual(report.variantActivations, {
      fp32: 'float reference',
      'int8-channel': 'weights only',
      w8a8: 'W8A8 · calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 1, disjoint from evaluation)',
      [exported.id]:
        'W8A8 · calibrated at export on 256 samples of a seeded split of the evaluation data of cnn.quantlens.json (minmax, seed 1)',
    });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' ? String(d.code.value) : String(d.code);
}
