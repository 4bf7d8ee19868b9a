import { findPlan } from './src/node/search/findPlan';
import * as fs from 'node:fs';
const spec = process.argv[2];
const seq = process.argv[3] !== 'full';
(async () => {
  const t = performance.now();
  const r = await findPlan(spec, { sequential: seq, reuseResults: false, firstLook: Number(process.env.FIRST ?? 128) });
  console.log(JSON.stringify({ ms: performance.now() - t, runs: r.runs, sens: r.sensitivity, chosen: r.chosen && { cost: r.chosen.cost, layers: r.chosen.layers, v: r.chosen.slices?.map((s) => s.verdict) }, front: r.front.map((p) => [p.cost, +p.worst.toFixed(2), p.passes, p.decision, p.samples]), forcing: r.forcing, routing: r.routing?.map(x=>[x.slice,x.cost,x.passes]), fp32: r.fp32Cost, max: r.maxCost, nplans: r.plans.length, exhaustive: r.exhaustive }, null, 1));
})();
