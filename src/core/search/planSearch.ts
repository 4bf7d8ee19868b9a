/**
 * The plan search: the cheapest per-layer assignment of candidate schemes whose MEASURED result keeps every
 * deciding slice within budget, and the Pareto front of every plan measured on the way. The measurement is
 * injected (`measure`: a whole-plan evaluation, by simulation or on an exported model), so this file is pure.
 *
 * Greedy with lazy bisection: rank moves (moves.ts), apply them all and measure; when that breaks the budget,
 * bisect along the ranked list for the longest prefix that holds (each bisection point is a measured plan, so
 * the front fills in lazily), accept it, then try to repair on the worst slice (give back the accepted move that
 * hurts that slice most when the breaking move saves more) and otherwise reject the breaking move. Re-rank after
 * every measurement. Small problems (at most `exhaustiveLimit` combinations) are measured exhaustively, cheapest
 * first: once a plan within maxCost passes, costlier plans are only estimated (they cannot be chosen).
 */
import { cheapestPassing, paretoFront, type FrontPoint } from './pareto';
import {
  applyMoves,
  assignmentCost,
  moveKey,
  rankMoves,
  startAssignment,
  startScheme,
  worstOf,
  type Assignment,
  type Move,
  type SearchLayer,
  type SliceEffects,
} from './moves';

/** What measuring a whole plan says. */
export interface Measurement {
  /** Per deciding slice, the primary effect (larger is worse). */
  effects: SliceEffects;
  /** Every deciding slice's verdict is `pass` or `noise`. */
  passes: boolean;
  /** It passes only because some slice is within noise. */
  withinNoise: boolean;
  /** Inference runs the measurement used (sequential testing may stop early). */
  runs: number;
  /** Measured only to place it on the front (asked with need 'estimate'): `passes` is not a decision. */
  estimate?: boolean;
}

/**
 * What the search needs of a measurement: `decide` (whether the plan passes), or `estimate` (only its place on the
 * front: the plan cannot be chosen, it costs more than maxCost or than a plan already found to pass).
 */
export type MeasureNeed = 'decide' | 'estimate';

/** A plan the search measured. */
export interface MeasuredPlan extends FrontPoint {
  assignment: Map<string, string>;
  measurement: Measurement;
  passes: boolean;
  /** The worst slice's name. */
  worstSlice: string;
}

/** One step of the search, for the report: what was predicted and what was measured. */
export interface SearchStep {
  kind: 'start' | 'batch' | 'bisect' | 'repair' | 'exhaustive';
  /** The moves this step applied to the accepted plan (a repair lists the move given back first, reversed). */
  moves: Move[];
  /** The worst slice's effect the sensitivities predicted (accepted plan's measured + the moves' damage). */
  predictedWorst: number;
  measuredWorst: number;
  passes: boolean;
  /** Whether the plan became the accepted one. */
  accepted: boolean;
  cost: number;
}

/** The search's inputs. */
export interface SearchInput {
  layers: readonly SearchLayer[];
  /** One-at-a-time effect per slice of `layer` under `scheme` (the starting scheme's: zero). */
  predicted: (layer: string, scheme: string) => SliceEffects;
  measure: (plan: Assignment, need: MeasureNeed) => Promise<Measurement>;
  /** Only plans costing at most this are chosen (the front shows all). */
  maxCost?: number;
  /** Measure every combination when there are at most this many (default 64). */
  exhaustiveLimit?: number;
  signal?: AbortSignal;
  /** Called after every measured step (progress, partial fronts). */
  onStep?: (step: SearchStep, plans: readonly MeasuredPlan[]) => void;
}

/** What the search found. */
export interface SearchResult {
  plans: MeasuredPlan[];
  front: MeasuredPlan[];
  /** The cheapest passing plan within maxCost. */
  chosen?: MeasuredPlan;
  steps: SearchStep[];
  /** Plans measured and inference runs used. */
  measurements: number;
  runs: number;
  /** Whether `signal` stopped it (what was found so far is kept). */
  cancelled: boolean;
  exhaustive: boolean;
}

/** Runs the search (see the file comment). */
export async function searchPlan(input: SearchInput): Promise<SearchResult> {
  const state = new SearchState(input);
  const combos = input.layers.reduce((n, l) => n * l.costs.size, 1);
  const exhaustive = combos <= (input.exhaustiveLimit ?? 64);
  try {
    if (exhaustive) await state.exhaustive();
    else await state.greedy();
  } catch (e) {
    if (!input.signal?.aborted) throw e;
  }
  const chosen = cheapestPassing(state.plans, input.maxCost);
  return {
    plans: state.plans,
    front: paretoFront(state.plans),
    chosen,
    steps: state.steps,
    measurements: state.plans.length,
    runs: state.runs,
    cancelled: input.signal?.aborted ?? false,
    exhaustive,
  };
}

class SearchState {
  readonly plans: MeasuredPlan[] = [];
  readonly steps: SearchStep[] = [];
  runs = 0;
  private readonly seen = new Map<string, MeasuredPlan>();

  constructor(private readonly input: SearchInput) {}

  /** Measures `a` once (a plan measured before is reused) and records the step. */
  async measure(
    a: Map<string, string>,
    step: Omit<SearchStep, 'measuredWorst' | 'passes' | 'cost'>,
    need: MeasureNeed = 'decide',
  ): Promise<MeasuredPlan> {
    this.input.signal?.throwIfAborted();
    const key = assignmentKey(this.input.layers, a);
    let plan = this.seen.get(key);
    if (!plan) {
      const measurement = await this.input.measure(a, need);
      this.runs += measurement.runs;
      const worst = worstOf(measurement.effects);
      const cost = assignmentCost(this.input.layers, a);
      plan = {
        assignment: a,
        measurement,
        passes: measurement.passes,
        cost,
        worst: worst.value,
        worstSlice: worst.slice,
      };
      this.seen.set(key, plan);
      this.plans.push(plan);
    }
    const done: SearchStep = { ...step, measuredWorst: plan.worst, passes: plan.passes, cost: plan.cost };
    this.steps.push(done);
    this.input.onStep?.(done, this.plans);
    return plan;
  }

  async exhaustive(): Promise<void> {
    const { layers } = this.input;
    const lists = layers.map((l) => [...l.costs.keys()]);
    const index = layers.map(() => 0);
    const all: Map<string, string>[] = [];
    for (;;) {
      all.push(new Map(layers.map((l, i) => [l.name, lists[i][index[i]]])));
      let i = 0;
      while (i < index.length && ++index[i] === lists[i].length) index[i++] = 0;
      if (i === index.length) break;
    }
    const cost = all.map((a) => assignmentCost(layers, a));
    const order = all.map((_, i) => i).sort((x, y) => cost[x] - cost[y] || x - y);
    const maxCost = this.input.maxCost ?? Infinity;
    let passing = Infinity;
    for (const i of order) {
      const need: MeasureNeed = cost[i] > maxCost || cost[i] > passing ? 'estimate' : 'decide';
      const step = { kind: 'exhaustive' as const, moves: [], predictedWorst: NaN, accepted: false };
      const plan = await this.measure(all[i], step, need);
      if (plan.passes && need === 'decide') passing = Math.min(passing, plan.cost);
    }
  }

  async greedy(): Promise<void> {
    const { layers, predicted } = this.input;
    let current = await this.measure(startAssignment(layers), {
      kind: 'start',
      moves: [],
      predictedWorst: 0,
      accepted: true,
    });
    const rejected = new Set<string>();
    for (;;) {
      const moves = rankMoves(layers, current.assignment, current.measurement.effects, predicted, rejected);
      if (moves.length === 0) return;
      const all = await this.tryMoves(current, moves, 'batch');
      if (all.passes) {
        this.steps.at(-1)!.accepted = true;
        current = all;
        continue;
      }
      const { passing, breaking, failed } = await this.bisect(current, moves, all);
      current = passing;
      const repaired = await this.repair(current, breaking, failed);
      if (repaired) current = repaired;
      else rejected.add(moveKey(breaking.layer, breaking.to));
    }
  }

  private tryMoves(from: MeasuredPlan, moves: Move[], kind: 'batch' | 'bisect'): Promise<MeasuredPlan> {
    const predictedWorst = worstOf(additiveEffects(from.measurement.effects, moves, this.input.predicted)).value;
    return this.measure(applyMoves(from.assignment, moves), { kind, moves, predictedWorst, accepted: false });
  }

  /** The longest passing prefix of `moves` (all of them fail: `failed`), the move after it and its failure. */
  private async bisect(
    from: MeasuredPlan,
    moves: Move[],
    failed: MeasuredPlan,
  ): Promise<{ passing: MeasuredPlan; breaking: Move; failed: MeasuredPlan }> {
    let lo = 0;
    let hi = moves.length;
    let passing = from;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const plan = await this.tryMoves(from, moves.slice(0, mid), 'bisect');
      if (plan.passes) [lo, passing] = [mid, plan];
      else [hi, failed] = [mid, plan];
    }
    if (passing !== from) markAccepted(this.steps, passing);
    return { passing, breaking: moves[lo], failed };
  }

  /**
   * Repair on the worst slice of `failed`: give back the layer moved from its start that is predicted to hurt that
   * slice most, take `breaking` instead, and keep the result when it passes and costs less.
   */
  private async repair(current: MeasuredPlan, breaking: Move, failed: MeasuredPlan): Promise<MeasuredPlan | undefined> {
    const { layers, predicted } = this.input;
    const slice = failed.worstSlice;
    let giveBack: SearchLayer | undefined;
    let hurt = -Infinity;
    for (const l of layers) {
      const scheme = current.assignment.get(l.name)!;
      if (l.name === breaking.layer || scheme === startScheme(l)) continue;
      const effect = predicted(l.name, scheme)[slice] ?? 0;
      if (effect > hurt) [giveBack, hurt] = [l, effect];
    }
    if (!giveBack) return undefined;
    const from = current.assignment.get(giveBack.name)!;
    const back = startScheme(giveBack);
    const lost = giveBack.costs.get(back)! - giveBack.costs.get(from)!;
    if (lost >= breaking.saving) return undefined;
    const a = applyMoves(current.assignment, [breaking]);
    a.set(giveBack.name, back);
    const undo: Move = { layer: giveBack.name, from, to: back, saving: -lost, damage: -hurt, slice };
    const plan = await this.measure(a, {
      kind: 'repair',
      moves: [undo, breaking],
      predictedWorst: NaN,
      accepted: false,
    });
    if (!plan.passes || plan.cost >= current.cost) return undefined;
    this.steps[this.steps.length - 1].accepted = true;
    return plan;
  }
}

/** What the sensitivities predict for `moves` on top of `measured`, assuming layer effects add up. */
export function additiveEffects(
  measured: SliceEffects,
  moves: readonly Move[],
  predicted: SearchInput['predicted'],
): Record<string, number> {
  const out: Record<string, number> = { ...measured };
  for (const m of moves) {
    const to = predicted(m.layer, m.to);
    const from = predicted(m.layer, m.from);
    for (const slice of Object.keys(out)) out[slice] += (to[slice] ?? 0) - (from[slice] ?? 0);
  }
  return out;
}

/** Marks the last step that measured `plan` as accepted. */
function markAccepted(steps: SearchStep[], plan: MeasuredPlan): void {
  for (let i = steps.length - 1; i >= 0; i--)
    if (steps[i].cost === plan.cost && steps[i].measuredWorst === plan.worst && steps[i].passes) {
      steps[i].accepted = true;
      return;
    }
}

/** A stable key of an assignment (every layer, in layer order). */
function assignmentKey(layers: readonly SearchLayer[], a: Assignment): string {
  return layers.map((l) => a.get(l.name) ?? startScheme(l)).join('\u0000');
}
