/**
 * The model as the evaluation runs it: every quantizable float32 weight of the main graph becomes a graph
 * input, so one onnxruntime session serves fp32 and every variant (fp32, a scheme, a plan, one layer
 * quantized, all but one...) by feeding different weights. Quantized-dequantized weights are computed when
 * a group of configurations runs, into reused buffers (WeightCache).
 */
import { constants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import { ModelError } from '../../core/onnx/errors';
import type { ValueInfo } from '../../core/onnx/overview';
import type { Layout2D } from '../../core/quant/fakeQuant';
import { reconstruct } from '../../core/stats/analyze';
import { transposeChannels, untransposeChannels, type ChannelTranspose } from '../../core/quant/roles';
import { parseScheme } from '../../core/quant/schemes';
import type { ConfigWeight } from '../../core/eval/configurations';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { siteGraphOf } from '../../core/onnx/siteGraph';
import type { SiteGraph } from '../../core/quant/activationSites';
import { weightKey } from '../../core/eval/runGroups';
import { planAnalysis } from '../analysisPlan';
import { loadModelFile, type LoadedModelFile } from '../modelFile';
import { readRegularFile } from '../safeRead';
import { readWeightValues } from '../weightValues';

/** A weight the variants quantize. */
export interface EvalWeight {
  name: string;
  /** The first layer (node) using it: how diagnostics and plans name it. */
  layer: string;
  layers: string[];
  op: string;
  dims: number[];
  values: Float32Array;
  layout?: Layout2D;
  transpose?: ChannelTranspose;
}

/** A model prepared for evaluation. */
export interface EvalModel {
  /** The rewritten model (weights as inputs), encoded. */
  bytes: Uint8Array;
  weights: EvalWeight[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Quantizable weights left as they are, and why. */
  skipped: { name: string; reason: string }[];
  /**
   * The external data files the rewritten model still uses (weights not fed), read with the hardened reader
   * and handed to onnxruntime by their location as written in the model, so that it opens no file itself.
   */
  externalData: { path: string; data: Uint8Array }[];
  /** SHA-256 and size of the model file as read. */
  sha256: string;
  fileBytes: number;
  /** The main graph as activation site selection reads it (weights as initializers, as in the file). */
  siteGraph: SiteGraph;
}

const FLOAT32 = 1;

/** Why a quantizable weight is left as it is (undefined: it is fed, and varied). */
function skipReason(
  w: { dtype: string; stored?: unknown },
  ref: { graph: string; origin: string; dtype: number },
  hasInitializer: boolean,
): string | undefined {
  if (ref.graph !== 'main') return `it is inside a subgraph (${ref.graph})`;
  if (ref.origin !== 'initializer') return `it is stored in a ${ref.origin} node, not an initializer`;
  if (ref.dtype !== FLOAT32 || w.stored)
    return `it is stored as ${w.dtype}${w.stored ? ' (already quantized)' : ''}; variants quantize float32 weights`;
  return hasInitializer ? undefined : 'its initializer was not found';
}

/** Reads a model and rewrites it so its quantizable float32 weights are fed at run time. */
export async function prepareEvalModel(modelPath: string, signal?: AbortSignal): Promise<EvalModel> {
  const loaded = await loadModelFile(modelPath, signal);
  const plan = await planAnalysis({ path: modelPath, ...loaded }, loaded.weights);
  const refs = new Map(loaded.weights.map((w) => [w.name, w]));
  const graph = loaded.model.graph!;
  const weights: EvalWeight[] = [];
  const skipped: EvalModel['skipped'] = [];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  for (const w of plan) {
    if (!w.quantizable) continue;
    const ref = refs.get(w.name)!;
    const why = skipReason(w, ref, initializers.has(w.name));
    if (why) {
      skipped.push({ name: w.name, reason: why });
      continue;
    }
    const values = (await readWeightValues({ path: modelPath, ...loaded }, ref)) as Float32Array;
    weights.push({
      name: w.name,
      layer: w.layers[0]?.node ?? w.name,
      layers: w.layers.map((l) => l.node),
      op: w.layers[0]?.op ?? '',
      dims: w.shape,
      values,
      layout: w.layout,
      transpose: w.transpose,
    });
  }
  const fed = new Set(weights.map((w) => w.name));
  const model = onnx.ModelProto.create({ ...loaded.model });
  const declared = new Set((graph.input ?? []).map((v) => v.name));
  model.graph = onnx.GraphProto.create({
    ...graph,
    initializer: (graph.initializer ?? []).filter((t) => !fed.has(t.name ?? '')),
    input: [
      ...(graph.input ?? []),
      ...weights
        .filter((w) => !declared.has(w.name))
        .map((w) => ({
          name: w.name,
          type: { tensorType: { elemType: FLOAT32, shape: { dim: w.dims.map((d) => ({ dimValue: d })) } } },
        })),
    ],
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    externalData: await externalDataOf(loaded, fed, signal),
    weights,
    inputs: loaded.overview.inputs,
    outputs: loaded.overview.outputs,
    skipped,
    sha256: createHash('sha256').update(loaded.bytes).digest('hex'),
    fileBytes: loaded.bytes.length,
    siteGraph: siteGraphOf(loaded.model),
  };
}

/** The largest external data file handed to onnxruntime (the largest Buffer Node makes). */
const EXTERNAL_LIMIT = constants.MAX_LENGTH;

/**
 * The external data files tensors left in the model (not fed: biases, subgraph or quantized weights) are
 * stored in, each read whole from its checked real path (loadModelFile: a regular file inside the model's
 * folder). Fed weights were read already and need none.
 */
export async function externalDataOf(
  loaded: LoadedModelFile,
  fed: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<EvalModel['externalData']> {
  const locations = new Set<string>();
  for (const ref of loaded.weights) {
    if (ref.storage.kind !== 'external') continue;
    if (ref.graph === 'main' && ref.origin === 'initializer' && fed.has(ref.name)) continue;
    locations.add(ref.storage.location);
  }
  const files: EvalModel['externalData'] = [];
  for (const location of locations) {
    const real = loaded.externalPaths.get(location);
    if (real === undefined)
      throw new ModelError({ code: 'external-data', message: `The external data '${location}' was not checked.` });
    const what = `The external data file '${location}' (${real})`;
    files.push({ path: location, data: await readRegularFile(real, EXTERNAL_LIMIT, signal, what) });
  }
  return files;
}

/**
 * Quantized-dequantized weights of the configurations running now, computed on first use into reused buffers
 * and kept until `retain` lets them go: the run stage keeps one group's weights (see runGroups), so memory is
 * bounded by the group budget rather than by the number of configurations.
 */
export class WeightCache {
  private readonly kept = new Map<string, Float32Array<ArrayBuffer>>();
  /** Buffers let go, by length, for the next weights of that size. */
  private readonly spare = new Map<number, Float32Array<ArrayBuffer>[]>();
  private spareBytes = 0;
  private keptBytes = 0;

  /** `limitBytes`: kept and spare buffers together (a group needing more still gets its weights). */
  constructor(private readonly limitBytes: number) {}

  /** The values of `weight` under `scheme` (`fp32`: as stored). */
  get(weight: EvalWeight, scheme: string): Float32Array {
    if (scheme === KEEP_FLOAT) return weight.values;
    const key = weightKey(weight.name, scheme);
    let values: Float32Array | undefined = this.kept.get(key);
    if (!values) {
      const out = this.buffer(weight.values.length);
      values = quantizeWeight(weight, scheme, out);
      this.kept.set(key, out);
      this.keptBytes += out.byteLength;
    }
    return values;
  }

  /** Keeps the weights whose keys (weightKey) are in `keys`; the buffers of the others are reused. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, values] of this.kept) {
      if (keys.has(key)) continue;
      this.kept.delete(key);
      this.keptBytes -= values.byteLength;
      const list = this.spare.get(values.length) ?? [];
      list.push(values);
      this.spare.set(values.length, list);
      this.spareBytes += values.byteLength;
    }
  }

  /** A spare buffer of `length` values, else a new one (spare buffers of other sizes go first, over the limit). */
  private buffer(length: number): Float32Array<ArrayBuffer> {
    const reused = this.spare.get(length)?.pop();
    if (reused) {
      this.spareBytes -= reused.byteLength;
      return reused;
    }
    for (const [size, list] of this.spare) {
      while (list.length > 0 && this.keptBytes + this.spareBytes + 4 * length > this.limitBytes) {
        list.pop();
        this.spareBytes -= 4 * size;
      }
    }
    return new Float32Array(length);
  }
}

/**
 * `weight` quantized and dequantized under `scheme`, written into `out`: the analysis kernels (bit-equal to
 * fakeQuantize); schemes that need a layout (channel, block) are per tensor on weights without one, as in the
 * analysis.
 */
export function quantizeWeight(weight: EvalWeight, scheme: string, out: Float32Array<ArrayBuffer>): Float32Array {
  const parsed = parseScheme(scheme);
  if (!weight.transpose) return reconstruct(weight.values, weight.layout, parsed, out);
  const transposed = reconstruct(transposeChannels(weight.values, weight.transpose), weight.layout, parsed);
  out.set(untransposeChannels(transposed, weight.transpose));
  return out;
}

/** A weight as planning sees it. */
export const configWeight = (w: EvalWeight): ConfigWeight => ({
  name: w.name,
  layer: w.layer,
  layers: w.layers,
  op: w.op,
  size: w.values.length,
  layout: w.layout,
});
