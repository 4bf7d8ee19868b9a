/**
 * The plan search end to end on the MNIST demo: sequential testing chooses the plan the full-data search chooses,
 * with the per-slice numbers an evaluation of that plan gives; `quantlens plan` exit codes and its writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { evaluate } from '../../src/node/eval/evaluate';
import { findPlan } from '../../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
  copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist.quantlens.json'), 'utf8')) as Record<
  string,
  unknown
>;

function writeSpec(name: string, extra: Record<string, unknown>): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ ...demo, ...extra }, null, 2));
  return file;
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const search = { candidates: ['fp32', 'fp16', 'int8-channel', 'int4-block32'], maxCost: '0.3x' };

describe('plan search on the MNIST demo', () => {
  it('sequential testing picks the plan the full-data search picks, with the same per-slice verdicts, in fewer runs', async () => {
    const spec = writeSpec('demo.quantlens.json', { search });
    const seq = await findPlan(spec);
    const full = await findPlan(spec, { sequential: false });
    assert.ok(seq.chosen && full.chosen);
    assert.equal(seq.chosen.cost, full.chosen.cost);
    assert.deepEqual(seq.chosen.layers, full.chosen.layers);
    const verdicts = (r: typeof seq): string[] => r.chosen!.slices!.map((s) => `${s.name}:${s.verdict}`);
    assert.deepEqual(verdicts(seq), verdicts(full));
    assert.ok(seq.runs.search < full.runs.search, `${seq.runs.search} runs against ${full.runs.search}`);
    assert.equal(full.runs.search, full.runs.fullDataEquivalent);
    // The chosen plan, evaluated as an ordinary plan variant, gives the same per-slice accuracy.
    const plan = path.join(dir, 'chosen.qplan.json');
    writeFileSync(plan, JSON.stringify({ default: 'fp32', layers: seq.chosen.layers }));
    const results = await evaluate(spec, { extraPlans: [plan], latency: false });
    const variant = results.variants.find((v) => v.kind === 'plan')!;
    for (const s of seq.chosen.slices!) {
      assert.equal(s.metrics.accuracy, variant.metrics[s.name].accuracy, s.name);
      assert.ok(Math.abs(s.metrics.kl! - variant.metrics[s.name].kl!) < 1e-9, s.name);
    }
    // Every plan of the front is a measured one, and the chosen plan is within maxCost.
    assert.ok(seq.chosen.cost <= seq.maxCost!);
    assert.ok(seq.front.every((p) => seq.plans.some((q) => q.cost === p.cost && q.worst === p.worst)));
    // The chosen plan's point is its whole-set reading (an early look's worst would place it elsewhere): the largest
    // accuracy drop of its deciding slices, the same in both searches.
    const drops = seq.chosen.slices!.filter((s) => s.n >= 20).map((s) => -s.metrics.accuracyChange!.value);
    assert.ok(Math.abs(seq.chosen.worst - Math.max(...drops)) < 1e-9, `${seq.chosen.worst} vs ${Math.max(...drops)}`);
    assert.equal(seq.chosen.worst, full.chosen.worst);
    assert.equal(seq.chosen.worstSlice, full.chosen.worstSlice);
    // ... and so is the step that measured it (its "measured" against "predicted").
    const steps = seq.steps.filter((s) => s.cost === seq.chosen!.cost && s.passes);
    assert.ok(steps.length > 0 && steps.every((s) => s.measuredWorst === seq.chosen!.worst), JSON.stringify(steps));
  });
});

describe('quantlens plan', () => {
  const small = { limit: 400, sensitivity: false, sweep: false, variants: ['int8-channel'] };

  it('exit 0: writes <spec stem>.found.qplan.json, marked, with a note per layer; prints front and slices', () => {
    const spec = writeSpec('small.quantlens.json', { ...small, search });
    const r = cli('plan', spec);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pareto front/);
    assert.match(r.stdout, /Per slice \(whole evaluation set, simulated\):\n {2}all +n= {2}400/);
    assert.match(r.stdout, /Inference runs: \d+ for the search .* against \d+ for the same plans on all 400 samples/);
    const plan = JSON.parse(readFileSync(path.join(dir, 'small.found.qplan.json'), 'utf8')) as {
      generatedBy: string;
      layers: Record<string, string>;
      notes: Record<string, string>;
    };
    assert.equal(plan.generatedBy, 'QuantLens plan search');
    assert.deepEqual(Object.keys(plan.layers).sort(), ['/fc1/MatMul', '/fc2/MatMul', '/fc3/MatMul']);
    assert.deepEqual(Object.keys(plan.notes).sort(), Object.keys(plan.layers).sort());
    // Its own file is replaced without asking.
    assert.equal(cli('plan', spec, '--json').code, 0);
  });

  it('--export: exports the chosen plan and evaluates it on onnxruntime; with --json, one JSON document', () => {
    const spec = writeSpec('exported.quantlens.json', { ...small, search });
    const out = path.join(dir, 'exported.found.onnx');
    const r = cli('plan', spec, '--json', '--export', out);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      chosen: { layers: Record<string, string> };
      written: string;
      export: { export: { output: string }; verification: { ok: boolean }; evaluation: { results: unknown } };
    };
    assert.equal(doc.written, path.join(dir, 'exported.found.qplan.json'));
    assert.equal(doc.export.export.output, out);
    assert.equal(doc.export.verification.ok, true);
    assert.ok(doc.export.evaluation.results, 'the export evaluated on the spec');
    const text = cli('plan', spec, '--export', out, '--replace');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Pareto front[\s\S]*Exporting the chosen plan and evaluating the export on onnxruntime/);
  });

  it('exit 1 when no plan within maxCost meets the budget; names the slices that force higher precision', () => {
    const spec = writeSpec('tight.quantlens.json', { ...small, search: { ...search, maxCost: 1000 } });
    const r = cli('plan', spec);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /No plan within maxCost meets the budget on every slice\./);
  });

  it('routing: a slice no plan within maxCost protects is served by a plan that does, measured together', () => {
    const spec = writeSpec('route.quantlens.json', {
      slices: [{ by: 'buckets', field: 'ink', quantiles: 6 }],
      sweep: false,
      sensitivity: false,
      variants: ['int8-channel'],
      budget: { accuracyDrop: 1.5 },
      search: { candidates: ['fp32', 'int4-block32', 'int3-block32', 'int2-block32'], maxCost: '0.096x' },
    });
    const r = cli('plan', spec, '--json');
    assert.equal(r.code, 1, r.stderr);
    type Table = { name: string; verdict: string; metrics: { accuracy: number; n: number } }[];
    type Plan = { cost: number; slices: Table };
    const out = JSON.parse(r.stdout) as {
      forcing: string[];
      routing: { slice: string; cost: number; special: Plan; rest: Plan; slices: Table }[];
    };
    const routed = out.forcing.find((s) => s.startsWith('ink'))!;
    assert.ok(routed, out.forcing.join());
    const route = out.routing.find((x) => x.slice === routed)!;
    assert.ok(route, 'a routing recommendation for the input-side slice');
    assert.equal(route.cost, route.special.cost + route.rest.cost);
    const by = (t: Table, name: string) => t.find((s) => s.name === name)!.metrics;
    // The routed slice's samples are served by the special plan, the other buckets' (disjoint) by the rest.
    assert.deepEqual(by(route.slices, routed), by(route.special.slices, routed));
    for (const s of route.slices.filter((x) => x.name.startsWith('ink') && x.name !== routed))
      assert.deepEqual(by(route.slices, s.name), by(route.rest.slices, s.name));
  });

  it('exit 2: a search without a budget, a spec without a search, a user file not replaced unasked', () => {
    const noBudget = writeSpec('nobudget.quantlens.json', { ...small, budget: undefined, search });
    const a = cli('plan', noBudget);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /nobudget\.quantlens\.json:\d+:\d+: A search needs a budget to meet/);
    const b = cli('plan', writeSpec('nosearch.quantlens.json', { ...small, search: undefined }));
    assert.equal(b.code, 2);
    assert.match(b.stderr, /has no 'search' field/);
    const spec = writeSpec('mine.quantlens.json', { ...small, search });
    const mine = path.join(dir, 'mine.qplan.json');
    writeFileSync(mine, '{ "default": "int8-channel" }\n');
    const c = cli('plan', spec, '-o', mine);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /Pass --replace to overwrite it/);
    assert.equal(readFileSync(mine, 'utf8'), '{ "default": "int8-channel" }\n');
    assert.equal(cli('plan', spec, '-o', mine, '--replace').code, 0);
    assert.match(readFileSync(mine, 'utf8'), /QuantLens plan search/);
  });
});
