/**
 * The summarise stage of an evaluation: from per-slice metrics of fp32 and of every configuration (by id) to
 * the variants' verdicts, the sweep, each layer's sensitivity, its rank and the flags. Pure.
 */
import type { SliceMetrics, TaskKind } from './metrics';
import {
  configurationBytes,
  leaveOneOutId,
  oneAtATimeId,
  sweepId,
  weightBytes,
  type ConfigWeight,
  type EvalPlan,
} from './configurations';
import { KEEP_FLOAT } from './plan';
import type { EvalResults, LayerResult, LayerSchemeResult, MetricsBySlice, VariantResult } from './results';
import type { Budget, EvalSpec } from './spec';
import { layerBudget, readSlice, type Thresholds } from './verdict';
import { flagLayers, flagsWithinNoise, rankLayers, worstSlice } from './ranking';
import { addActivationSensitivity, variantActivations, type CalibrationSummary } from './activationSummary';

/** What summarising needs besides the metrics. */
export interface SummaryInput {
  task: TaskKind;
  budget: Budget;
  thresholds: Thresholds;
  /** Slice names and sizes, in the order of the metrics. */
  slices: { names: readonly string[]; sizes: readonly number[] };
  weights: readonly ConfigWeight[];
  /**
   * Stored bytes of every weight the variants do not vary (biases, weights kept as stored): counted in each
   * simulated variant's `weightBytes`, so that it holds every weight of the model as the variant stores it.
   */
  otherWeightBytes?: number;
  plan: EvalPlan;
  /** The spec's sweep (its points are the plan's sweep configurations). */
  sweep: EvalSpec['sweep'];
  /** The calibration asked for, when a variant quantizes activations. */
  calibration?: CalibrationSummary;
}

/** Per-slice metrics (in slice order) of fp32 and of every configuration by id. */
export interface RunMetrics {
  reference: SliceMetrics[];
  configurations: ReadonlyMap<string, SliceMetrics[]>;
}

/** What the results hold about variants, sweep, sensitivity and flags. */
export type Summary = Pick<
  EvalResults,
  'variants' | 'sweep' | 'sensitivity' | 'flags' | 'flagsWithinNoise' | 'budgetViolated'
>;

/** The slices that decide: at least minSliceSize samples (`all` too: smaller slices are shown, never decide). */
export function decidingSlices(input: Pick<SummaryInput, 'slices' | 'thresholds'>): string[] {
  const { names, sizes } = input.slices;
  return names.filter((_, k) => sizes[k] >= input.thresholds.minSliceSize);
}

/** Summarises a run. */
export function summarise(input: SummaryInput, metrics: RunMetrics): Summary {
  const { names } = input.slices;
  const bySlice = (m: SliceMetrics[]): MetricsBySlice => Object.fromEntries(names.map((n, k) => [n, m[k]]));
  const of = (id: string): MetricsBySlice => {
    const m = metrics.configurations.get(id);
    if (!m) throw new Error(`No metrics for configuration '${id}'.`);
    return bySlice(m);
  };
  const variants = withExportSources(variantResults(input, bySlice(metrics.reference), of));
  const layers = layerResults(input, of);
  return {
    variants,
    ...(input.sweep
      ? {
          sweep: {
            granularity: input.sweep.granularity,
            asymmetric: input.sweep.asymmetric,
            bits: input.sweep.bits,
            schemes: input.plan.sweep,
            metrics: input.plan.sweep.map((s) => of(sweepId(s))),
          },
        }
      : {}),
    ...(layers ? { sensitivity: layers } : {}),
    ...flagsOf(input, layers),
    budgetViolated: variants.some((v) => v.violations.length > 0),
  };
}

function flagsOf(input: SummaryInput, layers: EvalResults['sensitivity']): Pick<Summary, 'flags' | 'flagsWithinNoise'> {
  if (!layers) return { flags: [] };
  const deciding = decidingSlices(input);
  const args = [input.task, layers.layers, input.plan.oneAtATime, deciding, input.thresholds] as const;
  return { flags: flagLayers(...args), flagsWithinNoise: flagsWithinNoise(...args) };
}

function variantResults(
  input: SummaryInput,
  reference: MetricsBySlice,
  of: (id: string) => MetricsBySlice,
): VariantResult[] {
  const { names } = input.slices;
  const other = input.otherWeightBytes ?? 0;
  const variants: VariantResult[] = [
    {
      id: 'fp32',
      label: 'fp32',
      kind: 'reference',
      weightBytes: configurationBytes(input.weights) + other,
      metrics: reference,
      violations: [],
      verdicts: Object.fromEntries(names.map((n) => [n, 'pass' as const])),
      ...(input.calibration ? { activations: null } : {}),
    },
  ];
  for (const c of input.plan.configurations) {
    if (c.kind !== 'variant') continue;
    const metrics = of(c.id);
    const readings = names.map((n) => readSlice(n, metrics[n], input.budget, input.thresholds.minSliceSize));
    variants.push({
      id: c.id,
      label: c.label,
      kind: c.variant,
      ...(c.model !== undefined ? { model: c.model, sessionOptions: c.sessionOptions } : {}),
      ...(c.exportedFrom !== undefined ? { exportedFrom: c.exportedFrom } : {}),
      weightBytes: c.storedBytes ?? configurationBytes(input.weights, c) + other,
      metrics,
      violations: readings.flatMap((r) => r.violations),
      verdicts: Object.fromEntries(names.map((n, k) => [n, readings[k].verdict])),
      ...(c.fileActivations
        ? { activations: c.fileActivations }
        : input.calibration
          ? { activations: variantActivations(c, input.calibration) }
          : {}),
    });
  }
  return variants;
}

const fileName = (p: string): string => p.split(/[\\/]/).pop() ?? p;

/**
 * An export's `exportedFrom` as the id of this run's simulated variant: its scheme, or the plan variant of the same
 * file name; dropped when the run has none.
 */
function withExportSources(variants: VariantResult[]): VariantResult[] {
  for (const v of variants) {
    if (v.exportedFrom === undefined) continue;
    const from = v.exportedFrom;
    const source = from.startsWith('plan:')
      ? variants.find((s) => s.kind === 'plan' && fileName(s.id.slice('plan:'.length)) === fileName(from.slice(5)))
      : variants.find((s) => s.kind === 'scheme' && s.id === from);
    if (source) v.exportedFrom = source.id;
    else delete v.exportedFrom;
  }
  return variants;
}

function layerResults(input: SummaryInput, of: (id: string) => MetricsBySlice): EvalResults['sensitivity'] {
  const { plan, task } = input;
  if (plan.rankScheme === undefined) return undefined;
  const deciding = decidingSlices(input);
  const budget = layerBudget(input.budget, input.thresholds);
  const schemeResult = (metrics: MetricsBySlice): LayerSchemeResult => ({
    metrics,
    worst: worstSlice(task, metrics, deciding),
    meetsBudget: deciding.every((n) => readSlice(n, metrics[n], budget).verdict !== 'violated'),
  });
  const layers: LayerResult[] = input.weights.map((w) => ({
    weight: w.name,
    layer: w.layer,
    layers: [...w.layers],
    op: w.op,
    bytes: Object.fromEntries([KEEP_FLOAT, 'fp16', ...plan.oneAtATime].map((s) => [s, weightBytes(w, s)])),
    oneAtATime: Object.fromEntries(plan.oneAtATime.map((s) => [s, schemeResult(of(oneAtATimeId(s, w.name)))])),
    rank: 0,
    ...(plan.leaveOneOutScheme ? { leaveOneOut: schemeResult(of(leaveOneOutId(w.name))) } : {}),
  }));
  rankLayers(task, layers, plan.rankScheme);
  addActivationSensitivity(task, layers, plan, of, schemeResult);
  return {
    schemes: plan.oneAtATime,
    rankScheme: plan.rankScheme,
    leaveOneOutScheme: plan.leaveOneOutScheme,
    ...(plan.activationScheme ? { activationScheme: plan.activationScheme } : {}),
    layers,
  };
}
