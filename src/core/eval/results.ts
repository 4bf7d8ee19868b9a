/** The results of an evaluation, as written next to the spec and read by the results view, diagnostics and plans. */
import type { SliceMetrics, TaskKind } from './metrics';
import type { Budget } from './spec';
import type { Effect, Thresholds, Violation } from './verdict';

/** Metrics of one configuration (fp32, a variant, a sweep point...) per slice name. */
export type MetricsBySlice = Record<string, SliceMetrics>;

/** One compared variant. */
export interface VariantResult {
  /** `fp32`, a scheme id, or `plan:<file>`. */
  id: string;
  label: string;
  kind: 'reference' | 'scheme' | 'plan';
  /** Stored bytes of the quantized weights under this variant. */
  weightBytes: number;
  metrics: MetricsBySlice;
  violations: Violation[];
}

/** One layer's measured sensitivity under one scheme. */
export interface LayerSchemeResult {
  metrics: MetricsBySlice;
  /** The slice with the largest effect (slices of at least minSliceSize samples) and that effect. */
  worst: { slice: string; effect: Effect };
  /** Whether the layer alone under this scheme stays within the budget (the spec's, else the thresholds). */
  meetsBudget: boolean;
}

/** A layer (one quantizable weight) and its sensitivity. */
export interface LayerResult {
  weight: string;
  layer: string;
  layers: string[];
  op: string;
  /** Stored bytes per scheme (fp32 included). */
  bytes: Record<string, number>;
  /** Only this layer quantized, per scheme. */
  oneAtATime: Record<string, LayerSchemeResult>;
  /** Everything quantized under `leaveOneOut.scheme` except this layer. */
  leaveOneOut?: LayerSchemeResult;
  /** Rank by one-at-a-time effect under the most aggressive scheme (1 = most sensitive). */
  rank: number;
}

/** A layer flagged as sensitive. */
export interface Flag {
  weight: string;
  layer: string;
  scheme: string;
  slice: string;
  effect: Effect;
  /** "int4-block32 on /fc2/MatMul: -6.1% accuracy on slice digit=9". */
  message: string;
}

/** Everything an evaluation measured. */
export interface EvalResults {
  format: 'quantlens-eval-results';
  version: 1;
  createdAt: string;
  tool: { quantlens: string; onnxruntime: string; node: string; platform: string };
  spec: { file: string; sha256: string; content: unknown };
  model: { file: string; sha256: string; bytes: number };
  data: { files: { file: string; sha256: string }[]; samples: number; evaluated: number; limit?: number; seed: number };
  task: TaskKind;
  output: string;
  budget: Budget;
  thresholds: Thresholds;
  slices: { name: string; n: number }[];
  variants: VariantResult[];
  sweep?: { granularity: string; asymmetric: boolean; bits: number[]; schemes: string[]; metrics: MetricsBySlice[] };
  /** `rankScheme`: the most aggressive (fewest bytes) one-at-a-time scheme, which ranks the layers (and leave-one-out uses). */
  sensitivity?: { schemes: string[]; rankScheme: string; leaveOneOutScheme?: string; layers: LayerResult[] };
  flags: Flag[];
  /** Quantizable weights the variants leave as they are, and why. */
  skippedWeights: { name: string; reason: string }[];
  budgetViolated: boolean;
  timings: {
    totalMs: number;
    prepareMs: number;
    inferenceMs: number;
    scoringMs: number;
    scoringInWorker?: boolean;
    runs: number;
    samplesPerRun: number;
  };
}

/** JSON.stringify replacer keeping non-finite numbers (an exact output has SQNR +Infinity). */
export const finiteReplacer = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;

/** JSON.parse reviver undoing finiteReplacer. */
export const finiteReviver = (_key: string, value: unknown): unknown =>
  value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value === 'NaN' ? NaN : value;

/** The results file written next to a spec: `mnist.quantlens.json` -> `mnist.results.json`. */
export function resultsFileName(specFile: string): string {
  return specFile.replace(/\.quantlens\.json$/i, '').replace(/\.json$/i, '') + '.results.json';
}
