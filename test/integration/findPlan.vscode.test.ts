/**
 * QuantLens: Find a Plan inside real VS Code: the search runs in the inference child process, writes
 * `<spec stem>.found.qplan.json` next to the spec (marked as generated, a note per layer) and opens it.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, workspaceDir } from './helpers';

describe('QuantLens: Find a Plan', () => {
  it('finds the plan of a spec, writes it marked with notes, opens it', async function () {
    this.timeout(180_000);
    await api();
    const dir = path.join(workspaceDir(), 'plansearch');
    mkdirSync(dir, { recursive: true });
    for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
      copyFileSync(path.join(workspaceDir(), 'mnist', f), path.join(dir, f));
    const spec = JSON.parse(readFileSync(path.join(workspaceDir(), 'mnist', 'mnist.quantlens.json'), 'utf8')) as object;
    const specFile = path.join(dir, 'small.quantlens.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        ...spec,
        limit: 400,
        sweep: false,
        sensitivity: false,
        variants: ['int8-channel'],
        search: { candidates: ['fp32', 'fp16', 'int8-channel', 'int4-block32'], maxCost: '0.3x' },
      }),
    );
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(
      'quantlens.findPlan',
      vscode.Uri.file(specFile),
    );
    assert.ok(written, 'a plan was written');
    assert.equal(written.fsPath, path.join(dir, 'small.found.qplan.json'));
    const plan = JSON.parse(readFileSync(written.fsPath, 'utf8')) as {
      generatedBy: string;
      model: string;
      layers: Record<string, string>;
      notes: Record<string, string>;
    };
    assert.equal(plan.generatedBy, 'QuantLens plan search');
    assert.equal(plan.model, 'mnist_mlp.onnx');
    assert.deepEqual(Object.keys(plan.layers).sort(), ['/fc1/MatMul', '/fc2/MatMul', '/fc3/MatMul']);
    assert.deepEqual(Object.keys(plan.notes).sort(), Object.keys(plan.layers).sort());
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, written.fsPath);
  });

  it('with w8a8 among the candidates (demo CNN): the plan found quantizes activations', async function () {
    this.timeout(240_000);
    await api();
    const dir = path.join(workspaceDir(), 'plansearch-w8a8');
    mkdirSync(dir, { recursive: true });
    for (const f of ['mnist_cnn.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
      copyFileSync(path.join(workspaceDir(), 'mnist', f), path.join(dir, f));
    const spec = JSON.parse(readFileSync(path.join(workspaceDir(), 'mnist', 'cnn.quantlens.json'), 'utf8')) as object;
    const specFile = path.join(dir, 'cnn.quantlens.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        ...spec,
        limit: 400,
        latency: false,
        sensitivity: false,
        variants: ['int8-channel'],
        calibration: { samples: 128 },
        search: { candidates: ['fp32', 'fp16', 'w8a8'], maxCost: '0.3x' },
      }),
    );
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(
      'quantlens.findPlan',
      vscode.Uri.file(specFile),
    );
    assert.ok(written, 'a plan was written');
    const plan = JSON.parse(readFileSync(written.fsPath, 'utf8')) as { layers: Record<string, string> };
    assert.deepEqual(Object.keys(plan.layers).sort(), ['/conv1/Conv', '/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm']);
    // Within 0.3x of fp32's bytes, most layers must be w8a8 (fp16 is 0.5x).
    assert.ok(Object.values(plan.layers).filter((s) => s === 'w8a8').length >= 3, JSON.stringify(plan.layers));
    assert.ok(Object.values(plan.layers).every((s) => ['fp32', 'fp16', 'w8a8'].includes(s)));
  });
});
