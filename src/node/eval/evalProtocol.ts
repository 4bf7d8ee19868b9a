/** Messages between evaluateInChild (src/node/eval/evalClient.ts) and the evaluation child process (evalProcess.ts). */
import type { EvalResults } from '../../core/eval/results';
import type { Thresholds } from '../../core/eval/verdict';
import type { ExtraModel } from './evalCheck';
import type { FindPlanReport } from '../../core/search/planReport';
import type { EvalProgress } from './evaluate';

/** What an evaluation in the child needs besides the spec's own content. */
export interface EvalChildRequest {
  specPath: string;
  thresholds?: Partial<Thresholds>;
  threads?: number;
  version?: string;
  /** Plan files (absolute paths) evaluated as extra variants, without editing the spec ("Evaluate this plan"). */
  extraPlans?: string[];
  /** Model files (absolute paths, e.g. an export) evaluated as extra model-file variants, without editing the spec. */
  extraModels?: ExtraModel[];
  /** Measure the cost: true or false overrides the spec's `latency`. */
  latency?: boolean;
}

/** Requests the evaluation child answers (errors: SpecError with its problems, others by name and message). */
export interface EvalMethods {
  /** Evaluate a spec, reporting progress (at most every 100 ms); a cancel stops it. */
  evaluate: { params: EvalChildRequest; result: EvalResults; progress: EvalProgress };
  /** Find the plan a spec's `search` asks for (quantlens plan), reporting progress; a cancel keeps the front. */
  findPlan: {
    params: { specPath: string; threads?: number };
    result: FindPlanReport;
    progress: { message: string; runs: number };
  };
}

/** Extension -> child (outside the request): stop the plan search and answer with the front found so far. */
export const STOP_SEARCH = { type: 'quantlens/stopSearch' } as const;
