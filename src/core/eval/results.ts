/** The results of an evaluation, as written next to the spec and read by the results view, diagnostics and plans. */
import type { SliceMetrics, TaskKind } from './metrics';
import type { Budget, LatencySettings } from './spec';
import type { Effect, Thresholds, Verdict, Violation } from './verdict';
import { nonFiniteReplacer, reviveNumbers, type NumberShape } from '../rpc/numbers';
import type { ModelCost } from '../cost/costTypes';
import type { ExportCalibrationRecord } from '../export/marker';
import { COST_NUMBERS } from '../cost/costShape';

/** Metrics of one configuration (fp32, a variant, a sweep point...) per slice name. */
export type MetricsBySlice = Record<string, SliceMetrics>;

/** One compared variant. */
export interface VariantResult {
  /** `fp32`, a scheme id, `plan:<file>`, `model:<file>` (a model file run as it is) or `export:<file>`. */
  id: string;
  label: string;
  kind: 'reference' | 'scheme' | 'plan' | 'file' | 'export';
  /** A model-file variant: its path as written in the spec. */
  model?: string;
  /**
   * An `export` variant: the id of the simulated variant of this run it was exported from (its plan or scheme, as its
   * metadata records), when the run has it: the results view sets the two side by side.
   */
  exportedFrom?: string;
  /** A model-file variant: the onnxruntime session options it ran with (its defaults unless the spec says). */
  sessionOptions?: Record<string, string>;
  /** Measured cost (fp32 and model-file variants, when latency is measured). */
  cost?: ModelCost;
  /** Stored bytes of every weight of the model under this variant, biases included. */
  weightBytes: number;
  metrics: MetricsBySlice;
  /** Budget limits whose whole 95% CI is over the limit, on slices of at least minSliceSize samples. */
  violations: Violation[];
  /**
   * Per slice name: `violated` (the whole CI over a limit, slice big enough), `noise` (the CI includes a limit,
   * or a violation on a slice too small to decide), `pass`. Absent in results written before it existed.
   */
  verdicts?: Record<string, Verdict>;
  /** How it quantizes activations; null or absent: weights only. */
  activations?: VariantActivations | null;
}

/** A variant's activation quantization, as the results file records it. */
export interface VariantActivations {
  bits: number;
  signed: boolean;
  method: string;
  percentile?: number;
  /** Activation tensors quantized. */
  sites?: number;
  /** A model-file variant: read from its export marker, or from its QuantizeLinear nodes on activations. */
  detected?: 'marker' | 'graph';
  /** A QuantLens export: the scheme id (or `plan:<file>`) its marker says it was exported from. */
  exportedFrom?: string;
  /** A QuantLens export: the calibration its marker records (the data its activation ranges came from). */
  calibration?: ExportCalibrationRecord;
}

/** Where the activation ranges came from. */
export interface CalibrationInfo {
  /** `split of the evaluation data`, `slice <name>`, or the calibration data's paths. */
  source: string;
  samples: number;
  seed: number;
  method: string;
  percentile?: number;
  /** Whether no calibration sample is evaluated. */
  disjoint: boolean;
  ms?: number;
  sites?: number;
}

/** One quantized activation tensor: calibrated parameters and diagnostics on the evaluation data. */
export interface ActivationStat {
  tensor: string;
  layer: string;
  op: string;
  shareWith?: string;
  bits: number;
  signed: boolean;
  method?: string;
  scale: number;
  zeroPoint: number;
  rangeMin: number;
  rangeMax: number;
  observedMin: number;
  observedMax: number;
  /** Fraction of the evaluation data's values outside the representable range. */
  clippingRate: number;
  /** Only this activation quantized. */
  sqnrAloneDb: number;
  /** Every activation quantized, at this tensor. */
  sqnrAccumulatedDb: number;
  /** Equal bins from min to max (at most 256). */
  histogram: { min: number; max: number; counts: number[] };
  /** Per-channel absmax (axis 1 of rank-4 NCHW, else the last axis). */
  channelAbsMax?: number[];
  /** Max channel absmax / median channel absmax. */
  outlierRatio?: number;
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
  /** Only this layer's activations quantized: its inputs, and a model output it computes (weights float). */
  activation?: LayerSchemeResult;
  /** Every activation quantized but this layer's (weights float). */
  activationLeaveOneOut?: LayerSchemeResult;
  /** Rank by `activation`'s effect (1 = most sensitive). */
  activationRank?: number;
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

/** A layer whose point effect is over a threshold but whose CI includes it: not flagged. */
export interface NoiseFlag extends Flag {
  /** Samples the slice would need for its CI to exclude the threshold, if the effect stayed as measured. */
  samplesNeeded?: number;
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
  sensitivity?: {
    schemes: string[];
    rankScheme: string;
    leaveOneOutScheme?: string;
    /** The activation variant activation sensitivity follows. */
    activationScheme?: string;
    layers: LayerResult[];
  };
  /** Where the activation ranges came from (when a variant quantizes activations). */
  calibration?: CalibrationInfo;
  /** Per quantized activation tensor, in graph order. */
  activations?: ActivationStat[];
  flags: Flag[];
  /** Layers over a threshold by their point value only (the CI includes it); absent in older results. */
  flagsWithinNoise?: NoiseFlag[];
  /** Quantizable weights the variants leave as they are, and why. */
  skippedWeights: { name: string; reason: string }[];
  /** Whether a variant has a `violated` verdict (noise never counts). */
  budgetViolated: boolean;
  /** The cost measurement's settings, when it ran (each variant's figures are in its `cost`). */
  latency?: LatencySettings;
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

/** JSON.stringify replacer keeping non-finite numbers as "Infinity", "-Infinity", "NaN" (an exact output has SQNR +Infinity). */
export const finiteReplacer = nonFiniteReplacer;

const N = 'number';
const ESTIMATE = { value: N, low: N, high: N } as const;
const SLICE_METRICS: NumberShape<SliceMetrics> = {
  n: N,
  accuracy: N,
  refAccuracy: N,
  accuracyChange: ESTIMATE,
  ece: N,
  refEce: N,
  eceChange: N,
  mse: N,
  refMse: N,
  mseChange: ESTIMATE,
  mae: N,
  refMae: N,
  perplexity: N,
  refPerplexity: N,
  perplexityChange: ESTIMATE,
  agreement: N,
  kl: N,
  outputSqnrDb: N,
  varianceRatio: N,
};
const BY_SLICE = { '*': SLICE_METRICS };
const EFFECT: NumberShape<Effect> = { accuracyDrop: N, perplexityIncrease: N, mseIncrease: N, kl: N };
const LAYER_SCHEME: NumberShape<LayerSchemeResult> = { metrics: BY_SLICE, worst: { effect: EFFECT } };

/**
 * Where the results file has numbers (schemas/results.schema.json's number fields). The type makes it list
 * every numeric field of EvalResults; test/unit/rpcNumbers.test.ts checks it against a real results file.
 */
export const RESULTS_NUMBERS: NumberShape<EvalResults> = {
  version: N,
  model: { bytes: N },
  data: { samples: N, evaluated: N, limit: N, seed: N },
  budget: { accuracyDrop: N, kl: N, perplexityIncrease: N, mseIncrease: N, minSliceSize: N },
  thresholds: { accuracyDrop: N, kl: N, increase: N, minSliceSize: N },
  slices: { n: N },
  variants: {
    weightBytes: N,
    metrics: BY_SLICE,
    violations: { value: N, limit: N },
    cost: COST_NUMBERS,
    activations: { bits: N, percentile: N, sites: N, calibration: { samples: N, seed: N, percentile: N } },
  },
  calibration: { samples: N, seed: N, percentile: N, ms: N, sites: N },
  activations: {
    bits: N,
    scale: N,
    zeroPoint: N,
    rangeMin: N,
    rangeMax: N,
    observedMin: N,
    observedMax: N,
    clippingRate: N,
    sqnrAloneDb: N,
    sqnrAccumulatedDb: N,
    histogram: { min: N, max: N, counts: N },
    channelAbsMax: N,
    outlierRatio: N,
  },
  latency: { batchSizes: N, runs: N, seconds: N, rounds: N },
  sweep: { bits: N, metrics: BY_SLICE },
  sensitivity: {
    layers: {
      bytes: { '*': N },
      oneAtATime: { '*': LAYER_SCHEME },
      leaveOneOut: LAYER_SCHEME,
      rank: N,
      activation: LAYER_SCHEME,
      activationLeaveOneOut: LAYER_SCHEME,
      activationRank: N,
    },
  },
  flags: { effect: EFFECT },
  flagsWithinNoise: { effect: EFFECT, samplesNeeded: N },
  timings: { totalMs: N, prepareMs: N, inferenceMs: N, scoringMs: N, runs: N, samplesPerRun: N },
};

/** Reads a results file's text: "Infinity", "-Infinity" and "NaN" become numbers only in numeric fields. */
export function parseResults(text: string): EvalResults {
  return reviveNumbers(JSON.parse(text) as EvalResults, RESULTS_NUMBERS);
}

/**
 * The results file written next to a spec: `mnist.quantlens.json` -> `mnist.results.json`. An evaluation with plans
 * added (Evaluate this plan) gets its own file, so the spec's own results are kept:
 * `mnist.quantlens.json` + `mnist-int2.qplan.json` -> `mnist.mnist-int2.results.json`.
 */
export function resultsFileName(specFile: string, plans: readonly string[] = []): string {
  const stem = (file: string, ext: RegExp): string =>
    file
      .replace(/^.*[\\/]/, '')
      .replace(ext, '')
      .replace(/\.json$/i, '');
  const plan = plans.map((p) => `.${stem(p, /\.qplan\.json$/i)}`).join('');
  return `${stem(specFile, /\.quantlens\.json$/i)}${plan}.results.json`;
}
