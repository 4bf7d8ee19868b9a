/** Scoring worker thread: scores the outputs an evaluation hands over, in order (see src/node/eval/scoring.ts). */
import { Scoring } from './eval/scoring';
import type { ScoringMethods, SharedOutput } from './eval/scoringProtocol';
import { serveParentPort } from './rpcPorts';

let scoring: Scoring | undefined;

const view = (o: SharedOutput): Float32Array => new Float32Array(o.ring, 4 * o.offset, o.length);

serveParentPort<ScoringMethods>({
  setup: (setup) => {
    scoring = new Scoring(setup);
    return null;
  },
  reference: ({ info, output }) => {
    // Kept for the whole batch: a copy, so that the slot can take the next output.
    scoring!.setReference(info, view(output).slice());
    return null;
  },
  score: ({ config, output }) => {
    scoring!.score(config, view(output));
    return null;
  },
  results: () => scoring!.results(),
});
