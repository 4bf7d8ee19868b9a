/**
 * The activation side of planning: which activation tensors a variant quantizes and with which calibrated
 * parameters, and activation sensitivity (one layer's input activations quantized at a time, and all but one,
 * weights float). A layer's activations are the sites whose `layer` is one of the nodes using its weight.
 */
import { activationQuantParams, type ActivationQuant } from '../quant/activationQuant';
import type { ActivationSite } from '../quant/activationSites';
import type { RangeCollector } from '../quant/calibration';
import type { CalibrationSpec } from './calibrationSpec';
import type { QuantPlan } from './plan';
import { parseVariantScheme, type ActivationScheme } from '../quant/schemes';
import type { BaseConfiguration, ConfigWeight, ResolvedVariant } from './configurations';

/** What planning needs to quantize activations: the sites and their calibrated parameters per scheme. */
export interface ActivationPlanInput {
  sites: readonly ActivationSite[];
  /** Calibrated parameters of every site under an activation scheme (its method, or the spec's). */
  paramsFor(a: ActivationScheme): ReadonlyMap<string, ActivationQuant>;
}

/** Sensitivity: only `weight`'s layer's input activations quantized, or all but them (weights float). */
export interface ActivationConfiguration extends BaseConfiguration {
  kind: 'activation' | 'activationLeaveOneOut';
  /** The activation variant whose scheme it uses. */
  scheme: string;
  weight: string;
}

/** Id of the configuration quantizing only a layer's input activations. */
export const activationId = (weight: string): string => `activation:${weight}`;
/** Id of the configuration quantizing every activation but a layer's inputs. */
export const activationLeaveOneOutId = (weight: string): string => `activationLeaveOneOut:${weight}`;

/** The sites belonging to a weight's layer: its nodes' input activations, and model outputs no other node reads. */
export function layerSites(sites: readonly ActivationSite[], weight: Pick<ConfigWeight, 'layers'>): ActivationSite[] {
  return sites.filter((s) => weight.layers.includes(s.layer));
}

/** The activations a variant quantizes (a scheme id's suffix; a plan's per-layer entries), if any. */
export function planActivations(
  v: ResolvedVariant,
  input: ActivationPlanInput | undefined,
): ReadonlyMap<string, ActivationQuant> | undefined {
  if (!input) return undefined;
  if ('scheme' in v) {
    const a = parseVariantScheme(v.scheme).activation;
    return a ? input.paramsFor(a) : undefined;
  }
  if (!('plan' in v)) return undefined;
  const chosen = new Map<string, ActivationQuant>();
  for (const site of input.sites) {
    const entry = siteEntry(v.plan, site);
    const a = parseVariantScheme(entry, true).activation;
    const p = a && input.paramsFor(a).get(site.tensor);
    if (p) chosen.set(site.tensor, p);
  }
  return chosen.size > 0 ? chosen : undefined;
}

/**
 * The plan entry deciding a site's activations: its layer's (the node reading it), its tensor's, else the entry of
 * the layer whose output it is (an output read only by a MaxPool, a Flatten or the graph), else the default.
 */
export function siteEntry(plan: QuantPlan, site: Pick<ActivationSite, 'layer' | 'tensor' | 'producer'>): string {
  const own = plan.layers[site.layer] ?? plan.layers[site.tensor];
  if (own !== undefined) return own;
  return (site.producer !== undefined ? plan.layers[site.producer] : undefined) ?? plan.default;
}

/** Whether a plan quantizes activations anywhere (an entry or its default with a `+a` suffix). */
export function planQuantizesActivations(plan: QuantPlan): boolean {
  return [plan.default, ...Object.values(plan.layers)].some((id) => !!parseVariantScheme(id, true).activation);
}

/** Activation sensitivity under the first activation variant: one layer at a time, and leave-one-out. */
export function activationSensitivity(
  weights: readonly ConfigWeight[],
  input: ActivationPlanInput | undefined,
  leaveOneOut: boolean,
  schemes: readonly string[] = [],
): { scheme: string; configurations: ActivationConfiguration[] } | undefined {
  const scheme = schemes[0];
  if (!input || scheme === undefined) return undefined;
  const a = parseVariantScheme(scheme).activation;
  if (!a) return undefined;
  const params = input.paramsFor(a);
  const configurations: ActivationConfiguration[] = [];
  const none = new Map<string, string>();
  for (const w of weights) {
    const own = new Set(layerSites(input.sites, w).map((s) => s.tensor));
    if (own.size === 0) continue;
    const pick = (keep: (t: string) => boolean) => new Map([...params].filter(([t]) => keep(t)));
    const base = { scheme, weight: w.name, quantized: none };
    configurations.push({
      ...base,
      kind: 'activation',
      id: activationId(w.name),
      why: `activation sensitivity: only ${w.layer}'s activations quantized (${scheme})`,
      activations: pick((t) => own.has(t)),
    });
    if (leaveOneOut)
      configurations.push({
        ...base,
        kind: 'activationLeaveOneOut',
        id: activationLeaveOneOutId(w.name),
        why: `activation sensitivity: every activation quantized but ${w.layer}'s inputs (${scheme})`,
        activations: pick((t) => !own.has(t)),
      });
  }
  return { scheme, configurations };
}

/** The spec's scheme variants that quantize activations, in order. */
export function activationVariantIds(variants: readonly ResolvedVariant[]): string[] {
  return variants.flatMap((v) => ('scheme' in v && parseVariantScheme(v.scheme).activation ? [v.scheme] : []));
}

/** Calibrated parameters of every site under `a` (its method, else the spec's); shared sites copy their root's. */
export function siteParams(
  sites: readonly ActivationSite[],
  collectors: ReadonlyMap<string, RangeCollector>,
  a: ActivationScheme,
  calibration: Pick<CalibrationSpec, 'method' | 'percentile'>,
): Map<string, ActivationQuant> {
  const params = new Map<string, ActivationQuant>();
  for (const s of sites) {
    const c = collectors.get(s.tensor);
    if (s.shareWith || !c) continue;
    const r = c.range(a.method ?? calibration.method, a, calibration.percentile);
    params.set(s.tensor, activationQuantParams(s.tensor, r.min, r.max, a));
  }
  for (const s of sites) {
    const root = s.shareWith ? params.get(s.shareWith) : undefined;
    if (root) params.set(s.tensor, { ...root, tensor: s.tensor });
  }
  return params;
}
