/** Finds every weight tensor of a model (initializers, Constant nodes, subgraphs) as lazy references. */
import type { onnx } from 'onnx-proto';
import { int64ToNumber, type Int64 } from './decode';
import { packedByteLength } from './dtypes';

/** Where a weight's bytes live; values are never copied while indexing. */
export type WeightStorage =
  /** `raw_data` inside the model file, at a byte range of the file. */
  | { kind: 'raw'; offset: number; length: number }
  /** Typed repeated fields (`float_data`, `int32_data`, ...) or Constant attributes (`value_floats`, ...). */
  | { kind: 'typed'; field: string; length: number }
  /** An external data file relative to the model's folder. `length` is declared or derived from the shape. */
  | { kind: 'external'; location: string; offset: number; length: number; declaredLength: boolean };

/** A weight tensor found in the model, by reference. */
export interface WeightRef {
  name: string;
  /** ONNX element type number. */
  dtype: number;
  dims: number[];
  /** Number of elements (product of dims; a scalar has one). */
  elements: number;
  /** Bytes as stored (raw, typed field packed at the dtype's width, or declared external length). */
  bytes: number;
  origin: 'initializer' | 'sparse-initializer' | 'constant';
  /** The graph holding the weight: `main`, or the path of subgraph attributes, e.g. `If_0/then_branch`. */
  graph: string;
  storage: WeightStorage;
}

const TYPED_FIELDS = ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData'] as const;

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Describes one TensorProto as a WeightRef. `base` is the byte offset of the model buffer in memory. */
export function tensorRef(
  tensor: onnx.ITensorProto,
  name: string,
  origin: WeightRef['origin'],
  graph: string,
  base: Uint8Array,
): WeightRef {
  const dtype = tensor.dataType ?? 0;
  const dims = (tensor.dims ?? []).map((d) => int64ToNumber(d as Int64));
  const elements = product(dims);
  let storage: WeightStorage;
  if (tensor.dataLocation === 1) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const declared = entries.get('length');
    const length = declared !== undefined && declared !== '' ? Number(declared) : packedByteLength(dtype, elements);
    storage = {
      kind: 'external',
      location: entries.get('location') ?? '',
      offset: Number(entries.get('offset') ?? 0),
      length,
      declaredLength: declared !== undefined && declared !== '',
    };
  } else if (tensor.rawData && tensor.rawData.length > 0) {
    storage = { kind: 'raw', offset: tensor.rawData.byteOffset - base.byteOffset, length: tensor.rawData.length };
  } else {
    const field = TYPED_FIELDS.find((f) => (tensor[f]?.length ?? 0) > 0) ?? 'none';
    const length =
      field === 'stringData'
        ? (tensor.stringData ?? []).reduce((sum, s) => sum + s.length, 0)
        : packedByteLength(dtype, elements);
    storage = { kind: 'typed', field, length };
  }
  return { name, dtype, dims, elements, bytes: storage.length, origin, graph, storage };
}

/** Weight held by a Constant node's scalar/list attribute (`value_float`, `value_ints`, ...). */
function constantAttributeRef(node: onnx.INodeProto, attr: onnx.IAttributeProto, graph: string): WeightRef | undefined {
  const name = node.output?.[0] ?? node.name ?? '';
  const make = (dtype: number, dims: number[], field: string, length: number): WeightRef => ({
    name,
    dtype,
    dims,
    elements: product(dims),
    bytes: length,
    origin: 'constant',
    graph,
    storage: { kind: 'typed', field, length },
  });
  switch (attr.name) {
    case 'value_float':
      return make(1, [], 'value_float', 4);
    case 'value_floats':
      return make(1, [attr.floats?.length ?? 0], 'value_floats', 4 * (attr.floats?.length ?? 0));
    case 'value_int':
      return make(7, [], 'value_int', 8);
    case 'value_ints':
      return make(7, [attr.ints?.length ?? 0], 'value_ints', 8 * (attr.ints?.length ?? 0));
    case 'value_string':
      return make(8, [], 'value_string', attr.s?.length ?? 0);
    case 'value_strings':
      return make(
        8,
        [attr.strings?.length ?? 0],
        'value_strings',
        (attr.strings ?? []).reduce((s, b) => s + b.length, 0),
      );
    default:
      return undefined;
  }
}

/** Visits a graph and all its subgraphs (If/Loop/Scan bodies), depth first, with each graph's path. */
export function visitGraphs(
  graph: onnx.IGraphProto,
  visit: (graph: onnx.IGraphProto, path: string) => void,
  path = 'main',
): void {
  visit(graph, path);
  for (const [index, node] of (graph.node ?? []).entries()) {
    const nodeLabel = node.name || `${node.opType ?? 'node'}_${index}`;
    for (const attr of node.attribute ?? []) {
      if (attr.g) {
        visitGraphs(attr.g, visit, `${path === 'main' ? '' : `${path}/`}${nodeLabel}/${attr.name}`);
      }
      for (const [i, sub] of (attr.graphs ?? []).entries()) {
        visitGraphs(sub, visit, `${path === 'main' ? '' : `${path}/`}${nodeLabel}/${attr.name}[${i}]`);
      }
    }
  }
}

/** Every weight tensor of the model: initializers, sparse initializers and Constant nodes, in all graphs. */
export function collectWeights(model: onnx.IModelProto, base: Uint8Array): WeightRef[] {
  const weights: WeightRef[] = [];
  if (!model.graph) {
    return weights;
  }
  visitGraphs(model.graph, (graph, path) => {
    for (const init of graph.initializer ?? []) {
      weights.push(tensorRef(init, init.name ?? '', 'initializer', path, base));
    }
    for (const sparse of graph.sparseInitializer ?? []) {
      const values = sparse.values ?? {};
      const ref = tensorRef(values, values.name ?? '', 'sparse-initializer', path, base);
      const dims = (sparse.dims ?? []).map((d) => int64ToNumber(d as Int64));
      const indexBytes = sparse.indices ? tensorRef(sparse.indices, '', 'sparse-initializer', path, base).bytes : 0;
      weights.push({ ...ref, dims, elements: product(dims), bytes: ref.bytes + indexBytes });
    }
    for (const node of graph.node ?? []) {
      if (node.opType !== 'Constant' || (node.domain ?? '') !== '') {
        continue;
      }
      for (const attr of node.attribute ?? []) {
        if (attr.name === 'value' && attr.t) {
          weights.push(tensorRef(attr.t, node.output?.[0] ?? attr.t.name ?? '', 'constant', path, base));
        } else if (attr.name === 'sparse_value' && attr.sparseTensor?.values) {
          const sparse = attr.sparseTensor;
          const ref = tensorRef(sparse.values!, node.output?.[0] ?? '', 'constant', path, base);
          const dims = (sparse.dims ?? []).map((d) => int64ToNumber(d as Int64));
          const indexBytes = sparse.indices ? tensorRef(sparse.indices, '', 'constant', path, base).bytes : 0;
          weights.push({ ...ref, dims, elements: product(dims), bytes: ref.bytes + indexBytes });
        } else {
          const ref = constantAttributeRef(node, attr, path);
          if (ref) {
            weights.push(ref);
          }
        }
      }
    }
  });
  return weights;
}
