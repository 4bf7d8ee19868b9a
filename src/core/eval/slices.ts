/** Slices of the evaluation data: 'all', by label, by a field's value, by numeric buckets, by explicit ids. */
import type { SliceDef } from './spec';

/** A problem with a slice definition, at a JSON pointer of the spec. */
export class SliceProblem extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** Slice names and, per sample, the slices it belongs to (index 0 is 'all'). */
export interface Slices {
  names: string[];
  /** Per slice: the sample count. */
  sizes: number[];
  /** Per sample: indices into `names`. */
  of: number[][];
}

/** Pseudo-field: a sample's index in the data (before `limit` picks samples); what `ids` slices match by default. */
export const SAMPLE_INDEX = '#index';

/** A scalar field value of a sample (undefined when the sample has none). */
export type ScalarOf = (field: string, sample: number) => number | string | undefined;

const fmt = (x: number): string => String(Number(x.toPrecision(4)));

/** Edges that cut `values` into `q` buckets of (nearly) equal count. */
export function quantileEdges(values: number[], q: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < q; k++) {
    const e = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / q))];
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Bucket names for edges: `f < e0`, `f e0–e1`, ..., `f ≥ eN`. */
export function bucketNames(field: string, edges: number[]): string[] {
  return [
    `${field} < ${fmt(edges[0])}`,
    ...edges.slice(1).map((e, i) => `${field} ${fmt(edges[i])}–${fmt(e)}`),
    `${field} ≥ ${fmt(edges[edges.length - 1])}`,
  ];
}

/** Index of the bucket of x: the number of edges <= x. */
export function bucketOf(x: number, edges: number[]): number {
  let b = 0;
  while (b < edges.length && x >= edges[b]) b++;
  return b;
}

/** What building one slice definition needs: the samples, the slice names so far, each sample's slices. */
interface SliceBuild {
  count: number;
  label: string;
  scalar: ScalarOf;
  /** The index of a slice name (added when new). */
  add: (name: string) => number;
  /** Sample `sample`'s scalar `field`, else a SliceProblem at the definition's `pointer`. */
  need: (field: string, i: number, pointer: string, sample: number) => number | string;
  /** The slices of each sample. */
  of: number[][];
}

/** Builds the slices of `count` samples; `label` is the label field's name. Throws SliceProblem. */
export function buildSlices(defs: readonly SliceDef[], count: number, scalar: ScalarOf, label: string): Slices {
  const names = ['all'];
  const of: number[][] = Array.from({ length: count }, () => [0]);
  const add = (name: string): number => {
    let index = names.indexOf(name);
    if (index < 0) {
      index = names.length;
      names.push(name);
    }
    return index;
  };
  const need = (field: string, i: number, pointer: string, sample: number): number | string => {
    const v = scalar(field, sample);
    if (v === undefined) {
      throw new SliceProblem(
        `/slices/${i}/${pointer}`,
        `Slice ${i + 1}: sample ${sample} has no scalar field '${field}'.`,
      );
    }
    return v;
  };
  const build: SliceBuild = { count, label, scalar, add, need, of };
  defs.forEach((def, i) => {
    if (def.by === 'label' || def.by === 'field') valueSlices(build, def, i);
    else if (def.by === 'buckets') bucketSlices(build, def, i);
    else idSlices(build, def, i);
  });
  const sizes = names.map(() => 0);
  for (const list of of) for (const k of list) sizes[k]++;
  return { names, sizes, of };
}

/** One slice per distinct value of the label or a field (class names for labels where given). */
function valueSlices(b: SliceBuild, def: Extract<SliceDef, { by: 'label' | 'field' }>, i: number): void {
  const field = def.by === 'label' ? b.label : def.field;
  const prefix = def.name ?? field;
  const values = Array.from({ length: b.count }, (_, s) => b.need(field, i, def.by === 'label' ? 'by' : 'field', s));
  const distinct = [...new Set(values)].sort((x, y) =>
    typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)),
  );
  const classNames = def.by === 'label' ? def.classNames : undefined;
  const index = new Map(
    distinct.map((v) => [
      v,
      b.add(`${prefix}=${classNames && typeof v === 'number' && classNames[v] !== undefined ? classNames[v] : v}`),
    ]),
  );
  values.forEach((v, s) => b.of[s].push(index.get(v)!));
}

/** One slice per bucket of a numeric field (given edges, or quantiles). */
function bucketSlices(b: SliceBuild, def: Extract<SliceDef, { by: 'buckets' }>, i: number): void {
  const values = Array.from({ length: b.count }, (_, s) => {
    const v = b.need(def.field, i, 'field', s);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new SliceProblem(
        `/slices/${i}/field`,
        `Slice ${i + 1}: field '${def.field}' of sample ${s} is ${JSON.stringify(v)}, not a finite number.`,
      );
    }
    return v;
  });
  const edges = def.edges ?? quantileEdges(values, def.quantiles!);
  const bucketIndex = bucketNames(def.name ?? def.field, edges).map(b.add);
  values.forEach((v, s) => b.of[s].push(bucketIndex[bucketOf(v, edges)]));
}

/** One slice of the samples whose id (a field, else the sample index) is listed. */
function idSlices(b: SliceBuild, def: Extract<SliceDef, { by: 'ids' }>, i: number): void {
  const wanted = new Set(def.ids.map(String));
  const index = b.add(def.name);
  let found = 0;
  for (let s = 0; s < b.count; s++) {
    const id = def.field ? b.need(def.field, i, 'field', s) : (b.scalar(SAMPLE_INDEX, s) ?? s);
    if (wanted.has(String(id))) {
      b.of[s].push(index);
      found++;
    }
  }
  if (found === 0) throw new SliceProblem(`/slices/${i}/ids`, `Slice '${def.name}': none of its ids is in the data.`);
}
