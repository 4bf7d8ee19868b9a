/**
 * The exported model as a stream of pieces: the source model's bytes copied field by field (unknown and newer
 * fields included), only the changed fields replaced (ir_version, opset_import, the exported weights'
 * initializers and graph inputs, MatMuls turned MatMulNBits) and the new ones added (metadata_props first, so a
 * short read finds the marker; new nodes before the first node; new initializers last). The graph's length is
 * known only at its end: a padded placeholder the writer patches.
 */
import { onnx } from 'onnx-proto';
import { DType } from '../onnx/dtypes';
import type { ActivationRewrite } from './activationQdq';
import type { EncodedWeight, StoredTensor } from './encodeWeight';
import { nodeBytes, type WeightEdit } from './exportNodes';
import type { ExportPlan } from './exportPlan';
import {
  concat,
  fieldHeader,
  lengthField,
  scanFields,
  stringField,
  varint,
  varintField,
  varintFieldBytes,
  type WireField,
} from './wire';

/** A piece of the output. */
export type Piece =
  | { kind: 'bytes'; data: Uint8Array }
  /** 5 bytes to patch with the length of what follows, up to the matching `end`. */
  | { kind: 'length' }
  | { kind: 'end' }
  /** Bytes for the external data file (the model refers to them by offset). */
  | { kind: 'external'; data: Uint8Array }
  /** The writer passes back (to `next`) this weight's encoded tensors: values are read and encoded one weight at a time. */
  | { kind: 'encode'; edit: WeightEdit };

/** The rewrite's generator: pieces out, an EncodedWeight in after each `encode` piece. */
export type Pieces = Generator<Piece, void, EncodedWeight | undefined>;

/** What the rewrite needs. */
export interface RewriteInput {
  /** The source model's bytes. */
  bytes: Uint8Array;
  plan: ExportPlan;
  edits: readonly WeightEdit[];
  /** metadata_props to add (existing keys starting with `quantlens.` are replaced). */
  metadata: readonly [string, string][];
  /** Set: new tensors' data go to this external data file (location relative to the model). */
  externalLocation?: string;
  /** Activations quantized (QDQ pairs, renamed consumers, folded Relus, int32 biases with their tensors). */
  activation?: ActivationRewrite;
}

const MODEL = { irVersion: 1, graph: 7, opsetImport: 8, metadata: 14 } as const;
const GRAPH = { node: 1, initializer: 5, input: 11, valueInfo: 13 } as const;
const bytesPiece = (data: Uint8Array): Piece => ({ kind: 'bytes', data });

/** A StringStringEntryProto. */
function entry(key: string, value: string): Uint8Array {
  const utf8 = new TextEncoder();
  return concat([lengthField(1, utf8.encode(key)), lengthField(2, utf8.encode(value))]);
}

/** The opset_import entries, raised or added as the plan needs. */
function* opsetPieces(bytes: Uint8Array, fields: readonly WireField[], plan: ExportPlan): Generator<Piece> {
  let microsoft = false;
  for (const f of fields) {
    const domain = stringField(bytes, f, 1) ?? '';
    const version = varintField(bytes, f, 2) ?? 0;
    if (domain === 'com.microsoft') microsoft = true;
    if ((domain === '' || domain === 'ai.onnx') && version < plan.opset) {
      const raised = concat([
        ...(domain ? [lengthField(1, new TextEncoder().encode(domain))] : []),
        varintFieldBytes(2, plan.opset),
      ]);
      yield bytesPiece(lengthField(MODEL.opsetImport, raised));
    } else {
      yield bytesPiece(bytes.subarray(f.start, f.end));
    }
  }
  if (plan.microsoft && !microsoft) {
    const ms = concat([lengthField(1, new TextEncoder().encode('com.microsoft')), varintFieldBytes(2, 1)]);
    yield bytesPiece(lengthField(MODEL.opsetImport, ms));
  }
}

/** Rewrites the model: yields its pieces in order. */
export function* rewriteModel(input: RewriteInput): Pieces {
  const { bytes, plan, metadata } = input;
  const fields = scanFields(bytes);
  for (const [key, value] of metadata) yield bytesPiece(lengthField(MODEL.metadata, entry(key, value)));
  const opsets = fields.filter((f) => f.field === MODEL.opsetImport);
  for (const f of fields) {
    if (f.field === MODEL.irVersion && f.wire === 0) {
      yield bytesPiece(varintFieldBytes(MODEL.irVersion, plan.irVersion));
    } else if (f.field === MODEL.opsetImport) {
      if (f === opsets[0]) yield* opsetPieces(bytes, opsets, plan);
    } else if (f.field === MODEL.metadata && (stringField(bytes, f, 1) ?? '').startsWith('quantlens.')) {
      continue;
    } else if (f.field === MODEL.graph) {
      yield bytesPiece(varint(MODEL.graph * 8 + 2)); // the tag; the length is patched in
      yield { kind: 'length' };
      yield* graphPieces(input, f);
      yield { kind: 'end' };
    } else {
      yield bytesPiece(bytes.subarray(f.start, f.end));
    }
  }
}

/** The main graph, field by field. */
function* graphPieces(input: RewriteInput, graph: WireField): Pieces {
  const { bytes, edits, activation } = input;
  const removed = new Set([...edits.map((e) => e.decision.weight.name), ...(activation?.removedInitializers ?? [])]);
  const gone = new Set([
    ...edits.filter((e) => e.replace).map((e) => e.decision.weight.name),
    ...(activation?.goneTensors ?? []),
  ]);
  const replaced = new Map(edits.filter((e) => e.replace).map((e) => [e.replace!.index, e.replace!.node]));
  const added = edits.flatMap((e) => e.nodes);
  const nodePiece = (n: onnx.INodeProto): Piece => bytesPiece(lengthField(GRAPH.node, nodeBytes(n)));
  let nodeIndex = 0;
  const fields = scanFields(bytes, graph.valueStart, graph.end);
  for (const f of fields) {
    const copy = bytes.subarray(f.start, f.end);
    if (f.field === GRAPH.node) {
      if (nodeIndex === 0) for (const n of added) yield nodePiece(n);
      for (const n of activation?.before.get(nodeIndex) ?? []) yield nodePiece(n);
      const changed = activation?.nodes.get(nodeIndex);
      const replacement = replaced.get(nodeIndex++);
      if (changed === null) continue;
      yield changed ? nodePiece(changed) : replacement ? nodePiece(replacement) : bytesPiece(copy);
    } else if (f.field === GRAPH.initializer) {
      if (!removed.has(stringField(bytes, f, 8) ?? '')) yield bytesPiece(copy);
    } else if (f.field === GRAPH.input) {
      if (!removed.has(stringField(bytes, f, 1) ?? '')) yield bytesPiece(copy);
    } else if (f.field === GRAPH.valueInfo) {
      if (!gone.has(stringField(bytes, f, 1) ?? '')) yield bytesPiece(copy);
    } else {
      yield bytesPiece(copy);
    }
  }
  if (nodeIndex === 0) for (const n of added) yield nodePiece(n);
  for (const n of activation?.before.get(nodeIndex) ?? []) yield nodePiece(n);
  yield* initializerPieces(input);
  for (const t of activation?.tensors ?? []) yield* inlineTensor(t.name, t.tensor);
}

/** The new initializers, one weight at a time (its encoding released before the next is made). */
function* initializerPieces(input: RewriteInput): Pieces {
  const external = { offset: 0 };
  for (const edit of input.edits) {
    const encoded = yield { kind: 'encode', edit };
    if (!encoded) throw new Error(`no tensors were given for ${edit.decision.weight.name}`);
    const tensors: [string, StoredTensor | undefined][] = [
      [edit.names.values, encoded.values],
      [edit.names.scale, encoded.scale],
      [edit.names.zeroPoint, encoded.zeroPoint],
    ];
    if (edit.shape) {
      const shape = {
        dtype: DType.int64,
        dims: [edit.shape.length],
        bytes: new Uint8Array(BigInt64Array.from(edit.shape.map(BigInt)).buffer),
      };
      tensors.push([edit.names.shape, shape]);
    }
    for (const [name, t] of tensors) {
      if (!t || !name) continue;
      // Small tensors (scales, shapes) stay in the model; the weights' data goes external when asked.
      if (input.externalLocation && t.bytes.length >= 1024) {
        yield* externalTensor(name, t, input.externalLocation, external);
      } else {
        yield* inlineTensor(name, t);
      }
    }
  }
}

/** A TensorProto with its values in raw_data. */
function* inlineTensor(name: string, t: StoredTensor): Generator<Piece> {
  const header = onnx.TensorProto.encode({ name, dataType: t.dtype, dims: t.dims }).finish();
  const raw = fieldHeader(9, t.bytes.length);
  yield bytesPiece(fieldHeader(GRAPH.initializer, header.length + raw.length + t.bytes.length));
  yield bytesPiece(header);
  yield bytesPiece(raw);
  yield bytesPiece(t.bytes);
}

/** A TensorProto whose values are at `offset` of the external data file. */
function* externalTensor(name: string, t: StoredTensor, location: string, at: { offset: number }): Generator<Piece> {
  const externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(at.offset) },
    { key: 'length', value: String(t.bytes.length) },
  ];
  const proto = onnx.TensorProto.encode({
    name,
    dataType: t.dtype,
    dims: t.dims,
    externalData,
    dataLocation: 1,
  }).finish();
  yield { kind: 'external', data: t.bytes };
  at.offset += t.bytes.length;
  yield bytesPiece(lengthField(GRAPH.initializer, proto));
}
