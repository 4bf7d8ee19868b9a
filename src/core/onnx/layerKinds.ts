/**
 * What a layer is, read from the graph's structure rather than its names (exports name nodes `p2o.MatMul.0`):
 * embedding, attention q/k/v/output, MLP, classifier head, conv, norm, recurrent. Simple local patterns, each
 * a bounded walk; `unknown` when none fits.
 */
import type { onnx } from 'onnx-proto';
import type { Consumer } from './consumers';
import { distinct, nodeKey } from './graphOrder';
import { visitGraphs } from './weights';

/** A layer's kind as inferred from the graph. */
export type LayerKind =
  | 'embedding'
  | 'attention-q'
  | 'attention-k'
  | 'attention-v'
  | 'attention-qkv'
  | 'attention-output'
  | 'mlp-up'
  | 'mlp-down'
  | 'classifier'
  | 'conv'
  | 'norm'
  | 'recurrent'
  | 'unknown';

interface GraphIndex {
  path: string;
  nodes: onnx.INodeProto[];
  producer: Map<string, number>;
  /** Nodes reading each tensor: one index, or several (no list per tensor: most have one reader). */
  readers: Map<string, number | number[]>;
}

/** A node found by a walk. */
interface Found {
  g: GraphIndex;
  index: number;
}

const PROJECTIONS = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'FusedMatMul', 'MatMulInteger', 'QLinearMatMul']);
const MOVES = ['Reshape', 'Transpose', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten'];
/** Ops between a projection and the attention scores (head split, scaling, bias, a fused qkv split). */
const TO_SCORES = new Set([...MOVES, 'Split', 'Slice', 'Gather', 'Add', 'Mul', 'Div', 'Concat']);
const TO_SOFTMAX = new Set([...MOVES, 'Add', 'Mul', 'Div', 'Sub', 'Where']);
const FROM_SOFTMAX = new Set([...MOVES, 'Dropout']);
const ACTIVATIONS = new Set([
  'Relu',
  'Gelu',
  'FastGelu',
  'BiasGelu',
  'QuickGelu',
  'Erf',
  'Sigmoid',
  'Tanh',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Silu',
  'HardSwish',
  'HardSigmoid',
  'Softplus',
  'Mish',
]);
const AROUND_ACTIVATION = new Set([...MOVES, 'Add', 'Mul', 'Div', ...ACTIVATIONS]);
const TO_OUTPUT = new Set([...MOVES, 'Add', 'Softmax', 'LogSoftmax', 'Sigmoid']);
const NORM_CHAIN = new Set(['Div', 'Mul', 'Sqrt', 'Sub', 'Add', 'Pow', 'Reciprocal', 'Cast', 'ReduceMean']);
/** Normalization ops: their weights are norm scales and shifts. */
export const NORMS: ReadonlySet<string> = new Set([
  'LayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'SimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'RMSNormalization',
]);
const BEFORE_ACTIVATION = new Set([...MOVES, 'Add', 'Mul', 'Div']);
const MOVES_ONLY = new Set(MOVES);
const REDUCE_MEAN = new Set(['ReduceMean']);
const TO_OUTPUT_TARGETS = new Set([...PROJECTIONS, 'If']);
/** Nodes a walk visits at most. */
const WALK = 12;

/** The first node upstream of `tensor` (breadth first, through `through` ops) whose op is in `target`. */
function upstream(g: GraphIndex, tensor: string, through: ReadonlySet<string>, target: ReadonlySet<string>): Found[] {
  const found: Found[] = [];
  const queue = [tensor];
  const seen = new Set<number>();
  while (queue.length > 0 && seen.size < WALK) {
    const p = g.producer.get(queue.shift()!);
    if (p === undefined || seen.has(p)) continue;
    seen.add(p);
    const n = g.nodes[p];
    if (target.has(n.opType ?? '')) found.push({ g, index: p });
    else if (through.has(n.opType ?? '')) queue.push(...(n.input ?? []).filter((i) => i));
  }
  return found;
}

/** The nodes downstream of `tensor` (through `through` ops) whose op is in `target`, reading it at input `slot`. */
function downstream(
  g: GraphIndex,
  tensor: string,
  through: ReadonlySet<string>,
  target: ReadonlySet<string>,
  slot?: number,
): Found[] {
  const found: Found[] = [];
  const queue = [tensor];
  const seen = new Set<number>();
  while (queue.length > 0 && seen.size < WALK) {
    const t = queue.shift()!;
    const readers = g.readers.get(t);
    for (const r of readers === undefined ? [] : typeof readers === 'number' ? [readers] : readers) {
      if (seen.has(r)) continue;
      seen.add(r);
      const n = g.nodes[r];
      if (target.has(n.opType ?? '') && (slot === undefined || n.input?.[slot] === t)) found.push({ g, index: r });
      else if (through.has(n.opType ?? '')) queue.push(...(n.output ?? []));
    }
  }
  return found;
}

function indexGraph(graph: onnx.IGraphProto, path: string): GraphIndex {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  const readers = new Map<string, number | number[]>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o && !producer.has(o)) producer.set(o, i);
    // Each node once per tensor it reads (a node reading x twice is one reader).
    for (const t of distinct(n.input ?? [])) {
      if (!t) continue;
      const list = readers.get(t);
      if (list === undefined) readers.set(t, i);
      else if (typeof list === 'number') readers.set(t, [list, i]);
      else list.push(i);
    }
  });
  return { path, nodes, producer, readers };
}

/** Marks the attention projections around each Softmax: scores = q x k, context = softmax x v, then the output projection. */
function markAttention(g: GraphIndex, set: (f: Found, k: LayerKind) => void): void {
  g.nodes.forEach((n, i) => {
    if (n.opType !== 'Softmax') return;
    const score = upstream(g, n.input?.[0] ?? '', TO_SOFTMAX, PROJECTIONS)[0];
    const context = downstream(g, n.output?.[0] ?? '', FROM_SOFTMAX, PROJECTIONS, 0)[0];
    if (!score || !context || score.index === i) return;
    const proj = (t: string | undefined): Found | undefined => upstream(g, t ?? '', TO_SCORES, PROJECTIONS)[0];
    const sn = g.nodes[score.index];
    const [q, k, v] = [proj(sn.input?.[0]), proj(sn.input?.[1]), proj(g.nodes[context.index].input?.[1])];
    const fused = q && k && q.index === k.index;
    if (q) set(q, fused ? 'attention-qkv' : 'attention-q');
    if (k && !fused) set(k, 'attention-k');
    if (v && v.index !== q?.index) set(v, 'attention-v');
    const out = downstream(g, g.nodes[context.index].output?.[0] ?? '', MOVES_ONLY, PROJECTIONS, 0)[0];
    if (out) set(out, 'attention-output');
  });
}

/** Marks MatMul / Gemm pairs around an activation: the one before it `mlp-up`, the one after `mlp-down`. */
function markMlp(g: GraphIndex, set: (f: Found, k: LayerKind) => void): void {
  g.nodes.forEach((n) => {
    if (!ACTIVATIONS.has(n.opType ?? '')) return;
    const up = upstream(g, n.input?.[0] ?? '', BEFORE_ACTIVATION, PROJECTIONS)[0];
    // Only then the walk down: in a chain of activations each would walk WALK nodes for nothing.
    const down = up && downstream(g, n.output?.[0] ?? '', AROUND_ACTIVATION, PROJECTIONS, 0)[0];
    if (up && down) {
      set(up, 'mlp-up');
      set(down, 'mlp-down');
    }
  });
}

/** Marks the last MatMul / Gemm before each main graph output (into If branches) as the classifier head. */
function markClassifier(
  main: GraphIndex,
  graphs: Map<string, GraphIndex>,
  outputs: readonly string[],
  set: (f: Found, k: LayerKind) => void,
): void {
  const visit = (g: GraphIndex, tensor: string, depth: number): void => {
    for (const f of upstream(g, tensor, TO_OUTPUT, TO_OUTPUT_TARGETS)) {
      const n = g.nodes[f.index];
      if (n.opType !== 'If') {
        set(f, 'classifier');
        continue;
      }
      const slot = (n.output ?? []).indexOf(tensor);
      if (depth > 3 || slot < 0) continue;
      const label = n.name || `${n.opType}_${f.index}`;
      for (const a of n.attribute ?? []) {
        const sub = a.g ? graphs.get(`${g.path === 'main' ? '' : `${g.path}/`}${label}/${a.name}`) : undefined;
        const out = a.g?.output?.[slot]?.name;
        if (sub && out) visit(sub, out, depth + 1);
      }
    }
  };
  for (const o of outputs) visit(main, o, 0);
}

/** The op-determined kind of a node (conv, norm, recurrent, embedding), or undefined. */
function opKind(n: onnx.INodeProto, g: GraphIndex): LayerKind | undefined {
  const op = n.opType ?? '';
  if (op === 'Conv' || op === 'ConvTranspose') return 'conv';
  if (op === 'LSTM' || op === 'GRU' || op === 'RNN') return 'recurrent';
  if (op === 'Gather') return 'embedding';
  if (NORMS.has(op)) return 'norm';
  if (op === 'Mul' || op === 'Add') {
    const chain = (n.input ?? []).flatMap((t) => upstream(g, t, NORM_CHAIN, REDUCE_MEAN));
    if (chain.length > 0) return 'norm';
  }
  return undefined;
}

/** The kind of each layer node of a model, and of each weight from the nodes that read it. */
export class LayerKinds {
  private readonly kinds = new Map<string, LayerKind>();
  private readonly graphs = new Map<string, GraphIndex>();

  constructor(model: onnx.IModelProto) {
    if (!model.graph) return;
    visitGraphs(model.graph, (graph, path) => this.graphs.set(path, indexGraph(graph, path)));
    const set = (f: Found, k: LayerKind): void => void this.kinds.set(nodeKey(f.g.path, f.index), k);
    for (const g of this.graphs.values()) {
      g.nodes.forEach((n, i) => {
        const k = opKind(n, g);
        if (k) set({ g, index: i }, k);
      });
      markMlp(g, set);
    }
    const main = this.graphs.get('main')!;
    const outputs = (model.graph.output ?? []).map((o) => o.name ?? '');
    markClassifier(main, this.graphs, outputs, set);
    for (const g of this.graphs.values()) markAttention(g, set);
  }

  /** The kind of the node reading a weight; a bias added to a layer's output gets that layer's kind. */
  of(c: Consumer): LayerKind {
    if (c.index === undefined) return 'unknown';
    // A Gather's table is its input 0; a constant read as its indices is no embedding.
    if (c.op === 'Gather' && c.input !== 0) return 'unknown';
    const own = this.kinds.get(nodeKey(c.graph, c.index));
    if (own && !(own === 'norm' && c.op === 'Add' && this.producerKind(c))) return own;
    return (c.op === 'Add' && this.producerKind(c)) || 'unknown';
  }

  /** The kind of a weight: of the first of its layers with a known kind. */
  ofWeight(layers: readonly Consumer[]): LayerKind {
    for (const c of layers) {
      const k = this.of(c);
      if (k !== 'unknown') return k;
    }
    return 'unknown';
  }

  /** Kind of the MatMul / Gemm / Conv producing the other input of an Add. */
  private producerKind(c: Consumer): LayerKind | undefined {
    const g = this.graphs.get(c.graph);
    const other = c.inputs[c.input === 0 ? 1 : 0];
    const p = g && other !== undefined ? g.producer.get(other) : undefined;
    if (!g || p === undefined || !['Conv', ...PROJECTIONS].includes(g.nodes[p].opType ?? '')) return undefined;
    const k = this.kinds.get(nodeKey(g.path, p));
    return k && k !== 'unknown' ? k : undefined;
  }
}
