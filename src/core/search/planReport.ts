/**
 * The plan search's report (what `quantlens plan --json` prints and the results view draws), the found plan's file
 * (marked as generated, with a note per layer) and the text a person reads. Pure.
 */
import { bytesText } from '../bytes';
import { msText } from '../cost/costFormat';
import type { SliceMetrics } from '../eval/metrics';
import type { CalibrationInfo } from '../eval/results';
import { GENERATED_BY } from '../files/writePolicy';
import type { SearchStep } from './planSearch';
import type { MsSpread } from './costNoise';

/** The unit of a task's primary effect (what "worst" is measured in): pp of accuracy, % of perplexity or MSE, KL. */
export const effectUnit = (task: string): string =>
  task === 'classification' ? 'pp' : task === 'language-model' || task === 'regression' ? '%' : 'nats';

/** A worst-slice effect in words and units: "accuracy drop 1.52 pp on digit=2", "perplexity +40.3% on all". */
export function worstText(task: string, value: number, slice?: string): string {
  const n = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toFixed(2) : v.toPrecision(2));
  const signed = (v: number): string => `${v > 0 ? '+' : ''}${n(v)}`;
  const what =
    task === 'classification'
      ? `accuracy drop ${n(value)} pp`
      : task === 'language-model'
        ? `perplexity ${signed(value)}%`
        : task === 'regression'
          ? `MSE ${signed(value)}%`
          : `KL ${value === 0 ? '0' : value.toExponential(2)}`;
  return slice === undefined ? what : `${what} on ${slice || '-'}`;
}

/** A reported plan's reading: an estimate, passes (within noise), or breaks the budget. */
export const planVerdictText = (p: Pick<ReportedPlan, 'decision' | 'passes' | 'withinNoise'>): string =>
  p.decision === 'estimate'
    ? 'estimate'
    : p.passes
      ? p.withinNoise
        ? 'passes within noise'
        : 'passes'
      : 'breaks the budget';

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
  /** Cost latency, front and chosen plans: the exported plan's latency, timed A B A B with fp32 (`cost` is predicted). */
  measuredCost?: MsSpread;
  /** Its measured cost is within noise of a front neighbour's (their round ranges overlap): the order is not settled. */
  costWithinNoise?: boolean;
}

/** How the per-layer latency costs and the front's latencies were measured (cost "latency"). */
export interface LatencyCostReport {
  /** Batch size timed, timed runs and seconds per measurement at least, rounds of A B A B. */
  batch: number;
  runs: number;
  seconds: number;
  rounds: number;
  /** fp32's latency in the per-layer measurement. */
  fp32: MsSpread;
  /** Layer (plan key) -> candidate -> saving against fp32 in ms (positive: faster) when only that layer takes it. */
  savings: Record<string, Record<string, MsSpread>>;
  /** Candidates left out of a layer's search: no faster than its starting candidate. */
  dropped: { layer: string; scheme: string; saving: MsSpread }[];
  /** One-layer models exported and timed (fp32 included), and the child processes that timed them. */
  models: number;
  processes: number;
  /** The front's measurement: fp32 timed beside the front's plans, and its child processes. */
  front?: { fp32: MsSpread; processes: number; orderHolds: boolean };
  /** Whether the chosen plan's measured latency meets maxCost (every round, none, or within noise). */
  chosenMeetsMaxCost?: 'yes' | 'no' | 'within noise';
}

/** A routing recommendation, measured on the whole set. */
export interface RoutingReport {
  slice: string;
  special: ReportedPlan;
  rest: ReportedPlan;
  /** Bytes: both models stored. Latency: the mean per request (the slice's share of the data runs `special`). */
  cost: number;
  passes: boolean;
  slices: { name: string; n: number; verdict: string; metrics: SliceMetrics }[];
}

/** What a search found. */
export interface FindPlanReport {
  spec: string;
  model: string;
  task: string;
  cost: 'bytes' | 'latency';
  /** Cost "latency": fp32Cost, maxCost and plan costs are in ms; how they were measured. */
  latency?: LatencyCostReport;
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
  /** Activation candidates (w8a8, +aN): the calibration their ranges come from (costs count weight bytes only). */
  calibration?: Omit<CalibrationInfo, 'ms' | 'sites'>;
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

const costText = (r: Pick<FindPlanReport, 'fp32Cost' | 'cost'>, cost: number): string =>
  `${r.cost === 'latency' ? `${msText(cost)} ms` : bytesText(cost)} (${((100 * cost) / r.fp32Cost).toFixed(1)}% of fp32)`;

/** "0.123 ms (0.120-0.131)": measured ms with the lowest and highest round. */
export const spreadText = (m: MsSpread): string =>
  `${msText(m.ms)} ms${m.low !== m.high ? ` (${msText(m.low)} to ${msText(m.high)})` : ''}`;

/** A front point's measured latency (cost "latency"), and its share of fp32's timed in the same run. */
const measuredText = (r: FindPlanReport, p: ReportedPlan): string => {
  const m = p.measuredCost;
  const fp32 = r.latency?.front?.fp32.ms;
  if (!m) return '';
  const share = fp32 ? ` = ${((100 * m.ms) / fp32).toFixed(0)}% of fp32 timed beside it` : '';
  return `  measured ${spreadText(m)}${share}${p.costWithinNoise ? ', cost order within noise of a neighbour' : ''}`;
};

/** How the latency costs were measured: per layer and candidate, the saving against fp32 with its spread. */
function latencyLines(r: FindPlanReport): string[] {
  const l = r.latency;
  if (!l) return [];
  const lines = [
    `Latency at batch ${l.batch}, each model in a fresh process, ${l.rounds} rounds A B A B with fp32 (at least ${l.runs} runs and ${l.seconds} s each): fp32 ${spreadText(l.fp32)}; ${l.models} one-layer models, ${l.processes} processes.`,
    'Per-layer saving against fp32 when only that layer takes the candidate (ms; negative: slower):',
  ];
  for (const [layer, bySchemes] of Object.entries(l.savings))
    lines.push(
      `  ${layer}: ${Object.entries(bySchemes)
        .map(([scheme, m]) => `${scheme} ${spreadText(m)}`)
        .join(', ')}`,
    );
  if (l.dropped.length > 0)
    lines.push(
      `Not searched (not faster than the layer's most precise candidate in every round): ${l.dropped.map((d) => `${d.layer}=${d.scheme}`).join(', ')}.`,
    );
  if (l.front)
    lines.push(
      `Front measured: its plans exported and timed with fp32 (${spreadText(l.front.fp32)}), ${l.front.processes} processes; measured order ${l.front.orderHolds ? 'follows' : 'does NOT follow'} the predicted one.`,
    );
  return lines;
}

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

/** When every plan costs more than maxCost: the cheapest one's cost (no slice forces anything then). */
function noneWithin(r: FindPlanReport): string[] {
  const cheapest = Math.min(...r.plans.map((p) => p.cost));
  if (r.maxCost === undefined || !(cheapest > r.maxCost)) return [];
  return [
    `No plan costs at most maxCost: the cheapest${r.cost === 'latency' ? ' (predicted)' : ''} costs ${costText(r, cheapest)}.`,
  ];
}

const meetsText = (r: FindPlanReport): string => {
  const meets = r.latency?.chosenMeetsMaxCost;
  return !meets
    ? ''
    : meets === 'yes'
      ? ': meets maxCost'
      : meets === 'no'
        ? ': ABOVE maxCost'
        : ': maxCost within noise';
};

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
    `Plan search on ${r.spec}: ${r.layers.length} layers x ${r.candidates.length} candidates (${r.candidates.join(', ')}), cost in ${r.cost === 'latency' ? 'ms of latency (predicted: fp32 minus the per-layer savings)' : 'bytes'}${max}; ${r.exhaustive ? 'every combination' : 'greedy with bisection and repair'}, ${r.plans.length} plans measured${r.cancelled ? ' (CANCELLED: what was found so far)' : ''}.`,
  );
  lines.push(...latencyLines(r));
  if (r.calibration) lines.push(activationCandidatesLine(r.calibration));
  lines.push('Pareto front (cost against the worst deciding slice):');
  for (const p of r.front) {
    const mark = p === r.chosen || (r.chosen && p.cost === r.chosen.cost && p.worst === r.chosen.worst) ? '*' : ' ';
    lines.push(
      `  ${mark} ${costText(r, p.cost)}  ${worstText(r.task, p.worst, p.worstSlice)}  ${planVerdictText(p)}  (${decisionText(p, r.runs.samples)})${measuredText(r, p)}`,
    );
  }
  if (r.chosen) {
    lines.push(`Chosen plan: ${costText(r, r.chosen.cost)}${r.chosen.withinNoise ? ', passes only within noise' : ''}`);
    if (r.chosen.measuredCost) lines.push(`  measured ${spreadText(r.chosen.measuredCost)}${meetsText(r)}`);
    lines.push(`  ${planText(r.chosen)}`);
    if (r.chosen.slices)
      lines.push('Per slice (whole evaluation set, simulated):', ...sliceTableText(r.chosen.slices, r.task));
    for (const [layer, note] of Object.entries(r.notes)) lines.push(`  ${layer}: ${note}`);
  } else if (!r.cancelled) {
    lines.push(
      `No plan${r.maxCost !== undefined ? ' within maxCost' : ''} meets the budget on every slice.`,
      ...noneWithin(r),
    );
    if (r.forcing?.length) lines.push(`Slices that force higher precision: ${r.forcing.join(', ')}.`);
    for (const route of r.routing ?? [])
      lines.push(
        `Routing: serve ${route.slice} with ${planText(route.special)} (${costText(r, route.special.cost)}), everything else with ${planText(route.rest)} (${costText(r, route.rest.cost)}): ${r.cost === 'latency' ? `each request runs one of them, ${costText(r, route.cost)} per request on average` : `both stored ${costText(r, route.cost)}`}; ${route.passes ? 'meets the budget on every slice' : 'still breaks the budget'} (measured):`,
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

/** The line on activation candidates: where their ranges come from, and that bytes count weights only. */
function activationCandidatesLine(c: NonNullable<FindPlanReport['calibration']>): string {
  const method = c.method === 'percentile' && c.percentile !== undefined ? `percentile ${c.percentile}` : c.method;
  const kept = c.disjoint ? 'kept out of the evaluation' : 'also evaluated';
  return `Activation candidates calibrated on ${c.samples} samples, ${c.source} (seed ${c.seed}, ${kept}), ${method}; their cost is their weight scheme's bytes (activations are not counted).`;
}
