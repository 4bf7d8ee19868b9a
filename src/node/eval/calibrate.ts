/**
 * Calibration: fp32 runs of the model over the calibration samples with the activation site tensors added as
 * outputs, batch by batch, each output streamed into its RangeCollector (running min/max and a fixed histogram:
 * memory is one batch's activations plus 2048 bins per tensor, whatever the number of samples). Runs in the
 * evaluation child process, beside the evaluation's own session.
 */
import * as ort from 'onnxruntime-node';
import { siteParams, type ActivationPlanInput } from '../../core/eval/activationConfigs';
import { variantActivation } from '../../core/eval/calibrationSpec';
import type { CalibrationInfo } from '../../core/eval/results';
import { activationSites, type ActivationSite } from '../../core/quant/activationSites';
import { RangeCollector } from '../../core/quant/calibration';
import { parseVariantScheme, type ActivationScheme } from '../../core/quant/schemes';
import { withOutputs } from './activationModel';
import type { CheckedCalibration } from './calibrationCheck';
import type { CheckedEval } from './evalCheck';
import { batchInputs } from './evalInputs';

/** The activation side of a run: sites, calibrated ranges, and what planning needs. */
export interface PreparedActivations {
  /** Every site some variant quantizes (asymmetric and symmetric site choices together), graph order. */
  sites: ActivationSite[];
  collectors: Map<string, RangeCollector>;
  plan: ActivationPlanInput;
  calibration: CalibrationInfo;
}

/** The activation schemes the spec's variants use (scheme suffixes and plan entries). */
export function activationSchemes(checked: CheckedEval): ActivationScheme[] {
  const schemes = checked.spec.variants.flatMap((v) => {
    const a = variantActivation(v);
    return a ? [a] : [];
  });
  for (const v of checked.variants) {
    if (!('plan' in v)) continue;
    for (const id of [v.plan.default, ...Object.values(v.plan.layers)]) {
      const a = parseVariantScheme(id, true).activation;
      if (a) schemes.push(a);
    }
  }
  return schemes;
}

/** Sites for asymmetric or symmetric activations (symmetric keeps Relu and quantizes its input too). */
function sitesOf(checked: CheckedEval, symmetric: boolean): ActivationSite[] {
  const { exclude, activationSites: options } = checked.spec;
  return activationSites(checked.model.siteGraph, { ...options, exclude, symmetric });
}

/** Calibrates every site some variant quantizes; undefined when none does. */
export async function prepareActivations(
  checked: CheckedEval,
  options: { threads?: number; signal?: AbortSignal } = {},
): Promise<PreparedActivations | undefined> {
  const schemes = activationSchemes(checked);
  const c = checked.calibration;
  if (schemes.length === 0 || !c) return undefined;
  const bySign = new Map<boolean, ActivationSite[]>();
  for (const signed of new Set(schemes.map((a) => a.signed))) bySign.set(signed, sitesOf(checked, signed));
  const union = new Map<string, ActivationSite>();
  for (const list of bySign.values()) for (const s of list) if (!union.has(s.tensor)) union.set(s.tensor, s);
  const sites = [...union.values()];
  const histogram = schemes.some((a) => (a.method ?? c.spec.method) !== 'minmax');
  const t0 = performance.now();
  const collectors = await collectRanges(checked, c, sites, histogram, options);
  const ms = performance.now() - t0;
  const plan: ActivationPlanInput = {
    sites,
    paramsFor: (a) => siteParams(bySign.get(a.signed) ?? [], collectors, a, c.spec),
  };
  const calibration: CalibrationInfo = {
    source: c.source,
    samples: c.samples.length,
    seed: c.spec.seed,
    method: c.spec.method,
    ...(c.spec.method === 'percentile' || schemes.some((a) => a.method === 'percentile')
      ? { percentile: c.spec.percentile }
      : {}),
    disjoint: c.disjoint,
    ms,
    sites: collectors.size,
  };
  return { sites, collectors, plan, calibration };
}

/** fp32 runs over the calibration samples, each site output streamed into its collector (the export's too). */
export async function collectRanges(
  checked: CheckedEval,
  c: CheckedCalibration,
  sites: readonly ActivationSite[],
  histogram: boolean,
  options: { threads?: number; signal?: AbortSignal },
): Promise<Map<string, RangeCollector>> {
  const calibrated = sites.filter((s) => !s.shareWith).map((s) => s.tensor);
  const { externalData } = checked.model;
  const session = await ort.InferenceSession.create(withOutputs(checked.model.bytes, calibrated), {
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...(externalData.length > 0 ? { externalData } : {}),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
  });
  const collectors = new Map(calibrated.map((t) => [t, new RangeCollector(histogram)]));
  const weights = Object.fromEntries(
    checked.model.weights.map((w) => [w.name, new ort.Tensor('float32', w.values, w.dims)]),
  );
  const fixed = fixedRows(checked);
  const batchSize = fixed ?? checked.spec.batchSize;
  try {
    for (let b = 0; b * batchSize < c.samples.length; b++) {
      options.signal?.throwIfAborted();
      const chunk = c.samples.slice(b * batchSize, (b + 1) * batchSize);
      const rows = fixed ?? chunk.length;
      const feeds: Record<string, ort.Tensor> = { ...weights };
      for (const { input, buffer } of batchInputs(c.inputs, chunk, rows))
        feeds[input.name] = new ort.Tensor(input.dtype, buffer, [rows, ...input.dims]);
      const out = await session.run(feeds, calibrated);
      for (const t of calibrated) {
        const data = out[t].data as Float32Array;
        // A fixed batch is padded with the last sample: only the real rows count.
        collectors.get(t)!.add(rows === chunk.length ? data : data.subarray(0, (data.length / rows) * chunk.length));
      }
    }
  } finally {
    await session.release();
  }
  return collectors;
}

/** The batch size the model fixes (its inputs' first axis), if any. */
function fixedRows(checked: CheckedEval): number | undefined {
  return checked.inputs
    .map((i) => checked.model.inputs.find((m) => m.name === i.name)?.shape?.[0])
    .find((d) => typeof d === 'number') as number | undefined;
}
