/** Messages between ScoringWorker (src/node/eval/scoring.ts) and the scoring worker thread (src/node/scoringWorker.ts). */
import type { BatchInfo, ScoringResults, ScoringSetup } from './scoring';

/** An output in the shared ring: `length` float32 values at `offset` (values) of `ring`. */
export interface SharedOutput {
  ring: SharedArrayBuffer;
  offset: number;
  length: number;
}

/** Requests the scoring worker answers, in the order sent; a reference or score's reply frees its ring slot. */
export interface ScoringMethods {
  /** Start scoring an evaluation. */
  setup: { params: ScoringSetup; result: null };
  /** Start a batch with fp32's outputs (copied out of the ring). */
  reference: { params: { info: BatchInfo; output: SharedOutput }; result: null };
  /** Score configuration `config`'s outputs of the batch against fp32's. */
  score: { params: { config: number; output: SharedOutput }; result: null };
  /** The metrics of everything scored. */
  results: { params: Record<string, never>; result: ScoringResults };
}
