/** The model overview: what a model is, at a glance, computed from the decoded graph without reading weights. */
import type { onnx } from 'onnx-proto';
import { int64ToNumber, type Int64 } from './decode';
import { dtypeInfo } from './dtypes';
import { collectWeights, visitGraphs, type WeightRef } from './weights';

/** One dimension of a shape: a number, a symbolic name, or null when unknown. */
export type Dim = number | string | null;

/** A graph input or output. `shape` is null when the rank is unknown. */
export interface ValueInfo {
  name: string;
  /** Element type name for tensors; a readable type for sequences, maps and optionals. */
  dtype: string;
  shape: Dim[] | null;
}

/** How many nodes of one operator the model has (all graphs). */
export interface OpCount {
  opType: string;
  /** Operator domain; '' is the default ai.onnx domain. */
  domain: string;
  count: number;
}

/** Weights of one stored dtype. */
export interface DtypeTotal {
  dtype: string;
  tensors: number;
  parameters: number;
  bytes: number;
}

/** An external data file the model refers to, with the bytes its tensors declare. */
export interface ExternalFileRef {
  location: string;
  tensors: number;
  /** Declared bytes of all tensors stored in this file. */
  bytes: number;
  /** Smallest file size that holds every declared range (max offset + length). */
  requiredSize: number;
  /** The first tensor stored in this file, to name in error messages. */
  firstTensor: string;
}

/** Weights not analysed under the schemes, grouped by reason. */
export interface NotAnalysed {
  reason: string;
  weights: number;
  parameters: number;
  /** Percent of all the model's parameters. */
  percent: number;
}

/** The model overview shown first in the inspector and by `quantlens inspect`. */
export interface ModelOverview {
  fileSize: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  irVersion: number;
  opsets: { domain: string; version: number }[];
  graphName: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodeCount: number;
  /** Number of subgraphs (If/Loop/Scan bodies), not counting the main graph. */
  subgraphCount: number;
  /** Sorted by count (descending), then op type. */
  opCounts: OpCount[];
  weightCount: number;
  parameterCount: number;
  weightBytes: number;
  /** Sorted by bytes (descending), then dtype name. */
  byDtype: DtypeTotal[];
  metadata: { key: string; value: string }[];
  externalFiles: ExternalFileRef[];
  /** Weights not analysed, grouped by reason, most parameters first (set once the weights are planned). */
  notAnalysed?: NotAnalysed[];
}

function typeName(type: onnx.ITypeProto | null | undefined): { dtype: string; shape: Dim[] | null } {
  if (!type) {
    return { dtype: 'unknown', shape: null };
  }
  const tensor = type.tensorType ?? type.sparseTensorType;
  if (tensor) {
    const shape = tensor.shape
      ? (tensor.shape.dim ?? []).map((d): Dim => {
          if (d.dimParam) {
            return d.dimParam;
          }
          return d.dimValue !== undefined && d.dimValue !== null ? int64ToNumber(d.dimValue as Int64) : null;
        })
      : null;
    const dtype = dtypeInfo(tensor.elemType ?? 0).name;
    return { dtype: type.sparseTensorType ? `sparse ${dtype}` : dtype, shape };
  }
  if (type.sequenceType) {
    return { dtype: `sequence<${typeName(type.sequenceType.elemType).dtype}>`, shape: null };
  }
  if (type.mapType) {
    const key = dtypeInfo(type.mapType.keyType ?? 0).name;
    return { dtype: `map<${key}, ${typeName(type.mapType.valueType).dtype}>`, shape: null };
  }
  if (type.optionalType) {
    return { dtype: `optional<${typeName(type.optionalType.elemType).dtype}>`, shape: null };
  }
  return { dtype: 'unknown', shape: null };
}

function valueInfo(v: onnx.IValueInfoProto): ValueInfo {
  return { name: v.name ?? '', ...typeName(v.type) };
}

/** Totals weights by stored dtype, largest first. */
export function totalsByDtype(weights: readonly WeightRef[]): DtypeTotal[] {
  const totals = new Map<string, DtypeTotal>();
  for (const w of weights) {
    const dtype = dtypeInfo(w.dtype).name;
    const t = totals.get(dtype) ?? { dtype, tensors: 0, parameters: 0, bytes: 0 };
    t.tensors += 1;
    t.parameters += w.elements;
    t.bytes += w.bytes;
    totals.set(dtype, t);
  }
  return [...totals.values()].sort((a, b) => b.bytes - a.bytes || a.dtype.localeCompare(b.dtype));
}

/** Groups external data references by file. */
export function externalFiles(weights: readonly WeightRef[]): ExternalFileRef[] {
  const files = new Map<string, ExternalFileRef>();
  for (const w of weights) {
    if (w.storage.kind !== 'external') {
      continue;
    }
    const { location, offset, length } = w.storage;
    const f = files.get(location) ?? { location, tensors: 0, bytes: 0, requiredSize: 0, firstTensor: w.name };
    f.tensors += 1;
    f.bytes += length;
    f.requiredSize = Math.max(f.requiredSize, offset + length);
    files.set(location, f);
  }
  return [...files.values()];
}

/** Builds the overview of a decoded model. `bytes` is the buffer it was decoded from. */
export function buildOverview(
  model: onnx.IModelProto,
  bytes: Uint8Array,
  weights = collectWeights(model, bytes),
): ModelOverview {
  const graph = model.graph ?? {};
  const ops = new Map<string, OpCount>();
  let nodeCount = 0;
  let graphCount = 0;
  visitGraphs(graph, (g) => {
    graphCount += 1;
    for (const node of g.node ?? []) {
      nodeCount += 1;
      const domain = node.domain === 'ai.onnx' ? '' : (node.domain ?? '');
      const opType = node.opType ?? '';
      const key = `${domain}::${opType}`;
      const entry = ops.get(key) ?? { opType, domain, count: 0 };
      entry.count += 1;
      ops.set(key, entry);
    }
  });
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return {
    fileSize: bytes.length,
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    domain: model.domain ?? '',
    modelVersion: int64ToNumber(model.modelVersion as Int64),
    docString: model.docString ?? '',
    irVersion: int64ToNumber(model.irVersion as Int64),
    opsets: (model.opsetImport ?? []).map((o) => ({
      domain: o.domain === 'ai.onnx' ? '' : (o.domain ?? ''),
      version: int64ToNumber(o.version as Int64),
    })),
    graphName: graph.name ?? '',
    inputs: (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
    nodeCount,
    subgraphCount: graphCount - 1,
    opCounts: [...ops.values()].sort(
      (a, b) => b.count - a.count || a.opType.localeCompare(b.opType) || a.domain.localeCompare(b.domain),
    ),
    weightCount: weights.length,
    parameterCount: weights.reduce((s, w) => s + w.elements, 0),
    weightBytes: weights.reduce((s, w) => s + w.bytes, 0),
    byDtype: totalsByDtype(weights),
    metadata: (model.metadataProps ?? []).map((p) => ({ key: p.key ?? '', value: p.value ?? '' })),
    externalFiles: externalFiles(weights),
  };
}
