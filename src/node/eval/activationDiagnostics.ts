/**
 * Per-activation diagnostics on the evaluation samples, under one activation configuration (the first activation
 * variant): per batch, an fp32 run with the site tensors as outputs (observed range, clipping, SQNR alone,
 * histogram, channel absmax) and a run with every site quantized and its chain outputs fetched (SQNR accumulated
 * through the network), streamed into ActivationStatAccumulators.
 */
import * as ort from 'onnxruntime-node';
import type { ActivationStat } from '../../core/eval/results';
import type { ActivationQuant } from '../../core/quant/activationQuant';
import type { ActivationSite } from '../../core/quant/activationSites';
import { ActivationStatAccumulator } from '../../core/quant/activationStats';
import { withOutputs, withQdq } from './activationModel';
import type { CheckedEval } from './evalCheck';
import { batchInputs } from './evalInputs';
import { qdqFeeds } from './evalRun';

/** Options of the diagnostics pass. */
export interface DiagnosticsOptions {
  threads?: number;
  signal?: AbortSignal;
  /** The calibration method of the configuration (recorded per tensor). */
  method?: string;
}

/** The diagnostics of every site `activations` quantizes, in graph order. */
export async function diagnoseActivations(
  checked: CheckedEval,
  sites: readonly ActivationSite[],
  activations: ReadonlyMap<string, ActivationQuant>,
  options: DiagnosticsOptions = {},
): Promise<ActivationStat[]> {
  const used = sites.filter((s) => activations.has(s.tensor));
  if (used.length === 0) return [];
  const types = [...new Set([...activations.values()].map((p) => p.type))];
  const qdq = withQdq(checked.model.bytes, used, types);
  const tensors = used.map((s) => s.tensor);
  const quantizedNames = tensors.map((t) => qdq.quantizedNames.get(t)!);
  const { externalData } = checked.model;
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...(externalData.length > 0 ? { externalData } : {}),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
  };
  const float = await ort.InferenceSession.create(withOutputs(checked.model.bytes, tensors), sessionOptions);
  const quantized = await ort.InferenceSession.create(withOutputs(qdq.bytes, quantizedNames), sessionOptions);
  const stats = used.map((s) => new ActivationStatAccumulator(s, activations.get(s.tensor)!, options.method));
  const weights = Object.fromEntries(
    checked.model.weights.map((w) => [w.name, new ort.Tensor('float32', w.values, w.dims)]),
  );
  const on = qdqFeeds(qdq, activations);
  const batchSize = checked.spec.batchSize;
  try {
    for (let b = 0; b * batchSize < checked.samples.length; b++) {
      options.signal?.throwIfAborted();
      const chunk = checked.samples.slice(b * batchSize, (b + 1) * batchSize);
      const feeds: Record<string, ort.Tensor> = { ...weights };
      const rows = fixedRows(checked) ?? chunk.length;
      for (const { input, buffer } of batchInputs(checked.inputs, chunk, rows))
        feeds[input.name] = new ort.Tensor(input.dtype, buffer, [rows, ...input.dims]);
      const fp = await float.run(feeds, tensors);
      const q = await quantized.run({ ...feeds, ...on }, quantizedNames);
      stats.forEach((acc, i) => {
        const x = realRows(fp[tensors[i]], rows, chunk.length);
        acc.addFloat(x, fp[tensors[i]].dims);
        acc.addAccumulated(x, realRows(q[quantizedNames[i]], rows, chunk.length));
      });
    }
  } finally {
    await float.release();
    await quantized.release();
  }
  return stats.map((s) => s.result());
}

/** A batch output's values of the real rows (a fixed batch pads with the last sample). */
function realRows(t: ort.Tensor, rows: number, real: number): Float32Array {
  const data = t.data as Float32Array;
  return rows === real ? data : data.subarray(0, (data.length / rows) * real);
}

/** The batch size the model fixes (its inputs' first axis), if any. */
function fixedRows(checked: CheckedEval): number | undefined {
  return checked.inputs
    .map((i) => checked.model.inputs.find((m) => m.name === i.name)?.shape?.[0])
    .find((d) => typeof d === 'number') as number | undefined;
}
