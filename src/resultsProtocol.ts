/** Messages between the extension and the evaluation results view. */
import type { EvalResults } from './core/eval/results';

/** Extension -> view: the results to show. */
export type ResultsToView = { type: 'results'; results: EvalResults; resultsFile: string };

/**
 * View -> extension: ready for results; open the inspector on a layer; a variant picked (a cost chart's point); run
 * Find a Plan on the spec, or show its last plan search (specs with a "search" field).
 */
export type ResultsFromView =
  | { type: 'ready' }
  | { type: 'reveal'; weight: string; scheme: string }
  | { type: 'variant'; id: string }
  | { type: 'findPlan' | 'showPlanSearch' };
