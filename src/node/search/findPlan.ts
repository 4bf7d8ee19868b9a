/**
 * Finds the plan a spec's `search` asks for: checks the spec, model and data as an evaluation does, predicts each
 * layer's effect per candidate from one-at-a-time sensitivity (the results file's when it has them for this model
 * and data, else measured here), runs the search core (core/search/planSearch.ts) with the measurement oracle
 * (planOracle.ts: whole plans by simulation, sequential looks), completes the chosen plan on the whole set, and,
 * when no plan within maxCost meets the budget, names the slices that force higher precision and measures
 * routing for those on input-side fields.
 */
import * as path from 'node:path';
import { weightBytes } from '../../core/eval/configurations';
import { KEEP_FLOAT } from '../../core/eval/plan';
import type { SearchSettings } from '../../core/eval/spec';
import { DEFAULT_THRESHOLDS } from '../../core/eval/verdict';
import { worstOf, type SearchLayer, type SliceEffects } from '../../core/search/moves';
import { paretoFront } from '../../core/search/pareto';
import { searchPlan, type MeasuredPlan, type SearchResult } from '../../core/search/planSearch';
import { decidingSlices, sliceEffects } from '../../core/search/planVerdict';
import {
  inputSideSlices,
  routeChoices,
  routedCost,
  violatedSlices,
  type RoutablePlan,
} from '../../core/search/routing';
import { checkEval, type CheckedEval } from '../eval/evalCheck';
import { configWeight } from '../eval/evalModel';
import { PlanOracle, type PlanMeasure } from './planOracle';
import { planKey, planKeys, quantizedOf } from './planKeys';
import { candidateWeightScheme, SearchActivations } from './searchActivations';
import { sensitivity, sensitivityTable, type Sensitivity } from './planSensitivity';
import {
  worstText,
  type FindPlanReport,
  type LatencyCostReport,
  type ReportedPlan,
} from '../../core/search/planReport';
import { latencySearchLayers, measureFrontLatency } from './latencySearch';

/** Options of a search. */
export interface FindPlanOptions {
  /** Sequential testing (default true); false: every plan on the whole set (the bench's reference). */
  sequential?: boolean;
  /** Overrides the spec's `search.cost`. */
  cost?: 'bytes' | 'latency';
  threads?: number;
  signal?: AbortSignal;
  /** Progress: a message and the inference runs so far. */
  onProgress?: (message: string, runs: number) => void;
  /** Read one-at-a-time effects from the spec's results file when it has them (default true). */
  reuseResults?: boolean;
  exhaustiveLimit?: number;
  /** Samples of the first look (default: PlanOracle's). */
  firstLook?: number;
}

/** Thrown for a spec that asks for no search or for what is not supported yet; bad input (exit 2). */
export class SearchInputError extends Error {}

/** What every stage of a search shares. */
interface SearchContext {
  checked: CheckedEval;
  settings: SearchSettings;
  minSliceSize: number;
  keys: Map<string, string>;
  layers: SearchLayer[];
  fp32Cost: number;
  maxCost: number;
  /** Cost "latency": layer costs and fp32Cost are measured ms. */
  latency?: LatencyCostReport;
}

/** Checks the spec, model and data; the layers and their cost per candidate. */
async function prepare(specPath: string, options: FindPlanOptions): Promise<SearchContext> {
  const checked = await checkEval(path.resolve(specPath), { signal: options.signal, threads: options.threads });
  const settings = checked.spec.search;
  if (!settings)
    throw new SearchInputError(
      `${specPath} has no 'search' field: add "search": {"candidates": ["fp32", "fp16", "int8-channel", "int4-block32"], "maxCost": "0.5x"}.`,
    );
  checkCostUnit(specPath, settings, options.cost);
  const weights = checked.model.weights.map(configWeight);
  const byteLayers: SearchLayer[] = weights.map((w) => ({
    name: w.name,
    costs: new Map(settings.candidates.map((c) => [c, weightBytes(w, candidateWeightScheme(c))])),
  }));
  const keys = planKeys(checked);
  const progress = (message: string): void => options.onProgress?.(message, 0);
  const latency =
    (options.cost ?? settings.cost) === 'latency'
      ? await latencySearchLayers(checked, byteLayers, keys, settings.candidates, { ...options, onProgress: progress })
      : undefined;
  const layers = latency?.layers ?? byteLayers;
  const fp32Cost = latency?.fp32Cost ?? weights.reduce((sum, w) => sum + weightBytes(w, KEEP_FLOAT), 0);
  const minSliceSize = checked.spec.budget.minSliceSize ?? DEFAULT_THRESHOLDS.minSliceSize;
  const maxCost = maxCostOf(settings, fp32Cost);
  return { checked, settings, minSliceSize, keys, layers, fp32Cost, maxCost, latency: latency?.report };
}

/** A maxCost given in the spec's unit (bytes or ms) cannot be read in the other one that --cost asks for. */
function checkCostUnit(specPath: string, settings: SearchSettings, cost: FindPlanOptions['cost']): void {
  const m = settings.maxCost;
  if (cost && cost !== settings.cost && m && 'value' in m)
    throw new SearchInputError(
      `${specPath}: search.maxCost ${m.value} is in ${settings.cost === 'latency' ? 'ms' : 'bytes'} (the spec's cost "${settings.cost}"); with cost "${cost}" give it as a fraction of fp32's ("0.5x") or set "cost": "${cost}" in the spec.`,
    );
}

/** Runs the search a spec describes. */
export async function findPlan(specPath: string, options: FindPlanOptions = {}): Promise<FindPlanReport> {
  const t0 = performance.now();
  const ctx = await prepare(specPath, options);
  const { checked, minSliceSize, keys, layers, maxCost } = ctx;
  const sequential = options.sequential ?? true;
  const { oracle, activations } = await openOracle(ctx, sequential, options);
  const progress = (message: string): void => options.onProgress?.(message, oracle.runs);
  try {
    progress('One-at-a-time sensitivity per candidate');
    const sens = await sensitivity(checked, oracle, layers, minSliceSize, options.reuseResults ?? true);
    const [sensitivityRuns, sensitivityPlanRuns] = [oracle.runs, oracle.runs - oracle.referenceRuns];
    const result = await searchPlan({
      layers,
      predicted: (layer, scheme) => sens.get(layer)?.get(scheme) ?? {},
      maxCost,
      exhaustiveLimit: options.exhaustiveLimit,
      signal: options.signal,
      measure: async (a, need) => {
        const m = await oracle.measure(planKey(a), quantizedOf(a), need);
        const effects = sliceEffects(m.slices, checked.spec.task.type, minSliceSize);
        const estimate = m.decision === 'estimate';
        return { effects, passes: m.passes, withinNoise: m.withinNoise, runs: m.runs, estimate };
      },
      onStep: (step, plans) =>
        progress(`${plans.length} ${plans.length === 1 ? 'plan' : 'plans'} measured (${step.kind})`),
    });
    const effectsOf = (m: PlanMeasure): SliceEffects => sliceEffects(m.slices, checked.spec.task.type, minSliceSize);
    const { chosen, full } = await completeChosen(oracle, result, maxCost, effectsOf, options.signal);
    const report = (p: MeasuredPlan): ReportedPlan =>
      reportPlan(p, full.get(p) ?? oracle.measured(planKey(p.assignment)), keys, checked, minSliceSize);
    const out: FindPlanReport = {
      ...reportHead(specPath, ctx),
      plans: result.plans.map(report),
      front: result.front.map(report),
      ...(chosen ? { chosen: report(chosen) } : {}),
      steps: reportSteps(result, keys),
      notes: chosen ? layerNotes(chosen, layers, sens, keys, result, checked.spec.task.type) : {},
      sensitivity: { from: sens.from, runs: sensitivityRuns },
      sliceSensitivity: sensitivityTable(sens, keys),
      runs: runsOf(oracle, sensitivityPlanRuns, result, checked),
      sequential,
      alpha: 0.05,
      ...(activations ? { calibration: calibrationOf(activations) } : {}),
      cancelled: result.cancelled || (options.signal?.aborted ?? false),
      exhaustive: result.exhaustive,
      ms: 0,
    };
    if (!chosen && !out.cancelled) await noPlanWithin(out, result, oracle, checked, maxCost, keys, minSliceSize);
    const latencyOptions = { ...options, onProgress: progress };
    if (ctx.latency && !out.cancelled) await measureFrontLatency(out, result.front, chosen, ctx, latencyOptions);
    out.runs.total = oracle.runs;
    out.ms = performance.now() - t0;
    return out;
  } finally {
    await oracle.close();
  }
}

/** The search's steps as reported: moves named by plan key. */
const reportSteps = (result: SearchResult, keys: ReadonlyMap<string, string>): FindPlanReport['steps'] =>
  result.steps.map((s) => ({
    ...s,
    moves: s.moves.map((m) => ({ layer: keys.get(m.layer)!, from: m.from, to: m.to, saving: m.saving })),
  }));

/** The measurement oracle, with the activation candidates' calibration and QDQ session when there are some. */
async function openOracle(
  ctx: SearchContext,
  sequential: boolean,
  options: FindPlanOptions,
): Promise<{ oracle: PlanOracle; activations?: SearchActivations }> {
  const { checked, settings, keys, minSliceSize } = ctx;
  const { threads, signal } = options;
  const activations = await SearchActivations.open(checked, settings.candidates, keys, { threads, signal });
  const oracle = await PlanOracle.open(checked, checked.spec.budget, minSliceSize, settings.candidates.length, {
    sequential,
    threads,
    signal,
    firstLook: options.firstLook,
    ...(activations ? { activations } : {}),
  }).catch(async (error: unknown) => {
    await activations?.release();
    throw error;
  });
  return { oracle, activations };
}

/** The report's fields that say what was searched. */
function reportHead(
  specPath: string,
  ctx: SearchContext,
): Pick<
  FindPlanReport,
  'spec' | 'model' | 'task' | 'cost' | 'latency' | 'fp32Cost' | 'maxCost' | 'candidates' | 'minSliceSize' | 'layers'
> {
  const { checked, keys, layers, maxCost } = ctx;
  return {
    spec: path.basename(specPath),
    model: checked.spec.model,
    task: checked.spec.task.type,
    cost: ctx.latency ? 'latency' : 'bytes',
    ...(ctx.latency ? { latency: ctx.latency } : {}),
    fp32Cost: ctx.fp32Cost,
    ...(maxCost !== Infinity ? { maxCost } : {}),
    candidates: ctx.settings.candidates,
    minSliceSize: ctx.minSliceSize,
    layers: layers.map((l) => ({ key: keys.get(l.name)!, weight: l.name, costs: Object.fromEntries(l.costs) })),
  };
}

/** The chosen plan on the whole set (worst, steps, front updated); if the full data fails it, the next is tried. */
async function completeChosen(
  oracle: PlanOracle,
  result: SearchResult,
  maxCost: number,
  effectsOf: (m: PlanMeasure) => SliceEffects,
  signal?: AbortSignal,
): Promise<{ chosen?: MeasuredPlan; full: Map<MeasuredPlan, PlanMeasure> }> {
  let chosen = result.chosen;
  const full = new Map<MeasuredPlan, PlanMeasure>();
  while (chosen && !signal?.aborted) {
    // Stopped while completing it: the plan stays as its early decision measured it, the front is kept and the
    // report marked cancelled (findPlan reads the signal).
    const m = await oracle.complete(planKey(chosen.assignment), quantizedOf(chosen.assignment)).catch((e: unknown) => {
      if (signal?.aborted) return undefined;
      throw e;
    });
    if (!m) break;
    full.set(chosen, m);
    // Its place on the front is the whole set's reading now, not the early look's.
    const worst = worstOf(effectsOf(m));
    for (const step of result.steps)
      if (step.cost === chosen.cost && step.measuredWorst === chosen.worst) step.measuredWorst = worst.value;
    [chosen.worst, chosen.worstSlice] = [worst.value, worst.slice];
    result.front = paretoFront(result.plans);
    if (m.passes) break;
    chosen.passes = false;
    chosen = cheapest(result.plans, maxCost);
  }
  return { chosen, full };
}

function cheapest(plans: readonly MeasuredPlan[], maxCost: number): MeasuredPlan | undefined {
  return plans.filter((p) => p.passes && p.cost <= maxCost).sort((a, b) => a.cost - b.cost || a.worst - b.worst)[0];
}

/** maxCost in bytes (ms for cost latency): as given, a fraction of fp32's, or none. */
export function maxCostOf(settings: SearchSettings, fp32Cost: number): number {
  const m = settings.maxCost;
  if (!m) return Infinity;
  return 'value' in m ? m.value : m.fraction * fp32Cost;
}

function reportPlan(
  p: MeasuredPlan,
  m: PlanMeasure | undefined,
  keys: ReadonlyMap<string, string>,
  checked: CheckedEval,
  minSliceSize: number,
): ReportedPlan {
  const layers = Object.fromEntries([...p.assignment].map(([w, s]) => [keys.get(w)!, s]));
  const out: ReportedPlan = {
    layers,
    cost: p.cost,
    worst: p.worst,
    worstSlice: p.worstSlice,
    passes: m?.decision === 'full' ? m.passes : p.passes,
    withinNoise: m?.withinNoise ?? p.measurement.withinNoise,
    decision: m?.decision ?? 'full',
    samples: m?.samples ?? checked.samples.length,
  };
  if (m?.decision === 'full' && m.reading) out.slices = sliceTable(m, m.reading.verdicts, minSliceSize);
  return out;
}

function sliceTable(m: PlanMeasure, verdicts: Record<string, string>, minSliceSize: number): ReportedPlan['slices'] {
  return m.slices.map((s) => ({
    name: s.name,
    n: s.fullSize,
    verdict: s.fullSize < minSliceSize ? `${verdicts[s.name]} (too few samples to decide)` : verdicts[s.name],
    metrics: s.metrics,
  }));
}

/** Inference runs of the search, and those of the same plans each on the whole set (the fp32 plan runs none). */
function runsOf(
  oracle: PlanOracle,
  sensitivityPlanRuns: number,
  result: SearchResult,
  checked: CheckedEval,
): FindPlanReport['runs'] {
  const batches = oracle.batchCount;
  return {
    // Quantized plans' runs only: fp32's are shared (counted in neither side, as fullDataEquivalent leaves them out).
    search: oracle.runs - oracle.referenceRuns - sensitivityPlanRuns,
    total: oracle.runs,
    fullDataEquivalent: batches * result.plans.filter((p) => quantizedOf(p.assignment).size > 0).length,
    samples: checked.samples.length,
    batches,
  };
}

/** Why each layer of the chosen plan took its scheme (measured effects that decided it). */
function layerNotes(
  chosen: MeasuredPlan,
  layers: readonly SearchLayer[],
  sens: Sensitivity,
  keys: ReadonlyMap<string, string>,
  result: SearchResult,
  task: string,
): Record<string, string> {
  const notes: Record<string, string> = {};
  const aloneText = (e: SliceEffects | undefined): string => {
    const entries = Object.entries(e ?? {});
    if (entries.length === 0) return 'no measured effect';
    const [slice, value] = entries.reduce((w, x) => (x[1] > w[1] ? x : w));
    return `alone: ${worstText(task, value, slice)}`;
  };
  const measured = new Map(result.plans.map((p) => [planKey(p.assignment), p]));
  for (const l of layers) {
    const scheme = chosen.assignment.get(l.name)!;
    const cheaper = [...l.costs].filter(([, c]) => c < l.costs.get(scheme)!).sort((a, b) => a[1] - b[1]);
    const took = `${scheme} (${aloneText(sens.get(l.name)?.get(scheme))})`;
    // What the chosen plan with this layer one step cheaper measured, when the search measured it.
    const why = cheaper.map(([c]) => {
      const neighbour = measured.get(planKey(new Map([...chosen.assignment, [l.name, c]])));
      const alone = `${c} ${aloneText(sens.get(l.name)?.get(c))}`;
      if (!neighbour) return `${alone} (that plan was not measured: the search kept ${scheme} here)`;
      const verdict = neighbour.passes ? 'passes' : 'breaks the budget';
      return `${alone}; the plan with it measured worst: ${worstText(task, neighbour.worst, neighbour.worstSlice)}, ${verdict}${neighbour.measurement.estimate ? ' (estimate)' : ''}`;
    });
    notes[keys.get(l.name)!] =
      cheaper.length === 0 ? `${took}: the cheapest candidate.` : `${took}; cheaper: ${why.join('; ')}.`;
  }
  return notes;
}

/** No plan within maxCost passed: the slices that force higher precision, and routing measured for input-side ones. */
async function noPlanWithin(
  out: FindPlanReport,
  result: SearchResult,
  oracle: PlanOracle,
  checked: CheckedEval,
  maxCost: number,
  keys: ReadonlyMap<string, string>,
  minSliceSize: number,
): Promise<void> {
  // Full-data verdicts of every plan measured (completing those that stopped early).
  const routable: (RoutablePlan & { plan: MeasuredPlan; m: PlanMeasure })[] = [];
  for (const [i, p] of result.plans.entries()) {
    const m = await oracle.complete(planKey(p.assignment), quantizedOf(p.assignment));
    const deciding = new Set(decidingSlices(m.slices, minSliceSize).map((s) => s.name));
    const verdicts = Object.fromEntries(
      Object.entries(m.reading!.verdicts).filter(([s]) => deciding.has(s)),
    ) as RoutablePlan['verdicts'];
    routable.push({ id: String(i), cost: p.cost, verdicts, plan: p, m });
  }
  const within = routable.filter((p) => p.cost <= maxCost).sort((a, b) => a.cost - b.cost);
  // The plans within maxCost that break the fewest slices name the slices that force higher precision.
  const fewest = Math.min(...within.map((p) => violatedSlices(p).length));
  const forcing = [...new Set(within.filter((p) => violatedSlices(p).length === fewest).flatMap(violatedSlices))];
  out.forcing = forcing;
  const inputSide = inputSideSlices(checked.spec.slices, checked.spec.label, checked.slices.names);
  const reported = (r: (typeof routable)[number]): ReportedPlan => reportPlan(r.plan, r.m, keys, checked, minSliceSize);
  out.routing = [];
  const share = (slice: string): number =>
    checked.slices.sizes[checked.slices.names.indexOf(slice)] / checked.samples.length;
  for (const choice of routeChoices(forcing, inputSide, routable, maxCost)) {
    const special = routable.find((r) => r.id === choice.special.id)!;
    const rest = routable.find((r) => r.id === choice.rest.id)!;
    const m = await oracle.measureRouted(
      choice.slice,
      quantizedOf(special.plan.assignment),
      quantizedOf(rest.plan.assignment),
    );
    out.routing.push({
      slice: choice.slice,
      special: reported(special),
      rest: reported(rest),
      cost: routedCost(out.cost, special.cost, rest.cost, share(choice.slice)),
      passes: m.passes,
      slices: sliceTable(m, m.reading!.verdicts, minSliceSize)!,
    });
  }
  out.plans = result.plans.map((p) => reported(routable.find((r) => r.plan === p)!));
}

/** The report's calibration of the activation candidates. */
function calibrationOf(a: SearchActivations): NonNullable<FindPlanReport['calibration']> {
  const { source, samples, seed, method, percentile, disjoint } = a.calibration;
  return { source, samples, seed, method, ...(percentile !== undefined ? { percentile } : {}), disjoint };
}
