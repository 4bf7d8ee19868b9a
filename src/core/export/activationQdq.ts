/**
 * Static activation quantization in onnxruntime's QDQ format: a QuantizeLinear -> DequantizeLinear pair on every
 * calibrated activation (scale and zero point as scalar initializers), the consumers reading the dequantized
 * tensor, so that onnxruntime fuses DQ -> Conv/Gemm/MatMul -> Q into QLinearConv / QGemm / QLinearMatMul.
 * Following onnxruntime's quantizer (python/tools/quantization: registry.py, operators/activation.py,
 * base_quantizer.py): a Relu or Clip whose input feeds only it is removed (QDQRemovableActivation) when that changes
 * no integer: QuantizeLinear of its output's parameters saturates at its bounds anyway (Q(min) = qmin, Q(max) =
 * qmax; a Relu's min is 0), the check onnxruntime's ClipQuantFusion (core/optimizer/qdq_transformer/
 * clip_quantizelinear.cc) makes before removing a Clip in front of a QuantizeLinear; and the float bias
 * of a Conv/Gemm whose input activation and weight are quantized becomes int32 with scale input_scale *
 * weight_scale (DequantizeLinear, axis 0), which the fused kernels need.
 */
import type { onnx } from 'onnx-proto';
import { DType } from '../onnx/dtypes';
import { quantizeValue } from '../quant/activationQuant';
import { roundHalfEven } from '../quant/rounding';
import type { StoredTensor } from './encodeWeight';
import type { NameSource } from './exportNodes';

/** One activation's calibrated parameters (the engine's ActivationQuant carries these fields). */
export interface ActivationQdqParams {
  tensor: string;
  scale: number;
  zeroPoint: number;
  type: 'uint8' | 'int8' | 'uint16' | 'int16';
  /** Nodes that read the quantized tensor (default: every consumer); the others keep reading it float. */
  consumers?: readonly string[];
}

/** The main graph as the rewrite sees it (nodes in file order; weight replacements such as MatMulNBits applied). */
export interface QdqGraph {
  nodes: readonly onnx.INodeProto[];
  inputs: readonly string[];
  outputs: readonly string[];
  initializers: ReadonlySet<string>;
  /** Weights the export stores int8 + DequantizeLinear (bias quantization needs their scales). */
  dqWeights: ReadonlySet<string>;
  /** Values of scalar float initializers (a Clip's min and max). */
  constants?: ReadonlyMap<string, number>;
}

/** A float bias to store as int32: the node layer computes it with quantizeBias from the weight's scales. */
export interface BiasRequest {
  node: string;
  bias: string;
  weight: string;
  inputScale: number;
  values: string;
  scale: string;
}

/** What the activation QDQ adds, changes and removes in the main graph. */
export interface ActivationRewrite {
  /** Nodes inserted before the node at an index (index = nodes.length: after the last). */
  before: Map<number, onnx.INodeProto[]>;
  /** The node at an index replaced (inputs renamed), or removed (null: a Relu / Clip folded into its output's range). */
  nodes: Map<number, onnx.INodeProto | null>;
  /** Scalar scales and zero points (biases are added by the node layer). */
  tensors: { name: string; tensor: StoredTensor }[];
  biases: BiasRequest[];
  /** Float initializers no longer used (the biases stored as int32). */
  removedInitializers: Set<string>;
  /** Bound initializers of removed Clips (dropped when nothing else reads them). */
  clipBounds: Set<string>;
  /** Relu and Clip nodes removed (folded into their output's range). */
  removedRelus: string[];
  /** Tensors that no longer exist (a folded Relu's input): their value_info entries go. */
  goneTensors: Set<string>;
  /** Whether 16-bit activations below opset 21 need com.microsoft's QuantizeLinear / DequantizeLinear. */
  microsoft: boolean;
}

const ELEMENT: Record<ActivationQdqParams['type'], number> = {
  uint8: DType.uint8,
  int8: DType.int8,
  uint16: DType.uint16,
  int16: DType.int16,
};
const LOWEST: Record<ActivationQdqParams['type'], number> = { uint8: 0, int8: -128, uint16: 0, int16: -32768 };
const HIGHEST: Record<ActivationQdqParams['type'], number> = { uint8: 255, int8: 127, uint16: 65535, int16: 32767 };
/** Ops whose bias becomes int32 when their input activation and weight are quantized. */
export const BIASED_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/** A scalar initializer's stored form. */
function scalar(dtype: number, value: number): StoredTensor {
  const view = new DataView(
    new ArrayBuffer(dtype === DType.float32 ? 4 : dtype === DType.uint8 || dtype === DType.int8 ? 1 : 2),
  );
  if (dtype === DType.float32) view.setFloat32(0, value, true);
  else if (dtype === DType.uint8) view.setUint8(0, value);
  else if (dtype === DType.int8) view.setInt8(0, value);
  else if (dtype === DType.uint16) view.setUint16(0, value, true);
  else view.setInt16(0, value, true);
  return { dtype, dims: [], bytes: new Uint8Array(view.buffer) };
}

/** Consumers (node indices) of every tensor. */
function consumerIndex(nodes: readonly onnx.INodeProto[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const t of n.input ?? []) if (t) out.set(t, [...(out.get(t) ?? []), i]);
  });
  return out;
}

/** A Clip's bounds: attributes before opset 11, else scalar float initializers (undefined: not constant). */
function clipBounds(n: onnx.INodeProto, graph: QdqGraph): { min: number; max: number } | undefined {
  const attr = (name: string): number | undefined => {
    const a = (n.attribute ?? []).find((x) => x.name === name);
    return a ? Number(a.f ?? 0) : undefined;
  };
  const bound = (slot: number, attribute: string, absent: number): number | undefined => {
    const name = n.input?.[slot] ?? '';
    if (name) return graph.constants?.get(name);
    return attr(attribute) ?? absent;
  };
  const min = bound(1, 'min', -Infinity);
  const max = bound(2, 'max', Infinity);
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** Whether QuantizeLinear with `q` gives the same integers with or without clipping to [min, max] first. */
export function clipIsNoOp(q: Pick<ActivationQdqParams, 'scale' | 'zeroPoint' | 'type'>, min: number, max: number) {
  const [qmin, qmax] = [LOWEST[q.type], HIGHEST[q.type]];
  const scale = Math.fround(q.scale);
  const at = (x: number): number => quantizeValue(Math.fround(x), scale, q.zeroPoint, qmin, qmax);
  return (min === -Infinity || at(min) === qmin) && (max === Infinity || at(max) === qmax);
}

/**
 * Relus and Clips onnxruntime removes: input produced by a node, read only by it, not a graph output, its output
 * quantized, and removing it changes no integer (clipIsNoOp; a Relu is a Clip to [0, inf)).
 */
function foldableRelus(graph: QdqGraph, byTensor: Map<string, ActivationQdqParams>): Map<number, number> {
  const consumers = consumerIndex(graph.nodes);
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => (n.output ?? []).forEach((t) => producer.set(t, i)));
  const folds = new Map<number, number>(); // Relu / Clip index -> producer index
  graph.nodes.forEach((n, i) => {
    if ((n.opType !== 'Relu' && n.opType !== 'Clip') || (n.domain ?? '') !== '') return;
    const input = n.input?.[0] ?? '';
    const output = n.output?.[0] ?? '';
    const q = byTensor.get(output);
    const from = producer.get(input);
    if (!q || from === undefined || byTensor.has(input)) return;
    const bounds = n.opType === 'Relu' ? { min: 0, max: Infinity } : clipBounds(n, graph);
    if (!bounds || !clipIsNoOp(q, bounds.min, bounds.max)) return;
    // Folded, the producer writes the Relu's output: every reader of it must read the quantized tensor.
    const readers = (consumers.get(output) ?? []).map((r) => graph.nodes[r].name ?? '');
    if (q.consumers && readers.some((r) => !q.consumers!.includes(r))) return;
    if (graph.outputs.includes(input) || (consumers.get(input) ?? []).length !== 1) return;
    folds.set(i, from);
  });
  return folds;
}

/** A node being rewritten (renames accumulate on these copies). */
type WorkNode = onnx.INodeProto & { input: string[]; output: string[] };

/** State shared by the steps of one rewrite. */
interface Rewriting {
  graph: QdqGraph;
  work: WorkNode[];
  touched: Set<number>;
  out: ActivationRewrite;
  names: NameSource;
  consumers: Map<string, number[]>;
  producer: Map<string, number>;
  dequantized: Map<string, string>;
  opset: number;
}

/** Removes the foldable Relus: their producer writes the Relu's output. */
function foldRelus(r: Pick<Rewriting, 'graph' | 'work' | 'touched' | 'out'>, folds: Map<number, number>): void {
  for (const [relu, from] of folds) {
    const producerOutputs = r.work[from].output;
    producerOutputs[producerOutputs.indexOf(r.work[relu].input[0])] = r.work[relu].output[0];
    r.out.goneTensors.add(r.work[relu].input[0]);
    r.touched.add(from);
    r.out.nodes.set(relu, null);
    const node = r.graph.nodes[relu];
    r.out.removedRelus.push(node.name || `${node.opType}_${relu}`);
    for (const bound of (node.input ?? []).slice(1))
      if (bound && r.graph.initializers.has(bound)) r.out.clipBounds.add(bound);
  }
}

/** Renames `from` to `to` in the inputs of the nodes at `indices`. */
function renameInputs(r: Rewriting, indices: readonly number[], from: string, to: string): void {
  for (const i of indices) {
    r.work[i].input = r.work[i].input.map((t) => (t === from ? to : t));
    r.touched.add(i);
  }
}

/** The Q -> DQ pair of one activation, its initializers, and its readers rewired. */
function addPair(r: Rewriting, p: ActivationQdqParams): void {
  const { names, out, producer } = r;
  if (!producer.has(p.tensor) && !r.graph.inputs.includes(p.tensor)) {
    throw new Error(`The activation '${p.tensor}' is not a tensor of the main graph.`);
  }
  const contrib = (p.type === 'uint16' || p.type === 'int16') && r.opset < 21;
  out.microsoft ||= contrib;
  const domain = contrib ? { domain: 'com.microsoft' } : {};
  const scale = names.take(`${p.tensor}_scale`);
  const zeroPoint = names.take(`${p.tensor}_zero_point`);
  out.tensors.push({ name: scale, tensor: scalar(DType.float32, Math.fround(p.scale)) });
  out.tensors.push({ name: zeroPoint, tensor: scalar(ELEMENT[p.type], p.zeroPoint) });
  const all = r.consumers.get(p.tensor) ?? [];
  const readers = all.filter((i) => !p.consumers || p.consumers.includes(r.work[i].name ?? ''));
  const isOutput = r.graph.outputs.includes(p.tensor) && producer.has(p.tensor);
  let source = p.tensor;
  let target = p.tensor;
  if (isOutput) {
    // The graph output keeps its name, now the DequantizeLinear's; the producer writes a new name.
    const from = producer.get(p.tensor)!;
    source = names.take(`${p.tensor}_QuantizeLinear_Input`);
    r.work[from].output = r.work[from].output.map((t) => (t === p.tensor ? source : t));
    r.touched.add(from);
    renameInputs(
      r,
      all.filter((i) => !readers.includes(i)),
      p.tensor,
      source,
    );
  } else {
    target = names.take(`${p.tensor}_DequantizeLinear_Output`);
    renameInputs(r, readers, p.tensor, target);
  }
  r.dequantized.set(p.tensor, target);
  const quantized = names.take(`${p.tensor}_QuantizeLinear_Output`);
  const pair: onnx.INodeProto[] = [
    {
      name: names.take(`${p.tensor}_QuantizeLinear`),
      opType: 'QuantizeLinear',
      input: [source, scale, zeroPoint],
      output: [quantized],
      ...domain,
    },
    {
      name: names.take(`${p.tensor}_DequantizeLinear`),
      opType: 'DequantizeLinear',
      input: [quantized, scale, zeroPoint],
      output: [target],
      ...domain,
    },
  ];
  // Right before the first reader (after the producer for a graph output), so the order stays topological.
  const at = isOutput ? producer.get(p.tensor)! + 1 : readers.length ? Math.min(...readers) : r.work.length;
  out.before.set(at, [...(out.before.get(at) ?? []), ...pair]);
}

/** Plans the QDQ rewrite of `graph` for the calibrated activations `params` (names taken from `names`). */
export function activationRewrite(
  graph: QdqGraph,
  params: readonly ActivationQdqParams[],
  names: NameSource,
  opset: number,
): ActivationRewrite {
  const byTensor = new Map(params.map((p) => [p.tensor, p]));
  const out: ActivationRewrite = {
    before: new Map(),
    nodes: new Map(),
    tensors: [],
    biases: [],
    removedInitializers: new Set(),
    clipBounds: new Set(),
    removedRelus: [],
    goneTensors: new Set(),
    microsoft: false,
  };
  const work = graph.nodes.map((n) => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])] }));
  const touched = new Set<number>();
  foldRelus({ graph, work, touched, out }, foldableRelus(graph, byTensor));
  const live = (i: number): boolean => out.nodes.get(i) !== null;
  const consumers = consumerIndex(work.map((n, i) => (live(i) ? n : { input: [] })));
  const producer = new Map<string, number>();
  work.forEach((n, i) => n.output.forEach((t) => producer.set(t, i)));
  const r: Rewriting = { graph, work, touched, out, names, consumers, producer, dequantized: new Map(), opset };
  for (const p of params) addPair(r, p);
  for (const t of out.clipBounds) if (!consumers.has(t)) out.removedInitializers.add(t);
  planBiases(graph, work, byTensor, r.dequantized, names, out, touched);
  for (const i of touched) if (live(i)) out.nodes.set(i, work[i]);
  return out;
}

/** Int32 biases for Conv/Gemm nodes whose input activation and weight are both quantized. */
function planBiases(
  graph: QdqGraph,
  work: readonly { name?: string | null; opType?: string | null; input: string[] }[],
  byTensor: Map<string, ActivationQdqParams>,
  dequantized: Map<string, string>,
  names: NameSource,
  out: ActivationRewrite,
  touched: Set<number>,
): void {
  const uses = consumerIndex(graph.nodes);
  work.forEach((n, i) => {
    if (!BIASED_OPS.has(n.opType ?? '') || n.input.length < 3) return;
    const original = graph.nodes[i].input ?? [];
    const input = byTensor.get(original[0] ?? '');
    const [weight, bias] = [original[1] ?? '', original[2] ?? ''];
    if (!input || dequantized.get(input.tensor) !== n.input[0] || !graph.dqWeights.has(weight)) return;
    if (!graph.initializers.has(bias) || graph.inputs.includes(bias) || (uses.get(bias) ?? []).length !== 1) return;
    const request: BiasRequest = {
      node: n.name ?? '',
      bias,
      weight,
      inputScale: Math.fround(input.scale),
      values: names.take(`${bias}_quantized`),
      scale: names.take(`${bias}_quantized_scale`),
    };
    out.biases.push(request);
    out.removedInitializers.add(bias);
    const dq: onnx.INodeProto = {
      name: names.take(`${bias}/DequantizeLinear`),
      opType: 'DequantizeLinear',
      input: [request.values, request.scale],
      output: [bias],
      attribute: [{ name: 'axis', type: 2, i: 0 }],
    };
    out.before.set(0, [...(out.before.get(0) ?? []), dq]);
    touched.add(i);
  });
}

/**
 * A bias as onnxruntime's quantizer stores it: scale = float32(input_scale * weight_scale[c]), values
 * round_half_even(bias / scale) (float64 division) saturated to int32. `weightScales` has one value per
 * channel, or one for the whole tensor.
 */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { values: StoredTensor; scale: StoredTensor } {
  const n = bias.length;
  if (weightScales.length !== 1 && weightScales.length !== n) {
    throw new Error(`a bias of ${n} values cannot take ${weightScales.length} weight scales`);
  }
  const scales = new Float32Array(n);
  const ints = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    const s = Math.fround(Math.fround(inputScale) * weightScales[weightScales.length === 1 ? 0 : c]);
    scales[c] = s;
    const q = s === 0 ? 0 : roundHalfEven(bias[c] / s);
    ints[c] = Math.max(-2147483648, Math.min(2147483647, Number.isFinite(q) ? q : Math.sign(q) * 2147483647));
  }
  return {
    values: { dtype: DType.int32, dims: [n], bytes: new Uint8Array(ints.buffer) },
    scale: { dtype: DType.float32, dims: [n], bytes: new Uint8Array(scales.buffer) },
  };
}

/**
 * The float bias a Conv/Gemm computes with once the export stores it as int32: DequantizeLinear of quantizeBias's
 * integers, float32(float32(q) * scale) per channel (what the simulation feeds, so that it matches the export).
 */
export function dequantizedBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): Float32Array {
  const { values, scale } = quantizeBias(bias, inputScale, weightScales);
  const ints = new Int32Array(values.bytes.slice().buffer);
  const scales = new Float32Array(scale.bytes.slice().buffer);
  return Float32Array.from(ints, (q, c) => Math.fround(Math.fround(q) * scales[c]));
}
