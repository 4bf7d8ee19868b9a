/**
 * What analysing a model means, weight by weight: the label, the role, the stored quantization and where
 * the values are. Built where the model is decoded (the overview worker, the CLI); the plan is plain data,
 * so it crosses to the extension host and to analysis workers without the model itself.
 */
import type { onnx } from 'onnx-proto';
import { consumersByTensor, type ConsumerIndex } from '../core/onnx/consumers';
import { graphPositions } from '../core/onnx/graphOrder';
import { LayerKinds, type LayerKind } from '../core/onnx/layerKinds';
import { DType, dtypeInfo } from '../core/onnx/dtypes';
import type { WeightRef } from '../core/onnx/weights';
import type { Layout2D } from '../core/quant/fakeQuant';
import { planWeight, type ChannelTranspose, type WeightRole } from '../core/quant/roles';
import {
  dequantProblem,
  storedQuantization,
  type DequantInput,
  type StoredQuantization,
} from '../core/quant/storedQuant';
import { notAnalysedSummary } from '../core/view/weightInfo';
import { analysisCacheKey, fileStamps } from './analysisCache';
import type { AnalysisTask, TensorSource } from './analysisTask';
import { loadModelFile, type OverviewResult } from './modelFile';
import { readWeightValues, type LoadedModel } from './weightValues';

/** One weight of the plan. */
export interface PlannedWeight {
  name: string;
  layers: { node: string; op: string; input: number }[];
  /** Stored element type name. */
  dtype: string;
  shape: number[];
  role: WeightRole;
  /** What the layer reading it is, inferred from the graph. */
  kind: LayerKind;
  quantizable: boolean;
  /** Why the weight is not analysed under the schemes (or only per tensor). */
  reason?: string;
  /** Set when the model stores this weight quantized. */
  stored?: StoredQuantization;
  layout?: Layout2D;
  /** Channels on a middle axis (ConvTranspose): analysed transposed. */
  transpose?: ChannelTranspose;
  /** Where the values are; undefined for tensors that hold no numbers (strings) or cannot be read. */
  source?: TensorSource;
  /** Why the weight is listed but not analysed (its values or its scales cannot be read). */
  problem?: string;
  dequant?: DequantInput;
}

const FLOAT16 = 10;
/** Tensors that hold numbers (not strings). */
const NUMERIC = (dtype: number): boolean => dtypeInfo(dtype).bits > 0 && dtype !== DType.string;

/** Where a weight's values are: a byte range of a file, or its decoded typed values. */
async function sourceOf(loaded: LoadedModel, ref: WeightRef): Promise<TensorSource> {
  const s = ref.storage;
  if (s.kind === 'raw') {
    return {
      kind: 'file',
      file: loaded.path,
      offset: s.offset,
      length: s.length,
      dtype: ref.dtype,
      elements: ref.elements,
    };
  }
  if (s.kind === 'external') {
    const file = loaded.externalPaths.get(s.location);
    if (file) {
      return { kind: 'file', file, offset: s.offset, length: s.length, dtype: ref.dtype, elements: ref.elements };
    }
  }
  return { kind: 'values', values: await readWeightValues(loaded, ref) };
}

/** Scale and zero point of a stored-quantized weight, checked against the stored sizes; throws when they do not fit. */
async function dequantInput(
  loaded: LoadedModel,
  ref: WeightRef,
  stored: StoredQuantization,
  byName: ReadonlyMap<string, WeightRef>,
): Promise<DequantInput | undefined> {
  if (stored.problem) throw new Error(`Tensor '${ref.name}' cannot be dequantized: ${stored.problem}.`);
  const scaleRef = byName.get(stored.scale);
  const zpRef = stored.zeroPoint ? byName.get(stored.zeroPoint) : undefined;
  if (!scaleRef) return undefined;
  const input: DequantInput = {
    q: stored,
    storedDims: ref.dims,
    scale: await readWeightValues(loaded, scaleRef),
    zeroPoint: zpRef ? await readWeightValues(loaded, zpRef) : undefined,
    toFloat16: scaleRef.dtype === FLOAT16,
    zeroPointFloat: zpRef ? dtypeInfo(zpRef.dtype).name.startsWith('float') : undefined,
  };
  // The stored values are not read here; their count (ref.elements) is what the file holds, checked again on decode.
  const problem = dequantProblem({ length: ref.elements }, input);
  if (problem) throw new Error(`Tensor '${ref.name}' cannot be dequantized: ${problem}.`);
  return input;
}

/** A weight whose name an earlier tensor of the same graph already has: listed, not analysed. */
function duplicateWeight(ref: WeightRef): PlannedWeight {
  return {
    name: ref.name,
    layers: [],
    dtype: dtypeInfo(ref.dtype).name,
    shape: ref.dims,
    role: 'other',
    kind: 'unknown',
    quantizable: false,
    reason: 'a duplicate name',
    problem: `Tensor '${ref.name.slice(0, 200)}': another tensor of graph '${ref.graph}' has the same name; only the first is analysed.`,
  };
}

/**
 * The weights in graph order: by the position of the first node reading each (a topological order, subgraphs in
 * place), unread weights last; ties keep the file's order.
 */
export function inGraphOrder(
  model: onnx.IModelProto,
  weights: readonly WeightRef[],
  consumers: ConsumerIndex,
): WeightRef[] {
  const order = graphPositions(model);
  const position = (w: WeightRef): number => {
    let first = Infinity;
    for (const c of consumers.get(w.name) ?? []) {
      const p = c.index === undefined ? undefined : order.get(c.graph)?.[c.index];
      if (p !== undefined && p < first) first = p;
    }
    return first;
  };
  return weights
    .map((w, i) => ({ w, i, p: position(w) }))
    .sort((a, b) => (a.p === b.p ? a.i - b.i : a.p < b.p ? -1 : 1))
    .map((e) => e.w);
}

/** Plans the analysis of every weight of a loaded model, in graph order (computed before the layer kinds: a lower peak). */
export async function planAnalysis(loaded: LoadedModel, weights: readonly WeightRef[]): Promise<PlannedWeight[]> {
  const model = loaded.model as onnx.IModelProto;
  const consumers = consumersByTensor(model);
  const ordered = inGraphOrder(model, weights, consumers);
  const kinds = new LayerKinds(model);
  const byName = new Map(weights.map((w) => [w.name, w]));
  const planned: PlannedWeight[] = [];
  const seen = new Set<string>();
  for (const ref of ordered) {
    // A repeated name (invalid ONNX) is listed once with its layers: n copies x n consumers would be quadratic.
    const key = `${ref.graph}\0${ref.name}`;
    const duplicate = seen.has(key);
    seen.add(key);
    if (duplicate) planned.push(duplicateWeight(ref));
    if (duplicate) continue;
    const plan = planWeight(ref, consumers);
    const stored =
      plan.role === 'quantized' ? storedQuantization(ref, consumers.get(ref.name) ?? [], byName) : undefined;
    let dequant: DequantInput | undefined;
    let source: TensorSource | undefined;
    let problem: string | undefined;
    // One unreadable tensor is reported on that weight; it does not make the whole model unreadable.
    try {
      if (ref.problem) throw new Error(`Tensor '${ref.name}': ${ref.problem}.`);
      if (stored) {
        dequant = await dequantInput(loaded, ref, stored, byName);
      }
      if (ref.origin === 'sparse-initializer') {
        problem = 'sparse initializers are listed, not analysed yet';
      } else if (NUMERIC(ref.dtype)) {
        source = await sourceOf(loaded, ref);
      }
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
      dequant = undefined;
      source = undefined;
    }
    // A stored-quantized weight whose scale cannot be found is listed, not analysed as if it were float.
    const quantizable = plan.quantizable && source !== undefined && (!stored || dequant !== undefined);
    const reason = quantizable || !plan.quantizable ? plan.reason : 'its values cannot be read';
    planned.push({
      name: ref.name,
      layers: plan.layers.map((l) => ({ node: l.node, op: l.domain ? `${l.domain}.${l.op}` : l.op, input: l.input })),
      dtype: dtypeInfo(ref.dtype).name,
      shape: ref.dims,
      role: plan.role,
      kind: kinds.ofWeight(plan.layers),
      quantizable,
      ...(reason ? { reason } : {}),
      stored,
      layout: stored?.problem ? undefined : (stored?.layout ?? plan.layout),
      transpose: stored?.layout ? undefined : plan.transpose,
      source,
      dequant,
      ...(problem ? { problem } : {}),
    });
  }
  return planned;
}

/** The analysis task of a planned weight (schemes only for quantizable weights); undefined without values. */
export function taskFor(
  modelPath: string,
  w: PlannedWeight,
  schemes: readonly string[],
  bins: number,
): AnalysisTask | undefined {
  if (!w.source) return undefined;
  return {
    tensor: w.name,
    model: modelPath,
    source: w.source,
    layout: w.quantizable ? w.layout : undefined,
    transpose: w.quantizable ? w.transpose : undefined,
    schemes: w.quantizable ? [...schemes] : [],
    bins,
    dequant: w.dequant,
  };
}

/** A model read for the inspector: overview, analysis plan and cache key (what the overview worker returns). */
export interface ModelReadResult extends OverviewResult {
  plan: PlannedWeight[];
  cacheKey: string;
  /** The model file and its checked external data files. */
  files: string[];
  /** fileStamps(files) when the model was read (part of the cache key). */
  stamps: string;
  planMs: number;
}

/** Reads a model and plans its analysis (runs in the overview worker: decoding never blocks the host). */
export async function readModelForAnalysis(modelPath: string, signal?: AbortSignal): Promise<ModelReadResult> {
  const loaded = await loadModelFile(modelPath, signal);
  const t0 = performance.now();
  const plan = await planAnalysis({ path: modelPath, ...loaded }, loaded.weights);
  const files = [modelPath, ...loaded.externalPaths.values()];
  const stamps = await fileStamps(files);
  return {
    overview: { ...loaded.overview, notAnalysed: notAnalysedSummary(plan) },
    timings: loaded.timings,
    plan,
    cacheKey: analysisCacheKey(stamps, plan),
    files,
    stamps,
    planMs: performance.now() - t0,
  };
}
