/**
 * Issue 17, findings 9 and 10 inside real VS Code: Create Spec on a language model writes a language-model
 * spec that runs; "Evaluate this plan" (code lens and command) evaluates a plan without editing its spec; a
 * cancelled evaluation says "cancelled" instead of failing silently.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResults } from '../../src/extension/evaluationStore';
import { api, EXTENSION_ID, waitFor, waitForAsync, workspaceDir } from './helpers';

/** Pids of this process's children whose command line contains `name` (`ps`: Linux and macOS). */
function childProcesses(name: string): number[] {
  const { stdout } = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === process.pid && m[3].includes(name))
    .map((m) => Number(m[1]));
}

/** Copies `files` of the repository's folder `from` into a fresh workspace folder `to`. */
function copyInto(from: string, to: string, files: string[]): string {
  const source = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, from);
  const dir = path.join(workspaceDir(), to);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(path.join(source, f), path.join(dir, f));
  return dir;
}

/** Records the information messages QuantLens shows while `fn` runs. */
async function messagesDuring<T>(fn: () => Promise<T>): Promise<{ value: T; messages: string[] }> {
  const messages: string[] = [];
  const window = vscode.window as { showInformationMessage: (...args: unknown[]) => Thenable<unknown> };
  const original = window.showInformationMessage;
  window.showInformationMessage = (...args: unknown[]) => {
    messages.push(String(args[0]));
    return original.apply(vscode.window, args);
  };
  try {
    return { value: await fn(), messages };
  } finally {
    window.showInformationMessage = original;
  }
}

describe('Results, Create Spec and plan evaluation (issue 17)', function () {
  this.timeout(240_000);
  before(() => api());

  it('Create Spec on a language model writes a language-model spec that runs', async () => {
    const dir = copyInto(path.join('demo', 'lm'), 'lm-create', ['char_gpt.onnx', 'heldout.jsonl']);
    const model = vscode.Uri.file(path.join(dir, 'char_gpt.onnx'));
    const data = vscode.Uri.file(path.join(dir, 'heldout.jsonl'));
    const spec = await vscode.commands.executeCommand<vscode.Uri | undefined>('quantlens.createSpec', model, data);
    assert.ok(spec, 'a spec was written');
    assert.equal(path.basename(spec.fsPath), 'char_gpt.quantlens.json');
    const written = JSON.parse(readFileSync(spec.fsPath, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(written.task, { type: 'language-model', tokens: 'tokens', output: 'logits' });
    assert.deepEqual(written.data, { path: 'heldout.jsonl' });
    assert.deepEqual(written.inputs, { tokens: 'tokens' });
    assert.equal('label' in written, false, 'no classification label');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, spec.fsPath, 'the new spec is shown');
    // The spec is not only plausible: it runs, as a language model.
    writeFileSync(spec.fsPath, JSON.stringify({ ...written, limit: 40, sweep: false, sensitivity: false }));
    const stored = await vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', spec);
    assert.ok(stored, 'the drafted spec ran');
    assert.equal(stored.results.task, 'language-model');
    assert.ok(stored.results.variants[0].metrics.all.perplexity! > 1);
  });

  const planDir = (): string =>
    copyInto(path.join('demo', 'mnist'), 'plan-eval', [
      'mnist_mlp.onnx',
      'images.idx.gz',
      'labels.idx.gz',
      'fields.csv',
    ]);
  const smallSpec = (dir: string, extra: Record<string, unknown> = {}): vscode.Uri => {
    const demo = JSON.parse(
      readFileSync(
        path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'demo', 'mnist', 'mnist.quantlens.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const file = path.join(dir, 'small.quantlens.json');
    writeFileSync(file, `${JSON.stringify({ ...demo, variants: ['int8-channel'], ...extra }, null, 2)}\n`);
    return vscode.Uri.file(file);
  };

  it('"Evaluate this plan" runs the spec with the plan as a variant and leaves the spec as it was', async () => {
    const dir = planDir();
    const spec = smallSpec(dir, { limit: 300, sweep: false, sensitivity: false });
    const before = readFileSync(spec.fsPath, 'utf8');
    // The spec's own results first: the plan's evaluation must not overwrite them.
    const own = await vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', spec);
    assert.ok(own, 'the spec ran');
    const ownFile = path.join(dir, 'small.results.json');
    const ownText = readFileSync(ownFile, 'utf8');
    const plan = vscode.Uri.file(path.join(dir, 'trial.qplan.json'));
    writeFileSync(plan.fsPath, `${JSON.stringify({ model: 'mnist_mlp.onnx', default: 'int4-block32', layers: {} })}\n`);
    const document = await vscode.workspace.openTextDocument(plan);
    await vscode.window.showTextDocument(document);
    const lens = await waitForAsync('the plan code lens', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', plan);
      return found.find((l) => l.command?.command === 'quantlens.evaluatePlan');
    });
    const command = lens.command!;
    assert.match(command.title, /Evaluate this plan/);
    // What clicking the lens runs.
    const stored = await vscode.commands.executeCommand<StoredResults | undefined>(
      command.command,
      ...(command.arguments ?? []),
    );
    assert.ok(stored, 'the plan was evaluated');
    const variant = stored.results.variants.find((v) => v.kind === 'plan');
    assert.ok(variant, `a plan variant in ${stored.results.variants.map((v) => v.id).join(', ')}`);
    assert.equal(variant.label, 'trial.qplan.json');
    assert.ok(variant.metrics.all.accuracy! > 0.5);
    assert.equal(readFileSync(spec.fsPath, 'utf8'), before, 'the spec file is unchanged');
    assert.equal(vscode.workspace.textDocuments.find((d) => d.uri.fsPath === spec.fsPath)?.isDirty ?? false, false);
    // The plan's results have their own file; the spec's results are as they were.
    assert.equal(path.basename(stored.file.fsPath), 'small.trial.results.json');
    const planResults = JSON.parse(readFileSync(stored.file.fsPath, 'utf8')) as { variants: { kind: string }[] };
    assert.ok(planResults.variants.some((v) => v.kind === 'plan'));
    assert.equal(readFileSync(ownFile, 'utf8'), ownText, "the spec's own results file is untouched");
  });

  it('a cancelled evaluation says "cancelled" and writes no results', async () => {
    const dir = planDir();
    const spec = smallSpec(dir);
    const results = path.join(dir, 'small.results.json');
    rmSync(results, { force: true });
    const { value, messages } = await messagesDuring(async () => {
      const run = vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', spec);
      await waitFor('the inference process', () => childProcesses('evalProcess')[0], 60_000);
      assert.equal(await vscode.commands.executeCommand<number>('quantlens.cancelEvaluation'), 1);
      return run;
    });
    assert.equal(value, undefined);
    assert.ok(
      messages.some((m) => /evaluation of small\.quantlens\.json cancelled/.test(m)),
      `a "cancelled" message, got: ${JSON.stringify(messages)}`,
    );
    assert.equal(existsSync(results), false, 'no results written');
    await waitFor('the inference process to end', () => childProcesses('evalProcess').length === 0, 10_000);
  });
});
