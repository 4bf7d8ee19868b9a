/** Reads one weight's values (raw_data range, typed fields, Constant attributes or external data). */
import * as path from 'node:path';
import type { onnx } from 'onnx-proto';
import { ModelError, plainErrorMessage } from '../core/onnx/errors';
import { decodeRaw, decodeTyped, type NumericArray } from '../core/onnx/tensorValues';
import { visitGraphs, type WeightRef } from '../core/onnx/weights';
import { openRegularFile, readInto } from './safeRead';

/** A decoded model and the bytes it was decoded from. */
export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  model: onnx.IModelProto;
  /** Checked real paths of the external data files (from loadModelFile), by location. */
  externalPaths: Map<string, string>;
}

type Typed = ArrayLike<number | { toNumber(): number }>;

/** Typed values by graph path and tensor name, built once per model (a lookup per weight was quadratic). */
const typedIndexes = new WeakMap<onnx.IModelProto, Map<string, Typed>>();

function typedIndex(model: onnx.IModelProto): Map<string, Typed> {
  let index = typedIndexes.get(model);
  if (index) return index;
  const found = new Map<string, Typed>();
  const fromTensor = (t: onnx.ITensorProto): Typed | undefined =>
    (['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data'] as const)
      .map((f) => t[f] as Typed | undefined)
      .find((v) => v && v.length > 0);
  const put = (key: string, values: Typed | undefined): void => {
    if (values && !found.has(key)) found.set(key, values);
  };
  visitGraphs(model.graph ?? {}, (graph, graphPath) => {
    for (const init of graph.initializer ?? []) put(`${graphPath}\0${init.name ?? ''}`, fromTensor(init));
    for (const n of graph.node ?? []) {
      if (n.opType !== 'Constant' || !n.output?.[0]) continue;
      const key = `${graphPath}\0${n.output[0]}`;
      for (const a of n.attribute ?? []) {
        if (a.name === 'value' && a.t) put(key, fromTensor(a.t));
        if (a.name === 'value_float') put(key, [a.f ?? 0]);
        if (a.name === 'value_floats') put(key, a.floats ?? []);
        if (a.name === 'value_int') put(key, [a.i as number | { toNumber(): number }]);
        if (a.name === 'value_ints') put(key, (a.ints ?? []) as Typed);
      }
    }
  });
  index = found;
  typedIndexes.set(model, index);
  return index;
}

/** The typed values of a weight stored in TensorProto fields or Constant attributes. */
function typedValues(loaded: LoadedModel, ref: WeightRef): Typed | undefined {
  return typedIndex(loaded.model).get(`${ref.graph}\0${ref.name}`);
}

/** Reads an external tensor's bytes: a regular file only, never more than the file holds. */
async function externalBytes(file: string, offset: number, length: number): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, `Its external data file ${path.basename(file)}`);
  try {
    if (offset + length > size) {
      throw new Error(`its external data runs to byte ${offset + length}, the file has ${size} bytes`);
    }
    const buffer = new Uint8Array(length);
    const n = await readInto(handle, buffer, offset);
    return buffer.subarray(0, n);
  } finally {
    await handle.close();
  }
}

/** Decodes a weight's values; throws ModelError naming the tensor when they cannot be read. */
export async function readWeightValues(loaded: LoadedModel, ref: WeightRef): Promise<NumericArray> {
  try {
    if (ref.problem) {
      throw new Error(ref.problem);
    }
    const s = ref.storage;
    if (s.kind === 'raw') {
      return decodeRaw(loaded.bytes.subarray(s.offset, s.offset + s.length), ref.dtype, ref.elements);
    }
    if (s.kind === 'external') {
      const file = loaded.externalPaths.get(s.location);
      if (!file) {
        throw new Error(`its external data file '${s.location}' was not checked when the model was loaded`);
      }
      return decodeRaw(await externalBytes(file, s.offset, s.length), ref.dtype, ref.elements);
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
      message: `Tensor '${ref.name}' in ${path.basename(loaded.path)} cannot be decoded: ${plainErrorMessage(error)}.`,
      tensor: ref.name,
    });
  }
}
