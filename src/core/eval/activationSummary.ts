/** The activation parts of the summary: each variant's activation scheme, and activation sensitivity per layer. */
import { activationId, activationLeaveOneOutId } from './activationConfigs';
import type { Configuration, EvalPlan } from './configurations';
import type { TaskKind } from './metrics';
import type { LayerResult, LayerSchemeResult, MetricsBySlice, VariantActivations } from './results';
import { parseVariantScheme } from '../quant/schemes';
import { primaryEffect } from './verdict';

/** How the calibration was asked for (a variant's own method suffix overrides `method`). */
export interface CalibrationSummary {
  method: string;
  percentile: number;
}

/** A variant's activations for the results: null when it quantizes none. */
export function variantActivations(c: Configuration, calibration?: CalibrationSummary): VariantActivations | null {
  const params = [...(c.activations?.values() ?? [])];
  if (params.length === 0 || !calibration) return null;
  let a: { method?: string } | undefined;
  try {
    a = parseVariantScheme(c.id, true).activation;
  } catch {
    a = undefined;
  }
  const method = a?.method ?? calibration.method;
  const type = params[0].type;
  return {
    bits: type.endsWith('16') ? 16 : 8,
    signed: !type.startsWith('u'),
    method,
    ...(method === 'percentile' ? { percentile: calibration.percentile } : {}),
    sites: params.length,
  };
}

/** Adds `activation`, `activationLeaveOneOut` and `activationRank` to the layers that have activation sites. */
export function addActivationSensitivity(
  task: TaskKind,
  layers: LayerResult[],
  plan: EvalPlan,
  of: (id: string) => MetricsBySlice | undefined,
  result: (m: MetricsBySlice) => LayerSchemeResult,
): void {
  if (!plan.activationScheme) return;
  const ids = new Set(plan.configurations.map((c) => c.id));
  for (const l of layers) {
    if (ids.has(activationId(l.weight))) l.activation = result(of(activationId(l.weight))!);
    const loo = activationLeaveOneOutId(l.weight);
    if (ids.has(loo)) l.activationLeaveOneOut = result(of(loo)!);
  }
  const ranked = layers
    .filter((l) => l.activation)
    .sort(
      (a, b) =>
        primaryEffect(task, b.activation!.worst.effect) - primaryEffect(task, a.activation!.worst.effect) ||
        (b.activation!.worst.effect.kl ?? 0) - (a.activation!.worst.effect.kl ?? 0),
    );
  ranked.forEach((l, i) => {
    l.activationRank = i + 1;
  });
}
