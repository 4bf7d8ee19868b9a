/** Scoring worker thread: scores the outputs an evaluation hands over, in order (see src/node/eval/scoring.ts). */
import { parentPort } from 'node:worker_threads';
import { Scoring, type ScoringReply, type ScoringRequest, type SharedOutput } from './eval/scoring';

let scoring: Scoring | undefined;

const view = (o: SharedOutput): Float32Array => new Float32Array(o.ring, 4 * o.offset, o.length);
const done = (o: SharedOutput): void =>
  parentPort?.postMessage({ kind: 'done', ringId: o.ringId, slot: o.slot } satisfies ScoringReply);

parentPort?.on('message', (request: ScoringRequest) => {
  try {
    if (request.kind === 'setup') {
      scoring = new Scoring(request.setup);
    } else if (request.kind === 'reference') {
      // Kept for the whole batch: a copy, so that the slot can take the next output.
      scoring!.setReference(request.info, view(request.output).slice());
      done(request.output);
    } else if (request.kind === 'score') {
      scoring!.score(request.config, view(request.output));
      done(request.output);
    } else {
      parentPort?.postMessage({ kind: 'results', results: scoring!.results() } satisfies ScoringReply);
    }
  } catch (error) {
    parentPort?.postMessage({
      kind: 'error',
      message: (error as Error).message,
      stack: (error as Error).stack,
    } satisfies ScoringReply);
  }
});
