/**
 * The one encoding of non-finite numbers wherever values cross JSON (results files, `eval --json`, webview
 * messages): the strings "Infinity", "-Infinity" and "NaN" (an exact reconstruction has SQNR +Infinity).
 * A string is only read back as a number where the reader knows a number belongs: by a shape (the results
 * file, see results.ts) or, for messages without one, inside a `{ $num: "Infinity" }` marker.
 * Worker threads and the evaluation child use structured clone, which keeps these numbers as they are.
 */

/** The text of a non-finite number. */
export type NonFiniteText = 'Infinity' | '-Infinity' | 'NaN';

/** The text of a non-finite number, undefined for finite ones. */
export function nonFiniteText(value: number): NonFiniteText | undefined {
  return Number.isFinite(value) ? undefined : (String(value) as NonFiniteText);
}

/** The number a non-finite text stands for, undefined for any other value. */
export function parseNonFinite(value: unknown): number | undefined {
  return value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value === 'NaN' ? NaN : undefined;
}

/** JSON.stringify replacer writing non-finite numbers as their text. */
export const nonFiniteReplacer = (_key: string, value: unknown): unknown =>
  typeof value === 'number' ? (nonFiniteText(value) ?? value) : value;

/** Whether a type holds a number somewhere (in a field, an item, an entry). */
type HasNumber<T> = [NonNullable<T>] extends [number]
  ? true
  : NonNullable<T> extends readonly (infer E)[]
    ? HasNumber<E>
    : NonNullable<T> extends object
      ? true extends { [K in keyof NonNullable<T>]-?: HasNumber<NonNullable<T>[K]> }[keyof NonNullable<T>]
        ? true
        : false
      : false;

/**
 * Where numbers sit in a value of type T: 'number', every field that holds a number by name (required, so
 * the list cannot miss one), `'*'` for every entry of a record; an array takes its items' shape.
 */
export type NumberShape<T> = [NonNullable<T>] extends [number]
  ? 'number'
  : NonNullable<T> extends readonly (infer E)[]
    ? NumberShape<E>
    : string extends keyof NonNullable<T>
      ? { '*': NumberShape<NonNullable<T>[string & keyof NonNullable<T>]> }
      : {
          [K in keyof NonNullable<T> as HasNumber<NonNullable<T>[K]> extends true ? K : never]-?: NumberShape<
            NonNullable<T>[K]
          >;
        };

/** Untyped form of a NumberShape, as walked. */
type AnyShape = 'number' | { [key: string]: AnyShape | undefined };

/** Turns the non-finite texts into numbers where `shape` says a number is, in place; everything else stays. */
export function reviveNumbers<T>(value: T, shape: NumberShape<T>): T {
  return revive(value, shape as AnyShape) as T;
}

function revive(value: unknown, shape: AnyShape | undefined): unknown {
  if (shape === undefined || value === null || value === undefined) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], shape);
    return value;
  }
  if (shape === 'number') return parseNonFinite(value) ?? value;
  if (typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const inner = Object.hasOwn(shape, key) ? shape[key] : shape['*'];
    if (inner !== undefined) record[key] = revive(record[key], inner);
  }
  return value;
}

const MARK = '$num';

/** Replaces non-finite numbers in plain data with `{ $num: text }` markers (typed arrays are passed as they are). */
export function markNumbers(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [MARK]: nonFiniteText(value) };
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return value;
  if (Array.isArray(value)) return value.map(markNumbers);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = markNumbers(v);
  return out;
}

/** Restores the numbers markNumbers() marked (a string alone is never turned into a number). */
export function unmarkNumbers(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return value;
  if (Array.isArray(value)) return value.map(unmarkNumbers);
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0][0] === MARK) return parseNonFinite(entries[0][1]) ?? value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = unmarkNumbers(v);
  return out;
}
