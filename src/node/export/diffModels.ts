/** `quantlens diff ORIGINAL QUANTIZED`: the weight diff of two model files (no onnxruntime needed). */
import { compareWeights, matchWeights, type DiffEntry, type DiffWeight } from '../../core/export/weightDiff';
import type { WeightRef } from '../../core/onnx/weights';
import { dequantize } from '../../core/quant/storedQuant';
import { planAnalysis, type PlannedWeight } from '../analysisPlan';
import { loadModelFile, type LoadedModelFile } from '../modelFile';
import { readWeightValues, type LoadedModel } from '../weightValues';

/** The diff of two models. */
export interface ModelDiff {
  original: string;
  quantized: string;
  weights: DiffEntry[];
  onlyInOriginal: { name: string; layer?: string; format: string }[];
  onlyInQuantized: { name: string; layer?: string; format: string }[];
}

interface Side {
  loaded: LoadedModel;
  refs: Map<string, WeightRef>;
  planned: Map<string, PlannedWeight>;
  weights: DiffWeight[];
}

/** The weights of one side: quantizable ones (float, or stored quantized with a readable scale) of the main graph. */
async function side(path: string, file: LoadedModelFile): Promise<Side> {
  const loaded = { path, ...file };
  const all = await planAnalysis(loaded, file.weights);
  const mainNames = new Set(file.weights.filter((w) => w.graph === 'main').map((w) => w.name));
  const planned = all.filter((w) => w.quantizable && !w.problem && mainNames.has(w.name));
  const weights = planned.map((w) => ({
    name: w.name,
    layer: w.layers[0]?.node,
    dims: w.stored?.dims ?? w.shape,
    format: w.stored?.summary ?? w.dtype,
    ...(w.stored?.op === 'MatMulNBits' ? { transposed: true } : {}),
  }));
  const refs = new Map(file.weights.filter((w) => w.graph === 'main').map((w) => [w.name, w]));
  return { loaded, refs, planned: new Map(planned.map((w) => [w.name, w])), weights };
}

/** The float32 values a weight stands for (dequantized when stored quantized). */
async function valuesOf(s: Side, name: string): Promise<Float32Array> {
  const w = s.planned.get(name)!;
  const values = await readWeightValues(s.loaded, s.refs.get(name)!);
  return w.dequant ? dequantize(values, w.dequant) : Float32Array.from(values);
}

/** Diffs the weights of `quantized` against `original`. */
export async function diffModels(original: string, quantized: string, signal?: AbortSignal): Promise<ModelDiff> {
  const a = await side(original, await loadModelFile(original, signal));
  const b = await side(quantized, await loadModelFile(quantized, signal));
  const { pairs, onlyOriginal, onlyQuantized } = matchWeights(a.weights, b.weights);
  const weights: DiffEntry[] = [];
  for (const pair of pairs) {
    signal?.throwIfAborted();
    weights.push(compareWeights(pair, await valuesOf(a, pair.original.name), await valuesOf(b, pair.quantized.name)));
  }
  const brief = (w: DiffWeight): { name: string; layer?: string; format: string } => ({
    name: w.name,
    layer: w.layer,
    format: w.format,
  });
  return {
    original,
    quantized,
    weights,
    onlyInOriginal: onlyOriginal.map(brief),
    onlyInQuantized: onlyQuantized.map(brief),
  };
}
