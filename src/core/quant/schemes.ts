/** Quantization scheme ids (shared by UI, CLI, spec files and reports) and their parsed form. */
import {
  ACTIVATION_BITS,
  BLOCK_SIZES,
  CALIBRATION_METHODS,
  FLOAT_FORMATS,
  INT_SCHEME_PARSE,
  MAX_BITS,
  MIN_BITS,
  VARIANT_SCHEME_PARSE,
  W8A8,
  W8A8_EXPANDED,
} from './schemeGrammar';
import { nearestScheme } from './schemeSuggestion';

/** How many values share one scale. */
export type Granularity =
  | { kind: 'tensor' }
  | { kind: 'channel' }
  /** Blocks of `size` consecutive values along the reduction axis, per channel. */
  | { kind: 'block'; size: number };

/** An integer scheme: intN, symmetric or asymmetric, at some granularity. */
export interface IntScheme {
  kind: 'int';
  id: string;
  bits: number;
  symmetric: boolean;
  granularity: Granularity;
}

/** A floating-point scheme: a plain cast (fp16, bf16) or fp8 with one per-tensor scale. */
export interface FloatScheme {
  kind: 'float';
  id: string;
  format: (typeof FLOAT_FORMATS)[number];
}

/** A parsed scheme. */
export type Scheme = IntScheme | FloatScheme;

/** The schemes compared when the user has not chosen any. */
export const DEFAULT_SCHEMES = [
  'fp16',
  'fp8-e4m3',
  'int8-channel',
  'int8-tensor',
  'int4-block32',
  'int4-block128',
] as const;

/** Parses a scheme id such as `int4-block32` or `int8-channel-asym`; throws an Error saying what is wrong. */
export function parseScheme(id: string): Scheme {
  const trimmed = id.trim();
  if ((FLOAT_FORMATS as readonly string[]).includes(trimmed)) {
    return { kind: 'float', id: trimmed, format: trimmed as FloatScheme['format'] };
  }
  const m = INT_SCHEME_PARSE.exec(trimmed);
  if (!m) {
    const near = nearestScheme(trimmed);
    throw new Error(
      `Unknown quantization scheme '${id}'${near ? ` (did you mean ${near}?)` : ''}. Expected intN-tensor|channel|blockB[-asym] (N = ${MIN_BITS}..${MAX_BITS}, B = ${BLOCK_SIZES.join('/')}), ` +
        `or ${FLOAT_FORMATS.join(', ')}.`,
    );
  }
  let granularity: Granularity;
  if (m[3] !== undefined) {
    const size = Number(m[3]);
    if (!(BLOCK_SIZES as readonly number[]).includes(size)) {
      throw new Error(`Unsupported block size ${size} in scheme '${id}': use one of ${BLOCK_SIZES.join(', ')}.`);
    }
    granularity = { kind: 'block', size };
  } else {
    granularity = { kind: m[2] as 'tensor' | 'channel' };
  }
  return { kind: 'int', id: trimmed, bits: Number(m[1]), symmetric: m[4] === undefined, granularity };
}

/** Parses a comma-separated list of scheme ids, rejecting duplicates. */
export function parseSchemeList(list: string): Scheme[] {
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) {
    throw new Error('No quantization scheme given.');
  }
  const seen = new Set<string>();
  return ids.map((id) => {
    const scheme = parseScheme(id);
    if (seen.has(scheme.id)) {
      throw new Error(`Scheme '${scheme.id}' is listed twice.`);
    }
    seen.add(scheme.id);
    return scheme;
  });
}

/** The integer range of a scheme: symmetric [-(2^(N-1)-1), 2^(N-1)-1], asymmetric [0, 2^N-1]. */
export function intRange(scheme: IntScheme): { qmin: number; qmax: number } {
  return scheme.symmetric
    ? { qmin: -(2 ** (scheme.bits - 1) - 1), qmax: 2 ** (scheme.bits - 1) - 1 }
    : { qmin: 0, qmax: 2 ** scheme.bits - 1 };
}

/** A calibration method (how an activation's range is chosen from the calibration data). */
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** How a variant quantizes activations: per tensor, static; unsigned asymmetric unless `signed` (symmetric). */
export interface ActivationScheme {
  bits: 8 | 16;
  signed: boolean;
  /** Overrides the spec's `calibration.method` when given. */
  method?: CalibrationMethod;
}

/** A parsed variant id: the weight scheme id (`fp32` keeps weights float) and the activation scheme, if any. */
export interface VariantScheme {
  weight: string;
  activation?: ActivationScheme;
}

/** The weights `fp32+a8` keeps float. */
const FLOAT_WEIGHTS = 'fp32';

/**
 * Parses a variant id: a weight scheme id (`int4-block32`), with an activation suffix
 * (`int8-channel+a8`, `int4-block32+a8-percentile`, `fp16+a16`, `int8-channel+a8-sym-entropy`), `w8a8`, or
 * `fp32+a8` (float weights). `allowFloat` also accepts plain `fp32` (plans). Throws an Error saying what is wrong.
 */
export function parseVariantScheme(id: string, allowFloat = false): VariantScheme {
  const trimmed = id.trim();
  if (trimmed === W8A8) return parseVariantScheme(W8A8_EXPANDED);
  const m = VARIANT_SCHEME_PARSE.exec(trimmed);
  if (!m) {
    if (allowFloat && trimmed === FLOAT_WEIGHTS) return { weight: FLOAT_WEIGHTS };
    return { weight: parseScheme(trimmed).id };
  }
  const weight = m[1] === FLOAT_WEIGHTS ? FLOAT_WEIGHTS : parseScheme(m[1]).id;
  const bits = Number(m[2]);
  if (!(ACTIVATION_BITS as readonly number[]).includes(bits)) {
    throw new Error(`Unsupported activation bit width ${m[2]} in '${id}': use +a${ACTIVATION_BITS.join(' or +a')}.`);
  }
  const method = m[4];
  if (method !== undefined && !(CALIBRATION_METHODS as readonly string[]).includes(method)) {
    throw new Error(`Unknown calibration method '${method}' in '${id}': use ${CALIBRATION_METHODS.join(', ')}.`);
  }
  const activation: ActivationScheme = { bits: bits as 8 | 16, signed: m[3] === '-sym' };
  if (method !== undefined) activation.method = method as CalibrationMethod;
  return { weight, activation };
}

/** The id suffix of an activation scheme (`+a8`, `+a8-sym-percentile`), the inverse of parseVariantScheme. */
export function activationSuffix(a: ActivationScheme): string {
  return `+a${a.bits}${a.signed ? '-sym' : ''}${a.method ? `-${a.method}` : ''}`;
}
