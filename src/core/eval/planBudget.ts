/**
 * A plan against the whole-model measurements of an evaluation: which whole-model schemes met the budget, the
 * scheme a new plan starts from, and whether a plan is measured (as a whole) to break the budget. Pure.
 */
import { KEEP_FLOAT, planEntry, type QuantPlan } from './plan';
import type { EvalResults, MetricsBySlice } from './results';
import { layerBudget, readSlice, type Violation } from './verdict';

/** A scheme measured on the whole model (a scheme variant or a sweep point) and what it did to the budget. */
export interface WholeModelScheme {
  scheme: string;
  /** Stored bytes of the quantized weights (sweep points: summed over the measured layers). */
  bytes: number;
  /** The limits it violated (whole CI over the limit, on slices big enough to decide); empty when it met the budget. */
  violations: Violation[];
}

type Measured = Pick<EvalResults, 'variants' | 'sweep' | 'sensitivity' | 'slices' | 'budget' | 'thresholds'>;

/** Violations of one whole-model measurement against the budget plans are held to (the spec's, else the thresholds). */
function violationsOf(r: Measured, metrics: MetricsBySlice): Violation[] {
  const budget = layerBudget(r.budget, r.thresholds);
  return r.slices.flatMap((s) =>
    metrics[s.name] ? readSlice(s.name, metrics[s.name], budget, r.thresholds.minSliceSize).violations : [],
  );
}

/** Every scheme measured on the whole model, most aggressive (fewest bytes) first. */
export function wholeModelSchemes(r: Measured): WholeModelScheme[] {
  const out = new Map<string, WholeModelScheme>();
  for (const v of r.variants) {
    if (v.kind !== 'scheme') continue;
    out.set(v.id, { scheme: v.id, bytes: v.weightBytes, violations: violationsOf(r, v.metrics) });
  }
  const layers = r.sensitivity?.layers ?? [];
  r.sweep?.schemes.forEach((scheme, i) => {
    if (out.has(scheme) || layers.length === 0 || layers.some((l) => l.bytes[scheme] === undefined)) return;
    const bytes = layers.reduce((sum, l) => sum + l.bytes[scheme], 0);
    out.set(scheme, { scheme, bytes, violations: violationsOf(r, r.sweep!.metrics[i]) });
  });
  return [...out.values()].sort((a, b) => a.bytes - b.bytes);
}

/** The most aggressive whole-model scheme that met the budget, if any was measured. */
export function safestAggressiveScheme(r: Measured): string | undefined {
  return wholeModelSchemes(r).find((s) => s.violations.length === 0)?.scheme;
}

/**
 * The scheme a new plan starts from: the most aggressive whole-model scheme that met the budget; never one
 * measured to break it (fp32, keep every layer, when none met it). Without whole-model measurements, `fallback`.
 */
export function newPlanScheme(r: Measured, fallback: string): string {
  const measured = wholeModelSchemes(r);
  if (measured.length === 0) return fallback;
  return measured.find((s) => s.violations.length === 0)?.scheme ?? KEEP_FLOAT;
}

/** A plan measured, as a whole, to break the budget. */
export interface PlanBudgetBreak {
  /** What was measured: the plan itself (a plan variant of the run) or the one scheme every layer resolves to. */
  measured: { kind: 'plan'; id: string } | { kind: 'scheme'; scheme: string };
  /** The worst violation (largest value over limit). */
  violation: Violation;
  /** The quick fix: the most aggressive whole-model scheme that met the budget (undefined: none did). */
  fix?: string;
}

/**
 * Whether a plan's measured whole-model result breaks the budget: its own result when the run evaluated it as a
 * variant (`planVariantId`), else, when every measured layer resolves to one scheme, that scheme's whole-model result.
 */
export function planBudgetBreak(plan: QuantPlan, r: Measured, planVariantId?: string): PlanBudgetBreak | undefined {
  const worst = (list: Violation[]): Violation | undefined =>
    [...list].sort((a, b) => b.value / (b.limit || 1) - a.value / (a.limit || 1))[0];
  const fix = safestAggressiveScheme(r);
  const own = planVariantId ? r.variants.find((v) => v.id === planVariantId) : undefined;
  if (own) {
    const violation = worst(violationsOf(r, own.metrics));
    return violation ? { measured: { kind: 'plan', id: own.id }, violation, fix } : undefined;
  }
  const layers = r.sensitivity?.layers ?? [];
  const schemes = new Set(layers.map((l) => planEntry(plan, { name: l.weight, layers: l.layers }).scheme));
  if (layers.length === 0 || schemes.size !== 1) return undefined;
  const [scheme] = schemes;
  const measured = wholeModelSchemes(r).find((s) => s.scheme === scheme);
  const violation = measured && worst(measured.violations);
  return violation
    ? { measured: { kind: 'scheme', scheme }, violation, fix: fix !== scheme ? fix : undefined }
    : undefined;
}

/** The plan entries a fix moves to `target`: the default and every layer set to the scheme that broke the budget. */
export function planFixKeys(plan: QuantPlan, broken: string): string[] {
  return Object.entries(plan.layers)
    .filter(([, s]) => s === broken)
    .map(([k]) => k);
}
