/**
 * Calibration for an activation export: the fp32 model run by onnxruntime with every activation site added as
 * an output, the observed min / max of each streamed over batches (bounded memory), then onnxruntime's
 * compute_scale_zp on the calibrated ranges (activationQuantParams); a MaxPool-like op's output takes its input's
 * parameters (shared scales). Ranges come from the engine's collectors (src/core/quant/calibration.ts: minmax,
 * or a histogram for percentile / entropy / mse).
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { activationQuantParams, type ActivationQuant } from '../../core/quant/activationQuant';
import {
  activationSites,
  type ActivationSite,
  type SiteGraph,
  type SiteOptions,
} from '../../core/quant/activationSites';
import { RangeCollector } from '../../core/quant/calibration';
import type { ActivationScheme, CalibrationMethod } from '../../core/quant/schemes';

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

/** Observed ranges of every activation site (shared-scale sites take their root's). */
export interface CalibratedRanges {
  sites: ActivationSite[];
  /** By measured tensor (shared-scale sites are not measured: they take their root's). */
  ranges: Map<string, RangeCollector>;
  samples: number;
  ms: number;
}

/** A batch of feeds for calibration. */
export interface CalibrationBatch {
  feeds: Record<string, ort.Tensor>;
  rows: number;
}

/** Min / max of every activation site of `modelBytes` (fp32) over `batches`, streamed. */
export async function calibrateRanges(
  modelBytes: Uint8Array,
  batches: AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>,
  options: SiteOptions & { histogram?: boolean },
  signal?: AbortSignal,
): Promise<CalibratedRanges> {
  const t0 = performance.now();
  const model = onnx.ModelProto.decode(modelBytes);
  const sites = activationSites(siteGraph(model), options);
  const graph = model.graph!;
  const outputs = new Set((graph.output ?? []).map((v) => v.name ?? ''));
  for (const s of sites) {
    if (!outputs.has(s.tensor)) graph.output!.push({ name: s.tensor, type: { tensorType: { elemType: 1 } } });
  }
  const session = await ort.InferenceSession.create(Buffer.from(onnx.ModelProto.encode(model).finish()), {
    logSeverityLevel: 4,
  });
  const measured = sites.filter((s) => s.shareWith === undefined).map((s) => s.tensor);
  const ranges = new Map(measured.map((t) => [t, new RangeCollector(!!options.histogram)]));
  let samples = 0;
  try {
    for await (const batch of batches) {
      signal?.throwIfAborted();
      const out = await session.run(batch.feeds, measured);
      for (const t of measured) ranges.get(t)!.add(out[t].data as Float32Array);
      samples += batch.rows;
    }
  } finally {
    await session.release();
  }
  return { sites, ranges, samples, ms: performance.now() - t0 };
}

/**
 * The parameters of every site whose scheme `schemeOf` gives (a shared site: its own scheme on its root's range,
 * as the simulation computes it).
 */
export function calibratedParams(
  c: CalibratedRanges,
  schemeOf: (site: ActivationSite) => Pick<ActivationScheme, 'bits' | 'signed' | 'method'> | undefined,
  method: CalibrationMethod = 'minmax',
  percentile?: number,
): (ActivationQuant & { consumers: string[] })[] {
  const out: (ActivationQuant & { consumers: string[] })[] = [];
  for (const s of c.sites) {
    const scheme = schemeOf(s);
    if (!scheme) continue;
    const root = s.shareWith ?? s.tensor;
    // A plan entry's own method suffix wins, as in the simulation (siteParams).
    const { min, max } = c.ranges.get(root)!.range(scheme.method ?? method, scheme, percentile);
    out.push({
      ...activationQuantParams(root, min, max, scheme),
      tensor: s.tensor,
      consumers: s.consumers,
    });
  }
  return out;
}

/** What calibration measured. */
export interface Calibrated {
  sites: ActivationSite[];
  quant: ActivationQuant[];
  samples: number;
  ms: number;
}

/** Calibrates the activations of `modelBytes` (fp32) on `batches` of feeds, minmax, one scheme for all. */
export async function calibrateMinMax(
  modelBytes: Uint8Array,
  batches: AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>,
  scheme: Pick<ActivationScheme, 'bits' | 'signed'>,
  signal?: AbortSignal,
): Promise<Calibrated> {
  const ranges = await calibrateRanges(modelBytes, batches, { symmetric: scheme.signed }, signal);
  const quant = calibratedParams(ranges, () => scheme).map(({ consumers: _, ...q }) => q);
  return { sites: ranges.sites, quant, samples: ranges.samples, ms: ranges.ms };
}
