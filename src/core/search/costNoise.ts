/**
 * The plan search on measured latency (`search.cost: "latency"`), pure parts: per-layer costs from one-layer
 * exports measured A B A B with fp32 (each a saving in ms with its spread over the rounds), the additive costs the
 * search runs on, and the front's measured costs: which points' cost order the measurement cannot tell apart, and
 * whether the chosen plan's measured latency meets maxCost.
 */
import { quantile } from '../cost/costStats';
import type { SearchLayer } from './moves';

/** Milliseconds measured: the value over the rounds pooled, and its lowest and highest round. */
export interface MsSpread {
  ms: number;
  low: number;
  high: number;
}

const p50 = (times: readonly number[]): number =>
  quantile(
    [...times].sort((a, b) => a - b),
    0.5,
  );

/** A model's latency from its per-round run times: the pooled median, and the lowest and highest round's median. */
export function latencyOfRounds(rounds: readonly (readonly number[])[]): MsSpread {
  const ms = p50(rounds.flat());
  const perRound = rounds.map(p50);
  return { ms, low: Math.min(ms, ...perRound), high: Math.max(ms, ...perRound) };
}

/**
 * What a variant saves against fp32 (positive: faster), rounds paired (round k of both ran side by side): the
 * pooled medians' difference, and the lowest and highest round's difference.
 */
export function savingOfRounds(
  fp32: readonly (readonly number[])[],
  variant: readonly (readonly number[])[],
): MsSpread {
  const ms = p50(fp32.flat()) - p50(variant.flat());
  const perRound = variant.slice(0, fp32.length).map((v, k) => p50(fp32[k]) - p50(v));
  return { ms, low: Math.min(ms, ...perRound), high: Math.max(ms, ...perRound) };
}

/** A searched layer's measured savings per candidate (its starting candidate included when measured). */
export interface LayerSavings {
  name: string;
  /** The layer's starting (most precise) candidate: the search starts there and gives layers back to it. */
  start: string;
  /** Candidate -> saving against fp32 when only this layer takes it; fp32 saves nothing. */
  savings: ReadonlyMap<string, MsSpread>;
}

/** A candidate left out of a layer's search: not faster than the layer's starting candidate in every round. */
export interface DroppedCandidate {
  layer: string;
  scheme: string;
  saving: MsSpread;
}

/**
 * The additive costs the search runs on: each layer carries an equal share of fp32's latency minus what the
 * candidate saves, so a plan's cost is fp32's latency minus the sum of its layers' one-at-a-time savings (fp32's
 * plan costs exactly fp32's measured latency). A candidate that is not faster than the layer's start in every round
 * (its lowest round's saving at most the start's median saving) is dropped: slower, or faster only within noise, it
 * would quantize more for no measured gain (the search keeps the start for that layer). A layer's cost is at
 * least 0, so no plan is predicted faster than instantaneous.
 */
export function latencyLayers(
  fp32Ms: number,
  layers: readonly LayerSavings[],
): { layers: SearchLayer[]; dropped: DroppedCandidate[] } {
  const share = layers.length > 0 ? fp32Ms / layers.length : 0;
  const dropped: DroppedCandidate[] = [];
  const out = layers.map((l) => {
    const saved = (scheme: string): number => (scheme === 'fp32' ? 0 : (l.savings.get(scheme)?.ms ?? 0));
    const startSaving = saved(l.start);
    // Never below nothing: on a model timed in hundredths of a ms the savings of a few layers can add up to more
    // than fp32's whole latency (noise, or layers far from an equal share); the front's measurement decides.
    const costs = new Map<string, number>([[l.start, Math.max(0, share - startSaving)]]);
    for (const [scheme, saving] of l.savings) {
      if (scheme === l.start) continue;
      if (saving.low > startSaving && saving.ms > startSaving) costs.set(scheme, Math.max(0, share - saving.ms));
      else dropped.push({ layer: l.name, scheme, saving });
    }
    return { name: l.name, costs };
  });
  return { layers: out, dropped };
}

/** A front point with its predicted (additive) cost and its measured latency. */
export interface MeasuredCostPoint {
  predicted: number;
  measured: MsSpread;
}

/**
 * Per point of the front (in front order, by increasing predicted cost), whether its measured cost is within noise
 * of a neighbour's: the lowest-highest round ranges overlap, so the measurement cannot say which of the two is
 * cheaper. `orderHolds`: the measured medians keep the predicted order.
 */
export function costNoiseMarks(points: readonly MeasuredCostPoint[]): { withinNoise: boolean; orderHolds: boolean }[] {
  const overlaps = (a: MsSpread, b: MsSpread): boolean => a.low <= b.high && b.low <= a.high;
  return points.map((p, i) => {
    const neighbours = [points[i - 1], points[i + 1]].filter((q): q is MeasuredCostPoint => q !== undefined);
    const withinNoise = neighbours.some((q) => overlaps(p.measured, q.measured));
    const prev = points[i - 1];
    const orderHolds = !prev || prev.predicted === p.predicted || prev.measured.ms <= p.measured.ms;
    return { withinNoise, orderHolds };
  });
}

/** Whether a measured latency meets maxCost: clearly (every round), clearly not, or within noise of it. */
export function meetsMaxCost(measured: MsSpread, maxCost: number): 'yes' | 'no' | 'within noise' {
  if (measured.high <= maxCost) return 'yes';
  if (measured.low > maxCost) return 'no';
  return 'within noise';
}
