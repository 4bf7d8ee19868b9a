/**
 * The plan search's report (what `quantlens plan --json` prints and the results view draws), the found plan's file
 * (marked as generated, with a note per layer) and the text a person reads. Pure.
 */
import { bytesText } from '../bytes';
import type { SliceMetrics } from '../eval/metrics';
import { GENERATED_BY } from '../files/writePolicy';
import type { SearchStep } from './planSearch';

/** A measured plan as reported. */
export interface ReportedPlan {
  /** Layer (plan key) -> scheme, every searched layer. */
  layers: Record<string, string>;
  cost: number;
  /** Worst deciding slice and its primary effect. */
  worst: number;
  worstSlice: string;
  passes: boolean;
  withinNoise: boolean;
  /** How the measurement ended: stopped early inside / outside, or read on the whole set. */
  decision: 'inside' | 'outside' | 'full' | 'estimate';
  samples: number;
  /** Per slice (full data only): verdict and metrics. */
  slices?: { name: string; n: number; verdict: string; metrics: SliceMetrics }[];
}

/** A routing recommendation, measured on the whole set. */
export interface RoutingReport {
  slice: string;
  special: ReportedPlan;
  rest: ReportedPlan;
  /** Both models stored. */
  cost: number;
  passes: boolean;
  slices: { name: string; n: number; verdict: string; metrics: SliceMetrics }[];
}

/** What a search found. */
export interface FindPlanReport {
  spec: string;
  model: string;
  task: string;
  cost: 'bytes';
  fp32Cost: number;
  maxCost?: number;
  candidates: string[];
  minSliceSize: number;
  /** Searched layers: plan key, weight, cost per candidate. */
  layers: { key: string; weight: string; costs: Record<string, number> }[];
  plans: ReportedPlan[];
  front: ReportedPlan[];
  chosen?: ReportedPlan;
  steps: (Omit<SearchStep, 'moves'> & { moves: { layer: string; from: string; to: string; saving: number }[] })[];
  /** Why each layer of the chosen plan took its scheme. */
  notes: Record<string, string>;
  sensitivity: { from: 'results' | 'measured'; runs: number };
  /**
   * The one-at-a-time effects the search predicted from (the layer x slice sensitivity matrix): layer (plan key) ->
   * candidate -> deciding slice -> primary effect (larger is worse; the starting and fp32 candidates: none).
   */
  sliceSensitivity?: Record<string, Record<string, Record<string, number>>>;
  /** Inference runs: the search's, and what the same plans would take on the whole set. */
  runs: { search: number; total: number; fullDataEquivalent: number; samples: number; batches: number };
  sequential: boolean;
  alpha: number;
  /** When no plan within maxCost passes: the slices that force higher precision and routing measured. */
  forcing?: string[];
  routing?: RoutingReport[];
  cancelled: boolean;
  exhaustive: boolean;
  ms: number;
}

/** The marker of plans the search writes (a QuantLens file: replaced without asking). */
export const FOUND_PLAN_MARKER = `${GENERATED_BY} plan search`;

/** The found plan's file name: `<spec stem>.found.qplan.json`. */
export const foundPlanName = (specFile: string): string =>
  `${specFile.replace(/\.quantlens\.json$/i, '').replace(/\.json$/i, '')}.found.qplan.json`;

/** The found plan's text: every searched layer with its scheme, a note per layer, marked as generated. */
export function foundPlanText(plan: ReportedPlan, notes: Record<string, string>, model: string): string {
  const value = { generatedBy: FOUND_PLAN_MARKER, model, default: 'fp32', layers: plan.layers, notes };
  return `${JSON.stringify(value, null, 2)}\n`;
}

const costText = (r: Pick<FindPlanReport, 'fp32Cost'>, cost: number): string =>
  `${bytesText(cost)} (${((100 * cost) / r.fp32Cost).toFixed(1)}% of fp32)`;

const decisionText = (p: ReportedPlan, total: number): string =>
  p.decision === 'full'
    ? `all ${total} samples`
    : p.decision === 'estimate'
      ? `estimated on ${p.samples} samples`
      : `stopped ${p.decision} the budget at ${p.samples} samples`;

const planText = (p: ReportedPlan): string =>
  Object.entries(p.layers)
    .map(([layer, scheme]) => `${layer}=${scheme}`)
    .join(', ');

/** The per-slice table of a plan measured on the whole set. */
export function sliceTableText(slices: NonNullable<ReportedPlan['slices']>, task: string): string[] {
  const effect = (m: SliceMetrics): string =>
    task === 'language-model'
      ? `perplexity ${m.perplexityChange ? `${m.perplexityChange.value >= 0 ? '+' : ''}${m.perplexityChange.value.toFixed(2)}%` : '-'}`
      : `accuracy ${m.accuracyChange ? `${m.accuracyChange.value >= 0 ? '+' : ''}${m.accuracyChange.value.toFixed(2)} pp [${m.accuracyChange.low.toFixed(2)}, ${m.accuracyChange.high.toFixed(2)}]` : '-'}`;
  const width = Math.max(5, ...slices.map((s) => s.name.length));
  return slices.map(
    (s) =>
      `  ${s.name.padEnd(width)}  n=${String(s.n).padStart(5)}  ${effect(s.metrics)}  KL ${(s.metrics.kl ?? 0).toPrecision(3)}  ${s.verdict}`,
  );
}

/** The report a person reads: the front, the chosen plan's per-slice table, runs used against the full data's. */
export function planSummary(r: FindPlanReport, written?: string): string {
  const lines: string[] = [];
  const max = r.maxCost !== undefined ? `, maxCost ${costText(r, r.maxCost)}` : '';
  lines.push(
    `Plan search on ${r.spec}: ${r.layers.length} layers x ${r.candidates.length} candidates (${r.candidates.join(', ')}), cost in bytes${max}; ${r.exhaustive ? 'every combination' : 'greedy with bisection and repair'}, ${r.plans.length} plans measured${r.cancelled ? ' (CANCELLED: what was found so far)' : ''}.`,
  );
  lines.push('Pareto front (cost against the worst deciding slice):');
  for (const p of r.front) {
    const mark = p === r.chosen || (r.chosen && p.cost === r.chosen.cost && p.worst === r.chosen.worst) ? '*' : ' ';
    const verdict =
      p.decision === 'estimate'
        ? 'estimate'
        : p.passes
          ? p.withinNoise
            ? 'passes within noise'
            : 'passes'
          : 'breaks the budget';
    lines.push(
      `  ${mark} ${costText(r, p.cost)}  worst ${p.worst.toFixed(3)} on ${p.worstSlice || '-'}  ${verdict}  (${decisionText(p, r.runs.samples)})`,
    );
  }
  if (r.chosen) {
    lines.push(`Chosen plan: ${costText(r, r.chosen.cost)}${r.chosen.withinNoise ? ', passes only within noise' : ''}`);
    lines.push(`  ${planText(r.chosen)}`);
    if (r.chosen.slices)
      lines.push('Per slice (whole evaluation set, simulated):', ...sliceTableText(r.chosen.slices, r.task));
    for (const [layer, note] of Object.entries(r.notes)) lines.push(`  ${layer}: ${note}`);
  } else if (!r.cancelled) {
    lines.push(`No plan${r.maxCost !== undefined ? ' within maxCost' : ''} meets the budget on every slice.`);
    if (r.forcing?.length) lines.push(`Slices that force higher precision: ${r.forcing.join(', ')}.`);
    for (const route of r.routing ?? [])
      lines.push(
        `Routing: serve ${route.slice} with ${planText(route.special)} (${costText(r, route.special.cost)}), everything else with ${planText(route.rest)} (${costText(r, route.rest.cost)}): both stored ${costText(r, route.cost)}; ${route.passes ? 'meets the budget on every slice' : 'still breaks the budget'} (measured):`,
        ...sliceTableText(route.slices, r.task),
      );
    if (r.forcing?.length && !(r.routing ?? []).length)
      lines.push(
        'None of them is on an input-side field (field, buckets, ids): routing cannot separate them at serving time.',
      );
  }
  const s = r.sensitivity;
  lines.push(
    `Inference runs: ${r.runs.search} for the search (${r.sequential ? `sequential looks, early-stop error rate ${r.alpha} per plan` : 'every plan on the whole set'}) against ${r.runs.fullDataEquivalent} for the same plans on all ${r.runs.samples} samples (${((100 * r.runs.search) / Math.max(1, r.runs.fullDataEquivalent)).toFixed(0)}%); one-at-a-time sensitivity ${s.from === 'results' ? 'read from the results file' : `measured: ${s.runs} runs`}. ${(r.ms / 1000).toFixed(1)} s.`,
  );
  if (written) lines.push(`Plan written to ${written}`);
  return `${lines.join('\n')}\n`;
}
