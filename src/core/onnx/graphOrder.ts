/**
 * A topological order of a model's nodes: the main graph, with each subgraph's nodes in place (right after
 * the node that owns the subgraph). Kahn's algorithm, ties broken by the node's position in the file, so a
 * graph already stored in a valid order keeps that order; what a cycle leaves over follows in file order.
 */
import type { onnx } from 'onnx-proto';

/** Key of a node: its graph path (as visitGraphs names it) and its index in that graph. */
export const nodeKey = (graph: string, index: number): string => `${graph}\0${index}`;

/** A binary min-heap of node indices. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** The subgraphs a node owns (If branches, Loop / Scan bodies), with their attribute names. */
function subgraphsOf(node: onnx.INodeProto): { name: string; graph: onnx.IGraphProto }[] {
  const out: { name: string; graph: onnx.IGraphProto }[] = [];
  for (const attr of node.attribute ?? []) {
    if (attr.g) out.push({ name: attr.name ?? '', graph: attr.g });
    (attr.graphs ?? []).forEach((g, i) => out.push({ name: `${attr.name ?? ''}[${i}]`, graph: g }));
  }
  return out;
}

/** Names a graph reads from its enclosing scopes (inputs of its nodes, at any depth, produced nowhere inside). */
function outerNames(graph: onnx.IGraphProto, into: Set<string>): void {
  const local = new Set<string>([
    ...(graph.input ?? []).map((v) => v.name ?? ''),
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
  ]);
  for (const n of graph.node ?? []) for (const o of n.output ?? []) local.add(o);
  const inner = new Set<string>();
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) if (i && !local.has(i)) into.add(i);
    for (const s of subgraphsOf(n)) outerNames(s.graph, inner);
  }
  for (const i of inner) if (!local.has(i)) into.add(i);
}

/** The distinct names of a list, in first-seen order (no copy for the usual one input; linear for 100k). */
export function distinct(names: readonly string[]): readonly string[] {
  if (names.length < 2) return names;
  if (names.length === 2) return names[0] === names[1] ? [names[0]] : names;
  return [...new Set(names)];
}

/** The distinct names node `n` reads (its inputs, then what its subgraphs read from outside), in first-seen order. */
function readsOf(n: onnx.INodeProto): Iterable<string> {
  const inputs = n.input ?? [];
  const subgraphs = subgraphsOf(n);
  if (subgraphs.length === 0) return distinct(inputs);
  const reads = new Set(inputs);
  for (const s of subgraphs) outerNames(s.graph, reads);
  return reads;
}

/** Node indices of one graph in topological order (file order breaks ties; a cycle's rest in file order). */
export function topologicalIndices(graph: onnx.IGraphProto): number[] {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && !producer.has(o) && producer.set(o, i)));
  // Edges producer -> reader (one per name read, so a reader of two outputs of a node waits for both).
  const pending = new Int32Array(nodes.length);
  const from: number[] = [];
  const to: number[] = [];
  nodes.forEach((n, i) => {
    for (const name of readsOf(n)) {
      const p = producer.get(name);
      if (p === undefined || p === i) continue;
      from.push(p);
      to.push(i);
      pending[i] += 1;
    }
  });
  // The readers of each node in one flat array (a list per node costs ~150 bytes each on a 1M-node graph).
  const start = new Int32Array(nodes.length + 1);
  for (const p of from) start[p + 1] += 1;
  for (let i = 0; i < nodes.length; i++) start[i + 1] += start[i];
  const fill = start.slice(0, nodes.length);
  const next = new Int32Array(from.length);
  from.forEach((p, e) => (next[fill[p]++] = to[e]));
  const heap = new MinHeap();
  pending.forEach((d, i) => d === 0 && heap.push(i));
  const order: number[] = [];
  const done = new Uint8Array(nodes.length);
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    done[i] = 1;
    for (let e = start[i]; e < start[i + 1]; e++) if (--pending[next[e]] === 0) heap.push(next[e]);
  }
  for (let i = 0; i < nodes.length; i++) if (!done[i]) order.push(i);
  return order;
}

/**
 * Position of every node of the model (all graphs, subgraphs in place after their node) in graph order: for
 * each graph path, an array indexed by the node's index (4 bytes a node).
 */
export function graphPositions(model: onnx.IModelProto): Map<string, Int32Array> {
  const positions = new Map<string, Int32Array>();
  let next = 0;
  const walk = (graph: onnx.IGraphProto, path: string): void => {
    const nodes = graph.node ?? [];
    const own = new Int32Array(nodes.length);
    positions.set(path, own);
    for (const index of topologicalIndices(graph)) {
      own[index] = next++;
      const n = nodes[index];
      const label = n.name || `${n.opType ?? 'node'}_${index}`;
      for (const s of subgraphsOf(n)) walk(s.graph, `${path === 'main' ? '' : `${path}/`}${label}/${s.name}`);
    }
  };
  if (model.graph) walk(model.graph, 'main');
  return positions;
}

/** Position of every node of the model (all graphs) in graph order, keyed by nodeKey(graph path, index). */
export function graphOrder(model: onnx.IModelProto): Map<string, number> {
  const order = new Map<string, number>();
  for (const [path, own] of graphPositions(model)) own.forEach((p, index) => order.set(nodeKey(path, index), p));
  return new Map([...order].sort((x, y) => x[1] - y[1]));
}
