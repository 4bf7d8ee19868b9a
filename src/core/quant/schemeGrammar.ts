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
