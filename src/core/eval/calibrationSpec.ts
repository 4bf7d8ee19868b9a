/**
 * The activation parts of an evaluation spec: `calibration`, `exclude`, `activationSites`, and which variants
 * quantize activations. Validation names the spec line (SpecError, exit 2); the split of the evaluation data
 * into calibration and evaluation samples is seeded and pure.
 */
import { mulberry32 } from '../random';
import type { CalibrationMethod, VariantScheme } from '../quant/schemes';
import { parseVariantScheme } from '../quant/schemes';
import type { JsonProblem, JsonText } from './jsonLocation';
import type { DataSource, VariantDef } from './spec';

/** The spec's `calibration`, defaults applied. */
export interface CalibrationSpec {
  /** A separate source (no split), or the name of a slice of the evaluation data; absent: a seeded split. */
  data?: string | DataSource[];
  samples: number;
  method: CalibrationMethod;
  percentile: number;
  seed: number;
}

/** Which activations are quantized (defaults: onnxruntime's). */
export interface ActivationSiteSpec {
  inputs: boolean;
  outputs: boolean;
  floatOps?: string[];
}

/** onnxruntime's percentile calibrator default. */
export const DEFAULT_PERCENTILE = 99.999;

/** The raw `calibration` as written. */
export interface RawCalibration {
  data?: string | DataSource | DataSource[];
  samples: number;
  method?: CalibrationMethod;
  percentile?: number;
  seed?: number;
}

/** The calibration with its defaults (seed: the spec's). */
export function calibrationOf(raw: RawCalibration | undefined, specSeed: number): CalibrationSpec | undefined {
  if (!raw) return undefined;
  const data =
    raw.data === undefined || typeof raw.data === 'string' || Array.isArray(raw.data) ? raw.data : [raw.data];
  return {
    ...(data === undefined ? {} : { data }),
    samples: raw.samples,
    method: raw.method ?? 'minmax',
    percentile: raw.percentile ?? DEFAULT_PERCENTILE,
    seed: raw.seed ?? specSeed,
  };
}

/** The activation scheme of a scheme variant, if it quantizes activations (undefined for plans and files). */
export function variantActivation(v: VariantDef): VariantScheme['activation'] {
  return 'scheme' in v ? parseVariantScheme(v.scheme).activation : undefined;
}

/** Activation variants without a calibration: each is a problem at its line. */
export function calibrationProblems(
  variants: readonly VariantDef[],
  calibration: RawCalibration | undefined,
  json: JsonText,
): JsonProblem[] {
  if (calibration) return [];
  return variants.flatMap((v, i) =>
    variantActivation(v)
      ? [
          json.problem(
            `/variants/${i}`,
            `Variant '${'scheme' in v ? v.scheme : ''}' quantizes activations: add "calibration": {"samples": N} (ranges are calibrated on N samples of your data).`,
          ),
        ]
      : [],
  );
}

/** Seeded calibration / evaluation split of `count` samples: `samples` drawn for calibration, the rest in order. */
export function splitCalibration(
  count: number,
  samples: number,
  seed: number,
): { calibration: number[]; evaluation: number[] } {
  const all = Array.from({ length: count }, (_, i) => i);
  // A different stream from the limit draw's (which uses `seed` itself), so the two are independent.
  const random = mulberry32((seed ^ 0x5ca1ab1e) >>> 0);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return {
    calibration: all.slice(0, samples).sort((a, b) => a - b),
    evaluation: all.slice(samples).sort((a, b) => a - b),
  };
}
