/**
 * Moves of the plan search: one layer to a cheaper candidate scheme, ranked by cost saved per unit of
 * worst-slice damage. Damage is predicted from the one-at-a-time measurements (the layer x slice sensitivity
 * matrix) added to what the current plan measures per slice, so the ranking changes after every measurement:
 * a move that hurts a slice the plan has already used up ranks low.
 */

/** Layer -> scheme. Layers not listed keep their starting (most precise) candidate. */
export type Assignment = ReadonlyMap<string, string>;

/** A layer the search varies, with the cost of each candidate it may take. */
export interface SearchLayer {
  name: string;
  /** Cost per candidate scheme (bytes or ms): only the candidates this layer can take. */
  costs: ReadonlyMap<string, number>;
}

/** Per deciding slice, the primary effect (accuracy drop in points, perplexity increase...; larger is worse). */
export type SliceEffects = Readonly<Record<string, number>>;

/** One layer to one scheme, with what it saves and what it is predicted to do to the worst slice. */
export interface Move {
  layer: string;
  from: string;
  to: string;
  saving: number;
  /** Predicted increase of the worst slice's effect (at least DAMAGE_FLOOR). */
  damage: number;
  /** The slice predicted to be worst after the move. */
  slice: string;
}

/** The smallest damage a move is charged, so free moves rank by saving rather than dividing by zero. */
export const DAMAGE_FLOOR = 1e-6;

/** The starting candidate of a layer: its most expensive (most precise), first listed on ties. */
export function startScheme(layer: SearchLayer): string {
  let best: string | undefined;
  for (const [scheme, cost] of layer.costs) if (best === undefined || cost > layer.costs.get(best)!) best = scheme;
  return best!;
}

/** Every layer at its starting candidate. */
export const startAssignment = (layers: readonly SearchLayer[]): Map<string, string> =>
  new Map(layers.map((l) => [l.name, startScheme(l)]));

/** The cost of an assignment: the sum of its layers' candidate costs. */
export function assignmentCost(layers: readonly SearchLayer[], a: Assignment): number {
  return layers.reduce((sum, l) => sum + l.costs.get(a.get(l.name) ?? startScheme(l))!, 0);
}

/** The largest value of `effects` and its slice (slice '' and 0 for none). */
export function worstOf(effects: SliceEffects): { slice: string; value: number } {
  let worst = { slice: '', value: 0 };
  let first = true;
  for (const [slice, value] of Object.entries(effects)) {
    if (first || value > worst.value) worst = { slice, value };
    first = false;
  }
  return worst;
}

/**
 * The moves from `current`, best first: per layer, the cheaper candidate with the best saving per damage
 * (candidates in `rejected` as `layer\u0000scheme` skipped). `predicted(layer, scheme)` is that layer's
 * one-at-a-time effect per slice (the starting scheme's is zero); `measured` is the current plan's.
 */
export function rankMoves(
  layers: readonly SearchLayer[],
  current: Assignment,
  measured: SliceEffects,
  predicted: (layer: string, scheme: string) => SliceEffects,
  rejected: ReadonlySet<string> = new Set(),
): Move[] {
  const before = worstOf(measured).value;
  const moves: Move[] = [];
  for (const layer of layers) {
    const from = current.get(layer.name) ?? startScheme(layer);
    const fromCost = layer.costs.get(from)!;
    const fromEffect = predicted(layer.name, from);
    let best: Move | undefined;
    for (const [to, cost] of layer.costs) {
      if (cost >= fromCost || rejected.has(moveKey(layer.name, to))) continue;
      const after: Record<string, number> = {};
      for (const [slice, value] of Object.entries(measured))
        after[slice] = value + (predicted(layer.name, to)[slice] ?? 0) - (fromEffect[slice] ?? 0);
      const worst = worstOf(after);
      const move = { layer: layer.name, from, to, saving: fromCost - cost, slice: worst.slice, damage: 0 };
      move.damage = Math.max(DAMAGE_FLOOR, worst.value - before);
      if (!best || ratio(move) > ratio(best) || (ratio(move) === ratio(best) && move.saving > best.saving)) best = move;
    }
    if (best) moves.push(best);
  }
  return moves.sort((a, b) => ratio(b) - ratio(a) || b.saving - a.saving || a.layer.localeCompare(b.layer));
}

/** Cost saved per unit of worst-slice damage. */
export const ratio = (m: Move): number => m.saving / m.damage;

/** The key of a (layer, scheme) the search will not try again. */
export const moveKey = (layer: string, scheme: string): string => `${layer}\u0000${scheme}`;

/** `a` with `moves` applied. */
export function applyMoves(a: Assignment, moves: readonly Move[]): Map<string, string> {
  const out = new Map(a);
  for (const m of moves) out.set(m.layer, m.to);
  return out;
}
