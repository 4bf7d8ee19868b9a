/** Sensitivity verdicts of layers: the worst slice of a result, the ranking of layers, and the flags. Pure. */
import type { TaskKind } from './metrics';
import type { Flag, LayerResult, LayerSchemeResult, MetricsBySlice, NoiseFlag } from './results';
import {
  describeViolation,
  effectOf,
  effectRanges,
  primaryEffect,
  readSlice,
  samplesNeeded,
  thresholdBudget,
  type SliceReading,
  type Thresholds,
} from './verdict';

/** The slice (of `deciding`, else `all`) with the largest effect; ties go to the larger KL. */
export function worstSlice(
  task: TaskKind,
  metrics: MetricsBySlice,
  deciding: readonly string[],
): LayerSchemeResult['worst'] {
  let worst = { slice: 'all', effect: effectOf(metrics.all) };
  for (const name of deciding) {
    const e = effectOf(metrics[name]);
    if (
      primaryEffect(task, e) > primaryEffect(task, worst.effect) ||
      (primaryEffect(task, e) === primaryEffect(task, worst.effect) && (e.kl ?? 0) > (worst.effect.kl ?? 0))
    )
      worst = { slice: name, effect: e };
  }
  return worst;
}

/** Sets each layer's rank (1 = most sensitive) by its one-at-a-time worst effect under `scheme`, then KL. */
export function rankLayers(task: TaskKind, layers: readonly LayerResult[], scheme: string): void {
  const order = [...layers].sort(
    (a, b) =>
      primaryEffect(task, b.oneAtATime[scheme].worst.effect) - primaryEffect(task, a.oneAtATime[scheme].worst.effect) ||
      (b.oneAtATime[scheme].worst.effect.kl ?? 0) - (a.oneAtATime[scheme].worst.effect.kl ?? 0),
  );
  order.forEach((l, i) => {
    l.rank = i + 1;
  });
}

/**
 * One flag per layer whose one-at-a-time result breaks the thresholds on a deciding slice with its whole 95% CI:
 * the scheme and slice with the largest effect (KL breaks ties), described by its first non-KL violation.
 */
export function flagLayers(
  task: TaskKind,
  layers: readonly LayerResult[],
  schemes: readonly string[],
  deciding: readonly string[],
  thresholds: Thresholds,
): Flag[] {
  return worstReadings(task, layers, schemes, deciding, thresholds, (r) => r.violations);
}

/**
 * Layers not flagged whose point effect is over a threshold while the CI includes it: each with the samples its
 * slice would need for the CI to exclude the threshold (if the effect stayed as measured).
 */
export function flagsWithinNoise(
  task: TaskKind,
  layers: readonly LayerResult[],
  schemes: readonly string[],
  deciding: readonly string[],
  thresholds: Thresholds,
): NoiseFlag[] {
  const flagged = new Set(flagLayers(task, layers, schemes, deciding, thresholds).map((f) => f.weight));
  const candidates = layers.filter((l) => !flagged.has(l.weight));
  const pointOver = (r: SliceReading) => r.noise.filter((v) => v.value > v.limit);
  return worstReadings(task, candidates, schemes, deciding, thresholds, pointOver).map((f) => {
    const layer = layers.find((l) => l.weight === f.weight)!;
    const m = layer.oneAtATime[f.scheme].metrics[f.slice];
    const v = readSlice(f.slice, m, thresholdBudget(thresholds)).noise.find((x) => x.value > x.limit)!;
    const needed = samplesNeeded(effectRanges(m)[v.metric]!, v.limit, m.n);
    return {
      ...f,
      message: `${f.message}, within noise${needed !== undefined ? ` (about ${needed} samples would tell)` : ''}`,
      ...(needed !== undefined ? { samplesNeeded: needed } : {}),
    };
  });
}

function worstReadings(
  task: TaskKind,
  layers: readonly LayerResult[],
  schemes: readonly string[],
  deciding: readonly string[],
  thresholds: Thresholds,
  pick: (r: SliceReading) => SliceReading['violations'],
): Flag[] {
  const flags: Flag[] = [];
  const budget = thresholdBudget(thresholds);
  for (const layer of layers) {
    let best: Flag | undefined;
    let bestValue = -Infinity;
    for (const s of schemes) {
      const r = layer.oneAtATime[s];
      for (const name of deciding) {
        const violations = pick(readSlice(name, r.metrics[name], budget));
        if (violations.length === 0) continue;
        const effect = effectOf(r.metrics[name]);
        const value = primaryEffect(task, effect) + (effect.kl ?? 0) * 1e-6;
        if (value <= bestValue) continue;
        bestValue = value;
        const v = violations.find((x) => x.metric !== 'kl') ?? violations[0];
        best = {
          weight: layer.weight,
          layer: layer.layer,
          scheme: s,
          slice: name,
          effect,
          message: `${s} on ${layer.layer}: ${describeViolation(v)} on slice ${name}`,
        };
      }
    }
    if (best) flags.push(best);
  }
  return flags;
}
