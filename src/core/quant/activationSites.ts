/**
 * Which activation tensors static QDQ quantization puts QuantizeLinear -> DequantizeLinear on, following
 * onnxruntime's QDQ quantizer (onnxruntime/python/tools/quantization: qdq_quantizer.py, registry.py,
 * operators/*): nodes are visited in graph order;
 * - compute ops (Conv, ConvTranspose, MatMul, Gemm) and other fusable ops (Add, Mul, Concat, ...) quantize their
 *   float activation inputs and their output (QDQConv, QDQMatMul, QDQGemm, QDQOperatorBase);
 * - Relu / Clip whose input is quantized, has no other consumer and is no graph output or input are "removed": the
 *   preceding op's output takes the Relu's output range (QDQRemovableActivation, try_replacing_upstream_output);
 *   with symmetric activations they are kept and their output quantized on its own (the export removes the node
 *   only when its bounds change no integer: src/core/export/activationQdq.ts);
 * - MaxPool, Reshape, Transpose, Squeeze, ... (QDQDirect8BitOp, QDQMaxPool) quantize their output with their
 *   input's scale when the input is quantized (`shareWith`);
 * - Softmax and the normalizations stay float by default (`floatOps`); graph inputs and outputs are quantized
 *   by default, as onnxruntime does (`inputs`, `outputs`); `exclude` names nodes (not quantized, and their
 *   input activations kept float) or tensors to keep float.
 * Only float tensors of the main graph are sites (dtypes are followed from inputs, initializers and Cast).
 */

/** A node as site selection sees it. */
export interface SiteNode {
  name: string;
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** The `to` attribute of a Cast (ONNX element type). */
  castTo?: number;
}

/** The graph site selection reads: nodes in order, graph inputs/outputs and the element type of known tensors. */
export interface SiteGraph {
  nodes: readonly SiteNode[];
  inputs: readonly string[];
  outputs: readonly string[];
  /** Initializer names (weights are not activations). */
  initializers: ReadonlySet<string>;
  /** ONNX element type of graph inputs and initializers (1 = float32). */
  dtypes: ReadonlyMap<string, number>;
}

/** Options of site selection (spec `exclude`, configurable inputs/outputs). */
export interface SiteOptions {
  /** Node or tensor names kept float. */
  exclude?: readonly string[];
  /** Quantize graph inputs that feed a quantized op (default true). */
  inputs?: boolean;
  /** Quantize graph outputs produced by a quantized op (default true). */
  outputs?: boolean;
  /** Symmetric activations: Relu / Clip are kept and quantized on their own (default false). */
  symmetric?: boolean;
  /** Ops kept float although onnxruntime could quantize them (default FLOAT_OPS). */
  floatOps?: readonly string[];
}

/** One quantized activation tensor. */
export interface ActivationSite {
  tensor: string;
  /** Names of the nodes that read it. */
  consumers: string[];
  /** The first quantizable node that reads it (a compute op first), else the node producing it. */
  layer: string;
  /** The op of `layer`. */
  op: string;
  /** A tensor whose scale and zero point this one shares (the input of a MaxPool-like op). */
  shareWith?: string;
  /**
   * The node computing it, followed back through Relu / Clip and shared-scale ops (MaxPool, Reshape...): the
   * layer whose output it is (a plan entry of that layer decides it when `layer` has none).
   */
  producer?: string;
}

/** Ops that quantize their float inputs and output. */
export const COMPUTE_OPS = ['Conv', 'ConvTranspose', 'MatMul', 'Gemm'] as const;
/** Other ops onnxruntime's QDQ format quantizes around (each input and output with its own scale). */
export const FUSABLE_OPS = ['Add', 'Mul', 'Concat', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu'] as const;
/** Ops folded into the preceding op's output range. */
export const REMOVABLE_OPS = ['Relu', 'Clip'] as const;
/** Ops whose output shares their input's scale. */
export const SHARED_SCALE_OPS = [
  'MaxPool',
  'AveragePool',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Resize',
  'Split',
  'Gather',
  'GatherElements',
  'Pad',
] as const;
/** Ops kept float by default (onnxruntime can quantize some of them, at a large accuracy cost). */
export const FLOAT_OPS = ['Softmax', 'LayerNormalization', 'BatchNormalization', 'InstanceNormalization'] as const;

const FLOAT32 = 1;
const has = (list: readonly string[], op: string): boolean => list.includes(op);

/** Element types of every tensor that can be followed: int-producing ops, Cast, otherwise the first input's. */
function tensorTypes(graph: SiteGraph): Map<string, number> {
  const types = new Map(graph.dtypes);
  const INT64 = 7;
  const BOOL = 9;
  const intOps = ['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero'];
  const boolOps = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN'];
  for (const n of graph.nodes) {
    let t: number | undefined;
    if (intOps.includes(n.op)) t = INT64;
    else if (boolOps.includes(n.op)) t = BOOL;
    else if (n.op === 'Cast') t = n.castTo;
    else if (n.op === 'Where') t = types.get(n.inputs[1]);
    else if (n.inputs[0]) t = types.get(n.inputs[0]);
    if (t !== undefined) for (const o of n.outputs) if (o) types.set(o, t);
  }
  return types;
}

/** Activation inputs of a node (float, not weights): all of them for compute / fusable ops, else input 0. */
function activationInputs(n: SiteNode, isFloatActivation: (t: string) => boolean): string[] {
  const slots = has(COMPUTE_OPS, n.op) && n.op !== 'MatMul' ? [n.inputs[0]] : n.inputs;
  return slots.filter((t) => t && isFloatActivation(t));
}

/** The activation tensors a static QDQ quantization quantizes, in graph order. */
export function activationSites(graph: SiteGraph, options: SiteOptions = {}): ActivationSite[] {
  const types = tensorTypes(graph);
  const exclude = new Set(options.exclude ?? []);
  const floatOps = options.floatOps ?? FLOAT_OPS;
  const graphInputs = new Set(graph.inputs);
  const graphOutputs = new Set(graph.outputs);
  const consumers = new Map<string, SiteNode[]>();
  for (const n of graph.nodes) for (const t of n.inputs) if (t) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  const isFloatActivation = (t: string): boolean =>
    types.get(t) === FLOAT32 && !graph.initializers.has(t) && !exclude.has(t);
  const allowed = (t: string): boolean =>
    (options.inputs !== false || !graphInputs.has(t)) && (options.outputs !== false || !graphOutputs.has(t));

  const quantized = new Map<string, { shareWith?: string }>();
  const add = (t: string, shareWith?: string): void => {
    if (!quantized.has(t) && allowed(t)) quantized.set(t, shareWith ? { shareWith } : {});
  };
  for (const n of graph.nodes) {
    if (exclude.has(n.name) || has(floatOps, n.op)) continue;
    const out = n.outputs[0];
    if (has(COMPUTE_OPS, n.op) || has(FUSABLE_OPS, n.op)) {
      for (const t of activationInputs(n, isFloatActivation)) add(t);
      if (out && isFloatActivation(out)) add(out);
    } else if (has(REMOVABLE_OPS, n.op)) {
      const input = n.inputs[0];
      if (!quantized.has(input) || !out || !isFloatActivation(out)) continue;
      // try_replacing_upstream_output: the input read only here, neither a graph output nor a graph input.
      const only = (consumers.get(input) ?? []).length === 1 && !graphOutputs.has(input) && !graphInputs.has(input);
      if (only && !options.symmetric) quantized.delete(input);
      add(out);
    } else if (has(SHARED_SCALE_OPS, n.op)) {
      const input = n.inputs[0];
      if (quantized.has(input) && out && isFloatActivation(out)) add(out, rootOf(quantized, input));
    }
  }
  // An excluded layer keeps its input activations float too (onnxruntime would still quantize a folded Relu's output).
  return [...quantized]
    .map(([tensor, q]) => site(tensor, q.shareWith, consumers, graph, floatOps))
    .filter((s) => !exclude.has(s.layer) && !(s.shareWith && exclude.has(s.shareWith)));
}

/** The tensor owning the scale that `t` uses (following chains of shared scales). */
function rootOf(quantized: Map<string, { shareWith?: string }>, t: string): string {
  return quantized.get(t)?.shareWith ?? t;
}

/** The node computing `tensor`, followed back through activation functions and shared-scale ops. */
function producerOf(tensor: string, graph: SiteGraph): string | undefined {
  let t = tensor;
  for (let hops = 0; hops < graph.nodes.length; hops++) {
    const writer = graph.nodes.find((n) => n.outputs.includes(t));
    if (!writer) return undefined;
    if (!has(REMOVABLE_OPS, writer.op) && !has(SHARED_SCALE_OPS, writer.op)) return writer.name;
    t = writer.inputs[0];
  }
  return undefined;
}

function site(
  tensor: string,
  shareWith: string | undefined,
  consumers: Map<string, SiteNode[]>,
  graph: SiteGraph,
  floatOps: readonly string[],
): ActivationSite {
  const readers = consumers.get(tensor) ?? [];
  const quantizable = (n: SiteNode): boolean =>
    !has(floatOps, n.op) && (has(COMPUTE_OPS, n.op) || has(FUSABLE_OPS, n.op) || has(SHARED_SCALE_OPS, n.op));
  const first =
    readers.find((n) => has(COMPUTE_OPS, n.op)) ??
    readers.find(quantizable) ??
    graph.nodes.find((n) => n.outputs.includes(tensor)) ??
    readers[0];
  const result: ActivationSite = {
    tensor,
    consumers: readers.map((n) => n.name),
    layer: first?.name ?? tensor,
    op: first?.op ?? '',
  };
  if (shareWith !== undefined) result.shareWith = shareWith;
  const producer = producerOf(tensor, graph);
  if (producer !== undefined) result.producer = producer;
  return result;
}
