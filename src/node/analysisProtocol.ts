/** Messages between the analysis pool and its worker threads (src/node/analysisWorker.ts). */
import type { AnalysisResult, AnalysisTask } from './analysisTask';

/** Requests an analysis worker answers (errors: ModelError in the one error shape). */
export interface AnalysisMethods {
  /** Analyse one tensor; the result's arrays are transferred, not copied. */
  'task/run': { params: AnalysisTask; result: AnalysisResult };
  /** Analyse small tensors one after another in one round trip (results in task order; the first error fails it). */
  'task/batch': { params: AnalysisTask[]; result: AnalysisResult[] };
}
