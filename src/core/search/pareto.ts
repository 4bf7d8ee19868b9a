/**
 * The Pareto front of measured plans: cost against worst-slice change, both to be minimised. A plan is on the
 * front when no other plan is at most as costly and at most as damaging with one of the two strictly better.
 * Plans equal in both stay together (the first measured is kept first), so the front never hides a tie.
 */

/** A measured plan as the front sees it. */
export interface FrontPoint {
  /** Cost in the search's unit (bytes or ms); smaller is better. */
  cost: number;
  /** The worst slice's primary effect (accuracy drop in points, perplexity increase in %...); smaller is better. */
  worst: number;
}

/** Whether `a` dominates `b`: no worse in both, strictly better in one. */
export const dominates = (a: FrontPoint, b: FrontPoint): boolean =>
  a.cost <= b.cost && a.worst <= b.worst && (a.cost < b.cost || a.worst < b.worst);

/**
 * The non-dominated points of `points`, by increasing cost (then increasing worst change, then measurement
 * order). NaN costs or effects never reach the front. O(n log n).
 */
export function paretoFront<P extends FrontPoint>(points: readonly P[]): P[] {
  const order = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !Number.isNaN(p.cost) && !Number.isNaN(p.worst))
    .sort((a, b) => a.p.cost - b.p.cost || a.p.worst - b.p.worst || a.i - b.i);
  const front: P[] = [];
  let best = Infinity;
  let last: P | undefined;
  for (const { p } of order) {
    const tie = last !== undefined && p.cost === last.cost && p.worst === last.worst;
    if (tie || p.worst < best) {
      front.push(p);
      best = Math.min(best, p.worst);
      last = p;
    }
  }
  return front;
}

/** The cheapest point whose plan passes (and costs at most `maxCost`, when given), else undefined. */
export function cheapestPassing<P extends FrontPoint & { passes: boolean }>(
  points: readonly P[],
  maxCost = Infinity,
): P | undefined {
  let chosen: P | undefined;
  for (const p of points) {
    if (!p.passes || p.cost > maxCost) continue;
    if (!chosen || p.cost < chosen.cost || (p.cost === chosen.cost && p.worst < chosen.worst)) chosen = p;
  }
  return chosen;
}
