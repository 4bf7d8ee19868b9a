/** Messages between readOverviewInWorker (src/node/overviewClient.ts) and the overview worker thread. */
import type { ModelReadResult, PlannedWeight } from './analysisPlan';

/** A model read, without its plan: the plan stays in the worker and is fetched in pages (`plan/page`). */
export type ModelReadSummary = Omit<ModelReadResult, 'plan'> & { weights: number };

/** Requests the overview worker answers (errors: ModelError in the one error shape). */
export interface OverviewMethods {
  /** Read a model's overview and plan its analysis; the plan is kept for `plan/page`. */
  'model/read': { params: { modelPath: string }; result: ModelReadSummary };
  /** Weights [offset, offset + limit) of the last read's plan (at most PLAN_PAGE_MAX). */
  'plan/page': { params: { offset: number; limit: number }; result: PlannedWeight[] };
}

/** Weights in one `plan/page` answer at most: one page is cloned in a few milliseconds on either side. */
export const PLAN_PAGE_MAX = 1000;
