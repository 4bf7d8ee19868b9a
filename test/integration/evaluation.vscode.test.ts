/**
 * Slice evaluation inside real VS Code: the demo MNIST spec runs from the command (in the inference child
 * process), writes its results, puts flagged layers in the Problems panel against the model, creates the
 * plan file with warnings and working quick fixes, shows the results view; bad specs and a crashing
 * inference process give errors, not a dead extension host. The CLI gives the same numbers.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResults } from '../../src/extension/evaluationStore';
import { parseResults } from '../../src/core/eval/results';
import { api, waitFor, workspaceDir } from './helpers';

/** Polls an async `fn` until it returns a value. */
async function waitForAsync<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids of this process's children whose command line contains `name` (`ps`: Linux and macOS). */
function childProcesses(name: string): number[] {
  const { stdout } = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === process.pid && m[3].includes(name))
    .map((m) => Number(m[1]));
}

describe('Slice evaluation', function () {
  this.timeout(240_000);
  const dir = (): string => path.join(workspaceDir(), 'mnist');
  const specUri = (): vscode.Uri => vscode.Uri.file(path.join(dir(), 'mnist.quantlens.json'));
  const modelUri = (): vscode.Uri => vscode.Uri.file(path.join(dir(), 'mnist_mlp.onnx'));
  let stored: StoredResults | undefined;

  before(async () => {
    await api();
    stored = await vscode.commands.executeCommand<StoredResults | undefined>('quantlens.runEvaluation', specUri());
  });

  it('the command runs the demo spec and writes the results next to it', () => {
    assert.ok(stored, 'the command returned results (is the workspace trusted?)');
    const r = stored.results;
    const file = path.join(dir(), 'mnist.results.json');
    assert.ok(existsSync(file));
    const written = parseResults(readFileSync(file, 'utf8'));
    assert.equal(written.model.sha256, r.model.sha256);
    assert.equal(r.data.evaluated, 1996);
    assert.equal(r.slices[0].name, 'all');
    assert.ok(r.slices.some((s) => s.name === 'digit=9'));
    assert.ok(r.slices.some((s) => s.name.startsWith('ink ')));
    const fp32 = r.variants[0].metrics.all.accuracy!;
    assert.ok(fp32 > 0.9, `the trained demo model classifies held-out digits (${fp32})`);
    // Directions that must hold: int2 far worse than int8; KL grows as bits shrink.
    const sweep = r.sweep!;
    const acc = (bits: number): number => sweep.metrics[sweep.bits.indexOf(bits)].all.accuracy!;
    assert.ok(acc(2) < acc(8) - 0.05, `int2 (${acc(2)}) is worse than int8 (${acc(8)})`);
    const kl = sweep.bits.map((_, i) => sweep.metrics[i].all.kl!);
    kl.slice(1).forEach((k, i) =>
      assert.ok(k > kl[i], `KL grows from int${sweep.bits[i]} to int${sweep.bits[i + 1]}: ${kl.join(', ')}`),
    );
  });

  it('flagged layers are Problems on the model; the code link opens the inspector on the layer', async () => {
    const r = stored!.results;
    assert.ok(r.flags.length >= 1, 'the demo flags at least one layer under int2-block32');
    const diagnostics = await waitFor('diagnostics on the model', () => {
      const d = vscode.languages.getDiagnostics(modelUri());
      return d.length === r.flags.length ? d : undefined;
    });
    for (const d of diagnostics) {
      assert.match(d.message, /^int\d-\S+ on \/fc\d\/MatMul: (-\d+\.\d pp accuracy|KL \d\.\d{2}e-\d+) on slice \S+/);
      assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    }
    const code = diagnostics[0].code as { value: string; target: vscode.Uri };
    assert.equal(code.target.scheme, 'command');
    const [uri, weight, scheme] = JSON.parse(decodeURIComponent(code.target.query)) as [string, string, string];
    await vscode.commands.executeCommand(code.target.path, uri, weight, scheme);
    const ql = await api();
    const report = await ql.waitForRender(
      modelUri(),
      (rep) => rep.view?.weight === weight && rep.view?.scheme === scheme,
      60_000,
    );
    assert.equal(report.view?.tab, 'layers');
    // The layer table shows the measured sensitivity, with the flag on flagged layers.
    const flagged = r.flags.find((f) => f.weight === weight)!;
    const layer = r.sensitivity!.layers.find((l) => l.weight === weight)!;
    const table = await ql.waitForRender(
      modelUri(),
      (rep) =>
        (rep.tables.layers ?? []).some(
          (row) => row.includes(weight) && row.some((c) => c.startsWith(`#${layer.rank} `)),
        ),
      30_000,
    );
    const row = table.tables.layers.find((cells) => cells.includes(weight))!;
    assert.ok(
      row.some((c) => c.includes(flagged.slice) && c.includes(r.sensitivity!.leaveOneOutScheme!)),
      row.join(' | '),
    );
  });

  it('the plan starts from a scheme that met the budget; per-layer and whole-model warnings with quick fixes', async () => {
    const planUri = vscode.Uri.file(path.join(dir(), 'mnist.qplan.json'));
    assert.ok(existsSync(planUri.fsPath), 'the evaluation created the plan');
    const r = stored!.results;
    const aggressive = r.sensitivity!.leaveOneOutScheme!;
    const broke = (id: string): boolean => (r.variants.find((v) => v.id === id)?.violations.length ?? 0) > 0;
    const met = r.variants.filter((v) => v.kind === 'scheme' && v.violations.length === 0);
    const safest = met.sort((a, b) => a.weightBytes - b.weightBytes)[0].id;
    assert.ok(broke(aggressive), `the demo measures ${aggressive} breaking the budget on the whole model`);
    const created = JSON.parse(readFileSync(planUri.fsPath, 'utf8')) as { default: string };
    assert.equal(created.default, safest, 'a new plan starts from the most aggressive scheme that met the budget');
    const doc = await vscode.workspace.openTextDocument(planUri);
    await vscode.window.showTextDocument(doc);
    // The trap: every layer at the most aggressive scheme (what plans were created with before).
    const trap = async (): Promise<void> => {
      const layers = Object.fromEntries(r.sensitivity!.layers.map((l) => [l.layer, aggressive]));
      const text = `${JSON.stringify({ model: 'mnist_mlp.onnx', default: aggressive, layers }, null, 2)}\n`;
      const edit = new vscode.WorkspaceEdit();
      edit.replace(planUri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text);
      assert.ok(await vscode.workspace.applyEdit(edit));
    };
    await trap();
    const over = r.sensitivity!.layers.filter((l) => !l.oneAtATime[aggressive].meetsBudget);
    assert.ok(over.length >= 1);
    const warnings = await waitFor('plan warnings', () => {
      const d = vscode.languages
        .getDiagnostics(planUri)
        .filter((x) => x.severity === vscode.DiagnosticSeverity.Warning);
      return d.length === over.length + 1 ? d : undefined;
    });
    const whole = warnings.find((w) => w.code === 'plan-over-budget')!;
    assert.ok(whole, 'the whole-model break is a warning');
    assert.ok(doc.lineAt(whole.range.start.line).text.includes('"default"'), 'on the default line');
    assert.match(
      whole.message,
      new RegExp(`^${aggressive} on every layer .* breaks the budget: -\\d+\\.\\d pp accuracy`),
    );
    const layer = over[0];
    const warning = warnings.find((w) => w.message.includes(layer.layer))!;
    assert.ok(
      doc.lineAt(warning.range.start.line).text.includes(`"${layer.layer}"`),
      "the warning is on the layer's line",
    );
    const actions = await waitForAsync('quick fixes', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        planUri,
        warning.range,
      );
      return found.length > 0 ? found : undefined;
    });
    const fix = actions.find((a) => a.isPreferred) ?? actions[0];
    assert.ok(fix?.edit, `a quick fix is offered (${actions.map((a) => a.title).join('; ')})`);
    const target = /Use (\S+) for/.exec(fix.title)![1];
    assert.ok(layer.oneAtATime[target]?.meetsBudget || target === 'fp16');
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const plan = JSON.parse(doc.getText()) as { layers: Record<string, string> };
    assert.equal(plan.layers[layer.layer], target);
    await waitFor(
      'the warning to go',
      () => !vscode.languages.getDiagnostics(planUri).some((d) => d.message.includes(layer.layer)) || undefined,
    );
    // The whole-model quick fix moves the default and every layer at the broken scheme to the safest one.
    await trap();
    const again = await waitFor('the whole-model warning', () =>
      vscode.languages.getDiagnostics(planUri).find((d) => d.code === 'plan-over-budget'),
    );
    const wholeFixes = await waitForAsync('whole-model quick fix', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        planUri,
        again.range,
      );
      const f = found.find((a) => a.title.includes('most aggressive whole-model scheme'));
      return f ? f : undefined;
    });
    assert.ok(wholeFixes.title.startsWith(`Use ${safest} instead of ${aggressive}`), wholeFixes.title);
    assert.ok(await vscode.workspace.applyEdit(wholeFixes.edit!));
    const fixed = JSON.parse(doc.getText()) as { default: string; layers: Record<string, string> };
    assert.equal(fixed.default, safest);
    assert.deepEqual(new Set(Object.values(fixed.layers)), new Set([safest]));
    await waitFor(
      'the plan warnings to go',
      () =>
        vscode.languages.getDiagnostics(planUri).filter((d) => d.severity === vscode.DiagnosticSeverity.Warning)
          .length === 0 || undefined,
    );
    await doc.save();
  });

  it('the results view shows slices x variants, the sweep and the sensitivity bars', async () => {
    const ql = await api();
    await vscode.commands.executeCommand('quantlens.showResults', modelUri());
    const report = await waitFor('the results view', () => ql.resultsView(modelUri()), 30_000);
    const r = stored!.results;
    assert.equal(report.rows, r.slices.length);
    assert.equal(report.columns, r.variants.length);
    assert.equal(
      report.badCells,
      r.variants.reduce((n, v) => n + new Set(v.violations.map((x) => x.slice)).size, 0),
    );
    // A CI that includes the budget is "within noise", shown apart from a violation (the demo has both).
    const noise = r.variants.reduce(
      (n, v) => n + Object.values(v.verdicts ?? {}).filter((x) => x === 'noise').length,
      0,
    );
    assert.ok(noise > 0 && report.badCells > 0, `${noise} noise cells, ${report.badCells} violated`);
    assert.equal(report.noiseCells, noise);
    assert.ok(report.sweepPainted);
    assert.equal(report.bars, r.sensitivity!.layers.length * r.sensitivity!.schemes.length);
  });

  it('the CLI gives the same numbers as the extension (scoring in its worker thread, the extension on its main thread)', () => {
    const run = spawnSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'cli.js'),
        'eval',
        specUri().fsPath,
        '--json',
        '--no-write',
        '--scoring',
        'worker',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
    );
    const r = stored!.results;
    assert.equal(run.status, r.budgetViolated ? 1 : 0, run.stderr);
    const cli = parseResults(run.stdout);
    assert.deepEqual(cli.slices, r.slices);
    for (const [i, v] of r.variants.entries()) {
      for (const s of r.slices) {
        assert.equal(cli.variants[i].metrics[s.name].accuracy, v.metrics[s.name].accuracy, `${v.id} ${s.name}`);
        assert.ok(
          Math.abs(cli.variants[i].metrics[s.name].kl! - v.metrics[s.name].kl!) <=
            1e-9 * Math.max(1e-12, v.metrics[s.name].kl!) + 1e-15,
          `${v.id} ${s.name} KL`,
        );
      }
    }
    assert.deepEqual(
      cli.flags.map((f) => f.message),
      r.flags.map((f) => f.message),
    );
    assert.equal(cli.timings.scoringInWorker, true);
    assert.equal(r.timings.scoringInWorker, false, 'the demo has too few outputs for a worker to pay');
  });

  it('a bad spec fails before inference with diagnostics on its lines', async () => {
    const bad = path.join(dir(), 'bad.quantlens.json');
    writeFileSync(
      bad,
      `{
  "model": "mnist_mlp.onnx",
  "task": "classification",
  "data": [{ "path": "images.idx.gz", "as": "image" }, { "path": "labels.idx.gz", "as": "label" }],
  "inputs": { "pixels": "image" },
  "variants": ["int4-block32"]
}
`,
    );
    const ql = await api();
    await assert.rejects(ql.evaluate(vscode.Uri.file(bad)), /model has no input 'pixels'/);
    const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(bad));
    assert.ok(
      diagnostics.some((d) => d.range.start.line === 4 && /no input 'pixels'.*'image'/.test(d.message)),
      JSON.stringify(diagnostics.map((d) => [d.range.start.line, d.message])),
    );
  });

  it('a crash of the inference process is an error, and the extension host keeps working', async () => {
    const ql = await api();
    const running = ql.evaluate(specUri());
    // The inference child of this extension host, killed from outside as a native crash or the OOM killer would.
    const pid = await waitFor('the inference process', () => childProcesses('evalProcess')[0], 60_000);
    process.kill(pid, 'SIGKILL');
    await assert.rejects(running, /inference process stopped unexpectedly \(signal SIGKILL\)/);
    const again = await ql.evaluate(specUri());
    assert.equal(again?.variants[0].metrics.all.accuracy, stored!.results.variants[0].metrics.all.accuracy);
  });
  it('an evaluation whose results file is a symlink refuses to write and leaves the link target untouched', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'quantlens-target-'));
    const target = path.join(outside, 'bashrc');
    writeFileSync(target, 'echo original\n');
    const linked = path.join(dir(), 'linked.quantlens.json');
    const results = path.join(dir(), 'linked.results.json');
    const demo = JSON.parse(readFileSync(specUri().fsPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      linked,
      JSON.stringify({ ...demo, variants: ['int8-channel'], sweep: false, sensitivity: false, limit: 64 }, null, 2),
    );
    symlinkSync(target, results);
    try {
      const ql = await api();
      await assert.rejects(ql.evaluate(vscode.Uri.file(linked)), /symlink/);
      assert.equal(readFileSync(target, 'utf8'), 'echo original\n', 'the link target is untouched');
      assert.ok(lstatSync(results).isSymbolicLink(), 'the link is left as it was');
      assert.deepEqual(
        readdirSync(dir()).filter(
          (f) => f.includes('linked') && f !== 'linked.quantlens.json' && f !== 'linked.results.json',
        ),
        [],
        'no temporary file left behind',
      );
    } finally {
      rmSync(linked, { force: true });
      rmSync(results, { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
