/**
 * When no plan within maxCost meets the budget: the slices that force higher precision, and which of them can be
 * routed (slices on input-side fields: `field`, `buckets`, `ids`, known at serving time, unlike the label).
 */
import type { SliceDef } from '../eval/spec';
import { bucketNames } from '../eval/slices';

/** Whether a slice (by its name) is defined on an input-side field; `all` and label slices are not. */
export function inputSideSlices(defs: readonly SliceDef[], label: string, names: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    if (name === 'all') continue;
    const def = defs.find((d) => sliceOfDef(d, label, name));
    if (def && def.by !== 'label') out.add(name);
  }
  return out;
}

/** Whether `name` is a slice `def` makes (label slices first: a name both could make is not input-side). */
function sliceOfDef(def: SliceDef, label: string, name: string): boolean {
  switch (def.by) {
    case 'label':
      return name.startsWith(`${def.name ?? label}=`);
    case 'field':
      return name.startsWith(`${def.name ?? def.field}=`);
    case 'buckets': {
      const prefix = def.name ?? def.field;
      if (def.edges) return bucketNames(prefix, def.edges).includes(name);
      return name.startsWith(`${prefix} `);
    }
    case 'ids':
      return name === def.name;
  }
}

/** A plan as routing sees it: cost and per-slice verdict on the full data. */
export interface RoutablePlan {
  id: string;
  cost: number;
  verdicts: Readonly<Record<string, 'pass' | 'noise' | 'violated'>>;
}

/** A routing candidate: serve `slice` with `special`, everything else with `rest`. */
export interface RouteChoice {
  slice: string;
  special: RoutablePlan;
  rest: RoutablePlan;
}

/**
 * For each forcing slice that is input-side: the cheapest `rest` plan within maxCost that passes every deciding
 * slice but that one, with the cheapest plan passing that slice as `special`. Plans' verdicts are full-data ones.
 */
export function routeChoices(
  forcing: readonly string[],
  routable: ReadonlySet<string>,
  plans: readonly RoutablePlan[],
  maxCost: number,
): RouteChoice[] {
  const out: RouteChoice[] = [];
  const byCost = [...plans].sort((a, b) => a.cost - b.cost);
  for (const slice of forcing) {
    if (!routable.has(slice)) continue;
    const rest = byCost.find(
      (p) =>
        p.cost <= maxCost &&
        Object.entries(p.verdicts).every(([s, v]) => s === slice || s === 'all' || v !== 'violated'),
    );
    const special = byCost.find((p) => p.verdicts[slice] !== undefined && p.verdicts[slice] !== 'violated');
    if (rest && special && rest !== special) out.push({ slice, special, rest });
  }
  return out;
}

/** The slices a plan violates (its full-data verdicts). */
export const violatedSlices = (p: RoutablePlan): string[] =>
  Object.entries(p.verdicts)
    .filter(([, v]) => v === 'violated')
    .map(([s]) => s);

/** Routing's cost: bytes of both models stored; latency of a request on average (the slice's share runs `special`). */
export const routedCost = (cost: 'bytes' | 'latency', special: number, rest: number, share: number): number =>
  cost === 'latency' ? share * special + (1 - share) * rest : special + rest;
