/** Which nodes read each tensor: gives weights a useful label (torch names them `onnx::MatMul_257`). */
import type { onnx } from 'onnx-proto';
import { int64ToNumber, type Int64 } from './decode';
import { visitGraphs } from './weights';

/** A node input that reads a tensor. */
export interface Consumer {
  /** The node's name, or `<op>_<index>` when it has none. */
  node: string;
  op: string;
  /** Operator domain; '' is ai.onnx. */
  domain: string;
  /** Input slot of the node that reads the tensor. */
  input: number;
  /** Graph holding the node: `main` or a subgraph path. */
  graph: string;
  /** Position of the node in its graph's node list (with `graph`, the node's key in graphOrder). */
  index?: number;
  /** Integer attributes of the node (e.g. Gemm transB, Gather axis). */
  attrs: Record<string, number>;
  /** The node's outputs (to follow Cast / DequantizeLinear to the layer that uses the weight). */
  outputs: string[];
  /** The node's inputs ('' for an omitted optional input). */
  inputs: string[];
}

/** Shared by nodes without integer attributes (read-only, as every Consumer is). */
const NO_ATTRS: Record<string, number> = Object.freeze({});
const NONE: string[] = [];

/** The readers of each tensor by name (what the planners ask: `get`). */
export interface ConsumerIndex {
  /** The node inputs reading `name` (undefined when nothing reads it); the same array for the same name. */
  get(name: string): Consumer[] | undefined;
}

/** Integer attributes of a node (Gemm transB, Gather axis, ...). */
function intAttrs(n: onnx.INodeProto): Record<string, number> {
  let attrs = NO_ATTRS;
  for (const a of n.attribute ?? []) {
    if (a.i !== undefined && a.i !== null && a.type === 2) {
      if (attrs === NO_ATTRS) attrs = {};
      attrs[a.name ?? ''] = int64ToNumber(a.i as Int64);
    }
  }
  return attrs;
}

/**
 * The readers of every tensor, kept as three numbers per node input (graph, node, slot) in flat arrays; a
 * Consumer object is built only for the tensors looked up (the weights and what they flow into). A graph of 1M
 * nodes held a Consumer object and a list per input before (~110 MB); now a few words per input.
 */
class PackedConsumers implements ConsumerIndex {
  private readonly graphs: { path: string; nodes: onnx.INodeProto[] }[] = [];
  private readonly refGraph: number[] = [];
  private readonly refNode: number[] = [];
  private readonly refSlot: number[] = [];
  /** Tensor name -> a reader's ref (index into the arrays above), or the refs of several readers. */
  private readonly byName = new Map<string, number | number[]>();
  private readonly built = new Map<string, Consumer[]>();

  constructor(model: onnx.IModelProto) {
    if (!model.graph) return;
    visitGraphs(model.graph, (graph, path) => {
      const g = this.graphs.length;
      const nodes = graph.node ?? [];
      this.graphs.push({ path, nodes });
      for (let index = 0; index < nodes.length; index++) {
        const inputs = nodes[index].input ?? NONE;
        for (let slot = 0; slot < inputs.length; slot++) {
          const name = inputs[slot];
          if (name === '') continue;
          const ref = this.refNode.length;
          this.refGraph.push(g);
          this.refNode.push(index);
          this.refSlot.push(slot);
          const known = this.byName.get(name);
          if (known === undefined) this.byName.set(name, ref);
          else if (typeof known === 'number') this.byName.set(name, [known, ref]);
          else known.push(ref);
        }
      }
    });
  }

  get(name: string): Consumer[] | undefined {
    const cached = this.built.get(name);
    if (cached) return cached;
    const refs = this.byName.get(name);
    if (refs === undefined) return undefined;
    const list = (typeof refs === 'number' ? [refs] : refs).map((r) => this.consumer(r));
    this.built.set(name, list);
    return list;
  }

  private consumer(ref: number): Consumer {
    const { path, nodes } = this.graphs[this.refGraph[ref]];
    const index = this.refNode[ref];
    const n = nodes[index];
    return {
      node: n.name || `${n.opType ?? 'node'}_${index}`,
      op: n.opType ?? '',
      domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
      input: this.refSlot[ref],
      graph: path,
      index,
      attrs: intAttrs(n),
      outputs: n.output ?? NONE,
      inputs: n.input ?? NONE,
    };
  }
}

/** Indexes every tensor name to the node inputs that read it, across all graphs (Consumers built on lookup). */
export function consumersByTensor(model: onnx.IModelProto): ConsumerIndex {
  return new PackedConsumers(model);
}
