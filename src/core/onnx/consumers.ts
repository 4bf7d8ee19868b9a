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

/**
 * Maps every tensor name to the node inputs that read it, across all graphs. Memory is a few words per node
 * input: consumers of one node share its name, attributes and the decoded input and output lists.
 */
export function consumersByTensor(model: onnx.IModelProto): Map<string, Consumer[]> {
  const map = new Map<string, Consumer[]>();
  if (!model.graph) {
    return map;
  }
  visitGraphs(model.graph, (graph, path) => {
    (graph.node ?? []).forEach((n, index) => {
      const inputs = n.input ?? NONE;
      let attrs = NO_ATTRS;
      for (const a of n.attribute ?? []) {
        if (a.i !== undefined && a.i !== null && a.type === 2) {
          if (attrs === NO_ATTRS) attrs = {};
          attrs[a.name ?? ''] = int64ToNumber(a.i as Int64);
        }
      }
      const node = n.name || `${n.opType ?? 'node'}_${index}`;
      const op = n.opType ?? '';
      const domain = n.domain === 'ai.onnx' ? '' : (n.domain ?? '');
      const outputs = n.output ?? NONE;
      inputs.forEach((name, input) => {
        if (name === '') {
          return;
        }
        const consumer: Consumer = { node, op, domain, input, graph: path, index, attrs, outputs, inputs };
        const list = map.get(name);
        // A literal of one: most tensors have one reader, and push() on [] reserves 17 slots.
        if (list) list.push(consumer);
        else map.set(name, [consumer]);
      });
    });
  });
  return map;
}
