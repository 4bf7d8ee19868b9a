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
  /** Why the tensor's description cannot be trusted (negative dims, a bad external offset, ...): listed, not read. */
  problem?: string;
}

const TYPED_FIELDS = ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData'] as const;

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Why a tensor's dims are not usable (negative, fractional, or a product beyond 2^53), or undefined. */
export function dimsProblem(dims: readonly number[]): string | undefined {
  const bad = dims.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad !== undefined) {
    return `its shape [${dims.join(', ')}] has the dimension ${bad}; dimensions must be whole numbers, at least 0`;
  }
  if (!Number.isSafeInteger(product(dims))) {
    return `its shape [${dims.join(', ')}] has more elements than can be counted`;
  }
  return undefined;
}

/** A non-negative whole number written in decimal digits (external data `offset` / `length`), or undefined. */
function byteCount(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The external data storage of a tensor, or why its location entries are not usable. */
function externalStorage(
  tensor: onnx.ITensorProto,
  dtype: number,
  elements: number,
): { storage: WeightStorage; problem?: string } {
  const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const declared = entries.get('length');
  const declaredLength = declared !== undefined && declared !== '';
  const offsetText = entries.get('offset') ?? '';
  const offset = offsetText === '' ? 0 : byteCount(offsetText);
  const length = declaredLength ? byteCount(declared) : packedByteLength(dtype, elements);
  const location = entries.get('location') ?? '';
  const problem =
    offset === undefined
      ? `its external data offset '${offsetText.slice(0, 40)}' is not a whole number of bytes`
      : length === undefined
        ? `its external data length '${(declared ?? '').slice(0, 40)}' is not a whole number of bytes`
        : undefined;
  return {
    storage: { kind: 'external', location, offset: offset ?? 0, length: length ?? 0, declaredLength },
    problem,
  };
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
  let problem = dimsProblem(dims);
  const elements = problem ? 0 : product(dims);
  let storage: WeightStorage;
  if (tensor.dataLocation === 1) {
    const external = externalStorage(tensor, dtype, elements);
    storage = external.storage;
    problem ??= external.problem;
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
  return {
    name,
    dtype,
    dims,
    elements,
    bytes: storage.length,
    origin,
    graph,
    storage,
    ...(problem ? { problem } : {}),
  };
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

/** A sparse tensor: its dense dims and the bytes of values plus indices. */
function sparseRef(ref: WeightRef, sparse: onnx.ISparseTensorProto, path: string, base: Uint8Array): WeightRef {
  const dims = (sparse.dims ?? []).map((d) => int64ToNumber(d as Int64));
  const indexBytes = sparse.indices ? tensorRef(sparse.indices, '', ref.origin, path, base).bytes : 0;
  const problem = ref.problem ?? dimsProblem(dims);
  return {
    ...ref,
    dims,
    elements: problem ? 0 : product(dims),
    bytes: ref.bytes + indexBytes,
    ...(problem ? { problem } : {}),
  };
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
      weights.push(sparseRef(ref, sparse, path, base));
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
          weights.push(sparseRef(ref, sparse, path, base));
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
