/** Reads one weight's values (raw_data range, typed fields, Constant attributes or external data). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { onnx } from 'onnx-proto';
import { ModelError } from '../core/onnx/errors';
import { decodeRaw, decodeTyped, type NumericArray } from '../core/onnx/tensorValues';
import { visitGraphs, type WeightRef } from '../core/onnx/weights';

/** A decoded model and the bytes it was decoded from. */
export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  model: onnx.IModelProto;
  /** Checked real paths of the external data files (from loadModelFile), by location. */
  externalPaths: Map<string, string>;
}

type Typed = ArrayLike<number | { toNumber(): number }>;

/** The typed values of a weight stored in TensorProto fields or Constant attributes. */
function typedValues(loaded: LoadedModel, ref: WeightRef): Typed | undefined {
  let found: Typed | undefined;
  visitGraphs(loaded.model.graph ?? {}, (graph, graphPath) => {
    if (found || graphPath !== ref.graph) return;
    const fromTensor = (t: onnx.ITensorProto): Typed | undefined =>
      (['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data'] as const)
        .map((f) => t[f] as Typed | undefined)
        .find((v) => v && v.length > 0);
    const init = (graph.initializer ?? []).find((t) => t.name === ref.name);
    if (init) {
      found = fromTensor(init);
      return;
    }
    const constant = (graph.node ?? []).find((n) => n.opType === 'Constant' && n.output?.[0] === ref.name);
    for (const a of constant?.attribute ?? []) {
      if (a.name === 'value' && a.t) found = fromTensor(a.t);
      if (a.name === 'value_float') found = [a.f ?? 0];
      if (a.name === 'value_floats') found = a.floats ?? [];
      if (a.name === 'value_int') found = [a.i as number | { toNumber(): number }];
      if (a.name === 'value_ints') found = (a.ints ?? []) as Typed;
    }
  });
  return found;
}

/** Decodes a weight's values; throws ModelError naming the tensor when they cannot be read. */
export async function readWeightValues(loaded: LoadedModel, ref: WeightRef): Promise<NumericArray> {
  try {
    const s = ref.storage;
    if (s.kind === 'raw') {
      return decodeRaw(loaded.bytes.subarray(s.offset, s.offset + s.length), ref.dtype, ref.elements);
    }
    if (s.kind === 'external') {
      const file = loaded.externalPaths.get(s.location);
      if (!file) {
        throw new Error(`its external data file '${s.location}' was not checked when the model was loaded`);
      }
      const handle = await fs.open(file, 'r');
      try {
        const buffer = new Uint8Array(s.length);
        const { bytesRead } = await handle.read(buffer, 0, s.length, s.offset);
        return decodeRaw(buffer.subarray(0, bytesRead), ref.dtype, ref.elements);
      } finally {
        await handle.close();
      }
    }
    if (ref.elements === 0) {
      return new Float32Array(0);
    }
    const values = typedValues(loaded, ref);
    if (!values) {
      throw new Error('it has no data');
    }
    return decodeTyped(values, ref.dtype, ref.elements);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError({
      code: 'decode-failed',
      message: `Tensor '${ref.name}' in ${path.basename(loaded.path)} cannot be decoded: ${error instanceof Error ? error.message : String(error)}.`,
      tensor: ref.name,
    });
  }
}
