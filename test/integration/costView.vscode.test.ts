/**
 * The cost side in real VS Code: an evaluation whose spec lists a model-file variant (an int8 QDQ copy of a
 * small classifier) measures fp32 and the variant in fresh processes, and the results view shows their cost
 * rows and the accuracy-vs-cost points.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResults } from '../../src/extension/evaluationStore';
import { writeMlp, writeQdqCopy } from '../fixtures/fileVariants';
import { api, waitFor, workspaceDir } from './helpers';

describe('Cost in the results view', function () {
  this.timeout(180_000);
  const dir = (): string => path.join(workspaceDir(), 'costview');

  it('an evaluation with a model-file variant shows its measured cost rows next to fp32', async () => {
    const ql = await api();
    const mlp = writeMlp(dir(), 64);
    await writeQdqCopy(mlp, path.join(dir(), 'mlp.int8.onnx'));
    const spec = path.join(dir(), 'cost.quantlens.json');
    writeFileSync(
      spec,
      JSON.stringify({
        model: 'mlp.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        variants: ['int8-channel', { model: 'mlp.int8.onnx' }],
        sweep: false,
        sensitivity: false,
        batchSize: 16,
        latency: { batchSizes: [1, 16], runs: 3, seconds: 0, rounds: 1 },
      }),
    );
    const stored = await vscode.commands.executeCommand<StoredResults | undefined>(
      'quantlens.runEvaluation',
      vscode.Uri.file(spec),
    );
    assert.ok(stored, 'the evaluation ran (is the workspace trusted?)');
    const [fp32, , file] = stored.results.variants;
    assert.equal(file.id, 'model:mlp.int8.onnx');
    assert.ok(fp32.cost && file.cost?.ratioToFp32, 'fp32 and the file variant were measured');
    const model = vscode.Uri.file(mlp);
    await vscode.commands.executeCommand('quantlens.showResults', model);
    const report = await waitFor('the results view', () => ql.resultsView(model), 30_000);
    assert.equal(report.costRows, 2, 'fp32 and the model-file variant');
    assert.equal(report.costPoints, 2 + 3, 'latency: 2 measured; size: every variant');
  });
});
