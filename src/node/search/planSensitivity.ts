/**
 * The plan search's predictions: each layer's one-at-a-time effect per slice under each candidate, read from the
 * spec's results file when it was written for the same model and samples, else measured on the whole set with the
 * search's own oracle.
 */
import * as path from 'node:path';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { resultsFileName, type EvalResults, type MetricsBySlice } from '../../core/eval/results';
import { startScheme, type SearchLayer, type SliceEffects } from '../../core/search/moves';
import { sliceEffects, type SliceSoFar } from '../../core/search/planVerdict';
import type { CheckedEval } from '../eval/evalCheck';
import { readRegularFile } from '../safeRead';
import type { PlanOracle } from './planOracle';

/** Weight -> candidate -> predicted effect per deciding slice, and where it came from. */
export type Sensitivity = Map<string, Map<string, SliceEffects>> & { from: 'results' | 'measured' };

/** One-at-a-time effects per weight and candidate: from the results file when it fits, else measured. */
export async function sensitivity(
  checked: CheckedEval,
  oracle: PlanOracle,
  layers: readonly SearchLayer[],
  minSliceSize: number,
  reuse: boolean,
): Promise<Sensitivity> {
  const task = checked.spec.task.type;
  const fromFile = reuse ? await resultsSensitivity(checked) : undefined;
  const out = new Map<string, Map<string, SliceEffects>>() as Sensitivity;
  out.from = 'results';
  const sizes = new Map(checked.slices.names.map((n, k) => [n, checked.slices.sizes[k]]));
  for (const l of layers) {
    const per = new Map<string, SliceEffects>();
    const start = startScheme(l);
    for (const scheme of l.costs.keys()) {
      if (scheme === start || scheme === KEEP_FLOAT) {
        per.set(scheme, {});
        continue;
      }
      const metrics = fromFile?.get(l.name)?.[scheme];
      if (metrics) {
        const slices: SliceSoFar[] = Object.entries(metrics).map(([name, m]) => ({
          name,
          metrics: m,
          kl: { n: 0, sum: 0, sumSq: 0 },
          fullSize: sizes.get(name) ?? 0,
        }));
        per.set(scheme, sliceEffects(slices, task, minSliceSize));
        continue;
      }
      out.from = 'measured';
      const m = await oracle.complete(`oneAtATime\u0000${l.name}\u0000${scheme}`, new Map([[l.name, scheme]]));
      per.set(scheme, sliceEffects(m.slices, task, minSliceSize));
    }
    out.set(l.name, per);
  }
  return out;
}

/** The results file's one-at-a-time metrics (weight -> scheme -> slice metrics), when it is for this model and data. */
async function resultsSensitivity(
  checked: CheckedEval,
): Promise<Map<string, Record<string, MetricsBySlice>> | undefined> {
  const file = path.join(checked.dir, resultsFileName(path.basename(checked.specPath)));
  let results: EvalResults;
  try {
    const bytes = await readRegularFile(file, 256 * 2 ** 20);
    results = JSON.parse(Buffer.from(bytes).toString('utf8')) as EvalResults;
  } catch {
    return undefined;
  }
  const sameSamples = results.data?.evaluated === checked.samples.length && results.data?.seed === checked.spec.seed;
  if (results.model?.sha256 !== checked.model.sha256 || !sameSamples || !results.sensitivity) return undefined;
  return new Map(
    results.sensitivity.layers.map((l) => [
      l.weight,
      Object.fromEntries(Object.entries(l.oneAtATime).map(([s, r]) => [s, r.metrics])),
    ]),
  );
}

/** The sensitivities as the report carries them: plan key -> candidate -> deciding slice -> effect. */
export function sensitivityTable(
  sens: Sensitivity,
  keys: ReadonlyMap<string, string>,
): Record<string, Record<string, Record<string, number>>> {
  return Object.fromEntries(
    [...sens].map(([weight, per]) => [
      keys.get(weight) ?? weight,
      Object.fromEntries([...per].map(([s, e]) => [s, { ...e }])),
    ]),
  );
}
