/**
 * The activation fields of a results file (issue 20, "Shared contracts"): the calibration, whether each variant
 * quantizes activations, per-activation statistics, and the sensitivity of one layer's activations. The engine
 * writes them; the results view, the inspector and the diagnostics read them through `activationFields`.
 */
import type { EvalResults, LayerSchemeResult } from './results';

/** How the activation ranges were calibrated (absent: no variant quantizes activations). */
export interface CalibrationInfo {
  /** A data source, or the slice / evaluation data the samples were drawn from. */
  source: string;
  samples: number;
  seed: number;
  method: string;
  percentile?: number;
  /** True when no calibration sample is also an evaluation sample. */
  disjoint: boolean;
}

/** A variant's activation quantization; null or absent: the activations stay float (weights only). */
export interface VariantActivations {
  bits: number;
  signed: boolean;
  method: string;
}

/** One quantized activation, calibrated and then measured on the evaluation data. */
export interface ActivationStat {
  tensor: string;
  /** The first quantizable node consuming the tensor. */
  layer: string;
  op: string;
  bits: number;
  signed: boolean;
  scale: number;
  zeroPoint: number;
  /** The calibrated clipping range. */
  rangeMin: number;
  rangeMax: number;
  /** The range seen on the evaluation data. */
  observedMin: number;
  observedMax: number;
  /** Fraction of evaluation values outside [rangeMin, rangeMax]. */
  clippingRate: number;
  /** SQNR of the tensor with only this activation quantized (dB). */
  sqnrAloneDb: number;
  /** SQNR of the tensor with every activation (and weight) quantized, accumulated through the network (dB). */
  sqnrAccumulatedDb: number;
  /** Evaluation values in equal bins over [min, max] (at most 256 bins). */
  histogram: { min: number; max: number; counts: number[] };
  /** Largest absolute value per channel. */
  channelAbsMax?: number[];
  /** Largest channel absmax over the median channel absmax (see schemas/results.schema.json). */
  outlierRatio?: number;
}

/** A sensitivity layer's activation measurements. */
export interface LayerActivationResults {
  /** Only this layer's activations quantized. */
  activation?: LayerSchemeResult;
  /** Everything's activations quantized except this layer's. */
  activationLeaveOneOut?: LayerSchemeResult;
}

/** The activation fields of a results file (all optional: results without activations have none). */
export interface ActivationFields {
  calibration?: CalibrationInfo;
  variants: (EvalResults['variants'][number] & { activations?: VariantActivations | null })[];
  activations?: ActivationStat[];
  sensitivity?: { layers: (NonNullable<EvalResults['sensitivity']>['layers'][number] & LayerActivationResults)[] };
}

/** The results with their activation fields typed (the same object). */
export function activationFields(r: EvalResults): ActivationFields {
  return r as unknown as ActivationFields;
}
