/**
 * The scheme id grammar (DESIGN.md, "Scheme ids"), in one place: `parseScheme`, the JSON schemas
 * (schemas/*.schema.json) and the `quantlens.analysis.defaultSchemes` setting in package.json all use it.
 * `npm run schemas` writes the patterns into those files; a unit test fails when they are out of date.
 */

/** Bit widths of integer schemes. */
export const MIN_BITS = 2;
export const MAX_BITS = 8;

/** Block sizes accepted in scheme ids. */
export const BLOCK_SIZES = [16, 32, 64, 128] as const;

/** Floating-point formats: plain casts (fp16, bf16) and fp8 with a per-tensor scale. */
export const FLOAT_FORMATS = ['fp16', 'bf16', 'fp8-e4m3', 'fp8-e5m2'] as const;

/** Regex source of a granularity: `tensor`, `channel` or `blockB` with B one of BLOCK_SIZES (groups: 1 whole, 2 B). */
export const GRANULARITY_SOURCE = `(tensor|channel|block(${BLOCK_SIZES.join('|')}))`;

/** Regex source of an integer scheme id: `intN-<granularity>[-asym]`. */
export const INT_SCHEME_SOURCE = `int[${MIN_BITS}-${MAX_BITS}]-${GRANULARITY_SOURCE}(-asym)?`;

/** Anchored pattern of a scheme id, with `extra` ids allowed too (plans add `fp32`). */
export function schemePattern(extra: readonly string[] = []): string {
  return `^(${[INT_SCHEME_SOURCE, ...FLOAT_FORMATS, ...extra].join('|')})$`;
}

/** Anchored pattern of a granularity alone (the sweep's `granularity`). */
export const GRANULARITY_PATTERN = `^${GRANULARITY_SOURCE}$`;

/**
 * What `parseScheme` reads before checking the parts, so that it can say which part is wrong: any block size
 * (checked against BLOCK_SIZES afterwards). Groups: 1 bits, 2 granularity, 3 block size, 4 `-asym`.
 */
export const INT_SCHEME_PARSE = new RegExp(`^int([${MIN_BITS}-${MAX_BITS}])-(tensor|channel|block(\\d+))(-asym)?$`);

/** Activation bit widths of variant ids (`+a8`, `+a16`). */
export const ACTIVATION_BITS = [8, 16] as const;

/** Calibration methods (`calibration.method`, or a suffix of an activation id). */
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;

/** `w8a8`: int8 per-channel symmetric weights with 8-bit (uint8 asymmetric, per tensor) activations. */
export const W8A8 = 'w8a8';
/** What `w8a8` stands for. */
export const W8A8_EXPANDED = 'int8-channel+a8';

/** Regex source of an activation suffix: `+a<bits>[-sym|-asym][-<method>]`. */
export const ACTIVATION_SUFFIX_SOURCE = `\\+a(${ACTIVATION_BITS.join('|')})(-sym|-asym)?(-(${CALIBRATION_METHODS.join('|')}))?`;

/**
 * Anchored pattern of a variant id (evaluation variants, plan entries, export schemes): a weight scheme
 * (or one of `extra`) with an optional activation suffix, `fp32+a<bits>...` (float weights, quantized
 * activations), or `w8a8`.
 */
export function variantSchemePattern(extra: readonly string[] = []): string {
  const weights = [INT_SCHEME_SOURCE, ...FLOAT_FORMATS, ...extra].join('|');
  return `^((${weights})(${ACTIVATION_SUFFIX_SOURCE})?|fp32${ACTIVATION_SUFFIX_SOURCE}|${W8A8})$`;
}

/** What `parseVariantScheme` reads (groups: 1 weight part, 2 bits, 3 `-sym`/`-asym`, 4 method). */
export const VARIANT_SCHEME_PARSE = /^(.*?)\+a(\d+)(-sym|-asym)?(?:-([a-z0-9]+))?$/;
