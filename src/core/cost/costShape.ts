/** Where the cost block of the results has numbers (for reading non-finite texts back; see results.ts). */
import type { NumberShape } from '../rpc/numbers';
import type { ModelCost } from './costTypes';

const N = 'number';
const RATIO = { value: N, low: N, high: N } as const;

/** The number fields of a variant's `cost`. */
export const COST_NUMBERS: NumberShape<ModelCost> = {
  fileBytes: N,
  sessionMs: N,
  peakRssBytes: N,
  threads: N,
  latency: { '*': { p50Ms: N, p90Ms: N, p99Ms: N, meanMs: N, samplesPerSec: N, runs: N } },
  rounds: N,
  ratioToFp32: {
    fileBytes: N,
    sessionMs: RATIO,
    peakRssBytes: RATIO,
    latency: { '*': { p50Ms: RATIO, samplesPerSec: RATIO } },
  },
};
