/** Messages between the cost measurement (costRun.ts) and its child process (costProcess.ts). */
import type { CostSample } from '../../core/cost/costTypes';

/** An input tensor for the measured runs. */
export interface FeedTensor {
  type: 'float32' | 'float16' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool';
  dims: number[];
  data: Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
}

/** What one measurement does: one model, in this fresh process. */
export interface CostRequest {
  /** Absolute path of the model (read with the hardened reader; external data beside it). */
  model: string;
  batchSizes: number[];
  /** Timed runs per batch size, at least. */
  runs: number;
  /** Seconds per batch size, at least (runs go on until both limits are met). */
  seconds: number;
  warmup: number;
  /** Session options as recorded (see fileSessionOptions). */
  sessionOptions: Record<string, string>;
  /** The inputs per batch size (a spec's real samples); absent: random inputs of the declared dtypes. */
  feeds?: Record<string, Record<string, FeedTensor>>;
  /** Values of symbolic dimensions for random inputs (default 1; the first axis is the batch). */
  dims?: Record<string, number>;
}

/** Requests the cost child answers. */
export interface CostMethods {
  /** Measure one model: file size, session creation, peak memory and latency per batch size. */
  measure: { params: CostRequest; result: CostSample };
}
