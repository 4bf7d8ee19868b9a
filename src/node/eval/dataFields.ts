/**
 * Evaluation data as the evaluation reads it: fields (one value or array per sample) of joined samples, and the
 * two kinds of field every source builds on (an n-d array whose first axis is the sample, a list of values).
 */
import type { NdArray } from '../../core/eval/arrayFiles';

/** A problem with the data, at a JSON pointer of the spec. */
export class DataProblem extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** One field of every sample. */
export interface Field {
  name: string;
  /** The file it comes from (relative to the spec, for messages). */
  file: string;
  /** Shape of one sample's value ([] for a scalar), as in the first sample. */
  shape: number[];
  /** Scalar value of sample i (undefined when not a scalar). */
  scalar(i: number): number | string | undefined;
  /** Numeric values of sample i (throws DataProblem naming the sample when they are not numbers). */
  values(i: number): ArrayLike<number>;
  /** Where sample i is, for messages: "line 18 of data.jsonl". */
  where(i: number): string;
}

/** The joined samples. */
export interface Dataset {
  count: number;
  fields: Map<string, Field>;
  /** Data sources read (absolute paths) with the SHA-256 of their bytes ('folder' for image folders). */
  files: { file: string; sha256: string }[];
}

/** Number of values of a shape. */
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * A field backed by one n-d array whose first axis is the sample: in memory, or read a row at a time by
 * `row` (then `array.data` only gives the type).
 */
export function arrayField(name: string, file: string, array: NdArray, row?: (i: number) => NdArray['data']): Field {
  const shape = array.shape.slice(1);
  const n = size(shape);
  const { data } = array;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const values = row ?? ((i: number): NdArray['data'] => data.subarray(i * n, (i + 1) * n));
  return {
    name,
    file,
    shape,
    scalar: (i) => (n === 1 ? Number(values(i)[0]) : undefined),
    values: (i) => (big ? Array.from(values(i) as BigInt64Array, Number) : (values(i) as Float32Array)),
    where: (i) => `sample ${i} of ${file}`,
  };
}

/** Parsed JSON. */
export type Json = number | string | boolean | null | Json[] | { [k: string]: Json };

function shapeOf(v: Json): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length > 0 ? shapeOf(v[0]) : [])] : [];
}

/** A field backed by one value per sample (jsonl/csv rows); `pointer` is its source's place in the spec. */
export function listField(
  name: string,
  file: string,
  rows: Json[],
  where: (i: number) => string,
  pointer: string,
): Field {
  const shape = shapeOf(rows[0]);
  return {
    name,
    file,
    shape,
    scalar: (i) => {
      const v = rows[i];
      return typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? Number(v) : undefined;
    },
    values: (i) => {
      const v = rows[i];
      const flat = Array.isArray(v) ? (v as Json[]).flat(Infinity as 1) : [v];
      for (let k = 0; k < flat.length; k++) {
        if (typeof flat[k] !== 'number') {
          throw new DataProblem(
            pointer,
            `Field '${name}' of ${where(i)} holds ${JSON.stringify(flat[k])} where a number is expected.`,
          );
        }
      }
      return flat as number[];
    },
    where,
  };
}
