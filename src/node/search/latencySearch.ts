/**
 * `search.cost: "latency"` in the plan search (findPlan.ts): the layers' costs in ms from one-layer exports timed
 * against fp32 (latencyCost.ts, costNoise.ts), and, once the search is done, the front's plans (and the chosen
 * one) exported and timed, their order marked where it is within noise.
 */
import type { SearchSettings } from '../../core/eval/spec';
import { costNoiseMarks, latencyLayers, meetsMaxCost, type MsSpread } from '../../core/search/costNoise';
import { startScheme, type SearchLayer } from '../../core/search/moves';
import type { MeasuredPlan } from '../../core/search/planSearch';
import { spreadText, type FindPlanReport, type LatencyCostReport } from '../../core/search/planReport';
import type { CheckedEval } from '../eval/evalCheck';
import { measureLayerLatency, measurePlansLatency, type LatencyOptions } from './latencyCost';

/** The search's layers with latency costs (ms), fp32's latency and what the report says about the measurement. */
export async function latencySearchLayers(
  checked: CheckedEval,
  byteLayers: readonly SearchLayer[],
  keys: ReadonlyMap<string, string>,
  candidates: readonly string[],
  options: LatencyOptions,
): Promise<{ layers: SearchLayer[]; fp32Cost: number; report: LatencyCostReport }> {
  const weights = byteLayers.map((l) => l.name);
  const m = await measureLayerLatency(checked, weights, keys, candidates, options);
  const { layers, dropped } = latencyLayers(
    m.fp32.ms,
    byteLayers.map((l) => ({ name: l.name, start: startScheme(l), savings: m.savings.get(l.name)! })),
  );
  const savings: Record<string, Record<string, MsSpread>> = {};
  for (const [w, s] of m.savings) savings[keys.get(w)!] = Object.fromEntries(s);
  const report: LatencyCostReport = {
    ...m.budget,
    fp32: m.fp32,
    savings,
    dropped: dropped.map((d) => ({ ...d, layer: keys.get(d.layer)! })),
    models: m.models,
    processes: m.processes,
  };
  return { layers, fp32Cost: m.fp32.ms, report };
}

/**
 * Exports and times the front's plans and the chosen one (A B A B with fp32): each gets its measured cost, front
 * points whose measured cost is within noise of a neighbour's are marked, and the chosen plan's measured latency is
 * checked against maxCost (a fraction of fp32's: of fp32 timed in the same run).
 */
export async function measureFrontLatency(
  out: FindPlanReport,
  front: readonly MeasuredPlan[],
  chosen: MeasuredPlan | undefined,
  ctx: { checked: CheckedEval; keys: ReadonlyMap<string, string>; settings: SearchSettings },
  options: LatencyOptions,
): Promise<void> {
  const { checked, keys } = ctx;
  const maxCost = ctx.settings.maxCost;
  noteDropped(out);
  const extra = chosen && !front.includes(chosen) ? [chosen] : [];
  let m: Awaited<ReturnType<typeof measurePlansLatency>>;
  try {
    m = await measurePlansLatency(
      checked,
      [...front, ...extra].map((p) => p.assignment),
      keys,
      options,
    );
  } catch (error) {
    // Cancelled while timing the front: the front found so far is kept, with its predicted costs.
    if (!options.signal?.aborted) throw error;
    out.cancelled = true;
    return;
  }
  const marks = costNoiseMarks(front.map((p, i) => ({ predicted: p.cost, measured: m.plans[i] })));
  out.front.forEach((r, i) => Object.assign(r, { measuredCost: m.plans[i], costWithinNoise: marks[i].withinNoise }));
  if (out.chosen && chosen) {
    const i = front.indexOf(chosen);
    out.chosen.measuredCost = i >= 0 ? m.plans[i] : m.plans[front.length];
    if (i >= 0) out.chosen.costWithinNoise = marks[i].withinNoise;
  }
  const latency = out.latency!;
  latency.front = { fp32: m.fp32, processes: m.processes, orderHolds: marks.every((x) => x.orderHolds) };
  if (out.chosen?.measuredCost && maxCost) {
    const limit = 'value' in maxCost ? maxCost.value : maxCost.fraction * m.fp32.ms;
    latency.chosenMeetsMaxCost = meetsMaxCost(out.chosen.measuredCost, limit);
  }
}

/** Each layer's note says which candidates were not searched and what they measured alone. */
function noteDropped(out: FindPlanReport): void {
  for (const d of out.latency?.dropped ?? []) {
    if (out.notes[d.layer] === undefined) continue;
    const why = d.saving.ms < 0 ? 'slower than fp32' : 'not faster in every round';
    out.notes[d.layer] += ` Not searched: ${d.scheme}, alone ${why} (saving ${spreadText(d.saving)}).`;
  }
}
