/** The main graph of a model as activation site selection reads it (src/core/quant/activationSites.ts). */
import type { onnx } from 'onnx-proto';
import type { SiteGraph, SiteNode } from '../quant/activationSites';
import { int64ToNumber, type Int64 } from './decode';

/** Nodes (named as consumersByTensor names them), graph inputs/outputs, initializers and known element types. */
export function siteGraphOf(model: onnx.IModelProto): SiteGraph {
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const dtypes = new Map<string, number>();
  for (const t of graph.initializer ?? []) dtypes.set(t.name ?? '', t.dataType ?? 0);
  for (const v of graph.input ?? []) {
    const elem = v.type?.tensorType?.elemType;
    if (elem && !dtypes.has(v.name ?? '')) dtypes.set(v.name ?? '', elem);
  }
  const nodes: SiteNode[] = (graph.node ?? []).map((n, index) => {
    const domain = n.domain === 'ai.onnx' ? '' : (n.domain ?? '');
    const op = domain ? `${domain}.${n.opType ?? ''}` : (n.opType ?? '');
    const node: SiteNode = {
      name: n.name || `${n.opType ?? 'node'}_${index}`,
      op,
      inputs: n.input ?? [],
      outputs: n.output ?? [],
    };
    const to = (n.attribute ?? []).find((a) => a.name === 'to');
    if (op === 'Cast' && to?.i !== undefined && to.i !== null) node.castTo = int64ToNumber(to.i as Int64);
    const value = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
    // Constant outputs are weights, not activations.
    if (op === 'Constant') for (const o of node.outputs) initializers.add(o);
    if (op === 'Constant' && value?.dataType) for (const o of node.outputs) dtypes.set(o, value.dataType);
    return node;
  });
  return {
    nodes,
    inputs: (graph.input ?? []).map((v) => v.name ?? '').filter((n) => !initializers.has(n)),
    outputs: (graph.output ?? []).map((v) => v.name ?? ''),
    initializers,
    dtypes,
  };
}
