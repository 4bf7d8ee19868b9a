/**
 * The activation part of an export (static QDQ): the pure rewrite planned on the main graph, then the int32
 * biases it asks for computed from the model's float biases and the exported weights' own scales.
 */
import type { onnx } from 'onnx-proto';
import {
  activationRewrite,
  quantizeBias,
  type ActivationQdqParams,
  type ActivationRewrite,
} from '../../core/export/activationQdq';
import { encodeWeight } from '../../core/export/encodeWeight';
import type { NameSource, WeightEdit } from '../../core/export/exportNodes';
import type { ExportPlan } from '../../core/export/exportPlan';
import type { LoadedModelFile } from '../modelFile';
import { readWeightValues } from '../weightValues';

/** Float32 values of a stored scale tensor (little-endian bytes). */
function floats(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}

/** Values of the scalar float32 initializers (a Clip's min and max). */
export function scalarConstants(initializers: readonly onnx.ITensorProto[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of initializers) {
    if (t.dataType !== 1 || (t.dims ?? []).some((d) => Number(d) !== 1) || t.dataLocation === 1) continue;
    const raw = t.rawData;
    if (raw && raw.length === 4) out.set(t.name ?? '', new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true));
    else if (!raw?.length && t.floatData?.length === 1) out.set(t.name ?? '', t.floatData[0]);
  }
  return out;
}

/** Plans the activations' QDQ rewrite and computes its int32 biases; mutates `plan.microsoft` when 16-bit needs it. */
export async function activationEdits(
  modelPath: string,
  loaded: LoadedModelFile,
  plan: ExportPlan,
  edits: readonly WeightEdit[],
  params: readonly ActivationQdqParams[],
  names: NameSource,
): Promise<ActivationRewrite> {
  const g = loaded.model.graph ?? {};
  const nodes: onnx.INodeProto[] = [...(g.node ?? [])];
  for (const e of edits) if (e.replace) nodes[e.replace.index] = e.replace.node;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const dq = edits.filter((e) => e.decision.format.kind === 'dq' && e.decision.scheme?.kind === 'int');
  const graph = {
    nodes,
    inputs: (g.input ?? []).map((v) => v.name ?? '').filter((n) => !initializers.has(n)),
    outputs: (g.output ?? []).map((v) => v.name ?? ''),
    initializers,
    dqWeights: new Set(dq.map((e) => e.decision.weight.name)),
    constants: scalarConstants(g.initializer ?? []),
  };
  const rewrite = activationRewrite(graph, params, names, plan.opset);
  plan.microsoft ||= rewrite.microsoft;
  const refs = new Map(loaded.weights.filter((w) => w.graph === 'main').map((w) => [w.name, w]));
  const source = { path: modelPath, ...loaded };
  for (const b of rewrite.biases) {
    const edit = dq.find((e) => e.decision.weight.name === b.weight)!;
    const biasRef = refs.get(b.bias);
    const weightRef = refs.get(b.weight);
    if (!biasRef || !weightRef) throw new Error(`the bias ${b.bias} or weight ${b.weight} of ${b.node} is not stored`);
    const bias = Float32Array.from(await readWeightValues(source, biasRef));
    const w = edit.decision;
    const weight = (await readWeightValues(source, weightRef)) as Float32Array;
    const encoded = encodeWeight(w.weight, weight, w.scheme!, w.format);
    const { values, scale } = quantizeBias(bias, b.inputScale, floats(encoded.scale!.bytes));
    rewrite.tensors.push({ name: b.values, tensor: values }, { name: b.scale, tensor: scale });
  }
  return rewrite;
}
