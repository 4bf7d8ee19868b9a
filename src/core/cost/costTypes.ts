/**
 * What the cost measurement writes into the results (`variants[].cost`, schemas/results.schema.json) and what
 * `quantlens bench --json` prints: per model, measured in fresh processes interleaved A B A B.
 */

/** Latency at one batch size: percentiles of the per-run times pooled over the rounds, or why it was skipped. */
export interface LatencyEntry {
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  meanMs?: number;
  /** batch / median seconds per run. */
  samplesPerSec?: number;
  /** Timed runs, all rounds together (warm-up runs not counted). */
  runs?: number;
  /** Why this batch size was not measured (the model fixes another batch size, onnxruntime refused it). */
  skipped?: string;
}

/** A ratio to fp32: over the rounds pooled (value) and its lowest and highest round. */
export interface Ratio {
  value: number;
  low: number;
  high: number;
}

/** Ratios of a variant's cost to fp32's (below 1: cheaper than fp32). */
export interface CostRatios {
  fileBytes: number;
  sessionMs: Ratio;
  peakRssBytes: Ratio;
  /** Per batch size: p50 latency ratio and throughput ratio (above 1: more samples per second than fp32). */
  latency: Record<string, { p50Ms: Ratio; samplesPerSec: Ratio }>;
}

/** The measured cost of one model. */
export interface ModelCost {
  /** Bytes of the model file and its external data files. */
  fileBytes: number;
  /** Session creation, median over the rounds. */
  sessionMs: number;
  /** Peak RSS of the measuring process minus its RSS before the session was created, median over the rounds. */
  peakRssBytes: number;
  /** onnxruntime intra-op threads asked for; 0: onnxruntime's default (one per physical core). */
  threads: number;
  provider: string;
  /** The session options the model ran with (model-file variants: onnxruntime's defaults). */
  sessionOptions: Record<string, string>;
  /** By batch size. */
  latency: Record<string, LatencyEntry>;
  /** Rounds measured (one fresh process per model per round). */
  rounds: number;
  ratioToFp32?: CostRatios;
  /** Where the model costs more than fp32, said plainly ("slower than fp32 at batch 1: p50 x1.40"). */
  worse?: string[];
}

/** One round's measurement of one model in its own process. */
export interface CostSample {
  fileBytes: number;
  sessionMs: number;
  peakRssBytes: number;
  /** Per batch size: per-run milliseconds, or why it was skipped. */
  latency: Record<string, { times: number[] } | { skipped: string }>;
}
