/**
 * Activation candidates in the plan search (issue 21: candidates include w8a8) on the demo CNN: a layer set to
 * w8a8 has its weight int8 per channel and its input activations quantized, calibrated as the evaluation
 * calibrates; the front holds w8a8 plans, and each measured plan equals the evaluation of that plan as a plan
 * variant (the same per-slice metrics); costs are the weight scheme's bytes; no calibration block is exit 2 at
 * the candidate's line.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { SpecError } from '../../src/core/eval/spec';
import { evaluate } from '../../src/node/eval/evaluate';
import { calibrateForExport } from '../../src/node/export/specCalibration';
import { findPlan } from '../../src/node/search/findPlan';

const ROOT = path.join(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'demo', 'mnist');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-plan-w8a8-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['mnist_cnn.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
  copyFileSync(path.join(DEMO, f), path.join(dir, f));
const demo = JSON.parse(readFileSync(path.join(DEMO, 'cnn.quantlens.json'), 'utf8')) as Record<string, unknown>;

function writeSpec(name: string, extra: Record<string, unknown>): string {
  const file = path.join(dir, name);
  const base = { ...demo, variants: ['int8-channel'], limit: 300, latency: false, sensitivity: false, sweep: false };
  writeFileSync(file, JSON.stringify({ ...base, calibration: { samples: 96 }, ...extra }, null, 2));
  return file;
}

describe('plan search with w8a8 candidates', () => {
  it('the front holds w8a8 plans, each measured as an evaluation of that plan measures it', async () => {
    const spec = writeSpec('w8a8.quantlens.json', { search: { candidates: ['fp32', 'fp16', 'w8a8'] } });
    const r = await findPlan(spec, { sequential: false, exhaustiveLimit: 100 });
    assert.equal(r.exhaustive, true);
    assert.equal(r.plans.length, 81, 'every combination of 3 candidates on 4 layers');
    assert.equal(r.calibration?.samples, 96);
    assert.equal(r.calibration?.disjoint, true);
    // Cost: the weight scheme's bytes (w8a8 costs what int8-channel costs).
    for (const l of r.layers) assert.ok(l.costs.w8a8 < l.costs.fp16 && l.costs.fp16 < l.costs.fp32, l.key);
    const withW8a8 = r.front.filter((p) => Object.values(p.layers).includes('w8a8'));
    assert.ok(withW8a8.length > 0, JSON.stringify(r.front.map((p) => p.layers)));
    const all = r.front.find((p) => Object.values(p.layers).every((s) => s === 'w8a8'));
    assert.ok(all, 'the cheapest plan (every layer w8a8) is on the front');
    // Two front plans with w8a8 layers (the all-w8a8 one and a mixed one), evaluated as plan variants.
    const mixed = withW8a8.find((p) => p !== all) ?? all;
    const plans = [all, mixed].map((p, i) => {
      const file = path.join(dir, `front${i}.qplan.json`);
      writeFileSync(file, JSON.stringify({ default: 'fp32', layers: p.layers }));
      return { p, file };
    });
    const results = await evaluate(spec, { extraPlans: plans.map((x) => x.file), latency: false });
    for (const { p, file } of plans) {
      const variant = results.variants.find((v) => v.kind === 'plan' && v.id.endsWith(path.basename(file)))!;
      assert.ok(variant.activations, `${path.basename(file)} quantizes activations`);
      assert.ok(p.slices, 'measured on the whole set');
      for (const s of p.slices) {
        const m = variant.metrics[s.name];
        assert.equal(s.metrics.n, m.n, s.name);
        assert.equal(s.metrics.accuracy, m.accuracy, s.name);
        assert.equal(s.metrics.agreement, m.agreement, s.name);
        assert.ok(Math.abs(s.metrics.kl! - m.kl!) < 1e-9, `${s.name}: ${s.metrics.kl} vs ${m.kl}`);
      }
    }
    // Every layer w8a8 is the w8a8 variant: the same 8 activations (outputs read by a MaxPool or a Flatten follow
    // the layer producing them), the same metrics.
    const w8a8 = await evaluate(writeSpec('w8a8-variant.quantlens.json', { variants: ['w8a8'] }), { latency: false });
    const v = w8a8.variants.find((x) => x.id === 'w8a8')!;
    const allPlan = results.variants.find((x) => x.kind === 'plan' && x.id.endsWith('front0.qplan.json'))!;
    assert.equal(allPlan.activations?.sites, 8);
    assert.equal(v.activations?.sites, 8);
    for (const s of all.slices!) {
      assert.equal(s.metrics.accuracy, v.metrics[s.name].accuracy, s.name);
      assert.equal(s.metrics.agreement, v.metrics[s.name].agreement, s.name);
      assert.ok(Math.abs(s.metrics.kl! - v.metrics[s.name].kl!) < 1e-9, s.name);
    }
    // Its export calibrates the same activations as the w8a8 export (the plan's sites follow the evaluation's rule).
    const bytes = readFileSync(path.join(dir, 'mnist_cnn.onnx'));
    const asPlan = await calibrateForExport(spec, bytes, { plan: { default: 'fp32', layers: all.layers } });
    const asScheme = await calibrateForExport(spec, bytes, { scheme: 'w8a8' });
    const params = (c: typeof asPlan) => c.activations.map((a) => [a.tensor, a.scale, a.zeroPoint]);
    assert.equal(asPlan.activations.length, 8);
    assert.deepEqual(params(asPlan), params(asScheme));
  });

  it('with int8-channel too: w8a8 plans are measured (same bytes as int8-channel), sensitivity per candidate', async () => {
    const spec = writeSpec('mixed.quantlens.json', { search: { candidates: ['fp32', 'int8-channel', 'w8a8'] } });
    const r = await findPlan(spec, { sequential: false, exhaustiveLimit: 100 });
    assert.equal(r.sensitivity.from, 'measured');
    for (const l of r.layers) assert.equal(l.costs.w8a8, l.costs['int8-channel'], l.key);
    assert.ok(r.plans.some((p) => Object.values(p.layers).includes('w8a8')));
    // w8a8 everywhere and int8-channel everywhere cost the same; activations make a difference.
    const uniform = (s: string) => r.plans.find((p) => Object.values(p.layers).every((x) => x === s))!;
    assert.equal(uniform('w8a8').cost, uniform('int8-channel').cost);
    assert.notDeepEqual(uniform('w8a8').slices, uniform('int8-channel').slices);
  });

  it('an activation candidate without a calibration block is a spec error at its line', async () => {
    const file = path.join(dir, 'nocal.quantlens.json');
    const rest: Record<string, unknown> = { ...demo, search: { candidates: ['fp32', 'w8a8'] } };
    delete rest.calibration;
    writeFileSync(file, JSON.stringify({ ...rest, variants: ['int8-channel'] }, null, 2));
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('"w8a8"')) + 1;
    await assert.rejects(
      findPlan(file),
      (e: unknown) =>
        e instanceof SpecError &&
        e.message.includes(`${file}:${line}:`) &&
        /Candidate 'w8a8' quantizes activations: add "calibration"/.test(e.message),
    );
  });
});
