/**
 * QuantLens: Find a Plan inside real VS Code: the search runs in the inference child process, is kept in
 * `<spec stem>.search.json` and shown in the plan search view (the Pareto front with a point per measured plan, the
 * chosen plan's per-slice table, the sensitivity heatmap, the steps); the found plan is written next to the spec
 * (marked as generated, a note per layer), exported and measured on onnxruntime, the export's column next to the
 * simulated one. Clicking a point writes that plan; a cancelled search keeps and shows the front found so far.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FindPlanOutcome } from '../../src/extension/findPlanCommand';
import type { PlanSearchFile } from '../../src/core/search/planSearchFile';
import { worstText } from '../../src/core/search/planReport';
import type { SearchRender } from '../../src/planSearchProtocol';
import { api, EXTENSION_ID, waitFor, waitForAsync, workspaceDir } from './helpers';

type Plan = { generatedBy: string; model: string; layers: Record<string, string>; notes: Record<string, string> };

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The demo classifier with a small spec whose `search` takes the four usual candidates. */
function smallSpec(): string {
  const dir = path.join(workspaceDir(), 'plansearch');
  mkdirSync(dir, { recursive: true });
  for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
    copyFileSync(path.join(workspaceDir(), 'mnist', f), path.join(dir, f));
  const spec = readJson<object>(path.join(workspaceDir(), 'mnist', 'mnist.quantlens.json'));
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
  return specFile;
}

/** What the plan search view of `spec` drew, once it satisfies `ok`. */
function viewReport(spec: string, ok: (r: SearchRender) => boolean, timeoutMs = 30_000): Promise<SearchRender> {
  return waitForAsync(
    'the plan search view',
    async () => {
      const r = await vscode.commands.executeCommand<SearchRender | undefined>(
        'quantlens.test.planSearchView',
        vscode.Uri.file(spec),
      );
      return r && ok(r) ? r : undefined;
    },
    timeoutMs,
  );
}

describe('QuantLens: Find a Plan', () => {
  it('finds the plan, shows the front and the per-slice table, writes the plan, exports and measures it', async function () {
    this.timeout(300_000);
    await api();
    const specFile = smallSpec();
    const dir = path.dirname(specFile);
    const outcome = await vscode.commands.executeCommand<FindPlanOutcome | undefined>(
      'quantlens.findPlan',
      vscode.Uri.file(specFile),
    );
    const written = outcome?.written;
    assert.ok(written, 'a plan was written');
    assert.equal(written.fsPath, path.join(dir, 'small.found.qplan.json'));
    const plan = readJson<Plan>(written.fsPath);
    assert.equal(plan.generatedBy, 'QuantLens plan search');
    assert.equal(plan.model, 'mnist_mlp.onnx');
    assert.deepEqual(Object.keys(plan.layers).sort(), ['/fc1/MatMul', '/fc2/MatMul', '/fc3/MatMul']);
    assert.deepEqual(Object.keys(plan.notes).sort(), Object.keys(plan.layers).sort());

    // Kept next to the spec: the report, the plan written, the export measured on onnxruntime.
    const kept = readJson<PlanSearchFile>(path.join(dir, 'small.search.json'));
    const report = kept.report;
    assert.equal(kept.format, 'quantlens-plan-search');
    assert.equal(kept.written, 'small.found.qplan.json');
    assert.deepEqual(report.chosen?.layers, plan.layers);
    assert.equal(report.cancelled, false);
    const ex = kept.exported;
    assert.ok(ex, 'the found plan was exported and measured');
    assert.equal(ex.plan, 'small.found.qplan.json');
    assert.ok(ex.verified, 'the export equals the simulation bit for bit');
    assert.ok(existsSync(path.resolve(dir, ex.output)), `the export ${ex.output} exists`);
    assert.deepEqual(
      ex.slices.map((s) => s.name),
      report.chosen!.slices!.map((s) => s.name),
      "the export's per-slice column has the simulated table's slices",
    );
    // The sensitivity the search used, per layer: the heatmap's rows.
    assert.deepEqual(Object.keys(report.sliceSensitivity ?? {}).sort(), Object.keys(plan.layers).sort());

    // The view: a point per measured plan, the front's, the chosen plan's per-slice table with the export's column.
    const drawn = await viewReport(specFile, (r) => r.exportedColumn);
    assert.equal(drawn.points, report.plans.length);
    assert.equal(drawn.frontPoints, report.front.length);
    assert.ok(drawn.frontPoints >= 1);
    assert.equal(drawn.chosen, true);
    assert.equal(drawn.cancelled, false);
    assert.equal(drawn.sliceRows, report.chosen!.slices!.length);
    assert.equal(drawn.heatmap[0], 3, 'a heatmap row per layer');
    assert.ok(drawn.heatmap[1] >= 10, `a heatmap column per deciding slice, got ${drawn.heatmap[1]}`);
    assert.equal(drawn.steps, report.steps.length);
  });

  it('clicking a point of the front writes that plan with its layers', async function () {
    this.timeout(120_000);
    await api();
    let specFile = path.join(workspaceDir(), 'plansearch', 'small.quantlens.json');
    if (!existsSync(path.join(path.dirname(specFile), 'small.search.json'))) {
      // Run alone: search first (without the export).
      specFile = smallSpec();
      await vscode.commands.executeCommand('quantlens.findPlan', vscode.Uri.file(specFile), { export: false });
    }
    const spec = vscode.Uri.file(specFile);
    assert.ok(await vscode.commands.executeCommand<boolean>('quantlens.showPlanSearch', spec), 'the search is shown');
    const report = readJson<PlanSearchFile>(path.join(path.dirname(specFile), 'small.search.json')).report;
    await viewReport(specFile, (r) => r.points === report.plans.length);
    const key = (layers: Record<string, string> = {}): string => JSON.stringify(Object.entries(layers).sort());
    const index = report.plans.findIndex((p) => key(p.layers) !== key(report.chosen?.layers));
    assert.ok(index >= 0, 'a plan other than the chosen one was measured');
    const p = report.plans[index];
    const pct = ((100 * p.cost) / report.fp32Cost).toFixed(1).replace(/\.0$/, '');
    const file = path.join(path.dirname(specFile), `small.found-${pct}pct.qplan.json`);
    rmSync(file, { force: true });
    assert.ok(await vscode.commands.executeCommand<boolean>('quantlens.test.pickPlan', spec, index, 'write'));
    const picked = await viewReport(specFile, (r) => r.picked !== undefined);
    assert.match(picked.picked!, /^clicked write on /, `the click: ${picked.picked}`);
    assert.ok(
      picked.picked!.includes(
        `${((100 * p.cost) / report.fp32Cost).toFixed(1)}% of fp32; worst: ${worstText(report.task, p.worst, p.worstSlice)}`,
      ),
      `${picked.picked} (plan ${index}: ${JSON.stringify(p)})`,
    );
    await waitFor(`${path.basename(file)} written`, () => existsSync(file), 30_000);
    const written = readJson<Plan>(file);
    assert.deepEqual(written.layers, p.layers);
    assert.equal(written.generatedBy, 'QuantLens plan search');
    assert.deepEqual(Object.keys(written.notes).sort(), Object.keys(p.layers).sort());
  });

  it('a cancelled search keeps the front found so far and shows it marked as cancelled', async function () {
    this.timeout(300_000);
    await api();
    const source = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'demo', 'lm');
    const dir = path.join(workspaceDir(), 'plansearch-lm');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of ['char_gpt.onnx', 'heldout.jsonl', 'char_gpt.quantlens.json'])
      copyFileSync(path.join(source, f), path.join(dir, f));
    const specFile = path.join(dir, 'char_gpt.quantlens.json');
    const run = vscode.commands.executeCommand<FindPlanOutcome | undefined>(
      'quantlens.findPlan',
      vscode.Uri.file(specFile),
    );
    // Stop once the search has measured plans (past the one-at-a-time sensitivities).
    await plansMeasured('plans measured');
    assert.equal(await vscode.commands.executeCommand<number>('quantlens.stopPlanSearch'), 1);
    const outcome = await run;
    const report = outcome?.search?.report;
    assert.ok(report, 'the stopped search answered with its report');
    assert.equal(report.cancelled, true);
    assert.ok(report.plans.length >= 2, `the plans measured so far are kept (${report.plans.length})`);
    assert.ok(report.front.length >= 1);
    assert.equal(outcome.written, undefined, 'a cancelled search writes no plan');
    assert.equal(existsSync(path.join(dir, 'char_gpt.found.qplan.json')), false);
    const kept = readJson<PlanSearchFile>(path.join(dir, 'char_gpt.search.json'));
    assert.equal(kept.report.cancelled, true);
    assert.equal(kept.report.plans.length, report.plans.length);
    const drawn = await viewReport(specFile, (r) => r.cancelled);
    assert.equal(drawn.points, report.plans.length);
    assert.equal(drawn.frontPoints, report.front.length);
    // A cancelled search does not replace a finished one: stand in a finished search file, search again, stop.
    const finished = { ...kept, report: { ...kept.report, cancelled: false } };
    writeFileSync(path.join(dir, 'char_gpt.search.json'), JSON.stringify(finished));
    const again = vscode.commands.executeCommand<FindPlanOutcome | undefined>(
      'quantlens.findPlan',
      vscode.Uri.file(specFile),
    );
    await waitForAsync(
      'the second search started',
      async () =>
        !/plans measured/.test(await vscode.commands.executeCommand<string>('quantlens.test.planSearchProgress')),
      60_000,
    );
    await plansMeasured('plans measured again');
    assert.equal(await vscode.commands.executeCommand<number>('quantlens.stopPlanSearch'), 1);
    assert.equal((await again)?.search?.report.cancelled, true);
    const still = readJson<PlanSearchFile>(path.join(dir, 'char_gpt.search.json'));
    assert.equal(still.report.cancelled, false, 'the finished search is kept');
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
    const { written } =
      (await vscode.commands.executeCommand<FindPlanOutcome | undefined>(
        'quantlens.findPlan',
        vscode.Uri.file(specFile),
        {
          export: false,
        },
      )) ?? {};
    assert.ok(written, 'a plan was written');
    const plan = JSON.parse(readFileSync(written.fsPath, 'utf8')) as { layers: Record<string, string> };
    assert.deepEqual(Object.keys(plan.layers).sort(), ['/conv1/Conv', '/conv2/Conv', '/fc1/Gemm', '/fc2/Gemm']);
    // Within 0.3x of fp32's bytes, most layers must be w8a8 (fp16 is 0.5x).
    assert.ok(Object.values(plan.layers).filter((s) => s === 'w8a8').length >= 3, JSON.stringify(plan.layers));
    assert.ok(Object.values(plan.layers).every((s) => ['fp32', 'fp16', 'w8a8'].includes(s)));
  });
});

/** Waits until the running search has measured at least two plans (its progress message says so). */
async function plansMeasured(what: string): Promise<void> {
  await waitForAsync(
    what,
    async () => {
      const m = /^(\d+) plans measured/.exec(
        await vscode.commands.executeCommand<string>('quantlens.test.planSearchProgress'),
      );
      return m && Number(m[1]) >= 2 ? m : undefined;
    },
    240_000,
  );
}
