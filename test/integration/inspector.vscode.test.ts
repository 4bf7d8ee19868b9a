import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RenderReport } from '../../src/testHooks';
import type { ExpectedOverview } from '../fixtures/generate';
import {
  closeAllEditors,
  expectations,
  leadingInt,
  openInInspector,
  quantlensDiagnostics,
  waitFor,
  workspaceDir,
} from './helpers';

/** What the webview rendered, in the tuple form of the expectation files. */
function renderedOverview(r: RenderReport): ExpectedOverview {
  const t = r.tables;
  const ints = (row: string[], ...cols: number[]): number[] => cols.map((c) => leadingInt(row[c]));
  return {
    producer: r.fields.producer,
    irVersion: leadingInt(r.fields.irVersion),
    opsets: t.opsets.map((row) => [row[0], leadingInt(row[1])]),
    inputs: t.inputs.map((row) => [row[0], row[1], row[2]]),
    outputs: t.outputs.map((row) => [row[0], row[1], row[2]]),
    nodeCount: leadingInt(r.fields.nodeCount),
    subgraphCount: leadingInt(r.fields.subgraphCount),
    ops: t.ops.map((row) => [row[0], leadingInt(row[1])]),
    weightCount: leadingInt(r.fields.weightCount),
    parameterCount: leadingInt(r.fields.parameterCount),
    weightBytes: leadingInt(r.fields.weightBytes),
    dtypes: t.dtypes.map((row) => [row[0], ...ints(row, 1, 2, 3)] as [string, number, number, number]),
    metadata: t.metadata.map((row) => [row[0], row[1]]),
    externalFiles: (t.external ?? []).map((row) => [row[0], ...ints(row, 1, 2)] as [string, number, number]),
  };
}

const hashes = new Map<string, string>();
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('Model inspector on every fixture', () => {
  before(() => {
    for (const exp of expectations()) {
      hashes.set(exp.file, sha(path.join(workspaceDir(), exp.file)));
    }
  });
  afterEach(closeAllEditors);

  for (const exp of expectations()) {
    it(`${exp.file}: ${exp.kind === 'model' ? 'renders the exact overview' : `shows the ${exp.errorCode} error view and an Error diagnostic`}`, async () => {
      const file = path.join(workspaceDir(), exp.file);
      const uri = vscode.Uri.file(file);
      const report = await openInInspector(uri);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      assert.ok(
        tab instanceof vscode.TabInputCustom && tab.viewType === 'quantlens.inspector',
        'not opened in the QuantLens inspector',
      );
      if (exp.kind === 'model') {
        assert.equal(report.status, 'ready', JSON.stringify(report.fields));
        assert.equal(report.fields.fileName, exp.file);
        assert.equal(leadingInt(report.fields.fileSize), statSync(file).size);
        assert.deepEqual(renderedOverview(report), exp.overview);
        assert.deepEqual(quantlensDiagnostics(uri), []);
      } else {
        assert.equal(report.status, 'error');
        assert.equal(report.fields.errorCode, exp.errorCode);
        assert.equal(leadingInt(report.fields.fileSize), statSync(file).size);
        assert.equal('errorOffset' in report.fields, exp.offsetKnown, JSON.stringify(report.fields));
        for (const part of exp.messageIncludes) {
          assert.ok(
            report.fields.errorMessage.includes(part),
            `error view lacks '${part}': ${report.fields.errorMessage}`,
          );
        }
        const diagnostics = await waitFor('the QuantLens diagnostic', () => {
          const d = quantlensDiagnostics(uri);
          return d.length > 0 && d;
        });
        assert.equal(diagnostics.length, 1);
        assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
        assert.equal(diagnostics[0].code, exp.errorCode);
        assert.ok(diagnostics[0].message.includes(exp.messageIncludes[0]), diagnostics[0].message);
      }
    });
  }

  it('never modifies the files it opens', () => {
    for (const [file, hash] of hashes) {
      assert.equal(sha(path.join(workspaceDir(), file)), hash, `${file} was modified`);
    }
  });
});
