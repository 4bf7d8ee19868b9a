/**
 * `search.cost: "latency"` end to end on the MNIST demo with real onnxruntime in real child processes: per-layer
 * savings measured from one-layer exports (one model per layer and candidate, A B A B with fp32), the search on
 * those additive costs, the front's plans exported and timed. Asserts structure and consistency, never timings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { costNoiseMarks, meetsMaxCost, type MsSpread } from '../../src/core/search/costNoise';
import { planSummary, type FindPlanReport } from '../../src/core/search/planReport';
import { findPlan, SearchInputError } from '../../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-plan-latency-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
  copyFileSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist.quantlens.json'), 'utf8')) as object;
const CANDIDATES = ['fp32', 'int8-channel', 'int4-block32'];
const LATENCY = { batchSizes: [1], runs: 3, seconds: 0, rounds: 2 };
const spec = path.join(dir, 'lat.quantlens.json');
writeFileSync(
  spec,
  JSON.stringify({
    ...demo,
    limit: 200,
    sensitivity: false,
    sweep: false,
    variants: ['int8-channel'],
    latency: LATENCY,
    search: { candidates: CANDIDATES, cost: 'bytes', maxCost: '1.5x' },
  }),
);

const ordered = (m: MsSpread): boolean => Number.isFinite(m.ms) && m.low <= m.ms && m.ms <= m.high;
// The exports go to a temporary folder of the search's own: under a private TMPDIR here, to see it removed.
const privateTmp = path.join(dir, 'tmp');

describe('plan search on measured latency', () => {
  let report: FindPlanReport;
  let code: number | null;
  const found = path.join(dir, 'lat.found.qplan.json');
  before(() => {
    mkdirSync(privateTmp);
    // `--cost latency` overrides the spec's "bytes" (its maxCost is a fraction, valid in either unit).
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'plan', spec, '--cost', 'latency', '--json'],
      { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TMPDIR: privateTmp } },
    );
    code = r.status;
    assert.ok(r.stdout.startsWith('{'), r.stderr);
    report = JSON.parse(r.stdout) as FindPlanReport;
  });

  it('exit 1 only when the chosen plan measured above maxCost; the plan written, with why each layer took its scheme', () => {
    assert.equal(code, report.latency?.chosenMeetsMaxCost === 'no' ? 1 : 0);
    const plan = JSON.parse(readFileSync(found, 'utf8')) as { layers: Record<string, string>; notes: object };
    assert.deepEqual(plan.layers, report.chosen!.layers);
    for (const d of report.latency!.dropped)
      assert.match(report.notes[d.layer], new RegExp(`Not searched: ${d.scheme}`));
  });

  it('a maxCost in the spec unit is refused for the other --cost (exit 2)', async () => {
    const bytes = path.join(dir, 'bytes.quantlens.json');
    const text = readFileSync(spec, 'utf8').replace('"maxCost":"1.5x"', '"maxCost":100000');
    assert.notEqual(text, readFileSync(spec, 'utf8'));
    writeFileSync(bytes, text);
    await assert.rejects(findPlan(bytes, { cost: 'latency' }), (e: Error) => {
      assert.ok(e instanceof SearchInputError);
      assert.match(e.message, /search\.maxCost 100000 is in bytes \(the spec's cost "bytes"\); with cost "latency"/);
      return true;
    });
  });

  it('measures one model per layer and candidate against fp32, each saving with its spread', () => {
    assert.equal(report.cost, 'latency');
    const l = report.latency!;
    assert.deepEqual(
      { batch: l.batch, runs: l.runs, seconds: l.seconds, rounds: l.rounds },
      { batch: 1, runs: LATENCY.runs, seconds: LATENCY.seconds, rounds: LATENCY.rounds },
    );
    const layers = report.layers.map((x) => x.key);
    assert.deepEqual(layers, ['/fc1/MatMul', '/fc2/MatMul', '/fc3/MatMul']);
    assert.equal(l.models, 1 + layers.length * (CANDIDATES.length - 1));
    assert.equal(l.processes, l.models * LATENCY.rounds);
    assert.ok(l.fp32.ms > 0 && ordered(l.fp32), JSON.stringify(l.fp32));
    assert.equal(report.fp32Cost, l.fp32.ms);
    assert.equal(report.maxCost, 1.5 * l.fp32.ms);
    assert.deepEqual(Object.keys(l.savings), layers);
    for (const key of layers) {
      assert.deepEqual(Object.keys(l.savings[key]), ['int8-channel', 'int4-block32']);
      for (const s of Object.values(l.savings[key])) assert.ok(ordered(s), JSON.stringify(s));
    }
    // The measurement's folder of exports is removed.
    assert.deepEqual(
      readdirSync(privateTmp).filter((f) => f.startsWith('quantlens-latency-')),
      [],
    );
  });

  it('the search runs on additive costs: fp32 share minus the saving (at least 0); candidates not faster every round dropped', () => {
    const l = report.latency!;
    const share = l.fp32.ms / report.layers.length;
    for (const layer of report.layers) {
      assert.equal(layer.costs.fp32, share);
      for (const scheme of ['int8-channel', 'int4-block32']) {
        const saving = l.savings[layer.key][scheme];
        const isDropped = l.dropped.some((d) => d.layer === layer.key && d.scheme === scheme);
        assert.equal(isDropped, !(saving.low > 0 && saving.ms > 0), `${layer.key} ${scheme}`);
        // A layer's cost is floored at 0 ms (savings beyond its equal share are noise on a 0.02 ms model).
        assert.equal(layer.costs[scheme], isDropped ? undefined : Math.max(0, share - saving.ms));
      }
    }
    for (const p of report.plans) {
      const cost = report.layers.reduce((sum, layer) => sum + layer.costs[p.layers[layer.key]], 0);
      assert.ok(Math.abs(cost - p.cost) < 1e-9, `${JSON.stringify(p.layers)}: ${cost} vs ${p.cost}`);
    }
  });

  it('front points carry measured costs, marked where the order is within noise; the chosen plan vs maxCost', () => {
    const l = report.latency!;
    assert.ok(report.front.length > 0);
    assert.ok(l.front && ordered(l.front.fp32));
    const extra = report.front.some((p) => p.cost === report.chosen?.cost && p.worst === report.chosen.worst) ? 0 : 1;
    assert.equal(l.front.processes, (1 + report.front.length + extra) * LATENCY.rounds);
    for (const p of report.front) assert.ok(p.measuredCost && p.measuredCost.ms > 0 && ordered(p.measuredCost));
    const marks = costNoiseMarks(report.front.map((p) => ({ predicted: p.cost, measured: p.measuredCost! })));
    assert.deepEqual(
      report.front.map((p) => p.costWithinNoise),
      marks.map((m) => m.withinNoise),
    );
    assert.equal(
      l.front.orderHolds,
      marks.every((m) => m.orderHolds),
    );
    // Plans off the front keep their predicted cost only.
    const onFront = new Set(report.front.map((p) => JSON.stringify(p.layers)));
    for (const p of report.plans.filter((q) => !onFront.has(JSON.stringify(q.layers))))
      assert.equal(p.measuredCost, undefined);
    const chosen = report.chosen!;
    assert.ok(chosen, 'maxCost 1.5x of fp32 admits the fp32 plan, which passes');
    assert.ok(chosen.measuredCost && ordered(chosen.measuredCost));
    assert.equal(l.chosenMeetsMaxCost, meetsMaxCost(chosen.measuredCost, 1.5 * l.front.fp32.ms));
    const text = planSummary(report);
    assert.match(text, /cost in ms of latency/);
    assert.match(text, /Per-layer saving against fp32 .*\n {2}\/fc1\/MatMul: int8-channel -?[\d.]+ ms/);
    assert.match(text, /Chosen plan: [\d.]+ ms \([\d.]+% of fp32\)\n {2}measured [\d.]+ ms/);
  });
});
