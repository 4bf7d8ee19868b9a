/**
 * The nodes and tensor names each exported weight adds to the main graph: DequantizeLinear (and a Reshape when
 * the stored tensor is the 2-D layout), a Cast, a MatMulNBits replacing its MatMul, or a GatherBlockQuantized
 * replacing an embedding's Gather. Names never collide
 * with the model's own.
 */
import { onnx } from 'onnx-proto';
import { DType } from '../onnx/dtypes';
import type { ExportPlan, WeightDecision } from './exportPlan';

/** Tensor names of one exported weight's stored tensors. */
export interface WeightNames {
  values: string;
  scale: string;
  zeroPoint: string;
  shape: string;
}

/** What one weight adds and removes. */
export interface WeightEdit {
  decision: WeightDecision;
  names: WeightNames;
  /** Nodes placed before the graph's first node (their inputs are all initializers). */
  nodes: onnx.INodeProto[];
  /** The MatMulNBits node replacing the MatMul at `index` of the main graph. */
  replace?: { index: number; node: onnx.INodeProto };
  /** The Reshape's target shape (int64), when the stored tensor is the 2-D layout. */
  shape?: number[];
}

const INT = 2;

/** An integer attribute. */
const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: INT, i });

/** Names not yet used in the main graph, made from a base name. */
export class NameSource {
  private readonly used: Set<string>;
  constructor(names: Iterable<string>) {
    this.used = new Set(names);
  }

  /** `base`, or `base_2`, `base_3`... when taken. */
  take(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Every name of the main graph: tensors (inputs, outputs, initializers, node outputs) and nodes. */
export function mainGraphNames(model: onnx.IModelProto): string[] {
  const g = model.graph ?? {};
  return [
    ...(g.input ?? []).map((v) => v.name ?? ''),
    ...(g.output ?? []).map((v) => v.name ?? ''),
    ...(g.valueInfo ?? []).map((v) => v.name ?? ''),
    ...(g.initializer ?? []).map((t) => t.name ?? ''),
    ...(g.node ?? []).flatMap((n) => [n.name ?? '', ...(n.output ?? [])]),
  ];
}

/** The DequantizeLinear (+ Reshape) nodes of a weight. */
function dqNodes(
  d: WeightDecision,
  names: WeightNames,
  take: (b: string) => string,
): Pick<WeightEdit, 'nodes' | 'shape'> {
  const f = d.format;
  if (f.kind !== 'dq') return { nodes: [] };
  const w = d.weight;
  const reshape = !!f.reshape || f.storedDims.length !== w.dims.length || f.storedDims.some((x, i) => x !== w.dims[i]);
  const output = reshape ? take(`${w.name}_dequantized`) : w.name;
  const attribute: onnx.IAttributeProto[] = [];
  if (f.granularity !== 'tensor') attribute.push(intAttr('axis', f.axis ?? 0));
  if (f.granularity === 'block') attribute.push(intAttr('block_size', f.blockSize ?? 0));
  const inputs = [names.values, names.scale, ...(f.asymmetric ? [names.zeroPoint] : [])];
  const nodes: onnx.INodeProto[] = [
    {
      name: take(`${w.name}/DequantizeLinear`),
      opType: 'DequantizeLinear',
      input: inputs,
      output: [output],
      attribute,
    },
  ];
  if (!reshape) return { nodes };
  nodes.push({ name: take(`${w.name}/Reshape`), opType: 'Reshape', input: [output, names.shape], output: [w.name] });
  return { nodes, shape: w.dims };
}

/** The edit of one weight (names taken from `names`). */
export function weightEdit(d: WeightDecision, plan: ExportPlan, source: NameSource): WeightEdit {
  const take = (b: string): string => source.take(b);
  const w = d.weight;
  const f = d.format;
  const names: WeightNames = {
    values: take(`${w.name}_quantized`),
    scale: f.kind === 'cast' ? '' : take(`${w.name}_scale`),
    zeroPoint: (f.kind === 'dq' || f.kind === 'nbits') && f.asymmetric ? take(`${w.name}_zero_point`) : '',
    shape: '',
  };
  if (f.kind === 'cast') {
    const cast = {
      name: take(`${w.name}/Cast`),
      opType: 'Cast',
      input: [names.values],
      output: [w.name],
      attribute: [intAttr('to', DType.float32)],
    };
    return { decision: d, names, nodes: [cast] };
  }
  if (f.kind === 'nbits') {
    const m = f.node;
    const node: onnx.INodeProto = {
      name: m.node,
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      input: [m.inputs[0], names.values, names.scale, ...(f.asymmetric ? [names.zeroPoint] : [])],
      output: m.outputs,
      attribute: [
        intAttr('K', f.K),
        intAttr('N', f.N),
        intAttr('bits', 4),
        intAttr('block_size', f.blockSize),
        intAttr('accuracy_level', plan.accuracyLevel),
      ],
    };
    return { decision: d, names, nodes: [], replace: { index: m.index ?? -1, node } };
  }
  if (f.kind === 'dq' && f.gather) {
    const g = f.gather;
    const node: onnx.INodeProto = {
      name: g.node,
      opType: 'GatherBlockQuantized',
      domain: 'com.microsoft',
      input: [names.values, g.inputs[1], names.scale, ...(f.asymmetric ? [names.zeroPoint] : [])],
      output: g.outputs,
      attribute: [
        intAttr('gather_axis', 0),
        intAttr('quantize_axis', 1),
        intAttr('block_size', f.blockSize ?? 0),
        intAttr('bits', 4),
      ],
    };
    return { decision: d, names, nodes: [], replace: { index: g.index ?? -1, node } };
  }
  const { nodes, shape } = dqNodes(d, names, take);
  if (shape) names.shape = take(`${w.name}_shape`);
  if (shape) nodes[1].input = [nodes[0].output![0], names.shape];
  return { decision: d, names, nodes, shape };
}

/** The bytes of a node. */
export const nodeBytes = (node: onnx.INodeProto): Uint8Array => onnx.NodeProto.encode(node).finish();
