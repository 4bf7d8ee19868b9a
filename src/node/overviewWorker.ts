/**
 * Worker thread entry: reads one model (overview and analysis plan) off the caller's thread and keeps the plan;
 * the caller fetches it in pages, so neither side clones a per-weight structure of the whole model at once.
 */
import { errorToInfo } from '../core/rpc/domainErrors';
import { readModelForAnalysis, type PlannedWeight } from './analysisPlan';
import { PLAN_PAGE_MAX, type OverviewMethods } from './overviewProtocol';
import { serveParentPort } from './rpcPorts';

let plan: PlannedWeight[] = [];

serveParentPort<OverviewMethods>(
  {
    'model/read': async ({ modelPath }) => {
      plan = [];
      const { plan: kept, ...summary } = await readModelForAnalysis(modelPath);
      plan = kept;
      return { ...summary, weights: plan.length };
    },
    'plan/page': ({ offset, limit }) => plan.slice(offset, offset + Math.min(limit, PLAN_PAGE_MAX)),
  },
  { toInfo: errorToInfo },
);
