/**
 * Calibration for an activation export: the fp32 model run by onnxruntime with every activation site added as
 * an output, the observed min / max of each streamed over batches (bounded memory), then onnxruntime's
 * compute_scale_zp on those ranges (activationQuantParams); a MaxPool-like op's output takes its input's
 * parameters (shared scales). Method: minmax (onnxruntime's default calibrator).
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { activationQuantParams, type ActivationQuant } from '../../core/quant/activationQuant';
import { activationSites, type ActivationSite, type SiteGraph } from '../../core/quant/activationSites';
import type { ActivationScheme } from '../../core/quant/schemes';

/** The site-selection view of a model's main graph. */
export function siteGraph(model: onnx.IModelProto): SiteGraph {
  const g = model.graph ?? {};
  const dtypes = new Map<string, number>();
  for (const v of g.input ?? []) dtypes.set(v.name ?? '', v.type?.tensorType?.elemType ?? 0);
  for (const t of g.initializer ?? []) dtypes.set(t.name ?? '', t.dataType ?? 0);
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  return {
    nodes: (g.node ?? []).map((n, i) => {
      const to = n.opType === 'Cast' ? n.attribute?.find((a) => a.name === 'to')?.i : undefined;
      return {
        name: n.name || `${n.opType}_${i}`,
        op: n.opType ?? '',
        inputs: n.input ?? [],
        outputs: n.output ?? [],
        ...(to !== undefined && to !== null ? { castTo: Number(to) } : {}),
      };
    }),
    inputs: (g.input ?? []).map((v) => v.name ?? '').filter((n) => !initializers.has(n)),
    outputs: (g.output ?? []).map((v) => v.name ?? ''),
    initializers,
    dtypes,
  };
}

/** What calibration measured. */
export interface Calibrated {
  sites: ActivationSite[];
  quant: ActivationQuant[];
  samples: number;
  ms: number;
}

/** Calibrates the activations of `modelBytes` (fp32) on `batches` of feeds, minmax. */
export async function calibrateMinMax(
  modelBytes: Uint8Array,
  batches:
    | AsyncIterable<{ feeds: Record<string, ort.Tensor>; rows: number }>
    | Iterable<{ feeds: Record<string, ort.Tensor>; rows: number }>,
  scheme: Pick<ActivationScheme, 'bits' | 'signed'>,
  signal?: AbortSignal,
): Promise<Calibrated> {
  const t0 = performance.now();
  const model = onnx.ModelProto.decode(modelBytes);
  const sites = activationSites(siteGraph(model), { symmetric: scheme.signed });
  const graph = model.graph!;
  const outputs = new Set((graph.output ?? []).map((v) => v.name ?? ''));
  for (const s of sites)
    if (!outputs.has(s.tensor)) graph.output!.push({ name: s.tensor, type: { tensorType: { elemType: 1 } } });
  const session = await ort.InferenceSession.create(Buffer.from(onnx.ModelProto.encode(model).finish()), {
    logSeverityLevel: 4,
  });
  const measured = sites.filter((s) => s.shareWith === undefined).map((s) => s.tensor);
  const lo = new Map(measured.map((t) => [t, Infinity]));
  const hi = new Map(measured.map((t) => [t, -Infinity]));
  let samples = 0;
  for await (const batch of batches) {
    signal?.throwIfAborted();
    const out = await session.run(batch.feeds, measured);
    for (const t of measured) {
      const data = out[t].data as Float32Array;
      let [a, b] = [lo.get(t)!, hi.get(t)!];
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v < a) a = v;
        if (v > b) b = v;
      }
      lo.set(t, a);
      hi.set(t, b);
    }
    samples += batch.rows;
  }
  await session.release();
  const own = new Map(measured.map((t) => [t, activationQuantParams(t, lo.get(t)!, hi.get(t)!, scheme)]));
  const quant = sites.map((s) => (s.shareWith ? { ...own.get(s.shareWith)!, tensor: s.tensor } : own.get(s.tensor)!));
  return { sites, quant, samples, ms: performance.now() - t0 };
}
