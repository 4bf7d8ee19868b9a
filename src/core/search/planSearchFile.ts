/**
 * The plan search as VS Code keeps it: `<spec stem>.search.json` next to the spec (the report, the plan written,
 * the export measured), what the plan search view draws after a reopen. Also the names and texts of plans written
 * from the front. Pure.
 */
import type { SliceMetrics } from '../eval/metrics';
import { FOUND_PLAN_MARKER, foundPlanName, worstText, type FindPlanReport, type ReportedPlan } from './planReport';

/** The found plan exported and evaluated on onnxruntime's kernels (the acceptance), next to its simulation. */
export interface ExportedPlan {
  /** The plan file exported (relative to the spec's folder). */
  plan: string;
  /** The exported model (relative to the spec's folder). */
  output: string;
  /** The exported weights equal the simulation's bit for bit and the model runs. */
  verified: boolean;
  /** The export against the simulated plan on every slice. */
  agreement?: 'identical' | 'rounding' | 'differs';
  /** The results file of that evaluation (relative to the spec's folder). */
  resultsFile?: string;
  /** Every deciding slice of the export passes (verdict pass or noise). */
  passes: boolean;
  slices: { name: string; n: number; verdict: string; metrics: SliceMetrics }[];
  /** Why there is no export evaluation (untrusted, cancelled, failed). */
  note?: string;
}

/** `<spec stem>.search.json`. */
export interface PlanSearchFile {
  format: 'quantlens-plan-search';
  version: 1;
  createdAt: string;
  report: FindPlanReport;
  /** The found plan's file, when written (relative to the spec's folder). */
  written?: string;
  exported?: ExportedPlan;
}

/** The search file's name: `mnist.quantlens.json` -> `mnist.search.json`. */
export const searchFileName = (specFile: string): string =>
  `${specFile
    .replace(/^.*[\\/]/, '')
    .replace(/\.quantlens\.json$/i, '')
    .replace(/\.json$/i, '')}.search.json`;

/** A search file for a report. */
export function searchFile(report: FindPlanReport, createdAt: Date, written?: string): PlanSearchFile {
  return {
    format: 'quantlens-plan-search',
    version: 1,
    createdAt: createdAt.toISOString(),
    report,
    ...(written ? { written } : {}),
  };
}

/** Reads a search file's text; undefined when it is not one. */
export function parseSearchFile(text: string): PlanSearchFile | undefined {
  try {
    const value = JSON.parse(text) as Partial<PlanSearchFile>;
    if (value?.format !== 'quantlens-plan-search' || !value.report || !Array.isArray(value.report.plans)) return;
    return value as PlanSearchFile;
  } catch {
    return undefined;
  }
}

/** A plan's identity: its layers' schemes. */
export const planId = (p: Pick<ReportedPlan, 'layers'>): string =>
  Object.entries(p.layers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([l, s]) => `${l}=${s}`)
    .join(',');

/** Whether `p` is the report's chosen plan. */
export const isChosen = (r: FindPlanReport, p: ReportedPlan): boolean =>
  r.chosen !== undefined && planId(r.chosen) === planId(p);

/**
 * The file a plan of the search is written to: the chosen one `<stem>.found.qplan.json`, another
 * `<stem>.found-<cost>pct.qplan.json` (its cost in percent of fp32).
 */
export function planFileName(specFile: string, r: FindPlanReport, p: ReportedPlan): string {
  const found = foundPlanName(specFile.replace(/^.*[\\/]/, ''));
  if (isChosen(r, p)) return found;
  const pct = ((100 * p.cost) / r.fp32Cost).toFixed(1).replace(/\.0$/, '');
  return found.replace(/\.found\.qplan\.json$/, `.found-${pct}pct.qplan.json`);
}

/** What the search measured of a plan, in words (the note of each of its layers when it is not the chosen one). */
export function measuredText(r: FindPlanReport, p: ReportedPlan): string {
  const verdict = p.passes ? (p.withinNoise ? 'passes within noise' : 'passes') : 'breaks the budget';
  const how =
    p.decision === 'full'
      ? `on all ${r.runs.samples} samples`
      : p.decision === 'estimate'
        ? `estimated on ${p.samples} samples`
        : `stopped ${p.decision} the budget at ${p.samples} samples`;
  const pct = ((100 * p.cost) / r.fp32Cost).toFixed(1);
  return `${pct}% of fp32; worst: ${worstText(r.task, p.worst, p.worstSlice)}, ${p.decision === 'estimate' ? 'estimate' : verdict} (${how})`;
}

/** The text of a plan of the search: the chosen one with its notes, another with what the search measured of it. */
export function planFileText(r: FindPlanReport, p: ReportedPlan, model: string): string {
  const notes = isChosen(r, p)
    ? r.notes
    : Object.fromEntries(
        Object.entries(p.layers).map(([l, s]) => [l, `${s}: from the plan search's front (${measuredText(r, p)}).`]),
      );
  const value = { generatedBy: FOUND_PLAN_MARKER, model, default: 'fp32', layers: p.layers, notes };
  return `${JSON.stringify(value, null, 2)}\n`;
}
