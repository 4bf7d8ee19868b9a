/** Messages between readOverviewInWorker (src/node/overviewClient.ts) and the overview worker thread. */
import type { ModelReadResult } from './analysisPlan';

/** Requests the overview worker answers (errors: ModelError in the one error shape). */
export interface OverviewMethods {
  /** Read a model's overview and analysis plan. */
  'model/read': { params: { modelPath: string }; result: ModelReadResult };
}
