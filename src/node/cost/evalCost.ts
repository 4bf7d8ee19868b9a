/**
 * The cost side of an evaluation: fp32's model file and every model-file variant measured A B A B in fresh
 * processes (costRun.ts) on the spec's real inputs, at batch 1 and the spec's batch size (or the spec's
 * `latency.batchSizes`).
 */
import * as path from 'node:path';
import type { ModelCost } from '../../core/cost/costTypes';
import { latencyOf, type LatencySettings } from '../../core/eval/spec';
import type { CheckedEval } from '../eval/evalCheck';
import { batchInputs } from '../eval/evalInputs';
import { fileSessionOptions } from '../eval/fileVariant';
import type { CostRequest } from './costProtocol';
import { measureCosts, type CostTarget } from './costRun';

/** The latency settings of a run: the CLI's --latency / --no-latency, else the spec's, else on with file variants. */
export function latencySettings(checked: CheckedEval, forced?: boolean): LatencySettings | undefined {
  const { spec } = checked;
  if (forced === false) return undefined;
  if (spec.latency) return spec.latency;
  if (spec.latency === false && forced !== true) return undefined;
  if (forced === true || checked.files.size > 0) return latencyOf(true, spec.batchSize) || undefined;
  return undefined;
}

/** The spec's first samples (repeated when there are fewer) as feeds of every batch size. */
export function evalFeeds(checked: CheckedEval, batchSizes: readonly number[]): NonNullable<CostRequest['feeds']> {
  const feeds: NonNullable<CostRequest['feeds']> = {};
  for (const batch of batchSizes) {
    const chunk = Array.from({ length: batch }, (_, i) => checked.samples[i % checked.samples.length]);
    feeds[batch] = Object.fromEntries(
      batchInputs(checked.inputs, chunk, batch).map(({ input, buffer }) => [
        input.name,
        { type: input.dtype, dims: [batch, ...input.dims], data: buffer },
      ]),
    );
  }
  return feeds;
}

/** Measures fp32 and the model-file variants of a checked evaluation; costs by variant id (`fp32` first). */
export async function measureEvalCost(
  checked: CheckedEval,
  settings: LatencySettings,
  options: {
    threads?: number;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number, message: string) => void;
  },
): Promise<Map<string, ModelCost>> {
  const targets: CostTarget[] = [
    {
      id: 'fp32',
      model: path.resolve(checked.dir, checked.spec.model),
      sessionOptions: fileSessionOptions(undefined, options.threads),
    },
    ...[...checked.files.values()].map((f) => ({
      id: f.variant.id,
      model: f.path,
      sessionOptions: f.variant.sessionOptions,
    })),
  ];
  return measureCosts(targets, settings, { ...options, feeds: evalFeeds(checked, settings.batchSizes) });
}
