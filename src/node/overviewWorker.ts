/**
 * Worker thread entry: reads one model (overview and analysis plan) off the caller's thread and keeps the plan;
 * the caller fetches it in pages, so neither side clones a per-weight structure of the whole model at once.
 */
import { errorToInfo } from '../core/rpc/domainErrors';
import { readModelForAnalysis, type PlannedWeight } from './analysisPlan';
import { PLAN_PAGE_MAX, type OverviewMethods } from './overviewProtocol';
import { serveParentPort } from './rpcPorts';

let plan: PlannedWeight[] = [];

/** Decoded values up to this size share one buffer per page (at most 256 KB, cloned whole with any of them). */
const SHARED_VALUES_BYTES = 256;

/**
 * A page of the plan whose small decoded values (typed fields: one Float32Array each) are views of one buffer:
 * 100k one-value weights reach the caller as 100 ArrayBuffers, not 100k it would track and sweep one by one.
 */
function packedPage(weights: PlannedWeight[]): { page: PlannedWeight[]; buffer?: ArrayBuffer } {
  const small = (w: PlannedWeight): boolean =>
    w.source?.kind === 'values' && w.source.values.byteLength <= SHARED_VALUES_BYTES;
  const align = (n: number): number => Math.ceil(n / 8) * 8;
  let bytes = 0;
  for (const w of weights) if (small(w) && w.source?.kind === 'values') bytes += align(w.source.values.byteLength);
  if (bytes === 0) return { page: weights };
  const buffer = new ArrayBuffer(bytes);
  let at = 0;
  const page = weights.map((w) => {
    if (!small(w) || w.source?.kind !== 'values') return w;
    const v = w.source.values;
    const view =
      v instanceof Float64Array ? new Float64Array(buffer, at, v.length) : new Float32Array(buffer, at, v.length);
    view.set(v);
    at += align(v.byteLength);
    return { ...w, source: { kind: 'values' as const, values: view } };
  });
  return { page, buffer };
}

serveParentPort<OverviewMethods>(
  {
    'model/read': async ({ modelPath }) => {
      plan = [];
      const { plan: kept, ...summary } = await readModelForAnalysis(modelPath);
      plan = kept;
      return { ...summary, weights: plan.length };
    },
    'plan/page': ({ offset, limit }, context) => {
      const { page, buffer } = packedPage(plan.slice(offset, offset + Math.min(limit, PLAN_PAGE_MAX)));
      if (buffer) context.transfer(buffer);
      return page;
    },
  },
  { toInfo: errorToInfo },
);
