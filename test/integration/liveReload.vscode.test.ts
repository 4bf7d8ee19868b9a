import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, closeAllEditors, openInInspector, quantlensDiagnostics, waitFor, workspaceDir } from './helpers';

/** Replaces a file's content the way editors and exporters do (write elsewhere, then rename over it). */
function replaceFile(target: string, bytes: Uint8Array): void {
  const tmp = `${target}.tmp-${Date.now()}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, target);
}

describe('Diagnostics follow the file on disk', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(path.join(workspaceDir(), 'scratch-'));
  });
  afterEach(closeAllEditors);

  it('a broken model that gets fixed clears its diagnostic and renders the overview', async () => {
    const file = path.join(scratch, 'model.onnx');
    copyFileSync(path.join(workspaceDir(), 'broken_truncated.onnx'), file);
    const uri = vscode.Uri.file(file);
    const first = await openInInspector(uri);
    assert.equal(first.status, 'error');
    await waitFor('an error diagnostic', () => quantlensDiagnostics(uri).length === 1);
    replaceFile(file, readFileSync(path.join(workspaceDir(), 'mlp.onnx')));
    const ql = await api();
    const fixed = await ql.waitForRender(uri, (r) => r.status === 'ready', 20_000);
    assert.equal(fixed.fields.weightCount, '4');
    await waitFor('the diagnostic to clear', () => quantlensDiagnostics(uri).length === 0);
  });

  it('a good model that breaks on disk gets the error view and diagnostic', async () => {
    const file = path.join(scratch, 'later_broken.onnx');
    copyFileSync(path.join(workspaceDir(), 'convnet.onnx'), file);
    const uri = vscode.Uri.file(file);
    assert.equal((await openInInspector(uri)).status, 'ready');
    replaceFile(file, new Uint8Array(0));
    const ql = await api();
    const broken = await ql.waitForRender(uri, (r) => r.status === 'error', 20_000);
    assert.equal(broken.fields.errorCode, 'empty-file');
    await waitFor('an error diagnostic', () => quantlensDiagnostics(uri)[0]?.code === 'empty-file');
  });

  it('creating the missing external data file clears the diagnostic', async () => {
    const file = path.join(scratch, 'broken_missing_external.onnx');
    copyFileSync(path.join(workspaceDir(), 'broken_missing_external.onnx'), file);
    const uri = vscode.Uri.file(file);
    const first = await openInInspector(uri);
    assert.equal(first.fields.errorCode, 'external-data', JSON.stringify(first));
    await waitFor('an error diagnostic', () => quantlensDiagnostics(uri).length === 1);
    copyFileSync(path.join(workspaceDir(), 'external_data.bin'), path.join(scratch, 'missing_weights.bin'));
    const ql = await api();
    const fixed = await ql.waitForRender(uri, (r) => r.status === 'ready', 20_000);
    assert.equal(fixed.fields.parameterCount, '136');
    await waitFor('the diagnostic to clear', () => quantlensDiagnostics(uri).length === 0);
  });

  it('Open Model Inspector opens a given model in the inspector', async () => {
    const uri = vscode.Uri.file(path.join(workspaceDir(), 'gemm_transb.onnx'));
    const ql = await api();
    await vscode.commands.executeCommand('quantlens.openInspector', uri);
    const report = await ql.waitForRender(uri, (r) => r.status === 'ready', 20_000);
    assert.equal(report.fields.fileName, 'gemm_transb.onnx');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(tab instanceof vscode.TabInputCustom && tab.viewType === 'quantlens.inspector');
  });
});
